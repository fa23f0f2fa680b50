//! Connecting Google Ads from the window (tauri-driver under Xvfb), against a real OAuth 2.0
//! server (npm `oauth2-mock-server`, `support::oauth_server`) and the Google Ads mock that
//! accepts only that server's tokens: the Connect form takes the OAuth client, **Connect with
//! Google** opens the consent page in "the browser" (`LOOKBACK_BROWSER`: the test's `curl`
//! follows the redirect to Lookback's loopback listener, as a browser does after "Allow"), the
//! refresh token lands in the OS keyring, and the card's sync lands the spend. Then the grant is
//! revoked at the server: the next sync leaves the source **needs reconnecting** with nothing
//! stored touched, **Reconnect with Google** runs the same flow, and the source syncs again.
//! No client secret, refresh token or access token ever reaches the workspace file.
//!
//! Needs a D-Bus session with an unlocked gnome-keyring (`.ci/test` provides it); the app
//! launched by tauri-driver inherits it and `LOOKBACK_BROWSER`.

use std::sync::Arc;

use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::AdLedger;
use lookback_tests::mock::google_ads::GoogleAdsApi;
use lookback_tests::mock::harness::{count, file_contains, table_dump};
use lookback_tests::mock::oauth_tokens::IssuedTokens;
use lookback_tests::oauth_server::OAuthServer;
use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};
use serde_json::json;

const CLIENT_ID: &str = "123456789012-windowtest.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-window-test-client-secret";
const CUSTOMER: &str = "1234567890";
const BROWSER: &str = "curl --silent --show-error --location --output /dev/null";

fn fill(session: &Session, testid: &str, text: &str) {
    let input = session.wait_for(&format!("[data-testid={testid}]"));
    session.type_text(&input, text);
}

/// The keyring entry of the source, as stored.
fn stored_secret(db: &std::path::Path) -> lookback_sync::Secret {
    let store = lookback_store::Store::open(db).expect("open workspace");
    let source = lookback_sync::find_source(&store, "gads").expect("the source");
    lookback_sync::sources::secret_of(&source).expect("its keyring entry")
}

fn sync_from_card(session: &Session, expect_prefix: &str) {
    let sync = session.wait_for("[data-testid=sync-gads]");
    session.click(&sync);
    session.wait_until(
        &format!("the sync to end with {expect_prefix:?}"),
        &format!(
            "const p = document.querySelector('[data-testid=sync-progress-gads]'); return !!p && p.textContent.startsWith({expect_prefix:?})"
        ),
    );
}

#[test]
fn google_ads_connects_from_the_window_and_reconnects_after_its_grant_is_revoked() {
    let oauth = OAuthServer::start(&json!({"clients": {CLIENT_ID: CLIENT_SECRET}}));
    let tokens = Arc::new(IssuedTokens::from_issuer(&oauth.issuer));
    let ledger = AdLedger::generate("2026-09-01", "2026-11-30", &[("456", "7001")], 12_345);
    let api = Arc::new(
        GoogleAdsApi::new("unused", CUSTOMER, "EUR", "Europe/Berlin", ledger)
            .accepting_oauth_tokens(tokens.clone()),
    );
    let server = MockServer::start(api);
    let home = TestHome::new();
    let db = home.path("connect-google.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Connect Google"]);

    let display = Display::start();
    let _driver = TauriDriver::start_with_env(&display, &home, &[("LOOKBACK_BROWSER", BROWSER)]);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    let nav = session.wait_for("[data-testid=nav-sources]");
    session.click(&nav);
    session.wait_for("[data-testid=add-source][open]");
    session.eval(
        "const s = document.querySelector('[data-testid=new-source-kind]'); s.value = 'google_ads'; s.dispatchEvent(new Event('change')); document.querySelector('[data-testid=add-source] details.advanced').open = true; return true",
    );
    // The form asks a Google Ads source for its OAuth client, not for a pasted token.
    assert_eq!(
        session.eval(
            "return [document.querySelector('[data-testid=new-source-secret]').closest('label').hidden, document.querySelector('[data-testid=new-source-client-id]').closest('label').hidden]"
        ),
        json!([true, false])
    );
    fill(&session, "new-source-name", "gads");
    fill(
        &session,
        "new-source-base-url",
        &format!("{}/v26", server.base_url),
    );
    fill(&session, "new-source-account", CUSTOMER);
    fill(&session, "new-source-client-id", CLIENT_ID);
    fill(&session, "new-source-client-secret", CLIENT_SECRET);
    fill(&session, "new-source-token-url", &oauth.token_url());
    fill(&session, "new-source-authorize-url", &oauth.authorize_url());
    let connect = session.wait_for("[data-testid=new-source-add]");
    assert_eq!(session.text(&connect), "Connect with Google");
    session.click(&connect);

    // The consent flow ran through the browser; the card appears and its sync lands the spend.
    sync_from_card(&session, "Done");
    let refresh_token = stored_secret(&db)
        .field("refresh_token")
        .expect("the consent gave a refresh token, kept in the keyring");
    let spend_rows = count(&db, "ad_spend");
    assert!(spend_rows > 0, "the sync landed Google Ads spend");
    let conn = open_sqlite(&db);
    assert_eq!(
        query_i64(
            &conn,
            "SELECT COUNT(*) FROM source_settings WHERE source_id = 'gads'"
        ),
        2,
        "the endpoint overrides are non-secret settings of the source"
    );
    drop(conn);

    // The person revokes Lookback's access: the next sync needs reconnecting, nothing moves.
    oauth.revoke(&refresh_token);
    let before = table_dump(&db);
    sync_from_card(&session, "Needs reconnecting");
    session.wait_until(
        "the card to say needs reconnecting",
        "const s = document.querySelector('[data-testid=state-gads]'); return !!s && s.dataset.state === 'needs_reconnecting'",
    );
    assert_eq!(
        table_dump(&db),
        before,
        "a revoked grant touches nothing stored"
    );

    // Reconnect with Google runs the consent again; the source syncs and is ok.
    let reconnect = session.wait_for("[data-testid=reconnect-gads]");
    assert_eq!(session.text(&reconnect), "Reconnect with Google");
    session.click(&reconnect);
    session.wait_until(
        "the card to leave needs reconnecting",
        "const s = document.querySelector('[data-testid=state-gads]'); return !!s && s.dataset.state !== 'needs_reconnecting'",
    );
    let renewed = stored_secret(&db)
        .field("refresh_token")
        .expect("a new refresh token");
    assert_ne!(renewed, refresh_token, "the revoked grant was replaced");
    sync_from_card(&session, "Done");
    session.wait_until(
        "the card to be ok",
        "const s = document.querySelector('[data-testid=state-gads]'); return !!s && s.dataset.state === 'ok'",
    );
    assert_eq!(
        count(&db, "ad_spend"),
        spend_rows,
        "nothing was counted twice"
    );

    for secret in [CLIENT_SECRET, refresh_token.as_str(), renewed.as_str()] {
        assert!(
            !file_contains(&db, secret),
            "a secret reached the workspace file"
        );
    }
    for token in tokens.accepted() {
        assert!(
            !file_contains(&db, &token),
            "an access token reached the workspace file"
        );
    }
}
