//! Connecting a source from the window (tauri-driver under Xvfb): on an empty workspace the
//! Sources screen offers the form; a bad address is refused with the reason and nothing is
//! stored; a generic-API source with its secret is connected, its first sync from the card
//! lands every event of the loopback mock, and the secret is in the OS keyring only — never in
//! the workspace file.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it); the app
//! launched by tauri-driver inherits it.

use std::sync::Arc;

use lookback_tests::mock::MockServer;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::mock::harness::{count, file_contains};
use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};

const TOKEN: &str = "window-added-token-5c9d04";

fn fill(session: &Session, testid: &str, text: &str) {
    let input = session.wait_for(&format!("[data-testid={testid}]"));
    session.type_text(&input, text);
}

#[test]
fn a_source_connected_in_the_window_syncs_and_keeps_its_secret_in_the_keyring() {
    let api = Arc::new(GenericApi::new(TOKEN, 120));
    let server = MockServer::start(api);
    let home = TestHome::new();
    let db = home.path("add-source.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Add source"]);

    let display = Display::start();
    // Show logs answers with the folder without opening a file manager under Xvfb.
    let _driver = TauriDriver::start_with_env(&display, &home, &[("LOOKBACK_TEST_NO_OPEN", "1")]);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    session.wait_for("[data-testid=add-source][open]");
    session.eval(
        "const s = document.querySelector('[data-testid=new-source-kind]'); s.value = 'generic'; s.dispatchEvent(new Event('change')); return true",
    );

    // Refused first: the generic API has no default address, so one is required.
    fill(&session, "new-source-name", "backend");
    fill(&session, "new-source-secret", TOKEN);
    let add = session.wait_for("[data-testid=new-source-add]");
    session.click(&add);
    session.wait_until(
        "the refusal",
        "const e = document.querySelector('[data-testid=add-source] [data-testid=error]'); return !!e && e.textContent.includes('base-url')",
    );
    assert_eq!(
        query_i64(&open_sqlite(&db), "SELECT COUNT(*) FROM sources"),
        0,
        "a refused source is not stored"
    );

    // Then with the address: the card appears, and its first sync lands every event.
    fill(&session, "new-source-base-url", &server.base_url);
    fill(&session, "new-source-secret", TOKEN);
    let add = session.wait_for("[data-testid=new-source-add]");
    session.click(&add);
    let sync = session.wait_for("[data-testid=sync-backend]");
    session.click(&sync);
    session.wait_until(
        "the sync to finish",
        "const p = document.querySelector('[data-testid=sync-progress-backend]'); return !!p && p.textContent.startsWith('Done')",
    );
    assert_eq!(
        count(&db, "raw_events"),
        120,
        "every event of the mock landed once"
    );
    let conn = open_sqlite(&db);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM sources WHERE source_id = 'backend' AND credential_ref IS NOT NULL"
        ),
        1
    );
    drop(conn);
    assert!(
        !file_contains(&db, TOKEN),
        "the secret is not in the workspace file"
    );

    // Show logs names the log folder, which holds what the window did and no secret.
    let show = session.wait_for("[data-testid=show-logs]");
    session.click(&show);
    session.wait_until(
        "the log folder",
        "const p = document.querySelector('[data-testid=logs-path]'); return !!p && p.textContent.includes('lookback/logs')",
    );
    let logs = home.data_home().join("lookback/logs");
    let text: String = std::fs::read_dir(&logs)
        .expect("the window wrote a log folder")
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
        .collect();
    assert!(
        text.contains("add_source") && text.contains("invalid_input"),
        "the refused connection is logged with its kind: {text}"
    );
    assert!(text.contains("backend"), "the sync is logged: {text}");
    assert!(!text.contains(TOKEN), "the secret never reaches the log");
}
