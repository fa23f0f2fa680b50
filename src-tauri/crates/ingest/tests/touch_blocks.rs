//! The CSV import of touches keeps raw payloads in compressed blocks (migration 0021): a
//! re-import is all duplicates and writes nothing, a restated row is a new version readable
//! byte for byte, an import that fails leaves no block, and the blocked payloads read back
//! exactly as the same payloads stored as `raw_events` rows do. A file that mixes new and
//! stored touches, and repeats its own rows, counts each row once.

use std::io::{self, Read};

use lookback_ingest::{ImportKind, import_csv_reader};
use lookback_store::{NewRawEvent, RawEvent, Store, Table};

const NOW: i64 = 1_750_000_000_000;

/// A touch file of `rows` rows; row `changed` (if any) on another channel.
fn touches_csv(rows: usize, changed: Option<usize>) -> String {
    let mut csv =
        String::from("touch_id,occurred_at,channel,anonymous_id,email,creator_id,utm_note\n");
    for i in 0..rows {
        let email = if i % 3 == 0 {
            format!("user{}@example.com", i % 500)
        } else {
            String::new()
        };
        let channel = if Some(i) == changed { "tiktok" } else { "ig" };
        csv.push_str(&format!(
            "t{i},2025-03-{:02}T{:02}:{:02}:00Z,{channel}{},anon-{},{email},cr_{},\"Zoë, \"\"{i}\"\"\"\n",
            1 + i % 28,
            i % 24,
            i % 60,
            i % 7,
            i % 1000,
            i % 50
        ));
    }
    csv
}

fn csv_events(store: &Store) -> (u64, u64) {
    let sources = store.totals().unwrap().sources;
    let csv = sources.iter().find(|s| s.source == "csv").unwrap();
    (csv.raw_events, csv.raw_records)
}

fn events(store: &Store) -> Vec<RawEvent> {
    let mut all = Vec::new();
    store.for_each_raw_event(|e| all.push(e)).unwrap();
    all
}

#[test]
fn a_touch_file_imported_twice_is_all_duplicates_and_a_restated_row_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    let csv = touches_csv(20_000, None);
    let first = import_csv_reader(
        &mut store,
        ImportKind::Touches,
        csv.as_bytes(),
        "a.csv",
        NOW,
    )
    .unwrap();
    assert_eq!(
        (first.imported, first.duplicates, first.rejected),
        (20_000, 0, 0)
    );
    assert_eq!(store.row_count(Table::RawEvents).unwrap(), 0);
    assert_eq!(csv_events(&store), (20_000, 20_000));

    let again = import_csv_reader(
        &mut store,
        ImportKind::Touches,
        csv.as_bytes(),
        "a.csv",
        NOW + 1,
    )
    .unwrap();
    assert_eq!((again.imported, again.duplicates), (0, 20_000));
    assert_eq!(csv_events(&store), (20_000, 20_000));

    // Row 12,345 restated: a duplicate touch, its new payload a second version.
    let restated = touches_csv(20_000, Some(12_345));
    let third = import_csv_reader(
        &mut store,
        ImportKind::Touches,
        restated.as_bytes(),
        "b.csv",
        NOW + 2,
    )
    .unwrap();
    assert_eq!((third.imported, third.duplicates), (0, 20_000));
    assert_eq!(csv_events(&store), (20_001, 20_000));
    let versions = store
        .raw_event_versions("csv", "touches", "t12345")
        .unwrap();
    assert_eq!(versions.len(), 2);
    let old: serde_json::Value = serde_json::from_str(&versions[0].payload).unwrap();
    let new: serde_json::Value = serde_json::from_str(&versions[1].payload).unwrap();
    assert_eq!(
        (old["channel"].as_str(), new["channel"].as_str()),
        (Some("ig4"), Some("tiktok4"))
    );
    assert_eq!(new["utm_note"], "Zoë, \"12345\"");
    assert_eq!(versions[1].received_at_ms, NOW + 2);
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());
    assert!(store.integrity_check().unwrap().is_empty());
}

/// A reader that fails after `left` bytes, as a file on a failing disk does.
struct FailingAfter<'a> {
    bytes: &'a [u8],
    left: usize,
}

impl Read for FailingAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other("the disk went away"));
        }
        let n = buf.len().min(self.left).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn an_import_that_fails_after_whole_blocks_were_filled_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    let csv = touches_csv(30_000, None);
    // Well past the first two blocks of 8,192 rows.
    let reader = FailingAfter {
        bytes: csv.as_bytes(),
        left: csv.len() * 2 / 3,
    };
    let failed = import_csv_reader(&mut store, ImportKind::Touches, reader, "a.csv", NOW);
    assert!(failed.is_err());
    assert_eq!(store.row_count(Table::Touches).unwrap(), 0);
    assert!(events(&store).is_empty());
    assert!(
        store
            .totals()
            .unwrap()
            .sources
            .iter()
            .all(|s| s.raw_events == 0)
    );
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());
}

#[test]
fn blocked_payloads_read_back_exactly_as_the_same_payloads_kept_as_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut blocked = Store::create(dir.path().join("blocks.lookback")).unwrap();
    let csv = touches_csv(10_000, None);
    import_csv_reader(
        &mut blocked,
        ImportKind::Touches,
        csv.as_bytes(),
        "a.csv",
        NOW,
    )
    .unwrap();
    let restated = touches_csv(10_000, Some(7));
    import_csv_reader(
        &mut blocked,
        ImportKind::Touches,
        restated.as_bytes(),
        "a.csv",
        NOW + 1,
    )
    .unwrap();
    let from_blocks = events(&blocked);
    assert_eq!(from_blocks.len(), 10_001);

    // The same events written as raw_events rows, as every import did before 0021.
    let mut rows = Store::create(dir.path().join("rows.lookback")).unwrap();
    rows.write(|tx| {
        for e in &from_blocks {
            tx.insert_raw_event(&NewRawEvent {
                source: &e.source,
                stream: &e.stream,
                external_id: &e.external_id,
                received_at_ms: e.received_at_ms,
                payload: &e.payload,
                normalizer_version: e.normalizer_version,
            })?;
        }
        Ok::<_, lookback_store::StoreError>(())
    })
    .unwrap();
    let from_rows = events(&rows);
    let comparable = |e: &RawEvent| {
        (
            e.source.clone(),
            e.stream.clone(),
            e.external_id.clone(),
            e.received_at_ms,
            e.payload.clone(),
            e.payload_sha256,
            e.normalizer_version,
        )
    };
    assert_eq!(
        from_blocks.iter().map(comparable).collect::<Vec<_>>(),
        from_rows.iter().map(comparable).collect::<Vec<_>>()
    );
    assert_eq!(
        blocked
            .raw_event_versions("csv", "touches", "t7")
            .unwrap()
            .iter()
            .map(comparable)
            .collect::<Vec<_>>(),
        rows.raw_event_versions("csv", "touches", "t7")
            .unwrap()
            .iter()
            .map(comparable)
            .collect::<Vec<_>>()
    );
    // Each payload still says what the canonical touch says.
    let touches = blocked.touches().unwrap();
    let by_id: std::collections::HashMap<&str, &lookback_store::Touch> =
        touches.iter().map(|t| (t.touch_id.as_str(), t)).collect();
    for e in from_blocks.iter().filter(|e| e.received_at_ms == NOW) {
        let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap();
        let touch = by_id[e.external_id.as_str()];
        assert_eq!(payload["touch_id"], touch.touch_id.as_str());
        assert_eq!(payload["channel"], touch.channel.as_str());
        let email_sha256 = payload["email_sha256"].as_str().filter(|s| !s.is_empty());
        assert_eq!(email_sha256, touch.identity.email_sha256.as_deref());
    }
    // The counts of events and records agree too.
    let sources = |s: &Store| {
        s.totals()
            .unwrap()
            .sources
            .iter()
            .map(|t| {
                (
                    t.source.clone(),
                    t.raw_events,
                    t.raw_records,
                    t.last_received_at_ms,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(sources(&blocked), sources(&rows));
}

/// Row `i` of [`touches_csv`] under the id `id` and, if `channel` is given, on that channel.
fn touch_row(csv: &str, i: usize, id: &str, channel: Option<&str>) -> String {
    let line = csv.lines().nth(1 + i).unwrap();
    let rest = line.split_once(',').unwrap().1;
    let rest = match channel {
        Some(channel) => {
            let (at, after) = rest.split_once(',').unwrap();
            format!("{at},{channel},{}", after.split_once(',').unwrap().1)
        }
        None => rest.to_owned(),
    };
    format!("{id},{rest}\n")
}

#[test]
fn a_file_of_new_and_stored_touches_in_runs_with_repeats_counts_each_row_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    let base = touches_csv(30_000, None);
    let first_rows: String = base
        .lines()
        .take(1 + 10_000)
        .map(|l| format!("{l}\n"))
        .collect();
    import_csv_reader(
        &mut store,
        ImportKind::Touches,
        first_rows.as_bytes(),
        "a.csv",
        NOW,
    )
    .unwrap();

    // Runs of stored and new touches, each new touch also repeated later in the same file,
    // once as it was and once restated, past the point where a load stops looking each record
    // up among the raw_events rows.
    let mut mixed = String::from(base.lines().next().unwrap());
    mixed.push('\n');
    let mut new_ids = Vec::new();
    for run in 0..20 {
        for i in run * 500..run * 500 + 500 {
            mixed.push_str(&touch_row(&base, i, &format!("t{i}"), None));
        }
        for i in 10_000 + run * 1_000..10_000 + run * 1_000 + 1_000 {
            mixed.push_str(&touch_row(&base, i, &format!("t{i}"), None));
            new_ids.push(i);
        }
    }
    for &i in new_ids.iter().step_by(1_000) {
        mixed.push_str(&touch_row(&base, i, &format!("t{i}"), None));
        mixed.push_str(&touch_row(&base, i, &format!("t{i}"), Some("tiktok")));
    }
    let summary = import_csv_reader(
        &mut store,
        ImportKind::Touches,
        mixed.as_bytes(),
        "b.csv",
        NOW + 1,
    )
    .unwrap();
    assert_eq!(
        (summary.imported, summary.duplicates, summary.rejected),
        (20_000, 10_000 + 2 * 20, 0)
    );
    assert_eq!(store.row_count(Table::Touches).unwrap(), 30_000);
    // One event per new touch, plus the 20 restated ones' second versions.
    assert_eq!(csv_events(&store), (30_000 + 20, 30_000));
    let versions = store
        .raw_event_versions("csv", "touches", "t10000")
        .unwrap();
    assert_eq!(versions.len(), 2);
    assert!(versions[1].payload.contains("tiktok"));
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());
    assert!(store.integrity_check().unwrap().is_empty());

    // Imported again: no new touch. Each restated id meets its first payload again after the
    // restated one was its latest (a new version), then the restated one (another).
    let again = import_csv_reader(
        &mut store,
        ImportKind::Touches,
        mixed.as_bytes(),
        "b.csv",
        NOW + 2,
    )
    .unwrap();
    assert_eq!((again.imported, again.duplicates), (0, 30_000 + 2 * 20));
    assert_eq!(csv_events(&store), (30_000 + 20 + 2 * 20, 30_000));
    assert_eq!(store.totals().unwrap(), store.recount_totals().unwrap());
}
