//! Shopify credentials: a Dev Dashboard app's client id and secret exchanged by the
//! client-credentials grant for tokens that are renewed (before their expiry, and once more on
//! a 401 when one dies early), and a legacy custom app's static `shpat_…` token sent as it is.
//!
//! The grant runs against a real OAuth 2.0 server (npm `oauth2-mock-server`) answering in the
//! shape of Shopify's token endpoint (no `token_type`, comma-separated scopes, `expires_in`);
//! that package serves its token endpoint at `/token` and cannot take Shopify's path
//! (`/admin/oauth/access_token` on the shop), so the source's `oauth_token_url` setting points
//! there — the default path itself is checked in the connector's unit tests. The Shopify mock
//! accepts only tokens that server signed and that have not expired.

use std::sync::Arc;
use std::time::Duration;

use lookback_sync::{CancellationToken, StreamOutcome, SyncError};
use lookback_tests::mock::harness::{
    TEST_NOW_MS, count, fast_options, file_contains, run_sync, run_sync_with, workspace_with_source,
};
use lookback_tests::mock::oauth_tokens::IssuedTokens;
use lookback_tests::mock::shopify::ShopifyApi;
use lookback_tests::mock::{MockApi, MockRequest, MockResponse, MockServer};
use lookback_tests::oauth_server::OAuthServer;
use serde_json::json;

const CLIENT_ID: &str = "4f1e2d3c4b5a69788796a5b4c3d2e1f0";
const CLIENT_SECRET: &str = "shpss_lookback_test_client_secret";
const STATIC_TOKEN: &str = "shpat_0c1d2e3f4a5b6c7d8e9f";

/// The Shopify mock answering after `delay`, so a short-lived token can expire mid-sync.
struct Slow {
    api: Arc<ShopifyApi>,
    delay: Duration,
}

impl MockApi for Slow {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        self.api.handle(request).with_delay(self.delay)
    }
}

fn client_secret() -> String {
    json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).to_string()
}

#[test]
fn a_dev_dashboard_app_syncs_with_client_credentials_tokens_renewed_when_one_dies_early() {
    // Shopify's tokens live 24 hours; these are signed to die after 3 s while the answer
    // promises 86,399 s, so only the shop's 401 can tell the client.
    let oauth = OAuthServer::start(&json!({
        "clients": {CLIENT_ID: CLIENT_SECRET},
        "expires_in": 86_399,
        "token_lifetime": 3,
        "shopify_shape": true,
    }));
    let tokens = Arc::new(IssuedTokens::from_issuer(&oauth.issuer));
    let api = Arc::new(ShopifyApi::new("unused", 300).accepting_oauth_tokens(tokens.clone()));
    let server = MockServer::start(Arc::new(Slow {
        api: api.clone(),
        delay: Duration::from_millis(600),
    }));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    store
        .write(|tx| tx.set_source_setting("shop", "oauth_token_url", &oauth.token_url()))
        .unwrap();
    let mut options = fast_options(TEST_NOW_MS);
    options.page_size = Some(40);
    let summary = run_sync_with(
        &mut store,
        &source,
        &client_secret(),
        &options,
        &CancellationToken::new(),
        |_| {},
    )
    .expect("sync");
    assert_eq!(
        summary.streams[0].outcome,
        StreamOutcome::Complete,
        "{summary:?}"
    );
    assert_eq!(count(&path, "orders"), 300);
    assert_eq!(count(&path, "dead_letters"), 0);
    assert!(tokens.expired_refusals() >= 1, "no token died mid-sync");
    assert!(tokens.accepted_count() >= 2, "the token was never renewed");
    let mut secrets = vec![CLIENT_SECRET.to_owned()];
    secrets.extend(tokens.accepted());
    for secret in secrets {
        assert!(
            !file_contains(&path, &secret),
            "a secret reached the workspace"
        );
    }
}

#[test]
fn a_refused_client_secret_stops_the_source_as_unauthorized() {
    let oauth = OAuthServer::start(&json!({
        "clients": {CLIENT_ID: "shpss_the_rotated_secret"},
        "shopify_shape": true,
    }));
    let tokens = Arc::new(IssuedTokens::from_issuer(&oauth.issuer));
    let api = Arc::new(ShopifyApi::new("unused", 10).accepting_oauth_tokens(tokens.clone()));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    store
        .write(|tx| tx.set_source_setting("shop", "oauth_token_url", &oauth.token_url()))
        .unwrap();
    let error = run_sync(&mut store, &source, &client_secret()).unwrap_err();
    let SyncError::Unauthorized { detail, .. } = &error else {
        panic!("expected Unauthorized, got {error:?}");
    };
    assert!(
        detail.contains("invalid_client") && detail.contains("reconnected"),
        "{detail}"
    );
    assert!(!error.to_string().contains(CLIENT_SECRET));
    assert!(
        server.requests().is_empty(),
        "no API request without a token"
    );
    assert_eq!(count(&path, "raw_events"), 0);
}

#[test]
fn a_legacy_static_token_is_sent_as_it_is() {
    let api = Arc::new(ShopifyApi::new(STATIC_TOKEN, 30));
    let server = MockServer::start(api);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.lookback");
    let (mut store, source) = workspace_with_source(&path, "shopify", "shop", &server.base_url);
    let summary = run_sync(&mut store, &source, STATIC_TOKEN).expect("sync");
    assert_eq!(summary.streams[0].outcome, StreamOutcome::Complete);
    assert_eq!(count(&path, "orders"), 30);
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.header("x-shopify-access-token") == Some(STATIC_TOKEN)),
        "every request carries the static token"
    );
    // A refused static token is not "expired": there is nothing to renew.
    let error = run_sync(&mut store, &source, "shpat_revoked_token").unwrap_err();
    assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
    assert!(!file_contains(&path, STATIC_TOKEN));
}
