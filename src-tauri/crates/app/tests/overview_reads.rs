//! Showing a workspace costs the same however much data it holds (issue 12): once the file is
//! open, everything the window does before the overview is on screen — the workspace's info
//! for the start-up state, then the overview with each source's state — and everything
//! `lookback overview` does, reads the big tables (touches, orders, raw events, …) only through
//! index ranges. Each statement those jobs run is recorded and planned with EXPLAIN QUERY PLAN.

use lookback_app::workspace::{DemoOptions, create_demo, info, overview};
use lookback_store::{Source, Store};

#[test]
fn the_start_up_jobs_and_the_overview_read_no_big_table_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.lookback");
    create_demo(
        &path,
        &DemoOptions {
            seed: 7,
            orders: 200,
            end_at_ms: 1_782_000_000_000,
        },
    )
    .unwrap();
    let mut store = Store::open(&path).unwrap();
    // A connected source too, so its health state is judged.
    store
        .write(|tx| {
            tx.upsert_source(&Source {
                source_id: "meta".into(),
                kind: "meta_ads".into(),
                name: "Meta".into(),
                base_url: None,
                account: None,
                credential_ref: None,
                created_at_ms: 0,
                last_attempt_at_ms: Some(1_781_000_000_000),
                last_success_at_ms: Some(1_781_000_000_000),
                last_error: None,
            })
        })
        .unwrap();

    let (shown, statements) = store.record_statements(|store| {
        let info = info(store, &path, None)?;
        let overview = overview(store, &path, None, 1_782_000_000_000)?;
        anyhow::Ok((info, overview))
    });
    let (_, shown) = shown.unwrap();
    assert!(shown.orders > 0 && shown.touches > 0 && shown.sources.len() >= 2);

    let statements: Vec<&String> = statements.iter().filter(|s| !s.starts_with("--")).collect();
    assert!(statements.len() >= 8, "recorded {statements:?}");
    for sql in statements {
        let scans = store.whole_table_scans(sql).unwrap();
        assert!(
            scans.is_empty(),
            "{sql}\nreads a big table whole: {scans:?}"
        );
    }
}
