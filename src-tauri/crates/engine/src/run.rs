//! One attribution run: reuse a complete run with the same model, canonical parameters and
//! input watermark if there is one, otherwise load, resolve journeys, learn (data-driven
//! models), credit every order, check conservation and persist — all of it in one transaction.
//!
//! The stages are public ([`crate::load_inputs`], [`resolve`], [`compute_run`]) so the benchmark
//! can time them separately; [`run_model`] is the one entry point everything else uses.

use lookback_core::attribution::{
    JourneyTouch, LearnedWeights, Model, ModelParams, credit_journey, learn_weights, training_paths,
};
use lookback_core::journey::{JoinKind as CoreJoinKind, JourneySet, OrderOutcome, resolve_journeys};
use lookback_core::money::{Currency, SHARE_ONE_PPB};
use lookback_store::{
    JoinKind, NewRun, RunChannelWeight, RunCredit, RunOrder, RunOrderFilter, RunOrderOutcome, Store,
};

use crate::EngineError;
use crate::inputs::{Inputs, load_inputs, reporting_currency};

/// Orders of one order currency that could not be converted to the reporting currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFx {
    /// The orders' own currency.
    pub currency: String,
    pub orders: u64,
    /// Their net revenue in `currency` (it could not be converted).
    pub net_minor: i64,
}

/// What a run produced (or what the reused run holds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub run_id: i64,
    /// Whether an existing complete run was reused instead of computing a new one.
    pub reused: bool,
    pub model: Model,
    pub params: ModelParams,
    pub input_watermark: String,
    pub reporting_currency: Currency,
    /// Every order the run looked at.
    pub orders: u64,
    pub attributed_orders: u64,
    /// Net revenue of attributed orders, reporting currency: exactly the sum of all credits.
    pub attributed_revenue_minor: i64,
    pub unattributed_orders: u64,
    pub unattributed_revenue_minor: i64,
    /// Orders without a usable exchange rate, per order currency (empty when none).
    pub missing_fx: Vec<MissingFx>,
    /// Provisional orders (young or disputed) among attributed and unattributed ones, and their
    /// net revenue in the reporting currency.
    pub provisional_orders: u64,
    pub provisional_revenue_minor: i64,
}

impl RunSummary {
    /// How many orders could not be converted, over all currencies.
    pub fn missing_fx_orders(&self) -> u64 {
        self.missing_fx.iter().map(|m| m.orders).sum()
    }
}

/// A computed run, checked and ready to persist.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedRun {
    pub orders: Vec<RunOrder>,
    pub credits: Vec<RunCredit>,
    pub weights: Vec<RunChannelWeight>,
    pub learned: Option<LearnedWeights>,
}

/// Resolves every order's journey and the non-converting paths with the inputs' settings.
pub fn resolve(inputs: &Inputs) -> Result<JourneySet, EngineError> {
    Ok(resolve_journeys(&inputs.touches, &inputs.orders, &inputs.links, &inputs.journey_config)?)
}

fn store_join_kind(kind: CoreJoinKind) -> JoinKind {
    match kind {
        CoreJoinKind::Deterministic => JoinKind::Deterministic,
        CoreJoinKind::IdentityGraph => JoinKind::IdentityGraph,
        CoreJoinKind::Probabilistic => JoinKind::Probabilistic,
    }
}

/// Credits every attributed order with `model` and checks that each order's credits conserve its
/// net revenue and a whole share. Data-driven models first learn channel weights from all
/// converting paths (including orders whose revenue could not be converted: they did convert)
/// and all non-converting paths.
pub fn compute_run(
    model: Model,
    params: &ModelParams,
    inputs: &Inputs,
    journeys: &JourneySet,
) -> Result<ComputedRun, EngineError> {
    params.validate()?;
    let learned = if model.is_data_driven() {
        let converting = journeys.converting_paths(&inputs.touches);
        let paths = training_paths(&converting, &journeys.non_converting);
        Some(learn_weights(model, &paths)?)
    } else {
        None
    };
    let channel_weights = learned.as_ref().map(LearnedWeights::weight_by_channel).unwrap_or_default();

    let mut orders = Vec::with_capacity(inputs.orders.len());
    let mut credits = Vec::new();
    let mut buffer = Vec::new();
    for (index, (outcome, facts)) in journeys.outcomes.iter().zip(&inputs.order_facts).enumerate() {
        let journey = outcome.journey();
        let join_kind = journey.map(|j| store_join_kind(j.join_kind));
        let run_outcome = match (&facts.missing_fx, outcome) {
            (Some(_), _) => RunOrderOutcome::MissingFx,
            (None, OrderOutcome::Unattributed(_)) => RunOrderOutcome::Unattributed,
            (None, OrderOutcome::Attributed(_)) => RunOrderOutcome::Attributed,
        };
        orders.push(RunOrder {
            order_id: facts.order_id.clone(),
            outcome: run_outcome,
            net_minor: facts.net_minor,
            provisional: facts.provisional,
            join_kind,
        });
        let (RunOrderOutcome::Attributed, Some(journey)) = (run_outcome, journey) else { continue };
        buffer.clear();
        buffer.extend(journey.touches.iter().map(|&t| {
            let touch = &inputs.touches[t as usize];
            JourneyTouch { at_ms: touch.at_ms, channel: touch.channel }
        }));
        let touch_credits =
            credit_journey(model, params, &buffer, facts.net_minor, &inputs.direct_channels, &channel_weights)?;
        check_conservation(&facts.order_id, facts.net_minor, journey.touches.len(), &touch_credits)?;
        let kind = store_join_kind(journey.join_kind);
        credits.extend(journey.touches.iter().zip(&touch_credits).map(|(&touch, credit)| RunCredit {
            order: index as u32,
            touch_rowid: inputs.touch_rowids[touch as usize],
            share_ppb: credit.share_ppb,
            revenue_minor: credit.revenue_minor,
            join_kind: kind,
            confidence_ppm: i64::from(journey.confidence_ppm),
        }));
    }
    let weights = learned
        .as_ref()
        .map(|learned| {
            learned
                .channels
                .iter()
                .map(|c| RunChannelWeight {
                    channel: inputs.channel_names[c.channel as usize].clone(),
                    value: c.value,
                    weight: c.weight,
                    conversions: c.conversions,
                    paths: c.paths,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ComputedRun { orders, credits, weights, learned })
}

/// Fails loudly unless an order's credits sum to exactly its net revenue and to one whole share
/// (1e9 ppb), one credit per journey touch.
fn check_conservation(
    order_id: &str,
    net_minor: i64,
    touches: usize,
    credits: &[lookback_core::attribution::TouchCredit],
) -> Result<(), EngineError> {
    let violated = |detail: String| Err(EngineError::ConservationViolated { order_id: order_id.to_owned(), detail });
    if credits.len() != touches {
        return violated(format!("{} credits for {touches} touches", credits.len()));
    }
    let revenue: i128 = credits.iter().map(|c| i128::from(c.revenue_minor)).sum();
    if revenue != i128::from(net_minor) {
        return violated(format!("credited revenue {revenue} ≠ net revenue {net_minor}"));
    }
    let shares: i128 = credits.iter().map(|c| i128::from(c.share_ppb)).sum();
    if shares != i128::from(SHARE_ONE_PPB) {
        return violated(format!("shares sum to {shares} ppb, not {SHARE_ONE_PPB}"));
    }
    Ok(())
}

/// Runs `model` with `params` over the workspace as it is now, or reuses the complete run that
/// already did exactly that (same model, canonical parameters and input watermark).
///
/// A reused run first has its matured orders marked settled (see
/// `Store::settle_matured_run_orders`), because provisional status depends on `now_ms`, not on
/// the inputs. A new run is written in one transaction after every order passed the conservation
/// check; if computing or checking fails, a `failed` run row records the error and nothing else
/// of the run is kept. This never changes the model setting and never writes the model log, so
/// it is also how a preview of another model runs.
pub fn run_model(store: &mut Store, model: Model, params: &ModelParams, now_ms: i64) -> Result<RunSummary, EngineError> {
    params.validate()?;
    let canonical = params.to_canonical_string();
    let watermark = store.input_watermark()?;
    let currency = reporting_currency(store)?;
    let settlement_days = store.settlement_days()?;

    if let Some(run) = store.find_run(model.as_str(), &canonical, &watermark)? {
        store.settle_matured_run_orders(run.run_id, now_ms, run.settlement_days)?;
        let run_currency = Currency::parse(&run.reporting_currency).unwrap_or(currency);
        return summary_from_store(store, run.run_id, true, model, params, watermark, run_currency);
    }

    let new_run = NewRun {
        model: model.as_str().to_owned(),
        parameters: canonical,
        lookback_days: params.lookback_days,
        settlement_days,
        reporting_currency: currency.code().to_owned(),
        input_watermark: watermark.clone(),
        started_at_ms: now_ms,
    };
    let computed = load_inputs(store, params.lookback_days, now_ms)
        .and_then(|inputs| {
            let journeys = resolve(&inputs)?;
            let computed = compute_run(model, params, &inputs, &journeys)?;
            // Free the inputs (the largest allocation) before writing.
            drop(journeys);
            drop(inputs);
            Ok(computed)
        });
    let computed = match computed {
        Ok(computed) => computed,
        Err(error) => {
            // Best effort: the failure is put on record, but the original error is what the caller sees.
            let _ = store.record_failed_run(&new_run, now_ms, &error.to_string());
            return Err(error);
        }
    };
    let run_id = store.write_complete_run(&new_run, now_ms, &computed.orders, &computed.credits, &computed.weights)?;
    drop(computed);
    summary_from_store(store, run_id, false, model, params, watermark, currency)
}

/// The summary of a stored run, from one aggregate query over its orders.
fn summary_from_store(
    store: &Store,
    run_id: i64,
    reused: bool,
    model: Model,
    params: &ModelParams,
    input_watermark: String,
    reporting_currency: Currency,
) -> Result<RunSummary, EngineError> {
    let mut summary = RunSummary {
        run_id,
        reused,
        model,
        params: *params,
        input_watermark,
        reporting_currency,
        orders: 0,
        attributed_orders: 0,
        attributed_revenue_minor: 0,
        unattributed_orders: 0,
        unattributed_revenue_minor: 0,
        missing_fx: Vec::new(),
        provisional_orders: 0,
        provisional_revenue_minor: 0,
    };
    for total in store.run_order_totals(run_id, &RunOrderFilter::default())? {
        summary.orders += total.orders;
        match total.outcome {
            RunOrderOutcome::Attributed | RunOrderOutcome::Unattributed => {
                if total.outcome == RunOrderOutcome::Attributed {
                    summary.attributed_orders += total.orders;
                    summary.attributed_revenue_minor += total.net_minor;
                } else {
                    summary.unattributed_orders += total.orders;
                    summary.unattributed_revenue_minor += total.net_minor;
                }
                summary.provisional_orders += total.provisional_orders;
                summary.provisional_revenue_minor += total.provisional_net_minor;
            }
            RunOrderOutcome::MissingFx => summary.missing_fx.push(MissingFx {
                currency: total.currency.unwrap_or_default(),
                orders: total.orders,
                net_minor: total.net_minor,
            }),
        }
    }
    Ok(summary)
}
