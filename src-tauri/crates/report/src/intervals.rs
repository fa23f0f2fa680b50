//! Intervals beside data-driven figures: each learned channel weight's bootstrap interval
//! (attached to a [`WeightsReport`]), and the revenue interval of each row of a ROAS view by
//! channel, creator, campaign or content. The bootstrap itself is the engine's
//! ([`lookback_engine::run_bootstrap`]); the method is in `lookback_core::bootstrap`.
//!
//! A figure too uncertain to state — its channel or key rests on fewer than
//! [`MIN_CONVERSIONS`] conversions, or its interval is wider than the figure — carries
//! [`Confidence::TooFew`], and every rendering shows [`Confidence::TOO_FEW_WORDS`] in its place.

use lookback_core::bootstrap::{BootstrapSettings, Confidence, MIN_CONVERSIONS};
use lookback_engine::{IntervalKey, RunBootstrap};
use lookback_store::{CreditBasis, Store};

use crate::ReportError;
use crate::credits::RunInfo;
use crate::views::{
    ViewKey, ViewQuery, key_or_none, label_of, labels, order_filter, reporting_zone,
};
use crate::weights::WeightsReport;

/// The interval of one learned weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightRowInterval {
    pub low: f64,
    pub high: f64,
    pub confidence: Confidence,
}

/// The intervals of a weights report, one per row, in the rows' order.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightIntervals {
    pub settings: BootstrapSettings,
    pub rows: Vec<WeightRowInterval>,
}

/// Attaches `boot`'s interval to each row of `report` (by channel name; a channel the
/// bootstrap did not see gets 0..0 and is too uncertain to state).
pub fn attach_weight_intervals(report: &mut WeightsReport, boot: &RunBootstrap) {
    let rows = report
        .rows
        .iter()
        .map(|row| {
            let found = boot
                .boot
                .intervals
                .iter()
                .find(|i| boot.channel_name(i.channel) == row.channel);
            let (low, high) = found.map_or((0.0, 0.0), |i| (i.low, i.high));
            let confidence = match found {
                Some(_) => Confidence::of(row.weight, low, high, row.conversions),
                None => Confidence::TooFew,
            };
            WeightRowInterval {
                low,
                high,
                confidence,
            }
        })
        .collect();
    report.intervals = Some(WeightIntervals {
        settings: boot.boot.settings,
        rows,
    });
}

/// One row of a revenue-interval view.
#[derive(Debug, Clone, PartialEq)]
pub struct RevenueIntervalRow {
    /// The key as the ROAS view's rows name it ([`crate::NONE_KEY`] for none).
    pub key: String,
    pub label: String,
    /// The revenue the whole-table weights credit (the run's figure up to its rounding).
    pub point_minor: i64,
    pub low_minor: i64,
    pub high_minor: i64,
    /// Orders in range whose journey has a touch of this key.
    pub orders: u64,
    pub confidence: Confidence,
}

/// The revenue intervals of a view's keys, largest point first.
#[derive(Debug, Clone, PartialEq)]
pub struct RevenueIntervalsView {
    pub run: RunInfo,
    pub by: ViewKey,
    pub settings: BootstrapSettings,
    pub rows: Vec<RevenueIntervalRow>,
}

/// The interval key of a view key; platforms have none (a platform is read from campaigns and
/// creators as they are when a view reads, not from the journeys' touches).
pub fn interval_key(by: ViewKey) -> Option<IntervalKey> {
    match by {
        ViewKey::Channel => Some(IntervalKey::Channel),
        ViewKey::Creator => Some(IntervalKey::Creator),
        ViewKey::Campaign => Some(IntervalKey::Campaign),
        ViewKey::Content => Some(IntervalKey::Content),
        ViewKey::Platform => None,
    }
}

/// The revenue interval of each key of `q.by` over the orders `q` selects (days, settled only),
/// from `boot` (which must be the bootstrap of `q.run_id`'s model over the same data). `q.bucket`
/// is ignored: intervals are over the whole range. A platform view is
/// [`ReportError::UnknownViewKey`].
pub fn revenue_intervals_view(
    store: &Store,
    q: &ViewQuery,
    boot: &RunBootstrap,
) -> Result<RevenueIntervalsView, ReportError> {
    let (run, _) = RunInfo::load(store, q.run_id)?;
    let by = interval_key(q.by).ok_or_else(|| ReportError::UnknownViewKey {
        name: format!(
            "{} (intervals are by creator, campaign, channel or content)",
            q.by
        ),
    })?;
    let zone = reporting_zone(store)?;
    // Intervals select orders by their own day (the cash basis) whatever the view's basis:
    // each resample re-splits whole orders, which have one day, not one per touch.
    let filter = order_filter(zone, q.from, q.to, q.settled_only, CreditBasis::Cash)?;
    let names = labels(store, q.by)?;
    let mut rows: Vec<RevenueIntervalRow> = lookback_engine::revenue_intervals(boot, by, &filter)
        .into_iter()
        .map(|r| {
            let key = key_or_none(r.key);
            RevenueIntervalRow {
                label: label_of(&names, &key),
                key,
                point_minor: r.point_minor,
                low_minor: r.low_minor,
                high_minor: r.high_minor,
                orders: r.orders,
                confidence: Confidence::of(
                    r.point_minor as f64,
                    r.low_minor as f64,
                    r.high_minor as f64,
                    r.orders,
                ),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.point_minor
            .cmp(&a.point_minor)
            .then_with(|| a.key.cmp(&b.key))
    });
    Ok(RevenueIntervalsView {
        run,
        by: q.by,
        settings: boot.boot.settings,
        rows,
    })
}

/// The words that stand for an interval too uncertain to state, as a sentence for a caption.
pub fn too_few_rule() -> String {
    format!(
        "\"{}\": fewer than {MIN_CONVERSIONS} conversions, or an interval wider than the figure",
        Confidence::TOO_FEW_WORDS
    )
}
