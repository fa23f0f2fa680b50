//! Bootstrap intervals of a data-driven run, over the same journeys the run learned from: the
//! channels' weight intervals, and the revenue intervals of the orders a view selects, per
//! channel, creator, campaign or content (the method is `lookback_core::bootstrap`'s).
//!
//! The journeys come from [`load_journeys`] for the workspace's current input watermark, so
//! the weights learned from the whole table are the run's own (tests/intervals.rs checks it).

use lookback_core::attribution::{Model, ModelParams, TrainingPath};
use lookback_core::bootstrap::{
    BootstrapSettings, CreditGroups, PathTable, WeightBootstrap, bootstrap_weights,
};
use lookback_store::{RunOrderFilter, Store};

use crate::EngineError;
use crate::inputs::OrderFacts;
use crate::journey_cache::{CachedJourneys, CachedOutcome, CachedTouch};
use crate::run::load_journeys;

/// The threads a bootstrap uses: the machine's cores, at most 8.
pub fn bootstrap_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().min(8))
        .unwrap_or(1)
}

/// A data-driven model's bootstrap over the workspace's journeys, with those journeys and the
/// orders' facts kept for revenue intervals.
#[derive(Debug)]
pub struct RunBootstrap {
    pub model: Model,
    pub journeys: CachedJourneys,
    pub facts: Vec<OrderFacts>,
    pub boot: WeightBootstrap,
}

impl RunBootstrap {
    /// The name of interned channel `channel`.
    pub fn channel_name(&self, channel: u32) -> &str {
        &self.journeys.channel_names[channel as usize]
    }
}

/// Bootstraps `model` (Markov or Shapley) with `params` over the workspace as it is now.
pub fn run_bootstrap(
    store: &mut Store,
    model: Model,
    params: &ModelParams,
    settings: &BootstrapSettings,
    now_ms: i64,
) -> Result<RunBootstrap, EngineError> {
    params.validate()?;
    settings.validate()?;
    let watermark = store.input_watermark()?;
    let (journeys, facts, _) = load_journeys(
        store,
        &watermark,
        params.lookback_days,
        params.touches,
        now_ms,
        true,
    )?;
    // The same training paths as the run: every attributed journey converted once, and the
    // distinct non-converting paths with their counts.
    let converting = journeys.converting_paths();
    let mut paths: Vec<TrainingPath<'_>> = converting
        .iter()
        .map(|channels| TrainingPath {
            channels,
            conversions: 1,
            non_conversions: 0,
        })
        .collect();
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
    let table = PathTable::new(model, &paths)?;
    drop(paths);
    drop(converting);
    let boot = bootstrap_weights(model, &table, settings, bootstrap_threads())?;
    Ok(RunBootstrap {
        model,
        journeys,
        facts,
        boot,
    })
}

/// What a revenue interval is keyed by: a touch's channel, creator, campaign or content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalKey {
    Channel,
    Creator,
    Campaign,
    Content,
}

/// One key's revenue interval over a view's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueInterval {
    /// The key's value (`None`: touches without one, such as no creator).
    pub key: Option<String>,
    /// The revenue the whole-table weights credit to the key (the run's figure, give or take
    /// the run's rounding of each order to the minor unit), reporting currency minor units.
    pub point_minor: i64,
    /// Low and high end of the revenue credited to the key, reporting currency minor units.
    pub low_minor: i64,
    pub high_minor: i64,
    /// Orders in the view whose journey has a touch of this key.
    pub orders: u64,
}

/// The revenue interval of every key of `by` over the attributed orders `filter` selects
/// (orders without an exchange rate are left out, as views leave them out).
pub fn revenue_intervals(
    run: &RunBootstrap,
    by: IntervalKey,
    filter: &RunOrderFilter,
) -> Vec<RevenueInterval> {
    let journeys = &run.journeys;
    // Dense keys: the key's interned id (a channel index, or a string id; u32::MAX is "none").
    let mut dense: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    let mut ids: Vec<u32> = Vec::new();
    let mut orders: Vec<u64> = Vec::new();
    let key_of = |touch: &CachedTouch| match by {
        IntervalKey::Channel => touch.channel,
        IntervalKey::Creator => touch.creator,
        IntervalKey::Campaign => touch.campaign,
        IntervalKey::Content => touch.content,
    };
    let mut groups = CreditGroups::new();
    let mut touches = Vec::new();
    let mut seen = Vec::new();
    for (outcome, facts) in journeys.outcomes.iter().zip(&run.facts) {
        let (CachedOutcome::Attributed { .. }, None) = (outcome, &facts.missing_fx) else {
            continue;
        };
        if filter
            .from_at_ms
            .is_some_and(|from| facts.occurred_at_ms < from)
            || filter
                .until_at_ms
                .is_some_and(|until| facts.occurred_at_ms >= until)
            || (filter.settled_only && facts.provisional)
        {
            continue;
        }
        let Some(journey) = journeys.journey(outcome) else {
            continue;
        };
        touches.clear();
        seen.clear();
        for touch in journey {
            let id = key_of(touch);
            let key = *dense.entry(id).or_insert_with(|| {
                ids.push(id);
                orders.push(0);
                (ids.len() - 1) as u32
            });
            if !seen.contains(&key) {
                seen.push(key);
                orders[key as usize] += 1;
            }
            touches.push((touch.channel, key));
        }
        groups.add(facts.net_minor, &touches);
    }
    let intervals = groups.revenue_intervals(
        &run.boot.resampled,
        run.boot.settings.level,
        bootstrap_threads(),
    );
    let point = groups.revenue_by_key(&run.boot.learned.weight_by_channel());
    ids.iter()
        .enumerate()
        .map(|(key, &id)| {
            let (low_minor, high_minor) = intervals.get(key).copied().unwrap_or((0, 0));
            let point_minor = point.get(key).copied().unwrap_or(0.0).round() as i64;
            RevenueInterval {
                key: match by {
                    IntervalKey::Channel => Some(journeys.channel_names[id as usize].clone()),
                    _ => journeys.string(id).map(str::to_owned),
                },
                point_minor,
                low_minor,
                high_minor,
                orders: orders[key],
            }
        })
        .collect()
}
