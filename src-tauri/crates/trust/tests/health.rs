//! Data health metrics on a hand-built store: each metric — records in the last 24 h against
//! the usual day, a volume drop, error rate, retries, unknown fields and schema dead letters —
//! is planted for one source and must be found for it, and only for it.

mod common;

use common::{DAY_MS, T0};
use lookback_store::{NewDeadLetter, NewRawEvent, NewSyncRun, Source, Store, SyncRunOutcome};
use lookback_trust::{HealthPolicy, HealthState, SourceHealthState, source_health_states};

const NOW: i64 = T0 + 40 * DAY_MS;

fn source(id: &str, created_at_ms: i64) -> Source {
    Source {
        source_id: id.into(),
        kind: "generic".into(),
        name: id.into(),
        base_url: None,
        account: None,
        credential_ref: None,
        created_at_ms,
        last_attempt_at_ms: None,
        last_success_at_ms: None,
        last_error: None,
    }
}

/// `n` raw events of `source` received inside the 24-hour window `days_ago` before `NOW`.
fn received(store: &mut Store, source: &str, days_ago: i64, n: usize) {
    let mut tx = store.begin().unwrap();
    for i in 0..n {
        let id = format!("{source}-{days_ago}-{i}");
        tx.insert_raw_event(&NewRawEvent {
            source,
            stream: "events",
            external_id: &id,
            // Spread over the window, never on its edges.
            received_at_ms: NOW - days_ago * DAY_MS - 1_000 - (i as i64) * 60_000,
            payload: "{}",
            normalizer_version: 1,
        })
        .unwrap();
    }
    tx.commit().unwrap();
}

fn run(source: &str, started_at_ms: i64, outcome: SyncRunOutcome, retries: u64) -> NewSyncRun {
    NewSyncRun {
        source_id: source.into(),
        started_at_ms,
        finished_at_ms: started_at_ms + 5_000,
        outcome,
        pages: 1,
        records: 10,
        inserted: 10,
        new_versions: 0,
        dead_letters: 0,
        unknown_fields: 2,
        retries,
        error: (outcome == SyncRunOutcome::Failed).then(|| "HTTP 500".into()),
    }
}

fn dead_letter(source: &str, reason: &str, created_at_ms: i64) -> NewDeadLetter {
    NewDeadLetter {
        source: source.into(),
        stream: "events".into(),
        location: "page 3".into(),
        reason: reason.into(),
        payload: "{}".into(),
        created_at_ms,
    }
}

fn planted(dir: &std::path::Path) -> Vec<SourceHealthState> {
    let mut store = Store::create(dir.join("w.lookback")).unwrap();
    let mut tx = store.begin().unwrap();
    for (id, created) in [
        ("busy", NOW - 30 * DAY_MS),
        ("steady", NOW - 30 * DAY_MS),
        ("quiet", NOW - 30 * DAY_MS),
        ("young", NOW - 2 * DAY_MS),
    ] {
        tx.upsert_source(&source(id, created)).unwrap();
        tx.record_sync_success(id, NOW - 60_000).unwrap();
    }
    // busy: its runs of the last 7 days — 3 complete, 1 failed, 1 cancelled (left out of the
    // rate) — and a failed run 8 days ago, outside the window.
    for (at, outcome, retries) in [
        (NOW - DAY_MS, SyncRunOutcome::Complete, 0),
        (NOW - 2 * DAY_MS, SyncRunOutcome::Complete, 2),
        (NOW - 3 * DAY_MS, SyncRunOutcome::Failed, 3),
        (NOW - 4 * DAY_MS, SyncRunOutcome::Complete, 0),
        (NOW - 5 * DAY_MS, SyncRunOutcome::Cancelled, 1),
        (NOW - 8 * DAY_MS, SyncRunOutcome::Failed, 50),
    ] {
        tx.insert_sync_run(&run("busy", at, outcome, retries))
            .unwrap();
    }
    tx.insert_sync_run(&run("steady", NOW - DAY_MS, SyncRunOutcome::Complete, 0))
        .unwrap();
    // busy: two schema dead letters in the window, one bad value (not drift) and one schema
    // dead letter from before the window.
    for (reason, at) in [
        ("required field event_id is missing", NOW - DAY_MS),
        (
            "field amount should be a string, found a number",
            NOW - 2 * DAY_MS,
        ),
        ("field currency: unknown currency \"XXX\"", NOW - DAY_MS),
        ("required field occurred_at is missing", NOW - 9 * DAY_MS),
    ] {
        tx.insert_dead_letter(&dead_letter("busy", reason, at))
            .unwrap();
    }
    tx.commit().unwrap();

    // busy: about 20 a day for two weeks (a backfill of 500 on its first day), 5 in the last
    // 24 h: a drop.
    let busy = [0, 18, 22, 20, 19, 21, 20, 20, 23, 17, 20, 20, 20, 20, 500];
    // steady: 20 a day, 12 in the last 24 h: 60 %, no drop.
    // quiet: 4 a day, none in the last 24 h: below the minimum usual, no drop.
    for (days_ago, n) in busy.iter().enumerate().skip(1) {
        received(&mut store, "busy", days_ago as i64, *n);
        received(&mut store, "steady", days_ago as i64, 20);
        received(&mut store, "quiet", days_ago as i64, 4);
    }
    received(&mut store, "busy", 0, 5);
    received(&mut store, "busy", 20, 300); // older than the 14 usual days: not counted
    received(&mut store, "steady", 0, 12);
    // young: added two days ago — one whole window, too few for a usual day.
    received(&mut store, "young", 0, 3);
    received(&mut store, "young", 1, 40);
    source_health_states(&store, NOW, HealthPolicy::default()).unwrap()
}

#[test]
fn every_metric_is_found_for_the_source_it_was_planted_in() {
    let dir = tempfile::tempdir().unwrap();
    let states = planted(dir.path());
    let of = |id: &str| states.iter().find(|s| s.source_id == id).unwrap().clone();

    let busy = of("busy");
    assert_eq!(busy.state, HealthState::Ok);
    assert_eq!(busy.records_last_24h, 5);
    assert_eq!(busy.usual_daily_records, Some(20), "median, not the mean");
    assert!(busy.volume_drop);
    assert_eq!((busy.sync_runs, busy.failed_runs), (4, 1));
    assert_eq!(busy.error_rate_text().as_deref(), Some("0.25"));
    assert_eq!(
        busy.retries, 6,
        "cancelled runs' retries count, older runs' do not"
    );
    assert_eq!(busy.unknown_fields, 10);
    assert_eq!(busy.schema_dead_letters, 2);
    assert_eq!(busy.unresolved_dead_letters, 4);

    let steady = of("steady");
    assert_eq!(
        (steady.records_last_24h, steady.usual_daily_records),
        (12, Some(20))
    );
    assert!(!steady.volume_drop, "60 % of the usual is not a drop");
    assert_eq!(steady.error_rate_text().as_deref(), Some("0.00"));
    assert_eq!(
        (
            steady.retries,
            steady.schema_dead_letters,
            steady.unknown_fields
        ),
        (0, 0, 2)
    );

    let quiet = of("quiet");
    assert_eq!(
        (quiet.records_last_24h, quiet.usual_daily_records),
        (0, Some(4))
    );
    assert!(
        !quiet.volume_drop,
        "a usual day under 10 records is too small to judge"
    );

    let young = of("young");
    assert_eq!(
        (young.records_last_24h, young.usual_daily_records),
        (3, None)
    );
    assert!(!young.volume_drop);
    assert_eq!((young.sync_runs, young.error_rate_text()), (0, None));
}

#[test]
fn the_volume_threshold_and_windows_follow_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    store
        .write(|tx| tx.upsert_source(&source("s", NOW - 30 * DAY_MS)))
        .unwrap();
    for days_ago in 1..=14 {
        received(&mut store, "s", days_ago, 20);
    }
    received(&mut store, "s", 0, 12);
    let strict = HealthPolicy {
        volume_drop_percent: 75,
        ..HealthPolicy::default()
    };
    let s = &source_health_states(&store, NOW, strict).unwrap()[0];
    assert!(s.volume_drop, "12 < 75 % of 20");
    let short = HealthPolicy {
        usual_days: 2,
        ..HealthPolicy::default()
    };
    let s = &source_health_states(&store, NOW, short).unwrap()[0];
    assert_eq!(s.usual_daily_records, None, "two windows are too few");
}
