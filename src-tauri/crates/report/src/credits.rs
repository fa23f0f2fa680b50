//! The credits view: a run's credited revenue and conversions grouped by one key, over the orders
//! in a day range (order day in the reporting zone, inclusive), optionally settled orders only —
//! with the unattributed and unconvertible (missing fx) orders of the same selection beside it.
//!
//! Conversions are fractional: Σ share_ppb / 1e9 over the group's credits. They are rendered as
//! exact decimals with [`CONVERSION_DECIMALS`] places, each figure rounded once (half to even)
//! from its exact ppb sum — so the rows' rendered conversions may differ from the rendered total
//! in the last place, while the revenue of the rows always sums exactly to the total.

use std::collections::HashMap;

use lookback_core::money::Currency;
use lookback_core::time::{NaiveDate, day_start_ms, parse_time_zone};
use lookback_store::{CreditGrouping, Run, RunOrderFilter, RunOrderOutcome, RunStatus, Store};

use crate::ReportError;

/// The key shown for credits whose touch has no creator, campaign or content.
pub const NONE_KEY: &str = "(none)";

/// Decimal places of rendered conversions.
pub const CONVERSION_DECIMALS: u32 = 4;

/// What a credits report is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditKey {
    Channel,
    Creator,
    Campaign,
    Content,
    Order,
}

impl CreditKey {
    /// Every key, in CLI order.
    pub const ALL: [CreditKey; 5] = [
        CreditKey::Channel,
        CreditKey::Creator,
        CreditKey::Campaign,
        CreditKey::Content,
        CreditKey::Order,
    ];

    /// The CLI name and the CSV header of the key column.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditKey::Channel => "channel",
            CreditKey::Creator => "creator",
            CreditKey::Campaign => "campaign",
            CreditKey::Content => "content",
            CreditKey::Order => "order",
        }
    }

    fn grouping(self) -> CreditGrouping {
        match self {
            CreditKey::Channel => CreditGrouping::Channel,
            CreditKey::Creator => CreditGrouping::Creator,
            CreditKey::Campaign => CreditGrouping::Campaign,
            CreditKey::Content => CreditGrouping::Content,
            CreditKey::Order => CreditGrouping::Order,
        }
    }
}

/// Which run produced a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub run_id: i64,
    pub model: String,
    /// Canonical JSON of the parameters.
    pub parameters: String,
    pub input_watermark: String,
    pub finished_at_ms: Option<i64>,
    pub reporting_currency: Currency,
}

impl RunInfo {
    /// Reads a complete run.
    pub fn load(store: &Store, run_id: i64) -> Result<(RunInfo, Run), ReportError> {
        let run = store
            .run(run_id)?
            .ok_or(ReportError::RunNotFound { run_id })?;
        if run.status != RunStatus::Complete {
            return Err(ReportError::RunIncomplete {
                run_id,
                status: run.status.to_string(),
            });
        }
        let reporting_currency =
            Currency::parse(&run.reporting_currency).map_err(|e| ReportError::InvalidSetting {
                field: "run reporting_currency",
                detail: e.to_string(),
            })?;
        Ok((
            RunInfo {
                run_id,
                model: run.model.clone(),
                parameters: run.parameters.clone(),
                input_watermark: run.input_watermark.clone(),
                finished_at_ms: run.finished_at_ms,
                reporting_currency,
            },
            run,
        ))
    }
}

/// One group of credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRow {
    /// The key's value, or [`NONE_KEY`].
    pub key: String,
    /// Σ share_ppb: conversions in billionths.
    pub conversions_ppb: i128,
    /// Credited net revenue in the reporting currency.
    pub revenue_minor: i64,
}

/// Orders of one outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeTotal {
    pub orders: u64,
    /// Net revenue in the reporting currency.
    pub revenue_minor: i64,
    /// The part of `revenue_minor` on provisional orders.
    pub provisional_revenue_minor: i64,
}

/// Orders of one currency that could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFxTotal {
    pub currency: String,
    pub orders: u64,
    /// Net revenue in `currency` itself (there was no rate to convert it).
    pub revenue_minor: i64,
}

/// The credits view of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditsReport {
    pub run: RunInfo,
    pub by: CreditKey,
    /// Inclusive order-day range in the reporting zone, if any.
    pub range: Option<(NaiveDate, NaiveDate)>,
    pub settled_only: bool,
    /// Sorted by revenue (largest first), then key.
    pub rows: Vec<CreditRow>,
    /// Σ of the rows: conversions (= attributed orders) and attributed revenue.
    pub total_conversions_ppb: i128,
    pub total_revenue_minor: i64,
    /// How much of the attributed revenue is on provisional orders (reported even when included).
    pub provisional_revenue_minor: i64,
    /// Attributed orders, as orders (not fractional conversions).
    pub attributed: OutcomeTotal,
    pub unattributed: OutcomeTotal,
    pub missing_fx: Vec<MissingFxTotal>,
}

impl CreditsReport {
    /// Orders without a usable rate, over all currencies.
    pub fn missing_fx_orders(&self) -> u64 {
        self.missing_fx.iter().map(|m| m.orders).sum()
    }
}

/// Formats parts per billion as a decimal with [`CONVERSION_DECIMALS`] places, rounded once,
/// half to even: 1_500_000_000 → "1.5000", 333_333_333 → "0.3333", 12_345 → "0.0000".
pub fn format_conversions(ppb: i128) -> String {
    let step = 10_i128.pow(9 - CONVERSION_DECIMALS);
    let negative = ppb < 0;
    let magnitude = ppb.abs();
    let mut units = magnitude / step;
    let remainder = magnitude % step;
    if remainder * 2 > step || (remainder * 2 == step && units % 2 == 1) {
        units += 1;
    }
    let scale = 10_i128.pow(CONVERSION_DECIMALS);
    let sign = if negative && units > 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:0width$}",
        units / scale,
        units % scale,
        width = CONVERSION_DECIMALS as usize
    )
}

/// The credits of run `run_id` grouped by `by`, over orders whose day in the workspace's
/// reporting zone lies in `range` (inclusive), settled orders only if `settled_only`.
pub fn credits_by(
    store: &Store,
    run_id: i64,
    by: CreditKey,
    range: Option<(NaiveDate, NaiveDate)>,
    settled_only: bool,
) -> Result<CreditsReport, ReportError> {
    let (run, _) = RunInfo::load(store, run_id)?;
    let mut filter = RunOrderFilter {
        settled_only,
        ..RunOrderFilter::default()
    };
    if let Some((from, to)) = range {
        if from > to {
            return Err(ReportError::InvalidRange {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        let zone_name = store.reporting_timezone()?;
        let zone = parse_time_zone(&zone_name).map_err(|e| ReportError::InvalidSetting {
            field: "reporting_timezone",
            detail: e.to_string(),
        })?;
        let after_to = to.succ_opt().ok_or(ReportError::InvalidRange {
            from: from.to_string(),
            to: to.to_string(),
        })?;
        filter.from_at_ms = Some(day_start_ms(from, zone)?);
        filter.until_at_ms = Some(day_start_ms(after_to, zone)?);
    }

    let groups = store.credit_groups(run_id, by.grouping(), &filter)?;
    let mut rows: Vec<CreditRow> = Vec::with_capacity(groups.len());
    // Where each shown key's row is: NULL and empty keys merge into one row, so rows are found
    // by key rather than assumed one per group (a linear search here made a 60k-order report
    // quadratic).
    let mut row_of_key: HashMap<String, usize> = HashMap::with_capacity(groups.len());
    let mut total_conversions_ppb = 0;
    let mut total_revenue_minor: i64 = 0;
    let mut provisional_revenue_minor: i64 = 0;
    for group in groups {
        total_conversions_ppb += group.share_ppb;
        total_revenue_minor += group.revenue_minor;
        provisional_revenue_minor += group.provisional_revenue_minor;
        // NULL and empty keys are the same thing to a reader: nothing recorded.
        let key = group
            .key
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| NONE_KEY.to_owned());
        match row_of_key.get(&key) {
            Some(&index) => {
                let row = &mut rows[index];
                row.conversions_ppb += group.share_ppb;
                row.revenue_minor += group.revenue_minor;
            }
            None => {
                row_of_key.insert(key.clone(), rows.len());
                rows.push(CreditRow {
                    key,
                    conversions_ppb: group.share_ppb,
                    revenue_minor: group.revenue_minor,
                });
            }
        }
    }
    rows.sort_by(|a, b| {
        b.revenue_minor
            .cmp(&a.revenue_minor)
            .then_with(|| a.key.cmp(&b.key))
    });

    let mut attributed = OutcomeTotal::default();
    let mut unattributed = OutcomeTotal::default();
    let mut missing_fx = Vec::new();
    for total in store.run_order_totals(run_id, &filter)? {
        let outcome = OutcomeTotal {
            orders: total.orders,
            revenue_minor: total.net_minor,
            provisional_revenue_minor: total.provisional_net_minor,
        };
        match total.outcome {
            RunOrderOutcome::Attributed => attributed = outcome,
            RunOrderOutcome::Unattributed => unattributed = outcome,
            RunOrderOutcome::MissingFx => missing_fx.push(MissingFxTotal {
                currency: total.currency.unwrap_or_default(),
                orders: total.orders,
                revenue_minor: total.net_minor,
            }),
        }
    }
    Ok(CreditsReport {
        run,
        by,
        range,
        settled_only,
        rows,
        total_conversions_ppb,
        total_revenue_minor,
        provisional_revenue_minor,
        attributed,
        unattributed,
        missing_fx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_once_half_to_even() {
        assert_eq!(format_conversions(1_500_000_000), "1.5000");
        assert_eq!(format_conversions(333_333_333), "0.3333");
        assert_eq!(format_conversions(666_666_667), "0.6667");
        assert_eq!(format_conversions(50_000), "0.0000"); // exactly half of 1e-4: to even (0)
        assert_eq!(format_conversions(150_000), "0.0002"); // 1.5e-4 → 2e-4 (even)
        assert_eq!(format_conversions(250_000), "0.0002"); // 2.5e-4 → 2e-4 (even)
        assert_eq!(format_conversions(0), "0.0000");
        assert_eq!(format_conversions(60_000_000_000_000), "60000.0000");
    }
}
