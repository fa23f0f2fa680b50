//! Damage is caught without reading the whole file at every open: a file cut short is refused at
//! open, a flipped bit inside a data page is reported by the query that reads the page and by
//! both whole-file checks, and the file records when a check passed and which sessions did not
//! close. Each test works on a real SQLite file in a temporary directory.

use std::path::{Path, PathBuf};

use lookback_store::*;
use rusqlite::Connection;

/// A workspace of 20,000 touches (a few hundred pages), closed, so every page is in the main
/// file and no WAL is left.
fn populated() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| {
            for i in 0..20_000 {
                tx.insert_touch(&touch(i))?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    drop(store);
    (dir, path)
}

fn touch(i: i64) -> Touch {
    Touch {
        touch_id: format!("touch-{i:06}"),
        source: "web".into(),
        occurred_at_ms: 1_700_000_000_000 + i,
        channel: "paid_social".into(),
        touch_type: "click".into(),
        creator_id: Some(format!("creator-{}", i % 50)),
        campaign_id: Some("campaign".into()),
        ad_id: None,
        content_id: None,
        click_id: Some(format!("click-{i}")),
        identity: IdentityKeys {
            anonymous_id: Some(format!("anon-{i}")),
            ..Default::default()
        },
        raw_event_id: None,
    }
}

/// The page size of the file at `path`, from its header (bytes 16–17, big-endian; 1 means
/// 65,536).
fn page_size(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        size => usize::from(size),
    }
}

/// Flips one bit of the page-type byte of a leaf page in the middle of the touch table (`touch_rows`):
/// the kind of damage a bad disk sector or a bad copy leaves, in a page no open reads.
fn flip_a_bit_in_a_touches_page(path: &Path) -> usize {
    let raw = Connection::open(path).unwrap();
    let page_size: usize = raw
        .pragma_query_value(None, "page_size", |r| r.get(0))
        .unwrap();
    assert_eq!(
        page_size,
        self::page_size(path),
        "the header and SQLite agree"
    );
    let pages: Vec<usize> = raw
        .prepare("SELECT pageno FROM dbstat WHERE name = 'touch_rows' AND pagetype = 'leaf' ORDER BY pageno")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(raw);
    assert!(pages.len() > 20, "the test needs a table of many pages");
    let page = pages[pages.len() / 2];
    let mut bytes = std::fs::read(path).unwrap();
    bytes[(page - 1) * page_size] ^= 0x40;
    std::fs::write(path, &bytes).unwrap();
    page
}

#[test]
fn a_file_cut_short_is_damaged_at_open_names_the_file_and_is_left_unchanged() {
    let (_dir, path) = populated();
    let full = std::fs::read(&path).unwrap();
    let page = page_size(&path);
    assert!(full.len() > 100 * page, "the test needs a multi-page file");
    // Three whole pages gone from the end (a copy that stopped early), and a cut mid-page.
    for keep in [full.len() - 3 * page, full.len() / 2 + 1000] {
        std::fs::write(&path, &full[..keep]).unwrap();
        for result in [Store::open(&path), Store::open_read_only(&path)] {
            match result {
                Err(err @ StoreError::Damaged { .. }) => {
                    assert!(err.is_damage());
                    let message = err.to_string();
                    assert!(message.contains(&path.display().to_string()), "{message}");
                    assert!(message.contains("damaged"), "{message}");
                }
                other => panic!("cut to {keep} bytes: {other:?}"),
            }
        }
        let damaged = Store::open_damaged_read_only(&path).unwrap();
        assert!(damaged.damage().is_some(), "cut to {keep} bytes");
        assert!(damaged.is_read_only());
        drop(damaged);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            &full[..keep],
            "cut to {keep} bytes: the file was written"
        );
    }
}

#[test]
fn a_flipped_bit_in_a_data_page_passes_the_open_but_not_the_query_that_reads_it_nor_the_checks() {
    let (_dir, path) = populated();
    flip_a_bit_in_a_touches_page(&path);

    // The open reads the header and the file's length only, so it cannot see this page; it
    // runs no whole-file check either (that check would have failed on this file, below).
    let store = Store::open(&path).expect("the cheap checks pass");
    assert_eq!(
        store.integrity_record().unwrap().last_check_passed_at_ms,
        None
    );
    // Reading the page is where SQLite finds the damage: an error, never a crash or wrong rows.
    let err = store.touches().expect_err("reading the damaged page fails");
    assert!(err.is_damage(), "{err}");
    let named = err.in_file(&path);
    match &named {
        StoreError::Damaged { path: p, .. } => assert_eq!(p, &path),
        other => panic!("expected Damaged, got {other:?}"),
    }
    let message = named.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("damaged"),
        "{message}"
    );
    // The session found the file damaged and closes without writing another byte.
    store.abandon();
    let before = std::fs::read(&path).unwrap();

    // Both whole-file checks, on a connection of their own, report it.
    let mut checker = Store::open_damaged_read_only(&path).unwrap();
    assert_eq!(checker.damage(), None, "the cheap checks pass");
    for (name, outcome) in [
        ("quick_check", checker.quick_check()),
        ("integrity_check", checker.integrity_check()),
    ] {
        match outcome {
            Ok(problems) => assert!(!problems.is_empty(), "{name} passed a damaged file"),
            Err(err) => assert!(err.is_damage(), "{name}: {err}"),
        }
    }
    assert!(matches!(
        checker.record_check_passed(1, &[]),
        Err(StoreError::ReadOnly)
    ));
    drop(checker);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file was written"
    );
}

#[test]
fn a_sound_file_passes_both_checks() {
    let (_dir, path) = populated();
    let store = Store::open_damaged_read_only(&path).unwrap();
    assert_eq!(store.quick_check().unwrap(), Vec::<String>::new());
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
}

#[test]
fn a_session_that_does_not_close_leaves_its_marker_until_a_check_passes() {
    const CHECKED_AT: i64 = 1_750_000_000_000;
    let (_dir, path) = populated();
    let fresh = Store::open(&path).unwrap();
    assert_eq!(
        fresh.integrity_record().unwrap(),
        IntegrityRecord::default()
    );
    drop(fresh);

    // A session that never closes (a crash): its store is never dropped.
    std::mem::forget(Store::open(&path).unwrap());
    let mut store = Store::open(&path).unwrap();
    let record = store.integrity_record().unwrap();
    assert_eq!(record.last_check_passed_at_ms, None);
    assert_eq!(record.unclosed_sessions.len(), 1, "{record:?}");

    // A check that passed covers the sessions seen before it; the stamp is kept.
    store
        .record_check_passed(CHECKED_AT, &record.unclosed_sessions)
        .unwrap();
    assert_eq!(
        store.integrity_record().unwrap(),
        IntegrityRecord {
            last_check_passed_at_ms: Some(CHECKED_AT),
            unclosed_sessions: vec![],
        }
    );
    drop(store);

    // Opening neither checks nor stamps: the stamp stays what the last check wrote.
    let store = Store::open(&path).unwrap();
    assert_eq!(
        store.integrity_record().unwrap().last_check_passed_at_ms,
        Some(CHECKED_AT)
    );
    // A session closed cleanly leaves nothing; one abandoned on damage leaves its marker.
    let abandoned = Store::open(&path).unwrap();
    assert_eq!(store.integrity_record().unwrap().unclosed_sessions.len(), 1);
    abandoned.abandon();
    assert_eq!(store.integrity_record().unwrap().unclosed_sessions.len(), 1);
    let closed = Store::open(&path).unwrap();
    drop(closed);
    assert_eq!(store.integrity_record().unwrap().unclosed_sessions.len(), 1);
    // A read-only store is no session.
    let reader = Store::open_read_only(&path).unwrap();
    assert_eq!(store.integrity_record().unwrap().unclosed_sessions.len(), 1);
    drop(reader);
}
