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
            crate::touch_generations::TOUCH_CLICKS_OF_GENERATION_SQL.to_owned(),
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

#[test]
fn readers_by_click_id_seek_in_each_generation_and_the_walk_needs_no_sort() {
    let conn = schema();
    let walk = plan(
        &conn,
        crate::touch_generations::TOUCH_CLICKS_OF_GENERATION_SQL,
    );
    assert!(
        walk.contains("COVERING INDEX touches_by_click (generation=? AND click_id>?)")
            && !walk.contains("TEMP B-TREE"),
        "a generation's walk by click id does not read its part of the index in order:\n{walk}"
    );
    let sql = crate::realtime::creator_link_orders_sql();
    let join = plan(&conn, &sql);
    assert!(
        join.contains("INDEX touches_by_click (generation=? AND click_id=?)")
            && join.contains("touch_generations FOR IN-OPERATOR")
            && !join.contains("AUTOMATIC"),
        "the creator-link join does not seek in each generation:\n{sql}\nplan:\n{join}"
    );
}

/// A run's credits reach their touches by the rowid each carries (0030): one descent of the
/// touch table per credit, and no use of the touch-id key. A file older than 0030 (a damaged one
/// opened read-only at its own schema) is still read, by touch id.
#[test]
fn credits_reach_their_touch_by_rowid_and_an_older_file_by_touch_id() {
    use crate::runs::credit_touch_join;
    let filter = crate::RunOrderFilter::default();
    let readers = |conn: &Connection| {
        let join = credit_touch_join(conn).unwrap();
        [
            crate::traffic_totals::run_traffic_credits_sql(join),
            format!(
                "SELECT COUNT(*) {}",
                crate::view_queries::creator_credits_from(conn, &filter).unwrap()
            ),
        ]
    };
    let conn = schema();
    assert_eq!(credit_touch_join(&conn).unwrap(), "t.rowid = c.touch_row");
    for sql in readers(&conn) {
        let plan = plan(&conn, &sql);
        assert!(
            // By the table's own key, or by (creator, rowid) in `touches_by_creator` when the
            // query names the creator: either way one descent, located by the rowid.
            plan.lines().any(|line| line.contains("rowid=?)")
                && (line.contains("SEARCH t ") || line.contains("SEARCH touch_rows ")))
                && !plan.contains("sqlite_autoindex_touch_rows"),
            "credits do not reach their touches by rowid:\n{sql}\nplan:\n{plan}"
        );
    }
    let older = Connection::open_in_memory().unwrap();
    for migration in MIGRATIONS.iter().filter(|m| m.version < 30) {
        older.execute_batch(migration.sql).unwrap();
    }
    assert_eq!(
        credit_touch_join(&older).unwrap(),
        "t.touch_id = c.touch_id"
    );
    for sql in readers(&older) {
        let plan = plan(&older, &sql);
        assert!(
            plan.contains("sqlite_autoindex_touch_rows_1 (touch_id=?)"),
            "{sql}\nplan:\n{plan}"
        );
    }
}

/// That `sql` inserts rows and builds no temporary B-tree to do it (which SQLite opens, fills and
/// closes for every row inserted).
fn assert_inserts_without_temporary_table(conn: &Connection, sql: &str) {
    // Column 1 of `EXPLAIN` is the opcode.
    let opcodes = explained(conn, "EXPLAIN", sql, 1);
    assert!(
        opcodes.iter().any(|op| op == "Insert"),
        "{sql}: {opcodes:?}"
    );
    assert!(
        !opcodes.iter().any(|op| op == "OpenEphemeral"),
        "{sql} builds a temporary table: {opcodes:?}"
    );
}

/// A new run inserts a row per order and one per (order, touch): 600k credit rows for a
/// first-touch run on the 10M busy year. A temporary B-tree in those statements (as 0001's
/// IN-list CHECKs of the join kind and the outcome made, until 0028) is built for every row.
#[test]
fn a_runs_row_inserts_build_no_temporary_table_and_still_check_their_kinds() {
    use crate::attribution_io::{CREDIT_COLUMNS, RUN_ORDER_COLUMNS, batched_insert_sql};
    let conn = schema();
    // As while a run is written (`begin_run`): its rows name a run row of the same transaction.
    conn.pragma_update(None, "foreign_keys", false).unwrap();
    for columns in [RUN_ORDER_COLUMNS, CREDIT_COLUMNS] {
        assert_inserts_without_temporary_table(&conn, &batched_insert_sql(columns, 2));
    }
    let order = |outcome: &str| {
        conn.execute(
            "INSERT INTO run_orders (run_id, order_id, outcome, net_minor, provisional) VALUES (1, ?1, ?1, 0, 0)",
            [outcome],
        )
    };
    let credit = |join_kind: &str| {
        conn.execute(
            "INSERT INTO credits (run_id, order_id, touch_id, share_ppb, revenue_minor, join_kind)
             VALUES (1, 'o', ?1, 0, 0, ?1)",
            [join_kind],
        )
    };
    for outcome in ["attributed", "unattributed", "missing_fx"] {
        order(outcome).unwrap();
    }
    for join_kind in ["deterministic", "identity_graph", "probabilistic"] {
        credit(join_kind).unwrap();
    }
    // Each refusal names the column whose CHECK failed.
    for (refused, column) in [
        (order("Attributed"), "outcome"),
        (order("refunded"), "outcome"),
        (credit("Deterministic"), "join_kind"),
        (credit("guess"), "join_kind"),
    ] {
        let message = refused.unwrap_err().to_string();
        assert!(
            message.contains("CHECK constraint failed") && message.contains(column),
            "{message}"
        );
    }
}

/// The touch insert runs once per new touch: a temporary B-tree in its program (as 0019's
/// `CHECK (traffic_class IN (0, 1, 2))` made, until 0027) is opened and closed every time.
#[test]
fn the_touch_insert_builds_no_temporary_table_and_still_checks_the_class() {
    let conn = schema();
    assert_inserts_without_temporary_table(&conn, crate::write::INSERT_TOUCH_ROW_SQL);
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
