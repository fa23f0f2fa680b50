//! Attribution models: how each order's net revenue is shared among the touches of its journey.
//!
//! Every model produces the same shape of output — one [`Credit`] per (order, touch) — with
//! `share_ppb` summing to exactly 1e9 and `revenue_minor` summing to exactly the order's net
//! revenue. A model only decides *weights* per touch (exact integers where the model is exact,
//! `f64` otherwise); shares and revenue are then each rounded once from those same weights by
//! largest remainder (see [`crate::money::split_largest_remainder_exact`]), never one from the
//! other.
//!
//! The data-driven models (Markov, Shapley) first learn one weight per channel from all paths,
//! converting and not, then weight each touch by its channel's weight.

use std::fmt;
use std::str::FromStr;

use crate::error::{CoreError, Result};
use crate::journey::{ChannelPaths, JoinKind, JourneySet, OrderOutcome, OrderRecord, TouchRecord};
use crate::money::{SHARE_ONE_PPB, real_weights_to_exact, split_largest_remainder_exact};
use crate::time::DAY_MS;
use crate::touch_filter::TouchFilter;
use std::collections::HashMap;

/// An attribution model, named as on the CLI and in `attribution_runs.model`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Model {
    /// All credit to the first touch of the journey.
    FirstTouch,
    /// All credit to the last touch of the journey.
    LastTouch,
    /// All credit to the last touch whose channel is not direct/organic; if every touch is
    /// direct/organic, to the last touch.
    LastNonDirect,
    /// Equal credit to every touch; a channel that appears twice gets two shares.
    Linear,
    /// Credit ∝ 2^(−Δt / half-life), Δt = order time − touch time.
    TimeDecay,
    /// First and last touch get fixed percentages (40/40 by default), the middle touches share
    /// the rest evenly.
    PositionBased,
    /// Data-driven: channel weights from removal effects of a first-order Markov chain.
    Markov,
    /// Data-driven: channel weights from Shapley values of channel coalitions.
    Shapley,
}

impl Model {
    /// Every model, in the order the UI lists them.
    pub const ALL: [Model; 8] = [
        Model::FirstTouch,
        Model::LastTouch,
        Model::LastNonDirect,
        Model::Linear,
        Model::TimeDecay,
        Model::PositionBased,
        Model::Markov,
        Model::Shapley,
    ];

    /// The CLI and stored name, e.g. `last-non-direct`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Model::FirstTouch => "first-touch",
            Model::LastTouch => "last-touch",
            Model::LastNonDirect => "last-non-direct",
            Model::Linear => "linear",
            Model::TimeDecay => "time-decay",
            Model::PositionBased => "position-based",
            Model::Markov => "markov",
            Model::Shapley => "shapley",
        }
    }

    /// Parses a CLI name (case-insensitive; `_` is accepted for `-`).
    pub fn parse(name: &str) -> Result<Model> {
        let normalized = name.trim().to_ascii_lowercase().replace('_', "-");
        Model::ALL
            .into_iter()
            .find(|model| model.as_str() == normalized)
            .ok_or_else(|| CoreError::UnknownModel {
                name: name.to_owned(),
            })
    }

    /// Whether the model learns channel weights from the data (Markov, Shapley).
    pub fn is_data_driven(&self) -> bool {
        matches!(self, Model::Markov | Model::Shapley)
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Model {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Model> {
        Model::parse(s)
    }
}

/// Percentages for the position-based model. They sum to 100.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct PositionWeights {
    /// Percent to the first touch.
    pub first: u32,
    /// Percent shared evenly by the touches between first and last.
    pub middle: u32,
    /// Percent to the last touch.
    pub last: u32,
}

impl Default for PositionWeights {
    /// 40 / 20 / 40.
    fn default() -> PositionWeights {
        PositionWeights {
            first: 40,
            middle: 20,
            last: 40,
        }
    }
}

/// Tunable parameters of the models. Every model reads `lookback_days` (through the journey
/// window); only time decay reads `half_life_days` and only position-based reads
/// `position_weights`, but all are always stored, so a run records the full setting. `touches`
/// says which traffic classes the run reads (see [`crate::touch_filter`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ModelParams {
    /// Journey lookback window in days (default 30; 1 to 3650).
    pub lookback_days: u32,
    /// Time-decay half-life in days (default 7; 1 to 3650).
    pub half_life_days: u32,
    /// Position-based percentages (default 40/20/40; must sum to 100).
    pub position_weights: PositionWeights,
    /// Which touches the run reads (default: bot touches left out).
    pub touches: TouchFilter,
}

impl Default for ModelParams {
    fn default() -> ModelParams {
        ModelParams {
            lookback_days: 30,
            half_life_days: 7,
            position_weights: PositionWeights::default(),
            touches: TouchFilter::default(),
        }
    }
}

const MAX_PARAM_DAYS: u32 = 3650;

impl ModelParams {
    /// Checks ranges: days between 1 and 3650, position weights summing to 100.
    pub fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Err(CoreError::InvalidModelParams { reason });
        if !(1..=MAX_PARAM_DAYS).contains(&self.lookback_days) {
            return invalid(format!(
                "lookback_days must be between 1 and {MAX_PARAM_DAYS}, not {}",
                self.lookback_days
            ));
        }
        if !(1..=MAX_PARAM_DAYS).contains(&self.half_life_days) {
            return invalid(format!(
                "half_life_days must be between 1 and {MAX_PARAM_DAYS}, not {}",
                self.half_life_days
            ));
        }
        let PositionWeights {
            first,
            middle,
            last,
        } = self.position_weights;
        if u64::from(first) + u64::from(middle) + u64::from(last) != 100 {
            return invalid(format!(
                "position_weights must sum to 100, not {first}+{middle}+{last}"
            ));
        }
        Ok(())
    }

    /// The lookback window in milliseconds.
    pub fn lookback_ms(&self) -> i64 {
        i64::from(self.lookback_days) * DAY_MS
    }

    /// The time-decay half-life in milliseconds.
    pub fn half_life_ms(&self) -> i64 {
        i64::from(self.half_life_days) * DAY_MS
    }

    /// The canonical stored form (`attribution_runs.parameters`, `model_changes`): compact JSON
    /// with keys in alphabetical order, e.g.
    /// `{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40],"touches":"no-bots"}`.
    /// Equal parameters always give byte-identical strings, so runs can be looked up by it.
    /// `touches` is always written, the default too: a run stored before the key existed read
    /// every touch, and its string (without the key) never matches a filtered run's.
    pub fn to_canonical_string(&self) -> String {
        let PositionWeights {
            first,
            middle,
            last,
        } = self.position_weights;
        format!(
            "{{\"half_life_days\":{},\"lookback_days\":{},\"position_weights\":[{first},{middle},{last}],\"touches\":\"{}\"}}",
            self.half_life_days,
            self.lookback_days,
            self.touches.as_str()
        )
    }

    /// Reads a stored form. Keys may come in any order and any missing key takes its default,
    /// so parameters stored before a new one was added still read (a model setting without
    /// `touches` leaves bot touches out, the default); unknown keys are refused, so a typo is not
    /// silently ignored. The result is validated.
    pub fn parse_canonical(s: &str) -> Result<ModelParams> {
        let invalid = |reason: String| CoreError::InvalidModelParams { reason };
        let value: serde_json::Value =
            serde_json::from_str(s).map_err(|e| invalid(format!("not JSON ({e}): {s:?}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| invalid(format!("expected a JSON object: {s:?}")))?;
        let mut params = ModelParams::default();
        let as_u32 = |key: &str, v: &serde_json::Value| -> Result<u32> {
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid(format!("{key} must be a non-negative integer, not {v}")))
        };
        for (key, v) in object {
            match key.as_str() {
                "lookback_days" => params.lookback_days = as_u32(key, v)?,
                "half_life_days" => params.half_life_days = as_u32(key, v)?,
                "touches" => {
                    let name = v
                        .as_str()
                        .ok_or_else(|| invalid(format!("touches must be a name, not {v}")))?;
                    params.touches = TouchFilter::parse(name)?;
                }
                "position_weights" => {
                    let items = v
                        .as_array()
                        .filter(|items| items.len() == 3)
                        .ok_or_else(|| {
                            invalid(format!(
                                "position_weights must be [first, middle, last], not {v}"
                            ))
                        })?;
                    params.position_weights = PositionWeights {
                        first: as_u32(key, &items[0])?,
                        middle: as_u32(key, &items[1])?,
                        last: as_u32(key, &items[2])?,
                    };
                }
                other => return Err(invalid(format!("unknown parameter {other:?}"))),
            }
        }
        params.validate()?;
        Ok(params)
    }
}

/// One touch of a journey as the weighting step sees it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct JourneyTouch {
    /// When the touch happened, UTC milliseconds.
    pub at_ms: i64,
    /// Its interned channel index.
    pub channel: u32,
}

/// The credit of one touch toward one order, as [`credit_journey`] returns it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TouchCredit {
    /// Share of the order in parts per billion.
    pub share_ppb: i64,
    /// Share of the order's net revenue in minor units.
    pub revenue_minor: i64,
}

/// Per-touch weights as a model produces them, before the single rounding.
enum TouchWeights {
    /// Exact integer weights (first/last/last-non-direct/linear/position-based).
    Exact(Vec<u64>),
    /// Real weights (time decay, data-driven), turned exact just before splitting.
    Real(Vec<f64>),
}

/// Splits one order over its journey under `model`.
///
/// - `journey`: the touches in journey order (`(at, touch index)`), not empty. Time decay
///   measures Δt from the latest touch rather than the order; that scales every weight by the
///   same factor, so the split is the same as with Δt = order time − touch time.
/// - `direct_channels[c]`: whether channel `c` is direct/organic (indices past the end are not).
/// - `channel_weights[c]`: learned weight of channel `c`, read only by Markov and Shapley
///   (pass `&[]` otherwise); indices past the end weigh 0.
///
/// Returns one credit per journey touch, including touches that earn 0 (so a view can show the
/// whole journey). Shares sum to exactly 1e9 and revenue to exactly `net_minor`.
///
/// Fallbacks: last non-direct with only direct touches credits the last touch; a data-driven
/// journey whose channels all weigh 0 is split linearly; position-based with 2 touches gives
/// first and last their percentages renormalized (50/50 by default), with 1 touch 100%.
pub fn credit_journey(
    model: Model,
    params: &ModelParams,
    journey: &[JourneyTouch],
    net_minor: i64,
    direct_channels: &[bool],
    channel_weights: &[f64],
) -> Result<Vec<TouchCredit>> {
    if journey.is_empty() {
        return Err(CoreError::InvalidWeights {
            reason: "an empty journey has no touch to credit".to_owned(),
        });
    }
    let weights = match journey_weights(model, params, journey, direct_channels, channel_weights) {
        TouchWeights::Exact(weights) => weights,
        TouchWeights::Real(weights) => real_weights_to_exact(&weights)?,
    };
    let shares = split_largest_remainder_exact(SHARE_ONE_PPB, &weights)?;
    let revenue = split_largest_remainder_exact(net_minor, &weights)?;
    Ok(shares
        .into_iter()
        .zip(revenue)
        .map(|(share_ppb, revenue_minor)| TouchCredit {
            share_ppb,
            revenue_minor,
        })
        .collect())
}

fn is_direct(direct_channels: &[bool], channel: u32) -> bool {
    direct_channels
        .get(channel as usize)
        .copied()
        .unwrap_or(false)
}

fn journey_weights(
    model: Model,
    params: &ModelParams,
    journey: &[JourneyTouch],
    direct_channels: &[bool],
    channel_weights: &[f64],
) -> TouchWeights {
    let n = journey.len();
    let one_hot = |index: usize| {
        let mut weights = vec![0; n];
        weights[index] = 1;
        TouchWeights::Exact(weights)
    };
    match model {
        Model::FirstTouch => one_hot(0),
        Model::LastTouch => one_hot(n - 1),
        Model::LastNonDirect => {
            let index = journey
                .iter()
                .rposition(|t| !is_direct(direct_channels, t.channel))
                .unwrap_or(n - 1);
            one_hot(index)
        }
        Model::Linear => TouchWeights::Exact(vec![1; n]),
        Model::TimeDecay => {
            // 2^(−(order − t)/h) ∝ 2^(−(latest − t)/h): measuring from the latest touch instead of
            // the order multiplies every weight by the same constant, so the split is identical,
            // and the largest weight is exactly 1 — nothing underflows to zero even for a long
            // lookback and a short half-life.
            let latest = journey.iter().map(|t| t.at_ms).max().unwrap_or(0);
            let half_life = params.half_life_ms() as f64;
            TouchWeights::Real(
                journey
                    .iter()
                    .map(|t| (-((latest - t.at_ms) as f64) / half_life).exp2())
                    .collect(),
            )
        }
        Model::PositionBased => {
            let PositionWeights {
                first,
                middle,
                last,
            } = params.position_weights;
            TouchWeights::Exact(match n {
                1 => vec![1],
                2 => vec![u64::from(first), u64::from(last)],
                _ => {
                    // first : each middle : last = first/1 : middle/(n−2) : last/1, scaled by (n−2)
                    // to stay in integers.
                    let middles = (n - 2) as u64;
                    let mut weights = vec![u64::from(middle); n];
                    weights[0] = u64::from(first) * middles;
                    weights[n - 1] = u64::from(last) * middles;
                    weights
                }
            })
        }
        Model::Markov | Model::Shapley => {
            let weights: Vec<f64> = journey
                .iter()
                .map(|t| {
                    channel_weights
                        .get(t.channel as usize)
                        .copied()
                        .unwrap_or(0.0)
                })
                .collect();
            if weights.iter().all(|&w| w == 0.0) {
                TouchWeights::Exact(vec![1; n])
            } else {
                TouchWeights::Real(weights)
            }
        }
    }
}

/// One (order, touch) credit of an attribution run (a row of `credits`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Credit {
    /// Index of the order in the `orders` slice.
    pub order: u32,
    /// Index of the touch in the `touches` slice.
    pub touch: u32,
    /// Share of the order in parts per billion; an order's shares sum to exactly 1e9.
    pub share_ppb: i64,
    /// Share of the order's net revenue in minor units; sums to exactly `net_minor`.
    pub revenue_minor: i64,
    /// How the order was tied to the person (copied from the journey).
    pub join_kind: JoinKind,
    /// Confidence of that tie in ppm (copied from the journey).
    pub confidence_ppm: u32,
}

/// The output of [`attribute`].
#[derive(Clone, Debug, PartialEq)]
pub struct AttributionResult {
    /// Credits of every attributed order, by order index, then in journey order.
    pub credits: Vec<Credit>,
    /// The channel weights a data-driven model learned; `None` for the rule-based models.
    pub learned: Option<LearnedWeights>,
}

/// Runs `model` over resolved journeys: learns channel weights first if the model is
/// data-driven (from the converting journeys and `journeys.non_converting`), then credits every
/// attributed order with [`credit_journey`]. Unattributed orders produce no credits.
///
/// `direct_channels[c]` marks direct/organic channels for last non-direct.
pub fn attribute(
    model: Model,
    params: &ModelParams,
    touches: &[TouchRecord],
    orders: &[OrderRecord],
    journeys: &JourneySet,
    direct_channels: &[bool],
) -> Result<AttributionResult> {
    params.validate()?;
    if journeys.outcomes.len() != orders.len() {
        return Err(CoreError::IndexOutOfRange {
            what: "order outcome",
            index: journeys.outcomes.len(),
            len: orders.len(),
        });
    }
    for journey in journeys.outcomes.iter().filter_map(OrderOutcome::journey) {
        if let Some(&bad) = journey
            .touches
            .iter()
            .find(|&&t| t as usize >= touches.len())
        {
            return Err(CoreError::IndexOutOfRange {
                what: "touch",
                index: bad as usize,
                len: touches.len(),
            });
        }
    }
    let learned = if model.is_data_driven() {
        let converting = journeys.converting_paths(touches);
        let paths = training_paths(&converting, &journeys.non_converting);
        Some(learn_weights(model, &paths)?)
    } else {
        None
    };
    let channel_weights = learned
        .as_ref()
        .map(LearnedWeights::weight_by_channel)
        .unwrap_or_default();
    let mut credits = Vec::new();
    let mut buffer = Vec::new();
    for (order_index, outcome) in journeys.outcomes.iter().enumerate() {
        let Some(journey) = outcome.journey() else {
            continue;
        };
        buffer.clear();
        buffer.extend(journey.touches.iter().map(|&t| JourneyTouch {
            at_ms: touches[t as usize].at_ms,
            channel: touches[t as usize].channel,
        }));
        let order = &orders[order_index];
        let touch_credits = credit_journey(
            model,
            params,
            &buffer,
            order.net_minor,
            direct_channels,
            &channel_weights,
        )?;
        credits.extend(
            journey
                .touches
                .iter()
                .zip(touch_credits)
                .map(|(&touch, credit)| Credit {
                    order: order_index as u32,
                    touch,
                    share_ppb: credit.share_ppb,
                    revenue_minor: credit.revenue_minor,
                    join_kind: journey.join_kind,
                    confidence_ppm: journey.confidence_ppm,
                }),
        );
    }
    Ok(AttributionResult { credits, learned })
}

/// A path the data-driven models learn from: a channel sequence and how many times it ended in
/// a conversion and in no conversion.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TrainingPath<'a> {
    /// The channels in touch order (repeats allowed; Markov collapses them).
    pub channels: &'a [u32],
    /// How many times this path ended in a conversion.
    pub conversions: u64,
    /// How many times this path ended without one.
    pub non_conversions: u64,
}

/// Training paths from converting journeys (1 conversion each) and non-converting paths
/// (1 non-conversion each).
pub fn training_paths<'a>(
    converting: &'a ChannelPaths,
    non_converting: &'a ChannelPaths,
) -> Vec<TrainingPath<'a>> {
    converting
        .iter()
        .map(|channels| TrainingPath {
            channels,
            conversions: 1,
            non_conversions: 0,
        })
        .chain(non_converting.iter().map(|channels| TrainingPath {
            channels,
            conversions: 0,
            non_conversions: 1,
        }))
        .collect()
}

/// What a data-driven model learned about one channel (a row of `report weights`).
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct ChannelWeight {
    /// The interned channel index.
    pub channel: u32,
    /// Markov: the removal effect, 1 − P(conversion without the channel) / P(conversion).
    /// Shapley: the channel's Shapley value.
    pub value: f64,
    /// `value` normalized so the weights of all channels sum to 1 (0 for all if every value is 0).
    pub weight: f64,
    /// Conversions on paths that contain the channel.
    pub conversions: u64,
    /// Paths (converting or not) that contain the channel.
    pub paths: u64,
}

/// Channel weights learned by a data-driven model.
#[derive(Clone, PartialEq, Debug)]
pub struct LearnedWeights {
    /// Which model learned them.
    pub model: Model,
    /// One entry per channel that occurs in the training paths, by channel index.
    pub channels: Vec<ChannelWeight>,
    /// Markov only: the probability of conversion from the start state with every channel
    /// present. `None` for Shapley.
    pub conversion_probability: Option<f64>,
}

impl LearnedWeights {
    /// Weights as a dense vector indexed by channel (channels not seen weigh 0).
    pub fn weight_by_channel(&self) -> Vec<f64> {
        let len = self
            .channels
            .iter()
            .map(|c| c.channel as usize + 1)
            .max()
            .unwrap_or(0);
        let mut dense = vec![0.0; len];
        for channel in &self.channels {
            dense[channel.channel as usize] = channel.weight;
        }
        dense
    }
}

/// Learns channel weights with a data-driven model ([`learn_markov`] or [`learn_shapley`]).
pub fn learn_weights(model: Model, paths: &[TrainingPath<'_>]) -> Result<LearnedWeights> {
    match model {
        Model::Markov => learn_markov(paths),
        Model::Shapley => learn_shapley(paths),
        other => Err(CoreError::InvalidModelParams {
            reason: format!("the {other} model learns no channel weights"),
        }),
    }
}

/// Channel ids must be interned indices; ids at or above this are refused rather than allocating
/// a huge lookup table.
const MAX_CHANNEL_ID: usize = 1 << 24;

/// The most distinct channels the exact Markov computation accepts: one dense inversion of an
/// (n+1)×(n+1) matrix, about a second at 1000 channels.
pub const MARKOV_MAX_CHANNELS: usize = 1000;

/// Dense numbering of the channels that occur in `paths`, in increasing channel id order, plus
/// per-channel counts of paths and conversions that contain the channel.
struct ActiveChannels {
    /// `dense_of[channel]` = dense index + 1, or 0 if the channel does not occur.
    dense_of: Vec<u32>,
    /// Channel id of each dense index.
    channel_of: Vec<u32>,
    paths: Vec<u64>,
    conversions: Vec<u64>,
}

impl ActiveChannels {
    fn collect(paths: &[TrainingPath<'_>]) -> Result<ActiveChannels> {
        let mut max_id = None;
        for path in paths {
            for &channel in path.channels {
                max_id = max_id.max(Some(channel as usize));
            }
        }
        let Some(max_id) = max_id else {
            return Ok(ActiveChannels {
                dense_of: Vec::new(),
                channel_of: Vec::new(),
                paths: Vec::new(),
                conversions: Vec::new(),
            });
        };
        if max_id >= MAX_CHANNEL_ID {
            return Err(CoreError::IndexOutOfRange {
                what: "channel",
                index: max_id,
                len: MAX_CHANNEL_ID,
            });
        }
        // Count per channel id, once per path (a stamp avoids clearing a set per path).
        let mut stamp = vec![u32::MAX; max_id + 1];
        let mut path_counts = vec![0u64; max_id + 1];
        let mut conversion_counts = vec![0u64; max_id + 1];
        for (index, path) in paths.iter().enumerate() {
            for &channel in path.channels {
                let c = channel as usize;
                if stamp[c] != index as u32 {
                    stamp[c] = index as u32;
                    path_counts[c] += path.conversions + path.non_conversions;
                    conversion_counts[c] += path.conversions;
                }
            }
        }
        let mut dense_of = vec![0u32; max_id + 1];
        let mut channel_of = Vec::new();
        let mut paths_out = Vec::new();
        let mut conversions_out = Vec::new();
        for c in 0..=max_id {
            if stamp[c] != u32::MAX {
                channel_of.push(c as u32);
                dense_of[c] = channel_of.len() as u32;
                paths_out.push(path_counts[c]);
                conversions_out.push(conversion_counts[c]);
            }
        }
        Ok(ActiveChannels {
            dense_of,
            channel_of,
            paths: paths_out,
            conversions: conversions_out,
        })
    }

    fn len(&self) -> usize {
        self.channel_of.len()
    }

    fn weights(&self, values: &[f64]) -> Vec<ChannelWeight> {
        let clamped: Vec<f64> = values
            .iter()
            .map(|&v| if v.is_finite() && v > 0.0 { v } else { 0.0 })
            .collect();
        let total: f64 = clamped.iter().sum();
        (0..self.len())
            .map(|i| ChannelWeight {
                channel: self.channel_of[i],
                value: values[i],
                weight: if total > 0.0 { clamped[i] / total } else { 0.0 },
                conversions: self.conversions[i],
                paths: self.paths[i],
            })
            .collect()
    }
}

/// Learns channel weights from removal effects in a first-order Markov chain.
///
/// States are *start*, one per channel, *conversion* and *null*. Each path, with consecutive
/// repeats of a channel collapsed (A→A→B is A→B), contributes its multiplicity
/// (conversions + non-conversions) to start→first, to each channel→next channel, and its
/// conversions to last→conversion and its non-conversions to last→null. Transition
/// probabilities are the counts normalized per source state.
///
/// Removal effects are computed exactly, not by simulation. With `Q` the transient-to-transient
/// matrix, `r` the transient-to-conversion vector, and `N = (I − Q)⁻¹`, the conversion probability
/// from each state is `x = N·r` and `P = x[start]`. Removing channel `c` sends every walk that
/// enters `c` to null, which removes exactly the walks that visit `c`; the probability of ever
/// visiting `c` from start is `N[start][c] / N[c][c]`, so
/// `P without c = P − (N[start][c] / N[c][c]) · x[c]`. The removal effect is
/// `1 − (P without c) / P`, and the weights are the removal effects
/// normalized to sum to 1. One O(n³) inversion yields all of them.
///
/// With no conversion at all, P = 0 and every effect and weight is 0. More than
/// [`MARKOV_MAX_CHANNELS`] distinct channels is [`CoreError::TooManyChannels`].
pub fn learn_markov(paths: &[TrainingPath<'_>]) -> Result<LearnedWeights> {
    let active = ActiveChannels::collect(paths)?;
    let channels = active.len();
    if channels > MARKOV_MAX_CHANNELS {
        return Err(CoreError::TooManyChannels {
            model: "markov",
            count: channels,
            limit: MARKOV_MAX_CHANNELS,
        });
    }
    // Transient states: 0 = start, 1..=channels; then conversion and null columns.
    let states = channels + 1;
    let conversion = states;
    let null = states + 1;
    let width = states + 2;
    let mut counts = vec![0u64; states * width];
    for path in paths {
        let multiplicity = path.conversions + path.non_conversions;
        if path.channels.is_empty() || multiplicity == 0 {
            continue;
        }
        let mut previous = 0usize;
        for &channel in path.channels {
            let state = active.dense_of[channel as usize] as usize;
            if state == previous {
                continue;
            }
            counts[previous * width + state] += multiplicity;
            previous = state;
        }
        counts[previous * width + conversion] += path.conversions;
        counts[previous * width + null] += path.non_conversions;
    }

    let (effects, probability) = markov_removal_effects(&counts, states);
    Ok(LearnedWeights {
        model: Model::Markov,
        channels: active.weights(&effects),
        conversion_probability: Some(probability),
    })
}

/// Removal effects (one per channel state `1..states`) and the conversion probability from the
/// transition counts of a chain with `states` transient states (start = 0, then the channels),
/// each row `states + 2` wide (the transient states, then conversion, then null). The exact
/// computation [`learn_markov`] documents; the bootstrap calls it on resampled counts.
pub(crate) fn markov_removal_effects(counts: &[u64], states: usize) -> (Vec<f64>, f64) {
    let conversion = states;
    let width = states + 2;
    // I − Q and r. Every state that occurs has outgoing counts (each path ends in conversion or
    // null), so each row normalizes; the start row is empty only when there are no paths.
    let mut system = vec![0.0f64; states * states];
    let mut to_conversion = vec![0.0f64; states];
    for from in 0..states {
        let row = &counts[from * width..(from + 1) * width];
        let total: u64 = row.iter().sum();
        system[from * states + from] = 1.0;
        if total == 0 {
            continue;
        }
        let total = total as f64;
        for to in 0..states {
            system[from * states + to] -= row[to] as f64 / total;
        }
        to_conversion[from] = row[conversion] as f64 / total;
    }
    let fundamental = invert(&system, states);
    let absorbed: Vec<f64> = (0..states)
        .map(|s| {
            (0..states)
                .map(|k| fundamental[s * states + k] * to_conversion[k])
                .sum()
        })
        .collect();
    let probability = absorbed[0];
    let effects: Vec<f64> = (1..states)
        .map(|c| {
            if probability <= 0.0 {
                return 0.0;
            }
            let visit = fundamental[c] / fundamental[c * states + c];
            let without = probability - visit * absorbed[c];
            (1.0 - without / probability).clamp(0.0, 1.0)
        })
        .collect();
    (effects, probability)
}

/// Inverts the `n`×`n` row-major matrix by Gauss–Jordan elimination with partial pivoting.
/// Used only on I − Q of an absorbing chain, which is always invertible.
fn invert(matrix: &[f64], n: usize) -> Vec<f64> {
    let mut a = matrix.to_vec();
    let mut inverse = vec![0.0f64; n * n];
    for i in 0..n {
        inverse[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))
            .unwrap_or(col);
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
                inverse.swap(pivot * n + k, col * n + k);
            }
        }
        let scale = a[col * n + col];
        if scale == 0.0 {
            continue;
        }
        for k in 0..n {
            a[col * n + k] /= scale;
            inverse[col * n + k] /= scale;
        }
        for row in 0..n {
            if row == col {
                continue;
            }
            let factor = a[row * n + col];
            if factor == 0.0 {
                continue;
            }
            for k in 0..n {
                a[row * n + k] -= factor * a[col * n + k];
                inverse[row * n + k] -= factor * inverse[col * n + k];
            }
        }
    }
    inverse
}

/// Channel sets of up to this many channels are grouped as bitsets.
const BITSET_CHANNELS: usize = 256;

/// A set of up to 256 dense channel indices.
type ChannelBitset = [u64; 4];

/// How the paths with one exact channel set ended.
#[derive(Clone, Copy, Default)]
struct SetOutcomes {
    conversions: u64,
    paths: u64,
}

/// Learns channel weights from Shapley values of channel coalitions.
///
/// Each path is reduced to its set of distinct channels T. For each set,
/// r(T) = conversions of paths whose channel set is exactly T ÷ all paths (converting or not)
/// with exactly that set. A coalition S is worth v(S) = Σ r(T) over the non-empty T ⊆ S.
///
/// Exact for any number of channels: because v is a sum of "T is fully present" games, the
/// Shapley value of channel c is Σ over the sets T that contain c of r(T) / |T| (each set's rate
/// is shared equally by its members — its Harsanyi dividend). That is the same number the
/// 2ⁿ-coalition formula gives — a unit test checks it against brute-force enumeration — but it
/// costs O(Σ|T|) instead of O(2ⁿ), so no channels are pooled or approximated, however many are
/// active.
///
/// Weights are the Shapley values normalized to sum to 1. Values cannot be negative under this v;
/// any value that is not positive would be clamped to 0 before normalizing.
pub fn learn_shapley(paths: &[TrainingPath<'_>]) -> Result<LearnedWeights> {
    let active = ActiveChannels::collect(paths)?;
    let mut values = vec![0.0f64; active.len()];
    let mut share_out =
        |members: &mut dyn Iterator<Item = usize>, size: usize, outcomes: SetOutcomes| {
            let dividend = outcomes.conversions as f64 / outcomes.paths as f64 / size as f64;
            for member in members {
                values[member] += dividend;
            }
        };
    if active.len() <= BITSET_CHANNELS {
        // Up to 256 channels a set is a 256-bit mask: no allocation per path, and grouping is one
        // sort of fixed-size keys. Groups are visited in mask order, so the floating-point sums
        // are always added in the same order.
        let mut keyed: Vec<(ChannelBitset, SetOutcomes)> = Vec::with_capacity(paths.len());
        for path in paths {
            let multiplicity = path.conversions + path.non_conversions;
            if path.channels.is_empty() || multiplicity == 0 {
                continue;
            }
            let mut mask = [0u64; 4];
            for &channel in path.channels {
                let dense = (active.dense_of[channel as usize] - 1) as usize;
                mask[dense / 64] |= 1 << (dense % 64);
            }
            keyed.push((
                mask,
                SetOutcomes {
                    conversions: path.conversions,
                    paths: multiplicity,
                },
            ));
        }
        keyed.sort_unstable_by_key(|entry| entry.0);
        let mut start = 0;
        while start < keyed.len() {
            let mask = keyed[start].0;
            let mut outcomes = SetOutcomes::default();
            let mut end = start;
            while end < keyed.len() && keyed[end].0 == mask {
                outcomes.conversions += keyed[end].1.conversions;
                outcomes.paths += keyed[end].1.paths;
                end += 1;
            }
            let size = mask.iter().map(|w| w.count_ones() as usize).sum();
            // The set bits in increasing order, a word at a time (not all 256 positions).
            let mut members = mask.iter().enumerate().flat_map(|(word, &bits)| {
                std::iter::successors(Some(bits).filter(|&b| b != 0), |&b| {
                    Some(b & (b - 1)).filter(|&rest| rest != 0)
                })
                .map(move |b| word * 64 + b.trailing_zeros() as usize)
            });
            share_out(&mut members, size, outcomes);
            start = end;
        }
    } else {
        // Beyond 256 channels: sets as sorted lists of dense indices, grouped in a hash map.
        let mut by_set: HashMap<Box<[u32]>, SetOutcomes> = HashMap::new();
        let mut set = Vec::new();
        for path in paths {
            let multiplicity = path.conversions + path.non_conversions;
            if path.channels.is_empty() || multiplicity == 0 {
                continue;
            }
            set.clear();
            set.extend(
                path.channels
                    .iter()
                    .map(|&c| active.dense_of[c as usize] - 1),
            );
            set.sort_unstable();
            set.dedup();
            let outcomes = match by_set.get_mut(set.as_slice()) {
                Some(outcomes) => outcomes,
                None => by_set.entry(set.clone().into_boxed_slice()).or_default(),
            };
            outcomes.conversions += path.conversions;
            outcomes.paths += multiplicity;
        }
        // Sum in a fixed order of sets so the floating-point result never depends on hashing.
        let mut sets: Vec<(Box<[u32]>, SetOutcomes)> = by_set.into_iter().collect();
        sets.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (members, outcomes) in sets {
            share_out(
                &mut members.iter().map(|&m| m as usize),
                members.len(),
                outcomes,
            );
        }
    }
    Ok(LearnedWeights {
        model: Model::Shapley,
        channels: active.weights(&values),
        conversion_probability: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyType;
    use crate::journey::{JourneyConfig, resolve_journeys};
    use proptest::prelude::*;

    const INSTAGRAM: u32 = 0;
    const DIRECT: u32 = 1;
    const TIKTOK: u32 = 2;

    /// Channel 1 is direct/organic.
    const DIRECT_CHANNELS: [bool; 3] = [false, true, false];

    /// The reference journey: Instagram on day 0, direct on day 3, TikTok on day 7, direct on
    /// day 10 at the very instant of the order.
    fn reference_journey() -> Vec<JourneyTouch> {
        vec![
            JourneyTouch {
                at_ms: 0,
                channel: INSTAGRAM,
            },
            JourneyTouch {
                at_ms: 3 * DAY_MS,
                channel: DIRECT,
            },
            JourneyTouch {
                at_ms: 7 * DAY_MS,
                channel: TIKTOK,
            },
            JourneyTouch {
                at_ms: 10 * DAY_MS,
                channel: DIRECT,
            },
        ]
    }

    fn split(
        model: Model,
        params: &ModelParams,
        journey: &[JourneyTouch],
        net: i64,
        weights: &[f64],
    ) -> (Vec<i64>, Vec<i64>) {
        let credits =
            credit_journey(model, params, journey, net, &DIRECT_CHANNELS, weights).unwrap();
        (
            credits.iter().map(|c| c.revenue_minor).collect(),
            credits.iter().map(|c| c.share_ppb).collect(),
        )
    }

    fn run(model: Model, net: i64) -> (Vec<i64>, Vec<i64>) {
        split(
            model,
            &ModelParams::default(),
            &reference_journey(),
            net,
            &[],
        )
    }

    fn journey_of(channels: &[u32]) -> Vec<JourneyTouch> {
        channels
            .iter()
            .enumerate()
            .map(|(i, &channel)| JourneyTouch {
                at_ms: i as i64 * DAY_MS,
                channel,
            })
            .collect()
    }

    #[test]
    fn model_names_round_trip() {
        for model in Model::ALL {
            assert_eq!(Model::parse(model.as_str()).unwrap(), model);
            assert_eq!(model.to_string().parse::<Model>().unwrap(), model);
        }
        assert_eq!(
            Model::parse("Last_Non_Direct").unwrap(),
            Model::LastNonDirect
        );
        assert!(matches!(
            Model::parse("last-click"),
            Err(CoreError::UnknownModel { .. })
        ));
        assert!(Model::Markov.is_data_driven() && Model::Shapley.is_data_driven());
        assert!(!Model::Linear.is_data_driven());
    }

    #[test]
    fn params_have_a_canonical_stored_form() {
        let defaults = ModelParams::default();
        let canonical = defaults.to_canonical_string();
        assert_eq!(
            canonical,
            r#"{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40],"touches":"no-bots"}"#
        );
        assert_eq!(ModelParams::parse_canonical(&canonical).unwrap(), defaults);
        // A setting stored before the filter existed leaves bot touches out, as the default does.
        assert_eq!(
            ModelParams::parse_canonical(
                r#"{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40]}"#
            )
            .unwrap(),
            defaults
        );
        let human = ModelParams::parse_canonical(r#"{"touches":"human"}"#).unwrap();
        assert_eq!(human.touches, TouchFilter::Human);
        assert_eq!(
            human.to_canonical_string(),
            r#"{"half_life_days":7,"lookback_days":30,"position_weights":[40,20,40],"touches":"human"}"#
        );
        let custom = ModelParams::parse_canonical(
            r#"{ "position_weights": [30, 40, 30], "lookback_days": 14 }"#,
        )
        .unwrap();
        assert_eq!(custom.lookback_days, 14);
        assert_eq!(custom.half_life_days, 7);
        assert_eq!(
            custom.position_weights,
            PositionWeights {
                first: 30,
                middle: 40,
                last: 30
            }
        );
        assert_eq!(
            custom.to_canonical_string(),
            r#"{"half_life_days":7,"lookback_days":14,"position_weights":[30,40,30],"touches":"no-bots"}"#
        );
        assert_eq!(custom.lookback_ms(), 14 * DAY_MS);
        for bad in [
            r#"{"lookback_days":0}"#,
            r#"{"half_life_days":-1}"#,
            r#"{"position_weights":[40,20,41]}"#,
            r#"{"position_weights":[50,50]}"#,
            r#"{"lookbackdays":30}"#,
            r#"{"touches":"bots"}"#,
            r#"{"touches":2}"#,
            r#"[1,2,3]"#,
            "not json",
        ] {
            assert!(
                matches!(
                    ModelParams::parse_canonical(bad),
                    Err(CoreError::InvalidModelParams { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn first_last_and_last_non_direct() {
        assert_eq!(
            run(Model::FirstTouch, 10_000),
            (vec![10_000, 0, 0, 0], vec![1_000_000_000, 0, 0, 0])
        );
        assert_eq!(
            run(Model::LastTouch, 10_000),
            (vec![0, 0, 0, 10_000], vec![0, 0, 0, 1_000_000_000])
        );
        // The last touch is direct, so TikTok (the last non-direct touch) gets it all.
        assert_eq!(
            run(Model::LastNonDirect, 10_000),
            (vec![0, 0, 10_000, 0], vec![0, 0, 1_000_000_000, 0])
        );
        // All direct: falls back to the last touch.
        let all_direct = journey_of(&[DIRECT, DIRECT]);
        assert_eq!(
            split(
                Model::LastNonDirect,
                &ModelParams::default(),
                &all_direct,
                999,
                &[]
            )
            .0,
            vec![0, 999]
        );
        // Channels past the end of the direct table are not direct.
        let unknown = journey_of(&[DIRECT, 9, DIRECT]);
        assert_eq!(
            split(
                Model::LastNonDirect,
                &ModelParams::default(),
                &unknown,
                999,
                &[]
            )
            .0,
            vec![0, 999, 0]
        );
    }

    #[test]
    fn linear_counts_repeats() {
        // Direct appears twice and so earns two of the four shares.
        assert_eq!(
            run(Model::Linear, 10_000),
            (vec![2_500; 4], vec![250_000_000; 4])
        );
        let three = journey_of(&[INSTAGRAM, TIKTOK, INSTAGRAM]);
        assert_eq!(
            split(Model::Linear, &ModelParams::default(), &three, 100, &[]),
            (
                vec![34, 33, 33],
                vec![333_333_334, 333_333_333, 333_333_333]
            )
        );
    }

    #[test]
    fn time_decay_halves_every_half_life() {
        // Δt = 10, 7, 3, 0 days with a 7-day half-life: weights 2^(-10/7), 1/2, 2^(-3/7), 1.
        // Exact quotas of 10000: 1420.92, 1912.41, 2841.84, 3824.83 → floors sum to 9997, the
        // three missing cents go to the largest remainders (.92, .84, .83).
        assert_eq!(
            run(Model::TimeDecay, 10_000),
            (
                vec![1_421, 1_912, 2_842, 3_825],
                vec![142_091_865, 191_241_468, 284_183_730, 382_482_937]
            )
        );
        // Two touches exactly one half-life apart: 1/3 and 2/3.
        let two = vec![
            JourneyTouch {
                at_ms: 0,
                channel: 0,
            },
            JourneyTouch {
                at_ms: 7 * DAY_MS,
                channel: 0,
            },
        ];
        assert_eq!(
            split(Model::TimeDecay, &ModelParams::default(), &two, 300, &[]).0,
            vec![100, 200]
        );
        // A one-day half-life over ten years does not underflow to an equal split.
        let params = ModelParams {
            half_life_days: 1,
            lookback_days: 3650,
            ..ModelParams::default()
        };
        let far = vec![
            JourneyTouch {
                at_ms: 0,
                channel: 0,
            },
            JourneyTouch {
                at_ms: 3000 * DAY_MS,
                channel: 0,
            },
        ];
        assert_eq!(
            split(Model::TimeDecay, &params, &far, 300, &[]).0,
            vec![0, 300]
        );
    }

    #[test]
    fn position_based_40_20_40() {
        // n = 4: 40% first, 40% last, 20% over two middle touches → 4000/1000/1000/4000.
        assert_eq!(
            run(Model::PositionBased, 10_000),
            (
                vec![4_000, 1_000, 1_000, 4_000],
                vec![400_000_000, 100_000_000, 100_000_000, 400_000_000]
            )
        );
        let params = ModelParams::default();
        assert_eq!(
            split(Model::PositionBased, &params, &journey_of(&[0]), 1000, &[]).0,
            vec![1000]
        );
        assert_eq!(
            split(
                Model::PositionBased,
                &params,
                &journey_of(&[0, 1]),
                1001,
                &[]
            )
            .0,
            vec![501, 500]
        );
        assert_eq!(
            split(
                Model::PositionBased,
                &params,
                &journey_of(&[0, 1, 2]),
                1000,
                &[]
            )
            .0,
            vec![400, 200, 400]
        );
        // n = 5: the middle 20% over three touches is 66.67 each; the two missing units go to the
        // first two middle touches (equal remainders, lowest index first).
        assert_eq!(
            split(
                Model::PositionBased,
                &params,
                &journey_of(&[0, 1, 2, 1, 0]),
                1000,
                &[]
            )
            .0,
            vec![400, 67, 67, 66, 400]
        );
        let custom = ModelParams {
            position_weights: PositionWeights {
                first: 30,
                middle: 40,
                last: 30,
            },
            ..params
        };
        assert_eq!(
            split(
                Model::PositionBased,
                &custom,
                &journey_of(&[0, 1]),
                1000,
                &[]
            )
            .0,
            vec![500, 500]
        );
        assert_eq!(
            split(
                Model::PositionBased,
                &custom,
                &journey_of(&[0, 1, 2]),
                1000,
                &[]
            )
            .0,
            vec![300, 400, 300]
        );
        let skewed = ModelParams {
            position_weights: PositionWeights {
                first: 60,
                middle: 30,
                last: 10,
            },
            ..params
        };
        assert_eq!(
            split(
                Model::PositionBased,
                &skewed,
                &journey_of(&[0, 1]),
                1000,
                &[]
            )
            .0,
            vec![857, 143]
        );
    }

    /// The classic example: A>B>C (1 conversion), A>A>B (2 conversions, 1 null),
    /// C (1 conversion, 2 nulls), B>C (3 nulls).
    fn classic_paths() -> Vec<TrainingPath<'static>> {
        const A: u32 = 0;
        const B: u32 = 1;
        const C: u32 = 2;
        vec![
            TrainingPath {
                channels: &[A, B, C],
                conversions: 1,
                non_conversions: 0,
            },
            TrainingPath {
                channels: &[A, A, B],
                conversions: 2,
                non_conversions: 1,
            },
            TrainingPath {
                channels: &[C],
                conversions: 1,
                non_conversions: 2,
            },
            TrainingPath {
                channels: &[B, C],
                conversions: 0,
                non_conversions: 3,
            },
        ]
    }

    #[test]
    fn markov_removal_effects_on_the_classic_example() {
        let learned = learn_markov(&classic_paths()).unwrap();
        let effects: Vec<f64> = learned.channels.iter().map(|c| c.value).collect();
        // Exactly 22/49, 11/14 and 1/2; the baseline conversion probability is 2/5.
        assert_eq!(
            effects
                .iter()
                .map(|e| format!("{e:.3}"))
                .collect::<Vec<_>>(),
            ["0.449", "0.786", "0.500"]
        );
        assert!((effects[0] - 22.0 / 49.0).abs() < 1e-12);
        assert!((effects[1] - 11.0 / 14.0).abs() < 1e-12);
        assert!((effects[2] - 0.5).abs() < 1e-12);
        assert!((learned.conversion_probability.unwrap() - 0.4).abs() < 1e-12);
        // Normalized: 44/170, 77/170, 49/170.
        let weights: Vec<f64> = learned.channels.iter().map(|c| c.weight).collect();
        for (weight, expected) in weights
            .iter()
            .zip([44.0 / 170.0, 77.0 / 170.0, 49.0 / 170.0])
        {
            assert!((weight - expected).abs() < 1e-12);
        }
        assert_eq!(
            learned
                .channels
                .iter()
                .map(|c| (c.channel, c.conversions, c.paths))
                .collect::<Vec<_>>(),
            vec![(0, 3, 4), (1, 3, 7), (2, 2, 7)]
        );
        // A journey A, B, C, A weighs 44 : 77 : 49 : 44 (sum 214). Quotas of 1000: 205.61,
        // 359.81, 228.97, 205.61 → floors 997; the three missing units go to C, B, then the
        // first A (equal remainders with the last A, lower index).
        let journey = journey_of(&[0, 1, 2, 0]);
        let (revenue, shares) = split(
            Model::Markov,
            &ModelParams::default(),
            &journey,
            1000,
            &learned.weight_by_channel(),
        );
        assert_eq!(revenue, vec![206, 360, 229, 205]);
        assert_eq!(shares.iter().sum::<i64>(), SHARE_ONE_PPB);
    }

    #[test]
    fn markov_without_conversions_or_paths_learns_nothing() {
        let nulls = [TrainingPath {
            channels: &[0, 1],
            conversions: 0,
            non_conversions: 5,
        }];
        let learned = learn_markov(&nulls).unwrap();
        assert!(
            learned
                .channels
                .iter()
                .all(|c| c.value == 0.0 && c.weight == 0.0)
        );
        assert_eq!(learned.conversion_probability, Some(0.0));
        let empty = learn_markov(&[]).unwrap();
        assert!(empty.channels.is_empty());
        // All-zero learned weights fall back to a linear split.
        assert_eq!(
            split(
                Model::Markov,
                &ModelParams::default(),
                &journey_of(&[0, 1, 1]),
                100,
                &[0.0, 0.0]
            )
            .0,
            vec![34, 33, 33]
        );
        assert_eq!(
            split(
                Model::Shapley,
                &ModelParams::default(),
                &journey_of(&[5]),
                100,
                &[]
            )
            .0,
            vec![100]
        );
    }

    #[test]
    fn markov_handles_loops_between_channels() {
        // A>B>A>B with conversions: the chain has cycles, which the exact inversion handles.
        let paths = [
            TrainingPath {
                channels: &[0, 1, 0, 1],
                conversions: 2,
                non_conversions: 1,
            },
            TrainingPath {
                channels: &[1],
                conversions: 0,
                non_conversions: 2,
            },
            TrainingPath {
                channels: &[0],
                conversions: 1,
                non_conversions: 1,
            },
        ];
        let learned = learn_markov(&paths).unwrap();
        // Cross-check each removal effect by re-solving the chain without the channel.
        let probability = learned.conversion_probability.unwrap();
        for removed in 0..2u32 {
            let without: Vec<TrainingPath<'_>> = paths.to_vec();
            let p_without = solve_with_removed(&without, removed);
            let expected = 1.0 - p_without / probability;
            assert!(
                (learned.channels[removed as usize].value - expected).abs() < 1e-12,
                "channel {removed}"
            );
        }
    }

    /// Reference: conversion probability from start with `removed` made absorbing-null, by
    /// value iteration to convergence (independent of the closed form under test).
    fn solve_with_removed(paths: &[TrainingPath<'_>], removed: u32) -> f64 {
        use std::collections::HashMap;
        let mut counts: HashMap<(i64, i64), f64> = HashMap::new();
        let mut totals: HashMap<i64, f64> = HashMap::new();
        for path in paths {
            let m = (path.conversions + path.non_conversions) as f64;
            let mut previous = -1i64;
            for &c in path.channels {
                if c as i64 == previous {
                    continue;
                }
                *counts.entry((previous, c as i64)).or_default() += m;
                *totals.entry(previous).or_default() += m;
                previous = c as i64;
            }
            *counts.entry((previous, -2)).or_default() += path.conversions as f64;
            *totals.entry(previous).or_default() += m;
        }
        let mut x: HashMap<i64, f64> = HashMap::new();
        for _ in 0..10_000 {
            let mut next = HashMap::new();
            for (&state, &total) in &totals {
                let mut value = 0.0;
                for (&(from, to), &count) in &counts {
                    if from != state {
                        continue;
                    }
                    value += count / total
                        * match to {
                            -2 => 1.0,
                            t if t == removed as i64 => 0.0,
                            t => x.get(&t).copied().unwrap_or(0.0),
                        };
                }
                next.insert(state, value);
            }
            x = next;
        }
        x[&-1]
    }

    #[test]
    fn shapley_hand_computed() {
        const A: u32 = 0;
        const B: u32 = 1;
        // {A}: 1 of 2 convert (r = 1/2); {B}: 1 of 4 (r = 1/4); {A,B}: 3 of 4 (r = 3/4).
        // v(A) = 1/2, v(B) = 1/4, v(AB) = 3/2.
        // φA = ½·v(A) + ½·(v(AB) − v(B)) = 1/4 + 5/8 = 7/8; φB = ½·v(B) + ½·(v(AB) − v(A)) = 5/8.
        let paths = [
            TrainingPath {
                channels: &[A],
                conversions: 1,
                non_conversions: 1,
            },
            TrainingPath {
                channels: &[B, B],
                conversions: 1,
                non_conversions: 3,
            },
            TrainingPath {
                channels: &[A, B, A],
                conversions: 2,
                non_conversions: 0,
            },
            TrainingPath {
                channels: &[B, A],
                conversions: 1,
                non_conversions: 1,
            },
        ];
        let learned = learn_shapley(&paths).unwrap();
        assert_eq!(learned.conversion_probability, None);
        let values: Vec<f64> = learned.channels.iter().map(|c| c.value).collect();
        assert!(
            (values[0] - 0.875).abs() < 1e-12 && (values[1] - 0.625).abs() < 1e-12,
            "{values:?}"
        );
        assert!((learned.channels[0].weight - 7.0 / 12.0).abs() < 1e-12);
        // Journey A, B, A weighs 7 : 5 : 7. Quotas of 1000: 368.42, 263.16, 368.42 → one unit
        // left, equal remainders on the two A touches → the first. Shares likewise: 368421052.63,
        // 263157894.74, 368421052.63 → the two missing ppb go to B (.74) then the first A.
        let (revenue, shares) = split(
            Model::Shapley,
            &ModelParams::default(),
            &journey_of(&[A, B, A]),
            1000,
            &learned.weight_by_channel(),
        );
        assert_eq!(revenue, vec![369, 263, 368]);
        assert_eq!(shares, vec![368_421_053, 263_157_895, 368_421_052]);
    }

    #[test]
    fn shapley_with_more_than_256_channels_is_still_exact() {
        let base = [
            TrainingPath {
                channels: &[0, 1],
                conversions: 3,
                non_conversions: 1,
            },
            TrainingPath {
                channels: &[1],
                conversions: 1,
                non_conversions: 4,
            },
            TrainingPath {
                channels: &[0, 2, 0],
                conversions: 1,
                non_conversions: 0,
            },
        ];
        let wide: Vec<u32> = (1000..1300).collect();
        let mut with_wide = base.to_vec();
        with_wide.push(TrainingPath {
            channels: &wide,
            conversions: 1,
            non_conversions: 2,
        });
        let small = learn_shapley(&base).unwrap();
        let large = learn_shapley(&with_wide).unwrap();
        assert_eq!(large.channels.len(), 303);
        // A channel's value only depends on the sets that contain it, so channels 0..2 keep theirs:
        // φ0 = 3/4/2 + 1/2 = 0.875, φ1 = 3/8 + 1/5 = 0.575, φ2 = 1/2.
        for (a, b) in small.channels.iter().zip(&large.channels[..3]) {
            assert_eq!(a.channel, b.channel);
            assert!((a.value - b.value).abs() < 1e-12);
        }
        assert!((large.channels[0].value - 0.875).abs() < 1e-12);
        assert!((large.channels[1].value - 0.575).abs() < 1e-12);
        assert!((large.channels[2].value - 0.5).abs() < 1e-12);
        // Each of the 300 wide channels gets (1/3) / 300.
        assert!(
            large.channels[3..]
                .iter()
                .all(|c| (c.value - 1.0 / 900.0).abs() < 1e-15)
        );
    }

    /// The textbook Shapley value by enumerating all 2ⁿ coalitions, with v(S) = Σ r(T), T ⊆ S.
    fn brute_force_shapley(rates: &std::collections::HashMap<u32, f64>, n: usize) -> Vec<f64> {
        let value = |coalition: u32| -> f64 {
            rates
                .iter()
                .filter(|&(&set, _)| set & coalition == set)
                .map(|(_, &r)| r)
                .sum()
        };
        let factorial = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
        (0..n)
            .map(|player| {
                let bit = 1u32 << player;
                (0u32..(1 << n))
                    .filter(|s| s & bit == 0)
                    .map(|s| {
                        let size = s.count_ones() as usize;
                        factorial(size) * factorial(n - size - 1) / factorial(n)
                            * (value(s | bit) - value(s))
                    })
                    .sum()
            })
            .collect()
    }

    proptest! {
        #[test]
        fn shapley_closed_form_matches_enumeration(
            raw in proptest::collection::vec(
                (proptest::collection::vec(0u32..6, 1..5), 0u64..5, 0u64..5), 1..25)
        ) {
            let paths: Vec<TrainingPath<'_>> = raw
                .iter()
                .map(|(channels, conversions, non_conversions)| TrainingPath {
                    channels,
                    conversions: *conversions,
                    non_conversions: *non_conversions,
                })
                .collect();
            let learned = learn_shapley(&paths).unwrap();
            // Rates by channel bitmask, over the channels that occur (dense numbering = sorted ids).
            let active: Vec<u32> = learned.channels.iter().map(|c| c.channel).collect();
            let mut totals: std::collections::HashMap<u32, (u64, u64)> = std::collections::HashMap::new();
            for path in &paths {
                if path.conversions + path.non_conversions == 0 {
                    continue;
                }
                let mask = path.channels.iter().fold(0u32, |m, c| m | 1 << active.iter().position(|a| a == c).unwrap());
                let entry = totals.entry(mask).or_default();
                entry.0 += path.conversions;
                entry.1 += path.conversions + path.non_conversions;
            }
            let rates = totals.into_iter().map(|(mask, (c, t))| (mask, c as f64 / t as f64)).collect();
            let expected = brute_force_shapley(&rates, active.len());
            for (channel, want) in learned.channels.iter().zip(expected) {
                prop_assert!((channel.value - want).abs() < 1e-9, "{} vs {}", channel.value, want);
            }
        }

        #[test]
        fn every_model_splits_exactly(
            touches in proptest::collection::vec((0i64..40 * DAY_MS, 0u32..6), 1..12),
            net in 0i64..1_000_000_000_000,
            learned in proptest::collection::vec(prop_oneof![Just(0.0f64), 0.0f64..1.0], 6),
            position in (0u32..=100).prop_flat_map(|first| (Just(first), 0..=100 - first)),
            half_life in 1u32..30,
        ) {
            let mut journey: Vec<JourneyTouch> = touches.iter().map(|&(at_ms, channel)| JourneyTouch { at_ms, channel }).collect();
            journey.sort_by_key(|t| t.at_ms);
            let params = ModelParams {
                lookback_days: 40,
                half_life_days: half_life,
                position_weights: PositionWeights { first: position.0, middle: position.1, last: 100 - position.0 - position.1 },
                touches: TouchFilter::default(),
            };
            let direct = [true, false, true, false, false, false];
            for model in Model::ALL {
                let credits = credit_journey(model, &params, &journey, net, &direct, &learned).unwrap();
                prop_assert_eq!(credits.len(), journey.len());
                prop_assert_eq!(credits.iter().map(|c| c.revenue_minor).sum::<i64>(), net, "{}", model);
                prop_assert_eq!(credits.iter().map(|c| c.share_ppb).sum::<i64>(), SHARE_ONE_PPB, "{}", model);
                prop_assert!(credits.iter().all(|c| c.revenue_minor >= 0 && c.share_ppb >= 0));
            }
        }

        #[test]
        fn attribution_runs_credit_every_attributed_order_exactly(
            touches in proptest::collection::vec((0i64..60, 0u32..5, 0usize..8), 0..60),
            orders in proptest::collection::vec((0i64..60, 0usize..10, 0i64..10_000_000), 1..15),
            probabilistic in any::<bool>(),
        ) {
            let people = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"];
            let touch_records: Vec<TouchRecord> = touches
                .iter()
                .map(|&(day, channel, person)| TouchRecord {
                    at_ms: day * DAY_MS / 2,
                    channel,
                    click_id: None,
                    keys: vec![(KeyType::AnonymousId, people[person].to_owned())],
                })
                .collect();
            let order_records: Vec<OrderRecord> = orders
                .iter()
                .map(|&(day, person, net_minor)| OrderRecord {
                    at_ms: day * DAY_MS / 2,
                    click_id: None,
                    keys: vec![(KeyType::AnonymousId, people[person].to_owned())],
                    net_minor,
                })
                .collect();
            let config = JourneyConfig { probabilistic, probabilistic_window_ms: DAY_MS, ..JourneyConfig::from_days(10, false) };
            let journeys = resolve_journeys(&touch_records, &order_records, &[], &config).unwrap();
            // Every touch is either in exactly one journey or in a non-converting path.
            let claimed: usize = journeys.outcomes.iter().filter_map(OrderOutcome::journey).map(|j| j.touches.len()).sum();
            let unclaimed: usize = journeys.non_converting.iter().map(<[u32]>::len).sum();
            prop_assert_eq!(claimed + unclaimed, touch_records.len());
            for model in Model::ALL {
                let result = attribute(model, &ModelParams::default(), &touch_records, &order_records, &journeys, &[true]).unwrap();
                prop_assert_eq!(result.learned.is_some(), model.is_data_driven());
                for (index, outcome) in journeys.outcomes.iter().enumerate() {
                    let credits: Vec<&Credit> = result.credits.iter().filter(|c| c.order as usize == index).collect();
                    match outcome.journey() {
                        Some(journey) => {
                            prop_assert_eq!(credits.len(), journey.touches.len());
                            prop_assert_eq!(credits.iter().map(|c| c.revenue_minor).sum::<i64>(), order_records[index].net_minor);
                            prop_assert_eq!(credits.iter().map(|c| c.share_ppb).sum::<i64>(), SHARE_ONE_PPB);
                            for credit in &credits {
                                let touch = &touch_records[credit.touch as usize];
                                prop_assert!(touch.at_ms <= order_records[index].at_ms);
                                prop_assert!(touch.at_ms >= order_records[index].at_ms - 10 * DAY_MS);
                            }
                        }
                        None => prop_assert!(credits.is_empty()),
                    }
                }
            }
        }
    }

    #[test]
    fn attribute_end_to_end_with_a_data_driven_model() {
        let touch = |at_ms, channel, person: &str| TouchRecord {
            at_ms,
            channel,
            click_id: None,
            keys: vec![(KeyType::AnonymousId, person.to_owned())],
        };
        let touches = vec![
            touch(DAY_MS, INSTAGRAM, "ann"),
            touch(2 * DAY_MS, TIKTOK, "ann"),
            touch(DAY_MS, TIKTOK, "bob"),
            touch(DAY_MS, INSTAGRAM, "cat"),
        ];
        let orders = vec![OrderRecord {
            at_ms: 3 * DAY_MS,
            click_id: None,
            keys: vec![(KeyType::AnonymousId, "ann".to_owned())],
            net_minor: 10_001,
        }];
        let journeys = resolve_journeys(&touches, &orders, &[], &JourneyConfig::default()).unwrap();
        let result = attribute(
            Model::Shapley,
            &ModelParams::default(),
            &touches,
            &orders,
            &journeys,
            &DIRECT_CHANNELS,
        )
        .unwrap();
        // Sets: {IG, TT} converts 1 of 1, {TT} 0 of 1, {IG} 0 of 1 → φ equal → an even split.
        let learned = result.learned.unwrap();
        assert_eq!(
            learned
                .channels
                .iter()
                .map(|c| c.weight)
                .collect::<Vec<_>>(),
            vec![0.5, 0.5]
        );
        assert_eq!(
            result
                .credits
                .iter()
                .map(|c| (c.order, c.touch, c.revenue_minor, c.share_ppb))
                .collect::<Vec<_>>(),
            vec![(0, 0, 5_001, 500_000_000), (0, 1, 5_000, 500_000_000)]
        );
        assert!(
            result
                .credits
                .iter()
                .all(|c| c.join_kind == JoinKind::IdentityGraph && c.confidence_ppm == 1_000_000)
        );
        // A journey set that does not belong to these orders is refused.
        assert!(matches!(
            attribute(
                Model::Linear,
                &ModelParams::default(),
                &touches,
                &[],
                &journeys,
                &[]
            ),
            Err(CoreError::IndexOutOfRange { .. })
        ));
    }
}
