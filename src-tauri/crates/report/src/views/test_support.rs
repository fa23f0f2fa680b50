//! A small hand-built workspace the view, chart and export tests share (a real SQLite file in a
//! temp dir, written through the store's write API and attributed by the engine).
//!
//! Reporting currency USD, zone UTC, settlement 14 days, `NOW` = 2026-04-30T00:00Z.
//! - o1 alice 100.00 USD Mar 2; touch t1 instagram · creator c1 · content p1 · campaign camp_ig.
//! - o2 bob 50.00 USD Mar 3, refund 10.00; touch t2 search · campaign camp_g.
//! - o3 carol 80.00 USD Mar 4, refund 20.00; touches t3 (like t1, Mar 3) and t4 (like t2, Mar 3).
//! - o4 carol 20.00 USD Apr 13: her touches are 41 days old → unattributed (a repeat order).
//! - o5 dave 30.00 USD Mar 5, no touches → unattributed.
//! - o6 frank 10.00 USD Apr 29 (provisional); touch t5 instagram · creator c1, no content.
//! - Spend camp_ig (meta, instagram, creator c1 through the campaign): Mar 2 20.00 USD, Mar 3
//!   10.00 EUR (rate 1.2 → 12.00 USD). camp_g (google, search): Mar 2 25.00 USD, Mar 4 5.00 GBP
//!   (no rate → missing fx). Creator fee c1 30.00 USD Mar 1.

use lookback_core::attribution::{Model, ModelParams};
use lookback_store::{
    AdSpend, AdjustmentKind, Campaign, Content, Creator, CreatorCost, CreatorCostKind, FxRate,
    IdentityKeys, Order, OrderAdjustment, Source, Store, StoreError, Touch,
};

pub const DAY: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z (a Sunday).
pub const MAR1: i64 = 1_772_323_200_000;
pub const NOW: i64 = MAR1 + 60 * DAY;

fn keys(person: &str, customer: bool) -> IdentityKeys {
    IdentityKeys {
        anonymous_id: Some(format!("anon-{person}")),
        customer_id: customer.then(|| format!("cust-{person}")),
        ..IdentityKeys::default()
    }
}

fn touch(
    id: &str,
    person: &str,
    at: i64,
    channel: &str,
    creator: Option<&str>,
    content: Option<&str>,
    campaign: Option<&str>,
) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "test".into(),
        occurred_at_ms: at,
        channel: channel.into(),
        touch_type: "click".into(),
        creator_id: creator.map(Into::into),
        campaign_id: campaign.map(Into::into),
        ad_id: None,
        content_id: content.map(Into::into),
        click_id: None,
        identity: keys(person, false),
        raw_event_id: None,
    }
}

/// A paid USD order of `person` (an anonymous and a customer id).
pub(crate) fn order(id: &str, person: &str, at: i64, gross: i64) -> Order {
    Order {
        order_id: id.into(),
        source: "test".into(),
        occurred_at_ms: at,
        gross_minor: gross,
        currency: "USD".into(),
        status: "paid".into(),
        click_id: None,
        identity: keys(person, true),
        raw_event_id: None,
    }
}

/// A succeeded USD refund of `order_id`.
pub(crate) fn refund(id: &str, order_id: &str, at: i64, amount: i64) -> OrderAdjustment {
    OrderAdjustment {
        adjustment_id: id.into(),
        order_id: order_id.into(),
        source: "test".into(),
        kind: AdjustmentKind::Refund,
        occurred_at_ms: at,
        amount_minor: amount,
        currency: "USD".into(),
        status: "succeeded".into(),
        raw_event_id: None,
    }
}

/// A spend row of account `acct` in UTC.
pub fn spend(
    platform: &str,
    campaign: &str,
    channel: &str,
    day: &str,
    minor: i64,
    currency: &str,
) -> AdSpend {
    AdSpend {
        platform: platform.into(),
        account_id: "acct".into(),
        campaign_id: campaign.into(),
        ad_id: String::new(),
        day: day.into(),
        account_timezone: "UTC".into(),
        channel: channel.into(),
        creator_id: None,
        spend_minor: minor,
        currency: currency.into(),
        impressions: Some(1000),
        clicks: Some(10),
        source: "test".into(),
        raw_event_id: None,
        updated_at_ms: MAR1,
    }
}

/// The workspace described in the module docs, at `dir/w.lookback`.
pub fn workspace(dir: &tempfile::TempDir) -> Store {
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    store
        .write(|tx| -> Result<(), StoreError> {
            tx.upsert_source(&Source {
                source_id: "meta".into(),
                kind: "meta_ads".into(),
                name: "Meta".into(),
                base_url: None,
                account: None,
                credential_ref: None,
                created_at_ms: MAR1,
                last_attempt_at_ms: Some(NOW - 240_000),
                last_success_at_ms: Some(NOW - 240_000),
                last_error: None,
            })?;
            for (id, name, platform) in [("c1", "Ana", "instagram"), ("c2", "Ben", "tiktok")] {
                tx.upsert_creator(&Creator {
                    creator_id: id.into(),
                    display_name: name.into(),
                    handle: None,
                    platform: Some(platform.into()),
                    created_at_ms: None,
                })?;
            }
            tx.upsert_campaign(&Campaign {
                campaign_id: "camp_ig".into(),
                platform: "meta".into(),
                account_id: Some("acct".into()),
                name: "Ana whitelisted".into(),
                channel: "instagram".into(),
                creator_id: Some("c1".into()),
            })?;
            tx.upsert_campaign(&Campaign {
                campaign_id: "camp_g".into(),
                platform: "google".into(),
                account_id: Some("acct".into()),
                name: "Brand search".into(),
                channel: "search".into(),
                creator_id: None,
            })?;
            for (id, kind, title) in [("p1", "post", "Spring haul"), ("p2", "story", "Unboxing")] {
                tx.upsert_content(&Content {
                    content_id: id.into(),
                    creator_id: Some("c1".into()),
                    kind: kind.into(),
                    title: title.into(),
                    url: Some(format!("https://example.com/{id}")),
                    published_at_ms: Some(MAR1),
                })?;
            }
            tx.insert_touch(&touch(
                "t1",
                "alice",
                MAR1 + 3_600_000,
                "instagram",
                Some("c1"),
                Some("p1"),
                Some("camp_ig"),
            ))?;
            tx.insert_touch(&touch(
                "t2",
                "bob",
                MAR1 + DAY,
                "search",
                None,
                None,
                Some("camp_g"),
            ))?;
            tx.insert_touch(&touch(
                "t3",
                "carol",
                MAR1 + 2 * DAY,
                "instagram",
                Some("c1"),
                Some("p1"),
                Some("camp_ig"),
            ))?;
            tx.insert_touch(&touch(
                "t4",
                "carol",
                MAR1 + 2 * DAY + DAY / 2,
                "search",
                None,
                None,
                Some("camp_g"),
            ))?;
            tx.insert_touch(&touch(
                "t5",
                "frank",
                NOW - 2 * DAY,
                "instagram",
                Some("c1"),
                None,
                None,
            ))?;
            tx.insert_order(&order("o1", "alice", MAR1 + DAY, 10_000))?;
            tx.insert_order(&order("o2", "bob", MAR1 + 2 * DAY, 5_000))?;
            tx.insert_order(&order("o3", "carol", MAR1 + 3 * DAY, 8_000))?;
            tx.insert_order(&order("o4", "carol", MAR1 + 43 * DAY, 2_000))?;
            tx.insert_order(&order("o5", "dave", MAR1 + 4 * DAY, 3_000))?;
            tx.insert_order(&order("o6", "frank", NOW - DAY, 1_000))?;
            tx.insert_adjustment(&refund("r2", "o2", MAR1 + 5 * DAY, 1_000))?;
            tx.insert_adjustment(&refund("r3", "o3", MAR1 + 5 * DAY, 2_000))?;
            tx.upsert_ad_spend(&spend(
                "meta",
                "camp_ig",
                "instagram",
                "2026-03-02",
                2_000,
                "USD",
            ))?;
            tx.upsert_ad_spend(&spend(
                "meta",
                "camp_ig",
                "instagram",
                "2026-03-03",
                1_000,
                "EUR",
            ))?;
            tx.upsert_ad_spend(&spend(
                "google",
                "camp_g",
                "search",
                "2026-03-02",
                2_500,
                "USD",
            ))?;
            tx.upsert_ad_spend(&spend(
                "google",
                "camp_g",
                "search",
                "2026-03-04",
                500,
                "GBP",
            ))?;
            tx.upsert_fx_rate(&FxRate {
                day: "2026-03-03".into(),
                from_currency: "EUR".into(),
                to_currency: "USD".into(),
                rate: "1.2".into(),
                source: "test".into(),
            })?;
            tx.insert_creator_cost(&CreatorCost {
                cost_id: "fee1".into(),
                creator_id: "c1".into(),
                day: "2026-03-01".into(),
                kind: CreatorCostKind::Fee,
                amount_minor: 3_000,
                currency: "USD".into(),
                source: "test".into(),
                raw_event_id: None,
            })?;
            Ok(())
        })
        .unwrap();
    store
}

/// Runs (or reuses) `model` with default parameters at `NOW` and returns the run id.
pub fn run(store: &mut Store, model: Model) -> i64 {
    lookback_engine::run_model(store, model, &ModelParams::default(), NOW)
        .unwrap()
        .run_id
}
