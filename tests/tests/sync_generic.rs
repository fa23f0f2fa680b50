//! The generic attribution API connector against its loopback mock: every event lands exactly
//! once through duplicates, throttling and a failing page; a second sync changes nothing; late
//! events arrive; schema drift becomes dead letters without stopping the sync; a refused token
//! gives a clear message that never contains the token; a cancelled sync resumes to the same
//! store as an uninterrupted one.

use std::sync::Arc;
use std::time::Duration;

use lookback_sync::{CancellationToken, StreamOutcome, SyncError, SyncEvent};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, fast_options, file_contains, run_sync, run_sync_with, table_dump,
    workspace_with_source,
};
use serde_json::json;

const TOKEN: &str = "gen-secret-token-5f2c9a";

fn clicks_conversions_refunds(n: usize) -> (i64, i64, i64) {
    let (mut clicks, mut conversions, mut refunds) = (0, 0, 0);
    for i in 0..n {
        match i % 10 {
            0..=6 => clicks += 1,
            7 | 8 => conversions += 1,
            _ => refunds += 1,
        }
    }
    (clicks, conversions, refunds)
}

#[test]
fn every_event_lands_exactly_once_and_a_second_sync_changes_nothing() {
    let api = Arc::new(GenericApi::new(TOKEN, 2_345));
    api.overlap(7); // every page repeats 7 events of the page before
    api.fail_once_at_page(2); // a 500 that passes
    api.throttle_next(1); // a 429 + Retry-After first
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    let mut options = fast_options(TEST_NOW_MS);
    options.page_size = Some(500);

    let summary = run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("sync");
    let events = &summary.streams[0];
    assert_eq!(events.outcome, StreamOutcome::Complete);
    assert_eq!(events.counters.inserted, 2_345);
    assert_eq!(
        events.counters.duplicates,
        4 * 7,
        "each page after the first repeats 7 events"
    );
    assert_eq!(
        events.counters.retries, 2,
        "one 429 and one 500 were retried"
    );
    assert_eq!(events.counters.dead_letters, 0);
    let (clicks, conversions, refunds) = clicks_conversions_refunds(2_345);
    assert_eq!(count(&path, "raw_events"), 2_345);
    assert_eq!(count(&path, "touches"), clicks);
    assert_eq!(count(&path, "orders"), conversions);
    assert_eq!(count(&path, "order_adjustments"), refunds);
    assert_eq!(count(&path, "dead_letters"), 0);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.query("limit") == Some("500"))
    );
    assert!(
        !file_contains(&path, "@example.com"),
        "raw e-mail addresses must not be stored"
    );

    let before = table_dump(&path);
    let again = run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("second sync");
    assert_eq!(again.streams[0].counters.inserted, 0);
    assert_eq!(table_dump(&path), before, "a second sync changes nothing");
    let health = lookback_sync::source_health(&store, TEST_NOW_MS + 60_000).unwrap();
    assert_eq!(health[0].lag_ms, Some(60_000));
    assert_eq!(health[0].records, 2_345);
    assert_eq!(health[0].last_error, None);
}

#[test]
fn events_that_arrive_later_are_picked_up_from_the_checkpoint() {
    let api = Arc::new(GenericApi::new(TOKEN, 100));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    run_sync(&mut store, &source, TOKEN).expect("first sync");
    assert_eq!(count(&path, "order_adjustments"), 10);

    api.append(vec![
        json!({"event_id": "late-refund", "event_type": "refund", "occurred_at": "2026-02-01T10:00:00Z",
               "order_id": "o7", "amount": "5.50", "currency": "USD"}),
        json!({"event_id": "late-click", "event_type": "click", "occurred_at": "2026-02-01T09:00:00+01:00",
               "creator_id": "cr9", "click_id": "clk-late"}),
    ]);
    server.clear_requests();
    let summary = run_sync(&mut store, &source, TOKEN).expect("second sync");
    assert_eq!(summary.streams[0].counters.inserted, 2);
    assert_eq!(
        server.requests()[0].query("since"),
        Some("o100"),
        "resumes from the stored cursor"
    );
    assert_eq!(count(&path, "order_adjustments"), 11);
    assert_eq!(count(&path, "touches"), 71);
    let refunds: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT amount_minor FROM order_adjustments WHERE adjustment_id = 'late-refund'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refunds, 550);
}

#[test]
fn schema_drift_goes_to_dead_letters_with_reasons_and_the_sync_goes_on() {
    let api = Arc::new(GenericApi::new(TOKEN, 0));
    api.append(vec![
        json!({"event_id": "ok-1", "event_type": "click", "occurred_at": "2026-02-01T10:00:00Z", "creator_id": "cr1",
               "brand_new_field": {"nested": true}}),
        json!({"event_id": "no-time", "event_type": "click", "creator_id": "cr1"}),
        json!({"event_id": "num-amount", "event_type": "conversion", "occurred_at": "2026-02-01T10:00:00Z",
               "amount": 12.5, "currency": "USD"}),
        json!({"event_id": "impression-1", "event_type": "impression", "occurred_at": "2026-02-01T10:00:00Z"}),
        json!({"event_type": "click", "occurred_at": "2026-02-01T10:00:00Z"}),
        json!({"event_id": "bad-email", "event_type": "conversion", "occurred_at": "2026-02-01T11:00:00Z",
               "amount": "3.00", "currency": "EUR", "email": "not an address"}),
    ]);
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    let summary = run_sync(&mut store, &source, TOKEN).expect("sync");
    let counters = &summary.streams[0].counters;
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    assert_eq!(counters.dead_letters, 4);
    assert_eq!(counters.unknown_fields, 1, "brand_new_field is counted");
    assert_eq!(count(&path, "touches"), 1);
    assert_eq!(
        count(&path, "orders"),
        1,
        "the order with an unusable e-mail is kept, without the e-mail"
    );
    assert!(!file_contains(&path, "not an address"));

    let letters = store.dead_letters(false).unwrap();
    let reason_of = |id: &str| {
        letters
            .iter()
            .find(|d| d.location.ends_with(&format!("record {id}")))
            .map(|d| d.reason.clone())
    };
    assert_eq!(
        reason_of("no-time").as_deref(),
        Some("required field occurred_at is missing")
    );
    assert_eq!(
        reason_of("num-amount").as_deref(),
        Some("field amount should be a string, found a number")
    );
    assert!(
        reason_of("impression-1")
            .unwrap()
            .contains("\"impression\" is not one of click, conversion, refund")
    );
    assert!(
        letters
            .iter()
            .any(|d| d.reason == "required field event_id is missing"
                && d.location.contains("item 4"))
    );
    assert!(
        letters
            .iter()
            .all(|d| d.location.starts_with("gen/events page 1 record "))
    );
    assert!(
        store.raw_event_versions("gen", "events", "ok-1").unwrap()[0]
            .payload
            .contains("brand_new_field")
    );

    // A second sync re-reads nothing new and adds no second dead letter.
    run_sync(&mut store, &source, TOKEN).expect("second sync");
    assert_eq!(store.dead_letters(false).unwrap().len(), 4);

    // Replay after a fix: here the data was corrected at the source of the dead letter.
    let fixed = letters
        .iter()
        .find(|d| d.location.ends_with("record num-amount"))
        .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE dead_letters SET payload = replace(payload, '12.5', '\"12.50\"') WHERE dead_letter_id = ?1", [fixed.dead_letter_id])
        .unwrap();
    let replay = lookback_sync::replay_dead_letters(&mut store, &source, TEST_NOW_MS).unwrap();
    assert_eq!(
        (replay.examined, replay.resolved, replay.still_failing),
        (4, 1, 3)
    );
    assert_eq!(count(&path, "orders"), 2);
    assert_eq!(store.dead_letters(false).unwrap().len(), 3);
}

#[test]
fn a_refused_token_gives_a_clear_message_without_the_token() {
    let api = Arc::new(GenericApi::new(TOKEN, 10));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    let wrong = "wrong-token-0b7e41d9";
    let error = run_sync(&mut store, &source, wrong).expect_err("401 must fail");
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("refused the credential (HTTP 401)"),
        "{message}"
    );
    assert!(
        message.contains("needs reconnecting: run `lookback source reconnect gen`"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    let stored = store.sources().unwrap().remove(0);
    assert!(
        stored
            .last_error
            .unwrap()
            .contains("refused the credential")
    );
    drop(store);
    assert!(
        !file_contains(&path, wrong),
        "the token must never reach the store"
    );
    assert!(!file_contains(&path, TOKEN));
}

#[test]
fn a_page_that_keeps_failing_is_dead_lettered_then_resolved_by_the_next_good_sync() {
    let api = Arc::new(GenericApi::new(TOKEN, 50));
    api.fail_always(true);
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    let summary = run_sync(&mut store, &source, TOKEN).expect("the run ends");
    let StreamOutcome::Failed(error) = &summary.streams[0].outcome else {
        panic!("{summary:?}")
    };
    assert!(
        error.contains("gave up after 4 attempts") && error.contains("HTTP 500"),
        "{error}"
    );
    assert_eq!(summary.streams[0].counters.retries, 3);
    assert_eq!(server.requests().len(), 4, "bounded attempts");
    let letters = store.dead_letters(false).unwrap();
    assert_eq!(letters.len(), 1);
    assert!(
        letters[0]
            .location
            .starts_with("request events page 1: http://127.0.0.1"),
        "{}",
        letters[0].location
    );
    assert!(
        store.sources().unwrap()[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("gave up")
    );
    assert_eq!(store.checkpoint("gen", "events").unwrap(), None);

    api.fail_always(false);
    run_sync(&mut store, &source, TOKEN).expect("recovered");
    assert_eq!(count(&path, "raw_events"), 50);
    assert!(
        store.dead_letters(false).unwrap().is_empty(),
        "the page-level dead letter is resolved"
    );
    assert_eq!(store.sources().unwrap()[0].last_error, None);
}

#[test]
fn a_cancelled_sync_resumes_to_the_same_store_as_an_uninterrupted_one() {
    let api = Arc::new(GenericApi::new(TOKEN, 1_000));
    api.overlap(3);
    api.page_delay(Duration::from_millis(20));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let mut options = fast_options(TEST_NOW_MS);
    options.page_size = Some(50);

    let whole = dir.path().join("whole.lookback");
    let (mut store, source) = workspace_with_source(&whole, "generic", "gen", &server.base_url);
    run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("uninterrupted");

    let parts = dir.path().join("parts.lookback");
    let (mut store, source) = workspace_with_source(&parts, "generic", "gen", &server.base_url);
    let cancel = CancellationToken::new();
    let mut pages_seen = 0;
    let result = run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &options,
        &cancel.clone(),
        |event| {
            if let SyncEvent::PageCommitted { counters, .. } = event {
                pages_seen = counters.pages;
                if counters.pages == 5 {
                    cancel.cancel();
                }
            }
        },
    );
    assert!(matches!(result, Err(SyncError::Cancelled)), "{result:?}");
    assert_eq!(pages_seen, 5);
    assert_eq!(
        count(&parts, "raw_events"),
        250,
        "five committed pages of 50"
    );
    assert!(store.checkpoint("gen", "events").unwrap().is_some());
    run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("resume");
    assert_eq!(table_dump(&parts), table_dump(&whole));
}

#[test]
fn the_page_size_never_exceeds_the_contract_limit() {
    let api = Arc::new(GenericApi::new(TOKEN, 2_500));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    let mut options = fast_options(TEST_NOW_MS);
    options.page_size = Some(5_000);
    run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("sync");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.query("limit") == Some("1000")));
    assert!(
        requests.iter().all(|r| !r.target.contains(TOKEN)),
        "the token travels in a header only"
    );
    assert_eq!(count(&path, "raw_events"), 2_500);
}

#[test]
fn pages_a_slow_writer_batches_land_once_each_with_the_last_pages_checkpoint() {
    // The writer stalls on its first page (the progress callback runs on the writer), so the
    // fetcher fills the channel and the following pages are written several per transaction.
    let api = Arc::new(GenericApi::new(TOKEN, 1_000));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    let mut options = fast_options(TEST_NOW_MS);
    options.page_size = Some(50);
    let mut seen = Vec::new();
    let summary = run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &options,
        &CancellationToken::new(),
        |event| {
            if let SyncEvent::PageCommitted { counters, .. } = event {
                if counters.pages == 1 {
                    std::thread::sleep(Duration::from_millis(300));
                }
                seen.push(counters.pages);
            }
        },
    )
    .expect("sync");
    assert_eq!(
        seen,
        (1..=20).collect::<Vec<u64>>(),
        "one progress event per page, in order"
    );
    assert_eq!(summary.streams[0].counters.inserted, 1_000);
    assert_eq!(count(&path, "raw_events"), 1_000);
    assert_eq!(
        count(&path, "touches") + count(&path, "orders") + count(&path, "order_adjustments"),
        1_000
    );
    let again = run_sync(&mut store, &source, TOKEN).expect("second sync");
    assert_eq!(
        again.streams[0].counters.inserted, 0,
        "the checkpoint covers every batched page"
    );
    assert_eq!(again.streams[0].counters.records, 0);
}

#[test]
fn synced_clicks_are_classified_from_their_user_agent_and_headers_and_the_agent_is_not_kept() {
    let api = Arc::new(GenericApi::new(TOKEN, 0));
    api.append(vec![
        json!({"event_id": "c-preview", "event_type": "click", "occurred_at": "2026-02-01T09:00:00Z",
               "creator_id": "cr1", "click_id": "clk-preview", "anonymous_id": "v1",
               "user_agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}),
        json!({"event_id": "c-prefetch", "event_type": "click", "occurred_at": "2026-02-01T09:05:00Z",
               "creator_id": "cr1", "click_id": "clk-prefetch", "anonymous_id": "v2",
               "headers": {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36 LbTestAgent",
                           "Accept": "text/html", "Accept-Language": "en-US", "Sec-Purpose": "prefetch;prerender"}}),
        json!({"event_id": "c-person", "event_type": "click", "occurred_at": "2026-02-01T09:10:00Z",
               "creator_id": "cr1", "click_id": "clk-person", "anonymous_id": "v3",
               "headers": {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15 LbTestAgent",
                           "Accept": "text/html", "Accept-Language": "de-DE"}}),
    ]);
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "gen", &server.base_url);
    run_sync(&mut store, &source, TOKEN).expect("sync");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let verdict = |click: &str| -> (i64, Option<String>, Option<String>) {
        conn.query_row(
            "SELECT t.traffic_class, f.rule, f.family FROM touches t
             LEFT JOIN touch_traffic f ON f.touch_id = t.touch_id WHERE t.click_id = ?1",
            [click],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
    };
    assert_eq!(
        verdict("clk-preview"),
        (
            2,
            Some("slack-preview".into()),
            Some("slack-preview".into())
        )
    );
    assert_eq!(
        verdict("clk-prefetch"),
        (2, Some("prefetch-header".into()), None)
    );
    assert_eq!(verdict("clk-person"), (0, None, None));
    // The user agents themselves were redacted before anything was stored.
    assert!(!file_contains(&path, "LbTestAgent"));
    assert!(!file_contains(&path, "Slackbot-LinkExpanding 1.0"));
}
