//! Raw touch payloads kept in compressed blocks (migration 0021, `WriteTx::log_touch`): every
//! reader gets them back byte for byte, deduplication compares against the latest version,
//! a rolled-back transaction leaves no block, erasure and retention purge reach into blocks,
//! and the workspace totals count blocked events exactly like rows.

use std::path::Path;

use lookback_core::traffic::TrafficClass;
use lookback_store::*;
use rusqlite::Connection;

const T0: i64 = 1_773_100_800_000;

fn touch(id: &str, email_sha: Option<&str>, anonymous: &str) -> Touch {
    Touch {
        touch_id: id.to_owned(),
        source: "csv".to_owned(),
        occurred_at_ms: T0,
        channel: "creator_link".to_owned(),
        touch_type: "click".to_owned(),
        creator_id: Some("cr_1".to_owned()),
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: None,
        identity: IdentityKeys {
            anonymous_id: Some(anonymous.to_owned()),
            email_sha256: email_sha.map(str::to_owned),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }
}

fn payload_of(id: &str, channel: &str, extra: &str) -> String {
    format!(r#"{{"touch_id":"{id}","channel":"{channel}","note":"{extra}"}}"#)
}

/// Logs touches `ids` with the payloads `payload(id)`, arriving at `at`, in one transaction.
fn log_all(
    store: &mut Store,
    ids: &[String],
    at: i64,
    payload: impl Fn(&str) -> String,
) -> Vec<InsertOutcome> {
    store
        .write(|tx| {
            ids.iter()
                .map(|id| {
                    let text = payload(id);
                    tx.log_touch(
                        &touch(id, None, &format!("anon-{id}")),
                        &NewRawEvent {
                            source: "csv",
                            stream: "touches",
                            external_id: id,
                            received_at_ms: at,
                            payload: &text,
                            normalizer_version: 1,
                        },
                        TrafficClass::Human,
                    )
                })
                .collect::<StoreResult<Vec<_>>>()
        })
        .unwrap()
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t{i}")).collect()
}

fn count(path: &Path, sql: &str) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

/// The totals kept as data lands equal a recount (which decodes every block), and the
/// arrival counts of 0017 equal the events of rows and blocks per instant.
fn assert_totals_exact(store: &Store, path: &Path) {
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());
    let conn = Connection::open(path).unwrap();
    let rows = |sql: &str| -> Vec<(String, i64, i64)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        rows(
            "SELECT source, received_at_ms, events FROM raw_events_received WHERE events > 0 ORDER BY 1, 2"
        ),
        rows(
            "SELECT source, received_at_ms, SUM(n) FROM
               (SELECT source, received_at_ms, COUNT(*) AS n FROM raw_events GROUP BY 1, 2
                UNION ALL SELECT source, received_at_ms, SUM(events) FROM raw_event_blocks GROUP BY 1, 2)
             GROUP BY 1, 2 HAVING SUM(n) > 0 ORDER BY 1, 2"
        ),
    );
}

#[test]
fn blocked_payloads_read_back_byte_for_byte_and_a_second_delivery_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let all = ids(20_000);
    // Non-ASCII bytes and a payload as long as a wide CSV row.
    let payload = |id: &str| payload_of(id, "ig", &format!("Zoë {}", "x".repeat(id.len() * 40)));
    let outcomes = log_all(&mut store, &all, T0, payload);
    assert!(outcomes.iter().all(|o| *o == InsertOutcome::Inserted));
    // 20,000 events in blocks of 8,192, no raw_events rows.
    assert_eq!(count(&path, "SELECT COUNT(*) FROM raw_event_blocks"), 3);
    assert_eq!(store.row_count(Table::RawEvents).unwrap(), 0);
    assert_eq!(store.touches().unwrap().len(), 20_000);

    let mut seen = Vec::new();
    store.for_each_raw_event(|e| seen.push(e)).unwrap();
    assert_eq!(seen.len(), 20_000);
    for (event, id) in seen.iter().zip(&all) {
        assert_eq!(&event.external_id, id, "arrival order");
        assert_eq!(event.payload, payload(id));
        assert_eq!(event.payload_sha256, payload_sha256(&payload(id)));
        assert_eq!(
            (event.source.as_str(), event.stream.as_str()),
            ("csv", "touches")
        );
        assert_eq!((event.received_at_ms, event.normalizer_version), (T0, 1));
    }
    let versions = store.raw_event_versions("csv", "touches", "t9000").unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].payload, payload("t9000"));
    assert!(
        store
            .raw_event_versions("csv", "orders", "t9000")
            .unwrap()
            .is_empty()
    );

    // The same payloads again: all duplicates, nothing written.
    let again = log_all(&mut store, &all, T0 + 1, payload);
    assert!(again.iter().all(|o| *o == InsertOutcome::Duplicate));
    assert_eq!(count(&path, "SELECT COUNT(*) FROM raw_event_blocks"), 3);
    assert_totals_exact(&store, &path);
    let csv = store.totals().unwrap().sources;
    let csv = csv.iter().find(|s| s.source == "csv").unwrap();
    assert_eq!(
        (csv.raw_events, csv.raw_records, csv.last_received_at_ms),
        (20_000, 20_000, Some(T0))
    );
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn a_changed_payload_is_a_new_version_and_the_next_delivery_compares_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let all = ids(3);
    let first = |id: &str| payload_of(id, "ig", "first");
    let second = |id: &str| payload_of(id, "tiktok", "second");
    log_all(&mut store, &all, T0, first);
    // t1 restated (twice in one file: the second is a duplicate of the first).
    let t1 = vec!["t1".to_owned(), "t1".to_owned()];
    assert_eq!(
        log_all(&mut store, &t1, T0 + 10, second),
        vec![InsertOutcome::Duplicate, InsertOutcome::Duplicate]
    );
    let versions = store.raw_event_versions("csv", "touches", "t1").unwrap();
    let payloads: Vec<&str> = versions.iter().map(|v| v.payload.as_str()).collect();
    assert_eq!(payloads, vec![first("t1"), second("t1")]);
    assert_eq!(
        versions
            .iter()
            .map(|v| v.received_at_ms)
            .collect::<Vec<_>>(),
        vec![T0, T0 + 10]
    );
    assert_eq!(versions[1].payload_sha256, payload_sha256(&second("t1")));
    // The canonical touch is the one first stored (as for rows: a restated touch is a duplicate).
    let stored = store.touches().unwrap();
    assert_eq!(stored.iter().filter(|t| t.touch_id == "t1").count(), 1);
    // The old payload again: compared against the latest, so a third version.
    log_all(&mut store, &t1[..1], T0 + 20, first);
    let versions = store.raw_event_versions("csv", "touches", "t1").unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[2].payload, first("t1"));
    // Reprocessing sees every version, in arrival order.
    let mut seen = Vec::new();
    store
        .for_each_raw_event(|e| seen.push((e.external_id, e.received_at_ms)))
        .unwrap();
    assert_eq!(
        seen,
        vec![
            ("t0".to_owned(), T0),
            ("t1".to_owned(), T0),
            ("t2".to_owned(), T0),
            ("t1".to_owned(), T0 + 10),
            ("t1".to_owned(), T0 + 20),
        ]
    );
    assert_totals_exact(&store, &path);
    let csv = store.totals().unwrap().sources;
    let csv = csv.iter().find(|s| s.source == "csv").unwrap();
    assert_eq!((csv.raw_events, csv.raw_records), (5, 3));
}

#[test]
fn rows_and_blocks_are_read_together_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let row = |id: &'static str, at: i64| {
        move |tx: &mut WriteTx<'_>| {
            tx.insert_raw_event(&NewRawEvent {
                source: "shop",
                stream: "orders",
                external_id: id,
                received_at_ms: at,
                payload: "{}",
                normalizer_version: 1,
            })
            .map(|_| ())
        }
    };
    store.write(row("o1", T0 - 5)).unwrap();
    log_all(&mut store, &ids(2), T0, |id| payload_of(id, "ig", ""));
    store.write(row("o2", T0 + 5)).unwrap();
    store.write(row("o3", T0)).unwrap();
    let mut seen = Vec::new();
    store
        .for_each_raw_event(|e| seen.push(e.external_id))
        .unwrap();
    // By arrival; at one instant rows first.
    assert_eq!(seen, vec!["o1", "t0", "t1", "o2", "o3"]);
    assert_totals_exact(&store, &path);
}

#[test]
fn a_touch_stored_with_a_raw_events_row_keeps_getting_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    // As an import before 0021 stored it.
    store
        .write(|tx| {
            let raw = tx.insert_raw_event(&NewRawEvent {
                source: "csv",
                stream: "touches",
                external_id: "t0",
                received_at_ms: T0,
                payload: &payload_of("t0", "ig", "old"),
                normalizer_version: 1,
            })?;
            tx.insert_touch(&Touch {
                raw_event_id: Some(raw.raw_event_id()),
                ..touch("t0", None, "anon-t0")
            })
        })
        .unwrap();
    let t0 = vec!["t0".to_owned()];
    assert_eq!(
        log_all(&mut store, &t0, T0 + 1, |id| payload_of(id, "ig", "old")),
        vec![InsertOutcome::Duplicate]
    );
    log_all(&mut store, &t0, T0 + 2, |id| payload_of(id, "ig", "new"));
    assert_eq!(count(&path, "SELECT COUNT(*) FROM raw_event_blocks"), 0);
    let versions = store.raw_event_versions("csv", "touches", "t0").unwrap();
    assert_eq!(versions.len(), 2);
    assert!(versions.iter().all(|v| v.raw_event_id > 0));
    assert_totals_exact(&store, &path);
}

#[test]
fn a_transaction_dropped_without_commit_leaves_no_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    log_all(&mut store, &ids(10), T0, |id| payload_of(id, "ig", ""));
    let before = store.totals().unwrap();
    {
        let mut tx = store.begin().unwrap();
        // More than a block: one full block is written inside the transaction.
        for i in 0..10_000 {
            let id = format!("u{i}");
            let text = payload_of(&id, "ig", "");
            tx.log_touch(
                &touch(&id, None, "anon"),
                &NewRawEvent {
                    source: "csv",
                    stream: "touches",
                    external_id: &id,
                    received_at_ms: T0 + 1,
                    payload: &text,
                    normalizer_version: 1,
                },
                TrafficClass::Human,
            )
            .unwrap();
        }
    }
    assert_eq!(count(&path, "SELECT COUNT(*) FROM raw_event_blocks"), 1);
    assert_eq!(store.touches().unwrap().len(), 10);
    assert_eq!(store.totals().unwrap(), before);
    assert_totals_exact(&store, &path);
}

#[test]
fn erasure_empties_every_version_of_the_persons_blocked_touches_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let ann_sha = "a".repeat(64);
    let log = |store: &mut Store, id: &str, email: Option<&str>, payload: String, at: i64| {
        store
            .write(|tx| {
                tx.log_touch(
                    &touch(id, email, &format!("anon-{id}")),
                    &NewRawEvent {
                        source: "csv",
                        stream: "touches",
                        external_id: id,
                        received_at_ms: at,
                        payload: &payload,
                        normalizer_version: 1,
                    },
                    TrafficClass::Human,
                )
            })
            .unwrap()
    };
    let ann_payload =
        |v: &str| format!(r#"{{"touch_id":"ann1","email_sha256":"{ann_sha}","v":"{v}"}}"#);
    log(&mut store, "bob1", None, payload_of("bob1", "ig", ""), T0);
    log(&mut store, "ann1", Some(&ann_sha), ann_payload("1"), T0);
    log(&mut store, "bob2", None, payload_of("bob2", "ig", ""), T0);
    // A second version of Ann's touch, in a later block; the latest of the source.
    log(&mut store, "ann1", Some(&ann_sha), ann_payload("2"), T0 + 9);
    // Carol's touch quotes Ann's hash in its payload (not her touch): it goes too.
    log(
        &mut store,
        "carol1",
        None,
        format!(r#"{{"touch_id":"carol1","referrer":"{ann_sha}"}}"#),
        T0 + 9,
    );
    assert_totals_exact(&store, &path);

    let component = store
        .identity_component(&IdentityKey::new(
            IdentityKeyType::EmailSha256,
            ann_sha.clone(),
        ))
        .unwrap();
    let counts = store
        .erase_person(&ErasureRequest {
            component: &component,
            extra_terms: Vec::new(),
            requested_key_type: "email".into(),
            marker: "m".into(),
            suppression_salt: "salt".into(),
            erased_at_ms: T0 + 100,
        })
        .unwrap();
    assert_eq!((counts.touches_deleted, counts.raw_events_deleted), (1, 3));
    assert!(
        store
            .raw_event_versions("csv", "touches", "ann1")
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .raw_event_versions("csv", "touches", "carol1")
            .unwrap()
            .is_empty()
    );
    let mut seen = Vec::new();
    store
        .for_each_raw_event(|e| seen.push((e.external_id, e.payload)))
        .unwrap();
    assert_eq!(
        seen,
        vec![
            ("bob1".to_owned(), payload_of("bob1", "ig", "")),
            ("bob2".to_owned(), payload_of("bob2", "ig", "")),
        ]
    );
    // Carol's touch stays, without a payload.
    assert!(
        store
            .touches()
            .unwrap()
            .iter()
            .any(|t| t.touch_id == "carol1")
    );
    assert_totals_exact(&store, &path);
    let csv = store.totals().unwrap().sources;
    let csv = csv.iter().find(|s| s.source == "csv").unwrap();
    assert_eq!(
        (csv.raw_events, csv.raw_records, csv.last_received_at_ms),
        (2, 2, Some(T0))
    );
    // Ann's touch delivered again: suppressed before anything of it is written.
    assert_eq!(
        log(
            &mut store,
            "ann1",
            Some(&ann_sha),
            ann_payload("3"),
            T0 + 200
        ),
        InsertOutcome::Suppressed
    );
    assert!(
        store
            .raw_event_versions("csv", "touches", "ann1")
            .unwrap()
            .is_empty()
    );
    assert_totals_exact(&store, &path);
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn retention_purge_blanks_old_blocks_and_keeps_what_deduplication_needs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let old = |id: &str| payload_of(id, "ig", "old");
    log_all(&mut store, &ids(3), 1_000, old);
    log_all(&mut store, &["t9".to_owned()], 3_000, old);
    assert_eq!(store.purge_raw_payloads_before(2_000).unwrap(), 3);
    assert_eq!(store.purge_raw_payloads_before(2_000).unwrap(), 0);
    let purged = &store.raw_event_versions("csv", "touches", "t1").unwrap()[0];
    assert_eq!(purged.payload, PURGED_PAYLOAD);
    assert_eq!(purged.payload_sha256, payload_sha256(&old("t1")));
    let kept = &store.raw_event_versions("csv", "touches", "t9").unwrap()[0];
    assert_eq!(kept.payload, old("t9"));
    // The purged payloads delivered again are still recognized.
    assert!(
        log_all(&mut store, &ids(3), 4_000, old)
            .iter()
            .all(|o| *o == InsertOutcome::Duplicate)
    );
    assert_eq!(
        store
            .raw_event_versions("csv", "touches", "t1")
            .unwrap()
            .len(),
        1
    );
    assert_totals_exact(&store, &path);
    assert!(store.integrity_check().unwrap().is_empty());
}

#[test]
fn a_damaged_block_is_an_error_of_its_readers_and_of_the_recount_never_a_wrong_payload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    log_all(&mut store, &ids(100), T0, |id| payload_of(id, "ig", ""));
    // A bit flipped inside the compressed frame (SQLite's pages are intact: its checks pass).
    let conn = Connection::open(&path).unwrap();
    let mut frame: Vec<u8> = conn
        .query_row("SELECT frame_zstd FROM raw_event_blocks", [], |row| {
            row.get(0)
        })
        .unwrap();
    // One bit, in the middle of the frame (where the payloads' literal bytes are).
    let middle = frame.len() / 2;
    frame[middle] ^= 0x10;
    conn.execute("UPDATE raw_event_blocks SET frame_zstd = ?1", [frame])
        .unwrap();
    let undecodable = |result: StoreResult<()>| {
        assert!(
            matches!(result, Err(StoreError::UndecodablePayload { .. })),
            "{result:?}"
        );
    };
    undecodable(store.for_each_raw_event(|_| {}));
    undecodable(store.raw_event_versions("csv", "touches", "t5").map(|_| ()));
    undecodable(store.recount_totals().map(|_| ()));
}

/// Deduplication hashes the payload in the slot the touch points at (migration 0023 dropped the
/// stored short hash): a re-import spanning several stored blocks is all duplicates, and a
/// payload changed in the first block is still a new version.
#[test]
fn a_reimport_across_blocks_is_compared_against_the_stored_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let all = ids(9_000);
    let first = |id: &str| payload_of(id, "ig", "first");
    log_all(&mut store, &all, T0, first);
    assert_eq!(count(&path, "SELECT COUNT(*) FROM raw_event_blocks"), 2);
    let changed = |id: &str| {
        if id == "t5" {
            payload_of(id, "ig", "changed")
        } else {
            first(id)
        }
    };
    let outcomes = log_all(&mut store, &all, T0 + 10, changed);
    assert!(outcomes.iter().all(|o| *o == InsertOutcome::Duplicate));
    let versions = store.raw_event_versions("csv", "touches", "t5").unwrap();
    let payloads: Vec<&str> = versions.iter().map(|v| v.payload.as_str()).collect();
    assert_eq!(payloads, vec![first("t5"), changed("t5")]);
    assert_eq!(
        store
            .raw_event_versions("csv", "touches", "t8999")
            .unwrap()
            .len(),
        1
    );
    assert_totals_exact(&store, &path);
    let csv = store.totals().unwrap().sources;
    let csv = csv.iter().find(|s| s.source == "csv").unwrap();
    assert_eq!((csv.raw_events, csv.raw_records), (9_001, 9_000));
}

/// `compact` moves touch payloads stored as rows (an import before 0021) into blocks, one
/// transaction per 8,192 touches: stopped after the first batch, the workspace reads every
/// event with its totals exact, and the next run finishes the move, in the original order, the
/// versions of a restated touch chained across the batches' blocks.
#[test]
fn compaction_moves_touch_rows_into_blocks_resumably() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let all = ids(9_000);
    let as_rows = |store: &mut Store, ids: &[String], at: i64, extra: &str| {
        store
            .write(|tx| {
                for id in ids {
                    let payload = payload_of(id, "ig", extra);
                    let raw = tx.insert_raw_event(&NewRawEvent {
                        source: "csv",
                        stream: "touches",
                        external_id: id,
                        received_at_ms: at,
                        payload: &payload,
                        normalizer_version: 1,
                    })?;
                    tx.insert_touch(&Touch {
                        raw_event_id: Some(raw.raw_event_id()),
                        ..touch(id, None, &format!("anon-{id}"))
                    })?;
                }
                StoreResult::Ok(())
            })
            .unwrap()
    };
    as_rows(&mut store, &all, T0, "first");
    // t8500 restated later: its second version goes with the second batch's touches.
    as_rows(&mut store, &["t8500".to_owned()], T0 + 10, "second");
    drop(store);
    // What migration 0023 schedules for a workspace with such touches.
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "INSERT INTO workspace_settings (key, value) VALUES
                 ('touch_rows_to_blocks_cursor', '0'),
                 ('touch_rows_to_blocks_end', (SELECT CAST(MAX(rowid) AS TEXT) FROM touches))",
        )
        .unwrap();
    let mut store = Store::open(&path).unwrap();
    let payloads = |store: &Store| {
        let mut seen = Vec::new();
        store
            .for_each_raw_event(|e| seen.push((e.external_id, e.received_at_ms, e.payload)))
            .unwrap();
        seen
    };
    let before = payloads(&store);
    assert_eq!(before.len(), 9_001);
    assert!(store.raw_events_need_compaction().unwrap());

    let batches = std::cell::Cell::new(0);
    let stopped = store
        .compact_raw_events(T0 + 20, |_, _| batches.set(batches.get() + 1), &|| {
            batches.get() >= 1
        })
        .unwrap();
    assert!(stopped.cancelled);
    assert_eq!(stopped.events_moved_to_blocks, 8_192);
    assert_eq!(
        count(&path, "SELECT COUNT(*) FROM raw_events"),
        9_001 - 8_192
    );
    // Every event still reads back; within one arrival instant the rows not yet moved come
    // before the blocks (as rows and blocks of one instant always do) until the move finishes.
    let mut half = payloads(&store);
    let mut sorted_before = before.clone();
    half.sort();
    sorted_before.sort();
    assert_eq!(
        half, sorted_before,
        "a half-moved workspace reads every event"
    );
    assert_totals_exact(&store, &path);

    let finished = store
        .compact_raw_events(T0 + 30, |_, _| {}, &|| false)
        .unwrap();
    assert_eq!(finished.events_moved_to_blocks, 9_001 - 8_192);
    assert_eq!(count(&path, "SELECT COUNT(*) FROM raw_events"), 0);
    assert_eq!(
        count(
            &path,
            "SELECT COUNT(*) FROM touches WHERE raw_event_id IS NOT NULL OR raw_slot IS NULL"
        ),
        0
    );
    assert_eq!(payloads(&store), before);
    let versions = store.raw_event_versions("csv", "touches", "t8500").unwrap();
    let texts: Vec<&str> = versions.iter().map(|v| v.payload.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            payload_of("t8500", "ig", "first"),
            payload_of("t8500", "ig", "second")
        ]
    );
    assert_totals_exact(&store, &path);
    assert!(!store.raw_events_need_compaction().unwrap());
    // The moved payloads deduplicate a re-delivery.
    assert!(
        log_all(&mut store, &all[..100], T0 + 40, |id| payload_of(
            id, "ig", "first"
        ))
        .iter()
        .all(|o| *o == InsertOutcome::Duplicate)
    );
}
