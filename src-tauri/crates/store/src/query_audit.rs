//! Which statements a piece of work runs, and how SQLite plans them: how the tests prove that
//! showing a workspace's overview reads no table that grows with the data from end to end
//! (issue 12), and keep proving it as the queries change.
//!
//! Recording uses SQLite's trace hook on the store's own connection, so it sees exactly the
//! statements the work ran, with their bound values written in; a trigger's program shows as
//! its `-- TRIGGER name` line only, so the statements inside triggers are checked on their own
//! (see the totals tests).

use std::cell::RefCell;

use crate::{Store, StoreResult};

/// Tables whose size does not grow with the touches, orders and raw events a workspace holds:
/// settings, registrations and the maintained totals. A plan may read these whole.
pub const BOUNDED_TABLES: &[&str] = &[
    "workspace_settings",
    "sources",
    "source_settings",
    "sync_checkpoints",
    "webhook_secrets",
    "alert_rules",
    "table_rows",
    "money_totals",
    "source_totals",
    // One row per currency and day, or quarter hour, with money (0018): they grow with the time
    // the data spans, not with how much of it there is; the fx rates likewise, per day.
    "ad_spend_days",
    "revenue_slots",
    "fx_rates",
    // One row: the first and last touch instants (0025).
    "touch_time_span",
    "sqlite_master",
    "sqlite_schema",
    "pragma_table_info",
];

thread_local! {
    /// The statements traced on this thread while a recording is on. SQLite calls the trace
    /// hook on the thread that steps the statement, which is the thread that records.
    static RECORDED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

fn record(sql: &str) {
    RECORDED.with(|recorded| {
        if let Some(statements) = recorded.borrow_mut().as_mut() {
            statements.push(sql.to_owned());
        }
    });
}

impl Store {
    /// Runs `work` and returns its result with the SQL of every statement it ran, in order,
    /// bound values written in.
    pub fn record_statements<T>(&mut self, work: impl FnOnce(&Store) -> T) -> (T, Vec<String>) {
        RECORDED.with(|recorded| *recorded.borrow_mut() = Some(Vec::new()));
        self.conn.trace(Some(record));
        let result = work(self);
        self.conn.trace(None);
        let statements = RECORDED.with(|recorded| recorded.borrow_mut().take());
        (result, statements.unwrap_or_default())
    }

    /// SQLite's plan for `sql`: the detail lines of `EXPLAIN QUERY PLAN`, in order.
    pub fn query_plan(&self, sql: &str) -> StoreResult<Vec<String>> {
        let mut statement = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = statement.query_map([], |row| row.get::<_, String>(3))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The lines of `sql`'s plan that read a table whole (or a whole index of it): every `SCAN`
    /// of a name not in [`BOUNDED_TABLES`]. A plan that names a table by an alias is reported
    /// too, because the alias hides which table it scans. Empty when every table that grows
    /// with the data is reached through an index range, or not at all.
    pub fn whole_table_scans(&self, sql: &str) -> StoreResult<Vec<String>> {
        Ok(self
            .query_plan(sql)?
            .into_iter()
            .filter(|line| {
                line.strip_prefix("SCAN ").is_some_and(|rest| {
                    let name = rest.split_whitespace().next().unwrap_or_default();
                    name != "CONSTANT" && !BOUNDED_TABLES.contains(&name)
                })
            })
            .collect())
    }
}
