//! Google's OAuth 2.0 flow for installed apps (RFC 8252), behind `lookback source connect`:
//! the consent page opens in the system browser with a PKCE S256 challenge (RFC 7636) and a
//! redirect to `http://127.0.0.1:{free port}/`, where a one-shot listener takes the
//! authorization code; the code and the PKCE verifier are exchanged for a refresh token, which
//! goes to the source's keyring entry beside the user's OAuth client id and secret.
//!
//! `access_type=offline` and `prompt=consent` make Google return a refresh token every time
//! (without `prompt=consent`, a second consent returns none). The scope is
//! `https://www.googleapis.com/auth/adwords`, the only one the Google Ads API accepts. Both
//! endpoints can be overridden per source (`oauth_authorize_url`, `oauth_token_url` in
//! `source_settings`) so tests run the flow against a local OAuth server.

use std::net::Ipv4Addr;
use std::time::Duration;

use lookback_store::{Source, Store};
use oauth2::{AuthUrl, AuthorizationCode, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::consent_browser::ConsentBrowser;
use super::token_grant::{GrantTokenResponse, classify, grant_client, token_http_client};
use super::{
    AUTHORIZE_URL_SETTING, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, TOKEN_URL_SETTING, endpoint,
    secret_from_fields,
};
use crate::connectors::google_ads::{ACCESS_TOKEN, SECRET_FIELDS};
use crate::secret::Secret;
use crate::sources::{find_source, secret_of};
use crate::{SyncError, SyncResult, credentials};

/// Google's consent page.
pub const GOOGLE_AUTHORIZE_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint.
pub const GOOGLE_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// The one scope of the Google Ads API.
pub const ADWORDS_SCOPE: &str = "https://www.googleapis.com/auth/adwords";
/// How long `source connect` waits for the person to answer the consent page.
pub const DEFAULT_CONSENT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What `source connect` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// The registered source (its keyring entry holds the OAuth client id and secret).
    pub name: String,
    /// How long to wait for the browser's answer.
    pub timeout: Duration,
}

/// An installed app's consent, ready to run.
struct InstalledAppConsent<'a> {
    client_id: &'a str,
    client_secret: &'a Secret,
    authorize_url: String,
    token_url: String,
}

/// Runs the consent flow for a registered Google Ads source and stores the refresh token it
/// yields in the source's keyring entry (the client id, secret and developer token stay). Used
/// for a first connection and to reconnect a source whose grant was revoked: a source that
/// needed reconnecting no longer does (its data and checkpoints are untouched). `on_message` hears the lines to show the person: the consent URL (to
/// paste by hand when no browser opens) and a browser that failed to open.
pub async fn connect_source(
    store: &mut Store,
    request: &ConnectRequest,
    browser: &ConsentBrowser,
    on_message: &mut (dyn FnMut(String) + Send),
) -> SyncResult<Source> {
    let source = find_source(store, &request.name)?;
    if source.kind != "google_ads" {
        return Err(SyncError::InvalidSource {
            detail: format!(
                "{} is a {} source; only google_ads sources connect through the browser (the others take their key on `source add`)",
                source.name, source.kind
            ),
        });
    }
    let secret = secret_of(&source)?;
    let mut fields = super::secret_fields("google_ads", &secret, SECRET_FIELDS)
        .map_err(|detail| SyncError::InvalidSource { detail })?
        .unwrap_or_default();
    let (Some(client_id), Some(client_secret)) = (
        fields.get(CLIENT_ID).cloned(),
        fields.get(CLIENT_SECRET).cloned().map(Secret::new),
    ) else {
        return Err(SyncError::InvalidSource {
            detail: format!(
                "{} has no OAuth client in the keyring; add it again with `lookback source add google_ads --name {}` and {{\"client_id\":…,\"client_secret\":…}} on stdin",
                source.name, source.name
            ),
        });
    };
    let settings = store.source_settings(&source.source_id)?;
    let consent = InstalledAppConsent {
        client_id: &client_id,
        client_secret: &client_secret,
        authorize_url: endpoint(&settings, AUTHORIZE_URL_SETTING, GOOGLE_AUTHORIZE_URL),
        token_url: endpoint(&settings, TOKEN_URL_SETTING, GOOGLE_TOKEN_URL),
    };
    let refresh_token = consent
        .run(browser, request.timeout, on_message)
        .await
        .map_err(|detail| SyncError::ConsentFailed {
            source_name: source.name.clone(),
            // The client secret is in no message this module builds; redact anyway, in case
            // a server echoed it into an error description.
            detail: client_secret.redact(&detail),
        })?;
    fields.insert(REFRESH_TOKEN.to_owned(), refresh_token.expose().to_owned());
    // A stored access token is stale once a refresh token exists.
    fields.remove(ACCESS_TOKEN);
    let credential_ref =
        source
            .credential_ref
            .as_deref()
            .ok_or_else(|| SyncError::MissingCredential {
                source_name: source.name.clone(),
            })?;
    credentials::store_secret(credential_ref, &secret_from_fields(&fields))?;
    store.write(|tx| tx.clear_credential_refused(&source.source_id).map(|_| ()))?;
    Ok(source)
}

impl InstalledAppConsent<'_> {
    /// Opens the consent page, waits for the redirect, exchanges the code; returns the refresh
    /// token. Errors are sentences for the person at the keyboard.
    async fn run(
        &self,
        browser: &ConsentBrowser,
        timeout: Duration,
        on_message: &mut (dyn FnMut(String) + Send),
    ) -> Result<Secret, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1 for Google's redirect: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot read the loopback port: {e}"))?
            .port();
        let redirect_url = RedirectUrl::new(format!("http://127.0.0.1:{port}/"))
            .map_err(|e| format!("bad redirect URL: {e}"))?;
        let authorize_url = AuthUrl::new(self.authorize_url.clone()).map_err(|e| {
            format!(
                "the consent page URL {:?} is not a URL: {e}",
                self.authorize_url
            )
        })?;
        let client = grant_client(&self.token_url, self.client_id, self.client_secret)
            .map_err(|failure| failure.detail().to_owned())?
            .set_auth_uri(authorize_url)
            .set_redirect_uri(redirect_url);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new(ADWORDS_SCOPE.to_owned()))
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .set_pkce_challenge(challenge)
            .url();
        on_message(format!(
            "Open this page to let Lookback read your Google Ads data (it opens in your browser if it can):\n{url}"
        ));
        if let Err(problem) = browser.open(url.as_str()) {
            on_message(format!("{problem}; open the page above by hand"));
        }
        let code = tokio::time::timeout(timeout, wait_for_redirect(&listener, state.secret()))
            .await
            .map_err(|_| {
                format!(
                    "no answer from the consent page within {} s; connect again (Sources screen, or `lookback source connect`) and answer it",
                    timeout.as_secs()
                )
            })??;
        let http = token_http_client()?;
        let response: GrantTokenResponse = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .map_err(|error| {
                format!(
                    "the authorization code was not accepted: {}",
                    classify(error, &self.token_url).detail()
                )
            })?;
        response.into_issued().refresh_token.ok_or_else(|| {
            "Google issued no refresh token; remove Lookback's access at https://myaccount.google.com/permissions and connect again".to_owned()
        })
    }
}

/// Serves the loopback redirect until one request carries this flow's `state` with a `code`
/// (returned) or an `error` (the person refused: an error). Other requests (a favicon, a
/// stale tab with another state) get a short page and are otherwise ignored.
async fn wait_for_redirect(listener: &TcpListener, state: &str) -> Result<String, String> {
    loop {
        let (mut socket, _) = listener
            .accept()
            .await
            .map_err(|e| format!("the loopback listener failed: {e}"))?;
        let Some(target) = read_request_target(&mut socket).await else {
            continue;
        };
        let Ok(url) = reqwest::Url::parse(&format!("http://127.0.0.1{target}")) else {
            respond(&mut socket, 400, "Not a redirect Lookback understands.").await;
            continue;
        };
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        if url.path() != "/" || param("state").as_deref() != Some(state) {
            respond(&mut socket, 404, "Not the page Lookback is waiting for.").await;
            continue;
        }
        if let Some(error) = param("error") {
            respond(
                &mut socket,
                200,
                "Lookback was not given access. You can close this tab.",
            )
            .await;
            return Err(format!(
                "the consent page answered {error}: access was not granted"
            ));
        }
        if let Some(code) = param("code") {
            respond(
                &mut socket,
                200,
                "Lookback is connected to Google Ads. You can close this tab.",
            )
            .await;
            return Ok(code);
        }
        respond(&mut socket, 400, "The redirect carries no code.").await;
    }
}

/// The request target (`/?code=…&state=…`) of the request on `socket`, from its head.
async fn read_request_target(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buffer))
            .await
            .ok()?
            .ok()?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.lines().next()?.split_whitespace();
    let (_method, target) = (words.next()?, words.next()?);
    Some(target.to_owned())
}

async fn respond(socket: &mut tokio::net::TcpStream, status: u16, text: &str) {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Lookback</title><p style=\"font:16px sans-serif;margin:3em\">{text}</p>"
    );
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let message = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(message.as_bytes()).await;
    let _ = socket.shutdown().await;
}
