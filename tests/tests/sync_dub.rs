//! The Dub connector against its loopback mock: clicks, leads and sales land exactly once
//! through bare-array paging (a short page ends a scan), repeated events, a 500 and a 429; every
//! request sends `start` (Dub would otherwise answer only the last 24 hours); sales, which carry
//! no currency, are USD cents; a second sync changes nothing; events that arrive later are
//! picked up; a sale or lead that also arrives by webhook (whose `data` has no event id) is one
//! order and one set of identity links whichever copy comes first, also without an invoice id
//! or a customer; a refused key gives a clear message that never contains the key, and the key
//! never reaches the workspace file.

use std::sync::Arc;

use lookback_store::{NewWebhookDelivery, Store};
use lookback_sync::webhooks::extract::extract;
use lookback_sync::webhooks::normalizer::normalizer_version;
use lookback_sync::webhooks::{Scheme, normalize_pending};
use lookback_sync::{CancellationToken, StreamOutcome, SyncError};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::dub::{DubApi, click_event, lead_event, sale_event, webhook_of};
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, fast_options, file_contains, run_sync, run_sync_with, table_dump,
    workspace_with_source,
};
use serde_json::{Value, json};

const KEY: &str = "dub_live_4b7e2a9c1d0f";

fn one_text(path: &std::path::Path, sql: &str) -> String {
    let conn = lookback_tests::open_sqlite(path);
    conn.query_row(sql, [], |row| row.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn clicks_leads_and_sales_land_once_every_request_sends_start_and_a_second_sync_changes_nothing() {
    let api = Arc::new(DubApi::new(KEY, 250, TEST_NOW_MS / 1000));
    api.throttle_next(1); // a 429 rate_limit_exceeded with Retry-After first
    api.fail_once_at_request(3); // then a 500 on the second page of clicks
    api.repeat_last(true); // each page after the first repeats the event before it
    let (clicks, leads, sales) = api.counts();
    assert_eq!((clicks, leads, sales), (250, 63, 32));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "dub", "dub", &server.base_url);

    let summary = run_sync(&mut store, &source, KEY).expect("sync");
    let by_stream = |name: &str| {
        summary
            .streams
            .iter()
            .find(|s| s.stream == name)
            .unwrap()
            .clone()
    };
    for stream in ["clicks", "leads", "sales"] {
        assert_eq!(
            by_stream(stream).outcome,
            StreamOutcome::Complete,
            "{stream}"
        );
        assert_eq!(by_stream(stream).counters.dead_letters, 0, "{stream}");
    }
    assert_eq!(by_stream("clicks").counters.inserted, 250);
    assert_eq!(
        by_stream("clicks").counters.duplicates,
        2,
        "pages 2 and 3 repeat one click each"
    );
    assert_eq!(
        by_stream("clicks").counters.retries,
        2,
        "the 429 and the 500 were retried"
    );
    assert_eq!(by_stream("leads").counters.inserted, 63);
    assert_eq!(by_stream("sales").counters.inserted, 32);
    assert_eq!(count(&path, "raw_events"), 250 + 63 + 32);
    assert_eq!(
        count(&path, "touches"),
        250,
        "a lead's or sale's click is the click's touch, not a second one"
    );
    assert_eq!(count(&path, "orders"), 32);
    assert_eq!(
        count(&path, "identity_links"),
        63 * 2,
        "each lead links its click to the e-mail hash and the customer id"
    );
    assert_eq!(count(&path, "content"), 4, "one content row per link");
    assert_eq!(
        one_text(
            &path,
            "SELECT order_id || ' ' || gross_minor || ' ' || currency || ' ' || click_id || ' ' || customer_id FROM orders WHERE order_id = 'in_00008'"
        ),
        "in_00008 2800 USD clk_00008 ext_8"
    );
    assert_eq!(
        one_text(
            &path,
            "SELECT channel || ' ' || creator_id || ' ' || content_id || ' ' || anonymous_id FROM touches WHERE touch_id = 'clk_00005'"
        ),
        "creator_link pn_1 link_1 clk_00005"
    );
    assert!(
        !file_contains(&path, "@example.com"),
        "raw e-mail addresses must not be stored"
    );
    assert!(
        !file_contains(&path, KEY),
        "the API key must never reach the workspace file"
    );

    let requests = server.requests();
    for request in &requests {
        assert!(
            request.query("start").is_some(),
            "without start Dub answers 24 hours only: {}",
            request.target
        );
        assert_eq!(
            (
                request.query("sortOrder"),
                request.query("timezone"),
                request.query("limit")
            ),
            (Some("asc"), Some("UTC"), Some("100"))
        );
    }
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.query("event") == Some("clicks"))
            .count(),
        5,
        "429, 3 pages and one retried 500"
    );

    let before = table_dump(&path);
    run_sync(&mut store, &source, KEY).expect("second sync");
    assert_eq!(table_dump(&path), before, "a second sync changes nothing");
}

#[test]
fn events_that_arrive_after_a_sync_are_picked_up_once() {
    let api = Arc::new(DubApi::new(KEY, 40, TEST_NOW_MS / 1000));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "dub", "dub", &server.base_url);
    run_sync(&mut store, &source, KEY).expect("first sync");
    assert_eq!((count(&path, "touches"), count(&path, "orders")), (40, 5));

    // An hour after the first sync a new click comes in, and becomes a lead and a sale.
    let later_ms = TEST_NOW_MS + 2 * 3_600_000;
    api.set_now(later_ms / 1000);
    api.add_click_journey(1000, TEST_NOW_MS / 1000 + 3600);
    let options = fast_options(later_ms);
    run_sync_with(
        &mut store,
        &source,
        KEY,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("second sync");
    assert_eq!((count(&path, "touches"), count(&path, "orders")), (41, 6));
    assert_eq!(
        one_text(
            &path,
            "SELECT click_id FROM orders WHERE order_id = 'in_01000'"
        ),
        "clk_01000"
    );
    let before = table_dump(&path);
    run_sync_with(
        &mut store,
        &source,
        KEY,
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("third sync");
    assert_eq!(table_dump(&path), before);
}

#[test]
fn a_refused_key_stops_the_sync_with_a_clear_message_that_never_contains_it() {
    let server = MockServer::start(Arc::new(DubApi::new(KEY, 5, TEST_NOW_MS / 1000)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "dub", "dub", &server.base_url);
    let wrong = "dub_live_wrong_77aa88bb";
    let error = run_sync(&mut store, &source, wrong).expect_err("a wrong key must fail");
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("dub API refused the credential") && message.contains("Invalid API key"),
        "{message}"
    );
    assert!(!message.contains(wrong));
    drop(store);
    assert!(!file_contains(&path, wrong));
}

/// Stores and normalizes a signed Dub webhook the way the receiver does once the signature is
/// verified (`extract` → `record_webhook_delivery` → the background normalizer).
fn deliver_dub_webhook(store: &mut Store, source: &str, body: &Value) {
    let event = extract(Scheme::Dub, body.to_string().as_bytes(), &[], None, false)
        .expect("a readable delivery");
    let payload = event.payload.to_string();
    store
        .write(|tx| {
            tx.record_webhook_delivery(&NewWebhookDelivery {
                source,
                scheme: Scheme::Dub.as_str(),
                event_id: &event.event_id,
                stream: &event.stream,
                external_id: &event.external_id,
                payload: &payload,
                received_at_ms: TEST_NOW_MS,
                normalizer_version: normalizer_version(Scheme::Dub),
                traffic_signals: None,
            })
        })
        .expect("store the delivery");
    normalize_pending(store, TEST_NOW_MS).expect("normalize");
}

#[test]
fn a_sale_or_lead_seen_by_webhook_and_by_poll_is_one_order_and_one_set_of_links_in_either_order() {
    // 2026-02-10: customer 1 clicks, signs up (a lead) and buys for $39 without an invoice id;
    // a second, $15 purchase by the same customer through the same click a minute later is
    // another sale. Click 2 buys with invoice in_2. Sale 3 has neither an invoice id nor a
    // customer. Dub sends webhooks for the lead and the first two sales, seconds after it
    // recorded them.
    let t0 = 1_770_681_600;
    let lead = lead_event(1, t0, t0 + 120);
    let sale = sale_event(1, t0, t0 + 600, 3_900, None);
    let mut second = sale_event(1, t0, t0 + 660, 1_500, None);
    second["eventId"] = json!("evt_sale_1b");
    let invoiced = sale_event(2, t0 + 30, t0 + 900, 2_500, Some("in_2"));
    let mut anonymous = sale_event(3, t0 + 60, t0 + 1_000, 700, None);
    anonymous["customer"] = Value::Null;
    let webhooks = [
        webhook_of(&lead, "evt_wh_lead_1", t0 + 121),
        webhook_of(&sale, "evt_wh_sale_1", t0 + 602),
        webhook_of(&invoiced, "evt_wh_sale_2", t0 + 901),
    ];
    assert!(
        webhooks[1]["data"].get("eventId").is_none()
            && webhooks[1]["data"]["sale"]["invoiceId"].is_null(),
        "the webhook copy shares no id with the polled one"
    );

    for webhook_first in [true, false] {
        let api = Arc::new(DubApi::new(KEY, 0, TEST_NOW_MS / 1000));
        for (i, at) in [(1, t0), (2, t0 + 30), (3, t0 + 60)] {
            api.push_event("clicks", click_event(i, at));
        }
        api.push_event("leads", lead.clone());
        for event in [&sale, &second, &invoiced, &anonymous] {
            api.push_event("sales", event.clone());
        }
        let server = MockServer::start(api);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.lookback");
        let (mut store, source) = workspace_with_source(&path, "dub", "dub", &server.base_url);
        let deliver = |store: &mut Store| {
            for webhook in &webhooks {
                deliver_dub_webhook(store, &source.source_id, webhook);
            }
        };
        if webhook_first {
            deliver(&mut store);
            run_sync(&mut store, &source, KEY).expect("sync");
        } else {
            run_sync(&mut store, &source, KEY).expect("sync");
            deliver(&mut store);
        }
        let case = format!("webhook first: {webhook_first}");
        assert_eq!(count(&path, "dead_letters"), 0, "{case}");
        assert_eq!(
            count(&path, "raw_events"),
            3 + 1 + 4 + 3,
            "every copy is kept raw: 3 clicks, the polled lead and sales, 3 webhooks ({case})"
        );
        assert_eq!(
            count(&path, "orders"),
            4,
            "sale 1 (twice), its second purchase, the invoiced and the anonymous sale ({case})"
        );
        // The first copy stored keeps the order; the other copy's id is its alias.
        let (kept, other) = if webhook_first {
            ("evt_wh_sale_1", "evt_sale_1")
        } else {
            ("evt_sale_1", "evt_wh_sale_1")
        };
        assert_eq!(
            one_text(
                &path,
                "SELECT order_id || ' ' || gross_minor || ' ' || currency || ' ' || click_id || ' ' || customer_id
                 FROM orders WHERE gross_minor = 3900"
            ),
            format!("{kept} 3900 USD clk_00001 ext_1"),
            "{case}"
        );
        assert_eq!(
            one_text(
                &path,
                &format!("SELECT order_id FROM order_aliases WHERE alias = '{other}'")
            ),
            kept,
            "{case}"
        );
        assert_eq!(
            one_text(
                &path,
                "SELECT GROUP_CONCAT(order_id || ':' || gross_minor || ':' || currency, ' ') FROM
                 (SELECT * FROM orders WHERE gross_minor <> 3900 ORDER BY order_id)"
            ),
            "evt_sale_1b:1500:USD evt_sale_3:700:USD in_2:2500:USD",
            "the second purchase, the anonymous one and the invoiced one are their own orders ({case})"
        );
        assert_eq!(
            one_text(
                &path,
                "SELECT COALESCE(click_id, '-') || ' ' || COALESCE(customer_id, '-') FROM orders WHERE order_id = 'evt_sale_3'"
            ),
            "clk_00003 -"
        );
        assert_eq!(count(&path, "touches"), 3, "{case}");
        assert_eq!(
            count(&path, "identity_links"),
            2 * 2,
            "customers 1 and 2 each link their click to an e-mail hash and a customer id, once ({case})"
        );

        let before = table_dump(&path);
        run_sync(&mut store, &source, KEY).expect("second sync");
        deliver(&mut store);
        assert_eq!(
            table_dump(&path),
            before,
            "polling and redelivering again changes nothing ({case})"
        );
    }
}
