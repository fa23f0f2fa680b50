//! Bootstrap intervals for data-driven credit: how far a Markov or Shapley channel weight, and
//! the revenue it credits, could move if the same business had produced another sample of
//! journeys of the same size.
//!
//! Method (the README's "Intervals for data-driven credit" says the same in words):
//! - The journeys a model learns from are reduced to a table of distinct paths, each with how
//!   many journeys took it and converted and how many took it and did not. Paths are reduced as
//!   the model reads them (Markov: consecutive repeats collapsed; Shapley: the set of channels),
//!   so the table is as small as it can be and learning from it gives the model's own numbers.
//! - One resample draws as many journeys as there are, with replacement: a multinomial draw over
//!   the table's (path, outcome) cells with probabilities count ÷ journeys, made exactly from
//!   one Poisson draw per cell and a few single draws to make up the total
//!   ([`PathTable::resample_counts`]). A resample costs O(distinct paths), not O(journeys).
//! - The model learns its weights from each resample. A channel absent from a resample weighs 0
//!   in it. The interval at level L is the percentile interval: the (1−L)/2 and (1+L)/2
//!   quantiles of the resampled weights (linear interpolation between order statistics).
//! - Revenue intervals hold the orders fixed and vary only the weights: each resample's weights
//!   split every order's net revenue over its touches as the run does (weight ÷ the journey's
//!   total weight; equally when every touch weighs 0), summed per key; the interval is the
//!   same percentile interval over resamples.
//! - Resample `b` draws from its own generator, seeded from (seed, b), so the result is the same
//!   for a seed however many threads share the work.
//!
//! A figure whose channel rests on fewer than [`MIN_CONVERSIONS`] conversions, or whose interval
//! is wider than the figure itself, is too uncertain to state: [`Confidence::TooFew`].

use std::collections::HashMap;

use crate::attribution::{LearnedWeights, Model, TrainingPath, learn_weights};
use crate::error::{CoreError, Result};
use crate::journey::ChannelPaths;

/// Resamples when none are asked for.
pub const DEFAULT_RESAMPLES: u32 = 200;
/// Interval level when none is asked for.
pub const DEFAULT_LEVEL: f64 = 0.9;
/// The seed when none is asked for: a fixed one, so the same data gives the same interval.
pub const DEFAULT_SEED: u64 = 14;
/// Fewer conversions than this and a channel's figure is not stated as a number.
pub const MIN_CONVERSIONS: u64 = 30;
/// The most resamples accepted (the work grows linearly with them).
pub const MAX_RESAMPLES: u32 = 100_000;

/// How many resamples, at what level, from which seed.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct BootstrapSettings {
    pub resamples: u32,
    /// Coverage of the interval, strictly between 0 and 1 (0.9: a 90% interval).
    pub level: f64,
    pub seed: u64,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        BootstrapSettings {
            resamples: DEFAULT_RESAMPLES,
            level: DEFAULT_LEVEL,
            seed: DEFAULT_SEED,
        }
    }
}

impl BootstrapSettings {
    /// Refuses fewer than 10 or more than [`MAX_RESAMPLES`] resamples, and a level outside (0, 1).
    pub fn validate(&self) -> Result<()> {
        if !(10..=MAX_RESAMPLES).contains(&self.resamples) {
            return Err(CoreError::InvalidModelParams {
                reason: format!(
                    "resamples must be between 10 and {MAX_RESAMPLES}, not {}",
                    self.resamples
                ),
            });
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(CoreError::InvalidModelParams {
                reason: format!(
                    "the interval level must be between 0 and 1 (e.g. 0.9), not {}",
                    self.level
                ),
            });
        }
        Ok(())
    }
}

/// Whether a figure can be stated with its interval.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Confidence {
    /// Enough conversions and an interval no wider than the figure.
    Stated,
    /// Fewer than [`MIN_CONVERSIONS`] conversions, or an interval wider than the figure.
    TooFew,
}

impl Confidence {
    /// The rule for a figure `value` with interval `low..=high` that rests on `conversions`.
    pub fn of(value: f64, low: f64, high: f64, conversions: u64) -> Confidence {
        if conversions < MIN_CONVERSIONS || high - low > value {
            Confidence::TooFew
        } else {
            Confidence::Stated
        }
    }

    /// The words a table shows instead of a number.
    pub const TOO_FEW_WORDS: &'static str = "too few conversions to say";
}

/// The distinct (reduced) paths of a model's training data, with how many journeys took each
/// and converted, and how many took it and did not.
#[derive(Clone, Debug, PartialEq)]
pub struct PathTable {
    paths: ChannelPaths,
    conversions: Vec<u64>,
    non_conversions: Vec<u64>,
}

impl PathTable {
    /// Groups `paths` as `model` reads them: Markov collapses consecutive repeats (A→A→B is
    /// A→B), Shapley keeps the sorted set of channels. Empty paths and paths without journeys
    /// are dropped (no model learns from them). Rows keep the order of first occurrence.
    pub fn new(model: Model, paths: &[TrainingPath<'_>]) -> Result<PathTable> {
        if !model.is_data_driven() {
            return Err(CoreError::InvalidModelParams {
                reason: format!("the {model} model learns no channel weights"),
            });
        }
        let mut index: HashMap<Vec<u32>, usize> = HashMap::new();
        let mut table = PathTable {
            paths: ChannelPaths::new(),
            conversions: Vec::new(),
            non_conversions: Vec::new(),
        };
        let mut reduced = Vec::new();
        for path in paths {
            if path.channels.is_empty() || path.conversions + path.non_conversions == 0 {
                continue;
            }
            reduced.clear();
            if model == Model::Markov {
                for &channel in path.channels {
                    if reduced.last() != Some(&channel) {
                        reduced.push(channel);
                    }
                }
            } else {
                reduced.extend_from_slice(path.channels);
                reduced.sort_unstable();
                reduced.dedup();
            }
            let row = match index.get(reduced.as_slice()) {
                Some(&row) => row,
                None => {
                    let row = table.conversions.len();
                    index.insert(reduced.clone(), row);
                    table.paths.push(&reduced);
                    table.conversions.push(0);
                    table.non_conversions.push(0);
                    row
                }
            };
            table.conversions[row] += path.conversions;
            table.non_conversions[row] += path.non_conversions;
        }
        Ok(table)
    }

    /// Distinct paths in the table.
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    /// Whether the table has no path.
    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    /// Journeys in the table, converting or not.
    pub fn journeys(&self) -> u64 {
        self.conversions.iter().chain(&self.non_conversions).sum()
    }

    /// The table as training paths.
    pub fn training_paths(&self) -> Vec<TrainingPath<'_>> {
        self.paths
            .iter()
            .zip(self.conversions.iter().zip(&self.non_conversions))
            .map(
                |(channels, (&conversions, &non_conversions))| TrainingPath {
                    channels,
                    conversions,
                    non_conversions,
                },
            )
            .collect()
    }

    /// One multinomial resample of as many journeys as the table holds, as training paths
    /// (cells drawn 0 times are left out).
    pub fn resample(&self, rng: &mut Rng) -> Vec<TrainingPath<'_>> {
        let mut counts = Vec::new();
        self.resample_counts(rng, &mut counts);
        self.paths
            .iter()
            .zip(&counts)
            .filter(|(_, [c, n])| c + n > 0)
            .map(|(channels, &[conversions, non_conversions])| TrainingPath {
                channels,
                conversions,
                non_conversions,
            })
            .collect()
    }

    /// [`PathTable::resample`] as counts: `out[row]` = [conversions, non-conversions] drawn.
    ///
    /// Exact multinomial, drawn fast (Ahrens and Dieter's Poisson start): each (path, outcome)
    /// cell of count c gets an independent Poisson(c·λ/N) draw with λ = N − 3√N, so the draws
    /// total T ≤ N almost always (else they are drawn again); given T they are Multinomial(T, p),
    /// and the N − T journeys still missing are drawn one by one (a uniform journey, found by
    /// binary search over the cells' cumulative counts), which makes them Multinomial(N, p).
    /// A Poisson draw of a small count reads a distribution table made once per resample.
    pub fn resample_counts(&self, rng: &mut Rng, out: &mut Vec<[u64; 2]>) {
        let total = self.journeys();
        out.clear();
        out.resize(self.len(), [0, 0]);
        if total == 0 {
            return;
        }
        let n = total as f64;
        let rate = (n - 3.0 * n.sqrt()).max(0.0) / n;
        let poisson = PoissonTables::new(rate);
        let drawn = loop {
            let mut drawn = 0u64;
            for (cell, (&c, &nc)) in out
                .iter_mut()
                .zip(self.conversions.iter().zip(&self.non_conversions))
            {
                let a = poisson.draw(c, rng);
                let b = poisson.draw(nc, rng);
                *cell = [a, b];
                drawn += a + b;
            }
            if drawn <= total {
                break drawn;
            }
        };
        let cumulative = self.cumulative();
        for _ in drawn..total {
            let journey = rng.below(total);
            // The first cell whose cumulative count exceeds the journey's index.
            let cell = cumulative.partition_point(|&end| end <= journey);
            out[cell / 2][cell % 2] += 1;
        }
    }

    /// Cumulative journey counts over the cells (row 0 conversions, row 0 non-conversions, …).
    fn cumulative(&self) -> Vec<u64> {
        let mut sum = 0;
        self.conversions
            .iter()
            .zip(&self.non_conversions)
            .flat_map(|(&c, &n)| [c, n])
            .map(|count| {
                sum += count;
                sum
            })
            .collect()
    }
}

/// Poisson(c·rate) draws for the counts c of a table: distribution tables for counts up to
/// [`PoissonTables::TABLED`], the walk from the mode above.
struct PoissonTables {
    rate: f64,
    /// `cdf[c − 1]`: the cumulative probabilities of Poisson(c·rate) at 0, 1, 2, … until the
    /// remaining mass is below 1e-17.
    cdf: Vec<Vec<f64>>,
}

impl PoissonTables {
    const TABLED: u64 = 32;

    fn new(rate: f64) -> PoissonTables {
        let cdf = (1..=Self::TABLED)
            .map(|c| {
                let mean = c as f64 * rate;
                let mut pmf = (-mean).exp();
                let mut cumulative = pmf;
                let mut table = vec![cumulative];
                let mut k = 0.0;
                while 1.0 - cumulative > 1e-17 && table.len() < 400 {
                    k += 1.0;
                    pmf *= mean / k;
                    cumulative += pmf;
                    table.push(cumulative);
                }
                table
            })
            .collect();
        PoissonTables { rate, cdf }
    }

    fn draw(&self, count: u64, rng: &mut Rng) -> u64 {
        if count == 0 {
            return 0;
        }
        if count <= Self::TABLED {
            let table = &self.cdf[count as usize - 1];
            let u = rng.unit();
            return table.partition_point(|&p| p < u).min(table.len() - 1) as u64;
        }
        rng.poisson(count as f64 * self.rate)
    }
}

/// What a model needs of a table to learn from a resample's counts, prepared once: Markov, each
/// row's transitions as cells of the count matrix over every channel of the table; Shapley,
/// nothing (each row is a distinct set already).
enum Learner {
    Markov {
        /// Transient states: start, then the table's channels in increasing id order.
        states: usize,
        /// Channel id of each channel state (state = index + 1).
        channel_of: Vec<u32>,
        /// Per row, the count-matrix cells of its transitions (start → first → … → last), then
        /// the last state's row offset; rows end at `ends[row]`.
        cells: Vec<u32>,
        ends: Vec<usize>,
    },
    Shapley,
}

impl Learner {
    fn new(model: Model, table: &PathTable) -> Result<Learner> {
        if model == Model::Shapley {
            return Ok(Learner::Shapley);
        }
        let mut channel_of: Vec<u32> = table.paths.iter().flatten().copied().collect();
        channel_of.sort_unstable();
        channel_of.dedup();
        if channel_of.len() > crate::attribution::MARKOV_MAX_CHANNELS {
            return Err(CoreError::TooManyChannels {
                model: "markov",
                count: channel_of.len(),
                limit: crate::attribution::MARKOV_MAX_CHANNELS,
            });
        }
        let state_of: HashMap<u32, u32> = channel_of
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i as u32 + 1))
            .collect();
        let states = channel_of.len() + 1;
        let width = states + 2;
        let mut cells = Vec::new();
        let mut ends = Vec::with_capacity(table.len());
        for path in table.paths.iter() {
            let mut previous = 0usize;
            for channel in path {
                let state = state_of[channel] as usize;
                if state == previous {
                    continue;
                }
                cells.push((previous * width + state) as u32);
                previous = state;
            }
            cells.push((previous * width) as u32);
            ends.push(cells.len());
        }
        Ok(Learner::Markov {
            states,
            channel_of,
            cells,
            ends,
        })
    }

    /// The weights, dense by channel id, learned from `counts` (a resample of `table`).
    fn weights(&self, table: &PathTable, counts: &[[u64; 2]]) -> Vec<f64> {
        match self {
            Learner::Markov {
                states,
                channel_of,
                cells,
                ends,
            } => {
                let states = *states;
                let width = states + 2;
                let mut matrix = vec![0u64; states * width];
                let mut start = 0;
                for (&end, &[c, n]) in ends.iter().zip(counts) {
                    let row = &cells[start..end];
                    start = end;
                    let multiplicity = c + n;
                    if multiplicity == 0 {
                        continue;
                    }
                    let (last, transitions) = row.split_last().unwrap_or((&0, &[]));
                    for &cell in transitions {
                        matrix[cell as usize] += multiplicity;
                    }
                    matrix[*last as usize + states] += c;
                    matrix[*last as usize + states + 1] += n;
                }
                let (effects, _) = crate::attribution::markov_removal_effects(&matrix, states);
                dense_normalized(channel_of, &effects)
            }
            Learner::Shapley => shapley_weights_of_sets(table, counts),
        }
    }
}

/// `values[i]` of channel `channel_of[i]`, the positive finite ones normalized to sum to 1 (the
/// rest 0), dense by channel id.
fn dense_normalized(channel_of: &[u32], values: &[f64]) -> Vec<f64> {
    let positive = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
    let total: f64 = values.iter().map(|&v| positive(v)).sum();
    let mut dense = vec![
        0.0;
        channel_of
            .iter()
            .map(|&c| c as usize + 1)
            .max()
            .unwrap_or(0)
    ];
    if total > 0.0 {
        for (&channel, &v) in channel_of.iter().zip(values) {
            dense[channel as usize] = positive(v) / total;
        }
    }
    dense
}

/// One channel's weight interval.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct WeightInterval {
    /// The interned channel index.
    pub channel: u32,
    pub low: f64,
    pub high: f64,
}

/// What a bootstrap of a data-driven model found.
#[derive(Clone, PartialEq, Debug)]
pub struct WeightBootstrap {
    pub settings: BootstrapSettings,
    /// The weights learned from the whole table (the model's own).
    pub learned: LearnedWeights,
    /// One interval per channel of `learned.channels`, in the same order.
    pub intervals: Vec<WeightInterval>,
    /// Each resample's weights, dense by channel index (channels past a vector's end weigh 0).
    pub resampled: Vec<Vec<f64>>,
}

/// Learns `model` from `table` and from `settings.resamples` resamples of it, and gives each
/// channel its percentile interval. Resamples run on up to `threads` threads (at least one); the
/// result does not depend on how many.
pub fn bootstrap_weights(
    model: Model,
    table: &PathTable,
    settings: &BootstrapSettings,
    threads: usize,
) -> Result<WeightBootstrap> {
    settings.validate()?;
    let learned = learn_weights(model, &table.training_paths())?;
    let count = settings.resamples as usize;
    let learner = Learner::new(model, table)?;
    let resampled = parallel_map(count, threads, |b| {
        let mut rng = Rng::for_resample(settings.seed, b as u64);
        let mut counts = Vec::new();
        table.resample_counts(&mut rng, &mut counts);
        learner.weights(table, &counts)
    });
    let intervals = learned
        .channels
        .iter()
        .map(|c| {
            let mut values: Vec<f64> = resampled
                .iter()
                .map(|w| w.get(c.channel as usize).copied().unwrap_or(0.0))
                .collect();
            let (low, high) = percentile_interval(&mut values, settings.level);
            WeightInterval {
                channel: c.channel,
                low,
                high,
            }
        })
        .collect();
    Ok(WeightBootstrap {
        settings: *settings,
        learned,
        intervals,
        resampled,
    })
}

/// Shapley weights, dense by channel, of a Shapley table's rows (distinct sorted channel sets)
/// with `counts` journeys: φ_c = Σ over the sets T that contain c of r(T) / |T|, with r(T) =
/// conversions ÷ journeys of T, normalized to sum to 1 — `learn_shapley`'s formula without its
/// grouping step (the sums may differ from it in the last bits).
fn shapley_weights_of_sets(table: &PathTable, counts: &[[u64; 2]]) -> Vec<f64> {
    let len = table
        .paths
        .iter()
        .flatten()
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut values = vec![0.0f64; len];
    for (set, &[c, n]) in table.paths.iter().zip(counts) {
        if set.is_empty() || c == 0 {
            continue;
        }
        let dividend = c as f64 / (c + n) as f64 / set.len() as f64;
        for &channel in set {
            values[channel as usize] += dividend;
        }
    }
    let channels: Vec<u32> = (0..len as u32).collect();
    dense_normalized(&channels, &values)
}

/// The (1−level)/2 and (1+level)/2 quantiles of `values` (sorted in place), each by linear
/// interpolation between the order statistics at rank (n−1)·q. Empty: (0, 0).
pub fn percentile_interval(values: &mut [f64], level: f64) -> (f64, f64) {
    values.sort_unstable_by(f64::total_cmp);
    (
        quantile_sorted(values, (1.0 - level) / 2.0),
        quantile_sorted(values, (1.0 + level) / 2.0),
    )
}

fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let below = rank.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = rank - below as f64;
    sorted[below] + fraction * (sorted[above] - sorted[below])
}

/// Orders grouped by how a data-driven model splits them: each group is a multiset of
/// (channel, key) touches with the summed net revenue of the orders whose journeys have exactly
/// those touches. Keys are the caller's dense indices (a creator, a channel, …).
#[derive(Clone, Debug, Default)]
pub struct CreditGroups {
    index: HashMap<Vec<(u32, u32)>, usize>,
    touches: Vec<(u32, u32)>,
    ends: Vec<usize>,
    net_minor: Vec<i128>,
    keys: usize,
}

impl CreditGroups {
    pub fn new() -> CreditGroups {
        CreditGroups::default()
    }

    /// Adds one order of `net_minor` whose journey's touches are `touches` (channel, key).
    pub fn add(&mut self, net_minor: i64, touches: &[(u32, u32)]) {
        if touches.is_empty() {
            return;
        }
        let mut signature = touches.to_vec();
        signature.sort_unstable();
        self.keys = self.keys.max(
            signature
                .iter()
                .map(|&(_, k)| k as usize + 1)
                .max()
                .unwrap_or(0),
        );
        let group = match self.index.get(&signature) {
            Some(&group) => group,
            None => {
                let group = self.net_minor.len();
                self.touches.extend_from_slice(&signature);
                self.ends.push(self.touches.len());
                self.net_minor.push(0);
                self.index.insert(signature, group);
                group
            }
        };
        self.net_minor[group] += i128::from(net_minor);
    }

    /// Distinct groups.
    pub fn len(&self) -> usize {
        self.net_minor.len()
    }

    /// Whether no order was added.
    pub fn is_empty(&self) -> bool {
        self.net_minor.is_empty()
    }

    /// Revenue per key (index = key) when `weights` (dense by channel) split every group.
    pub fn revenue_by_key(&self, weights: &[f64]) -> Vec<f64> {
        let mut revenue = vec![0.0; self.keys];
        let mut start = 0;
        for (&end, &net) in self.ends.iter().zip(&self.net_minor) {
            let touches = &self.touches[start..end];
            start = end;
            let weight = |channel: u32| weights.get(channel as usize).copied().unwrap_or(0.0);
            let total: f64 = touches.iter().map(|&(c, _)| weight(c)).sum();
            let net = net as f64;
            for &(channel, key) in touches {
                let share = if total > 0.0 {
                    weight(channel) / total
                } else {
                    1.0 / touches.len() as f64
                };
                revenue[key as usize] += net * share;
            }
        }
        revenue
    }

    /// Each key's revenue interval (minor units, rounded to the nearest) over the resamples'
    /// weights, at `level`; index = key. Runs on up to `threads` threads.
    pub fn revenue_intervals(
        &self,
        resampled: &[Vec<f64>],
        level: f64,
        threads: usize,
    ) -> Vec<(i64, i64)> {
        let per_resample = parallel_map(resampled.len(), threads, |b| {
            self.revenue_by_key(&resampled[b])
        });
        (0..self.keys)
            .map(|key| {
                let mut values: Vec<f64> = per_resample.iter().map(|r| r[key]).collect();
                let (low, high) = percentile_interval(&mut values, level);
                (low.round() as i64, high.round() as i64)
            })
            .collect()
    }
}

/// `f(0..count)` on up to `threads` scoped threads, results by index.
fn parallel_map<T: Send>(count: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, count.max(1));
    if threads == 1 {
        return (0..count).map(f).collect();
    }
    let f = &f;
    let mut parts: Vec<Vec<(usize, T)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                scope.spawn(move || {
                    (worker..count)
                        .step_by(threads)
                        .map(|i| (i, f(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| match w.join() {
                Ok(part) => part,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    let mut all: Vec<(usize, T)> = parts.drain(..).flatten().collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// xoshiro256** seeded through SplitMix64: small, fast, and the same stream on every machine.
#[derive(Clone, Debug)]
pub struct Rng([u64; 4]);

impl Rng {
    /// A generator from one seed.
    pub fn new(seed: u64) -> Rng {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    /// The generator of resample `index` under `seed`.
    pub fn for_resample(seed: u64, index: u64) -> Rng {
        Rng::new(seed ^ index.wrapping_mul(0xD134_2543_DE82_EF95).rotate_left(17))
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in (0, 1): 53 random bits, never 0.
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0), by the multiply-shift method (bias below n / 2^64).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A draw from Poisson(mean) by inversion with the outcomes visited from the mode outwards,
    /// so a draw costs O(√mean) steps.
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        let mode = mean.floor() as u64;
        let at_mode = (mode as f64 * mean.ln() - mean - ln_factorial(mode)).exp();
        let u = self.unit();
        let mut cumulative = at_mode;
        if u <= cumulative {
            return mode;
        }
        let (mut low, mut high) = (mode, mode);
        let (mut p_low, mut p_high) = (at_mode, at_mode);
        loop {
            let mut moved = false;
            if p_high > 0.0 {
                p_high *= mean / (high + 1) as f64;
                high += 1;
                cumulative += p_high;
                moved = true;
                if u <= cumulative {
                    return high;
                }
            }
            if low > 0 && p_low > 0.0 {
                p_low *= low as f64 / mean;
                low -= 1;
                cumulative += p_low;
                moved = true;
                if u <= cumulative {
                    return low;
                }
            }
            if !moved {
                return mode;
            }
        }
    }
}

/// ln(k!) exactly summed below 64, by Stirling's series above (error below 1e-14).
fn ln_factorial(k: u64) -> f64 {
    if k < 64 {
        return (2..=k).map(|i| (i as f64).ln()).sum();
    }
    let x = k as f64 + 1.0;
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x * x * x)
        + 1.0 / (1260.0 * x.powi(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(channels: &[u32], conversions: u64, non_conversions: u64) -> TrainingPath<'_> {
        TrainingPath {
            channels,
            conversions,
            non_conversions,
        }
    }

    #[test]
    fn percentile_interval_interpolates_between_order_statistics() {
        // Five values sorted 1..5: rank (n−1)·0.05 = 0.2 → 1 + 0.2·1; rank 3.8 → 4 + 0.8·1.
        let mut values = [5.0, 1.0, 3.0, 2.0, 4.0];
        let (low, high) = percentile_interval(&mut values, 0.9);
        assert!((low - 1.2).abs() < 1e-12, "{low}");
        assert!((high - 4.8).abs() < 1e-12, "{high}");
        let mut one = [7.0];
        assert_eq!(percentile_interval(&mut one, 0.9), (7.0, 7.0));
    }

    #[test]
    fn the_table_reduces_paths_as_each_model_reads_them() {
        let (a, b) = (0u32, 1u32);
        let aab = [a, a, b];
        let ab = [a, b];
        let ba = [b, a];
        let paths = [path(&aab, 2, 1), path(&ab, 1, 0), path(&ba, 0, 4)];
        let markov = PathTable::new(Model::Markov, &paths).unwrap();
        assert_eq!(markov.len(), 2); // A→B (3 conv, 1 not) and B→A
        assert_eq!(markov.conversions, vec![3, 0]);
        assert_eq!(markov.non_conversions, vec![1, 4]);
        let shapley = PathTable::new(Model::Shapley, &paths).unwrap();
        assert_eq!(shapley.len(), 1); // {A, B}
        assert_eq!((shapley.conversions[0], shapley.non_conversions[0]), (3, 5));
        assert_eq!(shapley.journeys(), 8);
        // Learning from the reduced table gives the model's own weights.
        for (model, table) in [(Model::Markov, &markov), (Model::Shapley, &shapley)] {
            assert_eq!(
                learn_weights(model, &table.training_paths()).unwrap(),
                learn_weights(model, &paths).unwrap()
            );
        }
    }

    #[test]
    fn a_resample_draws_as_many_journeys_and_the_seed_decides_it() {
        let channels: Vec<Vec<u32>> = (0..50u32).map(|i| vec![i % 7, i % 5 + 7]).collect();
        let paths: Vec<TrainingPath<'_>> = channels
            .iter()
            .enumerate()
            .map(|(i, c)| path(c, i as u64 % 4, 1000 * (i as u64 % 3)))
            .collect();
        let table = PathTable::new(Model::Markov, &paths).unwrap();
        let total = table.journeys();
        for b in 0..20 {
            let draw = table.resample(&mut Rng::for_resample(3, b));
            let drawn: u64 = draw.iter().map(|p| p.conversions + p.non_conversions).sum();
            assert_eq!(drawn, total);
            assert_eq!(draw, table.resample(&mut Rng::for_resample(3, b)));
        }
        assert_ne!(
            table.resample(&mut Rng::for_resample(3, 0)),
            table.resample(&mut Rng::for_resample(4, 0))
        );
    }

    #[test]
    fn poisson_draws_have_the_poisson_mean_and_variance() {
        for &mean in &[0.5f64, 3.0, 40.0, 5000.0] {
            let mut rng = Rng::new(5);
            let draws: Vec<f64> = (0..4000).map(|_| rng.poisson(mean) as f64).collect();
            let m = draws.iter().sum::<f64>() / 4000.0;
            let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / 3999.0;
            assert!(
                (m - mean).abs() < 6.0 * (mean / 4000.0).sqrt(),
                "mean {mean}: {m}"
            );
            assert!((v / mean - 1.0).abs() < 0.15, "mean {mean}: variance {v}");
        }
    }

    #[test]
    fn resampled_cells_have_multinomial_means_and_variances() {
        // Cells of 1, 5, 40 and 954 journeys (N = 1000): each drawn count has mean N·p and
        // variance N·p·(1 − p), over 3000 seeded resamples (bounds of 6 standard errors, 15%).
        let (a, b, c) = ([0u32], [1u32], [0u32, 1]);
        let paths = [path(&a, 1, 5), path(&b, 40, 0), path(&c, 0, 954)];
        let table = PathTable::new(Model::Markov, &paths).unwrap();
        let cells: [(usize, usize, f64); 4] =
            [(0, 0, 1.0), (0, 1, 5.0), (1, 0, 40.0), (2, 1, 954.0)];
        let mut sums = [0.0f64; 4];
        let mut squares = [0.0f64; 4];
        let trials = 3000;
        let mut counts = Vec::new();
        for t in 0..trials {
            table.resample_counts(&mut Rng::for_resample(21, t), &mut counts);
            assert_eq!(counts.iter().map(|[x, y]| x + y).sum::<u64>(), 1000);
            for (i, &(row, kind, _)) in cells.iter().enumerate() {
                let x = counts[row][kind] as f64;
                sums[i] += x;
                squares[i] += x * x;
            }
        }
        for (i, &(_, _, count)) in cells.iter().enumerate() {
            let p = count / 1000.0;
            let (mean, var) = (1000.0 * p, 1000.0 * p * (1.0 - p));
            let m = sums[i] / trials as f64;
            let v = squares[i] / trials as f64 - m * m;
            assert!(
                (m - mean).abs() < 6.0 * (var / trials as f64).sqrt(),
                "cell {i}: mean {m} vs {mean}"
            );
            assert!(
                (v / var - 1.0).abs() < 0.15,
                "cell {i}: variance {v} vs {var}"
            );
        }
    }

    #[test]
    fn hand_computed_every_resample_gives_the_same_split() {
        // Every conversion passes both A and B: removing either loses all of them, so both
        // removal effects are 1 and the weights 1/2 in every resample that has a conversion
        // (with 60 of 100 journeys converting, all of them do). Shapley: only {A,B} converts,
        // so each gets half of its rate: again 1/2.
        let ab = [0u32, 1];
        let a = [0u32];
        let paths = [path(&ab, 60, 0), path(&a, 0, 40)];
        for model in [Model::Markov, Model::Shapley] {
            let table = PathTable::new(model, &paths).unwrap();
            let boot = bootstrap_weights(model, &table, &BootstrapSettings::default(), 2).unwrap();
            assert_eq!(boot.resampled.len(), 200);
            for interval in &boot.intervals {
                assert!((interval.low - 0.5).abs() < 1e-12, "{model}: {interval:?}");
                assert!((interval.high - 0.5).abs() < 1e-12, "{model}: {interval:?}");
            }
            // An order of 1000 on A (creator 0) then B (creator 1): 500 each, every resample.
            let mut groups = CreditGroups::new();
            groups.add(1000, &[(0, 0), (1, 1)]);
            assert_eq!(
                groups.revenue_intervals(&boot.resampled, 0.9, 2),
                vec![(500, 500), (500, 500)]
            );
        }
    }

    #[test]
    fn revenue_by_key_splits_as_the_run_does() {
        // Weights A = 0.75, B = 0.25. Order 1 (800): A by creator 0, B by creator 1 → 600 / 200.
        // Order 2 (100): A and A, both creator 1 → 100 to creator 1. Order 3 (40): channel C of
        // weight 0 twice, creators 0 and 1 → split equally, 20 / 20.
        let mut groups = CreditGroups::new();
        groups.add(800, &[(0, 0), (1, 1)]);
        groups.add(100, &[(0, 1), (0, 1)]);
        groups.add(40, &[(2, 0), (2, 1)]);
        groups.add(200, &[(1, 1), (0, 0)]); // same touches as order 1: one group
        assert_eq!(groups.len(), 3);
        let revenue = groups.revenue_by_key(&[0.75, 0.25]);
        assert!(
            (revenue[0] - (600.0 + 20.0 + 150.0)).abs() < 1e-9,
            "{revenue:?}"
        );
        assert!(
            (revenue[1] - (200.0 + 100.0 + 20.0 + 50.0)).abs() < 1e-9,
            "{revenue:?}"
        );
    }

    #[test]
    fn each_learner_learns_what_its_model_learns() {
        let channels: Vec<Vec<u32>> = (0..60u32)
            .map(|i| vec![i % 5, (i / 5) % 4 + 5, i % 3 + 2])
            .collect();
        let paths: Vec<TrainingPath<'_>> = channels
            .iter()
            .enumerate()
            .map(|(i, c)| path(c, i as u64 % 4, 1 + i as u64 % 6))
            .collect();
        // Each model's learner on a resample's counts learns what the model learns from the
        // resample's paths (up to the last bits of the floating-point sums).
        for model in [Model::Markov, Model::Shapley] {
            let table = PathTable::new(model, &paths).unwrap();
            let learner = Learner::new(model, &table).unwrap();
            for b in 0..5 {
                let mut counts = Vec::new();
                table.resample_counts(&mut Rng::for_resample(9, b), &mut counts);
                let fast = learner.weights(&table, &counts);
                let mut learned =
                    learn_weights(model, &table.resample(&mut Rng::for_resample(9, b)))
                        .unwrap()
                        .weight_by_channel();
                learned.resize(fast.len(), 0.0);
                assert_eq!(fast.len(), learned.len());
                for (a, b) in fast.iter().zip(&learned) {
                    assert!((a - b).abs() < 1e-12, "{model}: {fast:?} vs {learned:?}");
                }
            }
        }
    }

    #[test]
    fn the_result_does_not_depend_on_the_threads() {
        let channels: Vec<Vec<u32>> = (0..40u32).map(|i| vec![i % 4, (i / 4) % 3]).collect();
        let paths: Vec<TrainingPath<'_>> = channels
            .iter()
            .enumerate()
            .map(|(i, c)| path(c, 1 + i as u64 % 5, 3 + i as u64 % 7))
            .collect();
        let settings = BootstrapSettings {
            resamples: 50,
            ..BootstrapSettings::default()
        };
        for model in [Model::Markov, Model::Shapley] {
            let table = PathTable::new(model, &paths).unwrap();
            let one = bootstrap_weights(model, &table, &settings, 1).unwrap();
            let three = bootstrap_weights(model, &table, &settings, 3).unwrap();
            assert_eq!(one, three);
            assert!(one.intervals.iter().any(|i| i.high > i.low));
        }
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let bad = [
            BootstrapSettings {
                resamples: 5,
                ..BootstrapSettings::default()
            },
            BootstrapSettings {
                level: 1.0,
                ..BootstrapSettings::default()
            },
        ];
        for settings in bad {
            let message = settings.validate().unwrap_err().to_string();
            assert!(
                message.contains("resamples") || message.contains("level"),
                "{message}"
            );
        }
    }

    #[test]
    fn confidence_words_replace_a_figure_on_few_conversions_or_a_wide_interval() {
        assert_eq!(Confidence::of(0.4, 0.35, 0.45, 30), Confidence::Stated);
        assert_eq!(Confidence::of(0.4, 0.35, 0.45, 29), Confidence::TooFew);
        assert_eq!(Confidence::of(0.1, 0.0, 0.25, 500), Confidence::TooFew);
    }
}
