//! The Google Ads connector against a mock of `googleAds:search`: every ad-group day lands
//! once across page tokens, `costMicros` becomes minor units rounded half to even, a restated
//! day replaces its spend, RESOURCE_EXHAUSTED's `retryDelay` is honoured, the developer token
//! (a second secret) is sent when the source has one and its absence is explained, and neither
//! token ever reaches the store or an error. Performance Max campaigns, which have no ad groups,
//! land at campaign level without counting anything twice; every request asks for the pinned
//! version, and Google retiring it is one clear error.

use std::sync::Arc;
use std::time::Duration;

use lookback_store::{Source, Store};
use lookback_sync::{CancellationToken, SourceSyncSummary, StreamOutcome, SyncError, SyncResult};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::AdLedger;
use lookback_tests::mock::google_ads::{API_VERSION, GoogleAdsApi};
use lookback_tests::mock::harness::{
    TEST_NOW_MS, fast_options, file_contains, run_sync_with, workspace_with_source,
};
use lookback_tests::{open_sqlite, query_i64};
use serde_json::Value;

const TOKEN: &str = "ya29.a0AfB_googleOauthToken_x1";
const DAY_MS: i64 = 86_400_000;
/// Europe/Berlin: TEST_NOW (midnight UTC) is already 1 March there.
const TODAY: &str = "2026-03-01";
const BACKFILL_START: &str = "2025-03-02";
/// Sub-cent micros, so that rounding matters.
const MICROS_STEP: i64 = 12_345;

fn ledger() -> AdLedger {
    AdLedger::generate(
        "2025-05-01",
        TODAY,
        &[("456", "7001"), ("456", "7002"), ("457", "7101")],
        MICROS_STEP,
    )
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    source: Source,
    api: Arc<GoogleAdsApi>,
    server: MockServer,
}

fn fixture(api: GoogleAdsApi, account: &str) -> Fixture {
    let api = Arc::new(api);
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workspace.lookback");
    // The API root without a version: the connector adds its pinned version itself.
    let (mut store, mut source) =
        workspace_with_source(&path, "google_ads", "google", &server.base_url);
    source.account = Some(account.to_owned());
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

fn plain() -> Fixture {
    fixture(
        GoogleAdsApi::new(TOKEN, "1234567890", "EUR", "Europe/Berlin", ledger()),
        "1234567890",
    )
}

impl Fixture {
    fn sync(&mut self, token: &str, now_ms: i64) -> SyncResult<SourceSyncSummary> {
        run_sync_with(
            &mut self.store,
            &self.source,
            token,
            &fast_options(now_ms),
            &CancellationToken::new(),
            |_| {},
        )
    }

    fn spend(&self) -> (i64, i64) {
        let conn = open_sqlite(&self.path);
        (
            query_i64(
                &conn,
                "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend WHERE platform = 'google_ads'",
            ),
            query_i64(
                &conn,
                "SELECT COUNT(*) FROM ad_spend WHERE platform = 'google_ads'",
            ),
        )
    }

    fn queries(&self) -> Vec<Value> {
        self.server
            .requests()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }
}

#[test]
fn a_first_sync_through_a_manager_lands_every_day_once_with_micros_rounded_half_even() {
    let mut f = fixture(
        GoogleAdsApi::new(TOKEN, "1234567890", "EUR", "Europe/Berlin", ledger())
            .through_manager("1112223333"),
        "111-222-3333/123-456-7890",
    );
    f.api.overlap(2);
    f.api.fail_once_at_data_page(2);
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    let stream = &summary.streams[0];
    assert_eq!(stream.outcome, StreamOutcome::Complete, "{summary:?}");

    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));
    assert!(
        stream.counters.duplicates > 0 && stream.counters.retries >= 1,
        "{:?}",
        stream.counters
    );
    let conn = open_sqlite(&f.path);
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"), 0);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE account_timezone <> 'Europe/Berlin' OR currency <> 'EUR' OR channel <> 'paid_search' OR account_id <> '1234567890'"
        ),
        0
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE day = '2026-03-01'"
        ),
        f.api.ledger(|l| l.truth(TODAY, TODAY, 2).1) as i64
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM raw_events WHERE external_id = '1234567890|7001|2025-05-02'"
        ),
        1
    );

    // Every request went through the manager, none set a page size, and a page token was only
    // ever sent with the query it belongs to.
    let requests = f.server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("login-customer-id") == Some("1112223333"))
    );
    let queries = f.queries();
    assert!(queries.iter().all(|q| q.get("pageSize").is_none()));
    assert!(
        queries
            .iter()
            .filter(|q| q.get("pageToken").is_some())
            .count()
            >= 3
    );
    for pair in queries.windows(2) {
        if pair[1].get("pageToken").is_some() {
            assert_eq!(pair[0]["query"], pair[1]["query"]);
        }
    }
    drop(conn);
    assert!(
        !file_contains(&f.path, TOKEN),
        "the OAuth token must never be stored"
    );
}

#[test]
fn a_resync_after_restatement_replaces_spend_and_rereads_14_days() {
    let mut f = plain();
    f.sync(TOKEN, TEST_NOW_MS).expect("first sync");
    let old_day = "2026-01-10";
    let (old_before, _) = f.api.ledger(|l| l.truth(old_day, old_day, 2));
    f.api.ledger(|l| {
        l.restate("2026-02-20", TODAY, 25);
        l.restate(old_day, old_day, 40);
        l.extend("2026-03-02", "2026-03-03", MICROS_STEP);
    });
    let (old_after, _) = f.api.ledger(|l| l.truth(old_day, old_day, 2));
    f.server.clear_requests();
    let summary = f
        .sync(TOKEN, TEST_NOW_MS + 2 * DAY_MS)
        .expect("incremental sync");
    assert!(summary.streams[0].counters.new_versions > 0, "{summary:?}");

    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, "2026-03-03", 2));
    assert_eq!(
        f.spend(),
        (truth_minor - old_after + old_before, truth_rows as i64)
    );
    let report_queries: Vec<String> = f
        .queries()
        .iter()
        .filter_map(|q| {
            q["query"]
                .as_str()
                .filter(|t| t.contains("FROM ad_group"))
                .map(str::to_owned)
        })
        .collect();
    assert!(!report_queries.is_empty());
    assert!(
        report_queries
            .iter()
            .all(|q| q.contains("BETWEEN '2026-02-15' AND '2026-03-03'")),
        "{report_queries:?}"
    );
}

#[test]
fn resource_exhausted_waits_the_retry_delay_and_the_sync_completes() {
    let mut f = plain();
    f.api.throttle_next(2);
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    let counters = &summary.streams[0].counters;
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    assert!(counters.retries >= 2, "{counters:?}");
    // retryDelay "1s" twice; the test backoff alone stays under 200 ms per retry.
    assert!(counters.waited >= Duration::from_secs(2), "{counters:?}");
    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));
}

#[test]
fn an_invalid_token_or_a_missing_manager_gives_a_clear_error_without_the_token() {
    let mut f = plain();
    let wrong = "ya29.wrongGoogleToken_77";
    let error = f.sync(wrong, TEST_NOW_MS).expect_err("refused");
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("google_ads") && message.contains("authentication credential"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    assert!(!file_contains(&f.path, wrong));

    let mut f = fixture(
        GoogleAdsApi::new(TOKEN, "1234567890", "EUR", "Europe/Berlin", ledger())
            .through_manager("1112223333"),
        "1234567890",
    );
    let message = f
        .sync(TOKEN, TEST_NOW_MS)
        .expect_err("no manager")
        .to_string();
    assert!(message.contains("login-customer-id"), "{message}");
    assert_eq!(f.spend(), (0, 0));
}

#[test]
fn the_developer_token_goes_in_its_header_and_a_missing_one_is_explained_without_secrets() {
    const DEVELOPER: &str = "devTok_4f9c2a71bb0e";
    let mut f = fixture(
        GoogleAdsApi::new(TOKEN, "1234567890", "EUR", "Europe/Berlin", ledger())
            .requiring_developer_token(DEVELOPER),
        "1234567890",
    );
    let both = format!(r#"{{"access_token":"{TOKEN}","developer_token":"{DEVELOPER}"}}"#);

    // The access token alone: Google wants the developer token too.
    let Err(error) = f.sync(TOKEN, TEST_NOW_MS) else {
        panic!("a sync without the developer token must fail")
    };
    let message = error.to_string();
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{message}");
    assert!(
        message.contains("DEVELOPER_TOKEN") || message.contains("developer token"),
        "{message}"
    );
    // A wrong developer token is refused, and neither secret shows in the message.
    let wrong = format!(r#"{{"access_token":"{TOKEN}","developer_token":"devTok_wrong_77aa01"}}"#);
    let Err(error) = f.sync(&wrong, TEST_NOW_MS) else {
        panic!("a wrong developer token must fail")
    };
    let message = error.to_string();
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{message}");
    for secret in [TOKEN, DEVELOPER, "devTok_wrong_77aa01"] {
        assert!(!message.contains(secret), "{message}");
    }

    f.server.clear_requests();
    let summary = f.sync(&both, TEST_NOW_MS).expect("sync with both tokens");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    let requests = f.server.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.bearer(), Some(TOKEN));
        assert_eq!(request.header("developer-token"), Some(DEVELOPER));
    }
    let (truth_minor, truth_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    let conn = open_sqlite(&f.path);
    assert_eq!(
        (
            query_i64(&conn, "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend"),
            query_i64(&conn, "SELECT COUNT(*) FROM ad_spend")
        ),
        (truth_minor, truth_rows as i64)
    );
    drop(conn);
    for secret in [TOKEN, DEVELOPER] {
        assert!(
            !file_contains(&f.path, secret),
            "a token reached the workspace file"
        );
    }
}

#[test]
fn performance_max_spend_lands_at_campaign_level_and_nothing_is_counted_twice() {
    // Two Performance Max campaigns: they have asset groups, no ad groups, so only the
    // campaign-level query sees them.
    let pmax = AdLedger::generate(
        "2025-09-01",
        TODAY,
        &[("9001", "pmax-a"), ("9002", "pmax-b")],
        MICROS_STEP,
    );
    let mut f = fixture(
        GoogleAdsApi::new(TOKEN, "1234567890", "EUR", "Europe/Berlin", ledger())
            .with_performance_max(pmax),
        "1234567890",
    );
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    assert_eq!(
        summary.streams[0].outcome,
        StreamOutcome::Complete,
        "{summary:?}"
    );

    let (group_minor, group_rows) = f.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
    let (pmax_minor, pmax_rows) = f.api.performance_max(|l| l.truth(BACKFILL_START, TODAY, 2));
    assert!(pmax_minor > 0);
    assert_eq!(
        f.spend(),
        (group_minor + pmax_minor, (group_rows + pmax_rows) as i64),
        "the account's spend is its ad groups' plus its Performance Max campaigns'"
    );
    let conn = open_sqlite(&f.path);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend WHERE campaign_id IN ('9001', '9002') AND ad_id = ''"
        ),
        pmax_minor,
        "Performance Max spend is campaign-level (no ad group)"
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE campaign_id IN ('9001', '9002') AND ad_id <> ''"
        ),
        0
    );
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"), 0);
    // Each chunk asked for its ad groups and then its Performance Max campaigns, once each.
    let queries: Vec<String> = f
        .queries()
        .iter()
        .filter(|q| q.get("pageToken").is_none())
        .filter_map(|q| q["query"].as_str().map(str::to_owned))
        .filter(|q| !q.contains("FROM customer"))
        .collect();
    let ad_group = queries
        .iter()
        .filter(|q| q.contains("FROM ad_group"))
        .count();
    let campaign = queries
        .iter()
        .filter(|q| {
            q.contains("FROM campaign WHERE campaign.advertising_channel_type = 'PERFORMANCE_MAX'")
        })
        .count();
    assert!(ad_group >= 2 && ad_group == campaign, "{queries:?}");
    drop(conn);

    // Running it again changes nothing.
    let before = lookback_tests::mock::harness::table_dump(&f.path);
    f.sync(TOKEN, TEST_NOW_MS).expect("second sync");
    assert_eq!(before, lookback_tests::mock::harness::table_dump(&f.path));
}

#[test]
fn a_base_url_naming_a_sunset_version_still_asks_for_the_pinned_one() {
    let mut f = plain();
    f.source.base_url = Some(format!("{}/v21", f.server.base_url));
    f.store.write(|tx| tx.upsert_source(&f.source)).unwrap();
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    let requests = f.server.requests();
    assert!(!requests.is_empty());
    for request in requests {
        assert!(
            request
                .path
                .starts_with(&format!("/{API_VERSION}/customers/")),
            "{}",
            request.path
        );
    }
}

#[test]
fn google_retiring_the_pinned_version_is_one_clear_error_before_and_after_its_sunset() {
    let retired = SyncError::ApiVersionRetired {
        platform: "Google Ads".into(),
        version: API_VERSION.into(),
        date: None,
    }
    .to_string();
    for turned_off in [
        GoogleAdsApi::deprecate as fn(&GoogleAdsApi, &str),
        GoogleAdsApi::sunset,
    ] {
        let mut f = plain();
        turned_off(&f.api, API_VERSION);
        let summary = f.sync(TOKEN, TEST_NOW_MS).expect("the run ends");
        let StreamOutcome::Failed(message) = &summary.streams[0].outcome else {
            panic!("{summary:?}")
        };
        assert!(message.contains(&retired), "{message}");
        assert_eq!(summary.streams[0].counters.retries, 0, "no retry helps");
        assert_eq!(f.spend(), (0, 0));
    }
}
