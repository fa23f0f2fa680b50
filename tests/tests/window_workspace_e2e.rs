//! End-to-end test of what only the command line could do before, now in the real window: on
//! the Workspace screen a backup is written and opens as a workspace, the whole-file check
//! passes, the privacy settings are saved, a person is erased with the receipt shown once; on
//! the Sources screen a source's credential is tested and the source removed with its keyring
//! entry. Each is checked against the workspace file. Native save dialogs are answered through
//! the debug-build seam `LOOKBACK_TEST_SAVE_DIR`; confirmations are accepted by the test.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it).

use std::sync::Arc;

use lookback_tests::mock::MockServer;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};

const TOKEN: &str = "window-workspace-token-2b7d";

#[test]
fn backup_check_privacy_erasure_and_source_removal_work_from_the_window() {
    let api = Arc::new(GenericApi::new(TOKEN, 5));
    let server = MockServer::start(api.clone());
    let home = TestHome::new();
    let db = home.path("shop.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&[
        "--db",
        db_arg,
        "demo",
        "--orders",
        "200",
        "--end",
        "2026-06-30",
    ]);
    let out = home.lookback_with_stdin(
        &[
            "--db",
            db_arg,
            "source",
            "add",
            "generic",
            "--name",
            "backend",
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
    let customer: String = open_sqlite(&db)
        .query_row(
            "SELECT customer_id FROM orders WHERE customer_id IS NOT NULL ORDER BY order_id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();

    let chosen = home.path("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[("LOOKBACK_TEST_SAVE_DIR", chosen.to_str().unwrap())],
    );
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    session.wait_for("[data-testid=nav-overview]");
    session.eval("window.confirm = () => true; return true");
    let nav = session.wait_for("[data-testid=nav-workspace]");
    session.click(&nav);

    // Backup: a consistent copy that opens as a workspace with the same orders.
    let backup = session.wait_for("[data-testid=backup]");
    session.click(&backup);
    session.wait_until(
        "the backup to be written",
        "const s = document.querySelector('[data-testid=backup-status]'); return !!s && s.textContent.includes('backed up ')",
    );
    let copy = std::fs::read_dir(&chosen)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "lookback"))
        .expect("a backup file");
    let orders = query_i64(&open_sqlite(&db), "SELECT COUNT(*) FROM orders");
    assert_eq!(
        query_i64(&open_sqlite(&copy), "SELECT COUNT(*) FROM orders"),
        orders
    );

    // The whole-file check passes.
    let check = session.wait_for("[data-testid=check]");
    session.click(&check);
    session.wait_until(
        "the check to pass",
        "const s = document.querySelector('[data-testid=backup-status]'); return !!s && s.textContent.includes('passed the integrity check')",
    );

    // Privacy settings are saved in the workspace.
    session.eval("const r = document.querySelector('[data-testid=retention-days]'); r.value = '400'; return true");
    let save = session.wait_for("[data-testid=save-privacy]");
    session.click(&save);
    let saved = session.wait_for("[data-testid=privacy-saved]");
    assert!(
        session.text(&saved).contains("400 days"),
        "{}",
        session.text(&saved)
    );
    let retention: String = open_sqlite(&db)
        .query_row(
            "SELECT value FROM workspace_settings WHERE key = 'raw_payload_retention_days'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(retention, "400");

    // Erasing a customer: the receipt is shown, the log keeps it, their orders lose the key.
    session.eval(
        "document.querySelector('[data-testid=erase-key-type]').value = 'customer_id'; return true",
    );
    let key = session.wait_for("[data-testid=erase-key]");
    session.type_text(&key, &customer);
    let erase = session.wait_for("[data-testid=erase]");
    session.click(&erase);
    let receipt = session.wait_for("[data-testid=erase-receipt]");
    assert!(
        session.text(&receipt).contains("receipt salt"),
        "{}",
        session.text(&receipt)
    );
    let conn = open_sqlite(&db);
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM erasure_log"), 1);
    assert_eq!(
        conn.query_row(
            "SELECT COUNT(*) FROM orders WHERE customer_id = ?1",
            [&customer],
            |r| r.get::<_, i64>(0)
        )
        .unwrap(),
        0
    );
    drop(conn);

    // Sources: the credential is tested against the platform, then the source removed.
    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    session.eval("window.confirm = () => true; return true");
    let test = session.wait_for("[data-testid=test-backend]");
    session.click(&test);
    session.wait_until(
        "the credential test to answer",
        "const l = document.querySelector('[data-testid=sync-progress-backend]'); return !!l && l.textContent.length > 0 && !l.textContent.includes('Testing')",
    );
    let said = session
        .eval("return document.querySelector('[data-testid=sync-progress-backend]').textContent");
    assert!(
        session
            .find("[data-testid=sync-progress-backend] [data-testid=error]")
            .is_none(),
        "the credential test failed: {said}"
    );
    let remove = session.wait_for("[data-testid=remove-backend]");
    session.click(&remove);
    session.wait_until(
        "the source card to go",
        "return !document.querySelector('[data-testid=remove-backend]')",
    );
    assert_eq!(
        query_i64(
            &open_sqlite(&db),
            "SELECT COUNT(*) FROM sources WHERE source_id = 'backend'"
        ),
        0
    );
}
