//! Ingest benchmark: a loopback mock of the generic attribution API serves N events (default
//! 1,000,000) in pages of 1,000; one `lookback_sync::sync_source` run writes them into a fresh
//! workspace. Prints events/s and memory: VmRSS after 10 % and 100 % of the pages, and the
//! process's peak (VmHWM), which stays flat in N because a bounded number of pages (the
//! engine's `PAGES_IN_FLIGHT`, plus the batch being written) is in flight.
//!
//! Run: `cargo run --release -p lookback-tests --example ingest_bench [-- EVENTS]`
//! (the mock server runs in the same process and shares its CPU).

use std::sync::Arc;
use std::time::Instant;

use lookback_sync::{CancellationToken, SyncEvent};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, fast_options, run_sync_with, workspace_with_source,
};

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) from a `/proc/.../stat` line: fields 14 and 15, in clock ticks
/// of 1/100 s on Linux.
fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    // The command name (field 2) may contain spaces; count fields after its closing parenthesis.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("EVENTS is a number"))
        .unwrap_or(1_000_000);
    let api = Arc::new(GenericApi::new("bench-token", events));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.lookback");
    let (mut store, source) = workspace_with_source(&path, "generic", "bench", &server.base_url);
    let mut options = fast_options(TEST_NOW_MS);
    options.page_size = Some(1_000);
    let pages = events.div_ceil(1_000) as u64;
    let mut rss_at_tenth = 0;
    let started = Instant::now();
    let summary = run_sync_with(
        &mut store,
        &source,
        "bench-token",
        &options,
        &CancellationToken::new(),
        |event| {
            if let SyncEvent::PageCommitted { counters, .. } = event
                && counters.pages == pages / 10
            {
                rss_at_tenth = status_kib("VmRSS:");
            }
        },
    )
    .expect("sync");
    let elapsed = started.elapsed();
    let rss_at_end = status_kib("VmRSS:");
    let inserted = summary.streams[0].counters.inserted;
    assert_eq!(inserted as usize, events, "every event landed once");
    assert_eq!(count(&path, "raw_events") as usize, events);
    println!(
        "ingested {inserted} events in {:.2} s: {:.0} events/s ({} pages of 1,000)",
        elapsed.as_secs_f64(),
        inserted as f64 / elapsed.as_secs_f64(),
        summary.streams[0].counters.pages
    );
    // The writer runs on the main thread (inside `block_on`); the fetcher and the mock server on
    // tokio workers. On a shared machine wall time understates what an idle one does, so the
    // CPU cost per event is printed too.
    let writer_cpu = cpu_seconds("/proc/thread-self/stat");
    let total_cpu = cpu_seconds("/proc/self/stat");
    println!(
        "cpu: writer thread {:.2} s ({:.1} µs/event), whole process incl. mock server {:.2} s ({:.1} µs/event)",
        writer_cpu,
        writer_cpu * 1e6 / inserted as f64,
        total_cpu,
        total_cpu * 1e6 / inserted as f64
    );
    println!(
        "memory: VmRSS {} MiB after 10 % of the pages, {} MiB at the end; peak VmHWM {} MiB",
        rss_at_tenth / 1024,
        rss_at_end / 1024,
        status_kib("VmHWM:") / 1024
    );
}
