//! Benchmark: switching the ROAS screen between two cached models on a large workspace.
//!
//! What the window does on a switch is: find the cached run for the model (engine `run_model`,
//! which reuses a complete run on unchanged data) and build the ROAS view for it, by each key
//! (creator, campaign, channel, content, platform). This times exactly that, alternating between
//! two models, after both runs exist.
//!
//! Run: `LOOKBACK_BENCH_DB=/tmp/bench.lookback cargo run --release -p lookback-report --example view_switch_bench`
//! on a workspace written by `lookback-engine`'s `attribution_bench` with the same variable.

use std::time::Instant;

use lookback_core::attribution::{Model, ModelParams};
use lookback_report::{ViewKey, ViewQuery, roas_view};
use lookback_store::Store;

fn main() {
    let path = std::env::var_os("LOOKBACK_BENCH_DB")
        .expect("set LOOKBACK_BENCH_DB to a workspace written by attribution_bench");
    let mut store = Store::open(&path).expect("open the bench workspace");
    let touches: i64 = store
        .row_count(lookback_store::Table::Touches)
        .expect("count") as i64;
    let orders: i64 = store
        .row_count(lookback_store::Table::Orders)
        .expect("count") as i64;
    let now_ms = 4_102_444_800_000; // 2100-01-01: every order settled, so runs do not change with the clock.
    let params = ModelParams::default();
    let models = [Model::LastTouch, Model::Linear];
    for model in models {
        let t = Instant::now();
        let run = lookback_engine::run_model(&mut store, model, &params, now_ms).expect("run");
        println!(
            "prepare {model}: run {} ({} ms, reused: {})",
            run.run_id,
            t.elapsed().as_millis(),
            run.reused
        );
    }
    for by in ViewKey::ALL {
        let mut samples = Vec::new();
        let cpu_before = thread_cpu_ns();
        for i in 0..20 {
            let model = models[i % 2];
            let t = Instant::now();
            let run =
                lookback_engine::run_model(&mut store, model, &params, now_ms).expect("cached run");
            let view = roas_view(&store, &ViewQuery::new(run.run_id, by)).expect("roas view");
            samples.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(run.reused, "the switch must hit a cached run");
            assert!(!view.rows.is_empty());
        }
        // CPU time beside wall time: on a loaded machine the wall time is mostly waiting for a core.
        let cpu_per_switch_ms = cpu_before
            .zip(thread_cpu_ns())
            .map(|(before, after)| (after - before) as f64 / 1e6 / samples.len() as f64);
        samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{touches} touches, {orders} orders: switch between cached runs + ROAS by {}: median {:.1} ms, max {:.1} ms over {} switches{}",
            by.as_str(),
            samples[samples.len() / 2],
            samples[samples.len() - 1],
            samples.len(),
            cpu_per_switch_ms.map_or(String::new(), |cpu| format!(", CPU {cpu:.1} ms per switch")),
        );
    }
}

/// This thread's CPU time in nanoseconds from Linux's schedstat (the first field), or `None`
/// where there is no such file.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
