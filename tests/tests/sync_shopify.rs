//! The Shopify orders connector against its loopback mock: every order and refund lands exactly
//! once through Link-header paging, a repeated order, a 500 and throttling; no `page_info`
//! request carries a filter; a second sync changes nothing; a refund that arrives later is one
//! new adjustment; a nearly full leaky bucket slows the sync down; a refused token gives a clear
//! message that never contains the token, and the token never reaches the workspace file.
//! Money as Shopify books it: a refund paid in the customer's currency reduces the shop's
//! revenue in the shop currency, voided and expired orders took nothing, and an order whose
//! buyer is withheld by protected-customer-data rules still lands. Every request names the
//! pinned version, and a page Shopify served from another version is kept and marked.

use std::sync::Arc;

use lookback_sync::api_versions::SHOPIFY_VERSION;
use lookback_sync::{CancellationToken, StreamOutcome, SyncError, SyncEvent};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, fast_options, file_contains, run_sync, run_sync_with, table_dump,
    workspace_with_source,
};
use lookback_tests::mock::shopify::ShopifyApi;

const TOKEN: &str = "shpat_0c1d2e3f4a5b6c7d8e9f";

/// Orders i with i % 7 == 6 carry one refund from the start.
fn refunded(orders: usize) -> i64 {
    (0..orders).filter(|i| i % 7 == 6).count() as i64
}

fn one_text(path: &std::path::Path, sql: &str) -> String {
    let conn = lookback_tests::open_sqlite(path);
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn every_order_and_refund_lands_once_page_info_carries_no_filter_and_a_second_sync_changes_nothing()
{
    let api = Arc::new(ShopifyApi::new(TOKEN, 600));
    api.repeat_last(true); // each page after the first repeats the order before it
    api.fail_once_at_request(2); // the second page fails once with a 500
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);

    let summary = run_sync(&mut store, &source, TOKEN).expect("sync");
    let orders = &summary.streams[0];
    assert_eq!(orders.outcome, StreamOutcome::Complete);
    assert_eq!(orders.counters.inserted, 600);
    assert_eq!(
        orders.counters.duplicates, 2,
        "two pages repeated one order each"
    );
    assert_eq!(orders.counters.retries, 1, "the 500 was retried");
    assert_eq!(orders.counters.dead_letters, 0);
    assert_eq!(count(&path, "raw_events"), 600);
    assert_eq!(count(&path, "orders"), 600);
    assert_eq!(count(&path, "order_adjustments"), refunded(600));

    // Money, time and keys as Shopify writes them: "10.95" USD created at 2026-01-01T00:00 in -05:00.
    let first = api.order_id(0);
    assert_eq!(
        one_text(
            &path,
            &format!(
                "SELECT gross_minor || ' ' || currency || ' ' || occurred_at_ms || ' ' || click_id || ' ' || customer_id FROM orders WHERE order_id = '{first}'"
            )
        ),
        "1095 USD 1767225600000 note_clk_0 7000000"
    );
    let third = api.order_id(3);
    assert_eq!(
        one_text(
            &path,
            &format!("SELECT click_id FROM orders WHERE order_id = '{third}'")
        ),
        "clk_3",
        "lb_click from the landing page"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT DISTINCT amount_minor || ' ' || status FROM order_adjustments"
        ),
        "500 succeeded"
    );
    assert!(
        !file_contains(&path, "@example.com"),
        "raw e-mail addresses must not be stored"
    );
    assert!(
        !file_contains(&path, TOKEN),
        "the access token must never reach the workspace file"
    );

    // Shopify answers 400 to a page_info request with any filter besides limit and fields; the
    // mock enforces it, and this checks the connector never even tried.
    let requests = server.requests();
    let paged: Vec<_> = requests
        .iter()
        .filter(|r| r.query("page_info").is_some())
        .collect();
    assert_eq!(
        paged.len(),
        3,
        "pages 2 (twice, after the 500) and 3 follow the Link header"
    );
    for request in &paged {
        let names: Vec<&str> = request
            .query_pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| matches!(*n, "limit" | "fields" | "page_info")),
            "page_info mixed with filters: {}",
            request.target
        );
    }
    assert!(requests.iter().all(|r| r.query("limit") == Some("250")));
    assert_eq!(requests[0].query("status"), Some("any"));

    let before = table_dump(&path);
    let again = run_sync(&mut store, &source, TOKEN).expect("second sync");
    assert_eq!(
        again.streams[0].counters.inserted + again.streams[0].counters.new_versions,
        0
    );
    assert!(
        again.streams[0].counters.duplicates > 0,
        "the overlap re-reads the newest orders"
    );
    assert!(
        server.requests()[requests.len()]
            .query("updated_at_min")
            .is_some(),
        "an incremental sync filters by updated_at"
    );
    assert_eq!(table_dump(&path), before, "a second sync changes nothing");
}

#[test]
fn a_refund_that_arrives_later_is_one_new_adjustment() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 20));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    run_sync(&mut store, &source, TOKEN).expect("first sync");
    assert_eq!(count(&path, "order_adjustments"), refunded(20));

    // Two days later order 3 is refunded; its updated_at moves, nothing else changes.
    let order = api.order_id(3);
    api.add_refund(order, "12.50", 1_767_225_600 + 2 * 86_400);
    let summary = run_sync(&mut store, &source, TOKEN).expect("second sync");
    assert_eq!(
        summary.streams[0].counters.new_versions, 1,
        "the refunded order is a new raw version"
    );
    assert_eq!(summary.streams[0].counters.inserted, 0);
    assert_eq!(count(&path, "orders"), 20);
    assert_eq!(count(&path, "order_adjustments"), refunded(20) + 1);
    assert_eq!(
        one_text(
            &path,
            &format!(
                "SELECT group_concat(amount_minor || ' ' || status) FROM order_adjustments WHERE order_id = '{order}'"
            )
        ),
        "1250 succeeded"
    );
    assert_eq!(
        one_text(
            &path,
            &format!("SELECT status FROM orders WHERE order_id = '{order}'")
        ),
        "paid"
    );

    // A refund on an order that had one already adds only the new one.
    let refunded_before = api.order_id(6);
    api.add_refund(refunded_before, "1.00", 1_767_225_600 + 3 * 86_400);
    run_sync(&mut store, &source, TOKEN).expect("third sync");
    assert_eq!(count(&path, "order_adjustments"), refunded(20) + 2);
    assert_eq!(
        one_text(
            &path,
            &format!(
                "SELECT group_concat(amount_minor, ',') FROM (SELECT amount_minor FROM order_adjustments WHERE order_id = '{refunded_before}' ORDER BY amount_minor)"
            )
        ),
        "100,500"
    );
    let before = table_dump(&path);
    run_sync(&mut store, &source, TOKEN).expect("fourth sync");
    assert_eq!(table_dump(&path), before, "the refunds are not added twice");
}

#[test]
fn throttling_is_honoured_with_and_without_retry_after_and_a_full_bucket_slows_down() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 300));
    api.throttle_next(1); // 429 with Retry-After: 1.0
    api.throttle_without_retry_after_next(1); // then a 429 without it
    api.call_limit_used(34); // every answer says the bucket is 34/40 full
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    let mut waits = Vec::new();
    let summary = run_sync_with(
        &mut store,
        &source,
        TOKEN,
        &fast_options(TEST_NOW_MS),
        &CancellationToken::new(),
        |event| {
            if let SyncEvent::Waiting {
                seconds, reason, ..
            } = event
            {
                waits.push((*seconds, reason.clone()));
            }
        },
    )
    .expect("sync");
    assert_eq!(summary.streams[0].counters.inserted, 300);
    assert_eq!(
        summary.streams[0].counters.retries, 2,
        "both 429s were retried"
    );
    assert!(
        waits
            .iter()
            .any(|(s, r)| *s >= 1.0 && r.contains("429") && r.contains("Exceeded 2 calls")),
        "the Retry-After of the first 429 was honoured: {waits:?}"
    );
    assert!(
        waits
            .iter()
            .any(|(s, r)| (*s - 1.5).abs() < 1e-9 && r.contains("slow down")),
        "34/40 pauses until the bucket drains below 80 %: {waits:?}"
    );
    assert_eq!(server.requests().len(), 4, "two 429s, then two pages");
}

#[test]
fn a_refused_token_stops_the_sync_with_a_clear_message_that_never_contains_it() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 5));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    let wrong = "shpat_wrong_9a8b7c6d5e4f";
    let error = run_sync(&mut store, &source, wrong).expect_err("a wrong token must fail");
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("shopify API refused the credential")
            && message.contains("Invalid API key"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    assert_eq!(count(&path, "raw_events"), 0);
    drop(store);
    assert!(
        !file_contains(&path, wrong),
        "the refused token must not reach the workspace file"
    );
}

/// A shop with a few orders on a loopback mock, synced once.
fn synced(api: &Arc<ShopifyApi>) -> (tempfile::TempDir, std::path::PathBuf, MockServer) {
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    let summary = run_sync(&mut store, &source, TOKEN).expect("sync");
    assert_eq!(
        summary.streams[0].outcome,
        StreamOutcome::Complete,
        "{summary:?}"
    );
    (dir, path, server)
}

/// 2026-02-01T00:00:00Z in Unix seconds.
const FEB_2026: i64 = 1_769_904_000;

#[test]
fn a_refund_paid_in_the_customers_currency_reduces_revenue_in_the_shop_currency() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 3));
    // 110.00 USD to the shop, 100.00 EUR to the customer; 25.00 EUR refunded.
    let id = api.add_multi_currency_order(FEB_2026, "110.00", "EUR", "100.00");
    api.add_refund(id, "25.00", FEB_2026 + 3600);
    let (_dir, path, _server) = synced(&api);
    assert_eq!(
        one_text(
            &path,
            &format!(
                "SELECT amount_minor || ' ' || currency FROM order_adjustments WHERE order_id = '{id}'"
            )
        ),
        "2750 USD",
        "25.00 EUR at the order's own rate (110/100) is 27.50 USD"
    );
    assert_eq!(
        one_text(
            &path,
            &format!(
                "SELECT (o.gross_minor - SUM(a.amount_minor)) || ' ' || o.currency FROM orders o JOIN order_adjustments a USING (order_id) WHERE o.order_id = '{id}'"
            )
        ),
        "8250 USD",
        "the shop's net revenue of the order"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT CAST(COUNT(*) AS TEXT) FROM order_adjustments WHERE currency <> 'USD'"
        ),
        "0"
    );
}

#[test]
fn voided_and_expired_orders_took_no_money() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 4));
    let voided = api.order_id(1);
    let expired = api.order_id(2);
    api.set_financial_status(voided, "voided", FEB_2026);
    api.set_financial_status(expired, "expired", FEB_2026 + 60);
    let (_dir, path, _server) = synced(&api);
    assert_eq!(
        one_text(
            &path,
            &format!(
                "SELECT group_concat(gross_minor || ' ' || status, ', ') FROM (SELECT * FROM orders WHERE order_id IN ('{voided}', '{expired}') ORDER BY order_id)"
            )
        ),
        "0 voided, 0 expired"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT CAST(COUNT(*) AS TEXT) FROM orders WHERE gross_minor > 0"
        ),
        "2",
        "the paid orders keep their totals"
    );
}

#[test]
fn an_order_whose_buyer_is_withheld_by_protected_data_rules_still_lands() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 3));
    let withheld = api.order_id(1);
    api.withhold_customer_data(withheld);
    let (_dir, path, _server) = synced(&api);
    assert_eq!(count(&path, "orders"), 3);
    assert_eq!(count(&path, "dead_letters"), 0);
    assert_eq!(
        one_text(
            &path,
            &format!(
                "SELECT gross_minor || ' ' || COALESCE(email_sha256, '-') || ' ' || COALESCE(customer_id, '-') FROM orders WHERE order_id = '{withheld}'"
            )
        ),
        "1195 - -"
    );
}

#[test]
fn every_request_names_the_pinned_version_and_a_page_served_by_a_newer_one_is_kept_and_marked() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 5));
    // Shopify no longer supports the pinned version: it answers from the oldest it does.
    api.oldest_supported("2026-10");
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    let summary = run_sync(&mut store, &source, TOKEN).expect("sync");
    let stream = &summary.streams[0];
    assert_eq!(stream.outcome, StreamOutcome::Complete);
    assert_eq!(count(&path, "orders"), 5, "the orders still land");
    assert_eq!(
        stream.counters.unknown_fields, 5,
        "each order served by another version counts as schema drift"
    );
    for request in server.requests() {
        assert!(
            request
                .path
                .starts_with(&format!("/admin/api/{SHOPIFY_VERSION}/")),
            "{}",
            request.path
        );
    }
    let served_by_newer = lookback_tests::raw_events(&path)
        .iter()
        .filter(|event| {
            let payload: serde_json::Value = serde_json::from_str(&event.payload).unwrap();
            payload["_lookback"]["api_version_served"] == "2026-10"
        })
        .count();
    assert_eq!(served_by_newer, 5);
}

#[test]
fn an_order_voided_after_it_was_stored_as_authorized_no_longer_counts_its_gross() {
    let api = Arc::new(ShopifyApi::new(TOKEN, 3));
    let order = api.order_id(1);
    api.set_financial_status(order, "authorized", FEB_2026);
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    run_sync(&mut store, &source, TOKEN).expect("first sync");
    let gross = |path: &std::path::Path| {
        one_text(
            path,
            &format!("SELECT gross_minor || ' ' || status FROM orders WHERE order_id = '{order}'"),
        )
    };
    let authorized = gross(&path);
    assert_eq!(
        authorized, "1195 pending",
        "an authorization is a pending order at its total"
    );

    // The authorization is released: Shopify's later report of the same order says voided.
    api.set_financial_status(order, "voided", FEB_2026 + 86_400);
    run_sync(&mut store, &source, TOKEN).expect("second sync");
    assert_eq!(gross(&path), "0 voided", "a voided order took no money");
    assert_eq!(count(&path, "orders"), 3, "restated, not added");
}
