//! Backup during a running write restores to a consistent store; damaged files open read-only
//! with a clear message and are never written; the whole-file checks find what the open cannot
//! see, and are due when never run, a day old or after an unclean shutdown; newer workspaces
//! are refused.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{T0, customer, touch};
use lookback_store::{Store, StoreError, Table};
use lookback_trust::{
    CHECK_INTERVAL_MS, CheckDepth, CheckReason, IntegrityVerdict, TrustError, backup, check_due,
    check_file, open_checked, reopen_damaged, restore,
};

/// Rows per transaction of the writer thread: a consistent snapshot holds a multiple of it.
const BATCH: usize = 25;

#[test]
fn backup_during_a_running_write_restores_to_a_committed_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.lookback");
    Store::create(&db).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&db).unwrap();
            let mut batches = 0usize;
            // Keep writing until told to stop, and at least long enough to overlap the backup.
            while !stop.load(Ordering::SeqCst) || batches < 8 {
                let mut tx = store.begin().unwrap();
                for i in 0..BATCH {
                    let id = format!("t{batches:05}-{i:02}");
                    tx.insert_touch(&touch(
                        &id,
                        T0 + i as i64,
                        Some("c1"),
                        customer(&format!("cust{batches}")),
                        None,
                    ))
                    .unwrap();
                }
                tx.commit().unwrap();
                batches += 1;
            }
            batches
        })
    };
    // Let the writer get going, then back up while it runs.
    while Store::open_read_only(&db)
        .map(|s| s.row_count(Table::Touches).unwrap())
        .unwrap_or(0)
        < (BATCH * 4) as u64
    {
        std::thread::yield_now();
    }
    let out = dir.path().join("snapshot.lookback");
    let summary = backup(&db, &out).unwrap();
    stop.store(true, Ordering::SeqCst);
    let batches = writer.join().unwrap();
    assert!(summary.bytes > 0);

    let restored_path = dir.path().join("restored.lookback");
    restore(&out, &restored_path).unwrap();
    let restored = Store::open(&restored_path).unwrap();
    assert!(restored.integrity_check().unwrap().is_empty());
    let restored_touches = restored.row_count(Table::Touches).unwrap() as usize;
    assert_eq!(
        restored_touches % BATCH,
        0,
        "a half-committed batch leaked into the backup"
    );
    assert!(restored_touches >= BATCH * 4 && restored_touches <= batches * BATCH);
    // Every batch in the snapshot is complete and the batches form a prefix 0..k.
    let ids: Vec<String> = restored
        .touches()
        .unwrap()
        .into_iter()
        .map(|t| t.touch_id)
        .collect();
    let k = restored_touches / BATCH;
    for b in 0..k {
        for i in 0..BATCH {
            assert!(
                ids.contains(&format!("t{b:05}-{i:02}")),
                "batch {b} incomplete"
            );
        }
    }
}

#[test]
fn backup_and_restore_never_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.lookback");
    Store::create(&db).unwrap();
    let taken = dir.path().join("taken");
    std::fs::write(&taken, b"keep me").unwrap();
    assert!(matches!(
        backup(&db, &taken),
        Err(TrustError::TargetExists { .. })
    ));
    assert!(matches!(
        restore(&db, &taken),
        Err(TrustError::TargetExists { .. })
    ));
    assert_eq!(std::fs::read(&taken).unwrap(), b"keep me");
}

/// A workspace with enough rows to span many pages, closed so everything is in the main file.
fn populated(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("w.lookback");
    let mut store = Store::create(&db).unwrap();
    let mut tx = store.begin().unwrap();
    for i in 0..3000 {
        tx.insert_touch(&touch(
            &format!("touch-{i:06}"),
            T0 + i,
            Some("creator"),
            customer(&format!("c{i}")),
            None,
        ))
        .unwrap();
    }
    tx.commit().unwrap();
    drop(store);
    db
}

#[test]
fn a_truncated_workspace_opens_read_only_with_a_clear_message_and_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let len = std::fs::metadata(&db).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    file.set_len(len / 2).unwrap();
    drop(file);
    let before = std::fs::read(&db).unwrap();

    assert!(matches!(Store::open(&db), Err(StoreError::Damaged { .. })));
    let opened = open_checked(&db).unwrap();
    let IntegrityVerdict::Damaged { detail } = &opened.verdict else {
        panic!("a truncated file passed the check")
    };
    assert!(!detail.is_empty());
    assert!(opened.verdict.message().contains("opened read-only"));
    let mut store = opened.store;
    assert!(store.is_read_only());
    assert!(matches!(store.set_name("x"), Err(StoreError::ReadOnly)));
    assert!(matches!(store.begin().err(), Some(StoreError::ReadOnly)));
    // Reading damaged pages is an error, never a crash.
    let _ = store.touches();
    drop(store);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the damaged file was written"
    );
    assert!(
        backup(&db, &dir.path().join("b")).is_err(),
        "a damaged file must not be backed up as sound"
    );
}

/// Since issue 12 the open reads only the header and the file's length, so damage inside the
/// file is not seen there: it is caught by the whole-file checks (in the background, and by
/// `lookback check`), which open it read-only, and a read-only reopen never writes.
#[test]
fn a_corrupted_page_passes_the_open_is_caught_by_the_checks_and_reopens_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    // Scribble over the root page of the touch table, keeping the header and the schema (its
    // pages come first, but not only on page 1) intact. (A fixed place in the file, such as
    // three quarters in, can be a free page, whose bytes no check reads.)
    let (root, page_size) = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let root: usize = conn
            .query_row(
                "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'touch_rows'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        let page_size: usize = conn
            .pragma_query_value(None, "page_size", |row| row.get(0))
            .unwrap();
        (root, page_size)
    };
    assert!(root > 1);
    let mut bytes = std::fs::read(&db).unwrap();
    let start = (root - 1) * page_size;
    for b in &mut bytes[start..start + page_size] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let before = bytes;
    // The open (here of a copy, since a read-write open marks its session in the file) reads
    // the header and the length only, which are intact.
    let copy = dir.path().join("copy.lookback");
    std::fs::copy(&db, &copy).unwrap();
    assert_eq!(
        open_checked(&copy).unwrap().verdict,
        IntegrityVerdict::Sound
    );

    // Both checks find it, without writing a byte.
    for depth in [CheckDepth::Quick, CheckDepth::Full] {
        let check = check_file(&db, depth).unwrap();
        let IntegrityVerdict::Damaged { detail } = &check.verdict else {
            panic!("{depth:?} passed a damaged file")
        };
        assert!(!detail.is_empty());
        assert!(check.covered_sessions.is_empty());
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "a check wrote");

    // Found damaged, the workspace opens read-only with what was found, and is never written.
    let opened = reopen_damaged(&db, "what the check found".into()).unwrap();
    assert!(opened.verdict.message().contains("opened read-only"));
    assert!(opened.verdict.message().contains("what the check found"));
    let mut store = opened.store;
    assert!(store.is_read_only());
    assert!(matches!(store.set_name("x"), Err(StoreError::ReadOnly)));
    drop(store);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the damaged file was written"
    );
    assert!(
        backup(&db, &dir.path().join("b")).is_err(),
        "a damaged file must not be backed up as sound"
    );
    assert!(!dir.path().join("b").exists());
}

#[test]
fn a_sound_file_passes_the_check_which_clears_the_sessions_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    // A session that never closed (its store is never dropped, as in a crash).
    std::mem::forget(Store::open(&db).unwrap());
    for depth in [CheckDepth::Quick, CheckDepth::Full] {
        let check = check_file(&db, depth).unwrap();
        assert_eq!(check.verdict, IntegrityVerdict::Sound, "{depth:?}");
        assert_eq!(check.covered_sessions.len(), 1, "{depth:?}");
    }
    let check = check_file(&db, CheckDepth::Quick).unwrap();
    let mut store = Store::open(&db).unwrap();
    store
        .record_check_passed(T0, &check.covered_sessions)
        .unwrap();
    let record = store.integrity_record().unwrap();
    assert_eq!(record.last_check_passed_at_ms, Some(T0));
    assert!(record.unclosed_sessions.is_empty());
}

/// When the window runs the background check, with the clock passed in.
#[test]
fn a_check_is_due_when_never_run_a_day_after_the_last_or_after_an_unclean_shutdown() {
    const HOUR: i64 = 60 * 60 * 1000;
    let now = T0 + 1_000 * HOUR;
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());

    // A file never checked here.
    let mut store = Store::open(&db).unwrap();
    assert_eq!(
        check_due(&store.integrity_record().unwrap(), now),
        Some(CheckReason::NeverChecked)
    );
    store.record_check_passed(now, &[]).unwrap();
    drop(store);

    // Checked and cleanly closed: not due for 24 hours, due from then on.
    let store = Store::open(&db).unwrap();
    let record = store.integrity_record().unwrap();
    for later in [0, HOUR, 23 * HOUR, CHECK_INTERVAL_MS - 1] {
        assert_eq!(check_due(&record, now + later), None, "{later} ms later");
    }
    for later in [CHECK_INTERVAL_MS, 30 * 24 * HOUR] {
        assert_eq!(
            check_due(&record, now + later),
            Some(CheckReason::Stale {
                last_passed_at_ms: now
            }),
            "{later} ms later"
        );
    }
    // A clock set back before the stamp cannot postpone the check.
    assert!(check_due(&record, now - HOUR).is_some());

    // A session that did not close makes it due at once, however recent the check.
    let crashed = Store::open(&db).unwrap();
    std::mem::forget(crashed);
    drop(store);
    let store = Store::open(&db).unwrap();
    assert_eq!(
        check_due(&store.integrity_record().unwrap(), now + HOUR),
        Some(CheckReason::UncleanShutdown { sessions: 1 })
    );
}

#[test]
fn a_workspace_from_a_newer_version_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let mut bytes = std::fs::read(&db).unwrap();
    // user_version lives at offset 60 of the SQLite header, big-endian.
    bytes[60..64].copy_from_slice(&999i32.to_be_bytes());
    std::fs::write(&db, &bytes).unwrap();
    let err = open_checked(&db).unwrap_err();
    assert!(
        matches!(
            err,
            TrustError::Store(StoreError::NewerVersion { found: 999, .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("999"));
    assert!(matches!(
        Store::open_damaged_read_only(&db),
        Err(StoreError::NewerVersion { .. })
    ));
    assert!(matches!(
        restore(&db, &dir.path().join("r")),
        Err(TrustError::Store(StoreError::NewerVersion { .. }))
    ));
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
}
