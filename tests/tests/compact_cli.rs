//! `lookback compact` on a workspace of the previous version (schema 14: raw payloads as text,
//! hashes as hex): the workspace migrates, compacts with a progress line, reports exactly what
//! it reported before, says "already compact" the second time, and a compaction killed between
//! two batches leaves a valid workspace that the next run finishes. Touches imported from CSV
//! at that version had their payloads as rows: compact moves them into blocks.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use lookback_store::{APPLICATION_ID, MIGRATIONS};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64, raw_events};
use rusqlite::{Connection, params};

/// Writes `from` (a workspace of this version) to the new file `to` as Lookback wrote it at
/// schema version 14: the same rows in every table, raw payloads as text with hex hashes.
fn write_as_version_14(from: &Path, to: &Path) {
    let events = raw_events(from);
    let mut conn = Connection::open(to).unwrap();
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    let tx = conn.transaction().unwrap();
    for migration in MIGRATIONS.iter().filter(|m| m.version <= 14) {
        tx.execute_batch(migration.sql).unwrap();
    }
    tx.execute("ATTACH DATABASE ?1 AS current", [from.to_str().unwrap()])
        .unwrap();
    let tables: Vec<String> = tx
        .prepare(
            "SELECT name FROM main.sqlite_master WHERE type = 'table'
             AND name NOT IN ('raw_events', 'sqlite_sequence')",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in tables {
        let columns: Vec<String> = tx
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let columns = columns.join(", ");
        // Run totals by the credited touch's day (the accrual basis, migration 0020) did not
        // exist at schema 14; the upgrade's runs compute them again.
        let rows = if table == "run_credit_totals" {
            " WHERE grouping NOT LIKE 'accrual%'"
        } else {
            ""
        };
        tx.execute(
            &format!(
                "INSERT INTO main.{table} ({columns}) SELECT {columns} FROM current.{table}{rows}"
            ),
            [],
        )
        .unwrap();
    }
    // Blocked touch payloads (migration 0021, negative ids) were rows at schema 14: each gets a
    // row id above every row's, in arrival order, and its touch points at its first version,
    // as an import of that version stored it.
    let mut next_id = events
        .iter()
        .map(|e| e.raw_event_id)
        .max()
        .unwrap_or(0)
        .max(0);
    for event in &events {
        let raw_event_id = if event.raw_event_id > 0 {
            event.raw_event_id
        } else {
            next_id += 1;
            tx.execute(
                "UPDATE touches SET raw_event_id = ?1 WHERE touch_id = ?2 AND raw_event_id IS NULL",
                params![next_id, event.external_id],
            )
            .unwrap();
            next_id
        };
        let hash: String = event
            .payload_sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        tx.execute(
            "INSERT INTO raw_events (raw_event_id, source, stream, external_id, received_at_ms, payload,
                                     payload_sha256, normalizer_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                raw_event_id,
                event.source,
                event.stream,
                event.external_id,
                event.received_at_ms,
                event.payload,
                hash,
                event.normalizer_version
            ],
        )
        .unwrap();
    }
    tx.pragma_update(None, "user_version", 14).unwrap();
    tx.commit().unwrap();
    conn.execute("DETACH DATABASE current", []).unwrap();
}

/// What the reports say about `db`, with the file's own path taken out.
fn reports(home: &TestHome, db: &Path) -> String {
    let db_arg = db.to_str().unwrap();
    let mut all = String::new();
    for args in [
        &["overview", "--format", "json"][..],
        &["report", "credits", "--by", "channel"],
        &["report", "credits", "--by", "creator"],
        &["report", "credits", "--by", "order"],
        &["reconcile"],
        &["duplicates"],
        &["conservation"],
    ] {
        let mut full = vec!["--db", db_arg];
        full.extend_from_slice(args);
        all.push_str(&format!("$ {}\n", args.join(" ")));
        all.push_str(&home.lookback_ok(&full).replace(db_arg, "DB"));
    }
    all
}

/// A demo workspace with its reports' runs, and its copy at schema version 14.
fn old_demo(home: &TestHome) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let current = home.path("current.lookback");
    let old = home.path("old.lookback");
    home.lookback_ok(&[
        "--db",
        current.to_str().unwrap(),
        "demo",
        "--orders",
        "1500",
        "--end",
        "2025-06-01",
    ]);
    let expected = reports(home, &current);
    write_as_version_14(&current, &old);
    (current, old, expected)
}

fn old_layout_rows(db: &Path) -> i64 {
    query_i64(
        &open_sqlite(db),
        "SELECT COUNT(*) FROM raw_events WHERE payload_hash IS NULL",
    )
}

#[test]
fn an_old_demo_workspace_migrates_compacts_and_reports_the_same() {
    let home = TestHome::new();
    let (current, old, expected) = old_demo(&home);
    let db = old.to_str().unwrap();
    let raw_before = raw_events(&current);

    // Opened by this version (migrated), not yet compacted: the same reports.
    assert_eq!(reports(&home, &old), expected);
    assert!(old_layout_rows(&old) > 0);

    let out = home.lookback(&["--db", db, "compact"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("compacting raw events:") && stderr.contains("(100%)"),
        "a progress line: {stderr}"
    );
    assert!(stdout.contains("raw events converted"), "{stdout}");
    assert_eq!(old_layout_rows(&old), 0);
    assert_eq!(raw_events(&old), raw_before, "every payload byte for byte");
    assert_eq!(reports(&home, &old), expected);

    let again = home.lookback_ok(&["--db", db, "compact"]);
    assert!(again.contains("already compact"), "{again}");
}

#[test]
fn a_compaction_killed_between_batches_leaves_a_workspace_the_next_run_finishes() {
    let home = TestHome::new();
    let (current, old, expected) = old_demo(&home);
    let db = old.to_str().unwrap();
    let raw_before = raw_events(&current);

    let mut command = Command::new(lookback_bin());
    command
        .args(["--db", db, "compact"])
        .env("LOOKBACK_TEST_COMPACT_BATCH_DELAY_MS", "60000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    home.apply(&mut command);
    let mut child = command.spawn().unwrap();
    // The first progress line of the compaction is printed once its first batch has committed
    // (the upgrade before it prints its own "change x of y" on a loaded machine); the process
    // then holds for a minute before the next batch, and is killed there.
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&seen).contains("compacting raw events: ") {
        assert_eq!(stderr.read(&mut byte).unwrap(), 1, "compact ended early");
        seen.push(byte[0]);
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let left = old_layout_rows(&old);
    let total = query_i64(&open_sqlite(&old), "SELECT COUNT(*) FROM raw_events");
    assert!(
        0 < left && left < total,
        "killed midway: {left} of {total} old"
    );
    home.lookback_ok(&["--db", db, "check"]);
    assert_eq!(
        raw_events(&old),
        raw_before,
        "a mixed workspace reads the same"
    );
    assert_eq!(reports(&home, &old), expected);

    let out = home.lookback_ok(&["--db", db, "compact"]);
    assert!(out.contains("raw events converted"), "{out}");
    assert_eq!(old_layout_rows(&old), 0);
    assert_eq!(raw_events(&old), raw_before);
    assert_eq!(reports(&home, &old), expected);
    assert!(
        home.lookback_ok(&["--db", db, "compact"])
            .contains("already compact")
    );
}

/// Touch files imported at schema 14 (a row per payload) and a restated second file: compact
/// moves every version into blocks, where they read back byte for byte and in arrival order
/// (the same blocks, slots and chains an import into blocks writes), the reports do not change,
/// and importing the files again finds every touch a duplicate.
#[test]
fn touch_payloads_imported_as_rows_move_into_blocks() {
    let home = TestHome::new();
    let current = home.path("current.lookback");
    let old = home.path("old.lookback");
    let db = current.to_str().unwrap();
    home.lookback_ok(&["--db", db, "init", "--name", "Rows"]);
    let header = "touch_id,occurred_at,channel,touch_type,creator_id,campaign_id,content_id,click_id,anonymous_id,email\n";
    let mut first = header.to_owned();
    let mut second = header.to_owned();
    let mut orders = "order_id,occurred_at,amount,currency,anonymous_id\n".to_owned();
    for i in 0..300 {
        let channel = ["email", "creator_link", "paid_meta"][i % 3];
        let creator = if i % 3 == 1 {
            format!("cr{}", i % 7)
        } else {
            String::new()
        };
        first.push_str(&format!(
            "t{i},2026-05-{:02}T10:00:00Z,{channel},click,{creator},,,,v{},\n",
            1 + i % 20,
            i % 90
        ));
        if i % 10 == 0 {
            // Restated with another channel: a second version of the record.
            second.push_str(&format!(
                "t{i},2026-05-{:02}T10:00:00Z,social,click,,,,,v{},\n",
                1 + i % 20,
                i % 90
            ));
        }
    }
    for i in 0..90 {
        orders.push_str(&format!(
            "o{i},2026-05-25T12:00:00Z,{}.00,USD,v{i}\n",
            10 + i
        ));
    }
    let files = [
        ("touches", "first.csv", first),
        ("touches", "second.csv", second),
        ("orders", "orders.csv", orders),
    ];
    for (kind, name, text) in &files {
        let file = home.path(name);
        std::fs::write(&file, text).unwrap();
        home.lookback_ok(&["--db", db, "import", kind, file.to_str().unwrap()]);
    }
    let expected = reports(&home, &current);
    let raw_before = raw_events(&current);
    assert_eq!(
        raw_before.iter().filter(|e| e.raw_event_id < 0).count(),
        330
    );
    write_as_version_14(&current, &old);
    let db = old.to_str().unwrap();
    let touch_rows = |path: &Path| {
        query_i64(
            &open_sqlite(path),
            "SELECT COUNT(*) FROM raw_events WHERE source = 'csv' AND stream = 'touches'",
        )
    };
    assert_eq!(touch_rows(&old), 330);
    assert_eq!(
        reports(&home, &old),
        expected,
        "migrated, not yet compacted"
    );

    let out = home.lookback(&["--db", db, "compact"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("330 touch payloads moved into blocks"),
        "{stdout}"
    );
    assert_eq!(touch_rows(&old), 0);
    // The move deletes rows with SQLite's foreign-key check off: nothing refers to them.
    assert_eq!(
        query_i64(
            &open_sqlite(&old),
            "SELECT COUNT(*) FROM pragma_foreign_key_check"
        ),
        0
    );
    assert_eq!(
        query_i64(
            &open_sqlite(&old),
            "SELECT COUNT(*) FROM touches WHERE raw_event_id IS NOT NULL OR raw_slot IS NULL"
        ),
        0
    );
    assert_eq!(
        raw_events(&old),
        raw_before,
        "every payload byte for byte, in arrival order"
    );
    assert_eq!(reports(&home, &old), expected);
    home.lookback_ok(&["--db", db, "check"]);
    assert!(
        home.lookback_ok(&["--db", db, "compact"])
            .contains("already compact")
    );
    // The first file again: its 270 unrestated rows are duplicates of their moved payloads, its
    // 30 restated ones differ from their latest (moved) version and become third versions.
    home.lookback_ok(&[
        "--db",
        db,
        "import",
        "touches",
        home.path("first.csv").to_str().unwrap(),
    ]);
    let after = raw_events(&old);
    assert_eq!(after.len(), raw_before.len() + 30);
    assert_eq!(after[..raw_before.len()], raw_before[..]);
}
