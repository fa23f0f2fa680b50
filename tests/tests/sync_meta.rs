//! The Meta insights connector against a mock of the Marketing API: every ad-day lands once
//! (async report jobs and synchronous pages alike), a restated day replaces its spend, Meta's
//! throttling signals are honoured, a range Meta refuses as too large is split until it is
//! answered (every day still landing exactly once), and the access token — which Meta embeds
//! in its paging links — never reaches the store or an error. Deleted and archived ads, which
//! Meta leaves out of ad-level insights unless asked, are asked for and their spend lands; the
//! pinned version is the one asked for, and Meta's answer that it is retired is one clear error.

use std::sync::Arc;
use std::time::Duration;

use lookback_store::{Source, Store};
use lookback_sync::{CancellationToken, StreamOutcome, SyncError, SyncEvent};
use lookback_tests::mock::ad_ledger::AdLedger;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, fast_options, file_contains, run_sync_with, workspace_with_source,
};
use lookback_tests::mock::meta::{API_VERSION, MetaApi, TooMuchData};
use lookback_tests::mock::{MockApi, MockRequest, MockServer, parse_query};
use lookback_tests::{open_sqlite, query_i64};

const TOKEN: &str = "EAAGm0PX4ZCpsBAGoodToken7Qx";
const ACCOUNT: &str = "1234567";
const DAY_MS: i64 = 86_400_000;
/// The ledger's days, in the account's zone (America/Los_Angeles: TEST_NOW is 28 Feb there).
const FIRST_DAY: &str = "2025-06-01";
const TODAY: &str = "2026-02-28";
/// The first day a first sync reads: 365 days back, today included.
const BACKFILL_START: &str = "2025-03-01";

fn ledger() -> AdLedger {
    AdLedger::generate(
        FIRST_DAY,
        TODAY,
        &[
            ("2385", "23851"),
            ("2385", "23852"),
            ("2390", "23901"),
            ("2390", "23902"),
        ],
        10_000,
    )
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    source: Source,
    api: Arc<MetaApi>,
    server: MockServer,
}

fn fixture() -> Fixture {
    let api = Arc::new(MetaApi::new(
        TOKEN,
        ACCOUNT,
        "USD",
        "America/Los_Angeles",
        ledger(),
    ));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workspace.lookback");
    // The API root without a version, as the connector's default is: the connector adds its
    // pinned version itself.
    let (mut store, mut source) =
        workspace_with_source(&path, "meta", "meta-ads", &server.base_url);
    source.account = Some(format!("act_{ACCOUNT}"));
    store.write(|tx| tx.upsert_source(&source)).unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
        source,
        api,
        server,
    }
}

impl Fixture {
    fn sync(
        &mut self,
        token: &str,
        now_ms: i64,
        events: &mut Vec<SyncEvent>,
    ) -> lookback_sync::SyncResult<lookback_sync::SourceSyncSummary> {
        let mut options = fast_options(now_ms);
        options.page_size = Some(100);
        run_sync_with(
            &mut self.store,
            &self.source,
            token,
            &options,
            &CancellationToken::new(),
            |e| events.push(e.clone()),
        )
    }

    fn spend(&self) -> (i64, i64) {
        let conn = open_sqlite(&self.path);
        (
            query_i64(
                &conn,
                "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend WHERE platform = 'meta'",
            ),
            query_i64(
                &conn,
                "SELECT COUNT(*) FROM ad_spend WHERE platform = 'meta'",
            ),
        )
    }
}

#[test]
fn a_first_sync_lands_every_ad_day_once_in_the_accounts_zone_and_currency() {
    let mut f = fixture();
    f.api.overlap(3);
    f.api.fail_once_at_data_page(3);
    let mut events = Vec::new();
    let summary = f.sync(TOKEN, TEST_NOW_MS, &mut events).expect("sync");
    let stream = &summary.streams[0];
    assert_eq!(stream.outcome, StreamOutcome::Complete, "{summary:?}");

    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert_eq!(
        f.spend(),
        (truth_minor, truth_rows as i64),
        "ad_spend must equal the platform's numbers exactly"
    );
    let conn = open_sqlite(&f.path);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM raw_events WHERE source = 'meta-ads'"
        ),
        truth_rows as i64
    );
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"), 0);
    // Days are the account's days, with its zone and currency on every row.
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE account_timezone <> 'America/Los_Angeles' OR currency <> 'USD' OR channel <> 'paid_social'"
        ),
        0
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE day = '2026-02-28'"
        ),
        f.api.ledger(|l| l.truth(TODAY, TODAY, 2).1) as i64
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM raw_events WHERE external_id = '2025-06-02|1234567|23851'"
        ),
        1,
        "the external id is Meta's primary key (date_start, account_id, ad_id)"
    );
    assert!(
        stream.counters.duplicates > 0,
        "overlapping pages repeat rows, and they are recognised: {:?}",
        stream.counters
    );
    assert!(
        stream.counters.retries >= 1,
        "the page that failed once was retried: {:?}",
        stream.counters
    );

    // The backfill went through async report jobs (4 chunks of 90 days) and its short tail
    // through a synchronous request; every followed `paging.next` had its embedded token
    // replaced by exactly one, the engine's.
    let requests = f.server.requests();
    assert_eq!(f.api.jobs_submitted(), 4);
    assert!(
        requests.iter().any(
            |r| r.method == "GET" && r.path == format!("/{API_VERSION}/act_{ACCOUNT}/insights")
        )
    );
    let followed: Vec<_> = requests
        .iter()
        .filter(|r| r.query("after").is_some())
        .collect();
    assert!(!followed.is_empty());
    for request in followed {
        assert_eq!(
            request
                .query_pairs
                .iter()
                .filter(|(k, _)| k == "access_token")
                .count(),
            1,
            "{}",
            request.target
        );
    }
    for request in requests.iter().filter(|r| r.method == "POST") {
        let form = parse_query(&String::from_utf8_lossy(&request.body));
        assert!(
            form.iter().any(|(k, v)| k == "time_increment" && v == "1")
                && form.iter().any(|(k, v)| k == "level" && v == "ad")
        );
    }
    drop(conn);
    assert!(
        !file_contains(&f.path, TOKEN),
        "the access token must never be stored"
    );

    // A second sync at the same instant changes nothing.
    let before = lookback_tests::mock::harness::table_dump(&f.path);
    f.sync(TOKEN, TEST_NOW_MS, &mut Vec::new())
        .expect("second sync");
    let after = lookback_tests::mock::harness::table_dump(&f.path);
    assert_eq!(before, after);
}

#[test]
fn a_resync_after_meta_restates_days_replaces_their_spend_and_rereads_28_days() {
    let mut f = fixture();
    f.api.polls_before_complete(0);
    f.sync(TOKEN, TEST_NOW_MS, &mut Vec::new())
        .expect("first sync");
    let (first_minor, _) = f.spend();

    // Attribution windows restate the last weeks; an older day changes too, outside the
    // window (it is not re-read, by design), and two new days arrive.
    let old_day = "2025-12-01";
    let (old_before, _) = f.api.ledger(|l| l.truth(old_day, old_day, 2));
    f.api.ledger(|l| {
        l.restate("2026-02-01", TODAY, 10);
        l.restate(old_day, old_day, 50);
        l.extend("2026-03-01", "2026-03-02", 10_000);
    });
    let (old_after, _) = f.api.ledger(|l| l.truth(old_day, old_day, 2));
    f.server.clear_requests();
    f.sync(TOKEN, TEST_NOW_MS + 2 * DAY_MS, &mut Vec::new())
        .expect("incremental sync");

    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, "2026-03-02", 2));
    let (minor, rows) = f.spend();
    assert_eq!(
        rows, truth_rows as i64,
        "a restated day replaces its row, never adds one"
    );
    assert_eq!(
        minor,
        truth_minor - old_after + old_before,
        "restated days within 28 days are updated, older ones kept"
    );
    assert!(minor > first_minor);

    // The incremental run read the 28 days before the last synced day, up to the new today,
    // in one synchronous request chain (no report job).
    let requests = f.server.requests();
    assert!(requests.iter().all(|r| r.method == "GET"));
    let ranges: Vec<String> = requests
        .iter()
        .filter_map(|r| r.query("time_range").map(str::to_owned))
        .collect();
    assert!(!ranges.is_empty());
    for range in ranges {
        assert_eq!(range, r#"{"since":"2026-01-31","until":"2026-03-02"}"#);
    }
}

#[test]
fn throttling_and_usage_signals_are_honoured_and_the_sync_completes() {
    let mut f = fixture();
    f.api.polls_before_complete(0);
    f.api.throttle_next(2);
    f.api.timeout_next(1);
    f.api.high_usage_at_data_page(2);
    let mut events = Vec::new();
    let summary = f.sync(TOKEN, TEST_NOW_MS, &mut events).expect("sync");
    let counters = &summary.streams[0].counters;
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    // The timed-out request (the backfill's 5-day tail) asked for fewer days instead.
    assert!(
        counters.retries >= 2,
        "two throttles were retried: {counters:?}"
    );
    // Meta asked for a minute (estimated_time_to_regain_access = 1); the test policy caps a
    // platform's wait at 2 s, far above the test backoff (≤ 200 ms): 2 × 2 s proves the
    // platform's wait was used.
    assert!(counters.waited >= Duration::from_secs(4), "{counters:?}");
    // One pause for the usage header at 95 %, besides the one after each job submission.
    let pauses = events
        .iter()
        .filter(|e| matches!(e, SyncEvent::Waiting { reason, .. } if reason.contains("slow down")))
        .count();
    assert_eq!(pauses as u64, f.api.jobs_submitted() + 1, "{events:?}");
    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));
}

#[test]
fn an_invalid_token_stops_the_source_with_a_clear_error_that_never_shows_the_token() {
    let mut f = fixture();
    let wrong = "EAAGwrongTokenZZ9931";
    let error = f
        .sync(wrong, TEST_NOW_MS, &mut Vec::new())
        .expect_err("the token is refused");
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("meta") && message.contains("Invalid OAuth access token"),
        "{message}"
    );
    assert!(!message.contains(wrong), "{message}");
    assert!(!file_contains(&f.path, wrong));
    assert_eq!(f.spend(), (0, 0));
}

#[test]
fn a_failed_report_job_is_asked_again_for_half_its_range_and_every_day_lands_once() {
    let mut f = fixture();
    f.api.polls_before_complete(0);
    f.api.fail_next_job();
    let summary = f
        .sync(TOKEN, TEST_NOW_MS, &mut Vec::new())
        .expect("the run ends");
    assert_eq!(
        summary.streams[0].outcome,
        StreamOutcome::Complete,
        "a failed job does not stop the stream: {summary:?}"
    );
    assert!(
        f.api.jobs_submitted() >= 2,
        "the failed job's range was asked again"
    );
    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert_eq!(
        f.spend(),
        (truth_minor, truth_rows as i64),
        "every ad-day once"
    );
    // The halves cover exactly the failed job's days: a second sync changes nothing.
    let before = f.spend();
    f.sync(TOKEN, TEST_NOW_MS, &mut Vec::new())
        .expect("second sync");
    assert_eq!(f.spend(), before);
}

/// The (since, until) of every synchronous insights request's first page that the mock
/// answered (not refused for its length), in request order.
fn answered_ranges(f: &Fixture, max_days: i64) -> Vec<(String, String)> {
    f.server
        .requests()
        .iter()
        .filter(|r| {
            r.method == "GET" && r.path.ends_with("/insights") && r.query("after").is_none()
        })
        .filter_map(|r| {
            let range: serde_json::Value = serde_json::from_str(r.query("time_range")?).ok()?;
            let day = |key: &str| range[key].as_str().map(str::to_owned);
            Some((day("since")?, day("until")?))
        })
        .filter(|(since, until)| {
            let days = lookback_tests::mock::ad_ledger::day_number(until)
                - lookback_tests::mock::ad_ledger::day_number(since)
                + 1;
            days <= max_days
        })
        .collect()
}

#[test]
fn a_range_meta_refuses_as_too_large_is_halved_until_answered_and_every_day_lands_once() {
    let mut f = fixture();
    f.api.polls_before_complete(0);
    f.api.overlap(2);
    // The backfill's report jobs are not limited; its synchronous 5-day tail is.
    f.api.refuse_ranges_longer_than(3, TooMuchData::ReduceData);
    let summary = f
        .sync(TOKEN, TEST_NOW_MS, &mut Vec::new())
        .expect("first sync");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    assert_eq!(
        answered_ranges(&f, 3),
        [("2026-02-24", "2026-02-26"), ("2026-02-27", "2026-02-28")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));

    // The incremental sync's 31 days, refused as query timeouts above 4 days: 31 → 16 → 8 → 4,
    // then the rest of the window in 4-day requests that tile it without a gap or an overlap.
    f.api.refuse_ranges_longer_than(4, TooMuchData::Timeout);
    f.api
        .ledger(|l| l.extend("2026-03-01", "2026-03-02", 10_000));
    f.server.clear_requests();
    let refused_before = f.api.refused_ranges();
    let summary = f
        .sync(TOKEN, TEST_NOW_MS + 2 * DAY_MS, &mut Vec::new())
        .expect("incremental sync");
    let counters = &summary.streams[0].counters;
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    assert_eq!(
        f.api.refused_ranges() - refused_before,
        3,
        "31, 16 and 8 days"
    );
    assert_eq!(counters.retries, 0, "a refused range is split, not retried");
    let ranges = answered_ranges(&f, 4);
    let mut expected_since = "2026-01-31".to_owned();
    for (since, until) in &ranges {
        assert_eq!(since, &expected_since, "{ranges:?}");
        let until_day = lookback_tests::mock::ad_ledger::day_number(until);
        assert!(until_day - lookback_tests::mock::ad_ledger::day_number(since) < 4);
        expected_since = lookback_tests::mock::ad_ledger::day_text(until_day + 1);
    }
    assert_eq!(
        expected_since, "2026-03-03",
        "the window ends today: {ranges:?}"
    );

    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, "2026-03-02", 2));
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));
    let conn = open_sqlite(&f.path);
    assert_eq!(
        query_i64(&conn, "SELECT COUNT(*) FROM raw_events"),
        query_i64(&conn, "SELECT COUNT(DISTINCT external_id) FROM raw_events"),
        "no ad day was stored twice"
    );
    assert_eq!(
        query_i64(&conn, "SELECT COUNT(*) FROM raw_events"),
        truth_rows as i64
    );
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"), 0);
}

#[test]
fn a_single_day_meta_keeps_refusing_is_retried_then_dead_lettered_and_a_later_sync_reads_it() {
    let mut f = fixture();
    f.api.polls_before_complete(0);
    f.sync(TOKEN, TEST_NOW_MS, &mut Vec::new())
        .expect("first sync");
    f.api.refuse_ranges_longer_than(0, TooMuchData::ReduceData);
    let summary = f
        .sync(TOKEN, TEST_NOW_MS + 2 * DAY_MS, &mut Vec::new())
        .expect("incremental sync");
    let stream = &summary.streams[0];
    let StreamOutcome::Failed(message) = &stream.outcome else {
        panic!("{summary:?}")
    };
    assert!(message.contains("reduce the amount of data"), "{message}");
    assert_eq!(stream.counters.retries, 3, "the single day was retried");
    let conn = open_sqlite(&f.path);
    let location: String = conn
        .query_row(
            "SELECT location FROM dead_letters WHERE resolved_at_ms IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("one dead letter");
    assert!(
        location.contains("since%22%3A%222026-01-31%22%2C%22until%22%3A%222026-01-31"),
        "the dead letter is the single day's request: {location}"
    );
    drop(conn);

    // Meta answers again: the next sync reads the window from its first day.
    f.api.refuse_ranges_longer_than(31, TooMuchData::ReduceData);
    f.api
        .ledger(|l| l.extend("2026-03-01", "2026-03-02", 10_000));
    let summary = f
        .sync(TOKEN, TEST_NOW_MS + 2 * DAY_MS, &mut Vec::new())
        .expect("sync after Meta recovered");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, "2026-03-02", 2));
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));
    let conn = open_sqlite(&f.path);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM dead_letters WHERE resolved_at_ms IS NULL"
        ),
        0,
        "the request's dead letter is resolved once the stream completes"
    );
}

/// Rows the mock serves for one synchronous insights request over `day`, with and without a
/// status filter — what Meta itself does, asked directly.
fn rows_served(api: &MetaApi, day: &str, filtering: Option<&str>) -> Vec<String> {
    let mut query_pairs: Vec<(String, String)> = vec![
        ("access_token".into(), TOKEN.into()),
        ("level".into(), "ad".into()),
        ("time_increment".into(), "1".into()),
        (
            "time_range".into(),
            format!(r#"{{"since":"{day}","until":"{day}"}}"#),
        ),
        ("fields".into(), "ad_id,campaign_id,spend,date_start".into()),
    ];
    if let Some(filtering) = filtering {
        query_pairs.push(("filtering".into(), filtering.into()));
    }
    let response = api.handle(&MockRequest {
        method: "GET".into(),
        path: format!("/{API_VERSION}/act_{ACCOUNT}/insights"),
        target: String::new(),
        query_pairs,
        headers: Vec::new(),
        body: Vec::new(),
    });
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["ad_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_spend_of_deleted_and_archived_ads_lands_like_every_other_ads() {
    let mut f = fixture();
    f.api.polls_before_complete(0);
    f.api.set_ad_status("23852", "DELETED");
    f.api.set_ad_status("23901", "ARCHIVED");
    f.api.set_ad_status("23902", "PAUSED");
    // The mock behaves like Meta: without a filter, deleted and archived ads are left out.
    let day = "2026-02-10";
    let unfiltered = rows_served(&f.api, day, None);
    assert!(
        unfiltered.contains(&"23851".to_owned()) && unfiltered.contains(&"23902".to_owned()),
        "{unfiltered:?}"
    );
    assert!(
        !unfiltered.contains(&"23852".to_owned()) && !unfiltered.contains(&"23901".to_owned()),
        "{unfiltered:?}"
    );
    let every_status = r#"[{"field":"ad.effective_status","operator":"IN","value":["ACTIVE","PAUSED","DELETED","ARCHIVED"]}]"#;
    assert_eq!(rows_served(&f.api, day, Some(every_status)).len(), 4);

    let summary = f.sync(TOKEN, TEST_NOW_MS, &mut Vec::new()).expect("sync");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert_eq!(
        f.spend(),
        (truth_minor, truth_rows as i64),
        "the account's whole spend, deleted and archived ads included"
    );
    let conn = open_sqlite(&f.path);
    assert!(
        query_i64(
            &conn,
            "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend WHERE ad_id IN ('23852', '23901')"
        ) > 0
    );
    // Both kinds of request asked for every status: the async jobs and the synchronous tail.
    let requests = f.server.requests();
    let insights: Vec<_> = requests
        .iter()
        .filter(|r| r.path.ends_with(&format!("act_{ACCOUNT}/insights")))
        .collect();
    assert!(
        insights.iter().any(|r| r.method == "POST") && insights.iter().any(|r| r.method == "GET")
    );
    for request in insights {
        let mut params = request.query_pairs.clone();
        params.extend(parse_query(&String::from_utf8_lossy(&request.body)));
        let filtering = params
            .iter()
            .find(|(k, _)| k == "filtering")
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no filtering on {}", request.target));
        assert!(
            filtering.contains("DELETED") && filtering.contains("ARCHIVED"),
            "{filtering}"
        );
    }
}

#[test]
fn a_base_url_naming_a_retired_version_still_asks_for_the_pinned_one() {
    let mut f = fixture();
    f.api.polls_before_complete(0);
    f.source.base_url = Some(format!("{}/v23.0", f.server.base_url));
    f.store.write(|tx| tx.upsert_source(&f.source)).unwrap();
    let summary = f.sync(TOKEN, TEST_NOW_MS, &mut Vec::new()).expect("sync");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    let seen = f.api.versions_seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|v| v == API_VERSION),
        "{seen:?}"
    );
}

#[test]
fn meta_retiring_the_pinned_version_is_one_clear_error_not_a_generic_failure() {
    let mut f = fixture();
    f.api.retire_version(API_VERSION);
    let summary = f
        .sync(TOKEN, TEST_NOW_MS, &mut Vec::new())
        .expect("the run ends");
    let StreamOutcome::Failed(message) = &summary.streams[0].outcome else {
        panic!("{summary:?}")
    };
    let retired = SyncError::ApiVersionRetired {
        platform: "Meta".into(),
        version: API_VERSION.into(),
        date: None,
    }
    .to_string();
    assert_eq!(
        retired,
        format!("Meta retired API version {API_VERSION}; this Lookback needs an update")
    );
    assert!(message.contains(&retired), "{message}");
    assert_eq!(
        summary.streams[0].counters.retries, 0,
        "no retry helps: {summary:?}"
    );
    let conn = open_sqlite(&f.path);
    let last_error: String = conn
        .query_row(
            "SELECT last_error FROM sources WHERE source_id = 'meta-ads'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(last_error.contains(&retired), "{last_error}");
    assert_eq!(f.spend(), (0, 0));
}
