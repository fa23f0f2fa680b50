//! Proof that the ROAS view and its provenance read from the totals written with a run give
//! exactly the numbers of the joins over every credit, on a demo-sized workspace in a zone with
//! a daylight-saving change (23- and 25-hour days), before and after orders settle.

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::time::{NaiveDate, TimeBucket};
use lookback_demo::{DEFAULT_END_AT_MS, DemoConfig};
use lookback_store::{RunOrderFilter, Store, ViewDimension};

use super::provenance::Reading;
use super::roas::roas_view_reading;
use super::{CreditBasis, ViewCache, ViewKey, ViewQuery};

const DAY: i64 = 86_400_000;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Every key, bucket, range and settled flag of the ROAS view, each built both ways: from the
/// totals with costs kept between views (as the window builds them), and from the joins with
/// every cost read afresh.
fn assert_roas_totals_equal_joins(
    store: &Store,
    run_id: i64,
    ranges: &[(Option<NaiveDate>, Option<NaiveDate>)],
) {
    let mut cache = ViewCache::new();
    for by in ViewKey::ALL {
        for bucket in [
            None,
            Some(TimeBucket::Day),
            Some(TimeBucket::Week),
            Some(TimeBucket::Month),
        ] {
            for &(from, to) in ranges {
                for (settled_only, basis) in [
                    (false, CreditBasis::Cash),
                    (true, CreditBasis::Cash),
                    (false, CreditBasis::Accrual),
                    (true, CreditBasis::Accrual),
                ] {
                    let q = ViewQuery {
                        run_id,
                        by,
                        from,
                        to,
                        bucket,
                        settled_only,
                        basis,
                    };
                    let totals = roas_view_reading(store, &q, Reading::Totals, &mut cache).unwrap();
                    let exact = roas_view_reading(store, &q, Reading::Exact, &mut ViewCache::new())
                        .unwrap();
                    assert_eq!(totals, exact, "{q:?}");
                    assert!(
                        !exact.rows.is_empty(),
                        "{q:?} selects nothing; the check would be vacuous"
                    );
                }
            }
        }
    }
}

#[test]
fn roas_and_provenance_from_run_totals_equal_the_exact_joins() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::create(dir.path().join("demo.lookback")).unwrap();
    // New York: the demo's thirteen months to 2025-06-01 span the 3 November 2024 and 9 March 2025
    // changes of clocks.
    store.set_reporting_timezone("America/New_York").unwrap();
    lookback_demo::generate(
        &mut store,
        &DemoConfig {
            orders: 800,
            ..DemoConfig::default()
        },
    )
    .unwrap();
    let ranges = [
        (None, None),
        (Some(day(2025, 3, 9)), None),
        (None, Some(day(2025, 5, 20))),
        (Some(day(2025, 3, 3)), Some(day(2025, 3, 16))),
    ];
    let params = ModelParams::default();
    // At the demo's end the last two weeks' orders are provisional; a month later all settled
    // (the reused runs' totals are moved by settlement, which must keep them exact).
    for now_ms in [DEFAULT_END_AT_MS, DEFAULT_END_AT_MS + 30 * DAY] {
        for model in [Model::LastTouch, Model::Linear] {
            let run = lookback_engine::run_model(&mut store, model, &params, now_ms).unwrap();
            // The fast path must really be taken, or the comparison proves nothing.
            let whole = RunOrderFilter::default();
            let by_touch_day = RunOrderFilter {
                basis: CreditBasis::Accrual,
                ..RunOrderFilter::default()
            };
            for dimension in [ViewDimension::Creator, ViewDimension::Platform] {
                for filter in [&whole, &by_touch_day] {
                    assert!(
                        store
                            .view_credit_buckets_from_totals(run.run_id, dimension, filter)
                            .unwrap()
                            .is_some(),
                        "{dimension:?} on the {} basis reads the run's totals",
                        filter.basis
                    );
                }
            }
            assert_eq!(
                store
                    .credited_revenue_by_join_kind(run.run_id, &whole)
                    .unwrap(),
                store
                    .credited_revenue_by_join_kind_exact(run.run_id, &whole)
                    .unwrap()
            );
            // Both halves of settled_only must be exercised: provisional revenue at the end, all
            // of it settled (by the reused run's settlement, which moves the totals) a month on.
            let whole = roas_view_reading(
                &store,
                &ViewQuery::new(run.run_id, ViewKey::Channel),
                Reading::Totals,
                &mut ViewCache::new(),
            )
            .unwrap();
            if now_ms == DEFAULT_END_AT_MS {
                assert!(whole.totals.provisional_revenue_minor > 0);
            } else {
                assert!(
                    run.reused,
                    "a month later on unchanged data the run is reused and settled"
                );
                assert_eq!(whole.totals.provisional_revenue_minor, 0);
            }
            assert_roas_totals_equal_joins(&store, run.run_id, &ranges);
        }
    }
}
