//! Times the streamed credits export: builds a workspace with N orders of two touches each
//! (2·N credits, one run), then writes `credits.csv` for the whole run and reports rows/s.
//!
//! `cargo run --release -p lookback-report --example export_bench -- [ORDERS]` (default 500000,
//! i.e. one million credit rows). The figure goes in README; benchmarks are never assertions.

use std::time::Instant;

use lookback_core::time::format_instant_ms;
use lookback_report::{EventRange, ExportOptions, export_credits_csv};
use lookback_store::{
    Credit, IdentityKeys, JoinKind, NewRun, Order, RunOrder, RunOrderOutcome, RunStatus, Store,
    StoreError, Touch,
};

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let orders: i64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(500_000);
    let dir = tempfile::tempdir()?;
    let mut store = Store::create(dir.path().join("bench.lookback"))?;

    let built = Instant::now();
    let channels = ["instagram", "tiktok", "search", "email", "direct"];
    store.write(|tx| -> Result<(), StoreError> {
        for i in 0..orders {
            let at = START + (i * 90 * DAY) / orders.max(1);
            let person = format!("p{}", i % (orders / 3).max(1));
            let identity = IdentityKeys {
                anonymous_id: Some(person),
                ..IdentityKeys::default()
            };
            for t in 0..2 {
                tx.insert_touch(&Touch {
                    touch_id: format!("t{i}-{t}"),
                    source: "bench".into(),
                    occurred_at_ms: at - (2 - t) * 3_600_000,
                    channel: channels[((i + t) % 5) as usize].into(),
                    touch_type: "click".into(),
                    creator_id: Some(format!("creator{}", i % 40)),
                    campaign_id: Some(format!("campaign{}", i % 25)),
                    ad_id: None,
                    content_id: Some(format!("post{}", i % 300)),
                    click_id: None,
                    identity: identity.clone(),
                    raw_event_id: None,
                })?;
            }
            tx.insert_order(&Order {
                order_id: format!("o{i}"),
                source: "bench".into(),
                occurred_at_ms: at,
                gross_minor: 1_000 + (i % 9_000),
                currency: "USD".into(),
                status: "paid".into(),
                click_id: None,
                identity,
                raw_event_id: None,
            })?;
        }
        Ok(())
    })?;
    let run_id = store.insert_run(&NewRun {
        model: "linear".into(),
        parameters: "{}".into(),
        lookback_days: 30,
        settlement_days: 14,
        reporting_currency: "USD".into(),
        input_watermark: store.input_watermark()?,
        started_at_ms: START + 100 * DAY,
    })?;
    store.insert_run_orders(
        run_id,
        (0..orders).map(|i| RunOrder {
            order_id: format!("o{i}"),
            outcome: RunOrderOutcome::Attributed,
            net_minor: 1_000 + (i % 9_000),
            provisional: false,
            join_kind: Some(JoinKind::IdentityGraph),
        }),
    )?;
    store.insert_credits(
        run_id,
        (0..orders).flat_map(|i| {
            let net = 1_000 + (i % 9_000);
            let first = net / 2;
            [(0, first), (1, net - first)].map(move |(t, revenue)| Credit {
                order_id: format!("o{i}"),
                touch_id: format!("t{i}-{t}"),
                share_ppb: 500_000_000,
                revenue_minor: revenue,
                join_kind: JoinKind::IdentityGraph,
                confidence_ppm: 1_000_000,
            })
        }),
    )?;
    store.finish_run(run_id, RunStatus::Complete, START + 100 * DAY, None)?;
    println!(
        "built {} orders, {} touches, {} credits in {:.1?}",
        orders,
        orders * 2,
        orders * 2,
        built.elapsed()
    );

    let out = dir.path().join("credits.csv");
    let started = Instant::now();
    let summary = export_credits_csv(
        &store,
        run_id,
        &EventRange::default(),
        &out,
        &ExportOptions::default(),
        START + 100 * DAY,
    )?;
    let elapsed = started.elapsed();
    let bytes = std::fs::metadata(&out)?.len();
    println!(
        "exported {} credit rows ({:.1} MiB) in {:.2?}: {:.0} rows/s · run at {}",
        summary.rows,
        bytes as f64 / (1024.0 * 1024.0),
        elapsed,
        summary.rows as f64 / elapsed.as_secs_f64(),
        format_instant_ms(START + 100 * DAY)?,
    );
    Ok(())
}
