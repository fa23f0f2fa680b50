//! Google Ads credentials that stay valid, against a real OAuth 2.0 server (npm
//! `oauth2-mock-server`, see `support::oauth_server`) and the Google Ads mock accepting only
//! that server's tokens: `source connect` runs the installed-app flow (PKCE S256, a loopback
//! redirect to 127.0.0.1, the test's `curl` playing the browser) and puts the refresh token in
//! the OS keyring; a sync renews access tokens before they expire and once more when Google
//! answers `OAUTH_TOKEN_EXPIRED` mid-sync; a revoked refresh token stops the source as
//! unauthorized without touching what is stored; and no secret or token reaches the workspace.
//!
//! The CLI test runs `lookback source add` (the OAuth client on stdin), `source connect` (with
//! `LOOKBACK_BROWSER` naming the test's browser) and `sync`; headless, `source add` takes the
//! refresh token and the developer token on stdin.
//!
//! The keyring tests need a Secret Service (`.ci/test` runs them in a D-Bus session with
//! gnome-keyring).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lookback_store::{Source, Store};
use lookback_sync::{
    CancellationToken, ConnectRequest, ConsentBrowser, NewSource, Secret, SourceSyncSummary,
    StreamOutcome, SyncError, SyncResult,
};
use lookback_tests::mock::ad_ledger::AdLedger;
use lookback_tests::mock::google_ads::GoogleAdsApi;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, fast_options, file_contains, run_sync_with, table_dump, workspace_with_source,
};
use lookback_tests::mock::oauth_tokens::IssuedTokens;
use lookback_tests::mock::{MockApi, MockRequest, MockResponse, MockServer};
use lookback_tests::oauth_server::OAuthServer;
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};
use serde_json::json;

const CLIENT_ID: &str = "123456789012-lookbacktest.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-lookback-test-client-secret";
/// A refresh token the OAuth server is told it issued (the headless `source add` case).
const SEEDED_REFRESH_TOKEN: &str = "1//0g-lookback-seeded-refresh-token";
const CUSTOMER: &str = "1234567890";
const TODAY: &str = "2026-03-01";
const BACKFILL_START: &str = "2025-03-02";

fn ledger() -> AdLedger {
    AdLedger::generate(
        "2025-12-01",
        TODAY,
        &[("456", "7001"), ("457", "7101")],
        12_345,
    )
}

/// The Google Ads mock answering each request only after `delay`, so that a sync takes long
/// enough for a short-lived token to expire in its middle. The token is checked on arrival.
struct Slow {
    api: Arc<GoogleAdsApi>,
    delay: Duration,
}

impl MockApi for Slow {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        self.api.handle(request).with_delay(self.delay)
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    source: Source,
    api: Arc<GoogleAdsApi>,
    tokens: Arc<IssuedTokens>,
    oauth: OAuthServer,
    server: MockServer,
}

/// An OAuth server with the test client (and `extra` config), a Google Ads mock that accepts
/// only its tokens and answers after `delay`, and a workspace whose google_ads source uses them.
fn fixture(extra: serde_json::Value, delay: Duration) -> Fixture {
    let mut config = json!({
        "clients": {CLIENT_ID: CLIENT_SECRET},
        "refresh_tokens": {SEEDED_REFRESH_TOKEN: CLIENT_ID},
    });
    for (key, value) in extra.as_object().expect("config object") {
        config[key] = value.clone();
    }
    let oauth = OAuthServer::start(&config);
    let tokens = Arc::new(IssuedTokens::from_issuer(&oauth.issuer));
    let api = Arc::new(
        GoogleAdsApi::new("unused", CUSTOMER, "EUR", "Europe/Berlin", ledger())
            .accepting_oauth_tokens(tokens.clone()),
    );
    let server = MockServer::start(Arc::new(Slow {
        api: api.clone(),
        delay,
    }));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workspace.lookback");
    let (mut store, mut source) = workspace_with_source(
        &path,
        "google_ads",
        "gads",
        &format!("{}/v21", server.base_url),
    );
    source.account = Some(CUSTOMER.to_owned());
    store
        .write(|tx| {
            tx.upsert_source(&source)?;
            tx.set_source_setting("gads", "oauth_token_url", &oauth.token_url())?;
            tx.set_source_setting("gads", "oauth_authorize_url", &oauth.authorize_url())
        })
        .unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
        source,
        api,
        tokens,
        oauth,
        server,
    }
}

/// The keyring entry of a headless source: the OAuth client and a refresh token.
fn headless_secret(refresh_token: &str) -> String {
    json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": refresh_token})
        .to_string()
}

impl Fixture {
    fn sync(&mut self, secret: &str, now_ms: i64) -> SyncResult<SourceSyncSummary> {
        run_sync_with(
            &mut self.store,
            &self.source,
            secret,
            &fast_options(now_ms),
            &CancellationToken::new(),
            |_| {},
        )
    }

    fn assert_every_day_landed_once(&self) {
        let (truth_minor, truth_rows) = self.api.ledger(|l| l.truth(BACKFILL_START, TODAY, 2));
        let conn = open_sqlite(&self.path);
        assert_eq!(
            (
                query_i64(&conn, "SELECT COALESCE(SUM(spend_minor), 0) FROM ad_spend"),
                query_i64(&conn, "SELECT COUNT(*) FROM ad_spend"),
                query_i64(&conn, "SELECT COUNT(*) FROM dead_letters"),
            ),
            (truth_minor, truth_rows as i64, 0)
        );
    }

    /// No client secret, refresh token or access token anywhere in the workspace file.
    fn assert_no_secret_in_workspace(&self, refresh_token: &str) {
        let mut secrets = vec![CLIENT_SECRET.to_owned(), refresh_token.to_owned()];
        secrets.extend(self.tokens.accepted());
        assert!(secrets.len() >= 3, "no access token was accepted");
        for secret in secrets {
            assert!(
                !file_contains(&self.path, &secret),
                "a secret reached the workspace file"
            );
        }
    }
}

#[test]
fn source_connect_runs_the_pkce_loopback_flow_and_keeps_the_refresh_token_in_the_keyring() {
    let mut f = fixture(json!({}), Duration::ZERO);
    // A second workspace file registers the source through `add_source`, as `source add` does:
    // the OAuth client goes to the keyring, nothing secret to the store.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connect.lookback");
    let mut store = Store::create(&path).unwrap();
    let client = Secret::new(format!(
        "client_id={CLIENT_ID}\nclient_secret={CLIENT_SECRET}\n"
    ));
    let source = lookback_sync::add_source(
        &mut store,
        &NewSource {
            kind: "google_ads".into(),
            name: "gads".into(),
            base_url: f.source.base_url.clone(),
            account: Some(CUSTOMER.into()),
        },
        &client,
        TEST_NOW_MS,
    )
    .expect("add source (needs a Secret Service: run under .ci/test's D-Bus session)");
    let settings = [
        ("oauth_token_url".to_owned(), f.oauth.token_url()),
        ("oauth_authorize_url".to_owned(), f.oauth.authorize_url()),
    ]
    .into_iter()
    .collect();
    lookback_sync::set_source_settings(&mut store, "gads", &settings).unwrap();

    // Not connected yet: a sync says what to do, and nothing is fetched.
    let unconnected = lookback_sync::sources::secret_of(&source).unwrap();
    let error = run_sync_with(
        &mut store,
        &source,
        unconnected.expose(),
        &fast_options(TEST_NOW_MS),
        &CancellationToken::new(),
        |_| {},
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("lookback source connect gads"),
        "{error}"
    );

    // The test plays the browser: curl follows the consent page's redirect to the loopback
    // listener, as a browser would after the person clicked "Allow".
    let browser =
        ConsentBrowser::from_setting("curl --silent --show-error --location --output /dev/null");
    let messages = Mutex::new(Vec::new());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime
        .block_on(lookback_sync::connect_source(
            &mut store,
            &ConnectRequest {
                name: "gads".into(),
                timeout: Duration::from_secs(30),
            },
            &browser,
            &mut |line| messages.lock().unwrap().push(line),
        ))
        .expect("connect");
    let messages = messages.into_inner().unwrap().join("\n");
    let consent = messages
        .split_whitespace()
        .find(|word| word.starts_with(&f.oauth.authorize_url()))
        .expect("the consent URL is printed, to open by hand");
    let consent = reqwest::Url::parse(consent).unwrap();
    let param = |name: &str| {
        consent
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(param("code_challenge").map(|c| c.len()), Some(43));
    assert_eq!(param("access_type").as_deref(), Some("offline"));
    assert_eq!(param("prompt").as_deref(), Some("consent"));
    assert_eq!(
        param("scope").as_deref(),
        Some("https://www.googleapis.com/auth/adwords")
    );
    let redirect = reqwest::Url::parse(&param("redirect_uri").unwrap()).unwrap();
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    assert!(redirect.port().is_some_and(|p| p > 0));

    // The keyring now holds the client and the refresh token the server issued.
    let stored = lookback_sync::sources::secret_of(&source).unwrap();
    let refresh_token = stored
        .field("refresh_token")
        .expect("refresh token in the keyring");
    assert_eq!(stored.field("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        stored.field("client_secret").as_deref(),
        Some(CLIENT_SECRET)
    );

    // A sync with the keyring's secret gets access tokens from it and lands every day.
    let summary = run_sync_with(
        &mut store,
        &source,
        stored.expose(),
        &fast_options(TEST_NOW_MS),
        &CancellationToken::new(),
        |_| {},
    )
    .expect("sync");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    f.path = path.clone();
    f.assert_every_day_landed_once();
    f.assert_no_secret_in_workspace(&refresh_token);
    lookback_sync::remove_source(&mut store, "gads").unwrap();
}

#[test]
fn a_token_that_expires_in_the_middle_of_a_sync_is_renewed_once_and_the_sync_finishes() {
    // The server says tokens live an hour but signs them to expire after 3 s, so the client
    // has no reason to renew early and Google's OAUTH_TOKEN_EXPIRED is what tells it.
    let mut f = fixture(
        json!({"expires_in": 3600, "token_lifetime": 3}),
        Duration::from_millis(800),
    );
    let summary = f
        .sync(&headless_secret(SEEDED_REFRESH_TOKEN), TEST_NOW_MS)
        .expect("the sync finishes");
    assert_eq!(
        summary.streams[0].outcome,
        StreamOutcome::Complete,
        "{summary:?}"
    );
    assert!(
        f.tokens.expired_refusals() >= 1,
        "the sync should have met an expired token"
    );
    assert!(f.tokens.accepted_count() >= 2, "a new token was never used");
    f.assert_every_day_landed_once();
    f.assert_no_secret_in_workspace(SEEDED_REFRESH_TOKEN);
}

#[test]
fn tokens_are_renewed_before_they_expire_so_google_never_refuses_one() {
    // Tokens that live 6 s are renewed at half their life (the margin is 5 minutes or half the
    // lifetime), so requests spaced 0.7 s apart never carry an expired one.
    let mut f = fixture(
        json!({"expires_in": 6, "token_lifetime": 6}),
        Duration::from_millis(700),
    );
    let summary = f
        .sync(&headless_secret(SEEDED_REFRESH_TOKEN), TEST_NOW_MS)
        .expect("sync");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    assert_eq!(f.tokens.expired_refusals(), 0);
    assert!(
        f.tokens.accepted_count() >= 2,
        "the token was never renewed"
    );
    f.assert_every_day_landed_once();
}

#[test]
fn a_revoked_refresh_token_stops_the_source_as_unauthorized_and_keeps_what_was_stored() {
    let mut f = fixture(json!({}), Duration::ZERO);
    let secret = headless_secret(SEEDED_REFRESH_TOKEN);
    f.sync(&secret, TEST_NOW_MS).expect("first sync");
    f.assert_every_day_landed_once();
    let before = table_dump(&f.path);

    // The person removes Lookback's access in their Google account.
    f.oauth.revoke(SEEDED_REFRESH_TOKEN);
    let error = f.sync(&secret, TEST_NOW_MS + 86_400_000).unwrap_err();
    let SyncError::Unauthorized { detail, .. } = &error else {
        panic!("expected Unauthorized, got {error:?}");
    };
    assert!(
        detail.contains("revoked")
            && detail.contains("reconnected")
            && detail.contains("invalid_grant"),
        "{detail}"
    );
    let message = error.to_string();
    assert!(!message.contains(SEEDED_REFRESH_TOKEN) && !message.contains(CLIENT_SECRET));
    assert_eq!(
        table_dump(&f.path),
        before,
        "a revoked grant changed stored data"
    );
    let conn = open_sqlite(&f.path);
    let last_error: String = conn
        .query_row(
            "SELECT last_error FROM sources WHERE source_id = 'gads'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(last_error.contains("revoked"), "{last_error}");
    f.assert_no_secret_in_workspace(SEEDED_REFRESH_TOKEN);
}

#[test]
fn a_wrong_client_secret_is_unauthorized_before_any_api_request() {
    let mut f = fixture(json!({}), Duration::ZERO);
    let wrong = json!({"client_id": CLIENT_ID, "client_secret": "GOCSPX-wrong-secret", "refresh_token": SEEDED_REFRESH_TOKEN}).to_string();
    let error = f.sync(&wrong, TEST_NOW_MS).unwrap_err();
    assert!(
        matches!(&error, SyncError::Unauthorized { detail, .. } if detail.contains("invalid_client")),
        "{error:?}"
    );
    assert!(!error.to_string().contains("GOCSPX-wrong-secret"));
    assert_eq!(f.tokens.accepted_count(), 0);
    assert_eq!(
        query_i64(&open_sqlite(&f.path), "SELECT COUNT(*) FROM raw_events"),
        0
    );
}

/// `lookback` in `home` with `LOOKBACK_BROWSER` set and `stdin` piped in.
fn lookback_cli(
    home: &TestHome,
    args: &[&str],
    browser: &str,
    stdin: &str,
) -> std::process::Output {
    use std::io::Write;
    let mut cmd = std::process::Command::new(lookback_bin());
    cmd.args(args)
        .env("LOOKBACK_BROWSER", browser)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    home.apply(&mut cmd);
    let mut child = cmd.spawn().expect("run lookback");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for lookback")
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_cli_adds_connects_and_syncs_and_takes_a_refresh_token_on_stdin_for_headless_use() {
    let f = fixture(json!({}), Duration::ZERO);
    let home = TestHome::new();
    let db = home.path("cli.lookback");
    let db = db.to_str().unwrap();
    let base_url = f.source.base_url.clone().unwrap();
    let (token_url, authorize_url) = (f.oauth.token_url(), f.oauth.authorize_url());
    let browser = "curl --silent --show-error --location --output /dev/null";
    let run = |args: &[&str], stdin: &str| {
        let mut all = vec!["--db", db];
        all.extend_from_slice(args);
        lookback_cli(&home, &all, browser, stdin)
    };
    let add = |name: &str, stdin: &str| {
        run(
            &[
                "source",
                "add",
                "google_ads",
                "--name",
                name,
                "--base-url",
                &base_url,
                "--account",
                CUSTOMER,
                "--oauth-token-url",
                &token_url,
                "--oauth-authorize-url",
                &authorize_url,
            ],
            stdin,
        )
    };
    let mut printed = String::new();
    let ok = |output: std::process::Output, printed: &mut String| {
        *printed += &text(&output);
        assert!(output.status.success(), "{}", text(&output));
    };
    ok(run(&["init"], ""), &mut printed);
    ok(
        add(
            "gads",
            &format!("client_id={CLIENT_ID}\nclient_secret={CLIENT_SECRET}\n"),
        ),
        &mut printed,
    );
    let connected = run(&["source", "connect", "gads", "--timeout", "30"], "");
    assert!(
        String::from_utf8_lossy(&connected.stderr).contains(format!("{authorize_url}?").as_str()),
        "the consent URL is printed: {}",
        text(&connected)
    );
    ok(connected, &mut printed);
    ok(run(&["sync", "gads"], ""), &mut printed);

    // Headless: the refresh token (and a developer token) on stdin, as a JSON object.
    const DEVELOPER: &str = "cliDevToken_9e41";
    let headless = json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                          "refresh_token": SEEDED_REFRESH_TOKEN, "developer_token": DEVELOPER});
    ok(add("headless", &headless.to_string()), &mut printed);
    f.server.clear_requests();
    ok(run(&["sync", "headless"], ""), &mut printed);
    let requests = f.server.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|r| r.header("developer-token") == Some(DEVELOPER))
    );
    // The source connected through the browser sends no developer token: none was given.
    ok(run(&["source", "test", "gads"], ""), &mut printed);
    let test_request = f.server.requests().pop().expect("the test request");
    assert_eq!(test_request.header("developer-token"), None);

    // Nobody answers the consent page: a clear message after the timeout, nothing changed.
    let unanswered = lookback_cli(
        &home,
        &["--db", db, "source", "connect", "gads", "--timeout", "1"],
        "none",
        "",
    );
    printed += &text(&unanswered);
    assert!(!unanswered.status.success());
    assert!(
        text(&unanswered).contains("no answer from the consent page"),
        "{}",
        text(&unanswered)
    );
    ok(run(&["sync", "gads"], ""), &mut printed);

    let mut secrets = vec![
        CLIENT_SECRET.to_owned(),
        SEEDED_REFRESH_TOKEN.to_owned(),
        DEVELOPER.to_owned(),
    ];
    secrets.extend(f.tokens.accepted());
    for secret in &secrets {
        assert!(!printed.contains(secret.as_str()), "a secret was printed");
        assert!(
            !file_contains(std::path::Path::new(db), secret),
            "a secret reached the workspace"
        );
    }
    for name in ["gads", "headless"] {
        ok(run(&["source", "remove", name], ""), &mut printed);
    }
}

#[test]
fn a_refused_consent_fails_clearly_and_leaves_the_keyring_entry_as_it_was() {
    let f = fixture(json!({"deny_consent": true}), Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("denied.lookback");
    let mut store = Store::create(&path).unwrap();
    let client = Secret::new(format!(
        "client_id={CLIENT_ID}\nclient_secret={CLIENT_SECRET}\n"
    ));
    let source = lookback_sync::add_source(
        &mut store,
        &NewSource {
            kind: "google_ads".into(),
            name: "denied".into(),
            base_url: f.source.base_url.clone(),
            account: Some(CUSTOMER.into()),
        },
        &client,
        TEST_NOW_MS,
    )
    .expect("add source (needs a Secret Service)");
    let settings = [
        ("oauth_token_url".to_owned(), f.oauth.token_url()),
        ("oauth_authorize_url".to_owned(), f.oauth.authorize_url()),
    ]
    .into_iter()
    .collect();
    lookback_sync::set_source_settings(&mut store, "denied", &settings).unwrap();
    let before = lookback_sync::sources::secret_of(&source).unwrap();
    let error = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(lookback_sync::connect_source(
            &mut store,
            &ConnectRequest {
                name: "denied".into(),
                timeout: Duration::from_secs(30),
            },
            &ConsentBrowser::from_setting("curl --silent --location --output /dev/null"),
            &mut |_| {},
        ))
        .unwrap_err();
    assert!(
        matches!(&error, SyncError::ConsentFailed { detail, .. } if detail.contains("access_denied")),
        "{error:?}"
    );
    assert_eq!(lookback_sync::sources::secret_of(&source).unwrap(), before);
    lookback_sync::remove_source(&mut store, "denied").unwrap();
}

#[test]
fn an_unreachable_token_endpoint_is_retried_and_never_taken_for_a_revoked_grant() {
    let mut f = fixture(json!({}), Duration::ZERO);
    // Nothing listens on this port any more: the token endpoint is down, not refusing.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    f.store
        .write(|tx| {
            tx.set_source_setting(
                "gads",
                "oauth_token_url",
                &format!("http://127.0.0.1:{port}/token"),
            )
        })
        .unwrap();
    // The stream fails after its retries, as for any outage; the source is not unauthorized.
    let summary = f
        .sync(&headless_secret(SEEDED_REFRESH_TOKEN), TEST_NOW_MS)
        .expect("an outage is a failed stream, not a refused credential");
    let outcome = &summary.streams[0].outcome;
    assert!(
        matches!(outcome, StreamOutcome::Failed(message)
            if message.contains("gave up after") && message.contains("cannot reach the token endpoint")),
        "{outcome:?}"
    );
    assert!(summary.streams[0].counters.retries >= 1);
    assert_eq!(f.tokens.accepted_count(), 0);
    assert_eq!(
        query_i64(&open_sqlite(&f.path), "SELECT COUNT(*) FROM ad_spend"),
        0
    );
}
