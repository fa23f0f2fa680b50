//! Every index of the schema and the query that needs it, checked with `EXPLAIN QUERY PLAN` on
//! the query's own SQL (the constant or function the store runs): if a query stops using its
//! index, or an index is dropped that a query needs, a test here fails. An index no query
//! uses is not kept (migration 0015 dropped the last one found), and a new index gets a row in
//! `index_queries`.

use rusqlite::Connection;

use crate::migrations::MIGRATIONS;

/// (index, the SQL of a query that uses it); an index several queries need is listed once for each.
fn index_queries() -> Vec<(&'static str, String)> {
    vec![
        (
            "raw_events_by_external_id",
            crate::write::LATEST_RAW_VERSION_SQL.to_owned(),
        ),
        (
            "touches_by_click",
            crate::realtime::creator_link_orders_sql(),
        ),
        (
            "touches_by_click",
            crate::attribution_io::TOUCH_CLICKS_SQL.to_owned(),
        ),
        (
            "touches_by_click",
            crate::attribution_io::FIRST_TOUCH_WITH_CLICK_SQL.to_owned(),
        ),
        (
            "touches_by_creator",
            crate::view_queries::CREATOR_HAS_TOUCHES_SQL.to_owned(),
        ),
        ("orders_by_time", crate::realtime::order_states_sql()),
        (
            "order_adjustments_by_order",
            crate::order_aliases::MOVE_ADJUSTMENTS_SQL.to_owned(),
        ),
        (
            "ad_spend_by_day",
            crate::view_queries::EXPORT_SPEND_SQL.to_owned(),
        ),
        (
            "run_orders_provisional",
            crate::attribution_io::SETTLING_ORDERS_SQL.to_owned(),
        ),
        (
            "run_order_buckets_by_run",
            crate::attribution_io::DELETE_ORDER_BUCKETS_SQL.to_owned(),
        ),
        (
            "webhook_deliveries_pending",
            crate::realtime::pending_deliveries_sql(),
        ),
        (
            "webhook_secrets_by_source",
            crate::realtime::WEBHOOK_SECRET_REFS_SQL.to_owned(),
        ),
        (
            "sync_runs_by_source",
            crate::health_queries::SYNC_RUN_TOTALS_SQL.to_owned(),
        ),
        (
            "order_aliases_by_order",
            crate::order_aliases::REPOINT_ALIASES_SQL.to_owned(),
        ),
    ]
}

/// A connection with the whole schema and no rows (plans without statistics, as in a fresh
/// workspace; `ANALYZE` is never run on a workspace).
fn schema() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    let tx = conn.transaction().unwrap();
    for migration in MIGRATIONS {
        tx.execute_batch(migration.sql).unwrap();
    }
    tx.commit().unwrap();
    conn
}

fn plan(conn: &Connection, sql: &str) -> String {
    explained(conn, "EXPLAIN QUERY PLAN", sql, 3).join("\n")
}

/// Column `column` of each row `explain` (`EXPLAIN` or `EXPLAIN QUERY PLAN`) gives for `sql`.
fn explained(conn: &Connection, explain: &str, sql: &str, column: usize) -> Vec<String> {
    let mut statement = conn.prepare(&format!("{explain} {sql}")).unwrap();
    let mut rows = statement.raw_query();
    let mut values = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        values.push(row.get::<_, String>(column).unwrap());
    }
    values
}

#[test]
fn every_index_is_used_by_its_query() {
    let conn = schema();
    for (index, sql) in index_queries() {
        let plan = plan(&conn, &sql);
        assert!(
            plan.lines()
                .any(|line| line.split_whitespace().any(|word| word == index)),
            "{index} is not used by its query:\n{sql}\nplan:\n{plan}"
        );
    }
}

#[test]
fn every_index_of_the_schema_has_its_query() {
    let conn = schema();
    let mut indexes: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut listed: Vec<String> = index_queries()
        .into_iter()
        .map(|(index, _)| index.to_owned())
        .collect();
    indexes.sort();
    listed.sort();
    listed.dedup();
    assert_eq!(
        indexes, listed,
        "every index the migrations create (and only those) is listed with its query"
    );
}

/// The touch insert runs once per new touch: a temporary B-tree in its program (as 0019's
/// `CHECK (traffic_class IN (0, 1, 2))` made, until 0027) is opened and closed every time.
#[test]
fn the_touch_insert_builds_no_temporary_table_and_still_checks_the_class() {
    let conn = schema();
    // Column 1 of `EXPLAIN` is the opcode.
    let opcodes = explained(&conn, "EXPLAIN", crate::write::INSERT_TOUCH_ROW_SQL, 1);
    assert!(opcodes.iter().any(|op| op == "Insert"), "{opcodes:?}");
    assert!(
        !opcodes.iter().any(|op| op == "OpenEphemeral"),
        "the touch insert builds a temporary table: {opcodes:?}"
    );
    let table: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'touch_rows'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        table.contains("CHECK (traffic_class BETWEEN 0 AND 2)"),
        "{table}"
    );
    let insert = |class: i64| {
        conn.execute(
            "INSERT INTO touch_rows (touch_id, occurred_at_ms, traffic_class) VALUES (?1, 0, ?2)",
            rusqlite::params![format!("t{class}"), class],
        )
    };
    for class in [0, 1, 2] {
        insert(class).unwrap();
    }
    for class in [-1, 3] {
        let refused = insert(class).unwrap_err().to_string();
        assert!(refused.contains("CHECK constraint failed"), "{refused}");
    }
}
