//! One attribution run: reuse a complete run with the same model, canonical parameters and
//! input watermark if there is one, otherwise get the journeys (from the store's journey cache,
//! or by loading and resolving — which fills the cache), learn (data-driven models), credit every
//! order, check conservation and persist the run with its report totals — in one transaction.
//!
//! The stages are public ([`crate::load_inputs`], [`resolve`], [`load_journeys`],
//! [`compute_run`]) so the benchmark can time them separately; [`run_model`] is the one entry
//! point everything else uses. A new run keeps both cores busy: the model runs on a scoped
//! worker while this thread writes the run's orders, and cached journeys are decoded on one
//! while the orders' facts are read. Results do not depend on it: every thread's output is
//! joined before anything is committed, in a fixed order.

use lookback_core::CoreError;
use lookback_core::attribution::{
    JourneyTouch, LearnedWeights, Model, ModelParams, TrainingPath, credit_journey, learn_weights,
    training_paths,
};
use lookback_core::journey::{
    ChannelPaths, JoinKind as CoreJoinKind, JourneySet, resolve_interned_journeys,
};
use lookback_core::money::{Currency, SHARE_ONE_PPB};
use lookback_core::touch_filter::TouchFilter;
use lookback_store::{
    CreditBasis, CreditGrouping, JoinKind, NamedRunCredit, NewRun, PreparedRun, ReportedRunOrder,
    RunChannelWeight, RunCreditTotal, RunOrder, RunOrderFilter, RunOrderOutcome, Store,
    campaign_creator_key,
};

use crate::EngineError;
use crate::inputs::{
    FxMap, Inputs, OrderFacts, is_direct_channel, load_inputs, load_order_facts,
    reporting_currency, reporting_zone,
};
use crate::journey_cache::{
    CACHE_FORMAT, CachedJourneys, CachedOutcome, CachedTouch, JourneyTouchKeys, LoadedTouches,
    distinct_paths, journey_rowids,
};

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

/// One credit of a computed run: `order` indexes the run's orders, `touch` the journeys'
/// touches ([`CachedJourneys::touches`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputedCredit {
    pub order: u32,
    pub touch: u32,
    pub share_ppb: i64,
    pub revenue_minor: i64,
    pub join_kind: JoinKind,
    pub confidence_ppm: i64,
}

/// A computed run's credits, checked, with what else the model produced; its orders are
/// [`run_orders`].
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedRun {
    pub credits: Vec<ComputedCredit>,
    pub weights: Vec<RunChannelWeight>,
    pub learned: Option<LearnedWeights>,
    /// The credits summed per report key, order day and provisional flag.
    pub totals: Vec<RunCreditTotal>,
}

/// Resolves every order's journey and the non-converting paths with the inputs' settings.
pub fn resolve(inputs: &Inputs) -> Result<JourneySet, EngineError> {
    Ok(resolve_interned_journeys(
        &inputs.touches,
        &inputs.orders,
        &inputs.links,
        inputs.key_count,
        inputs.click_count,
        &inputs.journey_config,
    )?)
}

/// Journeys of the workspace as it is at `input_watermark`, and the facts of its orders at
/// `now_ms`: from the store's journey cache when it holds this watermark, lookback,
/// probabilistic setting and touch filter, else by loading the touches `filter` admits and
/// resolving — and then caching the result, unless the store changed while it was read (the
/// watermark would not name it).
///
/// `with_paths` asks for the non-converting paths too (data-driven models learn from them); a
/// resolving load always has them. Returns whether the journeys came from the cache.
pub fn load_journeys(
    store: &mut Store,
    input_watermark: &str,
    lookback_days: u32,
    filter: TouchFilter,
    now_ms: i64,
    with_paths: bool,
) -> Result<(CachedJourneys, Vec<OrderFacts>, bool), EngineError> {
    let probabilistic = store.settings()?.probabilistic_matching;
    let cached = store.journey_cache(
        input_watermark,
        lookback_days,
        probabilistic,
        filter,
        CACHE_FORMAT,
        with_paths,
    )?;
    if let Some((journeys, paths)) = cached {
        // Decoding (a second thread) and reading the orders' facts (this one) overlap.
        let (decoded, facts) = std::thread::scope(|scope| {
            let decoder = scope.spawn(|| CachedJourneys::decode(&journeys, paths.as_deref()));
            let facts = load_order_facts(store, now_ms);
            match decoder.join() {
                Ok(decoded) => (decoded, facts),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        if let Some(journeys) = decoded {
            let facts = facts?;
            if facts.len() == journeys.outcomes.len() {
                return Ok((journeys, facts, true));
            }
        }
    }
    let inputs = load_inputs(store, lookback_days, filter, now_ms)?;
    let resolved = resolve(&inputs)?;
    // Of the inputs only the touches' rowids, instants and channels, and the orders' facts,
    // are needed from here: the keys, click ids and orders go before the report keys are read.
    let Inputs {
        touches,
        touch_rowids,
        channel_names,
        order_facts: facts,
        ..
    } = inputs;
    let (at_ms, channel) = touches.into_instants_and_channels();
    let loaded = LoadedTouches {
        rowids: &touch_rowids,
        at_ms: &at_ms,
        channel: &channel,
        channel_names: &channel_names,
    };
    // Grouping the non-converting paths (a second thread) overlaps reading the touch keys.
    let (keys, paths) = std::thread::scope(|scope| {
        let grouping = scope.spawn(|| distinct_paths(&resolved.non_converting));
        let keys = JourneyTouchKeys::read(store, journey_rowids(&touch_rowids, &resolved));
        match grouping.join() {
            Ok(paths) => (keys, paths),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    let keys = keys?;
    let journeys = CachedJourneys::build(&loaded, &resolved, &keys, paths)?;
    drop((resolved, keys, touch_rowids, at_ms, channel));
    if store.input_watermark()? == input_watermark {
        let (encoded, paths) = journeys.encode();
        store.put_journey_cache(
            input_watermark,
            lookback_days,
            probabilistic,
            filter,
            CACHE_FORMAT,
            now_ms,
            &encoded,
            &paths,
        )?;
    }
    Ok((journeys, facts, false))
}

fn store_join_kind(kind: CoreJoinKind) -> JoinKind {
    match kind {
        CoreJoinKind::Deterministic => JoinKind::Deterministic,
        CoreJoinKind::IdentityGraph => JoinKind::IdentityGraph,
        CoreJoinKind::Probabilistic => JoinKind::Probabilistic,
    }
}

/// What became of an order in a run: no usable exchange rate beats everything, then whether it
/// has a journey.
fn run_outcome(outcome: &CachedOutcome, facts: &OrderFacts) -> RunOrderOutcome {
    match (&facts.missing_fx, outcome) {
        (Some(_), _) => RunOrderOutcome::MissingFx,
        (None, CachedOutcome::Unattributed(_)) => RunOrderOutcome::Unattributed,
        (None, CachedOutcome::Attributed { .. }) => RunOrderOutcome::Attributed,
    }
}

fn outcome_join_kind(outcome: &CachedOutcome) -> Option<JoinKind> {
    match *outcome {
        CachedOutcome::Attributed { join_kind, .. } => Some(store_join_kind(join_kind)),
        CachedOutcome::Unattributed(_) => None,
    }
}

/// Every order of a run as it is written: its outcome, net revenue, provisional flag and join
/// kind, with its instant, currency and day. None of it depends on the model.
pub fn run_orders(facts: &[OrderFacts], journeys: &CachedJourneys) -> Vec<ReportedRunOrder> {
    journeys
        .outcomes
        .iter()
        .zip(facts)
        .map(|(outcome, facts)| ReportedRunOrder {
            order: RunOrder {
                order_id: facts.order_id.clone(),
                outcome: run_outcome(outcome, facts),
                net_minor: facts.net_minor,
                provisional: facts.provisional,
                join_kind: outcome_join_kind(outcome),
            },
            occurred_at_ms: facts.occurred_at_ms,
            currency: facts.currency.clone(),
            day_start_ms: facts.day_start_ms,
            day_end_ms: facts.day_end_ms,
        })
        .collect()
}

/// Credits every attributed order with `model` and checks that each order's credits conserve its
/// net revenue and a whole share. Data-driven models first learn channel weights from all
/// converting paths (including orders whose revenue could not be converted: they did convert)
/// and all non-converting paths (grouped: each distinct path once, with its count).
pub fn compute_run(
    model: Model,
    params: &ModelParams,
    facts: &[OrderFacts],
    journeys: &CachedJourneys,
) -> Result<ComputedRun, EngineError> {
    params.validate()?;
    if facts.len() != journeys.outcomes.len() {
        return Err(CoreError::IndexOutOfRange {
            what: "order",
            index: facts.len(),
            len: journeys.outcomes.len(),
        }
        .into());
    }
    if model.is_data_driven() && !journeys.has_non_converting {
        return Err(CoreError::InvalidModelParams {
            reason: format!(
                "the {model} model learns from non-converting paths, and they were not loaded"
            ),
        }
        .into());
    }
    let direct_channels: Vec<bool> = journeys
        .channel_names
        .iter()
        .map(|name| is_direct_channel(name))
        .collect();
    let learned = if model.is_data_driven() {
        let converting = journeys.converting_paths();
        let none = ChannelPaths::new();
        let mut paths = training_paths(&converting, &none);
        paths.extend(
            journeys
                .non_converting
                .iter()
                .zip(&journeys.non_converting_counts)
                .map(|(channels, &count)| TrainingPath {
                    channels,
                    conversions: 0,
                    non_conversions: count,
                }),
        );
        Some(learn_weights(model, &paths)?)
    } else {
        None
    };
    let channel_weights = learned
        .as_ref()
        .map(LearnedWeights::weight_by_channel)
        .unwrap_or_default();

    let mut credits = Vec::new();
    let mut totals = TotalsBuilder::default();
    let mut buffer = Vec::new();
    for (index, (outcome, facts)) in journeys.outcomes.iter().zip(facts).enumerate() {
        let (RunOrderOutcome::Attributed, Some(journey), Some(kind)) = (
            run_outcome(outcome, facts),
            journeys.journey(outcome),
            outcome_join_kind(outcome),
        ) else {
            continue;
        };
        let CachedOutcome::Attributed { confidence_ppm, .. } = *outcome else {
            continue;
        };
        buffer.clear();
        buffer.extend(journey.iter().map(|touch| JourneyTouch {
            at_ms: touch.at_ms,
            channel: touch.channel,
        }));
        let touch_credits = credit_journey(
            model,
            params,
            &buffer,
            facts.net_minor,
            &direct_channels,
            &channel_weights,
        )?;
        check_conservation(
            &facts.order_id,
            facts.net_minor,
            journey.len(),
            &touch_credits,
        )?;
        let CachedOutcome::Attributed { start, .. } = *outcome else {
            continue;
        };
        let day = totals.day(facts);
        for (offset, (touch, credit)) in journey.iter().zip(&touch_credits).enumerate() {
            totals.add(touch, day, credit.share_ppb, credit.revenue_minor);
            credits.push(ComputedCredit {
                order: index as u32,
                touch: start + offset as u32,
                share_ppb: credit.share_ppb,
                revenue_minor: credit.revenue_minor,
                join_kind: kind,
                confidence_ppm: i64::from(confidence_ppm),
            });
        }
    }
    let weights = learned
        .as_ref()
        .map(|learned| {
            learned
                .channels
                .iter()
                .map(|c| RunChannelWeight {
                    channel: journeys.channel_names[c.channel as usize].clone(),
                    value: c.value,
                    weight: c.weight,
                    conversions: c.conversions,
                    paths: c.paths,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ComputedRun {
        credits,
        weights,
        learned,
        totals: totals.finish(journeys),
    })
}

/// The accrual totals of a computed run: its credits summed as [`ComputedRun::totals`] are, but
/// per day of the credited touch in `zone` (with the order's provisional flag) — what the views
/// read under the accrual basis. Every zone offset in use is a multiple of 15 minutes, so a
/// touch's day is looked up per quarter hour (and checked against the instant).
pub fn accrual_totals(
    credits: &[ComputedCredit],
    facts: &[OrderFacts],
    journeys: &CachedJourneys,
    zone: lookback_core::time::Tz,
) -> Result<Vec<RunCreditTotal>, EngineError> {
    const QUARTER_HOUR_MS: i64 = 900_000;
    let mut totals = TotalsBuilder {
        basis: CreditBasis::Accrual,
        ..TotalsBuilder::default()
    };
    let mut days: FxMap<i64, (i64, i64)> = FxMap::default();
    for credit in credits {
        let touch = &journeys.touches[credit.touch as usize];
        let at = touch.at_ms;
        let (start, end) = match days.get(&at.div_euclid(QUARTER_HOUR_MS)) {
            Some(&(start, end)) if start <= at && at < end => (start, end),
            _ => {
                let day = lookback_core::time::day_in_zone(at, zone)?;
                let range = lookback_core::time::day_range_ms(day, zone)?;
                days.insert(at.div_euclid(QUARTER_HOUR_MS), range);
                range
            }
        };
        let provisional = facts[credit.order as usize].provisional;
        let day = totals.day_index(start, end, provisional);
        totals.add(touch, day, credit.share_ppb, credit.revenue_minor);
    }
    Ok(totals.finish(journeys))
}

/// Sums credits per (grouping, key, day, provisional) while they are computed — the order's day
/// for the cash basis, the touch's for accrual. Keys are the journeys' interned ids (channel ids,
/// string ids), turned into text once per bucket; a day and provisional flag are numbered once,
/// so each credit costs one small-keyed map update per grouping.
#[derive(Default)]
struct TotalsBuilder {
    /// Whose day the buckets are.
    basis: CreditBasis,
    /// Each distinct (day start, provisional) of an order, with the day's end; a bucket names
    /// it by index here.
    days: Vec<(i64, i64, bool)>,
    day_index: FxMap<(i64, bool), u32>,
    /// Per grouping slot of [`GROUPINGS`]: (key, day index) → (credits, share, revenue).
    buckets: [FxMap<(u64, u32), BucketSums>; GROUPINGS.len()],
}

/// A bucket's credits, share and revenue.
type BucketSums = (u64, i64, i64);

const GROUPINGS: [CreditGrouping; 5] = [
    CreditGrouping::Channel,
    CreditGrouping::Creator,
    CreditGrouping::Campaign,
    CreditGrouping::Content,
    CreditGrouping::CampaignCreator,
];

/// The slot of [`CreditGrouping::CampaignCreator`] in [`GROUPINGS`].
const PAIR_SLOT: usize = 4;

impl TotalsBuilder {
    /// The index of an order's day and provisional flag, for [`TotalsBuilder::add`].
    fn day(&mut self, facts: &OrderFacts) -> u32 {
        self.day_index(facts.day_start_ms, facts.day_end_ms, facts.provisional)
    }

    /// The index of the day `[start, end)` with a provisional flag.
    fn day_index(&mut self, start: i64, end: i64, provisional: bool) -> u32 {
        let days = &mut self.days;
        *self
            .day_index
            .entry((start, provisional))
            .or_insert_with(|| {
                days.push((start, end, provisional));
                (days.len() - 1) as u32
            })
    }

    fn add(&mut self, touch: &CachedTouch, day: u32, share: i64, revenue: i64) {
        let pair = (u64::from(touch.campaign) << 32) | u64::from(touch.creator);
        let keys = [
            u64::from(touch.channel),
            u64::from(touch.creator),
            u64::from(touch.campaign),
            u64::from(touch.content),
            pair,
        ];
        for (buckets, key) in self.buckets.iter_mut().zip(keys) {
            let sums = buckets.entry((key, day)).or_insert((0, 0, 0));
            sums.0 += 1;
            sums.1 += share;
            sums.2 += revenue;
        }
    }

    fn finish(self, journeys: &CachedJourneys) -> Vec<RunCreditTotal> {
        let (days, basis) = (self.days, self.basis);
        let mut totals: Vec<RunCreditTotal> =
            Vec::with_capacity(self.buckets.iter().map(FxMap::len).sum());
        for (slot, buckets) in self.buckets.into_iter().enumerate() {
            totals.extend(buckets.into_iter().map(
                |((key, day), (credits, share_ppb, revenue_minor))| {
                    let key = match slot {
                        0 => Some(journeys.channel_names[key as usize].clone()),
                        PAIR_SLOT => campaign_creator_key(
                            journeys.string((key >> 32) as u32),
                            journeys.string(key as u32),
                        ),
                        _ => journeys.string(key as u32).map(str::to_owned),
                    };
                    let (day_start_ms, day_end_ms, provisional) = days[day as usize];
                    RunCreditTotal {
                        grouping: GROUPINGS[slot],
                        basis,
                        key,
                        day_start_ms,
                        day_end_ms,
                        provisional,
                        credits,
                        share_ppb,
                        revenue_minor,
                    }
                },
            ));
        }
        // A fixed order, so the table's rows do not depend on hashing (the sums break the tie
        // of two keys with the same text, such as an empty campaign id and none).
        totals.sort_unstable_by(|a, b| {
            (
                a.grouping as u8,
                &a.key,
                a.day_start_ms,
                a.provisional,
                (a.credits, a.share_ppb, a.revenue_minor),
            )
                .cmp(&(
                    b.grouping as u8,
                    &b.key,
                    b.day_start_ms,
                    b.provisional,
                    (b.credits, b.share_ppb, b.revenue_minor),
                ))
        });
        totals
    }
}

/// Fails loudly unless an order's credits sum to exactly its net revenue and to one whole share
/// (1e9 ppb), one credit per journey touch.
fn check_conservation(
    order_id: &str,
    net_minor: i64,
    touches: usize,
    credits: &[lookback_core::attribution::TouchCredit],
) -> Result<(), EngineError> {
    let violated = |detail: String| {
        Err(EngineError::ConservationViolated {
            order_id: order_id.to_owned(),
            detail,
        })
    };
    if credits.len() != touches {
        return violated(format!("{} credits for {touches} touches", credits.len()));
    }
    let revenue: i128 = credits.iter().map(|c| i128::from(c.revenue_minor)).sum();
    if revenue != i128::from(net_minor) {
        return violated(format!(
            "credited revenue {revenue} ≠ net revenue {net_minor}"
        ));
    }
    let shares: i128 = credits.iter().map(|c| i128::from(c.share_ppb)).sum();
    if shares != i128::from(SHARE_ONE_PPB) {
        return violated(format!("shares sum to {shares} ppb, not {SHARE_ONE_PPB}"));
    }
    Ok(())
}

/// The steps of a new run, in order, as [`RunObserver::phase`] reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPhase {
    /// Reading touches and orders and resolving journeys (or reading them from the cache).
    Journeys,
    /// Running the model over every journey and checking conservation.
    Credits,
    /// Writing the run, its credits and totals in one transaction.
    Writing,
}

impl RunPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            RunPhase::Journeys => "journeys",
            RunPhase::Credits => "credits",
            RunPhase::Writing => "writing",
        }
    }
}

/// Who watches a new run: told each phase as it starts, asked before each whether to stop.
pub trait RunObserver {
    fn phase(&mut self, phase: RunPhase);
    /// `true` stops the run before its next phase; nothing of it is written.
    fn cancelled(&self) -> bool;
}

/// An observer that watches nothing and never cancels.
struct Unobserved;

impl RunObserver for Unobserved {
    fn phase(&mut self, _: RunPhase) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// The complete run of `model` with `params` over the workspace as it is now, if one exists:
/// its matured orders are marked settled first (provisional status depends on `now_ms`), and
/// its id returned. Cheap: what a view calls before deciding a new run is needed.
pub fn find_cached_run(
    store: &mut Store,
    model: Model,
    params: &ModelParams,
    now_ms: i64,
) -> Result<Option<i64>, EngineError> {
    params.validate()?;
    let watermark = store.input_watermark()?;
    match store.find_run(model.as_str(), &params.to_canonical_string(), &watermark)? {
        Some(run) => {
            store.settle_matured_run_orders(run.run_id, now_ms, run.settlement_days)?;
            Ok(Some(run.run_id))
        }
        None => Ok(None),
    }
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
pub fn run_model(
    store: &mut Store,
    model: Model,
    params: &ModelParams,
    now_ms: i64,
) -> Result<RunSummary, EngineError> {
    run_model_observed(store, model, params, now_ms, &mut Unobserved)
}

/// [`run_model`], reporting each phase of a new run to `observer` and stopping before the
/// next phase when it asks (a cancelled run writes nothing, not even a failed-run row).
pub fn run_model_observed(
    store: &mut Store,
    model: Model,
    params: &ModelParams,
    now_ms: i64,
    observer: &mut dyn RunObserver,
) -> Result<RunSummary, EngineError> {
    params.validate()?;
    let canonical = params.to_canonical_string();
    let watermark = store.input_watermark()?;
    let currency = reporting_currency(store)?;
    let settlement_days = store.settlement_days()?;

    if let Some(run_id) = find_cached_run(store, model, params, now_ms)?
        && let Some(run) = store.run(run_id)?
    {
        let run_currency = Currency::parse(&run.reporting_currency).unwrap_or(currency);
        return summary_from_store(
            store,
            run.run_id,
            true,
            model,
            params,
            watermark,
            run_currency,
        );
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
    let stop_if_cancelled = |observer: &dyn RunObserver| {
        if observer.cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    };
    // Best effort: a failure is put on record, but the original error is what the caller sees.
    let record_failure = |store: &mut Store, error: EngineError| {
        if !matches!(error, EngineError::Cancelled) {
            let _ = store.record_failed_run(&new_run, now_ms, &error.to_string());
        }
        error
    };
    stop_if_cancelled(observer)?;
    observer.phase(RunPhase::Journeys);
    let (journeys, facts) = match load_journeys(
        store,
        &watermark,
        params.lookback_days,
        params.touches,
        now_ms,
        model.is_data_driven(),
    ) {
        Ok((journeys, facts, _)) => (journeys, facts),
        Err(error) => return Err(record_failure(store, error)),
    };
    stop_if_cancelled(observer)?;
    observer.phase(RunPhase::Credits);
    // The model runs, and its credits are put in insert order, on a second thread while this
    // one writes the run's orders, which do not depend on the model: on a busy year the two
    // take about as long as each other. Nothing is committed until the credits are written.
    let orders = run_orders(&facts, &journeys);
    let zone = match reporting_zone(store) {
        Ok(zone) => zone,
        Err(error) => return Err(record_failure(store, error)),
    };
    let (write, computed) = std::thread::scope(|scope| {
        let (orders_of_run, cached) = (&orders, &journeys);
        // The facts move to the worker: nothing here needs them any more, and they are freed there.
        let worker = scope.spawn(move || {
            let journeys = cached;
            let mut computed = compute_run(model, params, &facts, journeys)?;
            let accrual = accrual_totals(&computed.credits, &facts, journeys, zone)?;
            computed.totals.extend(accrual);
            let credits: Vec<NamedRunCredit<'_>> = computed
                .credits
                .iter()
                .map(|credit| {
                    let touch = &journeys.touches[credit.touch as usize];
                    NamedRunCredit {
                        order: credit.order,
                        touch_id: journeys.strings.get(touch.touch_id),
                        touch_row: touch.rowid,
                        share_ppb: credit.share_ppb,
                        revenue_minor: credit.revenue_minor,
                        join_kind: credit.join_kind,
                        confidence_ppm: credit.confidence_ppm,
                    }
                })
                .collect();
            let prepared = PreparedRun::new(orders_of_run, &credits, &computed.totals);
            // Only the weights are needed from here; the rest is freed on this thread.
            Ok::<_, EngineError>((computed.weights, prepared))
        });
        let write = store.begin_run(&new_run, &orders);
        match worker.join() {
            Ok(computed) => (write, computed),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    let (weights, credits) = match computed {
        Ok(computed) => computed,
        Err(error) => {
            drop(write);
            return Err(record_failure(store, error));
        }
    };
    let (write, credits) = (write?, credits?);
    // A cancelled run is rolled back as the write is dropped: nothing of it is kept.
    stop_if_cancelled(observer)?;
    observer.phase(RunPhase::Writing);
    let run_id = write.finish(now_ms, &credits, &weights)?;
    drop((credits, journeys));
    drop(orders);
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
