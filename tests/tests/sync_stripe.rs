//! The Stripe connector against its loopback mock: charges become orders (failed charges do
//! not), refunds and disputes become adjustments; paging newest first in pages of at most 100;
//! 429 with `Stripe-Should-Retry` and a 500 are retried; a second sync changes nothing; a late
//! refund and a dispute that is lost after the first sync arrive through the restatement window;
//! a wrong key gives a clear message that contains no key; raw e-mails are never stored;
//! disputes are followed until they are decided (listed over 120 days, older undecided ones
//! read by id), and prevented or won ones do not count; the gross of a charge is what was
//! captured; amounts follow Stripe's currency exponents (ISK).

use std::sync::Arc;

use lookback_sync::{StreamOutcome, SyncError};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, fast_options, file_contains, run_sync, run_sync_with, table_dump,
    workspace_with_source,
};
use lookback_tests::mock::stripe::StripeApi;

const KEY: &str = "sk_test_mock_51Hx9vQ2eZvKYlo2C";
const NOW_S: i64 = TEST_NOW_MS / 1000;
const DAY: i64 = 86_400;

fn query_one(path: &std::path::Path, sql: &str) -> String {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get::<_, String>(0))
        .unwrap()
}

#[test]
fn charges_refunds_and_disputes_land_once_and_late_changes_arrive() {
    let api = Arc::new(StripeApi::new(KEY));
    let mut charge_ids = Vec::new();
    for i in 0..250 {
        let status = if i % 25 == 24 { "failed" } else { "succeeded" };
        let email = format!("buyer{i}@example.com");
        let click = format!("clk-{i}");
        charge_ids.push(api.add_charge(
            1_000 + i,
            NOW_S - 200 * DAY + i * 3_600,
            status,
            Some(&email),
            Some(&click),
        ));
    }
    let refunded = charge_ids[10].clone();
    api.add_refund(&refunded, 300, NOW_S - 150 * DAY);
    let disputed = charge_ids[20].clone();
    let dispute = api.add_dispute(&disputed, 1_020, NOW_S - 10 * DAY);
    api.throttle_next(1);
    api.fail_once_at_request(3);
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "stripe", "shop", &server.base_url);

    let summary = run_sync(&mut store, &source, KEY).expect("sync");
    assert!(
        summary
            .streams
            .iter()
            .all(|s| s.outcome == StreamOutcome::Complete),
        "{summary:?}"
    );
    let charges = &summary.streams[0];
    assert_eq!(
        (
            charges.counters.pages,
            charges.counters.inserted,
            charges.counters.retries
        ),
        (3, 250, 2)
    );
    assert_eq!(
        count(&path, "orders"),
        240,
        "10 failed charges are not orders"
    );
    assert_eq!(count(&path, "order_adjustments"), 2);
    assert_eq!(count(&path, "dead_letters"), 0);
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.query("limit") == Some("100")));
    assert!(
        requests
            .iter()
            .all(|r| r.header("stripe-version").is_some())
    );
    assert!(
        requests
            .iter()
            .any(|r| r.path == "/v1/charges" && r.query("starting_after").is_some())
    );
    assert_eq!(
        query_one(
            &path,
            &format!(
                "SELECT click_id FROM orders WHERE order_id = '{}'",
                charge_ids[7]
            )
        ),
        "clk-7"
    );
    assert_eq!(
        query_one(
            &path,
            &format!(
                "SELECT email_sha256 FROM orders WHERE order_id = '{}'",
                charge_ids[7]
            )
        ),
        lookback_core_email("buyer7@example.com")
    );
    assert_eq!(
        query_one(
            &path,
            &format!("SELECT status FROM order_adjustments WHERE adjustment_id = '{dispute}'")
        ),
        "open"
    );
    assert!(
        !file_contains(&path, "@example.com"),
        "raw e-mail addresses must not be stored"
    );
    let checkpoint = store.checkpoint("shop", "charges").unwrap().unwrap().cursor;
    assert_eq!(checkpoint, format!(r#"{{"watermark":{NOW_S}}}"#));

    let before = table_dump(&path);
    let again = run_sync(&mut store, &source, KEY).expect("second sync");
    assert!(
        again
            .streams
            .iter()
            .all(|s| s.counters.inserted == 0 && s.counters.new_versions == 0),
        "{again:?}"
    );
    assert_eq!(table_dump(&path), before, "a second sync changes nothing");

    // After the sync: a late refund of an old charge, a dispute lost, a new charge.
    let later = TEST_NOW_MS + 2 * DAY * 1000;
    let late_refund = api.add_refund(&charge_ids[30], 500, later / 1000 - 3_600);
    api.set_dispute_status(&dispute, "lost");
    let new_charge = api.add_charge(7_777, later / 1000 - 60, "succeeded", None, Some("clk-new"));
    server.clear_requests();
    let summary = run_sync_with(
        &mut store,
        &source,
        KEY,
        &fast_options(later),
        &Default::default(),
        |_| {},
    )
    .expect("third sync");
    let charges_request = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/charges")
        .unwrap();
    assert_eq!(
        charges_request.query("created[gt]"),
        Some((NOW_S - 30 * DAY - 1).to_string().as_str()),
        "re-reads the 30-day window"
    );
    assert_eq!(summary.streams[0].counters.inserted, 1);
    assert_eq!(count(&path, "orders"), 241);
    assert_eq!(count(&path, "order_adjustments"), 3);
    assert_eq!(
        query_one(
            &path,
            &format!("SELECT status FROM order_adjustments WHERE adjustment_id = '{dispute}'")
        ),
        "lost"
    );
    assert_eq!(
        query_one(
            &path,
            &format!(
                "SELECT order_id FROM order_adjustments WHERE adjustment_id = '{late_refund}'"
            )
        ),
        charge_ids[30]
    );
    assert_eq!(
        query_one(
            &path,
            &format!("SELECT click_id FROM orders WHERE order_id = '{new_charge}'")
        ),
        "clk-new"
    );
}

/// The SHA-256 of a normalized e-mail, as lookback-core computes it.
fn lookback_core_email(email: &str) -> String {
    use std::fmt::Write;
    let digest = <sha2_shim::Sha256 as sha2_shim::Digest>::digest(email.as_bytes());
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

mod sha2_shim {
    pub use sha2::{Digest, Sha256};
}

#[test]
fn new_fields_are_counted_and_kept() {
    let api = Arc::new(StripeApi::new(KEY));
    api.add_charge(500, NOW_S - DAY, "succeeded", None, None);
    api.add_field_to_charges("shiny_new_thing", serde_json::json!({"a": 1}));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "stripe", "shop", &server.base_url);
    let summary = run_sync(&mut store, &source, KEY).expect("sync");
    assert_eq!(summary.streams[0].counters.unknown_fields, 1);
    assert_eq!(count(&path, "orders"), 1);
    assert!(
        file_contains(&path, "shiny_new_thing"),
        "unknown fields stay in the raw payload"
    );
}

#[test]
fn a_wrong_key_is_refused_with_a_clear_message() {
    let api = Arc::new(StripeApi::new(KEY));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "stripe", "shop", &server.base_url);
    let wrong = "sk_test_wrong_key_7781234";
    let error = run_sync(&mut store, &source, wrong).expect_err("401");
    assert!(matches!(error, SyncError::Unauthorized { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with("shop: the stripe API refused the credential (HTTP 401)"),
        "{message}"
    );
    assert!(
        !message.contains(wrong) && !message.contains("7781234"),
        "{message}"
    );
    drop(store);
    assert!(!file_contains(&path, wrong));
}

/// The USD chargebacks the overview counts (`COUNTED_ADJUSTMENT`).
fn counted_usd_chargebacks(store: &lookback_store::Store) -> i64 {
    store
        .overview()
        .unwrap()
        .revenue
        .iter()
        .find(|r| r.currency == "USD")
        .map_or(0, |r| r.chargebacks_minor)
}

fn dispute_status(path: &std::path::Path, dispute: &str) -> String {
    query_one(
        path,
        &format!("SELECT status FROM order_adjustments WHERE adjustment_id = '{dispute}'"),
    )
}

/// The ids of the disputes a sync read one by one (`GET /v1/disputes/{id}`).
fn disputes_read_by_id(server: &MockServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter_map(|r| r.path.strip_prefix("/v1/disputes/").map(str::to_owned))
        .collect()
}

#[test]
fn disputes_are_followed_until_decided_and_prevented_ones_do_not_count() {
    let api = Arc::new(StripeApi::new(KEY));
    let charge = |n: i64| {
        api.add_charge(
            1_000,
            NOW_S - 220 * DAY + n * 3_600,
            "succeeded",
            None,
            None,
        )
    };
    let (c1, c2, c3, c4, c5, c6) = (
        charge(1),
        charge(2),
        charge(3),
        charge(4),
        charge(5),
        charge(6),
    );
    let recent = api.add_dispute(&c1, 1_000, NOW_S - 10 * DAY);
    let inside = api.add_dispute(&c2, 1_000, NOW_S - 100 * DAY);
    api.set_dispute_status(&inside, "under_review");
    let old = api.add_dispute(&c3, 1_000, NOW_S - 115 * DAY);
    let prevented = api.add_dispute(&c4, 1_000, NOW_S - 5 * DAY);
    api.set_dispute_status(&prevented, "prevented");
    let won_long_ago = api.add_dispute(&c5, 1_000, NOW_S - 150 * DAY);
    api.set_dispute_status(&won_long_ago, "won");
    let slow = api.add_dispute(&c6, 1_000, NOW_S - 110 * DAY);
    api.set_dispute_status(&slow, "under_review");
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "stripe", "shop", &server.base_url);
    let sync_at = |store: &mut lookback_store::Store, days: i64| {
        server.clear_requests();
        run_sync_with(
            store,
            &source,
            KEY,
            &fast_options(TEST_NOW_MS + days * DAY * 1000),
            &Default::default(),
            |_| {},
        )
        .expect("sync")
    };

    sync_at(&mut store, 0);
    let statuses = |path: &std::path::Path| {
        [&recent, &inside, &old, &prevented, &won_long_ago, &slow].map(|d| dispute_status(path, d))
    };
    assert_eq!(
        statuses(&path),
        ["open", "open", "open", "prevented", "won", "open"]
    );
    assert_eq!(
        counted_usd_chargebacks(&store),
        4_000,
        "undecided disputes count; prevented and won ones do not"
    );

    // Two months later two are decided, inside the 120 days the dispute list covers.
    api.set_dispute_status(&recent, "lost");
    api.set_dispute_status(&inside, "won");
    sync_at(&mut store, 60);
    let listed = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/disputes")
        .unwrap();
    assert_eq!(
        listed.query("created[gt]"),
        Some((NOW_S - 120 * DAY - 1).to_string().as_str()),
        "disputes are listed over 120 days"
    );
    assert_eq!(disputes_read_by_id(&server), Vec::<String>::new());
    assert_eq!(
        statuses(&path),
        ["lost", "won", "open", "prevented", "won", "open"]
    );
    assert_eq!(counted_usd_chargebacks(&store), 3_000);

    // A month later the old one is decided; it and the slow one are older than the list
    // window now, and are read by id — the decided ones are not read again.
    api.set_dispute_status(&old, "won");
    sync_at(&mut store, 90);
    let mut by_id = disputes_read_by_id(&server);
    by_id.sort();
    let mut expected = vec![old.clone(), slow.clone()];
    expected.sort();
    assert_eq!(by_id, expected);
    assert_eq!(
        statuses(&path),
        ["lost", "won", "won", "prevented", "won", "open"]
    );
    assert_eq!(
        counted_usd_chargebacks(&store),
        2_000,
        "a won dispute stops counting"
    );

    // Only the undecided one is followed from now on, and an unchanged re-read writes nothing.
    let rows = |store: &lookback_store::Store| {
        (
            store.orders().unwrap(),
            store.adjustments().unwrap(),
            count(&path, "raw_events"),
        )
    };
    let before = rows(&store);
    sync_at(&mut store, 91);
    assert_eq!(disputes_read_by_id(&server), vec![slow.clone()]);
    assert_eq!(rows(&store), before);
    api.set_dispute_status(&slow, "lost");
    sync_at(&mut store, 92);
    assert_eq!(dispute_status(&path, &slow), "lost");
    sync_at(&mut store, 93);
    assert_eq!(disputes_read_by_id(&server), Vec::<String>::new());
    assert_eq!(count(&path, "dead_letters"), 0);
}

#[test]
fn the_gross_is_what_was_captured_in_stripes_currency_units() {
    let api = Arc::new(StripeApi::new(KEY));
    let held = api.add_uncaptured_charge(1_000, NOW_S - DAY);
    let expired = api.add_uncaptured_charge(2_000, NOW_S - 2 * DAY);
    api.insert_refund(&expired, 2_000, NOW_S - DAY, "expired_uncaptured_charge");
    // 500 krónur: Stripe writes ISK with two decimals, Lookback (ISO 4217) with none.
    let isk = api.add_charge_in("isk", 50_000, NOW_S - 3 * DAY);
    api.add_refund(&isk, 15_050, NOW_S - DAY);
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "stripe", "shop", &server.base_url);
    run_sync(&mut store, &source, KEY).expect("sync");
    let orders = store.orders().unwrap();
    assert_eq!(
        orders
            .iter()
            .map(|o| (o.order_id.as_str(), o.gross_minor, o.currency.as_str()))
            .collect::<Vec<_>>(),
        [(isk.as_str(), 500, "ISK")],
        "an authorization is not an order until it is captured"
    );
    let adjustments = store.adjustments().unwrap();
    assert_eq!(
        adjustments.len(),
        1,
        "a released authorization refunds nothing"
    );
    assert_eq!(
        (
            adjustments[0].amount_minor,
            adjustments[0].currency.as_str()
        ),
        (150, "ISK"),
        "150.50 krónur round half-even to 150"
    );

    // Captured in part the next day: the order is what was taken.
    api.capture_charge(&held, 600);
    run_sync_with(
        &mut store,
        &source,
        KEY,
        &fast_options(TEST_NOW_MS + DAY * 1000),
        &Default::default(),
        |_| {},
    )
    .expect("second sync");
    let captured = store
        .orders()
        .unwrap()
        .into_iter()
        .find(|o| o.order_id == held)
        .expect("the captured charge is an order");
    assert_eq!(
        (captured.gross_minor, captured.status.as_str()),
        (600, "paid")
    );
    assert_eq!(count(&path, "dead_letters"), 0);
}
