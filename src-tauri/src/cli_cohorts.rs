//! `lookback view cohorts`: the new-customer cohorts table in the terminal — one line per cohort
//! and key, then each cohort with every key summed (the triangle), then the totals. The numbers
//! are `lookback_app::views::cohort_report`'s, the same the Cohorts screen and `lookback export
//! cohorts` show.
//!
//! A horizon's cell is the revenue of the customers whose horizon has closed; while some of
//! the row's customers are still inside it, the cell says how many it covers ("1,240.00 · 3 of
//! 5"), and "—" while none has reached it.

use anyhow::Result;
use lookback_app::views::{self as app, ViewSelection};
use lookback_core::money::{Currency, format_minor};
use lookback_report::{CohortRow, format_ratio, readable_conversions};
use lookback_store::Store;

use crate::cli_print::{provenance_line, table};

/// A horizon's revenue cell (see the module docs).
fn horizon_cell(r: &CohortRow, i: usize, money: &dyn Fn(i64) -> String) -> String {
    let h = &r.horizons[i];
    if h.customers_closed_ppb == 0 && r.customers_ppb > 0 {
        return "—".to_owned();
    }
    let shown = money(h.revenue_minor);
    if h.customers_closed_ppb == r.customers_ppb {
        return shown;
    }
    format!(
        "{shown} · {} of {}",
        readable_conversions(i128::from(h.customers_closed_ppb)),
        readable_conversions(i128::from(r.customers_ppb))
    )
}

/// One table line of a cohort row: cohort, key label, customers, first-order revenue, revenue to
/// date, revenue per horizon, cost, CAC, payback per horizon.
fn cells(r: &CohortRow, money: &dyn Fn(i64) -> String) -> Vec<String> {
    let mut cells = vec![
        r.cohort.clone(),
        r.label.clone(),
        readable_conversions(i128::from(r.customers_ppb)),
        money(r.first_order_revenue_minor),
        money(r.revenue_to_date_minor),
    ];
    cells.extend((0..r.horizons.len()).map(|i| horizon_cell(r, i, money)));
    cells.push(money(r.cost_minor));
    cells.push(r.cac_minor.map(money).unwrap_or_else(|| "—".into()));
    cells.extend(
        r.horizons
            .iter()
            .map(|h| format_ratio(h.payback.as_ref(), 2)),
    );
    cells
}

/// Prints `lookback view cohorts` for `sel`.
pub fn print_cohorts(store: &mut Store, sel: &ViewSelection, now: i64) -> Result<()> {
    let view = app::cohort_report(store, sel, now)?;
    println!("{}", provenance_line(&view.provenance, now));
    let currency = Currency::parse(&view.currency).ok();
    let money = |minor: i64| match currency {
        Some(c) => format_minor(minor, c),
        None => minor.to_string(),
    };
    let by = sel.by.as_str();
    println!(
        "New customers by {} of first order and by the {by} credited with it; revenue at N days \
         covers the customers whose N days have passed.",
        view.bucket.as_str()
    );
    let horizons: Vec<String> = view
        .totals
        .horizons
        .iter()
        .map(|h| format!("{} d", h.days))
        .collect();
    let paybacks: Vec<String> = view
        .totals
        .horizons
        .iter()
        .map(|h| format!("payback {}", h.days))
        .collect();
    let header = |key: &str| -> Vec<String> {
        let mut header: Vec<String> = ["cohort", key, "customers", "first order", "to date"]
            .map(str::to_owned)
            .to_vec();
        header.extend(horizons.iter().cloned());
        header.extend(["cost", "cac"].map(str::to_owned));
        header.extend(paybacks.iter().cloned());
        header
    };
    let rows: Vec<Vec<String>> = view
        .rows
        .iter()
        .chain(std::iter::once(&view.totals))
        .map(|r| cells(r, &money))
        .collect();
    let by_key = header(by);
    print!(
        "{}",
        table(
            &by_key.iter().map(String::as_str).collect::<Vec<_>>(),
            &rows
        )
    );
    println!();
    let cohorts: Vec<Vec<String>> = view
        .cohorts
        .iter()
        .chain(std::iter::once(&view.totals))
        .map(|r| cells(r, &money))
        .collect();
    let all = header("all keys");
    print!(
        "{}",
        table(
            &all.iter().map(String::as_str).collect::<Vec<_>>(),
            &cohorts
        )
    );
    Ok(())
}
