//! Contract tests (issue #10 §4): each connector syncs against its mock while the mock records
//! every exchange, and the validator of that platform (tests/contract/, built on the platform's
//! own official SDK) checks every request the connector sent and every response the mock gave.
//! A mock that drifted from the real API, or a connector that sends what the API does not take,
//! fails here with the platform, the object, the field and what the SDK's schema says.
//!
//! The second half proves the validators bite: a deliberately wrong field (an unknown key, a
//! value of the wrong type, a missing required field, a bad enum value or parameter) put into
//! a captured exchange must produce a finding naming that field which the untouched capture
//! did not have.
//!
//! The validators are installed by `.ci/setup`; when they are missing these tests fail with the
//! command that installs them (a skipped contract test would be a defect).

use std::path::Path;
use std::sync::Arc;

use lookback_sync::CancellationToken;
use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::AdLedger;
use lookback_tests::mock::contract::{
    Exchange, ReplayApi, Validators, Verdict, write_exchange_values, write_exchanges,
};
use lookback_tests::mock::dub::DubApi;
use lookback_tests::mock::google_ads::{self, GoogleAdsApi};
use lookback_tests::mock::harness::{
    TEST_NOW_MS, fast_options, run_sync_with, workspace_with_source,
};
use lookback_tests::mock::meta::{self, MetaApi};
use lookback_tests::mock::rewardful::RewardfulApi;
use lookback_tests::mock::shopify::ShopifyApi;
use lookback_tests::mock::stripe::StripeApi;
use lookback_tests::mock::tiktok::{self, TikTokApi};
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

fn validators() -> Validators {
    Validators::locate().unwrap_or_else(|message| panic!("{message}"))
}

/// Syncs `kind` from the mock behind `server` (every run in `runs` is one sync at that clock)
/// and returns what the mock saw and said. A sync may end in an error: the exchanges are what
/// is checked here, and the connector tests check the outcome.
fn sync_and_capture(
    server: &MockServer,
    kind: &str,
    base_url: &str,
    account: Option<&str>,
    secret: &str,
    runs: &[i64],
    page_size: Option<u32>,
) -> Vec<Exchange> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, mut source) = workspace_with_source(&path, kind, kind, base_url);
    source.account = account.map(str::to_owned);
    store.write(|tx| tx.upsert_source(&source)).unwrap();
    for &now_ms in runs {
        let mut options = fast_options(now_ms);
        options.page_size = page_size;
        let _ = run_sync_with(
            &mut store,
            &source,
            secret,
            &options,
            &CancellationToken::new(),
            |_| {},
        );
    }
    let exchanges = server.exchanges();
    assert!(!exchanges.is_empty(), "the {kind} sync sent no request");
    exchanges
}

fn google_ads_capture() -> Vec<Exchange> {
    let ledger = AdLedger::generate(
        "2026-01-01",
        "2026-03-01",
        &[("456", "7001"), ("457", "7101")],
        12_345,
    );
    let api = Arc::new(GoogleAdsApi::new(
        TOKEN_GOOGLE,
        "1234567890",
        "EUR",
        "Europe/Berlin",
        ledger,
    ));
    api.throttle_next(1); // an error body (RESOURCE_EXHAUSTED with a GoogleAdsFailure) is captured too
    let server = MockServer::start_capturing(api);
    let base = format!("{}/{}", server.base_url, google_ads::API_VERSION);
    sync_and_capture(
        &server,
        "google_ads",
        &base,
        Some("1234567890"),
        TOKEN_GOOGLE,
        &[TEST_NOW_MS],
        None,
    )
}
const TOKEN_GOOGLE: &str = "ya29.contract-test-token";

fn meta_capture() -> Vec<Exchange> {
    let ledger = AdLedger::generate(
        "2025-12-01",
        "2026-02-28",
        &[("2385", "23851"), ("2390", "23901")],
        10_000,
    );
    let api = Arc::new(MetaApi::new(
        TOKEN_META,
        "1234567",
        "USD",
        "America/Los_Angeles",
        ledger,
    ));
    api.throttle_next(1); // Meta's 80000 throttling error body
    let server = MockServer::start_capturing(api);
    let base = format!("{}/{}", server.base_url, meta::API_VERSION);
    // The first sync backfills through async report jobs; the one a day later re-reads the
    // restatement window with synchronous GETs.
    sync_and_capture(
        &server,
        "meta",
        &base,
        Some("act_1234567"),
        TOKEN_META,
        &[TEST_NOW_MS, TEST_NOW_MS + DAY_MS],
        Some(100),
    )
}
const TOKEN_META: &str = "EAAGcontractTestToken";

fn tiktok_capture() -> Vec<Exchange> {
    let ledger = AdLedger::generate(
        "2026-01-01",
        "2026-03-01",
        &[("1801", "111"), ("1802", "1201")],
        1_000_000,
    );
    let api = Arc::new(TikTokApi::new(
        TOKEN_TIKTOK,
        "7000000001",
        "JPY",
        "Asia/Tokyo",
        0,
        ledger,
    ));
    api.throttle_next(1); // code 40100 inside an HTTP 200
    // A TikTok Shop store with GMV Max campaigns, so the GMV Max calls are checked too.
    api.add_gmv_max_store(
        "7400000000000000001",
        AdLedger::generate(
            "2026-01-20",
            "2026-03-01",
            &[("1850001", "1850001")],
            1_000_000,
        ),
    );
    let server = MockServer::start_capturing(api);
    let base = format!("{}{}", server.base_url, tiktok::PREFIX);
    sync_and_capture(
        &server,
        "tiktok",
        &base,
        Some("7000000001"),
        TOKEN_TIKTOK,
        &[TEST_NOW_MS],
        Some(50),
    )
}
const TOKEN_TIKTOK: &str = "act.contractTestToken";

fn stripe_capture() -> Vec<Exchange> {
    stripe_capture_with(|_| {})
}

/// The Stripe capture, with `alter` applied to the mock before the sync.
fn stripe_capture_with(alter: impl FnOnce(&StripeApi)) -> Vec<Exchange> {
    const KEY: &str = STRIPE_KEY;
    let now_s = TEST_NOW_MS / 1000;
    let api = Arc::new(StripeApi::new(KEY));
    let mut charges = Vec::new();
    for i in 0..120 {
        let status = if i % 25 == 24 { "failed" } else { "succeeded" };
        charges.push(api.add_charge(
            1_000 + i,
            now_s - 100 * 86_400 + i * 3_600,
            status,
            Some(&format!("b{i}@example.com")),
            Some(&format!("clk-{i}")),
        ));
    }
    api.add_refund(&charges[10], 300, now_s - 50 * 86_400);
    let dispute = api.add_dispute(&charges[20], 1_020, now_s - 10 * 86_400);
    api.set_dispute_status(&dispute, "lost");
    api.throttle_next(1); // Stripe's rate_limit error body
    alter(&api);
    let server = MockServer::start_capturing(api);
    let base = server.base_url.clone();
    sync_and_capture(&server, "stripe", &base, None, KEY, &[TEST_NOW_MS], None)
}

const STRIPE_KEY: &str = "sk_test_contract_0123456789";

fn shopify_capture() -> Vec<Exchange> {
    const TOKEN: &str = SHOPIFY_TOKEN;
    let api = Arc::new(ShopifyApi::new(TOKEN, 300));
    api.throttle_next(1); // a 429 with Shopify's errors body
    let server = MockServer::start_capturing(api);
    let base = server.base_url.clone();
    sync_and_capture(&server, "shopify", &base, None, TOKEN, &[TEST_NOW_MS], None)
}

const SHOPIFY_TOKEN: &str = "shpat_contract0123";

fn dub_capture() -> Vec<Exchange> {
    const KEY: &str = DUB_KEY;
    let api = Arc::new(DubApi::new(KEY, 40, TEST_NOW_MS / 1000));
    api.throttle_next(1); // Dub's rate_limit_exceeded error body
    let server = MockServer::start_capturing(api);
    let base = server.base_url.clone();
    sync_and_capture(&server, "dub", &base, None, KEY, &[TEST_NOW_MS], None)
}

const DUB_KEY: &str = "dub_contract_0123";

fn rewardful_capture() -> Vec<Exchange> {
    const SECRET: &str = "rwf_contract_0123";
    let api = Arc::new(RewardfulApi::new(SECRET, 120));
    api.throttle_next(1);
    let server = MockServer::start_capturing(api);
    let base = server.base_url.clone();
    sync_and_capture(
        &server,
        "rewardful",
        &base,
        None,
        SECRET,
        &[TEST_NOW_MS],
        None,
    )
}

/// Writes the capture where a person can read it: `LOOKBACK_CONTRACT_OUT/<platform>.jsonl`
/// when that is set, else a temporary directory that lives as long as the returned guard.
fn capture_file(platform: &str, name: &str) -> (Option<tempfile::TempDir>, std::path::PathBuf) {
    match std::env::var_os("LOOKBACK_CONTRACT_OUT") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            (
                None,
                Path::new(&dir).join(format!("{platform}{name}.jsonl")),
            )
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("{platform}{name}.jsonl"));
            (Some(dir), path)
        }
    }
}

fn validate(platform: &str, exchanges: &[Exchange]) -> Verdict {
    let (_guard, path) = capture_file(platform, "");
    write_exchanges(&path, exchanges);
    validators().check(platform, &path)
}

fn assert_conforms(platform: &str, sdk: &str, exchanges: &[Exchange]) {
    let verdict = validate(platform, exchanges);
    assert!(
        verdict.violations.is_empty(),
        "{} exchanges between the {platform} connector and its mock disagree with {sdk}:\n{}",
        exchanges.len(),
        verdict.output
    );
}

#[test]
fn google_ads_exchanges_match_the_google_ads_protobuf_messages() {
    assert_conforms("google_ads", "google-ads 34.0.0", &google_ads_capture());
}

#[test]
fn meta_exchanges_match_facebook_business() {
    assert_conforms("meta", "facebook-business 26.0.3", &meta_capture());
}

#[test]
fn tiktok_exchanges_match_the_tiktok_business_sdk() {
    assert_conforms(
        "tiktok",
        "tiktok-business-api-sdk-official 1.1.3",
        &tiktok_capture(),
    );
}

#[test]
fn stripe_exchanges_match_the_stripe_sdk_types() {
    assert_conforms("stripe", "stripe 16.1.0", &stripe_capture());
}

#[test]
fn shopify_exchanges_match_the_shopify_api_rest_resources() {
    assert_conforms("shopify", "@shopify/shopify-api 13.1.0", &shopify_capture());
}

#[test]
fn dub_exchanges_match_the_dub_sdk_schemas() {
    assert_conforms("dub", "dub 0.73.5 (npm)", &dub_capture());
}

#[test]
fn rewardful_exchanges_match_its_documented_envelope() {
    assert_conforms(
        "rewardful",
        "the documented envelope (tests/contract/rewardful_envelope.json)",
        &rewardful_capture(),
    );
}

// ---------------------------------------------------------------------------------------------
// The validators bite: a deliberately wrong field is found.

/// A captured exchange as the JSON the validators read, bodies parsed for editing.
struct Edit {
    exchanges: Vec<Value>,
}

impl Edit {
    fn new(exchanges: &[Exchange]) -> Edit {
        Edit {
            exchanges: exchanges.iter().map(Exchange::to_json).collect(),
        }
    }

    /// Edits the parsed response body of the first exchange `select` accepts.
    fn response(
        mut self,
        select: impl Fn(&Value, &Value) -> bool,
        edit: impl FnOnce(&mut Value),
    ) -> Edit {
        let exchange = self
            .exchanges
            .iter_mut()
            .find(|e| {
                let body: Value = serde_json::from_str(e["response_body"].as_str().unwrap_or(""))
                    .unwrap_or(Value::Null);
                select(e, &body)
            })
            .expect("an exchange to alter");
        let mut body: Value =
            serde_json::from_str(exchange["response_body"].as_str().unwrap()).unwrap();
        edit(&mut body);
        exchange["response_body"] = json!(body.to_string());
        self
    }

    /// Replaces the value of a query parameter in the first exchange that sends it.
    fn query(mut self, name: &str, value: &str) -> Edit {
        let exchange = self
            .exchanges
            .iter_mut()
            .find(|e| e["query"].as_array().unwrap().iter().any(|p| p[0] == name))
            .unwrap_or_else(|| panic!("no exchange sends {name}"));
        for pair in exchange["query"].as_array_mut().unwrap() {
            if pair[0] == name {
                pair[1] = json!(value);
            }
        }
        self
    }

    /// Edits the (text) request body of the first exchange whose body contains `needle`.
    fn request_body(mut self, needle: &str, edit: impl FnOnce(&str) -> String) -> Edit {
        let exchange = self
            .exchanges
            .iter_mut()
            .find(|e| e["body"].as_str().unwrap_or("").contains(needle))
            .unwrap_or_else(|| panic!("no request body contains {needle}"));
        let body = edit(exchange["body"].as_str().unwrap());
        exchange["body"] = json!(body);
        self
    }
}

/// Asserts that the altered capture has a finding the original did not, naming `field`.
fn assert_bites(platform: &str, original: &Verdict, altered: Edit, field: &str, what: &str) {
    let (_guard, path) = capture_file(
        platform,
        &format!("-altered-{}", field.replace(['.', '[', ']'], "_")),
    );
    write_exchange_values(&path, &altered.exchanges);
    let verdict = validators().check(platform, &path);
    let before = original.findings();
    let new: Vec<String> = verdict
        .findings()
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    assert!(
        new.iter().any(|f| f.contains(field)),
        "the {platform} validator did not reject {what} (field {field}); new findings: {new:#?}\nfull output:\n{}",
        verdict.output
    );
}

/// An answered page whose `key` is a non-empty list of rows (Meta's insights pages, not its
/// `debug_token` answer, whose `data` is one object).
fn is_ok_with_rows(key: &'static str) -> impl Fn(&Value, &Value) -> bool {
    move |exchange, body| {
        exchange["status"] == 200 && body[key].as_array().is_some_and(|rows| !rows.is_empty())
    }
}

fn is_ok_with(key: &'static str) -> impl Fn(&Value, &Value) -> bool {
    move |exchange, body| {
        exchange["status"] == 200
            && match body {
                Value::Object(map) => map
                    .get(key)
                    .is_some_and(|v| v.as_array().is_none_or(|a| !a.is_empty())),
                _ => false,
            }
    }
}

#[test]
fn the_google_ads_validator_rejects_wrong_fields() {
    let capture = google_ads_capture();
    let original = validate("google_ads", &capture);
    assert_bites(
        "google_ads",
        &original,
        Edit::new(&capture).response(is_ok_with("results"), |b| {
            b["results"][0]["metrics"]["costMicro"] = json!("1");
        }),
        "costMicro",
        "an unknown key in a row's metrics",
    );
    assert_bites(
        "google_ads",
        &original,
        Edit::new(&capture).response(is_ok_with("results"), |b| {
            b["results"][0]["segments"]["date"] = json!(["2026-01-01"]);
        }),
        "date",
        "a list where the message has a string",
    );
    assert_bites(
        "google_ads",
        &original,
        Edit::new(&capture).request_body("metrics.cost_micros", |body| {
            body.replace("metrics.cost_micros", "metrics.cost_micro")
        }),
        "metrics.cost_micro",
        "a GAQL field the API does not have",
    );
}

#[test]
fn the_meta_validator_rejects_wrong_fields() {
    let capture = meta_capture();
    let original = validate("meta", &capture);
    assert_bites(
        "meta",
        &original,
        Edit::new(&capture).response(is_ok_with_rows("data"), |b| {
            if let Some(row) = b["data"].as_array_mut().and_then(|rows| rows.first_mut()) {
                row["spend"] = json!(14.35);
            }
        }),
        "spend",
        "a number where AdsInsights says string",
    );
    assert_bites(
        "meta",
        &original,
        Edit::new(&capture).response(is_ok_with_rows("data"), |b| {
            b["data"][0]["spend_in_cents"] = json!("1435");
        }),
        "spend_in_cents",
        "a key AdsInsights does not have",
    );
    assert_bites(
        "meta",
        &original,
        Edit::new(&capture).query("level", "ads"),
        "level",
        "a level outside AdsInsights.Level",
    );
}

#[test]
fn the_tiktok_validator_rejects_wrong_fields() {
    let capture = tiktok_capture();
    let original = validate("tiktok", &capture);
    assert_bites(
        "tiktok",
        &original,
        Edit::new(&capture).query("page_size", "5000"),
        "page_size",
        "a page size above 1000",
    );
    assert_bites(
        "tiktok",
        &original,
        Edit::new(&capture).query("dimensions", "ad_id,stat_time_day"),
        "dimensions",
        "a list not sent as a JSON array",
    );
    assert_bites(
        "tiktok",
        &original,
        Edit::new(&capture).response(
            |e, b| e["status"] == 200 && b["code"] == 0,
            |b| b["code"] = json!("0"),
        ),
        "code",
        "a string where InlineResponse200 says int",
    );
}

#[test]
fn the_stripe_validator_rejects_wrong_fields() {
    let capture = stripe_capture();
    let original = validate("stripe", &capture);
    let charges = |e: &Value, b: &Value| {
        e["path"] == "/v1/charges" && b["data"].as_array().is_some_and(|d| !d.is_empty())
    };
    assert_bites(
        "stripe",
        &original,
        Edit::new(&capture).response(charges, |b| {
            b["data"][0].as_object_mut().unwrap().remove("amount");
        }),
        "Charge.amount",
        "a charge without its required amount",
    );
    assert_bites(
        "stripe",
        &original,
        Edit::new(&capture).response(charges, |b| b["data"][0]["amount_captured"] = json!("1000")),
        "Charge.amount_captured",
        "a string where Charge says int",
    );
    assert_bites(
        "stripe",
        &original,
        Edit::new(&capture).response(charges, |b| b["data"][0]["amount_settled"] = json!(1)),
        "amount_settled",
        "a key Charge does not have",
    );
    assert_bites(
        "stripe",
        &original,
        Edit::new(&capture).response(
            |e, b| {
                e["path"] == "/v1/disputes" && b["data"].as_array().is_some_and(|d| !d.is_empty())
            },
            |b| b["data"][0]["status"] = json!("chargeback_lost"),
        ),
        "Dispute.status",
        "a dispute status outside the SDK's Literal",
    );
}

/// A wrong field put into the mock itself (not into a capture) fails the contract check: what
/// happens when a mock is edited from a wrong note.
#[test]
fn a_wrong_field_in_the_stripe_mock_fails_the_contract_check() {
    let original = validate("stripe", &stripe_capture());
    let altered = validate(
        "stripe",
        &stripe_capture_with(|api| api.add_field_to_charges("amount_net", json!(950))),
    );
    let new: Vec<String> = altered
        .findings()
        .into_iter()
        .filter(|f| !original.findings().contains(f))
        .collect();
    assert!(
        new.iter().any(|f| f.contains("Charge.amount_net")),
        "a charge field stripe 16.1.0 does not have was not reported; new findings: {new:#?}"
    );
}

#[test]
fn the_shopify_validator_rejects_wrong_fields() {
    let capture = shopify_capture();
    let original = validate("shopify", &capture);
    assert_bites(
        "shopify",
        &original,
        Edit::new(&capture).response(is_ok_with("orders"), |b| {
            b["orders"][0]["total_prize"] = json!("1.00")
        }),
        "total_prize",
        "a key the Order resource does not have",
    );
    assert_bites(
        "shopify",
        &original,
        Edit::new(&capture).response(is_ok_with("orders"), |b| {
            b["orders"][0]["line_items"] = json!("Mug")
        }),
        "line_items",
        "a string where the Order resource has a list",
    );
}

#[test]
fn the_dub_validator_rejects_wrong_fields() {
    let capture = dub_capture();
    let original = validate("dub", &capture);
    let non_empty =
        |e: &Value, b: &Value| e["status"] == 200 && b.as_array().is_some_and(|a| !a.is_empty());
    assert_bites(
        "dub",
        &original,
        Edit::new(&capture).response(non_empty, |b| {
            b[0]["click"].as_object_mut().unwrap().remove("id");
        }),
        "click.id",
        "a click without its required id",
    );
    assert_bites(
        "dub",
        &original,
        Edit::new(&capture).response(non_empty, |b| b[0]["clickedAt"] = json!("2026-01-01")),
        "clickedAt",
        "a key the event schema does not declare",
    );
    assert_bites(
        "dub",
        &original,
        Edit::new(&capture).query("sortOrder", "oldest"),
        "sortOrder",
        "a sortOrder outside the SDK's enum",
    );
}

#[test]
fn the_rewardful_validator_rejects_wrong_fields() {
    let capture = rewardful_capture();
    let original = validate("rewardful", &capture);
    let commissions = |e: &Value, b: &Value| {
        e["path"] == "/v1/commissions" && b["data"].as_array().is_some_and(|d| !d.is_empty())
    };
    assert_bites(
        "rewardful",
        &original,
        Edit::new(&capture).response(commissions, |b| b["data"][0]["state"] = json!("approved")),
        "commission.state",
        "a commission state outside the documented ones",
    );
    assert_bites(
        "rewardful",
        &original,
        Edit::new(&capture).response(commissions, |b| b["data"][0]["amount"] = json!("500")),
        "commission.amount",
        "a string where the docs say integer cents",
    );
    assert_bites(
        "rewardful",
        &original,
        Edit::new(&capture).response(commissions, |b| b["meta"] = json!({})),
        "envelope",
        "an envelope with an undocumented key",
    );
}

// ---------------------------------------------------------------------------------------------
// A field the official schema marks optional may be absent: the connector still lands the record.

/// Replays `exchanges` to a fresh sync of `kind` and returns (orders, adjustments, touches, the
/// dead letters' reasons).
fn replay_sync(kind: &str, exchanges: &[Value], secret: &str) -> (i64, i64, i64, Vec<String>) {
    let server = MockServer::start(Arc::new(ReplayApi::new(exchanges)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, kind, kind, &server.base_url);
    let summary = run_sync_with(
        &mut store,
        &source,
        secret,
        &fast_options(TEST_NOW_MS),
        &CancellationToken::new(),
        |_| {},
    )
    .unwrap_or_else(|e| panic!("the {kind} sync of the replayed capture failed: {e}"));
    assert!(
        summary
            .streams
            .iter()
            .all(|s| s.outcome == lookback_sync::StreamOutcome::Complete),
        "{summary:?}"
    );
    let count = |table: &str| lookback_tests::mock::harness::count(&path, table);
    let conn = lookback_tests::open_sqlite(&path);
    let mut statement = conn
        .prepare("SELECT stream || ' ' || location || ': ' || reason FROM dead_letters ORDER BY 1")
        .unwrap();
    let reasons = statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (
        count("orders"),
        count("order_adjustments"),
        count("touches"),
        reasons,
    )
}

/// Stripe sends every field, `null` when empty; each field stripe 16.1.0 types as `Optional`
/// is nulled (customer, payment_intent, receipt_email, billing_details.email, balance_transaction,
/// a refund's charge, …) and the connector must still land every charge, refund and dispute. A
/// refund names its payment by `charge` or by `payment_intent` — with neither it cannot be booked
/// and is rightly dead-lettered — so each of the two is nulled in its own run, the other kept.
#[test]
fn the_stripe_connector_lands_every_record_when_the_sdks_optional_fields_are_null() {
    let capture = stripe_capture();
    let values: Vec<Value> = capture.iter().map(Exchange::to_json).collect();
    let as_captured = replay_sync("stripe", &values, STRIPE_KEY);
    assert!(
        as_captured.3.is_empty(),
        "the capture itself lands without dead letters: {:?}",
        as_captured.3
    );
    for keep in [
        &["Refund.charge"][..],
        &["Refund.payment_intent", "Charge.payment_intent"][..],
    ] {
        let nulled = validators().null_optional("stripe", &capture, keep);
        assert_ne!(values, nulled, "the capture has optional fields to null");
        assert_eq!(
            replay_sync("stripe", &nulled, STRIPE_KEY),
            as_captured,
            "with every field stripe 16.1.0 types as Optional null but {keep:?}, every charge, \
             refund and dispute still lands and none is dead-lettered"
        );
    }
}

/// Dub's events with every field the dub 0.73.5 schemas mark optional left out and every
/// nullable one null (a sale without `invoiceId`, `currency` or `paymentProcessor`, a customer
/// without e-mail, a link without partner…): every click, lead and sale still lands.
#[test]
fn the_dub_connector_lands_every_event_when_the_sdks_optional_fields_are_absent() {
    let capture = dub_capture();
    let values: Vec<Value> = capture.iter().map(Exchange::to_json).collect();
    let as_captured = replay_sync("dub", &values, DUB_KEY);
    assert!(
        as_captured.3.is_empty(),
        "the capture itself lands without dead letters: {:?}",
        as_captured.3
    );
    let least = validators().null_optional("dub", &capture, &[]);
    assert_ne!(
        values, least,
        "the capture has optional fields to leave out"
    );
    assert_eq!(
        replay_sync("dub", &least, DUB_KEY),
        as_captured,
        "every click, lead and sale lands and none is dead-lettered with only the fields the \
         dub 0.73.5 schemas require"
    );
}

/// Shopify orders as an app without access to protected customer data sees them (e-mail,
/// phone, customer and addresses null): every order and refund still lands.
#[test]
fn the_shopify_connector_lands_every_order_without_protected_customer_data() {
    let capture = shopify_capture();
    let values: Vec<Value> = capture.iter().map(Exchange::to_json).collect();
    let as_captured = replay_sync("shopify", &values, SHOPIFY_TOKEN);
    assert!(
        as_captured.3.is_empty(),
        "the capture itself lands without dead letters: {:?}",
        as_captured.3
    );
    let redacted = validators().null_optional("shopify", &capture, &[]);
    assert_ne!(values, redacted, "the capture has customer data to null");
    assert_eq!(
        replay_sync("shopify", &redacted, SHOPIFY_TOKEN),
        as_captured,
        "every order and refund lands and none is dead-lettered without protected customer data"
    );
}
