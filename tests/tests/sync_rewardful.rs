//! The Rewardful connector against its loopback mock: referrals (with their affiliate, which
//! needs `expand[]=affiliate`) and commissions (whose affiliate is `sale.affiliate`, which needs
//! `expand[]=sale`) land exactly once through the paginated envelope, repeated records, a 500 and
//! a 429; commissions, which have no time filter, are read whole on every run, and a run in
//! which only the affiliates' visit counters moved stores no new version; a second sync changes
//! nothing; a commission that goes from pending to paid is a new raw version and not a second
//! cost; a voided commission is no cost, also when it was a cost before; a refused secret gives
//! a clear message that never contains it, and the secret never reaches the workspace file.

use std::sync::Arc;

use lookback_sync::{CancellationToken, StreamOutcome, SyncError};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, fast_options, file_contains, run_sync, run_sync_with, table_dump,
    workspace_with_source,
};
use lookback_tests::mock::rewardful::RewardfulApi;

const SECRET: &str = "rwf_secret_3e9d1c7b5a";

fn one_text(path: &std::path::Path, sql: &str) -> String {
    let conn = lookback_tests::open_sqlite(path);
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Σ (5 + i % 20) * 100 over the converted referrals i (even i < n).
fn commissions_total(n: usize) -> i64 {
    (0..n)
        .filter(|i| i % 2 == 0)
        .map(|i| (5 + i as i64 % 20) * 100)
        .sum()
}

#[test]
fn referrals_and_commissions_land_once_and_a_second_sync_changes_nothing() {
    let api = Arc::new(RewardfulApi::new(SECRET, 250));
    api.throttle_next(1);
    api.fail_once_at_request(3);
    api.repeat_last(true);
    assert_eq!(api.counts(), (250, 125));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "rewardful", "rw", &server.base_url);

    let summary = run_sync(&mut store, &source, SECRET).expect("sync");
    let by_stream = |name: &str| {
        summary
            .streams
            .iter()
            .find(|s| s.stream == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_stream("referrals").outcome, StreamOutcome::Complete);
    assert_eq!(by_stream("commissions").outcome, StreamOutcome::Complete);
    assert_eq!(by_stream("referrals").counters.inserted, 250);
    assert_eq!(by_stream("referrals").counters.duplicates, 2);
    assert_eq!(
        by_stream("referrals").counters.retries,
        2,
        "the 429 and the 500 were retried"
    );
    assert_eq!(by_stream("commissions").counters.inserted, 125);
    assert_eq!(by_stream("commissions").counters.duplicates, 1);
    assert_eq!(count(&path, "dead_letters"), 0);
    assert_eq!(count(&path, "touches"), 250);
    assert_eq!(
        count(&path, "identity_links"),
        125 * 2,
        "a converted referral links to its e-mail hash and Stripe customer"
    );
    assert_eq!(count(&path, "creators"), 3);
    assert_eq!(count(&path, "creator_costs"), 125);
    assert_eq!(
        one_text(
            &path,
            "SELECT SUM(amount_minor) || ' ' || MIN(currency) || ' ' || MIN(kind) FROM creator_costs"
        ),
        format!("{} USD commission", commissions_total(250))
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT creator_id || ' ' || day || ' ' || amount_minor FROM creator_costs WHERE cost_id = 'com-00004'"
        ),
        "aff-0001 2026-01-01 900"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT channel || ' ' || creator_id || ' ' || content_id || ' ' || click_id FROM touches WHERE touch_id = 'ref-00004'"
        ),
        "affiliate aff-0001 lnk-1 ref-00004"
    );
    assert!(
        !file_contains(&path, "@example.com"),
        "raw e-mail addresses must not be stored"
    );
    assert!(
        !file_contains(&path, SECRET),
        "the API secret must never reach the workspace file"
    );
    let requests = server.requests();
    for request in &requests {
        assert_eq!(request.query("limit"), Some("100"), "{}", request.target);
        if request.path == "/v1/commissions" {
            assert_eq!(
                request.query("expand[]"),
                Some("sale"),
                "{}",
                request.target
            );
            assert!(
                request.query("updated_since").is_none()
                    && request.query("updated_until").is_none(),
                "commissions take no time filter: {}",
                request.target
            );
        } else {
            assert_eq!(
                request.query("expand[]"),
                Some("affiliate"),
                "{}",
                request.target
            );
            assert!(
                request.query("updated_until").is_some(),
                "{}",
                request.target
            );
        }
    }

    let before = table_dump(&path);
    let second = run_sync(&mut store, &source, SECRET).expect("second sync");
    assert_eq!(table_dump(&path), before, "a second sync changes nothing");
    let later = &server.requests()[requests.len()..];
    assert!(
        later
            .iter()
            .filter(|r| r.path == "/v1/referrals")
            .all(|r| r.query("updated_since").is_some()),
        "incremental syncs filter referrals by updated_since"
    );
    let commissions = second
        .streams
        .iter()
        .find(|s| s.stream == "commissions")
        .unwrap();
    assert_eq!(
        (
            commissions.counters.duplicates,
            commissions.counters.inserted,
            commissions.counters.new_versions
        ),
        (125 + 1, 0, 0),
        "every commission is read again (page 2 repeats one), and none is stored again"
    );
    assert_eq!(
        later
            .iter()
            .filter(|r| r.path == "/v1/commissions")
            .map(|r| r.query("page").unwrap_or("1"))
            .collect::<Vec<_>>(),
        vec!["1", "2"],
        "a finished scan of commissions starts again at page 1"
    );
}

#[test]
fn a_rerun_after_affiliates_got_visits_stores_no_new_version_of_any_commission() {
    let api = Arc::new(RewardfulApi::new(SECRET, 40));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "rewardful", "rw", &server.base_url);
    run_sync(&mut store, &source, SECRET).expect("first sync");
    let raw = count(&path, "raw_events");

    // Visitors arrive through every affiliate's links: the affiliate embedded in each
    // commission's sale shows new counters, the commissions themselves did not change.
    api.visit_affiliates(25);
    let summary = run_sync(&mut store, &source, SECRET).expect("second sync");
    let commissions = summary
        .streams
        .iter()
        .find(|s| s.stream == "commissions")
        .unwrap();
    assert_eq!(
        (
            commissions.counters.records,
            commissions.counters.new_versions
        ),
        (20, 0)
    );
    assert_eq!(count(&path, "raw_events"), raw);
    assert!(
        !file_contains(&path, "\"visitors\""),
        "live counters of embedded objects are not stored"
    );
}

#[test]
fn a_commission_voided_after_it_was_a_cost_costs_nothing() {
    let api = Arc::new(RewardfulApi::new(SECRET, 10));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "rewardful", "rw", &server.base_url);
    run_sync(&mut store, &source, SECRET).expect("first sync");
    assert_eq!(count(&path, "creator_costs"), 5);

    // A refund voids an old commission; nothing filters commissions by time, so the next run
    // sees it and takes its cost away.
    api.set_commission_state("com-00002", "voided", TEST_NOW_MS / 1000 + 3600);
    let options = fast_options(TEST_NOW_MS + 86_400_000);
    run_sync_with(
        &mut store,
        &source,
        SECRET,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("second sync");
    assert_eq!(
        one_text(
            &path,
            "SELECT GROUP_CONCAT(cost_id, ' ') FROM (SELECT cost_id FROM creator_costs ORDER BY cost_id)"
        ),
        "com-00000 com-00004 com-00006 com-00008"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT CAST(SUM(amount_minor) AS TEXT) FROM creator_costs"
        ),
        (commissions_total(10) - 700).to_string()
    );
    let before = table_dump(&path);
    run_sync_with(
        &mut store,
        &source,
        SECRET,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("third sync");
    assert_eq!(table_dump(&path), before);
}

#[test]
fn a_commission_that_changes_state_is_a_new_version_not_a_second_cost_and_a_voided_one_is_no_cost()
{
    let api = Arc::new(RewardfulApi::new(SECRET, 10));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "rewardful", "rw", &server.base_url);
    run_sync(&mut store, &source, SECRET).expect("first sync");
    assert_eq!(count(&path, "creator_costs"), 5);

    let an_hour_later = TEST_NOW_MS / 1000 + 3600;
    api.set_commission_state("com-00000", "paid", an_hour_later);
    api.add_commission("com-late-due", 700, "due", 2, an_hour_later);
    api.add_commission("com-late-voided", 900, "voided", 2, an_hour_later);
    let options = fast_options(TEST_NOW_MS + 86_400_000);
    let summary = run_sync_with(
        &mut store,
        &source,
        SECRET,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("second sync");
    let commissions = summary
        .streams
        .iter()
        .find(|s| s.stream == "commissions")
        .unwrap();
    assert_eq!(
        (
            commissions.counters.new_versions,
            commissions.counters.inserted
        ),
        (1, 2)
    );
    assert_eq!(
        count(&path, "creator_costs"),
        6,
        "the paid commission is the same cost; the voided one is none"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT CAST(amount_minor AS TEXT) FROM creator_costs WHERE cost_id = 'com-00000'"
        ),
        "500"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT CAST(COUNT(*) AS TEXT) FROM raw_events WHERE external_id = 'com-late-voided'"
        ),
        "1",
        "the voided commission is kept raw"
    );
    let latest = lookback_tests::raw_events(&path)
        .into_iter()
        .rfind(|event| event.external_id == "com-00000")
        .expect("the commission's raw event");
    let payload: serde_json::Value = serde_json::from_str(&latest.payload).unwrap();
    assert_eq!(payload["state"], "paid");
    let before = table_dump(&path);
    run_sync_with(
        &mut store,
        &source,
        SECRET,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("third sync");
    assert_eq!(table_dump(&path), before);
}

#[test]
fn a_refused_secret_stops_the_sync_with_a_clear_message_that_never_contains_it() {
    let server = MockServer::start(Arc::new(RewardfulApi::new(SECRET, 5)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "rewardful", "rw", &server.base_url);
    let wrong = "rwf_wrong_secret_11ee22";
    let error = run_sync(&mut store, &source, wrong).expect_err("a wrong secret must fail");
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("rewardful API refused the credential")
            && message.contains("Invalid API Secret"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    drop(store);
    assert!(!file_contains(&path, wrong));
}
