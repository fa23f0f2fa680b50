//! The credits view: a run's credited revenue and conversions grouped by one key, over the orders
//! in a day range (order day in the reporting zone, inclusive), optionally settled orders only —
//! with the unattributed and unconvertible (missing fx) orders of the same selection beside it.
//!
//! Conversions are fractional: Σ share_ppb / 1e9 over the group's credits. Machine formats (CSV,
//! JSON, exports, the window's wire) carry them exact, with [`CONVERSION_DECIMALS`] = 9 places
//! ([`format_conversions`]), so a row's figure is the exact sum of its shares and the rows sum to
//! the total. Tables people read show them as [`readable_conversions`] does: one decimal under
//! 100, none from 100 on.

use std::collections::HashMap;

use lookback_core::money::Currency;
use lookback_core::time::{NaiveDate, day_start_ms, parse_time_zone};
use lookback_store::{
    BasisShift, CreditBasis, CreditGrouping, Run, RunOrderFilter, RunOrderOutcome, RunStatus, Store,
};

use crate::ReportError;

/// The key shown for credits whose touch has no creator, campaign or content.
pub const NONE_KEY: &str = "(none)";

/// What the [`NONE_KEY`] row of a report grouped by `by` (a view or credits key's CLI name) holds,
/// in words: the label tables and CSV label columns show, where the key column keeps
/// [`NONE_KEY`] for machines.
pub fn none_label(by: &str) -> &'static str {
    match by {
        "creator" => "Not through a creator: ads, email, direct…",
        "campaign" => "Not through a campaign: creators, email, direct…",
        "content" => "Not through a post: ads, email, direct…",
        "platform" => "Not through a platform: email, direct…",
        "channel" => "No channel recorded",
        _ => "Nothing recorded",
    }
}

/// Decimal places of conversions in machine formats: all of them (shares are billionths).
pub const CONVERSION_DECIMALS: u32 = 9;

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
    /// Which day selects a credit: its order's (cash) or its touch's (accrual).
    pub basis: CreditBasis,
    /// Under accrual with a range, the credits crossing its edges (see the store's
    /// `basis_shift`): the rows' total = cash total + later orders' − earlier touches'.
    pub basis_shift: Option<BasisShift>,
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

/// Parts per billion as an exact decimal with 9 places, for every machine format:
/// 1_500_000_000 → "1.500000000", 333_333_333 → "0.333333333".
pub fn format_conversions(ppb: i128) -> String {
    rounded_decimal(ppb, CONVERSION_DECIMALS)
}

/// Conversions as people read them in a table: from 100 on a whole number ("2555"), under 100
/// one decimal ("12.5"), the decimal dropped when it is zero ("12"); each rounded once, half to
/// even, from the exact sum. The window applies the same rule (ui/src/format.ts).
pub fn readable_conversions(ppb: i128) -> String {
    if ppb.abs() >= 100 * 1_000_000_000 {
        return rounded_decimal(ppb, 0);
    }
    let text = rounded_decimal(ppb, 1);
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_owned(),
        None => text,
    }
}

/// Parts per billion rounded once, half to even, to `places` decimals (at most 9).
fn rounded_decimal(ppb: i128, places: u32) -> String {
    let step = 10_i128.pow(9 - places);
    let negative = ppb < 0;
    let magnitude = ppb.abs();
    let mut units = magnitude / step;
    let remainder = magnitude % step;
    if remainder * 2 > step || (remainder * 2 == step && units % 2 == 1) {
        units += 1;
    }
    let scale = 10_i128.pow(places);
    let sign = if negative && units > 0 { "-" } else { "" };
    if places == 0 {
        return format!("{sign}{units}");
    }
    format!(
        "{sign}{}.{:0width$}",
        units / scale,
        units % scale,
        width = places as usize
    )
}

/// The credits of run `run_id` grouped by `by`, over orders whose day in the workspace's
/// reporting zone lies in `range` (inclusive), settled orders only if `settled_only`: the
/// cash basis of [`credits_by_basis`].
pub fn credits_by(
    store: &Store,
    run_id: i64,
    by: CreditKey,
    range: Option<(NaiveDate, NaiveDate)>,
    settled_only: bool,
) -> Result<CreditsReport, ReportError> {
    credits_by_basis(store, run_id, by, range, settled_only, CreditBasis::Cash)
}

/// The credits of run `run_id` grouped by `by`, over credits whose day (their order's under
/// cash, their touch's under accrual) in the workspace's reporting zone lies in `range`
/// (inclusive), settled orders only if `settled_only`. The order totals (attributed,
/// unattributed, missing fx) count the orders placed in the range under either basis.
pub fn credits_by_basis(
    store: &Store,
    run_id: i64,
    by: CreditKey,
    range: Option<(NaiveDate, NaiveDate)>,
    settled_only: bool,
    basis: CreditBasis,
) -> Result<CreditsReport, ReportError> {
    let (run, _) = RunInfo::load(store, run_id)?;
    let mut filter = RunOrderFilter {
        settled_only,
        basis,
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
    let basis_shift = match (basis, range) {
        (CreditBasis::Accrual, Some(_)) => Some(store.basis_shift(run_id, &filter)?.in_brief()),
        _ => None,
    };
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
        basis,
        basis_shift,
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
        // Machine formats: exact.
        assert_eq!(format_conversions(1_500_000_000), "1.500000000");
        assert_eq!(format_conversions(333_333_333), "0.333333333");
        assert_eq!(format_conversions(12_345), "0.000012345");
        assert_eq!(format_conversions(0), "0.000000000");
        assert_eq!(format_conversions(-2_500_000_001), "-2.500000001");
        assert_eq!(format_conversions(60_000_000_000_000), "60000.000000000");
        // Tables: one decimal under 100, none from 100 on, a zero decimal dropped.
        assert_eq!(readable_conversions(12_500_000_000), "12.5");
        assert_eq!(readable_conversions(12_040_000_000), "12");
        assert_eq!(readable_conversions(12_050_000_000), "12"); // half to even: 12.0
        assert_eq!(readable_conversions(12_150_000_000), "12.2"); // half to even: 12.2
        assert_eq!(readable_conversions(99_960_000_000), "100");
        assert_eq!(readable_conversions(749_216_700_000), "749");
        assert_eq!(readable_conversions(2_555_000_000_000), "2555");
        assert_eq!(readable_conversions(2_555_500_000_000), "2556");
        assert_eq!(readable_conversions(40_000_000), "0");
        assert_eq!(readable_conversions(0), "0");
    }
}
