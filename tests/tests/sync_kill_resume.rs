//! Every connector's sync survives being killed: a `lookback sync` process SIGKILLed mid-way
//! (the mock holds a request at a chosen point, so the kill lands there on any machine) and
//! started again ends with exactly the store of an uninterrupted sync — raw events, canonical
//! tables, dead letters and checkpoints (see [`lookback_tests::kill_resume`]).
//!
//! Needs the `lookback` binary (built by `cargo build --workspace`) and a D-Bus session with an
//! unlocked gnome-keyring (`.ci/test` provides both).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lookback_tests::kill_resume::{
    KillResumeCase, assert_killed_sync_resumes_to_the_uninterrupted_store,
};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::{AdLedger, day_text};
use lookback_tests::mock::dub::DubApi;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::mock::google_ads::GoogleAdsApi;
use lookback_tests::mock::meta::MetaApi;
use lookback_tests::mock::rewardful::RewardfulApi;
use lookback_tests::mock::shopify::ShopifyApi;
use lookback_tests::mock::stripe::StripeApi;
use lookback_tests::mock::tiktok::TikTokApi;

const DAY_S: i64 = 86_400;

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Daily spend of three ads from 400 days ago to two days ahead of the real clock (the CLI
/// syncs up to "today" of the account's zone, which may be tomorrow in UTC).
fn recent_ledger(micros_step: i64) -> AdLedger {
    let today = now_s().div_euclid(DAY_S);
    AdLedger::generate(
        &day_text(today - 400),
        &day_text(today + 2),
        &[("c1", "101"), ("c1", "102"), ("c2", "201")],
        micros_step,
    )
}

#[test]
fn generic_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let api = Arc::new(GenericApi::new("kill-generic-token-20a7c3", 3_000));
    api.overlap(2);
    let server = MockServer::start(api);
    let outcome = assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "generic",
            secret: "kill-generic-token-20a7c3",
            base_url: server.base_url.clone(),
            account: None,
            sync_args: &["--page-size", "100"],
            kill_after_requests: 12,
        },
    );
    assert_eq!(
        outcome.raw_events_at_kill % 100,
        0,
        "whole pages only: a page and its checkpoint commit together"
    );
}

#[test]
fn meta_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let api = Arc::new(MetaApi::new(
        "EAAkillMetaToken5d1",
        "1234567",
        "USD",
        "UTC",
        recent_ledger(10_000),
    ));
    api.polls_before_complete(0);
    api.overlap(2);
    let server = MockServer::start(api);
    // debug_token (the token's expiry and permissions), account, then per 90-day report job:
    // submit, poll, three result pages. Killed while reading the second job's results.
    assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "meta",
            secret: "EAAkillMetaToken5d1",
            base_url: format!("{}/v23.0", server.base_url),
            account: Some("act_1234567"),
            sync_args: &["--page-size", "100"],
            kill_after_requests: 10,
        },
    );
}

#[test]
fn google_ads_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let api = Arc::new(
        GoogleAdsApi::new(
            "ya29.killGoogleToken8c",
            "1234567890",
            "EUR",
            "Europe/Berlin",
            recent_ledger(12_345),
        )
        .through_manager("1112223333")
        .requiring_developer_token("kill-dev-token-0aa9"),
    );
    let server = MockServer::start(api);
    // customer, then two pages per 90-day query: killed on the second query's second page.
    assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "google_ads",
            secret: r#"{"access_token":"ya29.killGoogleToken8c","developer_token":"kill-dev-token-0aa9"}"#,
            base_url: format!("{}/v21", server.base_url),
            account: Some("1112223333/1234567890"),
            sync_args: &[],
            kill_after_requests: 4,
        },
    );
}

#[test]
fn tiktok_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let api = Arc::new(TikTokApi::new(
        "kill-tiktok-token-77e",
        "7000000001",
        "JPY",
        "Asia/Tokyo",
        0,
        recent_ledger(1_000_000),
    ));
    api.overlap(1);
    let server = MockServer::start(api);
    // advertiser, then two pages per 30-day report: killed at the third report.
    assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "tiktok",
            secret: "kill-tiktok-token-77e",
            base_url: format!("{}/open_api/v1.3", server.base_url),
            account: Some("7000000001"),
            sync_args: &["--page-size", "50"],
            kill_after_requests: 5,
        },
    );
}

#[test]
fn stripe_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let api = Arc::new(StripeApi::new("sk_test_killStripeKey31"));
    let now = now_s();
    let mut charges = Vec::new();
    for i in 0..250 {
        let status = if i % 25 == 24 { "failed" } else { "succeeded" };
        charges.push(api.add_charge(
            1_000 + i,
            now - 200 * DAY_S + i * 3_600,
            status,
            Some(&format!("buyer{i}@example.com")),
            Some(&format!("clk-{i}")),
        ));
    }
    for (n, charge) in charges
        .iter()
        .enumerate()
        .filter(|(n, _)| n % 9 == 3 && n % 25 != 24)
    {
        api.add_refund(charge, 300, now - 150 * DAY_S + n as i64 * 60);
    }
    api.add_dispute(&charges[20], 1_020, now - 10 * DAY_S);
    let server = MockServer::start(api);
    // Five pages of charges, then refunds, then disputes: killed on the fourth page of charges.
    assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "stripe",
            secret: "sk_test_killStripeKey31",
            base_url: server.base_url.clone(),
            account: None,
            sync_args: &["--page-size", "50"],
            kill_after_requests: 3,
        },
    );
}

#[test]
fn shopify_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let api = Arc::new(ShopifyApi::new("shpat_killShopifyToken4", 300));
    api.repeat_last(true);
    let server = MockServer::start(api);
    assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "shopify",
            secret: "shpat_killShopifyToken4",
            base_url: server.base_url.clone(),
            account: Some("kill-shop"),
            sync_args: &["--page-size", "50"],
            kill_after_requests: 3,
        },
    );
}

#[test]
fn dub_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let now = now_s();
    let api = Arc::new(DubApi::new("dub_killDubKey9f", 0, now));
    for i in 0..250 {
        api.add_click_journey(i, now - 30 * DAY_S + 600 * i as i64);
    }
    api.repeat_last(true);
    let server = MockServer::start(api);
    // Clicks (five pages and a short one), leads, sales: killed on the fourth page of clicks.
    assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "dub",
            secret: "dub_killDubKey9f",
            base_url: server.base_url.clone(),
            account: None,
            sync_args: &["--page-size", "50"],
            kill_after_requests: 3,
        },
    );
}

#[test]
fn rewardful_a_killed_sync_resumes_to_the_uninterrupted_store() {
    let api = Arc::new(RewardfulApi::new("kill-rewardful-secret-2b", 250));
    api.repeat_last(true);
    let server = MockServer::start(api);
    // Referrals (five pages), then commissions: killed on the fourth page of referrals.
    assert_killed_sync_resumes_to_the_uninterrupted_store(
        &server,
        &KillResumeCase {
            kind: "rewardful",
            secret: "kill-rewardful-secret-2b",
            base_url: server.base_url.clone(),
            account: None,
            sync_args: &["--page-size", "50"],
            kill_after_requests: 3,
        },
    );
}
