//! The compact raw-event log (migration 0015): every payload reads back byte for byte from
//! either layout, a workspace of the old layout migrates and compacts resumably and then has
//! nothing left to do, and deduplication, purge and erasure work across layouts. Old-layout
//! workspaces are written here as Lookback wrote them before 0015: migrations 1 to 14, and raw
//! rows with the payload as text and its SHA-256 as hex.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;

use common::old_workspace;
use lookback_store::*;
use rusqlite::Connection;

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.lookback");
    (dir, path)
}

/// Payloads that have broken codecs before: empty, non-ASCII, large, tiny.
fn awkward_payloads() -> Vec<String> {
    let large = format!(
        "{{\"rows\":[{}]}}",
        (0..6_000)
            .map(|i| format!("{{\"i\":{i},\"v\":\"{}\"}}", (i * 7_919) % 10_007))
            .collect::<Vec<_>>()
            .join(",")
    );
    vec![
        String::new(),
        r#"{"name":"Zoë Ångström","note":"🎉 straße ✓ 東京"}"#.to_owned(),
        large,
        "{}".to_owned(),
        r#"{"amount":"12.50","currency":"EUR"}"#.to_owned(),
    ]
}

/// A realistic touch payload, different per `i`.
fn touch_payload(i: usize) -> String {
    format!(
        r#"{{"touch_id":"t{i}","occurred_at":"2025-03-{:02}T{:02}:{:02}:00Z","channel":"{}","anonymous_id":"anon-{}","creator_id":"cr_{}","campaign_id":"cmp_{}","click_id":"clk_{i}","note":"café №{i}"}}"#,
        1 + i % 28,
        i % 24,
        i % 60,
        ["creator_link", "paid_social", "search", "direct"][i % 4],
        i % 3_001,
        i % 17,
        i % 5
    )
}

/// Every raw event's (stream, external id) → (payload, hash), read through the store.
fn all_payloads(store: &Store) -> BTreeMap<(String, String), (String, [u8; 32])> {
    let mut all = BTreeMap::new();
    store
        .for_each_raw_event(|e| {
            all.insert((e.stream, e.external_id), (e.payload, e.payload_sha256));
        })
        .unwrap();
    all
}

/// How many rows are in the old layout, and how many use a dictionary (read by SQL, since the
/// store's API deliberately does not say).
fn layout_counts(path: &Path) -> (i64, i64) {
    let conn = Connection::open(path).unwrap();
    conn.query_row(
        "SELECT SUM(payload_hash IS NULL), SUM(dictionary_id IS NOT NULL) FROM raw_events",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .unwrap()
}

fn insert(
    store: &mut Store,
    source: &str,
    stream: &str,
    external_id: &str,
    received_at_ms: i64,
    payload: &str,
) -> RawEventOutcome {
    store
        .write(|tx| {
            tx.insert_raw_event(&NewRawEvent {
                source,
                stream,
                external_id,
                received_at_ms,
                payload,
                normalizer_version: 1,
            })
        })
        .unwrap()
}

fn never() -> bool {
    false
}

#[test]
fn every_payload_reads_back_byte_for_byte_in_both_layouts() {
    let (_dir, path) = workspace();
    let payloads = awkward_payloads();
    let old_rows: Vec<_> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| ("csv", "old", format!("o-{i}"), 1_000, p.clone()))
        .collect();
    old_workspace(&path, &old_rows);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    for (i, payload) in payloads.iter().enumerate() {
        insert(&mut store, "csv", "new", &format!("n-{i}"), 2_000, payload);
    }
    // A bulk write of one stream trains its dictionary on its 1,000th row.
    store
        .write(|tx| {
            for i in 0..1_200 {
                tx.insert_raw_event(&NewRawEvent {
                    source: "csv",
                    stream: "bulk",
                    external_id: &format!("b-{i}"),
                    received_at_ms: 3_000,
                    payload: &touch_payload(i),
                    normalizer_version: 1,
                })?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let (old, with_dictionary) = layout_counts(&path);
    assert_eq!(old, payloads.len() as i64, "only the old rows are old");
    assert_eq!(with_dictionary, 1_200, "every bulk row uses the dictionary");

    let mut expected: BTreeMap<(String, String), String> = BTreeMap::new();
    for (i, payload) in payloads.iter().enumerate() {
        for (stream, id) in [("old", format!("o-{i}")), ("new", format!("n-{i}"))] {
            let versions = store.raw_event_versions("csv", stream, &id).unwrap();
            assert_eq!(versions.len(), 1);
            assert_eq!(&versions[0].payload, payload, "{stream} {id}");
            assert_eq!(versions[0].payload_sha256, payload_sha256(payload));
            expected.insert((stream.to_owned(), id), payload.clone());
        }
    }
    for i in 0..1_200 {
        expected.insert(("bulk".into(), format!("b-{i}")), touch_payload(i));
    }
    let read: BTreeMap<_, _> = all_payloads(&store)
        .into_iter()
        .map(|(key, (payload, hash))| {
            assert_eq!(hash, payload_sha256(&payload), "{key:?}");
            (key, payload)
        })
        .collect();
    assert_eq!(read, expected);

    // Compacted, the same bytes come back.
    let summary = store.compact_raw_events(9_000, |_, _| {}, &never).unwrap();
    assert_eq!(summary.rows_converted, payloads.len() as u64);
    assert_eq!(layout_counts(&path).0, 0);
    let read: BTreeMap<_, _> = all_payloads(&store)
        .into_iter()
        .map(|(key, (payload, _))| (key, payload))
        .collect();
    assert_eq!(read, expected);
}

#[test]
fn an_old_workspace_compacts_resumably_and_then_has_nothing_to_do() {
    let (_dir, path) = workspace();
    let rows: Vec<_> = (0..5_000)
        .map(|i| {
            let stream = if i % 5 < 3 { "touches" } else { "orders" };
            (
                "csv",
                stream,
                format!("id-{i}"),
                1_000 + i as i64,
                touch_payload(i),
            )
        })
        .collect();
    old_workspace(&path, &rows);
    let mut store = Store::open(&path).unwrap();
    let before = all_payloads(&store);
    assert_eq!(before.len(), 5_000);
    assert_eq!(
        store.page_size().unwrap(),
        4_096,
        "SQLite's default, as before"
    );
    assert!(store.raw_events_need_compaction().unwrap());
    assert_eq!(store.raw_events_to_compact().unwrap(), 5_000);

    // Stopped after the first batch, then the store is dropped: a kill between batches.
    let batches = std::cell::Cell::new(0);
    let summary = store
        .compact_raw_events(
            9_000,
            |done, total| {
                assert!(done <= total);
                batches.set(batches.get() + 1);
            },
            &|| batches.get() >= 1,
        )
        .unwrap();
    assert!(summary.cancelled);
    assert_eq!(summary.dictionaries_trained, 2);
    assert!(summary.rows_converted > 0 && summary.rows_converted < 5_000);
    drop(store);

    let mut store = Store::open(&path).unwrap();
    assert!(store.integrity_check().unwrap().is_empty());
    let (old, with_dictionary) = layout_counts(&path);
    assert!(
        old > 0 && with_dictionary > 0,
        "a mix of layouts: {old} old"
    );
    assert_eq!(
        all_payloads(&store),
        before,
        "a mixed workspace reads the same"
    );
    assert!(store.raw_events_need_compaction().unwrap());
    assert_eq!(store.raw_events_to_compact().unwrap(), old as u64);

    let summary = store.compact_raw_events(9_500, |_, _| {}, &never).unwrap();
    assert!(!summary.cancelled);
    assert_eq!(summary.dictionaries_trained, 0);
    assert_eq!(summary.rows_converted, old as u64);
    assert!(summary.vacuumed);
    assert!(summary.bytes_after < summary.bytes_before);
    assert_eq!(layout_counts(&path), (0, 5_000));
    assert_eq!(all_payloads(&store), before);
    assert_eq!(
        store.page_size().unwrap(),
        4_096,
        "compaction keeps the page size"
    );

    assert!(!store.raw_events_need_compaction().unwrap());
    assert_eq!(store.raw_events_to_compact().unwrap(), 0);
    let again = store.compact_raw_events(9_900, |_, _| {}, &never).unwrap();
    assert!(again.was_already_compact(), "{again:?}");
    drop(store);
    assert!(
        !Store::open(&path)
            .unwrap()
            .raw_events_need_compaction()
            .unwrap()
    );
}

#[test]
fn rows_written_before_their_stream_had_a_dictionary_are_re_encoded_by_compaction() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    // A page at a time, as a sync writes: no transaction reaches 1,000 rows of the stream.
    for page in 0..12 {
        store
            .write(|tx| {
                for i in page * 100..(page + 1) * 100 {
                    tx.insert_raw_event(&NewRawEvent {
                        source: "shop",
                        stream: "orders",
                        external_id: &format!("o{i}"),
                        received_at_ms: 1_000,
                        payload: &touch_payload(i),
                        normalizer_version: 1,
                    })?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    assert_eq!(layout_counts(&path), (0, 0));
    let before = all_payloads(&store);
    assert!(store.raw_events_need_compaction().unwrap());
    // Trainable, so every row of the stream would shrink.
    assert_eq!(store.raw_events_to_compact().unwrap(), 1_200);
    let summary = store.compact_raw_events(2_000, |_, _| {}, &never).unwrap();
    assert_eq!(summary.dictionaries_trained, 1);
    assert_eq!(summary.rows_converted, 1_200);
    assert_eq!(layout_counts(&path), (0, 1_200));
    assert_eq!(all_payloads(&store), before);
    // Later pages use the dictionary as they are written.
    insert(
        &mut store,
        "shop",
        "orders",
        "o-late",
        3_000,
        &touch_payload(7),
    );
    assert_eq!(layout_counts(&path), (0, 1_201));
    assert!(!store.raw_events_need_compaction().unwrap());
}

#[test]
fn deduplication_compares_against_the_latest_version_of_either_layout() {
    let (_dir, path) = workspace();
    let first = r#"{"spend":"10.00"}"#.to_owned();
    let second = r#"{"spend":"12.50"}"#;
    old_workspace(
        &path,
        &[(
            "meta",
            "insights",
            "cmp_1:2025-03-01".into(),
            1_000,
            first.clone(),
        )],
    );
    let mut store = Store::open(&path).unwrap();
    let old_id = store
        .raw_event_versions("meta", "insights", "cmp_1:2025-03-01")
        .unwrap()[0]
        .raw_event_id;
    let id = "cmp_1:2025-03-01";
    assert_eq!(
        insert(&mut store, "meta", "insights", id, 2_000, &first),
        RawEventOutcome::Duplicate(old_id),
        "an old-layout latest version equal to the new payload"
    );
    let RawEventOutcome::NewVersion(restated) =
        insert(&mut store, "meta", "insights", id, 2_000, second)
    else {
        panic!("a restatement is a new version")
    };
    assert_eq!(
        insert(&mut store, "meta", "insights", id, 2_000, second),
        RawEventOutcome::Duplicate(restated)
    );
    // The same external id in another stream or source is another record.
    assert!(matches!(
        insert(&mut store, "meta", "ads", id, 2_000, second),
        RawEventOutcome::Inserted(_)
    ));
    assert!(matches!(
        insert(&mut store, "tiktok", "insights", id, 2_000, second),
        RawEventOutcome::Inserted(_)
    ));
    store.compact_raw_events(3_000, |_, _| {}, &never).unwrap();
    assert_eq!(
        insert(&mut store, "meta", "insights", id, 4_000, second),
        RawEventOutcome::Duplicate(restated)
    );
    assert!(matches!(
        insert(&mut store, "meta", "insights", id, 4_000, &first),
        RawEventOutcome::NewVersion(_)
    ));
}

#[test]
fn purge_blanks_payloads_of_both_layouts_and_keeps_their_hashes() {
    let (_dir, path) = workspace();
    let old_payload = r#"{"email_sha256":"aa","amount":"12.50"}"#.to_owned();
    old_workspace(
        &path,
        &[("shop", "orders", "o1".into(), 1_000, old_payload.clone())],
    );
    let mut store = Store::open(&path).unwrap();
    let compact_old = touch_payload(1);
    let recent = touch_payload(2);
    insert(&mut store, "shop", "orders", "o2", 1_500, &compact_old);
    insert(&mut store, "shop", "orders", "o3", 5_000, &recent);

    assert_eq!(store.purge_raw_payloads_before(2_000).unwrap(), 2);
    assert_eq!(store.purge_raw_payloads_before(2_000).unwrap(), 0);
    for (id, original) in [("o1", &old_payload), ("o2", &compact_old)] {
        let version = &store.raw_event_versions("shop", "orders", id).unwrap()[0];
        assert_eq!(version.payload, PURGED_PAYLOAD);
        assert_eq!(version.payload_sha256, payload_sha256(original));
        // A re-delivery of what was purged is still recognized.
        assert!(matches!(
            insert(&mut store, "shop", "orders", id, 6_000, original),
            RawEventOutcome::Duplicate(_)
        ));
    }
    assert_eq!(
        store.raw_event_versions("shop", "orders", "o3").unwrap()[0].payload,
        recent
    );
    // Converting the purged old row keeps it purged, with its hash.
    store.compact_raw_events(7_000, |_, _| {}, &never).unwrap();
    let version = &store.raw_event_versions("shop", "orders", "o1").unwrap()[0];
    assert_eq!(version.payload, PURGED_PAYLOAD);
    assert_eq!(version.payload_sha256, payload_sha256(&old_payload));
    assert_eq!(store.purge_raw_payloads_before(2_000).unwrap(), 0);
}

#[test]
fn erasure_finds_compressed_payloads_and_drops_a_dictionary_that_quotes_the_person() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let whale = "anon-whale-0000000001";
    let payload = |i: usize| {
        if i.is_multiple_of(2) {
            format!(r#"{{"touch_id":"t{i}","anonymous_id":"{whale}","channel":"search"}}"#)
        } else {
            touch_payload(i)
        }
    };
    store
        .write(|tx| {
            for i in 0..1_200 {
                let raw = tx.insert_raw_event(&NewRawEvent {
                    source: "web",
                    stream: "touches",
                    external_id: &format!("t{i}"),
                    received_at_ms: 1_000,
                    payload: &payload(i),
                    normalizer_version: 1,
                })?;
                let anonymous_id = if i.is_multiple_of(2) {
                    whale.to_owned()
                } else {
                    format!("anon-{i}")
                };
                tx.insert_touch(&Touch {
                    touch_id: format!("t{i}"),
                    source: "web".into(),
                    occurred_at_ms: 1_000 + i as i64,
                    channel: "search".into(),
                    touch_type: "click".into(),
                    creator_id: None,
                    campaign_id: None,
                    ad_id: None,
                    content_id: None,
                    click_id: None,
                    identity: IdentityKeys {
                        anonymous_id: Some(anonymous_id),
                        ..Default::default()
                    },
                    raw_event_id: Some(raw.raw_event_id()),
                })?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let dictionary_quotes_whale = |path: &Path| -> bool {
        Connection::open(path)
            .unwrap()
            .query_row(
                "SELECT COUNT(*) FROM raw_payload_dictionaries WHERE instr(dictionary, ?1) > 0",
                [whale],
                |row| row.get::<_, i64>(0),
            )
            .unwrap()
            > 0
    };
    assert!(
        dictionary_quotes_whale(&path),
        "the trained dictionary learned the frequent id (else this test shows nothing)"
    );
    let survivors: BTreeMap<_, _> = all_payloads(&store)
        .into_iter()
        .filter(|(_, (p, _))| !p.contains(whale))
        .collect();
    assert_eq!(survivors.len(), 600);

    let key = IdentityKey::new(IdentityKeyType::AnonymousId, whale);
    let component = store.identity_component(&key).unwrap();
    let counts = store
        .erase_person(&ErasureRequest {
            component: &component,
            extra_terms: Vec::new(),
            requested_key_type: "anonymous_id".into(),
            marker: "m".into(),
            suppression_salt: "salt".into(),
            erased_at_ms: 5_000,
        })
        .unwrap();
    assert_eq!(counts.raw_events_deleted, 600);
    assert!(!dictionary_quotes_whale(&path));
    assert_eq!(all_payloads(&store), survivors, "the rest still decodes");
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !bytes.windows(whale.len()).any(|w| w == whale.as_bytes()),
        "the erased id is nowhere in the file"
    );
    // The stream gets a new dictionary from what remains at the next compaction... once it has
    // enough rows again; meanwhile its rows are compressed without one.
    let mut store = Store::open(&path).unwrap();
    assert_eq!(all_payloads(&store), survivors);
    store.compact_raw_events(6_000, |_, _| {}, &never).unwrap();
    assert_eq!(all_payloads(&store), survivors);
}

#[test]
fn a_new_workspace_has_16_kib_pages_and_compaction_keeps_an_older_files_4_kib() {
    let (_dir, path) = workspace();
    drop(Store::create(&path).unwrap());
    assert_eq!(pragma(&path, "page_size"), 16_384);

    let rows: Vec<_> = (0..2_000)
        .map(|i| {
            (
                "csv",
                "touches",
                format!("id-{i}"),
                1_000 + i as i64,
                touch_payload(i),
            )
        })
        .collect();
    let (_old_dir, old) = workspace();
    old_workspace(&old, &rows);
    let mut store = Store::open(&old).unwrap();
    let before = all_payloads(&store);
    store.compact().unwrap();
    assert_eq!(all_payloads(&store), before);
    assert!(store.integrity_check().unwrap().is_empty());
    drop(store);
    assert_eq!(pragma(&old, "page_size"), 4_096);
}

/// The integer value of `PRAGMA name` on the file at `path`, read on a connection of its own.
fn pragma(path: &Path, name: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, name, |r| r.get(0))
        .unwrap()
}
