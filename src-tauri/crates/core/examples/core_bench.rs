//! Timing of the hot paths at the sizes the README quotes: journey resolution over 4M touches,
//! 60k orders and 1M people, and Markov/Shapley learning over 1M paths and 200 channels.
//!
//! Run with `cargo run --release -p lookback-core --example core_bench`. This is a measurement
//! program, not a test: nothing here asserts a time.

use std::time::Instant;

use lookback_core::attribution::{
    Model, ModelParams, TrainingPath, attribute, learn_markov, learn_shapley,
};
use lookback_core::identity::KeyType;
use lookback_core::journey::{
    ChannelPaths, JourneyConfig, OrderRecord, TouchRecord, resolve_journeys,
};
use lookback_core::time::DAY_MS;

/// A small deterministic generator (SplitMix64), so runs are comparable without a rand crate.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Skewed channel choice: a few channels carry most traffic, as in real data.
    fn channel(&mut self, channels: u64) -> u32 {
        let a = self.below(channels);
        let b = self.below(channels);
        a.min(b) as u32
    }
}

fn main() {
    let touches_n = 4_000_000;
    let orders_n = 60_000;
    let people = 1_000_000u64;
    let channels = 200u64;
    let span = 90 * DAY_MS;
    let mut rng = SplitMix(42);

    let started = Instant::now();
    let touches: Vec<TouchRecord> = (0..touches_n)
        .map(|i| {
            let person = rng.below(people);
            let mut keys = vec![(KeyType::AnonymousId, format!("anon-{person}"))];
            if person % 3 < 1 {
                keys.push((KeyType::DeviceId, format!("dev-{}", person / 3)));
            }
            TouchRecord {
                at_ms: rng.below(span as u64) as i64,
                channel: rng.channel(channels),
                click_id: (i % 4 == 0).then(|| format!("click-{i}")),
                keys,
            }
        })
        .collect();
    let orders: Vec<OrderRecord> = (0..orders_n)
        .map(|i| {
            let at_ms = rng.below(span as u64) as i64;
            let (click_id, keys) = match i % 3 {
                0 => (
                    Some(format!("click-{}", rng.below(touches_n as u64) / 4 * 4)),
                    vec![],
                ),
                1 => (
                    None,
                    vec![(KeyType::AnonymousId, format!("anon-{}", rng.below(people)))],
                ),
                _ => (
                    None,
                    vec![(KeyType::CustomerId, format!("cus-{}", rng.below(people)))],
                ),
            };
            OrderRecord {
                at_ms,
                click_id,
                keys,
                net_minor: rng.below(50_000) as i64,
            }
        })
        .collect();
    println!("generated inputs in {:?}", started.elapsed());

    for probabilistic in [false, true] {
        let started = Instant::now();
        let config = JourneyConfig::from_days(30, probabilistic);
        let journeys = resolve_journeys(&touches, &orders, &[], &config).unwrap();
        let attributed = journeys
            .outcomes
            .iter()
            .filter(|o| o.journey().is_some())
            .count();
        println!(
            "resolve_journeys (probabilistic {probabilistic}): {:?} — {} people, {attributed} attributed orders, {} non-converting paths",
            started.elapsed(),
            journeys.person_count,
            journeys.non_converting.len()
        );
        if probabilistic {
            continue;
        }
        let direct = vec![false; channels as usize];
        for model in Model::ALL {
            let started = Instant::now();
            let result = attribute(
                model,
                &ModelParams::default(),
                &touches,
                &orders,
                &journeys,
                &direct,
            )
            .unwrap();
            println!(
                "attribute {model}: {:?} ({} credits)",
                started.elapsed(),
                result.credits.len()
            );
        }
    }

    // One million training paths over 200 channels, lengths 1 to 8.
    let mut paths = ChannelPaths::new();
    let mut buffer = Vec::new();
    for _ in 0..1_000_000 {
        buffer.clear();
        let len = 1 + rng.below(8) as usize;
        buffer.extend((0..len).map(|_| rng.channel(channels)));
        paths.push(&buffer);
    }
    let training: Vec<TrainingPath<'_>> = paths
        .iter()
        .map(|channels| {
            let converts = rng.below(20) == 0;
            TrainingPath {
                channels,
                conversions: u64::from(converts),
                non_conversions: u64::from(!converts),
            }
        })
        .collect();
    let started = Instant::now();
    let markov = learn_markov(&training).unwrap();
    println!(
        "learn_markov, 1M paths x 200 channels: {:?} (P = {:.4})",
        started.elapsed(),
        markov.conversion_probability.unwrap()
    );
    let started = Instant::now();
    let shapley = learn_shapley(&training).unwrap();
    println!(
        "learn_shapley, 1M paths x 200 channels: {:?} ({} channels)",
        started.elapsed(),
        shapley.channels.len()
    );
}
