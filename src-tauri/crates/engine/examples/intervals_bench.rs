//! Timing of bootstrap intervals on an existing workspace (the README's 1M-journey bench):
//! the model's run (reused when current), then the bootstrap of its weights (200 resamples,
//! 90%), then the revenue intervals by creator and by channel, for Markov and Shapley.
//!
//! Run with `cargo run --release -p lookback-engine --example intervals_bench FILE.lookback`
//! (a copy: an older file is upgraded in place on open). A measurement program, not a test.

use std::time::Instant;

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::bootstrap::BootstrapSettings;
use lookback_engine::{IntervalKey, revenue_intervals, run_bootstrap, run_model};
use lookback_store::{RunOrderFilter, Store};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: intervals_bench FILE.lookback");
    let started = Instant::now();
    let mut store = Store::open(&path).expect("open the workspace");
    println!(
        "open (and upgrade)                {:>8.2} s",
        started.elapsed().as_secs_f64()
    );
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let params = ModelParams::default();
    let settings = BootstrapSettings::default();
    for model in [Model::Markov, Model::Shapley] {
        let t = Instant::now();
        let run = run_model(&mut store, model, &params, now_ms).expect("run");
        println!(
            "{model:<8} run {} ({})          {:>8.2} s",
            run.run_id,
            if run.reused { "reused" } else { "new" },
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let boot = run_bootstrap(&mut store, model, &params, &settings, now_ms).expect("bootstrap");
        let weights_s = t.elapsed().as_secs_f64();
        let journeys = boot.journeys.outcomes.len() as u64
            + boot.journeys.non_converting_counts.iter().sum::<u64>();
        println!(
            "{model:<8} weight intervals: {} channels, {} resamples, {} orders + non-converting = {} journeys  {:>8.2} s",
            boot.boot.intervals.len(),
            boot.boot.resampled.len(),
            boot.journeys.outcomes.len(),
            journeys,
            weights_s
        );
        let mut views_s = 0.0;
        for (name, key) in [
            ("creator", IntervalKey::Creator),
            ("channel", IntervalKey::Channel),
        ] {
            let t = Instant::now();
            let rows = revenue_intervals(&boot, key, &RunOrderFilter::default());
            println!(
                "{model:<8} revenue intervals by {name}: {} keys  {:>8.2} s",
                rows.len(),
                t.elapsed().as_secs_f64()
            );
            views_s += t.elapsed().as_secs_f64();
        }
        println!(
            "{model:<8} intervals in all (bootstrap + both revenue views)  {:>8.2} s",
            views_s + weights_s
        );
    }
}
