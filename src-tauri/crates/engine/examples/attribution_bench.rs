//! Timing of attribution end to end from the store at the README's sizes: 1M people (journeys),
//! about 4M touches, 60k orders and 200 channels, written through the store's write API into a
//! temporary workspace, then every model run from the store, and a switch between cached runs.
//!
//! Run with `cargo run --release -p lookback-engine --example attribution_bench [people]`.
//! A measurement program, not a test: nothing here asserts a time.

use std::time::Instant;

use lookback_core::attribution::{Model, ModelParams};
use lookback_engine::{compute_run, load_inputs, load_journeys, resolve, run_model};
use lookback_report::{CreditKey, credits_by};
use lookback_store::{AdjustmentKind, FxRate, IdentityKeys, Order, OrderAdjustment, Store, Touch};

const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DAYS: i64 = 90;
const CHANNELS: u64 = 200;

/// SplitMix64, so runs are comparable without a rand crate.
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
}

fn peak_rss_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{} MB", kb / 1024))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// CPU time (user + system) this process has used, from /proc: on a shared box the wall clock
/// measures the neighbours as much as the code.
fn cpu_ms() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<u64> = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|f| f.parse().ok())
                .collect();
            Some(fields.iter().sum::<u64>() * 10) // clock ticks of 10 ms
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let people: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let orders_target = people * 6 / 100;
    let dir = tempfile::tempdir()?;
    // LOOKBACK_BENCH_DB=path keeps the workspace there; a second run with the same path skips the
    // write and times the runs from a clean slate (its old runs deleted).
    let kept = std::env::var_os("LOOKBACK_BENCH_DB").map(std::path::PathBuf::from);
    let path = kept
        .clone()
        .unwrap_or_else(|| dir.path().join("bench.lookback"));
    let now_ms = START_MS + (DAYS + 30) * DAY_MS;
    if kept.is_some() && path.exists() {
        let mut store = Store::open(&path)?;
        for run_id in 1..=1000 {
            if store.run(run_id)?.is_some() {
                store.delete_run(run_id)?;
            }
        }
        println!("reusing {}", path.display());
        return time_runs(&mut store, now_ms);
    }
    let mut store = Store::create(&path)?;

    let clock = Instant::now();
    let mut rng = SplitMix(7);
    let (mut touches, mut orders) = (0u64, 0u64);
    let mut tx = store.begin()?;
    for day in 0..=DAYS {
        let day_name =
            lookback_core::time::format_instant_ms(START_MS + day * DAY_MS)?[..10].to_owned();
        tx.upsert_fx_rate(&FxRate {
            day: day_name,
            from_currency: "EUR".into(),
            to_currency: "USD".into(),
            rate: format!("1.{:04}", 800 + rng.below(100)),
            source: "bench".into(),
        })?;
    }
    for person in 0..people {
        let n = 1 + rng.below(7); // 1..=7, mean 4
        let mut at = START_MS + (rng.below((DAYS as u64 - 10) * DAY_MS as u64)) as i64;
        let anonymous = format!("a{person}");
        for k in 0..n {
            // Skewed channels: a few carry most traffic, as in real data.
            let channel = rng.below(CHANNELS).min(rng.below(CHANNELS));
            let channel_name = if channel == 0 {
                "direct".to_owned()
            } else {
                format!("ch{channel:03}")
            };
            tx.insert_touch(&Touch {
                touch_id: format!("t{person}-{k}"),
                source: "bench".into(),
                occurred_at_ms: at,
                channel: channel_name,
                touch_type: "click".into(),
                creator_id: (rng.below(3) == 0).then(|| format!("cr{}", rng.below(500))),
                campaign_id: (rng.below(2) == 0).then(|| format!("cp{}", rng.below(300))),
                ad_id: None,
                content_id: None,
                click_id: None,
                identity: IdentityKeys {
                    anonymous_id: Some(anonymous.clone()),
                    ..IdentityKeys::default()
                },
                raw_event_id: None,
            })?;
            touches += 1;
            at += (rng.below(2 * DAY_MS as u64)) as i64;
        }
        if rng.below(people) < orders_target {
            let order_id = format!("o{person}");
            let eur = rng.below(10) == 0;
            tx.insert_order(&Order {
                order_id: order_id.clone(),
                source: "bench".into(),
                occurred_at_ms: at,
                gross_minor: 1_000 + rng.below(20_000) as i64,
                currency: if eur { "EUR" } else { "USD" }.into(),
                status: "paid".into(),
                click_id: None,
                identity: IdentityKeys {
                    anonymous_id: Some(anonymous.clone()),
                    ..IdentityKeys::default()
                },
                raw_event_id: None,
            })?;
            if rng.below(20) == 0 {
                tx.insert_adjustment(&OrderAdjustment {
                    adjustment_id: format!("r{person}"),
                    order_id,
                    source: "bench".into(),
                    kind: AdjustmentKind::Refund,
                    occurred_at_ms: at + DAY_MS,
                    amount_minor: 500,
                    currency: if eur { "EUR" } else { "USD" }.into(),
                    status: "succeeded".into(),
                    raw_event_id: None,
                })?;
            }
            orders += 1;
        }
    }
    tx.commit()?;
    println!(
        "write: {people} people, {touches} touches, {orders} orders, {CHANNELS} channels in {:.2?}",
        clock.elapsed()
    );
    time_runs(&mut store, now_ms)
}

fn time_runs(store: &mut Store, now_ms: i64) -> Result<(), Box<dyn std::error::Error>> {
    let params = ModelParams::default();
    store.clear_journey_cache()?;
    let clock = Instant::now();
    let inputs = load_inputs(store, params.lookback_days, params.touches, now_ms)?;
    let loaded = clock.elapsed();
    let journeys = resolve(&inputs)?;
    println!(
        "cold load: {loaded:.2?}; journeys: {:.2?} ({} non-converting paths); RSS now {}",
        clock.elapsed() - loaded,
        journeys.non_converting.len(),
        peak_rss_mb()
    );
    drop(journeys);
    drop(inputs);

    // The first load_journeys resolves and writes the cache; the second reads it.
    let watermark = store.input_watermark()?;
    let clock = Instant::now();
    let (cached, facts, hit) = load_journeys(
        store,
        &watermark,
        params.lookback_days,
        params.touches,
        now_ms,
        true,
    )?;
    println!(
        "journeys resolved and cached: {:.2?} (from cache: {hit}; {} journey touches, {} distinct non-converting paths)",
        clock.elapsed(),
        cached.touches.len(),
        cached.non_converting.len()
    );
    drop((cached, facts));
    let clock = Instant::now();
    let (cached, facts, hit) = load_journeys(
        store,
        &watermark,
        params.lookback_days,
        params.touches,
        now_ms,
        true,
    )?;
    println!(
        "journeys from cache: {:.2?} (from cache: {hit})",
        clock.elapsed()
    );
    for model in [Model::Markov, Model::Shapley, Model::Linear] {
        let clock = Instant::now();
        let computed = compute_run(model, &params, &facts, &cached)?;
        println!(
            "  compute only {model}: {:.2?} ({} credits)",
            clock.elapsed(),
            computed.credits.len()
        );
    }
    drop((cached, facts));

    for model in Model::ALL {
        let clock = Instant::now();
        let cpu = cpu_ms();
        let summary = run_model(store, model, &params, now_ms)?;
        println!(
            "run {model:>15}: {:>8.2?} end to end, cpu {} ms (run {}, {} attributed, {} unattributed, {} missing fx)",
            clock.elapsed(),
            cpu_ms() - cpu,
            summary.run_id,
            summary.attributed_orders,
            summary.unattributed_orders,
            summary.missing_fx_orders()
        );
    }

    for (model, other) in [
        (Model::Linear, Model::Markov),
        (Model::Markov, Model::Linear),
    ] {
        let clock = Instant::now();
        let cpu = cpu_ms();
        let summary = run_model(store, model, &params, now_ms)?;
        let found = clock.elapsed();
        let report = credits_by(store, summary.run_id, CreditKey::Channel, None, false)?;
        println!(
            "switch {other} → {model}: {:.2?}, cpu {} ms (reused {}, find {found:.2?}, report of {} channel rows)",
            clock.elapsed(),
            cpu_ms() - cpu,
            summary.reused,
            report.rows.len()
        );
    }
    for (model, key) in [
        (Model::Linear, CreditKey::Creator),
        (Model::Markov, CreditKey::Creator),
        (Model::Linear, CreditKey::Order),
    ] {
        let clock = Instant::now();
        let cpu = cpu_ms();
        let summary = run_model(store, model, &params, now_ms)?;
        let report = credits_by(store, summary.run_id, key, None, false)?;
        println!(
            "switch → {model} by {}: {:.2?}, cpu {} ms ({} rows)",
            key.as_str(),
            clock.elapsed(),
            cpu_ms() - cpu,
            report.rows.len()
        );
    }
    println!("peak RSS (VmHWM): {}", peak_rss_mb());
    Ok(())
}
