//! The cohorts table as CSV: one line per cohort and key, the same file for the window's Export
//! CSV on the Cohorts screen and `lookback export cohorts`, with the parent module's format,
//! neutralization, sidecar and `.partial` rename.

use std::path::Path;

use lookback_core::money::Currency;
use serde_json::json;

use super::{CsvFile, ExportOptions, ExportSummary, amount, instant, neutralize, ratio, view_meta};
use crate::ReportError;
use crate::credits::format_conversions;
use crate::views::cohorts::{COHORT_HORIZONS_DAYS, CohortView};

/// The cohorts table. Columns: `cohort,<by>,label,customers,first_order_revenue,
/// revenue_to_date`, then per horizon N of 30, 60, 90, 180 `revenue_N,customers_closed_N`, then
/// `cost,ad_spend,creator_cost,cac`, then per horizon `payback_N`, then
/// `missing_fx_cost_rows,currency`. `revenue_N` and `payback_N` cover the `customers_closed_N`
/// of `customers` whose N days have passed; `cac` and paybacks are empty where the view shows
/// "—". Totals (and each cohort's sum over keys) are in the sidecar, not rows, so summing a
/// column stays right.
pub fn export_cohorts_csv(
    view: &CohortView,
    out: &Path,
    options: &ExportOptions,
    now_ms: i64,
) -> Result<ExportSummary, ReportError> {
    let currency = Currency::parse(&view.currency).ok();
    let sums = |r: &crate::views::cohorts::CohortRow| {
        json!({
            "customers": format_conversions(i128::from(r.customers_ppb)),
            "first_order_revenue": amount(r.first_order_revenue_minor, currency),
            "revenue_to_date": amount(r.revenue_to_date_minor, currency),
            "cost": amount(r.cost_minor, currency),
            "cac": r.cac_minor.map(|c| amount(c, currency)),
        })
    };
    let meta = view_meta(
        "cohorts",
        now_ms,
        &view.provenance,
        json!({
            "by": view.query.by.as_str(),
            "bucket": view.bucket.as_str(),
            "horizons_days": COHORT_HORIZONS_DAYS,
            "currency": view.currency,
            "horizons_judged_at": instant(view.now_ms),
            "cohorts": view.cohorts.iter().map(|c| (c.cohort.clone(), sums(c))).collect::<serde_json::Map<_, _>>(),
            "totals": sums(&view.totals),
        }),
    );
    let mut columns: Vec<String> = [
        "cohort",
        view.query.by.as_str(),
        "label",
        "customers",
        "first_order_revenue",
        "revenue_to_date",
    ]
    .map(str::to_owned)
    .to_vec();
    for days in COHORT_HORIZONS_DAYS {
        columns.push(format!("revenue_{days}"));
        columns.push(format!("customers_closed_{days}"));
    }
    columns.extend(["cost", "ad_spend", "creator_cost", "cac"].map(str::to_owned));
    for days in COHORT_HORIZONS_DAYS {
        columns.push(format!("payback_{days}"));
    }
    columns.extend(["missing_fx_cost_rows", "currency"].map(str::to_owned));
    let mut file = CsvFile::create(out, columns, options, &meta)?;
    for row in &view.rows {
        let mut cells = vec![
            row.cohort.clone(),
            neutralize(&row.key).into_owned(),
            neutralize(&row.label).into_owned(),
            format_conversions(i128::from(row.customers_ppb)),
            amount(row.first_order_revenue_minor, currency),
            amount(row.revenue_to_date_minor, currency),
        ];
        for h in &row.horizons {
            cells.push(amount(h.revenue_minor, currency));
            cells.push(format_conversions(i128::from(h.customers_closed_ppb)));
        }
        cells.extend([
            amount(row.cost_minor, currency),
            amount(row.ad_spend_minor, currency),
            amount(row.creator_cost_minor, currency),
            row.cac_minor
                .map(|c| amount(c, currency))
                .unwrap_or_default(),
        ]);
        for h in &row.horizons {
            cells.push(ratio(h.payback.as_ref()));
        }
        cells.extend([row.missing_fx_cost_rows.to_string(), view.currency.clone()]);
        file.record(cells)?;
    }
    file.finish(options, meta)
}
