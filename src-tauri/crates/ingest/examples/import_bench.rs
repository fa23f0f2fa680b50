//! Import throughput: writes a 100k-row touches CSV and a 100k-row orders CSV to a temporary
//! directory, imports both into a fresh workspace and prints rows per second.
//!
//! Run: `cargo run --release -p lookback-ingest --example import_bench [ROWS]`

use std::fmt::Write as _;
use std::time::Instant;

use lookback_ingest::{ImportKind, import_csv};
use lookback_store::Store;

const NOW: i64 = 1_750_000_000_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;

    let mut touches = String::from(
        "touch_id,occurred_at,channel,anonymous_id,email,creator_id,campaign_id,click_id\n",
    );
    let mut orders =
        String::from("order_id,occurred_at,amount,currency,customer_id,email,click_id\n");
    for i in 0..rows {
        let day = 1 + i % 28;
        let (hour, minute) = (i % 24, i % 60);
        let email = if i % 4 == 0 {
            format!("buyer{}@example.com", i % 20_000)
        } else {
            String::new()
        };
        writeln!(
            touches,
            "t{i},2025-03-{day:02}T{hour:02}:{minute:02}:00Z,{},anon-{},{email},cr_{},cmp_{},clk_{i}",
            ["creator_link", "paid_social", "search", "direct"][i % 4],
            i % 30_000,
            i % 200,
            i % 40
        )?;
        writeln!(
            orders,
            "o{i},2025-03-{day:02}T{hour:02}:{minute:02}:30+01:00,{}.{:02},{},cus_{},{email},clk_{}",
            10 + i % 190,
            i % 100,
            ["USD", "EUR", "GBP"][i % 3],
            i % 25_000,
            i * 7 % rows
        )?;
    }
    let touches_path = dir.path().join("touches.csv");
    let orders_path = dir.path().join("orders.csv");
    std::fs::write(&touches_path, touches)?;
    std::fs::write(&orders_path, orders)?;

    let mut store = Store::create(dir.path().join("bench.lookback"))?;
    let mut total_rows = 0;
    let all = Instant::now();
    for (kind, path) in [
        (ImportKind::Touches, &touches_path),
        (ImportKind::Orders, &orders_path),
    ] {
        let started = Instant::now();
        let summary = import_csv(&mut store, kind, path, NOW)?;
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(summary.imported as usize, rows, "{summary}");
        total_rows += summary.rows();
        println!(
            "{summary} in {seconds:.2} s = {:.0} rows/s",
            summary.rows() as f64 / seconds
        );
    }
    let seconds = all.elapsed().as_secs_f64();
    println!(
        "total: {total_rows} rows in {seconds:.2} s = {:.0} rows/s",
        total_rows as f64 / seconds
    );
    Ok(())
}
