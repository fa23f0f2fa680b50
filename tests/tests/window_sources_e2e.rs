//! End-to-end test of the Sources screen in the real window: a generic-API source registered
//! through the CLI (secret on stdin, into the OS keyring) is synced by its "Sync now" button,
//! progress shows while it runs, every event of the loopback mock lands in the workspace, the
//! sync's data health (volume, error rate, retries, schema drift) is shown and logged, and the
//! dead-letter and health tables export the same CSV as the CLI.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it); the app
//! launched by tauri-driver inherits the session from this test's environment.

use std::sync::Arc;
use std::time::Duration;

use lookback_tests::mock::MockServer;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::mock::harness::{count, file_contains};
use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

const TOKEN: &str = "window-sync-token-7f3e21";

#[test]
fn the_sync_button_syncs_a_source_with_progress_and_lands_every_event() {
    let api = Arc::new(GenericApi::new(TOKEN, 450));
    api.page_delay(Duration::from_millis(150));
    // Schema drift planted: an event with two fields nobody knows, and one missing its
    // required occurred_at (a dead letter). One throttled request is retried.
    api.append(vec![
        serde_json::json!({"event_id": "drift-1", "event_type": "click", "occurred_at": "2026-01-02T00:00:00Z",
            "creator_id": "cr1", "anonymous_id": "anon-drift", "brand_new_field": "x", "another_new_field": 2}),
        serde_json::json!({"event_id": "drift-2", "event_type": "click", "creator_id": "cr1", "anonymous_id": "anon-drift"}),
    ]);
    api.throttle_next(1);
    let server = MockServer::start(api.clone());
    let home = TestHome::new();
    let db = home.path("sources.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Sync test"]);

    let out = home.lookback_with_stdin(
        &[
            "--db",
            db_arg,
            "source",
            "add",
            "generic",
            "--name",
            "team-backend",
            "--base-url",
            &server.base_url,
        ],
        TOKEN,
    );
    assert!(
        out.status.success(),
        "source add: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A Stripe source, never synced here: Stripe cannot be asked how long a key lives, so its
    // card says the platform's policy.
    let out = home.lookback_with_stdin(
        &["--db", db_arg, "source", "add", "stripe", "--name", "shop"],
        "rk_test_never_sent\n",
    );
    assert!(
        out.status.success(),
        "source add stripe: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let exports = home.path("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[("LOOKBACK_TEST_SAVE_DIR", exports.to_str().unwrap())],
    );
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    let stripe = session.wait_for("[data-testid=credential-shop]");
    assert_eq!(
        session.attr(&stripe, "data-expiry").as_deref(),
        Some("never")
    );
    assert!(session.text(&stripe).starts_with("never expires"));
    let policy = session.text(&session.wait_for("[data-testid=credential-policy-shop]"));
    assert!(
        policy.contains("Stripe secret and restricted keys do not expire"),
        "{policy}"
    );
    let card = session.wait_for("article[data-source=team-backend]");
    let source_id = session.attr(&card, "data-source").expect("source id");
    let state = session
        .find(&format!("[data-testid=state-{source_id}]"))
        .unwrap();
    assert_eq!(
        session.text(&state),
        "stale",
        "a source that never synced is not ok"
    );

    let button = session.wait_for(&format!("[data-testid=sync-{source_id}]"));
    session.click(&button);
    session.wait_until(
        "the sync to finish",
        &format!("const c = document.querySelector('[data-testid=state-{source_id}]'); return !!c && c.textContent === 'ok'"),
    );
    // Progress was streamed while pages committed (stream start, a page or more, the finish,
    // the result), and the sync reports how many records are new.
    let line = session.wait_for(&format!("[data-testid=sync-progress-{source_id}]"));
    let events: i64 = session.attr(&line, "data-events").unwrap().parse().unwrap();
    assert!(events >= 4, "progress events seen: {events}");
    assert_eq!(
        session.text(&line),
        format!("Done: {} new records", api.len())
    );

    assert_eq!(
        count(&db, "raw_events"),
        i64::try_from(api.len()).unwrap(),
        "every event landed exactly once"
    );
    assert!(
        !file_contains(&db, TOKEN),
        "the secret never reaches the workspace file"
    );

    // Data health after one sync: every record arrived in the last 24 h (no usual day yet for
    // a source added today), one sync and no failure, the retried request, the two unknown
    // fields and the record missing a field — on the card and in the sync-run log.
    session.wait_until(
        "the health figures of the synced source",
        &format!("const e = document.querySelector('[data-testid=error-rate-{source_id}]'); return !!e && e.dataset.rate === '0.00'"),
    );
    let volume = session
        .find(&format!("[data-testid=volume-{source_id}]"))
        .unwrap();
    assert_eq!(
        session.attr(&volume, "data-records").unwrap(),
        count(&db, "raw_events").to_string()
    );
    assert_eq!(session.attr(&volume, "data-usual").unwrap(), "");
    let drift = session
        .find(&format!("[data-testid=schema-drift-{source_id}]"))
        .unwrap();
    assert_eq!(session.attr(&drift, "data-unknown-fields").unwrap(), "2");
    assert_eq!(
        session.attr(&drift, "data-schema-dead-letters").unwrap(),
        "1"
    );
    let retries = session
        .find(&format!("[data-testid=retries-{source_id}]"))
        .unwrap();
    assert!(
        session.text(&retries).starts_with("1 "),
        "retries: {}",
        session.text(&retries)
    );
    let conn = lookback_tests::open_sqlite(&db);
    let logged: (String, i64, i64, i64) = conn
        .query_row(
            "SELECT outcome, retries, unknown_fields, dead_letters FROM sync_runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        logged,
        ("complete".into(), 1, 2, 1),
        "the sync run is logged"
    );
    drop(conn);

    // The dead-letter table exports the same CSV as `lookback export dead-letters`.
    let link = session.wait_for(&format!("[data-testid=dead-letters-{source_id}]"));
    session.click(&link);
    session.wait_for("[data-testid=dead-letters-table] tbody tr");
    let export = session.wait_for("[data-testid=dead-letters-table-export]");
    session.click(&export);
    session.wait_for("[data-testid=export-done]");
    let exported = std::fs::read_to_string(exports.join("dead-letters.csv"))
        .expect("the window wrote dead-letters.csv");
    let cli = home.path("cli-dead-letters.csv");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "export",
        "dead-letters",
        "--source",
        "team-backend",
        "--out",
        cli.to_str().unwrap(),
    ]);
    assert_eq!(exported, std::fs::read_to_string(&cli).unwrap());
    assert_eq!(
        exported.lines().count(),
        2,
        "a header and the one dead letter"
    );
    assert!(exported.contains("required field occurred_at is missing"));

    // So does the health table, but for the lag, which moves with the clock.
    let export = session.wait_for("[data-testid=health-export]");
    session.click(&export);
    session.wait_until(
        "the health export",
        "return [...document.querySelectorAll('[data-testid=export-done]')].some(e => e.textContent.includes('health.csv'))",
    );
    let cli = home.path("cli-health.csv");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "export",
        "health",
        "--out",
        cli.to_str().unwrap(),
    ]);
    let without_lag = |text: &str| -> Vec<Vec<String>> {
        let rows: Vec<Vec<String>> = text
            .lines()
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect();
        let lag = rows[0].iter().position(|c| c == "lag_minutes").unwrap();
        rows.into_iter()
            .map(|mut r| {
                r.remove(lag);
                r
            })
            .collect()
    };
    let window_health = without_lag(&std::fs::read_to_string(exports.join("health.csv")).unwrap());
    assert_eq!(
        window_health,
        without_lag(&std::fs::read_to_string(&cli).unwrap())
    );
    // The header, the synced source and the Stripe one.
    assert_eq!(window_health.len(), 3);
}
