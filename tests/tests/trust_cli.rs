//! Acceptance tests of the trust commands through the CLI: backup and restore, the integrity
//! check of a damaged file and of the workspace's totals, erasing a person, and reconciliation
//! of a demo workspace.

use lookback_tests::{TestHome, open_sqlite, query_i64};

fn demo(home: &TestHome) -> String {
    let db = home.path("w.lookback");
    let db = db.to_str().unwrap().to_string();
    home.lookback_ok(&[
        "--db",
        &db,
        "demo",
        "--seed",
        "7",
        "--orders",
        "400",
        "--end",
        "2026-06-30",
    ]);
    db
}

#[test]
fn backup_restores_into_a_new_workspace_and_never_overwrites() {
    let home = TestHome::new();
    let db = demo(&home);
    let out = home.path("backup.lookback");
    home.lookback_ok(&["--db", &db, "backup", "--out", out.to_str().unwrap()]);
    let restored = home.path("restored.lookback");
    home.lookback_ok(&[
        "--db",
        restored.to_str().unwrap(),
        "restore",
        "--from",
        out.to_str().unwrap(),
    ]);
    let (a, b) = (
        open_sqlite(std::path::Path::new(&db)),
        open_sqlite(&restored),
    );
    for table in [
        "orders",
        "touches",
        "order_adjustments",
        "identity_links",
        "raw_events",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        assert_eq!(query_i64(&a, &sql), query_i64(&b, &sql), "{table}");
    }
    // Restoring onto an existing file is refused and leaves it as it was.
    let before = std::fs::read(&db).unwrap();
    let refused = home.lookback(&["--db", &db, "restore", "--from", out.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("already exists"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(
        home.lookback_ok(&["--db", restored.to_str().unwrap(), "check"])
            .contains("ok")
    );
}

#[test]
fn a_truncated_workspace_is_reported_damaged_and_left_untouched() {
    let home = TestHome::new();
    let db = demo(&home);
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = home.lookback(&["--db", &db, "check"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged") && stderr.contains("read-only"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

/// Issue 12: opening reads the header and the file's length only, so a flipped bit inside a
/// data page is not seen by commands that never read that page; `check` and every command that
/// reads it fail with one line naming the file as damaged.
#[test]
fn a_flipped_bit_in_a_data_page_is_caught_by_check_and_by_the_command_that_reads_it() {
    let home = TestHome::new();
    let db = demo(&home);
    let path = std::path::Path::new(&db);
    let (page, page_size) = {
        let conn = open_sqlite(path);
        let leaves = query_i64(
            &conn,
            "SELECT COUNT(*) FROM dbstat WHERE name = 'touch_rows' AND pagetype = 'leaf'",
        );
        assert!(leaves > 4, "the demo's touches need several pages");
        let page = query_i64(
            &conn,
            &format!(
                "SELECT pageno FROM dbstat WHERE name = 'touch_rows' AND pagetype = 'leaf' \
                 ORDER BY pageno LIMIT 1 OFFSET {}",
                leaves / 2
            ),
        );
        (page, query_i64(&conn, "PRAGMA page_size"))
    };
    let mut bytes = std::fs::read(path).unwrap();
    bytes[((page - 1) * page_size) as usize] ^= 0x40;
    std::fs::write(path, &bytes).unwrap();

    // A command that does not read the page still works.
    home.lookback_ok(&["--db", &db, "model", "show"]);

    let csv = home.path("touches.csv");
    for args in [
        vec!["--db", &db, "check"],
        vec![
            "--db",
            &db,
            "export",
            "touches",
            "--out",
            csv.to_str().unwrap(),
        ],
    ] {
        let out = home.lookback(&args);
        assert!(!out.status.success(), "{args:?} passed a damaged file");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("damaged") && stderr.contains(&db),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// The totals the overview shows are checked against a recount of the rows: a total that no
/// longer matches them (edited behind Lookback's back) is reported, naming the figure.
#[test]
fn totals_that_disagree_with_the_rows_fail_the_check() {
    let home = TestHome::new();
    let db = demo(&home);
    assert!(
        home.lookback_ok(&["--db", &db, "check"])
            .contains("totals match")
    );
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE table_rows SET rows = rows + 1 WHERE table_name = 'touches'",
            [],
        )
        .unwrap();
    let out = home.lookback(&["--db", &db, "check"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("totals disagree with a recount") && stderr.contains("touches: total"),
        "{stderr}"
    );
}

#[test]
fn privacy_erase_by_customer_id_leaves_no_trace_in_the_file() {
    let home = TestHome::new();
    let db = demo(&home);
    let conn = open_sqlite(std::path::Path::new(&db));
    let customer: String = conn
        .query_row("SELECT customer_id FROM orders WHERE customer_id IS NOT NULL ORDER BY order_id LIMIT 1", [], |r| r.get(0))
        .unwrap();
    drop(conn);
    let out = home.lookback_ok(&["--db", &db, "privacy", "erase", "--customer-id", &customer]);
    assert!(out.contains("orders anonymized"), "{out}");
    let conn = open_sqlite(std::path::Path::new(&db));
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM erasure_log"), 1);
    drop(conn);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(format!("{db}-wal")).unwrap_or_default());
    let needle = format!("\"{customer}\"");
    assert!(
        !bytes
            .windows(customer.len())
            .any(|w| w == customer.as_bytes()),
        "{needle} survived"
    );
    assert!(
        home.lookback_ok(&["--db", &db, "privacy", "log"])
            .contains("customer_id")
    );
}

#[test]
fn reconcile_adds_up_and_conservation_holds_on_the_demo() {
    let home = TestHome::new();
    let db = demo(&home);
    home.lookback_ok(&["--db", &db, "report", "credits", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&home.lookback_ok(&[
        "--db",
        &db,
        "reconcile",
        "--from",
        "2026-04-01",
        "--to",
        "2026-06-30",
        "--format",
        "json",
    ]))
    .unwrap();
    assert!(json["run_id"].is_i64());
    assert_eq!(json["conservation_violations"], 0);
    let rows = json["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let known = row["known_to_attribution_minor"].as_i64().unwrap();
        let parts =
            row["attributed_minor"].as_i64().unwrap() + row["unattributed_minor"].as_i64().unwrap();
        assert_eq!(known, parts, "{row}");
    }
    let csv = home.lookback_ok(&[
        "--db",
        &db,
        "reconcile",
        "--from",
        "2026-04-01",
        "--to",
        "2026-06-30",
        "--format",
        "csv",
    ]);
    assert!(csv.starts_with("source,day,currency,orders"));
    home.lookback_ok(&["--db", &db, "conservation"]);
}
