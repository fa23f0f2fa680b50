//! Engine and report behaviour against hand-built workspaces (real SQLite files in temp dirs):
//! run reuse, fx at the order day's rate, missing fx, provisional orders, unattributed orders,
//! conservation, the model log, previews, and reports that add up.

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::time::NaiveDate;
use lookback_engine::{current_model, run_model, set_model};
use lookback_report::{CreditKey, credits_by, weights};
use lookback_store::{
    AdjustmentKind, FxRate, IdentityKeys, Order, OrderAdjustment, RunOrderOutcome, Store, Touch,
};

const DAY: i64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const MAR1: i64 = 1_772_323_200_000;
const NOW: i64 = MAR1 + 60 * DAY;

fn anon(id: &str) -> IdentityKeys {
    IdentityKeys {
        anonymous_id: Some(id.into()),
        ..IdentityKeys::default()
    }
}

fn touch(id: &str, person: &str, at: i64, channel: &str, creator: Option<&str>) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "test".into(),
        occurred_at_ms: at,
        channel: channel.into(),
        touch_type: "click".into(),
        creator_id: creator.map(Into::into),
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: None,
        identity: anon(person),
        raw_event_id: None,
    }
}

fn order(id: &str, person: &str, at: i64, gross: i64, currency: &str) -> Order {
    Order {
        order_id: id.into(),
        source: "test".into(),
        occurred_at_ms: at,
        gross_minor: gross,
        currency: currency.into(),
        status: "paid".into(),
        click_id: None,
        identity: anon(person),
        raw_event_id: None,
    }
}

fn fx(day: &str, from: &str, to: &str, rate: &str) -> FxRate {
    FxRate {
        day: day.into(),
        from_currency: from.into(),
        to_currency: to.into(),
        rate: rate.into(),
        source: "test".into(),
    }
}

/// A small workspace:
/// - o1 (alice, USD 100.00, Mar 2): touches ig (creator c1) then direct → attributed.
/// - o2 (bob, EUR 50.00, Mar 3, refund 10.00): touch tiktok (c2); EUR→USD 1.2 on Mar 3, 1.5 on Mar 4 → 48.00 USD.
/// - o3 (carol, GBP 20.00, Mar 3): touch ig, no GBP rate → missing_fx.
/// - o4 (dave, USD 30.00, Mar 3): no touches → unattributed.
/// - o5 (erin, USD 40.00, Mar 20 — young at NOW? no: 41 days old; open chargeback → provisional).
/// - o6 (frank, USD 10.00, NOW − 1 day): young → provisional.
/// - gina: a touch and no order (a non-converting path).
fn workspace(dir: &tempfile::TempDir) -> Store {
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    store
        .write(|tx| -> Result<(), lookback_store::StoreError> {
            tx.insert_touch(&touch(
                "t1",
                "alice",
                MAR1 + 3_600_000,
                "instagram",
                Some("c1"),
            ))?;
            tx.insert_touch(&touch("t2", "alice", MAR1 + 7_200_000, "direct", None))?;
            tx.insert_touch(&touch("t3", "bob", MAR1 + DAY, "tiktok", Some("c2")))?;
            tx.insert_touch(&touch("t4", "carol", MAR1 + DAY, "instagram", Some("c1")))?;
            tx.insert_touch(&touch("t5", "erin", MAR1 + 18 * DAY, "tiktok", Some("c2")))?;
            tx.insert_touch(&touch("t6", "frank", NOW - 2 * DAY, "instagram", None))?;
            tx.insert_touch(&touch("t7", "gina", MAR1 + DAY, "tiktok", None))?;
            tx.insert_order(&order("o1", "alice", MAR1 + DAY, 10_000, "USD"))?;
            tx.insert_order(&order(
                "o2",
                "bob",
                MAR1 + 2 * DAY + 3_600_000,
                5_000,
                "EUR",
            ))?;
            tx.insert_order(&order("o3", "carol", MAR1 + 2 * DAY, 2_000, "GBP"))?;
            tx.insert_order(&order("o4", "dave", MAR1 + 2 * DAY, 3_000, "USD"))?;
            tx.insert_order(&order("o5", "erin", MAR1 + 19 * DAY, 4_000, "USD"))?;
            tx.insert_order(&order("o6", "frank", NOW - DAY, 1_000, "USD"))?;
            tx.insert_adjustment(&OrderAdjustment {
                adjustment_id: "r1".into(),
                order_id: "o2".into(),
                source: "test".into(),
                kind: AdjustmentKind::Refund,
                occurred_at_ms: MAR1 + 4 * DAY,
                amount_minor: 1_000,
                currency: "EUR".into(),
                status: "succeeded".into(),
                raw_event_id: None,
            })?;
            tx.insert_adjustment(&OrderAdjustment {
                adjustment_id: "cb1".into(),
                order_id: "o5".into(),
                source: "test".into(),
                kind: AdjustmentKind::Chargeback,
                occurred_at_ms: MAR1 + 25 * DAY,
                amount_minor: 0,
                currency: "USD".into(),
                status: "open".into(),
                raw_event_id: None,
            })?;
            tx.upsert_fx_rate(&fx("2026-03-03", "EUR", "USD", "1.2"))?;
            tx.upsert_fx_rate(&fx("2026-03-04", "EUR", "USD", "1.5"))?;
            Ok(())
        })
        .unwrap();
    store
}

fn run_orders(
    store: &Store,
    run_id: i64,
) -> std::collections::HashMap<String, lookback_store::RunOrder> {
    store
        .run_orders(run_id)
        .unwrap()
        .into_iter()
        .map(|o| (o.order_id.clone(), o))
        .collect()
}

#[test]
fn outcomes_fx_provisional_and_conservation() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let summary = run_model(&mut store, Model::Linear, &ModelParams::default(), NOW).unwrap();
    assert!(!summary.reused);
    let orders = run_orders(&store, summary.run_id);

    assert_eq!(orders["o1"].outcome, RunOrderOutcome::Attributed);
    assert_eq!(orders["o1"].net_minor, 10_000);
    // (50.00 − 10.00) EUR at the Mar 3 rate 1.2, not Mar 4's 1.5.
    assert_eq!(orders["o2"].outcome, RunOrderOutcome::Attributed);
    assert_eq!(orders["o2"].net_minor, 4_800);
    // No GBP rate: not converted, not credited, net kept in GBP.
    assert_eq!(orders["o3"].outcome, RunOrderOutcome::MissingFx);
    assert_eq!(orders["o3"].net_minor, 2_000);
    assert_eq!(orders["o4"].outcome, RunOrderOutcome::Unattributed);
    // Old but disputed → provisional; young → provisional; old and undisputed → settled.
    assert!(orders["o5"].provisional);
    assert!(orders["o6"].provisional);
    assert!(!orders["o1"].provisional);

    assert_eq!(summary.orders, 6);
    assert_eq!(summary.attributed_orders, 4);
    assert_eq!(summary.unattributed_orders, 1);
    assert_eq!(summary.unattributed_revenue_minor, 3_000);
    assert_eq!(summary.missing_fx_orders(), 1);
    assert_eq!(summary.missing_fx[0].currency, "GBP");
    assert_eq!(summary.missing_fx[0].net_minor, 2_000);
    assert_eq!(
        summary.attributed_revenue_minor,
        10_000 + 4_800 + 4_000 + 1_000
    );
    assert_eq!(summary.provisional_revenue_minor, 4_000 + 1_000);

    // Conservation, checked independently of the engine: per order Σ revenue = net, Σ share = 1e9.
    let credits = store.credits_for_run(summary.run_id).unwrap();
    for (id, order) in &orders {
        let mine: Vec<_> = credits.iter().filter(|c| &c.order_id == id).collect();
        if order.outcome == RunOrderOutcome::Attributed {
            assert_eq!(
                mine.iter().map(|c| c.revenue_minor).sum::<i64>(),
                order.net_minor,
                "{id}"
            );
            assert_eq!(
                mine.iter().map(|c| c.share_ppb).sum::<i64>(),
                1_000_000_000,
                "{id}"
            );
        } else {
            assert!(mine.is_empty(), "{id} has credits");
        }
    }
    // Linear over alice's two touches: 50.00 each.
    let o1: Vec<_> = credits
        .iter()
        .filter(|c| c.order_id == "o1")
        .map(|c| (c.touch_id.as_str(), c.revenue_minor))
        .collect();
    assert_eq!(o1, vec![("t1", 5_000), ("t2", 5_000)]);
}

#[test]
fn runs_are_reused_until_the_inputs_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let first = run_model(
        &mut store,
        Model::PositionBased,
        &ModelParams::default(),
        NOW,
    )
    .unwrap();
    let again = run_model(
        &mut store,
        Model::PositionBased,
        &ModelParams::default(),
        NOW + 1,
    )
    .unwrap();
    assert!(again.reused);
    assert_eq!(again.run_id, first.run_id);
    assert_eq!(
        again.attributed_revenue_minor,
        first.attributed_revenue_minor
    );

    // Other parameters are another run.
    let week = ModelParams {
        lookback_days: 7,
        ..ModelParams::default()
    };
    let other = run_model(&mut store, Model::PositionBased, &week, NOW).unwrap();
    assert_ne!(other.run_id, first.run_id);

    store
        .write(|tx| {
            tx.insert_order(&order("o9", "alice", MAR1 + 2 * DAY, 500, "USD"))
                .map(|_| ())
        })
        .unwrap();
    let after = run_model(
        &mut store,
        Model::PositionBased,
        &ModelParams::default(),
        NOW,
    )
    .unwrap();
    assert!(!after.reused);
    assert_ne!(after.run_id, first.run_id);
    assert_eq!(after.orders, 7);
}

#[test]
fn a_reused_run_settles_orders_that_matured() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let first = run_model(&mut store, Model::Linear, &ModelParams::default(), NOW).unwrap();
    assert!(run_orders(&store, first.run_id)["o6"].provisional);
    let later = run_model(
        &mut store,
        Model::Linear,
        &ModelParams::default(),
        NOW + 30 * DAY,
    )
    .unwrap();
    assert!(later.reused);
    let orders = run_orders(&store, first.run_id);
    assert!(!orders["o6"].provisional, "matured order is settled now");
    assert!(
        orders["o5"].provisional,
        "the open dispute keeps o5 provisional"
    );
}

#[test]
fn model_changes_are_logged_and_previews_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let (model, params) = current_model(&store).unwrap();
    assert_eq!(model, Model::LastTouch);
    assert_eq!(params, ModelParams::default());

    // A preview runs another model without touching the setting or the log.
    run_model(&mut store, Model::Shapley, &ModelParams::default(), NOW).unwrap();
    assert!(store.model_changes().unwrap().is_empty());
    assert_eq!(current_model(&store).unwrap().0, Model::LastTouch);

    let params = ModelParams {
        lookback_days: 14,
        ..ModelParams::default()
    };
    let change = set_model(
        &mut store,
        Model::PositionBased,
        &params,
        "maria",
        "Q3 review: creators assist",
        NOW,
    )
    .unwrap();
    assert_eq!(change.changed_by, "maria");
    assert_eq!(change.from_model.as_deref(), Some("last-touch"));
    assert_eq!(change.to_model, "position-based");
    assert_eq!(change.parameters_after, params.to_canonical_string());
    assert_eq!(change.reason, "Q3 review: creators assist");
    assert_eq!(
        current_model(&store).unwrap(),
        (Model::PositionBased, params)
    );
    assert_eq!(store.lookback_days().unwrap(), 14);
    assert_eq!(store.model_changes().unwrap().len(), 1);

    // Refused changes write nothing.
    assert!(set_model(&mut store, Model::Linear, &params, "maria", "  ", NOW).is_err());
    let too_long = ModelParams {
        lookback_days: 3651,
        ..ModelParams::default()
    };
    assert!(
        set_model(
            &mut store,
            Model::Linear,
            &too_long,
            "maria",
            "why not",
            NOW
        )
        .is_err()
    );
    assert_eq!(store.model_changes().unwrap().len(), 1);
    assert_eq!(
        lookback_engine::changed_by(Some("ops-profile")),
        "ops-profile"
    );
}

#[test]
fn credits_report_rows_sum_to_totals_and_account_for_every_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let summary = run_model(&mut store, Model::Linear, &ModelParams::default(), NOW).unwrap();
    for by in CreditKey::ALL {
        let report = credits_by(&store, summary.run_id, by, None, false).unwrap();
        assert_eq!(
            report.rows.iter().map(|r| r.revenue_minor).sum::<i64>(),
            report.total_revenue_minor,
            "{by:?}"
        );
        assert_eq!(
            report.rows.iter().map(|r| r.conversions_ppb).sum::<i128>(),
            report.total_conversions_ppb
        );
        assert_eq!(report.total_revenue_minor, summary.attributed_revenue_minor);
        assert_eq!(report.total_conversions_ppb, 4 * 1_000_000_000);
        assert_eq!(report.unattributed.orders, 1);
        assert_eq!(report.missing_fx_orders(), 1);
        assert_eq!(report.provisional_revenue_minor, 5_000);
    }
    let creators = credits_by(&store, summary.run_id, CreditKey::Creator, None, false).unwrap();
    let keys: Vec<(&str, i64)> = creators
        .rows
        .iter()
        .map(|r| (r.key.as_str(), r.revenue_minor))
        .collect();
    // c2: o2 4800 + o5 4000; c1: half of o1; (none): direct half of o1 + frank's 10.00.
    assert_eq!(keys, vec![("c2", 8_800), ("(none)", 6_000), ("c1", 5_000)]);

    // Settled only drops o5 (disputed) and o6 (young).
    let settled = credits_by(&store, summary.run_id, CreditKey::Channel, None, true).unwrap();
    assert_eq!(settled.total_revenue_minor, 10_000 + 4_800);
    assert_eq!(settled.provisional_revenue_minor, 0);

    // A day range in the reporting zone, inclusive: Mar 3 holds o2, o3 (missing fx), o4.
    let day = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let ranged = credits_by(
        &store,
        summary.run_id,
        CreditKey::Channel,
        Some((day, day)),
        false,
    )
    .unwrap();
    assert_eq!(ranged.total_revenue_minor, 4_800);
    assert_eq!(ranged.unattributed.revenue_minor, 3_000);
    assert_eq!(ranged.missing_fx_orders(), 1);

    let csv = lookback_report::render::credits_csv(&creators);
    assert_eq!(
        csv.lines().next(),
        Some("creator,conversions,revenue,currency")
    );
    assert!(csv.contains("c2,2.000000000,88.00,USD"), "{csv}");
    let json = lookback_report::render::credits_json(&creators);
    assert_eq!(json["run"]["model"], "linear");
    assert_eq!(json["run"]["run_id"], summary.run_id);
}

#[test]
fn data_driven_runs_persist_their_weights() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    for model in [Model::Markov, Model::Shapley] {
        let summary = run_model(&mut store, model, &ModelParams::default(), NOW).unwrap();
        let report = weights(&store, summary.run_id).unwrap();
        assert!(!report.rows.is_empty());
        let total: f64 = report.rows.iter().map(|r| r.weight).sum();
        assert!((total - 1.0).abs() < 1e-9, "{model}: {total}");
    }
    let linear = run_model(&mut store, Model::Linear, &ModelParams::default(), NOW).unwrap();
    assert!(weights(&store, linear.run_id).is_err());
}

#[test]
fn every_model_conserves_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    for model in Model::ALL {
        let summary = run_model(&mut store, model, &ModelParams::default(), NOW).unwrap();
        let credited: i64 = store
            .credits_for_run(summary.run_id)
            .unwrap()
            .iter()
            .map(|c| c.revenue_minor)
            .sum();
        assert_eq!(credited, summary.attributed_revenue_minor, "{model}");
    }
}
