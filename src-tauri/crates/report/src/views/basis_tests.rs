//! Cash against accrual on the hand-built workspace of `test_support`, worked out by hand.
//!
//! Under linear: o1 (Mon Mar 2, ISO week 10) credits 100.00 to t1 (Sun Mar 1, week 9, creator
//! c1); o2 (Mar 3) 40.00 to t2 (Mar 2, search); o3 (Mar 4) 30.00 each to t3 (Mar 3, c1) and t4
//! (Mar 3, search); o6 (Apr 29, provisional) 10.00 to t5 (Apr 28, c1).

use lookback_core::attribution::Model;
use lookback_core::time::{NaiveDate, TimeBucket};

use super::test_support::{run, workspace};
use super::*;
use crate::{CreditKey, compare_view, creator_revenue_view, credits_by_basis, roas_view};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn query(run_id: i64, basis: CreditBasis) -> ViewQuery {
    ViewQuery {
        basis,
        ..ViewQuery::new(run_id, ViewKey::Creator)
    }
}

/// (bucket, revenue) of creator c1's rows.
fn c1_by_week(view: &super::roas::RoasView) -> Vec<(String, i64)> {
    view.rows
        .iter()
        .filter(|r| r.key == "c1" && r.attributed_revenue_minor != 0)
        .map(|r| (r.bucket.clone().unwrap(), r.attributed_revenue_minor))
        .collect()
}

#[test]
fn a_touch_and_its_order_in_different_weeks_land_in_each_basis_own_week() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let weekly = |basis| ViewQuery {
        bucket: Some(TimeBucket::Week),
        ..query(run_id, basis)
    };
    let cash = roas_view(&store, &weekly(CreditBasis::Cash)).unwrap();
    let accrual = roas_view(&store, &weekly(CreditBasis::Accrual)).unwrap();
    // Cash: o1 and o3 in week 10, o6 in week 18.
    assert_eq!(
        c1_by_week(&cash),
        [
            ("2026-W10".to_owned(), 13_000),
            ("2026-W18".to_owned(), 1_000)
        ]
    );
    // Accrual: t1 on Sunday Mar 1 is week 9; t3 week 10; t5 week 18.
    assert_eq!(
        c1_by_week(&accrual),
        [
            ("2026-W09".to_owned(), 10_000),
            ("2026-W10".to_owned(), 3_000),
            ("2026-W18".to_owned(), 1_000)
        ]
    );
    // Cost stays on its own day under both bases.
    assert_eq!(cash.totals.cost_minor, accrual.totals.cost_minor);
    assert_eq!(cash.provenance.basis, CreditBasis::Cash);
    assert_eq!(accrual.provenance.basis, CreditBasis::Accrual);
}

#[test]
fn over_a_range_the_bases_differ_by_the_credits_crossing_its_edges() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    let run_id = run(&mut store, Model::Linear);
    let week10 = |basis| ViewQuery {
        from: Some(day(2026, 3, 2)),
        to: Some(day(2026, 3, 8)),
        ..query(run_id, basis)
    };
    let cash = roas_view(&store, &week10(CreditBasis::Cash)).unwrap();
    let accrual = roas_view(&store, &week10(CreditBasis::Accrual)).unwrap();
    // Cash: o1 100 + o2 40 + o3 60; c1 has o1's 100 and half of o3.
    assert_eq!(cash.totals.attributed_revenue_minor, 20_000);
    assert_eq!(
        cash.rows
            .iter()
            .find(|r| r.key == "c1")
            .unwrap()
            .attributed_revenue_minor,
        13_000
    );
    assert_eq!(cash.provenance.basis_shift, None);
    assert_eq!(cash.provenance.attributed_minor, 20_000);
    // Accrual: t2 40 + t3 30 + t4 30; o1's 100 went to t1, the Sunday before.
    assert_eq!(accrual.totals.attributed_revenue_minor, 10_000);
    assert_eq!(
        accrual
            .rows
            .iter()
            .find(|r| r.key == "c1")
            .unwrap()
            .attributed_revenue_minor,
        3_000
    );
    assert_eq!(
        accrual.provenance.basis_shift,
        Some(lookback_store::BasisShift {
            from_later_orders_minor: 0,
            to_earlier_touches_minor: 10_000,
        })
    );
    // The provenance's credited revenue and its split by join kind follow the basis.
    assert_eq!(accrual.provenance.attributed_minor, 10_000);
    let joins = accrual.provenance.revenue_by_join_kind;
    assert_eq!(
        joins.deterministic_minor + joins.identity_graph_minor + joins.probabilistic_minor,
        10_000
    );

    // Sunday Mar 1 alone: no order, but t1 earned o1's 100.00 the next day.
    let sunday = |basis| ViewQuery {
        from: Some(day(2026, 3, 1)),
        to: Some(day(2026, 3, 1)),
        ..query(run_id, basis)
    };
    let cash = roas_view(&store, &sunday(CreditBasis::Cash)).unwrap();
    let accrual = roas_view(&store, &sunday(CreditBasis::Accrual)).unwrap();
    assert_eq!(cash.totals.attributed_revenue_minor, 0);
    assert_eq!(accrual.totals.attributed_revenue_minor, 10_000);
    assert_eq!(
        accrual.provenance.basis_shift,
        Some(lookback_store::BasisShift {
            from_later_orders_minor: 10_000,
            to_earlier_touches_minor: 0,
        })
    );
    assert_eq!(
        basis_shift_words(&accrual.provenance),
        "Accrual: +100.00 USD credited to touches in range from orders after it, \u{2212}0.00 USD of orders in range credited to touches before it"
    );

    // The credits report and the creator view select the same credits.
    let credits = credits_by_basis(
        &store,
        run_id,
        CreditKey::Creator,
        Some((day(2026, 3, 2), day(2026, 3, 8))),
        false,
        CreditBasis::Accrual,
    )
    .unwrap();
    assert_eq!(credits.total_revenue_minor, 10_000);
    assert_eq!(
        credits.basis_shift.map(|s| s.to_earlier_touches_minor),
        Some(10_000)
    );
    // Orders are still counted by the day they were placed.
    assert_eq!(credits.attributed.orders, 3);
    let creator = creator_revenue_view(
        &store,
        run_id,
        "c1",
        Some(day(2026, 3, 1)),
        Some(day(2026, 3, 1)),
        CreditBasis::Accrual,
    )
    .unwrap();
    assert_eq!(creator.net_minor, 10_000);
    assert_eq!(
        creator
            .by_day
            .iter()
            .map(|d| (d.day, d.revenue_minor))
            .collect::<Vec<_>>(),
        [(day(2026, 3, 1), 10_000)]
    );
}

fn basis_shift_words(p: &super::provenance::Provenance) -> String {
    super::provenance::basis_shift_in_words(
        p.basis_shift.as_ref().unwrap(),
        lookback_core::money::Currency::parse("USD").unwrap(),
    )
}

#[test]
fn over_the_whole_history_both_bases_give_the_same_totals() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = workspace(&dir);
    for model in [Model::Linear, Model::FirstTouch, Model::TimeDecay] {
        let run_id = run(&mut store, model);
        for by in ViewKey::ALL {
            let of = |basis| ViewQuery {
                basis,
                ..ViewQuery::new(run_id, by)
            };
            let cash = roas_view(&store, &of(CreditBasis::Cash)).unwrap();
            let accrual = roas_view(&store, &of(CreditBasis::Accrual)).unwrap();
            assert_eq!(cash.rows, accrual.rows, "{model:?} by {by}");
            assert_eq!(cash.totals, accrual.totals, "{model:?} by {by}");
            assert_eq!(accrual.provenance.basis_shift, None);
            assert_eq!(
                cash.provenance.attributed_minor,
                accrual.provenance.attributed_minor
            );
        }
        let compared = |basis| {
            compare_view(
                &store,
                ViewKey::Channel,
                &[run_id],
                None,
                None,
                false,
                basis,
            )
            .unwrap()
        };
        assert_eq!(
            compared(CreditBasis::Cash).rows,
            compared(CreditBasis::Accrual).rows
        );
        // Bucketed, the weeks differ but their sum does not.
        let weekly = |basis| ViewQuery {
            bucket: Some(TimeBucket::Week),
            basis,
            ..ViewQuery::new(run_id, ViewKey::Channel)
        };
        assert_eq!(
            roas_view(&store, &weekly(CreditBasis::Cash))
                .unwrap()
                .totals
                .attributed_revenue_minor,
            roas_view(&store, &weekly(CreditBasis::Accrual))
                .unwrap()
                .totals
                .attributed_revenue_minor
        );
    }
}
