//! The cohorts chart: cumulative revenue per customer of each cohort, at its first order and at
//! each horizon every one of its customers has reached — the curve a cohort triangle reads along
//! its rows.

use lookback_core::money::format_minor;

use super::{Chart, ChartSeries, MAX_CATEGORIES, Plot, Shape, Unit, currency, draw, major};
use crate::ReportError;
use crate::views::cohorts::{COHORT_HORIZONS_DAYS, CohortView};

/// The x axis's first category: the first order alone.
pub const FIRST_ORDER_CATEGORY: &str = "First order";

/// A horizon's category on the x axis ("30 d").
pub fn horizon_category(days: u32) -> String {
    format!("{days} d")
}

/// One line per cohort (the latest [`MAX_CATEGORIES`]), x = the first order, then 30, 60, 90
/// and 180 days, y = revenue per customer: first-order revenue ÷ customers, then each horizon's
/// revenue ÷ customers. A horizon only some of the cohort's customers have reached has no point
/// (the table shows it over those customers): the early buyers of a month are not its average,
/// so a partial point would bend the curve by who is in it rather than by what they spent.
pub fn cohort_revenue_chart_svg(view: &CohortView) -> Result<Chart, ReportError> {
    let currency = currency(&view.currency)?;
    let mut categories = vec![FIRST_ORDER_CATEGORY.to_owned()];
    categories.extend(COHORT_HORIZONS_DAYS.map(horizon_category));
    let with_customers: Vec<_> = view
        .cohorts
        .iter()
        .filter(|c| c.customers_ppb > 0)
        .collect();
    let drawn = &with_customers[with_customers.len().saturating_sub(MAX_CATEGORIES)..];
    let series: Vec<ChartSeries> = drawn
        .iter()
        .map(|c| {
            let first = lookback_core::money::SHARE_ONE_PPB;
            let first_per_customer = crate::views::div_round_half_even(
                i128::from(c.first_order_revenue_minor) * i128::from(first),
                i128::from(c.customers_ppb),
            );
            let mut points = vec![(
                FIRST_ORDER_CATEGORY.to_owned(),
                i64::try_from(first_per_customer).unwrap_or(i64::MAX),
            )];
            for (i, days) in COHORT_HORIZONS_DAYS.iter().enumerate() {
                if c.horizons[i].customers_closed_ppb == c.customers_ppb
                    && let Some(per) = c.revenue_per_customer_minor(i)
                {
                    points.push((horizon_category(*days), per));
                }
            }
            ChartSeries {
                name: c.cohort.clone(),
                exact: points
                    .iter()
                    .map(|(_, minor)| format_minor(*minor, currency))
                    .collect(),
                points: points
                    .into_iter()
                    .map(|(x, minor)| (x, major(minor, currency)))
                    .collect(),
            }
        })
        .collect();
    let title = format!(
        "Cumulative revenue per customer by {} cohort — {} (run {})",
        view.bucket.as_str(),
        view.provenance.model,
        view.provenance.run_id
    );
    let svg = draw(&Plot {
        title: &title,
        y_desc: &format!("Revenue per customer ({})", currency.code()),
        unit: Unit::Money(currency),
        shape: Shape::Lines,
        categories: &categories,
        series: &series,
        // The latest cohorts, not the largest: the shared note would say the wrong thing.
        note: (with_customers.len() > drawn.len()).then(|| {
            format!(
                "The latest {} of {} cohorts are drawn; the table lists every one.",
                drawn.len(),
                with_customers.len()
            )
        }),
    })?;
    Ok(Chart { title, svg, series })
}
