//! One sale, one order, whichever platforms report it: Dub reports a sale with `invoiceId`
//! `in_00000` (with the creator's click), Stripe the charge paying that invoice (with the money
//! and a later refund). Synced in either order into one workspace, the sale is one order with
//! Stripe's refund on it and Dub's click id, other sales stay apart, and syncing both again
//! changes nothing.

use std::sync::Arc;

use lookback_store::{Source, Store};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::dub::DubApi;
use lookback_tests::mock::harness::{TEST_NOW_MS, loopback_source, run_sync, table_dump};
use lookback_tests::mock::stripe::StripeApi;
use lookback_tests::{open_sqlite, query_i64};
use serde_json::json;

const DUB_KEY: &str = "dub_live_4b7e2a9c1d0f";
const STRIPE_KEY: &str = "sk_test_51cross";

/// Dub: 16 clicks, sales `in_00000` ($20) and `in_00008` ($28). Stripe: the charge paying
/// `in_00000` with a $5 refund, and an unrelated $9.99 charge. Returns the paying charge's id.
fn platforms() -> (Arc<DubApi>, Arc<StripeApi>, String) {
    let dub = Arc::new(DubApi::new(DUB_KEY, 16, TEST_NOW_MS / 1000));
    let stripe = Arc::new(StripeApi::new(STRIPE_KEY));
    let created = TEST_NOW_MS / 1000 - 3_600;
    let paying = stripe.add_charge(
        2_000,
        created,
        "succeeded",
        Some("buyer0@example.com"),
        None,
    );
    stripe.set_charge_field(&paying, "invoice", json!("in_00000"));
    stripe.add_refund(&paying, 500, created + 600);
    stripe.add_charge(
        999,
        created + 60,
        "succeeded",
        Some("someone@example.com"),
        None,
    );
    (dub, stripe, paying)
}

fn sync_in_order(dub_first: bool) -> (std::path::PathBuf, tempfile::TempDir, String) {
    let (dub, stripe, paying) = platforms();
    let dub_server = MockServer::start(dub);
    let stripe_server = MockServer::start(stripe);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let mut store = Store::create(&path).unwrap();
    let dub_source = loopback_source("dub", "dub", &dub_server.base_url);
    let stripe_source = loopback_source("stripe", "stripe", &stripe_server.base_url);
    store
        .write(|tx| {
            tx.upsert_source(&dub_source)?;
            tx.upsert_source(&stripe_source)
        })
        .unwrap();
    let order: [(&Source, &str); 2] = if dub_first {
        [(&dub_source, DUB_KEY), (&stripe_source, STRIPE_KEY)]
    } else {
        [(&stripe_source, STRIPE_KEY), (&dub_source, DUB_KEY)]
    };
    for (source, key) in order {
        run_sync(&mut store, source, key).expect("sync");
    }
    let before = table_dump(&path);
    for (source, key) in order {
        run_sync(&mut store, source, key).expect("second sync");
    }
    assert_eq!(
        table_dump(&path),
        before,
        "syncing both again changes nothing"
    );
    (path, dir, paying)
}

#[test]
fn a_sale_reported_by_dub_and_stripe_is_one_order_in_either_order() {
    for dub_first in [true, false] {
        let (path, _dir, paying) = sync_in_order(dub_first);
        let conn = open_sqlite(&path);
        let count = |sql: &str| query_i64(&conn, sql);
        // The kept order is whichever was stored first; the other id is its alias.
        let kept = if dub_first {
            "in_00000".to_owned()
        } else {
            paying.clone()
        };
        let gone = if dub_first {
            paying.clone()
        } else {
            "in_00000".to_owned()
        };
        assert_eq!(
            count(&format!(
                "SELECT COUNT(*) FROM orders WHERE order_id IN ('in_00000', '{paying}')"
            )),
            1,
            "dub first: {dub_first}"
        );
        assert_eq!(
            count(&format!(
                "SELECT COUNT(*) FROM orders WHERE order_id = '{kept}' AND gross_minor = 2000"
            )),
            1
        );
        assert_eq!(
            count(&format!(
                "SELECT COUNT(*) FROM orders WHERE order_id = '{kept}' AND click_id = 'clk_00000'"
            )),
            1,
            "Dub's click id is on the order (dub first: {dub_first})"
        );
        assert_eq!(
            count(&format!(
                "SELECT COUNT(*) FROM order_aliases WHERE alias = '{gone}' AND order_id = '{kept}'"
            )),
            1
        );
        assert_eq!(
            count(&format!(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM order_adjustments WHERE order_id = '{kept}'"
            )),
            500,
            "Stripe's refund is on the one order"
        );
        assert_eq!(
            count(
                "SELECT COUNT(*) FROM order_adjustments WHERE order_id NOT IN (SELECT order_id FROM orders)"
            ),
            0
        );
        // Dub's other sale and Stripe's other charge stay their own orders: 2 + 1 in all.
        assert_eq!(
            count("SELECT COUNT(*) FROM orders"),
            3,
            "dub first: {dub_first}"
        );
        assert_eq!(
            count("SELECT SUM(gross_minor) FROM orders"),
            2_000 + 2_800 + 999
        );
    }
}
