//! Reconnecting a source from the window (tauri-driver under Xvfb): a Meta source whose token
//! Meta refuses (error 190) shows "needs reconnecting" on its card with a Reconnect button; the
//! button opens the connect form prefilled for that source (kind, name, address, account),
//! and a new token entered there brings the source back to ok — its data kept, the new token
//! in the OS keyring only — and its next sync from the card finishes.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it); the app
//! launched by tauri-driver inherits it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::{AdLedger, day_text};
use lookback_tests::mock::harness::{count, file_contains};
use lookback_tests::mock::meta::MetaApi;
use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin};

const TOKEN: &str = "EAAGwindowOldToken19fe";
const NEW_TOKEN: &str = "EAAGwindowNewToken62ab";

#[test]
fn a_refused_source_is_reconnected_from_its_card_with_the_prefilled_form() {
    let today = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        / 86_400;
    let ledger = AdLedger::generate(
        &day_text(today - 30),
        &day_text(today),
        &[("c1", "101")],
        10_000,
    );
    let api = Arc::new(MetaApi::new(TOKEN, "1234567", "USD", "UTC", ledger));
    api.polls_before_complete(0);
    let server = MockServer::start(api.clone());
    let base_url = format!("{}/v23.0", server.base_url);
    let home = TestHome::new();
    let db = home.path("reconnect.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Reconnect"]);
    let added = home.lookback_with_stdin(
        &[
            "--db",
            db_arg,
            "source",
            "add",
            "meta",
            "--name",
            "ads",
            "--base-url",
            &base_url,
            "--account",
            "act_1234567",
        ],
        TOKEN,
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    home.lookback_ok(&["--db", db_arg, "sync", "ads"]);
    let stored = count(&db, "raw_events");
    assert!(stored > 0);
    api.refuse_token(463);
    let refused = home.lookback(&["--db", db_arg, "sync", "ads"]);
    assert!(!refused.status.success());

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    let state = session.wait_for("[data-testid=state-ads]");
    assert_eq!(session.text(&state), "needs reconnecting");
    assert_eq!(
        session.attr(&state, "data-state").as_deref(),
        Some("needs_reconnecting")
    );
    session.wait_for("[data-testid=reconnect-banner-ads]");
    // A sync from the card while Meta refuses the token says so — never a generic failure.
    let sync = session.wait_for("[data-testid=sync-ads]");
    session.click(&sync);
    session.wait_until(
        "the refused sync to end",
        "const p = document.querySelector('[data-testid=sync-progress-ads]'); return !!p && p.textContent.startsWith('Needs reconnecting:') && p.textContent.includes('190/463')",
    );
    assert_eq!(
        count(&db, "raw_events"),
        stored,
        "a refusal touches nothing stored"
    );

    let reconnect = session.wait_for("[data-testid=reconnect-ads]");
    session.click(&reconnect);
    session.wait_for("[data-testid=reconnect-form][data-source=ads]");
    let value = |testid: &str| {
        session
            .eval(&format!(
                "return document.querySelector('[data-testid={testid}]').value"
            ))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(value("reconnect-kind"), "meta");
    assert_eq!(value("reconnect-name"), "ads");
    assert_eq!(value("reconnect-base-url"), base_url);
    assert_eq!(value("reconnect-account"), "act_1234567");

    api.accept_new_token(NEW_TOKEN);
    let secret = session.wait_for("[data-testid=reconnect-secret]");
    session.type_text(&secret, NEW_TOKEN);
    let submit = session.wait_for("[data-testid=reconnect-submit]");
    session.click(&submit);
    session.wait_until(
        "the card back to ok",
        "const s = document.querySelector('[data-testid=state-ads]'); return !!s && s.dataset.state === 'ok'",
    );
    assert_eq!(count(&db, "raw_events"), stored, "the data stayed");
    assert!(session.find("[data-testid=reconnect-ads]").is_none());

    // The next sync from the card uses the new token from the keyring.
    let sync = session.wait_for("[data-testid=sync-ads]");
    session.click(&sync);
    session.wait_until(
        "the sync to finish",
        "const p = document.querySelector('[data-testid=sync-progress-ads]'); return !!p && p.textContent.startsWith('Done')",
    );
    for token in [TOKEN, NEW_TOKEN] {
        assert!(!file_contains(&db, token), "no token in the workspace file");
    }
    home.lookback_ok(&["--db", db_arg, "source", "remove", "ads"]);
}
