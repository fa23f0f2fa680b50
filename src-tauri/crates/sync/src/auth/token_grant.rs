//! One request to an OAuth 2.0 token endpoint: the refresh-token grant (Google Ads) or the
//! client-credentials grant (Shopify Dev Dashboard apps), made with the `oauth2` crate over a
//! reqwest client that does not follow redirects (a token endpoint that redirects is refused
//! rather than followed, so a secret is never sent to a host the user did not configure).
//!
//! Google's and Shopify's token responses differ in one way that matters: Shopify's has no
//! `token_type` (`@shopify/shopify-api` 13.1.0, `lib/auth/oauth/types.ts`
//! `AccessTokenResponse` is `{access_token, scope}` plus `expires_in` for expiring tokens), so
//! the response type here treats `token_type` as optional instead of using the crate's
//! standard one, which would refuse Shopify's answer.

use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// How a source gets its access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantKind {
    /// `grant_type=refresh_token` with the refresh token the user's consent produced (Google).
    RefreshToken(Secret),
    /// `grant_type=client_credentials`: the client id and secret alone (Shopify).
    ClientCredentials,
}

/// Everything needed to ask a token endpoint for a fresh access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The token endpoint, e.g. `https://oauth2.googleapis.com/token`.
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub kind: GrantKind,
}

/// A token the endpoint issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: Secret,
    /// `expires_in`, when the endpoint said; `None` means "until refused".
    pub lifetime: Option<Duration>,
    /// A refresh token, when the endpoint issued one (the authorization-code exchange).
    pub refresh_token: Option<Secret>,
}

/// Why no token came back. Texts never contain a secret: they are built from the endpoint's
/// error code and description, never from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantFailure {
    /// The grant itself is dead: `invalid_grant` (the refresh token was revoked, expired or
    /// never issued), `invalid_client` or `unauthorized_client` (the client secret was
    /// rotated or the app uninstalled). Only the user can fix it, by reconnecting the source.
    Revoked { detail: String },
    /// The endpoint refused for another reason (`invalid_scope`, `invalid_request`, …).
    Refused { detail: String },
    /// The endpoint could not be reached or answered something that is not an OAuth answer
    /// (a timeout, a 5xx page): worth retrying.
    Unreachable { detail: String },
}

impl GrantFailure {
    pub fn detail(&self) -> &str {
        match self {
            GrantFailure::Revoked { detail }
            | GrantFailure::Refused { detail }
            | GrantFailure::Unreachable { detail } => detail,
        }
    }
}

/// A token response as RFC 6749 §5.1 describes it, with `token_type` optional (Shopify leaves
/// it out) and `scope` kept as the text the server sent (Shopify separates scopes by commas,
/// RFC 6749 by spaces; Lookback only reports it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrantTokenResponse {
    access_token: AccessToken,
    #[serde(default = "bearer")]
    token_type: BasicTokenType,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default)]
    scope: Option<String>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

impl TokenResponse for GrantTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

impl GrantTokenResponse {
    pub(crate) fn into_issued(self) -> IssuedToken {
        IssuedToken {
            access_token: Secret::new(self.access_token.secret().as_str()),
            lifetime: self.expires_in.map(Duration::from_secs),
            refresh_token: self
                .refresh_token
                .map(|token| Secret::new(token.secret().as_str())),
        }
    }
}

/// The `oauth2` client type of every grant: standard errors, [`GrantTokenResponse`], and the
/// token endpoint always set (the authorization endpoint only for the consent flow).
pub(crate) type GrantClient<HasAuthUrl = EndpointNotSet> = oauth2::Client<
    BasicErrorResponse,
    GrantTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The `oauth2` client for `client_id`/`client_secret` at `token_url`. Client credentials go
/// in the request body, as Google's installed-app samples and Shopify's docs send them.
pub(crate) fn grant_client(
    token_url: &str,
    client_id: &str,
    client_secret: &Secret,
) -> Result<GrantClient, GrantFailure> {
    let token_url = TokenUrl::new(token_url.to_owned()).map_err(|e| GrantFailure::Refused {
        detail: format!("the OAuth token URL {token_url:?} is not a URL: {e}"),
    })?;
    Ok(oauth2::Client::new(ClientId::new(client_id.to_owned()))
        .set_client_secret(ClientSecret::new(client_secret.expose().to_owned()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url))
}

/// The HTTP client for token endpoints: no redirects (RFC 6749 §5 answers directly; following
/// a redirect would resend the client secret elsewhere) and bounded time.
pub(crate) fn token_http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!("lookback/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

impl TokenGrant {
    /// Asks the token endpoint for a fresh access token.
    pub async fn request(&self, http: &reqwest::Client) -> Result<IssuedToken, GrantFailure> {
        let client = grant_client(&self.token_url, &self.client_id, &self.client_secret)?;
        let response = match &self.kind {
            GrantKind::RefreshToken(refresh_token) => {
                let refresh_token = RefreshToken::new(refresh_token.expose().to_owned());
                client
                    .exchange_refresh_token(&refresh_token)
                    .request_async(http)
                    .await
            }
            GrantKind::ClientCredentials => {
                client
                    .exchange_client_credentials()
                    .request_async(http)
                    .await
            }
        };
        response
            .map(GrantTokenResponse::into_issued)
            .map_err(|error| classify(error, &self.token_url))
    }
}

/// Sorts a failed token request into [`GrantFailure`]. The body of an unparseable answer is
/// never quoted: a misbehaving server could have echoed the request, secret included.
pub(crate) fn classify<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, BasicErrorResponse>,
    token_url: &str,
) -> GrantFailure {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let code = response.error().to_string();
            let detail = match response.error_description() {
                Some(description) => format!("{code}: {description}"),
                None => code,
            };
            match response.error() {
                BasicErrorResponseType::InvalidGrant
                | BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => GrantFailure::Revoked { detail },
                _ => GrantFailure::Refused { detail },
            }
        }
        RequestTokenError::Request(error) => GrantFailure::Unreachable {
            detail: format!(
                "cannot reach the token endpoint {token_url}: {}",
                chain(&error)
            ),
        },
        // Not an RFC 6749 error body. A JSON object that still names an error (Shopify's
        // Admin API style, `{"errors": "…"}`) is a refusal no retry fixes; anything else (an
        // HTML 5xx page, a proxy's answer) may pass.
        RequestTokenError::Parse(error, body) => match refusal_in(&body) {
            Some(refusal) => GrantFailure::Refused {
                detail: format!("the token endpoint {token_url} refused: {refusal}"),
            },
            None => GrantFailure::Unreachable {
                detail: format!(
                    "the token endpoint {token_url} answered something that is not an OAuth token response ({})",
                    error.path()
                ),
            },
        },
        RequestTokenError::Other(text) => GrantFailure::Unreachable {
            detail: format!("the token endpoint {token_url} answered unexpectedly: {text}"),
        },
    }
}

/// The error a non-standard JSON error body names (`error` or `errors`), cut to a short text.
fn refusal_in(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let named = value.get("errors").or_else(|| value.get("error"))?;
    let text = named
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| named.to_string());
    Some(text.chars().take(200).collect())
}

/// An error with its causes, e.g. "client error: error sending request: connection refused".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shopify_answer_without_token_type_is_a_token_with_its_lifetime() {
        // The shape of Shopify's client-credentials answer (shopify.dev, "Using the client
        // credentials grant"): no token_type, comma-separated scopes, 24 hours less a second.
        let body = r#"{"access_token":"shpat_abc123","scope":"read_orders,read_all_orders","expires_in":86399}"#;
        let response: GrantTokenResponse = serde_json::from_str(body).unwrap();
        let issued = response.into_issued();
        assert_eq!(issued.access_token.expose(), "shpat_abc123");
        assert_eq!(issued.lifetime, Some(Duration::from_secs(86_399)));
        assert!(issued.refresh_token.is_none());
    }

    #[test]
    fn revoked_grants_are_told_apart_from_other_refusals() {
        let error = |code: &str| {
            let response: BasicErrorResponse = serde_json::from_str(&format!(
                r#"{{"error":"{code}","error_description":"Token has been expired or revoked."}}"#
            ))
            .unwrap();
            classify::<std::io::Error>(RequestTokenError::ServerResponse(response), "http://x")
        };
        assert!(
            matches!(error("invalid_grant"), GrantFailure::Revoked { detail }
            if detail == "invalid_grant: Token has been expired or revoked.")
        );
        assert!(matches!(
            error("invalid_client"),
            GrantFailure::Revoked { .. }
        ));
        assert!(matches!(
            error("invalid_scope"),
            GrantFailure::Refused { .. }
        ));
    }
}
