//! End-to-end test of the Sources screen in the real window: a generic-API source registered
//! through the CLI (secret on stdin, into the OS keyring) is synced by its "Sync now" button,
//! progress shows while it runs, and every event of the loopback mock lands in the workspace.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it); the app
//! launched by tauri-driver inherits the session from this test's environment.

use std::io::Write;
use std::process::{Command, Stdio};
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
    let server = MockServer::start(api.clone());
    let home = TestHome::new();
    let db = home.path("sources.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Sync test"]);

    let mut add = Command::new(lookback_bin());
    add.args([
        "--db",
        db_arg,
        "source",
        "add",
        "generic",
        "--name",
        "team-backend",
        "--base-url",
        &server.base_url,
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    home.apply(&mut add);
    let mut child = add.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(TOKEN.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "source add: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    let card = session.wait_for("article[data-source]");
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
}
