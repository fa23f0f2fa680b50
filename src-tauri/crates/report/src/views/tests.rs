//! The views against the hand-built workspace of `test_support` (numbers worked out by hand in
//! its module docs).

use lookback_core::attribution::Model;
use lookback_core::time::{NaiveDate, TimeBucket};

use super::test_support::{DAY, MAR1, NOW, run, spend, workspace};
use super::*;
use crate::{
    CreditKey, ReportError, RoasRow, cac_view, compare_view, creator_revenue_view, credits_by,
    roas_view, roas_view_cached,
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn find<'a, T>(rows: &'a [T], key: &str, get: impl Fn(&T) -> &str) -> &'a T {
    rows.iter()
        .find(|r| get(r) == key)
        .unwrap_or_else(|| panic!("no row {key}"))
}

#[test]
fn roas_by_creator_with_fx_spend_creator_fees_and_totals() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let view = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Creator)).unwrap();
    assert_eq!(view.currency, "USD");

    let c1 = find(&view.rows, "c1", |r| &r.key);
    assert_eq!(c1.label, "Ana");
    assert_eq!(c1.attributed_revenue_minor, 14_000); // 100 + 60/2 + 10
    // 20.00 USD + 10.00 EUR at Mar 3's 1.2 (12.00) of spend, through the campaign's creator.
    assert_eq!(c1.ad_spend_minor, 3_200);
    assert_eq!(c1.creator_cost_minor, 3_000);
    assert_eq!(c1.cost_minor, 6_200);
    assert_eq!(c1.roas.unwrap().to_decimal_string(2), "2.26");
    assert_eq!(c1.orders_credited_ppb, 2_500_000_000);
    assert_eq!(c1.provisional_revenue_minor, 1_000);

    let none = find(&view.rows, NONE_KEY, |r| &r.key);
    // The row of what came through no creator says so in words; its key stays for machines.
    assert_eq!(none.label, "Not through a creator: ads, email, direct…");
    assert_eq!(none.attributed_revenue_minor, 7_000);
    // 25.00 USD; the 5.00 GBP without a rate is left out and said so, never taken at 1.0.
    assert_eq!(none.cost_minor, 2_500);
    assert_eq!(none.missing_fx_cost_rows, 1);
    assert_eq!(none.roas.unwrap().to_decimal_string(2), "2.80");
    assert_eq!(view.provenance.missing_fx_costs.len(), 1);
    assert_eq!(view.provenance.missing_fx_costs[0].currency, "GBP");
    assert_eq!(view.provenance.missing_fx_costs[0].amount_minor, 500);

    // Totals are exactly the sum of the rows, and the whole selection.
    let sum = |f: fn(&RoasRow) -> i64| view.rows.iter().map(f).sum::<i64>();
    assert_eq!(
        view.totals.attributed_revenue_minor,
        sum(|r| r.attributed_revenue_minor)
    );
    assert_eq!(view.totals.cost_minor, sum(|r| r.cost_minor));
    assert_eq!(view.totals.ad_spend_minor, sum(|r| r.ad_spend_minor));
    assert_eq!(
        view.totals.orders_credited_ppb,
        sum(|r| r.orders_credited_ppb)
    );
    assert_eq!(view.totals.attributed_revenue_minor, 21_000);
    assert_eq!(view.totals.cost_minor, 8_700);
    assert_eq!(view.totals.roas.unwrap().to_decimal_string(2), "2.41");
    // The same revenue as the credits report of the same run.
    let credits = credits_by(&store, run_id, CreditKey::Creator, None, false).unwrap();
    assert_eq!(
        credits.total_revenue_minor,
        view.totals.attributed_revenue_minor
    );

    // Provenance: run, model, sources, unattributed, join kinds adding up to the revenue.
    let p = &view.provenance;
    assert_eq!(p.run_id, run_id);
    assert_eq!(p.model, "linear");
    assert_eq!(p.freshness.len(), 1);
    assert_eq!(p.freshness[0].name, "Meta");
    assert_eq!(p.unattributed_orders, 2);
    assert_eq!(p.unattributed_minor, 5_000);
    assert_eq!(p.provisional_minor, 1_000);
    let joins = p.revenue_by_join_kind;
    assert_eq!(
        joins.deterministic_minor + joins.identity_graph_minor + joins.probabilistic_minor,
        21_000
    );
}

#[test]
fn roas_without_cost_is_none_and_shown_as_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let view = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Content)).unwrap();
    let p1 = find(&view.rows, "p1", |r| &r.key);
    assert_eq!(p1.label, "Spring haul");
    assert_eq!(p1.attributed_revenue_minor, 13_000);
    assert_eq!(p1.cost_minor, 0);
    assert_eq!(p1.roas, None);
    assert_eq!(crate::format_ratio(p1.roas.as_ref(), 2), "—");
    // Spend is not recorded per post: it is the "(none)" row's; the fee is its own row.
    assert_eq!(find(&view.rows, NONE_KEY, |r| &r.key).ad_spend_minor, 5_700);
    let fees = find(&view.rows, CREATOR_COSTS_KEY, |r| &r.key);
    assert_eq!((fees.attributed_revenue_minor, fees.cost_minor), (0, 3_000));
    assert_eq!(fees.roas.unwrap().to_decimal_string(2), "0.00");
    assert_eq!(view.totals.cost_minor, 8_700);
}

#[test]
fn roas_by_channel_and_platform_map_spend_to_the_same_keys_as_touches() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let channels = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Channel)).unwrap();
    let ig = find(&channels.rows, "instagram", |r| &r.key);
    assert_eq!(
        (ig.attributed_revenue_minor, ig.cost_minor),
        (14_000, 3_200)
    );
    assert_eq!(ig.roas.unwrap().to_decimal_string(2), "4.38");
    let platforms = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Platform)).unwrap();
    // t1/t3 through camp_ig (meta), t5 through creator c1's platform (instagram).
    assert_eq!(
        find(&platforms.rows, "meta", |r| &r.key).attributed_revenue_minor,
        13_000
    );
    assert_eq!(find(&platforms.rows, "meta", |r| &r.key).cost_minor, 3_200);
    assert_eq!(
        find(&platforms.rows, "instagram", |r| &r.key).attributed_revenue_minor,
        1_000
    );
    assert_eq!(
        find(&platforms.rows, "google", |r| &r.key).attributed_revenue_minor,
        7_000
    );
    assert_eq!(
        platforms.totals.attributed_revenue_minor,
        channels.totals.attributed_revenue_minor
    );
    assert_eq!(platforms.totals.cost_minor, channels.totals.cost_minor);
}

#[test]
fn roas_settled_only_and_day_range() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let mut q = ViewQuery::new(run_id, ViewKey::Creator);
    q.settled_only = true;
    let view = roas_view(&store, &q).unwrap();
    let c1 = find(&view.rows, "c1", |r| &r.key);
    assert_eq!(c1.attributed_revenue_minor, 13_000); // o6 is provisional
    assert_eq!(c1.provisional_revenue_minor, 0);
    assert_eq!(c1.cost_minor, 6_200); // cost is not filtered by settlement
    assert_eq!(view.provenance.provisional_minor, 0);

    // Mar 2 only: o1's revenue, Mar 2's spend; the Mar 1 fee and later spend fall outside.
    q = ViewQuery {
        from: Some(day(2026, 3, 2)),
        to: Some(day(2026, 3, 2)),
        ..ViewQuery::new(run_id, ViewKey::Creator)
    };
    let view = roas_view(&store, &q).unwrap();
    let c1 = find(&view.rows, "c1", |r| &r.key);
    assert_eq!(
        (c1.attributed_revenue_minor, c1.cost_minor),
        (10_000, 2_000)
    );
    assert_eq!(c1.roas.unwrap().to_decimal_string(2), "5.00");

    q.from = Some(day(2026, 3, 5));
    assert!(matches!(
        roas_view(&store, &q),
        Err(ReportError::InvalidRange { .. })
    ));
}

#[test]
fn roas_bucketed_by_week_adds_up_to_the_unbucketed_view() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let q = ViewQuery {
        bucket: Some(TimeBucket::Week),
        ..ViewQuery::new(run_id, ViewKey::Creator)
    };
    let view = roas_view(&store, &q).unwrap();
    let c1: Vec<(&str, i64, i64)> = view
        .rows
        .iter()
        .filter(|r| r.key == "c1")
        .map(|r| {
            (
                r.bucket.as_deref().unwrap(),
                r.attributed_revenue_minor,
                r.cost_minor,
            )
        })
        .collect();
    // Mar 1 (Sunday) is in W09 with the fee; Mar 2–8 is W10; Apr 29 is W18.
    assert_eq!(
        c1,
        vec![
            ("2026-W09", 0, 3_000),
            ("2026-W10", 13_000, 3_200),
            ("2026-W18", 1_000, 0)
        ]
    );
    let w18 = view
        .rows
        .iter()
        .find(|r| r.bucket.as_deref() == Some("2026-W18"))
        .unwrap();
    assert_eq!(w18.roas, None);
    let flat = roas_view(&store, &ViewQuery::new(run_id, ViewKey::Creator)).unwrap();
    assert_eq!(view.totals, flat.totals);
}

/// The window keeps costs between views, so a model switch reads only the new run's credits:
/// the views it builds are exactly the views without the cache, and a kept cost never outlives
/// a write — a rate for the GBP spend's day, or spend another connection adds.
#[test]
fn views_with_kept_costs_equal_fresh_views_and_follow_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let linear = run(&mut store, Model::Linear);
    let last = run(&mut store, Model::LastTouch);
    let mut cache = ViewCache::new();
    for run_id in [linear, last, linear] {
        for by in ViewKey::ALL {
            for bucket in [None, Some(TimeBucket::Week)] {
                let q = ViewQuery {
                    bucket,
                    ..ViewQuery::new(run_id, by)
                };
                assert_eq!(
                    roas_view_cached(&store, &q, &mut cache).unwrap(),
                    roas_view(&store, &q).unwrap(),
                    "{q:?}"
                );
            }
        }
    }

    let q = ViewQuery::new(linear, ViewKey::Creator);
    let before = roas_view_cached(&store, &q, &mut cache).unwrap();
    assert_eq!(before.provenance.missing_fx_costs.len(), 1);
    store
        .write(|tx| {
            tx.upsert_fx_rate(&lookback_store::FxRate {
                day: "2026-03-04".into(),
                from_currency: "GBP".into(),
                to_currency: "USD".into(),
                rate: "1.25".into(),
                source: "test".into(),
            })
        })
        .unwrap();
    let rated = roas_view_cached(&store, &q, &mut cache).unwrap();
    assert!(rated.provenance.missing_fx_costs.is_empty());
    // 5.00 GBP at 1.25 on the (none) row.
    assert_eq!(rated.totals.cost_minor, before.totals.cost_minor + 625);
    assert_eq!(rated, roas_view(&store, &q).unwrap());

    let mut other = lookback_store::Store::open(dir.path().join("w.lookback")).unwrap();
    other
        .write(|tx| {
            tx.upsert_ad_spend(&spend(
                "meta",
                "camp_ig",
                "instagram",
                "2026-03-05",
                4_000,
                "USD",
            ))
        })
        .unwrap();
    drop(other);
    let added = roas_view_cached(&store, &q, &mut cache).unwrap();
    assert_eq!(
        find(&added.rows, "c1", |r| &r.key).ad_spend_minor,
        find(&rated.rows, "c1", |r| &r.key).ad_spend_minor + 4_000
    );
    assert_eq!(added, roas_view(&store, &q).unwrap());
}

#[test]
fn cac_with_fractional_new_customers_and_payback_windows() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let q = ViewQuery {
        to: Some(day(2026, 3, 31)),
        ..ViewQuery::new(run_id, ViewKey::Creator)
    };

    // Long after: every window is over.
    let later = MAR1 + 200 * DAY;
    let view = cac_view(&store, &q, later).unwrap();
    let c1 = find(&view.rows, "c1", |r| &r.key);
    // alice's first order (1) + half of carol's (0.5); carol's o4 is a repeat, dave unattributed.
    assert_eq!(c1.new_customers_ppb, 1_500_000_000);
    assert_eq!(c1.cost_minor, 6_200);
    assert_eq!(c1.cac_minor, Some(4_133)); // 62.00 / 1.5 = 41.333…
    // 30 days: alice 100 + ½·carol 60 = 130; 60/90 days: carol's o4 (day 40) adds ½·20.
    assert_eq!(c1.payback_30.unwrap().to_decimal_string(2), "2.10");
    assert_eq!(c1.payback_60.unwrap().to_decimal_string(2), "2.26");
    assert_eq!(c1.payback_90.unwrap().to_decimal_string(2), "2.26");
    assert!(c1.payback_windows_open.is_empty());
    let none = find(&view.rows, NONE_KEY, |r| &r.key);
    assert_eq!(none.new_customers_ppb, 1_500_000_000);
    assert_eq!(none.cac_minor, Some(1_667));
    assert_eq!(none.payback_30.unwrap().to_decimal_string(2), "2.80");
    assert_eq!(none.payback_60.unwrap().to_decimal_string(2), "3.20");
    assert_eq!(
        view.totals.new_customers_ppb,
        view.rows.iter().map(|r| r.new_customers_ppb).sum::<i64>()
    );
    assert_eq!(
        view.totals.cost_minor,
        view.rows.iter().map(|r| r.cost_minor).sum::<i64>()
    );
    assert_eq!(view.totals.cac_minor, Some(2_900));

    // At NOW (Apr 30) carol's 60- and 90-day windows (from Mar 4) are still open.
    let view = cac_view(&store, &q, NOW).unwrap();
    let c1 = find(&view.rows, "c1", |r| &r.key);
    assert!(c1.payback_30.is_some());
    assert_eq!((c1.payback_60, c1.payback_90), (None, None));
    assert_eq!(c1.payback_windows_open, vec![60, 90]);
    // Every window over for both of c1's new customers at NOW's 30 days; none at 60 and 90.
    assert_eq!(c1.payback_customers_ppb, [1_500_000_000, 0, 0]);

    // Two days on, alice's 60-day window (from Mar 2) has closed and carol's (from Mar 4) has
    // not: the 60-day payback is alice's alone. She brought 100.00 in 60 days; one new customer
    // of c1 cost 62.00 ÷ 1.5 = 41.33, so 100.00 ÷ 41.33 = 2.419… ("2.42"), over 1 of 1.5.
    let view = cac_view(&store, &q, MAR1 + 62 * DAY).unwrap();
    let c1 = find(&view.rows, "c1", |r| &r.key);
    assert_eq!(c1.payback_customers_ppb, [1_500_000_000, 1_000_000_000, 0]);
    assert_eq!(c1.payback_60.unwrap().to_decimal_string(2), "2.42");
    assert_eq!(c1.payback_30.unwrap().to_decimal_string(2), "2.10");
    assert_eq!(c1.payback_90, None);
    assert_eq!(c1.payback_windows_open, vec![60, 90]);
    // The totals count every row's closed customers.
    assert_eq!(
        view.totals.payback_customers_ppb[1],
        view.rows
            .iter()
            .map(|r| r.payback_customers_ppb[1])
            .sum::<i64>()
    );

    // A key with cost and no new customer has no CAC; the fee row under channels is one.
    let channels = cac_view(&store, &ViewQuery::new(run_id, ViewKey::Channel), later).unwrap();
    let fees = find(&channels.rows, CREATOR_COSTS_KEY, |r| &r.key);
    assert_eq!((fees.cac_minor, fees.cost_minor), (None, 3_000));
}

#[test]
fn compare_shows_each_runs_revenue_and_the_spread() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let linear = run(&mut store, Model::Linear);
    let last = run(&mut store, Model::LastTouch);
    let view = compare_view(
        &store,
        ViewKey::Creator,
        &[linear, last],
        None,
        None,
        false,
        CreditBasis::Cash,
    )
    .unwrap();
    assert_eq!(view.models.len(), 2);
    assert_eq!(view.models[1].model, "last-touch");
    let c1 = find(&view.rows, "c1", |r| &r.key);
    assert_eq!(c1.revenue_minor, vec![14_000, 11_000]);
    assert_eq!(c1.spread_minor, 3_000);
    assert_eq!(c1.spread_ratio.unwrap().to_decimal_string(2), "0.21");
    let none = find(&view.rows, NONE_KEY, |r| &r.key);
    assert_eq!(none.revenue_minor, vec![7_000, 10_000]);
    assert_eq!(none.spread_ratio.unwrap().to_decimal_string(2), "0.30");
    assert_eq!(view.totals.revenue_minor, vec![21_000, 21_000]);
    assert_eq!(view.totals.spread_minor, 0);
    assert!(matches!(
        compare_view(
            &store,
            ViewKey::Creator,
            &[],
            None,
            None,
            false,
            CreditBasis::Cash
        ),
        Err(ReportError::NothingToCompare)
    ));
}

#[test]
fn creator_revenue_gross_refunds_net_settled_and_provisional() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let view = creator_revenue_view(&store, run_id, "c1", None, None, CreditBasis::Cash).unwrap();
    assert_eq!(view.display_name, "Ana");
    assert_eq!(view.net_minor, 14_000);
    assert_eq!(view.refunds_minor, 1_000); // half of o3's 20.00 refund
    assert_eq!(view.gross_minor, 15_000);
    assert_eq!(view.gross_minor - view.refunds_minor, view.net_minor);
    assert_eq!(
        (view.settled_minor, view.provisional_minor),
        (13_000, 1_000)
    );
    let orders: Vec<(&str, i64, i64)> = view
        .orders
        .iter()
        .map(|o| (o.order_id.as_str(), o.share_ppb, o.credited_revenue_minor))
        .collect();
    assert_eq!(
        orders,
        vec![
            ("o1", 1_000_000_000, 10_000),
            ("o3", 500_000_000, 3_000),
            ("o6", 1_000_000_000, 1_000)
        ]
    );
    let o3 = &view.orders[1];
    assert_eq!(
        (o3.gross_minor_reporting, o3.net_minor, o3.refunded_minor),
        (Some(8_000), 6_000, 2_000)
    );
    assert!(view.orders[2].provisional);
    let content: Vec<(&str, i64)> = view
        .content
        .iter()
        .map(|c| (c.content_id.as_str(), c.attributed_revenue_minor))
        .collect();
    assert_eq!(content, vec![("p1", 13_000), (NONE_KEY, 1_000), ("p2", 0)]);
    let days: Vec<(NaiveDate, i64)> = view
        .by_day
        .iter()
        .map(|d| (d.day, d.revenue_minor))
        .collect();
    assert_eq!(
        days,
        vec![
            (day(2026, 3, 2), 10_000),
            (day(2026, 3, 4), 3_000),
            (day(2026, 4, 29), 1_000)
        ]
    );
    assert!(matches!(
        creator_revenue_view(&store, run_id, "nobody", None, None, CreditBasis::Cash),
        Err(ReportError::UnknownCreator { .. })
    ));
}

#[test]
fn view_keys_parse_by_name() {
    for key in ViewKey::ALL {
        assert_eq!(ViewKey::parse(key.as_str()).unwrap(), key);
    }
    assert_eq!(ViewKey::parse("Platform").unwrap(), ViewKey::Platform);
    assert!(ViewKey::parse("order").is_err());
}
