//! What every view carries about where its numbers come from (DESIGN.md §5): the run, model and
//! parameters, the freshness of every source, how much revenue rests on each kind of identity
//! join, and what the view could not count — unattributed orders, orders and costs without an
//! exchange rate — and how much of it is still provisional.

use lookback_core::time::NaiveDate;
use lookback_store::{
    BasisCrossing, BasisShift, CreditBasis, JoinKind, RunOrderFilter, RunOrderOutcome, Store,
};

use crate::ReportError;
use crate::credits::RunInfo;

/// How fresh one source's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFreshnessLine {
    pub source_id: String,
    /// The source's name, or its id when no source row describes it (a bare CSV import).
    pub name: String,
    /// The connector kind (`stripe`, `meta_ads`, `csv`…); empty when unknown.
    pub kind: String,
    pub last_success_at_ms: Option<i64>,
    pub last_attempt_at_ms: Option<i64>,
    /// The last sync error, if the last attempt failed (never a secret: see the store).
    pub last_error: Option<String>,
    /// The platform refused the credential at this instant; the source needs reconnecting.
    pub needs_reconnect_since_ms: Option<i64>,
}

/// Credited revenue by the kind of join that tied the order to its touches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JoinKindRevenue {
    pub deterministic_minor: i64,
    pub identity_graph_minor: i64,
    pub probabilistic_minor: i64,
}

/// Costs of one currency that could not be converted (no rate on their day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFxCost {
    pub currency: String,
    /// Spend rows (per campaign and day) and creator costs.
    pub rows: u64,
    /// In `currency` itself, since it could not be converted.
    pub amount_minor: i64,
}

/// Where a view reads a run's credit sums from. Both give the same numbers; the totals are
/// only read when they do (see the store's checks), so `Exact` exists for tests to prove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reading {
    /// The per-day totals written with the run, falling back to the joins when they cannot answer.
    Totals,
    /// Always the joins over credits, orders and touches.
    #[cfg_attr(not(test), allow(dead_code))]
    Exact,
}

/// Where a view's numbers come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub run_id: i64,
    pub model: String,
    /// Canonical JSON of the model's parameters.
    pub parameters: String,
    pub run_finished_at_ms: Option<i64>,
    pub reporting_currency: String,
    /// The store's input watermark the run was computed at.
    pub input_watermark: String,
    /// The selection the view covers.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub settled_only: bool,
    /// Which day a credit counts on: its order's (cash) or its touch's (accrual).
    pub basis: CreditBasis,
    /// Under accrual with a bounded range, how the credits crossing its edges move the range's
    /// revenue from the cash basis (`attributed_minor` = cash + later orders' − earlier
    /// touches'); `None` under cash or over the whole history, where the bases agree.
    pub basis_shift: Option<BasisShift>,
    /// Every source, by id.
    pub freshness: Vec<SourceFreshnessLine>,
    pub revenue_by_join_kind: JoinKindRevenue,
    /// Credited revenue of the selection (= Σ of `revenue_by_join_kind`), dated by the basis.
    pub attributed_minor: i64,
    /// Attributed orders placed in the range (orders are counted by their own day under both
    /// bases).
    pub attributed_orders: u64,
    /// Orders of the selection with no touch in their journey, and their net revenue.
    pub unattributed_orders: u64,
    pub unattributed_minor: i64,
    /// Orders of the selection the run could not convert to the reporting currency.
    pub missing_fx_orders: u64,
    /// The part of `attributed_minor` on provisional orders (0 with `settled_only`).
    pub provisional_minor: i64,
    /// Costs left out of the view for want of an exchange rate, per currency. Filled by the
    /// views that count cost (ROAS, CAC); empty elsewhere.
    pub missing_fx_costs: Vec<MissingFxCost>,
}

impl Provenance {
    /// Builds the provenance of run `run_id` over the orders `filter` selects.
    pub(crate) fn build(
        store: &Store,
        run: &RunInfo,
        filter: &RunOrderFilter,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Provenance, ReportError> {
        Provenance::build_reading(store, run, filter, from, to, Reading::Totals)
    }

    /// [`Provenance::build`], reading the revenue by join kind from the run's stored totals when
    /// they answer exactly (`Reading::Totals`), or always from the join of every credit
    /// (`Reading::Exact`, what the tests compare the totals against).
    pub(crate) fn build_reading(
        store: &Store,
        run: &RunInfo,
        filter: &RunOrderFilter,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        reading: Reading,
    ) -> Result<Provenance, ReportError> {
        let freshness = store
            .source_freshness()?
            .into_iter()
            .map(|s| SourceFreshnessLine {
                name: s.name.unwrap_or_else(|| s.source_id.clone()),
                kind: s.kind.unwrap_or_default(),
                source_id: s.source_id,
                last_success_at_ms: s.last_success_at_ms,
                last_attempt_at_ms: s.last_attempt_at_ms,
                last_error: s.last_error,
                needs_reconnect_since_ms: s.needs_reconnect_since_ms,
            })
            .collect();
        // Everything is read on the cash basis (from the run's order buckets), then moved by the
        // credits that cross the range's edges when the basis is accrual.
        let cash = RunOrderFilter {
            basis: CreditBasis::Cash,
            ..*filter
        };
        let bounded = filter.from_at_ms.is_some() || filter.until_at_ms.is_some();
        let shift = match filter.basis {
            CreditBasis::Accrual if bounded => Some(store.basis_shift(run.run_id, filter)?),
            _ => None,
        };
        let mut by_join = JoinKindRevenue::default();
        let by_kind = match reading {
            Reading::Totals => store.credited_revenue_by_join_kind(run.run_id, &cash)?,
            Reading::Exact => store.credited_revenue_by_join_kind_exact(run.run_id, &cash)?,
        };
        let crossing = shift.iter().flat_map(|s| {
            let later = s.from_later_orders.by_join_kind.iter().copied();
            let earlier = s
                .to_earlier_touches
                .by_join_kind
                .iter()
                .map(|&(k, m)| (k, -m));
            later.chain(earlier)
        });
        for (kind, revenue) in by_kind.into_iter().chain(crossing) {
            match kind {
                JoinKind::Deterministic => by_join.deterministic_minor += revenue,
                JoinKind::IdentityGraph => by_join.identity_graph_minor += revenue,
                JoinKind::Probabilistic => by_join.probabilistic_minor += revenue,
            }
        }
        let mut provenance = Provenance {
            run_id: run.run_id,
            model: run.model.clone(),
            parameters: run.parameters.clone(),
            run_finished_at_ms: run.finished_at_ms,
            reporting_currency: run.reporting_currency.code().to_owned(),
            input_watermark: run.input_watermark.clone(),
            from,
            to,
            settled_only: filter.settled_only,
            basis: filter.basis,
            basis_shift: shift.as_ref().map(BasisCrossing::in_brief),
            freshness,
            revenue_by_join_kind: by_join,
            attributed_minor: 0,
            attributed_orders: 0,
            unattributed_orders: 0,
            unattributed_minor: 0,
            missing_fx_orders: 0,
            provisional_minor: 0,
            missing_fx_costs: Vec::new(),
        };
        for total in store.run_order_totals(run.run_id, &cash)? {
            match total.outcome {
                RunOrderOutcome::Attributed => {
                    provenance.attributed_minor = total.net_minor;
                    provenance.attributed_orders = total.orders;
                    provenance.provisional_minor = total.provisional_net_minor;
                }
                RunOrderOutcome::Unattributed => {
                    provenance.unattributed_orders = total.orders;
                    provenance.unattributed_minor = total.net_minor;
                }
                RunOrderOutcome::MissingFx => provenance.missing_fx_orders += total.orders,
            }
        }
        if let Some(shift) = &shift {
            let (later, earlier) = (&shift.from_later_orders, &shift.to_earlier_touches);
            provenance.attributed_minor += later.revenue_minor - earlier.revenue_minor;
            provenance.provisional_minor +=
                later.provisional_revenue_minor - earlier.provisional_revenue_minor;
        }
        Ok(provenance)
    }
}

/// The provenance of run `run_id` over credits of days `from..=to` (reporting zone, the days
/// `basis` gives them), settled only if asked — for screens that show it without a view.
pub fn provenance(
    store: &Store,
    run_id: i64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    settled_only: bool,
    basis: CreditBasis,
) -> Result<Provenance, ReportError> {
    let (run, _) = RunInfo::load(store, run_id)?;
    let zone = super::reporting_zone(store)?;
    let filter = super::order_filter(zone, from, to, settled_only, basis)?;
    Provenance::build(store, &run, &filter, from, to)
}

/// What the accrual basis moves across a range's edges, in words (one line for tables, the
/// window and the CLI alike): "Accrual: +1,234.56 USD credited to touches in range from orders
/// after it, −56.00 USD of orders in range credited to touches before it".
pub fn basis_shift_in_words(
    shift: &BasisShift,
    currency: lookback_core::money::Currency,
) -> String {
    let money = |minor: i64| {
        format!(
            "{} {}",
            lookback_core::money::format_minor(minor, currency),
            currency.code()
        )
    };
    format!(
        "Accrual: +{} credited to touches in range from orders after it, \u{2212}{} of orders in range credited to touches before it",
        money(shift.from_later_orders_minor),
        money(shift.to_earlier_touches_minor)
    )
}
