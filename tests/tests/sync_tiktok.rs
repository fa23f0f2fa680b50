//! The TikTok connector against a mock of the Marketing API: reports are read in ≤ 30-day
//! chunks and paged to `total_page`, every ad-day lands once, `"-"` spend is no spend, a
//! restated day replaces its spend, errors and throttling inside HTTP 200 bodies are honoured,
//! and the access token never reaches the store or an error.

use std::sync::Arc;

use lookback_store::{Source, Store};
use lookback_sync::{CancellationToken, SourceSyncSummary, StreamOutcome, SyncError, SyncResult};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::{AdLedger, day_number};
use lookback_tests::mock::harness::{
    TEST_NOW_MS, fast_options, file_contains, run_sync_with, workspace_with_source,
};
use lookback_tests::mock::tiktok::TikTokApi;
use lookback_tests::{open_sqlite, query_i64};

const TOKEN: &str = "act.tiktokAccessToken9f8e7d";
const ADVERTISER: &str = "7000000001";
const DAY_MS: i64 = 86_400_000;
/// Asia/Tokyo: TEST_NOW (midnight UTC) is 09:00 on 1 March there.
const TODAY: &str = "2026-03-01";
const BACKFILL_START: &str = "2025-03-02";
/// Whole yen.
const MICROS_STEP: i64 = 1_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    source: Source,
    api: Arc<TikTokApi>,
    server: MockServer,
}

fn fixture() -> Fixture {
    let ledger = AdLedger::generate(
        "2025-05-01",
        TODAY,
        &[("1801", "111"), ("1801", "112"), ("1802", "1201")],
        MICROS_STEP,
    );
    let api = Arc::new(TikTokApi::new(
        TOKEN,
        ADVERTISER,
        "JPY",
        "Asia/Tokyo",
        0,
        ledger,
    ));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workspace.lookback");
    let (mut store, mut source) = workspace_with_source(
        &path,
        "tiktok",
        "tiktok",
        &format!("{}/open_api", server.base_url),
    );
    source.account = Some(ADVERTISER.to_owned());
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
    fn sync(&mut self, token: &str, now_ms: i64) -> SyncResult<SourceSyncSummary> {
        let mut options = fast_options(now_ms);
        options.page_size = Some(50);
        run_sync_with(
            &mut self.store,
            &self.source,
            token,
            &options,
            &CancellationToken::new(),
            |_| {},
        )
    }

    fn spend(&self) -> (i64, i64) {
        let conn = open_sqlite(&self.path);
        (
            query_i64(
                &conn,
                "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend WHERE platform = 'tiktok'",
            ),
            query_i64(
                &conn,
                "SELECT COUNT(*) FROM ad_spend WHERE platform = 'tiktok'",
            ),
        )
    }

    /// (start_date, end_date) of every report request.
    fn report_ranges(&self) -> Vec<(String, String)> {
        self.server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/report/integrated/get/"))
            .map(|r| {
                (
                    r.query("start_date").unwrap().to_owned(),
                    r.query("end_date").unwrap().to_owned(),
                )
            })
            .collect()
    }
}

#[test]
fn a_first_sync_reads_30_day_chunks_and_lands_every_ad_day_once() {
    let mut f = fixture();
    f.api.overlap(2);
    f.api.fail_once_at_data_page(3);
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    let stream = &summary.streams[0];
    assert_eq!(stream.outcome, StreamOutcome::Complete, "{summary:?}");

    let (truth_minor, truth_rows) = f.api.truth(BACKFILL_START, TODAY);
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));
    assert!(
        stream.counters.duplicates > 0 && stream.counters.retries >= 1,
        "{:?}",
        stream.counters
    );
    let conn = open_sqlite(&f.path);
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"), 0);
    // "-" rows are days without delivery: stored, with no spend.
    assert!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE spend_minor = 0 AND impressions = 0"
        ) > 0
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE account_timezone <> 'Asia/Tokyo' OR currency <> 'JPY' OR channel <> 'tiktok_ads' OR account_id <> '7000000001'"
        ),
        0
    );
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM raw_events WHERE external_id = '7000000001|111|2025-05-02'"
        ),
        1
    );

    // No request spanned more than 30 days; the chunks tile the backfill without gaps.
    let ranges = f.report_ranges();
    let mut chunks: Vec<(String, String)> = ranges.clone();
    chunks.dedup();
    for (start, end) in &chunks {
        assert!(day_number(end) - day_number(start) < 30, "{start}..{end}");
    }
    assert_eq!(chunks.first().unwrap().0, BACKFILL_START);
    assert_eq!(chunks.last().unwrap().1, TODAY);
    for pair in chunks.windows(2) {
        assert_eq!(day_number(&pair[1].0), day_number(&pair[0].1) + 1);
    }
    // The token went in Access-Token, never as a Bearer header or in a URL.
    for request in f.server.requests() {
        assert_eq!(request.header("access-token"), Some(TOKEN));
        assert!(request.header("authorization").is_none() && !request.target.contains(TOKEN));
    }
    drop(conn);
    assert!(!file_contains(&f.path, TOKEN));
}

#[test]
fn a_resync_after_restatement_replaces_spend_and_rereads_7_days() {
    let mut f = fixture();
    f.sync(TOKEN, TEST_NOW_MS).expect("first sync");
    f.api.ledger(|l| {
        l.restate("2026-02-24", TODAY, 30);
        l.extend("2026-03-02", "2026-03-03", MICROS_STEP);
    });
    f.server.clear_requests();
    let summary = f
        .sync(TOKEN, TEST_NOW_MS + 2 * DAY_MS)
        .expect("incremental sync");
    assert!(summary.streams[0].counters.new_versions > 0, "{summary:?}");
    let (truth_minor, truth_rows) = f.api.truth(BACKFILL_START, "2026-03-03");
    assert_eq!(
        f.spend(),
        (truth_minor, truth_rows as i64),
        "restated days replace their rows"
    );
    let ranges = f.report_ranges();
    assert!(!ranges.is_empty());
    assert!(
        ranges
            .iter()
            .all(|(s, e)| s == "2026-02-22" && e == "2026-03-03"),
        "{ranges:?}"
    );
}

#[test]
fn throttling_inside_an_http_200_is_retried_and_the_sync_completes() {
    let mut f = fixture();
    f.api.throttle_next(3);
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    assert_eq!(
        summary.streams[0].outcome,
        StreamOutcome::Complete,
        "{summary:?}"
    );
    assert!(summary.streams[0].counters.retries >= 3, "{summary:?}");
    let (truth_minor, truth_rows) = f.api.truth(BACKFILL_START, TODAY);
    assert_eq!(f.spend(), (truth_minor, truth_rows as i64));
}

#[test]
fn an_invalid_token_in_a_200_body_stops_the_source_with_a_clear_error() {
    let mut f = fixture();
    let wrong = "act.wrongTikTokToken1234";
    let error = f.sync(wrong, TEST_NOW_MS).expect_err("refused");
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("tiktok")
            && message.contains("40105")
            && message.contains("Access token is incorrect"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    assert!(!file_contains(&f.path, wrong));
    assert_eq!(f.spend(), (0, 0));
}

/// (Σ spend, rows) of the campaign-level GMV Max rows.
fn gmv_max_spend(path: &std::path::Path) -> (i64, i64) {
    let conn = open_sqlite(path);
    (
        query_i64(
            &conn,
            "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend WHERE platform = 'tiktok' AND ad_id = ''",
        ),
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE platform = 'tiktok' AND ad_id = ''",
        ),
    )
}

#[test]
fn gmv_max_spend_of_every_store_lands_at_campaign_level_beside_the_ad_report() {
    let mut f = fixture();
    // Two TikTok Shop stores: GMV Max campaigns appear in no integrated report.
    f.api.add_gmv_max_store(
        "7400000000000000001",
        AdLedger::generate(
            "2025-11-20",
            TODAY,
            &[("1850001", "1850001"), ("1850002", "1850002")],
            MICROS_STEP,
        ),
    );
    f.api.add_gmv_max_store(
        "7400000000000000002",
        AdLedger::generate("2026-02-10", TODAY, &[("1850003", "1850003")], MICROS_STEP),
    );
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    let gmv = summary
        .streams
        .iter()
        .find(|s| s.stream == "gmv_max_report")
        .expect("the GMV Max stream ran");
    assert_eq!(gmv.outcome, StreamOutcome::Complete, "{summary:?}");
    assert_eq!(gmv.counters.dead_letters, 0, "{summary:?}");

    let (gmv_minor, gmv_rows) = f.api.gmv_max_truth(BACKFILL_START, TODAY);
    assert!(gmv_rows > 100, "the fixture has GMV Max spend to find");
    assert_eq!(gmv_max_spend(&f.path), (gmv_minor, gmv_rows as i64));
    // The ad report's spend is all there too, and nothing is counted twice.
    let (ads_minor, ads_rows) = f.api.truth(BACKFILL_START, TODAY);
    assert_eq!(
        f.spend(),
        (ads_minor + gmv_minor, (ads_rows + gmv_rows) as i64)
    );
    let conn = open_sqlite(&f.path);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM ad_spend WHERE ad_id = '' AND (currency <> 'JPY' OR account_timezone <> 'Asia/Tokyo' OR channel <> 'tiktok_ads')"
        ),
        0
    );
    drop(conn);

    // One store per report request, as TikTok's SDK requires, in ≤ 30-day ranges, paged.
    let reports: Vec<_> = f
        .server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/gmv_max/report/get/"))
        .collect();
    assert!(reports.iter().any(|r| r.query("page") == Some("2")));
    for request in &reports {
        let stores: Vec<String> =
            serde_json::from_str(request.query("store_ids").unwrap()).unwrap();
        assert_eq!(stores.len(), 1);
        let (start, end) = (
            request.query("start_date").unwrap(),
            request.query("end_date").unwrap(),
        );
        assert!(day_number(end) - day_number(start) < 30, "{start}..{end}");
    }

    // A second sync at the same instant changes nothing.
    let again = f.sync(TOKEN, TEST_NOW_MS).expect("second sync");
    for stream in &again.streams {
        assert_eq!(stream.counters.inserted, 0, "{again:?}");
        assert_eq!(stream.counters.new_versions, 0, "{again:?}");
    }
    assert_eq!(gmv_max_spend(&f.path), (gmv_minor, gmv_rows as i64));
}

#[test]
fn an_advertiser_without_a_shop_has_no_gmv_max_report_to_read() {
    let mut f = fixture();
    let summary = f.sync(TOKEN, TEST_NOW_MS).expect("sync");
    let gmv = summary
        .streams
        .iter()
        .find(|s| s.stream == "gmv_max_report")
        .expect("the GMV Max stream ran");
    assert_eq!(gmv.outcome, StreamOutcome::Complete, "{summary:?}");
    assert_eq!(gmv.counters.inserted, 0);
    let requests = f.server.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.ends_with("/gmv_max/store/list/"))
            .count(),
        1
    );
    assert!(
        !requests
            .iter()
            .any(|r| r.path.ends_with("/gmv_max/report/get/"))
    );
    assert_eq!(gmv_max_spend(&f.path), (0, 0));
}
