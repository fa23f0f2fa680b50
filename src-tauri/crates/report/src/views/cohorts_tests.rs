//! Hand-computed cohorts: a refund after day 30, a first order split between two creators,
//! horizons open for some customers, a customer who first bought before the range.
//!
//! Reporting USD, zone UTC, linear model, `NOW` = 2026-04-15T00:00Z.
//! - A (cust-a): oa1 Jan 10 100.00 (refund 10.00 Jan 15), oa2 Jan 30 50.00 (refund 20.00 Feb 19,
//!   day 40); touch c1 Jan 9.
//! - B (cust-b): ob1 Jan 20 200.00; touches c1 Jan 18, c2 Jan 19 → 0.5 / 0.5.
//! - C (cust-c): oc1 Feb 5 60.00; touch c2 Feb 4.
//! - D (cust-d): od1 Dec 20 2025 10.00 (touch c2 Dec 19), od2 Feb 10 10.00 (no touch).
//! - Cost: spend on camp1 (creator c1) 30.00 Jan 5; creator fee c2 40.00 Jan 15.

use lookback_core::attribution::Model;
use lookback_core::time::{NaiveDate, TimeBucket};
use lookback_store::{
    Campaign, Creator, CreatorCost, CreatorCostKind, IdentityKeys, Store, StoreError, Touch,
};

use super::{ALL_COHORTS, CohortRow, CohortView, cohort_view};
use crate::views::test_support::{DAY, order, refund, spend};
use crate::views::{ViewKey, ViewQuery};

/// 2026-01-01T00:00:00Z.
const JAN1: i64 = 1_767_225_600_000;
const NOW: i64 = JAN1 + 104 * DAY;

fn at(day_of_year: i64) -> i64 {
    JAN1 + (day_of_year - 1) * DAY + 12 * 3_600_000
}

fn ids(person: &str) -> IdentityKeys {
    IdentityKeys {
        customer_id: Some(format!("cust-{person}")),
        anonymous_id: Some(format!("anon-{person}")),
        ..IdentityKeys::default()
    }
}

fn touch(id: &str, person: &str, at: i64, creator: &str, campaign: Option<&str>) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "test".into(),
        occurred_at_ms: at,
        channel: "instagram".into(),
        touch_type: "click".into(),
        creator_id: Some(creator.into()),
        campaign_id: campaign.map(Into::into),
        ad_id: None,
        content_id: None,
        click_id: None,
        identity: IdentityKeys {
            customer_id: None,
            ..ids(person)
        },
        raw_event_id: None,
    }
}

fn workspace(dir: &tempfile::TempDir) -> Store {
    let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
    store
        .write(|tx| -> Result<(), StoreError> {
            for (id, name) in [("c1", "Ana"), ("c2", "Ben")] {
                tx.upsert_creator(&Creator {
                    creator_id: id.into(),
                    display_name: name.into(),
                    handle: None,
                    platform: Some("instagram".into()),
                    created_at_ms: None,
                })?;
            }
            tx.upsert_campaign(&Campaign {
                campaign_id: "camp1".into(),
                platform: "meta".into(),
                account_id: Some("acct".into()),
                name: "Ana whitelisted".into(),
                channel: "instagram".into(),
                creator_id: Some("c1".into()),
            })?;
            // Dec 19 2025 is day -12 of 2026.
            tx.insert_touch(&touch("td", "d", at(-12), "c2", None))?;
            tx.insert_order(&order("od1", "d", at(-11), 1_000))?;
            tx.insert_order(&order("od2", "d", at(41), 1_000))?;
            tx.insert_touch(&touch("ta", "a", at(9), "c1", Some("camp1")))?;
            tx.insert_order(&order("oa1", "a", at(10), 10_000))?;
            tx.insert_adjustment(&refund("ra1", "oa1", at(15), 1_000))?;
            tx.insert_order(&order("oa2", "a", at(30), 5_000))?;
            // Day 40 after oa1 (Jan 10 + 40 days = Feb 19).
            tx.insert_adjustment(&refund("ra2", "oa2", at(50), 2_000))?;
            tx.insert_touch(&touch("tb1", "b", at(18), "c1", Some("camp1")))?;
            tx.insert_touch(&touch("tb2", "b", at(19), "c2", None))?;
            tx.insert_order(&order("ob1", "b", at(20), 20_000))?;
            tx.insert_touch(&touch("tc", "c", at(35), "c2", None))?;
            tx.insert_order(&order("oc1", "c", at(36), 6_000))?;
            tx.upsert_ad_spend(&spend(
                "meta",
                "camp1",
                "instagram",
                "2026-01-05",
                3_000,
                "USD",
            ))?;
            tx.insert_creator_cost(&CreatorCost {
                cost_id: "fee-c2".into(),
                creator_id: "c2".into(),
                day: "2026-01-15".into(),
                kind: CreatorCostKind::Fee,
                amount_minor: 4_000,
                currency: "USD".into(),
                source: "test".into(),
                raw_event_id: None,
            })?;
            Ok(())
        })
        .unwrap();
    store
}

fn view(store: &mut Store, bucket: Option<TimeBucket>, from: Option<NaiveDate>) -> CohortView {
    let run_id = lookback_engine::run_model(
        store,
        Model::Linear,
        &lookback_core::attribution::ModelParams::default(),
        NOW,
    )
    .unwrap()
    .run_id;
    let q = ViewQuery {
        bucket,
        from,
        ..ViewQuery::new(run_id, ViewKey::Creator)
    };
    cohort_view(store, &q, NOW).unwrap()
}

fn row<'v>(view: &'v CohortView, cohort: &str, key: &str) -> &'v CohortRow {
    view.rows
        .iter()
        .find(|r| r.cohort == cohort && r.key == key)
        .unwrap_or_else(|| panic!("no row {cohort} {key} in {:#?}", view.rows))
}

/// (customers closed, revenue, payback to 2 places) of each horizon.
fn horizons(r: &CohortRow) -> Vec<(i64, i64, Option<String>)> {
    r.horizons
        .iter()
        .map(|h| {
            (
                h.customers_closed_ppb,
                h.revenue_minor,
                h.payback.map(|p| p.to_decimal_string(2)),
            )
        })
        .collect()
}

const ONE: i64 = 1_000_000_000;

#[test]
fn a_refund_after_day_30_counts_at_60_days_and_paybacks_cover_closed_horizons_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let v = view(&mut store, None, None);
    assert_eq!(v.bucket, TimeBucket::Month);

    // c1 in January: A whole, half of B. A's 30 days hold oa1 less its day-5 refund (90.00)
    // and oa2 before its day-40 refund (50.00); 60 days see that refund (30.00). B's 100.00.
    let c1 = row(&v, "2026-01", "c1");
    assert_eq!(c1.label, "Ana");
    assert_eq!(c1.customers_ppb, 3 * ONE / 2);
    assert_eq!(c1.first_order_revenue_minor, 9_000 + 10_000);
    assert_eq!(c1.revenue_to_date_minor, 12_000 + 10_000);
    assert_eq!(c1.cost_minor, 3_000);
    assert_eq!(c1.cac_minor, Some(2_000));
    assert_eq!(
        horizons(c1),
        vec![
            // 240.00 ÷ 30.00.
            (3 * ONE / 2, 24_000, Some("8.00".into())),
            // 220.00 ÷ 30.00.
            (3 * ONE / 2, 22_000, Some("7.33".into())),
            // Only A's 90 days are over (B's end Apr 20): 120.00 ÷ (30.00 × 1 ÷ 1.5) = 6.
            (ONE, 12_000, Some("6.00".into())),
            // Nobody's 180 days are over: no figure rather than 0.
            (0, 0, None),
        ]
    );

    // c2 in January: the other half of B, and c2's fee.
    let c2 = row(&v, "2026-01", "c2");
    assert_eq!(c2.customers_ppb, ONE / 2);
    assert_eq!(c2.cac_minor, Some(8_000));
    assert_eq!(
        horizons(c2),
        vec![
            (ONE / 2, 10_000, Some("2.50".into())),
            (ONE / 2, 10_000, Some("2.50".into())),
            (0, 0, None),
            (0, 0, None),
        ]
    );

    // C in February: no cost, so CAC 0.00 and no payback multiple.
    let feb = row(&v, "2026-02", "c2");
    assert_eq!((feb.customers_ppb, feb.cac_minor), (ONE, Some(0)));
    assert_eq!(
        horizons(feb),
        vec![
            (ONE, 6_000, None),
            (ONE, 6_000, None),
            (0, 0, None),
            (0, 0, None)
        ]
    );

    // D, December: the repeat order on day 52 is in 60 days, not 30.
    let dec = row(&v, "2025-12", "c2");
    assert_eq!(
        (dec.first_order_revenue_minor, dec.revenue_to_date_minor),
        (1_000, 2_000)
    );
    assert_eq!(
        horizons(dec).iter().map(|h| h.1).collect::<Vec<_>>(),
        vec![1_000, 2_000, 2_000, 0]
    );

    // Per cohort and in total, the rows add up.
    let jan = v.cohorts.iter().find(|c| c.cohort == "2026-01").unwrap();
    assert_eq!(jan.customers_ppb, 2 * ONE);
    assert_eq!(jan.horizons[0].revenue_minor, 34_000);
    assert_eq!(jan.cost_minor, 7_000);
    assert_eq!(
        v.cohorts
            .iter()
            .map(|c| c.cohort.as_str())
            .collect::<Vec<_>>(),
        vec!["2025-12", "2026-01", "2026-02"]
    );
    assert_eq!(v.totals.cohort, ALL_COHORTS);
    assert_eq!(v.totals.customers_ppb, 4 * ONE);
    assert_eq!(
        v.totals.revenue_to_date_minor,
        2_000 + 22_000 + 10_000 + 6_000
    );
    assert_eq!(
        v.totals.revenue_to_date_minor,
        v.rows.iter().map(|r| r.revenue_to_date_minor).sum::<i64>()
    );
    // 90.00 per closed customer at 30 days in January's c1 row: 240.00 ÷ 1.5.
    assert_eq!(c1.revenue_per_customer_minor(0), Some(16_000));
    assert_eq!(c1.revenue_per_customer_minor(3), None);
}

#[test]
fn weekly_cohorts_and_a_range_that_starts_after_a_customers_first_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let weekly = view(&mut store, Some(TimeBucket::Week), None);
    // Jan 10 2026 is in ISO week 2, Jan 20 in week 4.
    assert_eq!(row(&weekly, "2026-W02", "c1").customers_ppb, ONE);
    assert_eq!(row(&weekly, "2026-W04", "c1").customers_ppb, ONE / 2);
    // The spend of Jan 5 is in week 2, c2's fee of Jan 15 in week 3 (a row with cost only).
    assert_eq!(row(&weekly, "2026-W02", "c1").cost_minor, 3_000);
    let w3 = row(&weekly, "2026-W03", "c2");
    assert_eq!(
        (w3.customers_ppb, w3.cost_minor, w3.cac_minor),
        (0, 4_000, None)
    );

    // From February: D's order of Feb 10 is a repeat (first bought in December), so only C.
    let feb = view(
        &mut store,
        None,
        Some(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()),
    );
    assert_eq!(feb.totals.customers_ppb, ONE);
    assert_eq!(
        feb.rows
            .iter()
            .map(|r| (r.cohort.as_str(), r.key.as_str()))
            .collect::<Vec<_>>(),
        vec![("2026-02", "c2")]
    );
}

#[test]
fn the_csv_has_a_line_per_cohort_and_key_and_the_sidecar_names_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let v = view(&mut store, None, None);
    let out = dir.path().join("cohorts.csv");
    let summary = crate::export_cohorts_csv(&v, &out, &Default::default(), NOW).unwrap();
    assert_eq!(summary.rows, v.rows.len() as u64);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "cohort,creator,label,customers,first_order_revenue,revenue_to_date,\
         revenue_30,customers_closed_30,revenue_60,customers_closed_60,revenue_90,\
         customers_closed_90,revenue_180,customers_closed_180,cost,ad_spend,creator_cost,cac,\
         payback_30,payback_60,payback_90,payback_180,missing_fx_cost_rows,currency"
    );
    assert!(
        text.lines().any(|l| l
            == "2026-01,c1,Ana,1.500000000,190.00,220.00,240.00,1.500000000,220.00,1.500000000,\
                120.00,1.000000000,0.00,0.000000000,30.00,30.00,0.00,20.00,8.00,7.33,6.00,,0,USD"),
        "{text}"
    );
    let sidecar: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("cohorts.csv.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["lookback_export"], "cohorts");
    assert_eq!(sidecar["model"], "linear");
    assert_eq!(sidecar["run"]["run_id"], v.provenance.run_id);
    assert_eq!(sidecar["bucket"], "month");
    assert_eq!(sidecar["totals"]["customers"], "4.000000000");
}

#[test]
fn the_chart_draws_revenue_per_customer_of_each_cohort_at_the_horizons_all_of_it_has_reached() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let v = view(&mut store, None, None);
    let chart = crate::cohort_revenue_chart_svg(&v).unwrap();
    let names: Vec<&str> = chart.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["2025-12", "2026-01", "2026-02"]);
    let jan = &chart.series[1];
    // First orders 290.00 over 2 customers; 30 days 340.00 ÷ 2, 60 days 320.00 ÷ 2; at 90 days
    // only A's horizon has closed (not B's), and nobody's at 180 days: no point for either.
    assert_eq!(
        jan.points.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(),
        vec!["First order", "30 d", "60 d"]
    );
    assert_eq!(jan.exact, vec!["145.00", "170.00", "160.00"]);
    // December's one customer has reached 90 days: 20.00.
    assert_eq!(
        chart.series[0].exact,
        vec!["10.00", "10.00", "20.00", "20.00"]
    );
    assert!(chart.svg.contains("data-currency=\"USD\""));
}
