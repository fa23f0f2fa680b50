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
    if std::env::args().nth(2).as_deref() == Some("--profile") {
        use lookback_core::attribution::{TrainingPath, learn_weights};
        use lookback_core::bootstrap::{PathTable, Rng};
        let watermark = store.input_watermark().unwrap();
        let t = Instant::now();
        let (journeys, _, _) =
            lookback_engine::load_journeys(&mut store, &watermark, 30, now_ms, true).unwrap();
        println!("load journeys {:.2} s", t.elapsed().as_secs_f64());
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
        println!("training paths {}", paths.len());
        for model in [Model::Markov, Model::Shapley] {
            let t = Instant::now();
            let table = PathTable::new(model, &paths).unwrap();
            println!(
                "{model} table {} rows, {} journeys {:.2} s",
                table.len(),
                table.journeys(),
                t.elapsed().as_secs_f64()
            );
            let t = Instant::now();
            let mut draws = Vec::new();
            for b in 0..10 {
                draws.push(table.resample(&mut Rng::for_resample(14, b)));
            }
            println!(
                "{model} 10 draws {:.3} s ({} rows drawn in the first)",
                t.elapsed().as_secs_f64(),
                draws[0].len()
            );
            let t = Instant::now();
            for d in &draws {
                let _ = learn_weights(model, d).unwrap();
            }
            println!("{model} 10 learns {:.3} s", t.elapsed().as_secs_f64());
        }
        return;
    }
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
