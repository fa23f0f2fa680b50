//! Load benchmark of the webhook receiver (a program, not a test): sends signed generic
//! deliveries at a fixed rate over loopback for a fixed time, then reports the ack latency
//! (p50/p99/max, measured from each request's scheduled send time, so a stalled server cannot
//! hide queueing) and checks for loss by counting the stored deliveries.
//!
//! Run: `cargo run --release -p lookback-sync --example webhook_load -- [RATE] [SECONDS]`
//! (defaults 2000 and 30).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lookback_store::Store;
use lookback_sync::Secret;
use lookback_sync::webhooks::{ReceiverConfig, sign_hex, start_receiver};

const SECRET: &str = "load-test-secret";

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rate: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let seconds: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(30);
    let total = rate * seconds;

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("load.lookback");
    drop(Store::create(&path).expect("create workspace"));
    let mut secrets = HashMap::new();
    secrets.insert("backend".to_owned(), vec![Secret::new(SECRET)]);
    let mut config = ReceiverConfig::new(secrets);
    config.bind = "127.0.0.1:0".parse().unwrap();
    let receiver = start_receiver(&path, config).await.expect("start receiver");
    let url = format!("http://{}/webhooks/generic/backend", receiver.local_addr());

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap();
    let (results, mut collected) = tokio::sync::mpsc::unbounded_channel::<(Duration, u16)>();
    let start = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    for i in 0..total {
        let scheduled = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let client = client.clone();
        let url = url.clone();
        let results = results.clone();
        tokio::spawn(async move {
            let now_s = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
                .to_string();
            let body = format!(
                r#"{{"event_id":"load_{i}","event_type":"conversion","occurred_at":"2026-03-01T12:00:00Z","amount":"12.34","currency":"USD","click_id":"c{i}"}}"#
            );
            let signature = sign_hex(SECRET, &[now_s.as_bytes(), b".", body.as_bytes()]);
            let status = match client
                .post(&url)
                .header("X-Timestamp", now_s)
                .header("X-Signature", signature)
                .body(body)
                .send()
                .await
            {
                Ok(response) => response.status().as_u16(),
                Err(_) => 0,
            };
            let _ = results.send((scheduled.elapsed(), status));
        });
    }
    drop(results);
    let mut latencies = Vec::with_capacity(total as usize);
    let mut failures = 0u64;
    while let Some((latency, status)) = collected.recv().await {
        if status != 200 {
            failures += 1;
        }
        latencies.push(latency);
    }
    let sent_in = start.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(latencies.len() - 1)]
    };
    receiver.shutdown().await;
    let store = Store::open(&path).expect("reopen");
    let stored = store.webhook_delivery_count().expect("count");
    let pending = store.pending_webhook_deliveries(1).expect("pending").len();
    println!(
        "sent {total} signed deliveries at {rate}/s for {seconds} s (finished in {:.1} s)",
        sent_in.as_secs_f64()
    );
    println!(
        "ack latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; non-2xx or failed: {failures}",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "stored deliveries: {stored} of {total} (loss: {}); still to normalize after shutdown: {pending}",
        total as i64 - stored
    );
}
