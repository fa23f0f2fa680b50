//! The cohorts jobs of the window and the CLI: a [`ViewSelection`] (by, model, days, bucket)
//! → the run → `lookback_report::cohort_view` → the Cohorts screen's wire types, or the report
//! itself for `lookback view cohorts` and `lookback export cohorts`. Cohorts are by month unless
//! the selection names a bucket.

use anyhow::Result;
use lookback_report::{self as report, ViewCache};
use lookback_store::Store;

use super::selection::{ViewSelection, run_for};
use super::{chart, ppb, provenance, ratio};
use crate::wire as ipc;
use crate::workspace::money;

/// The cohorts view of a selection (the screen, `lookback view cohorts` and the export share it).
pub fn cohort_report(
    store: &mut Store,
    sel: &ViewSelection,
    now_ms: i64,
) -> Result<report::CohortView> {
    cohort_report_cached(store, &mut ViewCache::new(), sel, now_ms)
}

/// [`cohort_report`] with the costs kept in `cache` between views (the window's session).
pub fn cohort_report_cached(
    store: &mut Store,
    cache: &mut ViewCache,
    sel: &ViewSelection,
    now_ms: i64,
) -> Result<report::CohortView> {
    let run_id = run_for(store, sel, now_ms)?;
    Ok(report::cohort_view_cached(
        store,
        &sel.query(run_id),
        now_ms,
        cache,
    )?)
}

fn cohort_row(r: &report::CohortRow, currency: &str) -> Result<ipc::CohortRow> {
    Ok(ipc::CohortRow {
        cohort: r.cohort.clone(),
        key: r.key.clone(),
        label: r.label.clone(),
        customers: ppb(r.customers_ppb),
        first_order_revenue: money(r.first_order_revenue_minor, currency)?,
        revenue_to_date: money(r.revenue_to_date_minor, currency)?,
        horizons: r
            .horizons
            .iter()
            .enumerate()
            .map(|(i, h)| {
                Ok(ipc::CohortHorizonCell {
                    days: h.days,
                    customers_closed: ppb(h.customers_closed_ppb),
                    revenue: money(h.revenue_minor, currency)?,
                    revenue_per_customer: r
                        .revenue_per_customer_minor(i)
                        .map(|m| money(m, currency))
                        .transpose()?,
                    payback: ratio(h.payback.as_ref()),
                })
            })
            .collect::<Result<_>>()?,
        ad_spend: money(r.ad_spend_minor, currency)?,
        creator_cost: money(r.creator_cost_minor, currency)?,
        cost: money(r.cost_minor, currency)?,
        cac: r.cac_minor.map(|m| money(m, currency)).transpose()?,
    })
}

/// The Cohorts screen: its table, cohort sums, totals, chart and provenance, with the costs kept
/// in `cache` between requests.
pub fn cohorts(
    store: &mut Store,
    cache: &mut ViewCache,
    request: &ipc::ViewRequest,
    now_ms: i64,
) -> Result<ipc::CohortView> {
    let view = cohort_report_cached(store, cache, &ViewSelection::from_request(request)?, now_ms)?;
    let c = view.currency.as_str();
    let rows = |rows: &[report::CohortRow]| -> Result<Vec<ipc::CohortRow>> {
        rows.iter().map(|r| cohort_row(r, c)).collect()
    };
    Ok(ipc::CohortView {
        bucket: view.bucket.into(),
        rows: rows(&view.rows)?,
        cohorts: rows(&view.cohorts)?,
        totals: cohort_row(&view.totals, c)?,
        chart: chart(
            report::cohort_revenue_chart_svg(&view)?,
            "Cumulative revenue per customer by cohort",
        ),
        provenance: provenance(&view.provenance, now_ms)?,
    })
}
