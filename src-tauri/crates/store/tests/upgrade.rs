//! Upgrading a workspace an older Lookback wrote (`Store::upgrade`): it reports each change and
//! its progress, ends at this binary's schema with every row kept, and when stopped — between
//! changes or in the middle of a long one — leaves the file exactly at its old version, ready
//! to be upgraded again. Old workspaces are written here as Lookback 14 wrote them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

mod common;

use common::old_workspace;
use lookback_store::*;
use rusqlite::Connection;

/// A workspace file of schema version 14 with `raw_rows` raw events in the layout of the time.
fn workspace_v14(raw_rows: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.lookback");
    let rows: Vec<_> = (0..raw_rows)
        .map(|i| {
            (
                "csv",
                "touches",
                format!("t{i}"),
                1_750_000_000_000_i64 + i as i64,
                format!(r#"{{"touch_id":"t{i}","channel":"email_{}"}}"#, i % 7),
            )
        })
        .collect();
    old_workspace(&path, &rows);
    (dir, path)
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

fn raw_event_count(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM raw_events", [], |row| row.get(0))
        .unwrap()
}

fn table_exists(path: &Path, name: &str) -> bool {
    Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            [name],
            |row| row.get(0),
        )
        .unwrap()
}

/// The error of a stopped upgrade names the version the file was left at.
fn assert_stopped_at_14(err: &StoreError) {
    assert!(
        matches!(err, StoreError::UpgradeStopped { found: 14, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("unchanged at schema version 14"),
        "{err}"
    );
}

#[test]
fn an_old_workspace_is_upgraded_with_a_report_per_change_and_a_last_one() {
    let (_dir, path) = workspace_v14(50);
    let pending = Store::pending_upgrade(&path)
        .unwrap()
        .expect("schema 14 is old");
    assert_eq!(pending.from_version, 14);
    assert_eq!(pending.to_version, SCHEMA_VERSION);
    let expected_changes = (SCHEMA_VERSION - 14) as usize;
    assert_eq!(pending.changes, expected_changes);

    let mut reports = Vec::new();
    let upgraded = Store::upgrade(&path, Duration::from_secs(60), &mut |p| {
        reports.push(p.clone());
        UpgradeControl::Continue
    })
    .unwrap();
    assert_eq!(upgraded, Some(pending));
    // One report as each change begins, in order, then the finished one.
    let starts: Vec<(usize, String)> = reports
        .iter()
        .filter(|r| !r.finished)
        .map(|r| (r.change, r.change_title.clone()))
        .collect();
    let titles: Vec<(usize, String)> = MIGRATIONS
        .iter()
        .filter(|m| m.version > 14)
        .enumerate()
        .map(|(i, m)| (i + 1, m.title()))
        .collect();
    assert_eq!(starts, titles);
    assert_eq!(titles[0].1, "compact raw events");
    let last = reports.last().unwrap();
    assert!(last.finished);
    assert_eq!(last.change, expected_changes);
    assert_eq!(reports.iter().filter(|r| r.finished).count(), 1);

    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert_eq!(raw_event_count(&path), 50);
    assert_eq!(Store::pending_upgrade(&path).unwrap(), None);
    // 0027 and 0028 rewrote CHECKs in the schema's text, which a new connection reads.
    let table_sql = |name: &str| -> String {
        Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [name],
                |row| row.get(0),
            )
            .unwrap()
    };
    // 0027: the traffic class of a touch.
    let touch_table = table_sql("touch_rows");
    assert!(
        touch_table.contains("CHECK (traffic_class BETWEEN 0 AND 2)")
            && !touch_table.contains(" IN (0, 1, 2)"),
        "{touch_table}"
    );
    // 0028: the join kind of a run's credits and the outcome of its orders.
    let (credits, run_orders) = (table_sql("credits"), table_sql("run_orders"));
    assert!(
        credits.contains("CHECK (join_kind = 'deterministic' OR join_kind = 'identity_graph' OR join_kind = 'probabilistic')")
            && !credits.contains("join_kind IN ("),
        "{credits}"
    );
    assert!(
        run_orders.contains(
            "CHECK (outcome = 'attributed' OR outcome = 'unattributed' OR outcome = 'missing_fx')"
        ) && !run_orders.contains("outcome IN ("),
        "{run_orders}"
    );
    // 0029: the click-id index in (generation, click id) order, generation 0 listed.
    let conn = Connection::open(&path).unwrap();
    let click_index: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = 'touches_by_click'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        click_index.contains("(generation, click_id) WHERE click_id IS NOT NULL"),
        "{click_index}"
    );
    let listed: Vec<i64> = conn
        .prepare("SELECT generation FROM touch_generations")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(listed, [0]);
    // 0030: each credit names its touch's row.
    let has_touch_row: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM pragma_table_info('credits') WHERE name = 'touch_row')",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(has_touch_row);
    drop(conn);
    // Up to date: nothing to do and nothing reported.
    let mut calls = 0;
    let again = Store::upgrade(&path, Duration::from_millis(1), &mut |_| {
        calls += 1;
        UpgradeControl::Continue
    })
    .unwrap();
    assert_eq!((again, calls), (None, 0));
    Store::open(&path).unwrap();
}

#[test]
fn stopping_between_changes_leaves_the_old_version_and_a_later_upgrade_finishes() {
    let (_dir, path) = workspace_v14(50);
    let err = Store::upgrade(&path, Duration::from_secs(60), &mut |p| {
        if p.change == 2 {
            UpgradeControl::Stop
        } else {
            UpgradeControl::Continue
        }
    })
    .unwrap_err();
    assert_stopped_at_14(&err);
    // The first change (0015) ran before the stop and was rolled back with the rest.
    assert_eq!(user_version(&path), 14);
    assert!(!table_exists(&path, "raw_payload_dictionaries"));
    assert_eq!(raw_event_count(&path), 50);

    Store::upgrade(&path, Duration::from_secs(60), &mut |_| {
        UpgradeControl::Continue
    })
    .unwrap()
    .expect("still pending after the stop");
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert!(table_exists(&path, "raw_payload_dictionaries"));
}

/// The stop a user asks for in the middle of a long change (rebuilding an index over many raw
/// events) interrupts the running statement rather than waiting for it.
#[test]
fn stopping_inside_a_long_change_interrupts_it_and_keeps_the_old_version() {
    let (_dir, path) = workspace_v14(150_000);
    let seen: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    let err = Store::upgrade(&path, Duration::from_millis(1), &mut |p| {
        let mut seen = seen.lock().unwrap();
        // A second report of the same change comes from the ticker, while that change runs.
        let repeated = seen.last() == Some(&p.change);
        seen.push(p.change);
        if repeated {
            UpgradeControl::Stop
        } else {
            UpgradeControl::Continue
        }
    })
    .unwrap_err();
    assert_stopped_at_14(&err);
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 2 && seen[seen.len() - 1] == seen[seen.len() - 2]);
    assert_eq!(user_version(&path), 14);
    assert_eq!(raw_event_count(&path), 150_000);
    Store::open(&path).unwrap();
    assert_eq!(user_version(&path), SCHEMA_VERSION);
}

#[test]
fn files_that_are_not_upgradable_are_refused_as_by_open() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.lookback");
    assert!(matches!(
        Store::pending_upgrade(&missing),
        Err(StoreError::NotFound { .. })
    ));
    let newer = dir.path().join("newer.lookback");
    drop(Store::create(&newer).unwrap());
    Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    assert!(matches!(
        Store::upgrade(&newer, Duration::from_millis(1), &mut |_| {
            UpgradeControl::Continue
        }),
        Err(StoreError::NewerVersion { .. })
    ));
}
