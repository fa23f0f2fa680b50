//! What the overview costs on a large workspace: opening it (including, for a workspace from
//! before migration 0016, the one-off backfill of its totals), the overview read from the
//! maintained totals, and the recount of the same figures from the rows (the scans the
//! overview used to run, plus the distinct-record count), each timed.
//!
//! Run: `cargo run --release -p lookback-store --example overview_bench -- COPY.lookback`. It
//! migrates the file it is given, so give it a copy.

use std::time::Instant;

use lookback_store::Store;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: overview_bench WORKSPACE.lookback")?;
    let started = Instant::now();
    let store = Store::open(&path)?;
    println!(
        "open (integrity check, pending migrations): {:.3} s",
        started.elapsed().as_secs_f64()
    );

    let mut times = Vec::new();
    let mut overview = None;
    for _ in 0..5 {
        let started = Instant::now();
        overview = Some(store.overview()?);
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let overview = overview.expect("ran five times");
    println!(
        "overview from the totals: median {:.2} ms (min {:.2}, max {:.2}); {} touches, {} orders",
        times[2] * 1e3,
        times[0] * 1e3,
        times[4] * 1e3,
        overview.touch_count,
        overview.order_count
    );

    let started = Instant::now();
    let recounted = store.recount_totals()?;
    println!(
        "recount from the rows: {:.3} s",
        started.elapsed().as_secs_f64()
    );
    let differences = store.totals()?.differences(&recounted);
    println!(
        "totals equal the recount: {}",
        if differences.is_empty() {
            "yes".to_string()
        } else {
            differences.join("; ")
        }
    );
    Ok(())
}
