//! Reconciliation: per source and day, the revenue of the orders vs the revenue the
//! attribution side knows vs what the current model's latest run attributed, with every gap
//! assigned to one cause and its biggest contributors named. Plus the credit conservation
//! check of a run, the "what moved" diff of two runs, and duplicate counts per source.
//!
//! Amounts are exact minor units. Order revenue is in each order's own currency (rows are
//! split by currency, so nothing is converted twice); attribution amounts are in the run's
//! reporting currency, as the run converted them. Causes, in the order an order is tested:
//! 1. `NotInRun` — the run never saw the order (synced after the run; the run is stale).
//! 2. `MissingFx` — the run could not convert the order's currency on its day.
//! 3. `IdentityUnresolved` — unattributed, and none of the order's keys or its click id is
//!    shared with any touch or identity link: there was nothing to join on.
//! 4. `NoTouchInWindow` — unattributed although the order's person has touches: none fell in
//!    the lookback window before the order.
//! 5. `UnknownCreatorOrCampaign` — attributed, but (part of) the credit went to touches naming
//!    a creator or campaign the store does not know, so it shows under no creator.
//! 6. `RefundNotSynced` — refunds whose order is missing (amount of the refund), and orders
//!    whose status says refunded with no refund booked (amount: the order's net, which is
//!    overstated). These do not split the order's revenue; they flag revenue that is wrong.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use lookback_core::time::{day_in_zone, day_start_ms, parse_time_zone};
use lookback_store::{ConservationRow, ReconcileOrder, Run, RunOrderOutcome, Store};

use crate::{TrustError, TrustResult};

/// Why some order revenue is not attributed (or not trustworthy); see the module notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GapCause {
    NotInRun,
    MissingFx,
    IdentityUnresolved,
    NoTouchInWindow,
    UnknownCreatorOrCampaign,
    RefundNotSynced,
}

impl GapCause {
    pub const ALL: [GapCause; 6] = [
        GapCause::NotInRun,
        GapCause::MissingFx,
        GapCause::IdentityUnresolved,
        GapCause::NoTouchInWindow,
        GapCause::UnknownCreatorOrCampaign,
        GapCause::RefundNotSynced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GapCause::NotInRun => "not_in_run",
            GapCause::MissingFx => "missing_fx",
            GapCause::IdentityUnresolved => "identity_unresolved",
            GapCause::NoTouchInWindow => "no_touch_in_window",
            GapCause::UnknownCreatorOrCampaign => "unknown_creator_or_campaign",
            GapCause::RefundNotSynced => "refund_not_synced",
        }
    }
}

/// The window and presentation of a reconciliation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileOptions {
    /// First day, inclusive, in the workspace's reporting zone.
    pub from_day: NaiveDate,
    /// Last day, inclusive.
    pub to_day: NaiveDate,
    /// How many top contributors to name per cause.
    pub top: usize,
}

/// How many days a reconciliation covers when the person names no start: 30, ending on `to`.
pub const DEFAULT_RECONCILE_DAYS: i64 = 30;

impl ReconcileOptions {
    /// The days to reconcile, as the window and `lookback reconcile` both choose them: the days
    /// given, else the [`DEFAULT_RECONCILE_DAYS`] ending on the last day with data (today when
    /// the workspace holds none), in the reporting zone.
    pub fn days_or_default(
        store: &Store,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        top: usize,
        now_ms: i64,
    ) -> TrustResult<ReconcileOptions> {
        let zone = parse_time_zone(&store.reporting_timezone()?)?;
        let to_day = match to {
            Some(day) => day,
            None => match store.overview()?.last_activity_at_ms {
                Some(at_ms) => day_in_zone(at_ms, zone)?,
                None => day_in_zone(now_ms, zone)?,
            },
        };
        let from_day = from.unwrap_or(to_day - chrono::Duration::days(DEFAULT_RECONCILE_DAYS - 1));
        Ok(ReconcileOptions {
            from_day,
            to_day,
            top,
        })
    }
}

/// One source, day and order currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconciliationRow {
    pub source: String,
    pub day: String,
    /// The orders' currency; `gross_minor` and `net_minor` are in it.
    pub currency: String,
    pub orders: u64,
    pub gross_minor: i64,
    /// Gross minus counted refunds and chargebacks.
    pub net_minor: i64,
    /// Net revenue of the orders the run saw and could convert (reporting currency).
    pub known_to_attribution_minor: i64,
    /// Σ credits of these orders in the run (reporting currency).
    pub attributed_minor: i64,
    /// Net of the orders the run left unattributed (reporting currency).
    pub unattributed_minor: i64,
    /// Per cause: orders and amount (reporting currency for causes the run measured; the
    /// order currency for `NotInRun`, `MissingFx` and `RefundNotSynced`).
    pub gaps: BTreeMap<GapCause, (u64, i64)>,
}

/// One order (or orphan refund) behind a gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapContributor {
    /// The order id (for an orphan refund: the order id it names).
    pub order_id: String,
    pub source: String,
    pub day: String,
    pub amount_minor: i64,
    pub currency: String,
}

/// One cause over the whole window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapSummary {
    pub cause: GapCause,
    pub orders: u64,
    /// Amount per currency.
    pub amounts: BTreeMap<String, i64>,
    /// The biggest contributors, largest first (ties by order id).
    pub top: Vec<GapContributor>,
}

/// The credit conservation check of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConservationReport {
    pub run_id: i64,
    /// Orders whose credits do not sum exactly to their net revenue. Empty: the run conserves.
    pub violations: Vec<ConservationRow>,
}

impl ConservationReport {
    pub fn holds(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The reconciliation of one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    pub from_day: String,
    pub to_day: String,
    pub timezone: String,
    pub reporting_currency: String,
    pub model: String,
    /// The latest complete run of the current model, if there is one.
    pub run: Option<Run>,
    /// Whether that run is of the current inputs (false: newer data is not attributed yet).
    pub run_is_current: bool,
    pub rows: Vec<ReconciliationRow>,
    pub gaps: Vec<GapSummary>,
    /// The conservation check of `run` over all its orders; a violation is an error the
    /// window shows, never hides.
    pub conservation: Option<ConservationReport>,
}

/// Reconciles the window of `options` against the latest complete run of the workspace's
/// current model. Never runs a model itself: a reconciliation explains the numbers the views
/// show, and says when they are stale (`run_is_current`, `NotInRun`).
pub fn reconcile(store: &Store, options: &ReconcileOptions) -> TrustResult<Reconciliation> {
    if options.to_day < options.from_day {
        return Err(TrustError::InvalidWindow(format!(
            "{} is before {}",
            options.to_day, options.from_day
        )));
    }
    let settings = store.settings()?;
    let tz = parse_time_zone(&settings.reporting_timezone)?;
    let from_ms = day_start_ms(options.from_day, tz)?;
    let after = options
        .to_day
        .succ_opt()
        .ok_or_else(|| TrustError::InvalidWindow(format!("{} is out of range", options.to_day)))?;
    let to_ms = day_start_ms(after, tz)?;
    let run = store.latest_complete_run(&settings.model)?;
    let run_is_current = match &run {
        Some(run) => run.input_watermark == store.input_watermark()?,
        None => false,
    };
    let orders = store.reconcile_orders(from_ms, to_ms, run.as_ref().map(|r| r.run_id))?;
    let reporting = run
        .as_ref()
        .map(|r| r.reporting_currency.clone())
        .unwrap_or(settings.reporting_currency.clone());

    let mut rows: BTreeMap<(String, String, String), ReconciliationRow> = BTreeMap::new();
    let mut contributors: BTreeMap<GapCause, Vec<GapContributor>> = BTreeMap::new();
    for order in &orders {
        let day = day_in_zone(order.occurred_at_ms, tz)?.to_string();
        let net = order.gross_minor - order.counted_adjustments_minor;
        let row = rows
            .entry((order.source.clone(), day.clone(), order.currency.clone()))
            .or_insert_with(|| ReconciliationRow {
                source: order.source.clone(),
                day: day.clone(),
                currency: order.currency.clone(),
                ..ReconciliationRow::default()
            });
        row.orders += 1;
        row.gross_minor += order.gross_minor;
        row.net_minor += net;
        let run_net = order.run_net_minor.unwrap_or(0);
        let mut gap = |cause: GapCause, amount: i64, currency: &str| {
            let entry = row.gaps.entry(cause).or_insert((0, 0));
            entry.0 += 1;
            entry.1 += amount;
            contributors.entry(cause).or_default().push(GapContributor {
                order_id: order.order_id.clone(),
                source: order.source.clone(),
                day: day.clone(),
                amount_minor: amount,
                currency: currency.to_string(),
            });
        };
        match order.run_outcome {
            None => gap(GapCause::NotInRun, net, &order.currency),
            Some(RunOrderOutcome::MissingFx) => gap(GapCause::MissingFx, net, &order.currency),
            Some(RunOrderOutcome::Unattributed) => {
                let cause = if order.keys_reach_touches {
                    GapCause::NoTouchInWindow
                } else {
                    GapCause::IdentityUnresolved
                };
                gap(cause, run_net, &reporting);
            }
            Some(RunOrderOutcome::Attributed) => {
                if order.unknown_dimension_minor != 0 {
                    gap(
                        GapCause::UnknownCreatorOrCampaign,
                        order.unknown_dimension_minor,
                        &reporting,
                    );
                }
            }
        }
        if refund_status_without_adjustment(order) {
            gap(GapCause::RefundNotSynced, net, &order.currency);
        }
        match order.run_outcome {
            Some(RunOrderOutcome::Attributed) => {
                row.known_to_attribution_minor += run_net;
                row.attributed_minor += order.credited_minor;
            }
            Some(RunOrderOutcome::Unattributed) => {
                row.known_to_attribution_minor += run_net;
                row.unattributed_minor += run_net;
            }
            _ => {}
        }
    }
    for orphan in store.orphan_adjustments(from_ms, to_ms)? {
        let day = day_in_zone(orphan.occurred_at_ms, tz)?.to_string();
        let row = rows
            .entry((orphan.source.clone(), day.clone(), orphan.currency.clone()))
            .or_insert_with(|| ReconciliationRow {
                source: orphan.source.clone(),
                day: day.clone(),
                currency: orphan.currency.clone(),
                ..ReconciliationRow::default()
            });
        let entry = row.gaps.entry(GapCause::RefundNotSynced).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += orphan.amount_minor;
        contributors
            .entry(GapCause::RefundNotSynced)
            .or_default()
            .push(GapContributor {
                order_id: orphan.order_id,
                source: orphan.source,
                day,
                amount_minor: orphan.amount_minor,
                currency: orphan.currency,
            });
    }

    let gaps = contributors
        .into_iter()
        .map(|(cause, mut list)| {
            let mut amounts: BTreeMap<String, i64> = BTreeMap::new();
            for c in &list {
                *amounts.entry(c.currency.clone()).or_default() += c.amount_minor;
            }
            let orders = list.len() as u64;
            list.sort_by(|a, b| {
                b.amount_minor
                    .cmp(&a.amount_minor)
                    .then_with(|| a.order_id.cmp(&b.order_id))
            });
            list.truncate(options.top);
            GapSummary {
                cause,
                orders,
                amounts,
                top: list,
            }
        })
        .collect();
    let conservation = match &run {
        Some(run) => Some(check_conservation(store, run.run_id)?),
        None => None,
    };
    Ok(Reconciliation {
        from_day: options.from_day.to_string(),
        to_day: options.to_day.to_string(),
        timezone: settings.reporting_timezone,
        reporting_currency: reporting,
        model: settings.model,
        run,
        run_is_current,
        rows: rows.into_values().collect(),
        gaps,
        conservation,
    })
}

/// An order whose status says it was refunded but that has no refund booked: the refund has
/// not been synced yet, so its net revenue is overstated.
fn refund_status_without_adjustment(order: &ReconcileOrder) -> bool {
    order.adjustments == 0 && order.status.to_ascii_lowercase().contains("refund")
}

/// Checks Σ credits = net revenue for every order of `run_id`, exactly, in minor units.
pub fn check_conservation(store: &Store, run_id: i64) -> TrustResult<ConservationReport> {
    if store.run(run_id)?.is_none() {
        return Err(lookback_store::StoreError::RunNotFound { run_id }.into());
    }
    Ok(ConservationReport {
        run_id,
        violations: store.credit_conservation_violations(run_id)?,
    })
}

/// How one creator's attributed revenue moved between two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorMove {
    /// `None`: touches without a creator (or erased since).
    pub creator_id: Option<String>,
    pub before_minor: i64,
    pub after_minor: i64,
    pub delta_minor: i64,
}

/// What moved per creator from run `before` to run `after` (e.g. yesterday's run and today's
/// re-run after a restated sync). Only creators whose revenue changed are listed, biggest
/// absolute move first. Both runs must exist; they should share a reporting currency.
pub fn diff_runs(store: &Store, before: i64, after: i64) -> TrustResult<Vec<CreatorMove>> {
    for run_id in [before, after] {
        if store.run(run_id)?.is_none() {
            return Err(lookback_store::StoreError::RunNotFound { run_id }.into());
        }
    }
    let mut by_creator: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    for (creator, revenue) in store.run_revenue_by_creator(before)? {
        by_creator.entry(creator).or_default().0 += revenue;
    }
    for (creator, revenue) in store.run_revenue_by_creator(after)? {
        by_creator.entry(creator).or_default().1 += revenue;
    }
    let mut moves: Vec<CreatorMove> = by_creator
        .into_iter()
        .filter(|(_, (b, a))| b != a)
        .map(|(creator_id, (before_minor, after_minor))| CreatorMove {
            creator_id,
            before_minor,
            after_minor,
            delta_minor: after_minor - before_minor,
        })
        .collect();
    moves.sort_by(|a, b| {
        b.delta_minor
            .abs()
            .cmp(&a.delta_minor.abs())
            .then_with(|| a.creator_id.cmp(&b.creator_id))
    });
    Ok(moves)
}

/// Raw-event counts of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateCounts {
    pub source: String,
    pub raw_events: u64,
    pub distinct_records: u64,
    /// Versions beyond the first of a record (restatements, each stored once).
    pub restated_versions: u64,
}

/// Per source: raw events, distinct records and restated versions, from the workspace's
/// maintained totals. Event ids are unique per source by construction (primary keys of the
/// canonical tables and the latest-version check of `insert_raw_event`). Exact re-deliveries
/// absorbed by idempotency are never written, so the store cannot count them after the fact;
/// the sync and import summaries report them per run ("N duplicates").
pub fn duplicate_counts(store: &Store) -> TrustResult<Vec<DuplicateCounts>> {
    Ok(store
        .source_totals()?
        .into_iter()
        .filter(|s| s.raw_events > 0)
        .map(|s| DuplicateCounts {
            source: s.source,
            raw_events: s.raw_events,
            distinct_records: s.raw_records,
            restated_versions: s.raw_events - s.raw_records,
        })
        .collect())
}
