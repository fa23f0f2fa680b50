//! Credentials that stay valid: OAuth 2.0 grants that turn what the keyring holds (a client id
//! and secret, and for Google a refresh token) into short-lived access tokens, renewed before
//! they expire and once more when a platform refuses one as expired.
//!
//! - [`token_grant`]: one request to a token endpoint (refresh-token or client-credentials
//!   grant) with the `oauth2` crate, and what its failures mean.
//! - `access_tokens`: the in-memory token of one sync run that the transport asks for before
//!   every request ([`RENEWAL_MARGIN`] before expiry it asks the endpoint again).
//! - [`google_installed_app`]: the consent flow of an installed app (RFC 8252) — the system
//!   browser, PKCE, a loopback redirect to 127.0.0.1 — that produces Google's refresh token,
//!   and [`connect_source`], the job behind `lookback source connect` and the window.
//! - [`consent_browser`]: how the consent page is opened (`LOOKBACK_BROWSER` or the system's).
//!
//! Architecture Invariants:
//! - Access tokens live in memory only; the keyring keeps the client secret and the refresh
//!   token; the store keeps only non-secret endpoints (`source_settings`).
//! - A grant the token endpoint declares dead (`invalid_grant`, `invalid_client`) stops the
//!   source as [`crate::SyncError::Unauthorized`] and touches nothing already stored.

mod access_tokens;
pub mod consent_browser;
pub mod google_installed_app;
pub mod token_grant;

use std::collections::BTreeMap;

pub(crate) use access_tokens::AccessTokens;
pub use access_tokens::{RENEWAL_MARGIN, renewal_due};
pub use consent_browser::ConsentBrowser;
pub use google_installed_app::{ConnectRequest, connect_source};
pub use token_grant::{GrantFailure, GrantKind, IssuedToken, TokenGrant};

use crate::secret::Secret;

/// The keyring field of an OAuth client's id.
pub const CLIENT_ID: &str = "client_id";
/// The keyring field of an OAuth client's secret.
pub const CLIENT_SECRET: &str = "client_secret";
/// The keyring field of a refresh token.
pub const REFRESH_TOKEN: &str = "refresh_token";

/// The source setting that overrides a source's OAuth token endpoint (tests, proxies).
pub const TOKEN_URL_SETTING: &str = "oauth_token_url";
/// The source setting that overrides a source's OAuth consent page (tests).
pub const AUTHORIZE_URL_SETTING: &str = "oauth_authorize_url";
/// Every setting a source may carry; `source add` refuses others.
pub const KNOWN_SETTINGS: &[&str] = &[TOKEN_URL_SETTING, AUTHORIZE_URL_SETTING];

/// Non-secret settings of a source, by key (see `lookback_store::Store::source_settings`).
pub type SourceSettings = BTreeMap<String, String>;

/// The text of an `Unauthorized` stop caused by a dead grant: what happened and what to do.
pub fn revoked_grant_detail(failure: &GrantFailure) -> String {
    match failure {
        GrantFailure::Revoked { detail } => format!(
            "the OAuth grant was revoked or has expired (token endpoint: {detail}); the source must be reconnected"
        ),
        other => format!(
            "the token endpoint refused to issue an access token ({})",
            other.detail()
        ),
    }
}

/// Reads a multi-part secret as `source add` received it: a JSON object of strings, or lines
/// of `name=value`. Returns `Ok(None)` for any other text (a single token), and an error that
/// names the offending field (never its value) for an unknown field or a malformed object.
pub fn secret_fields(
    kind: &str,
    secret: &Secret,
    allowed: &[&str],
) -> Result<Option<BTreeMap<String, String>>, String> {
    let text = secret.expose();
    let mut fields = BTreeMap::new();
    if text.starts_with('{') {
        let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text) else {
            return Err(format!(
                "the {kind} secret looks like JSON but is not a JSON object"
            ));
        };
        for (name, value) in object {
            match value {
                serde_json::Value::String(value) if !value.trim().is_empty() => {
                    fields.insert(name, value.trim().to_owned());
                }
                _ => {
                    return Err(format!(
                        "the {kind} secret's {name} must be a non-empty string"
                    ));
                }
            }
        }
    } else if text.lines().any(|line| line.contains('=')) {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let Some((name, value)) = line.split_once('=') else {
                return Err(format!(
                    "the {kind} secret mixes name=value lines with a line that has no '='"
                ));
            };
            let (name, value) = (name.trim(), value.trim());
            if value.is_empty() {
                return Err(format!("the {kind} secret's {name} is empty"));
            }
            fields.insert(name.to_owned(), value.to_owned());
        }
    } else {
        return Ok(None);
    }
    if let Some(unknown) = fields.keys().find(|name| !allowed.contains(&name.as_str())) {
        return Err(format!(
            "the {kind} secret has an unknown field {unknown:?}; it takes {}",
            allowed.join(", ")
        ));
    }
    Ok(Some(fields))
}

/// The JSON object the keyring keeps for a multi-part secret.
pub fn secret_from_fields(fields: &BTreeMap<String, String>) -> Secret {
    Secret::new(serde_json::to_string(fields).unwrap_or_default())
}

/// The endpoint a source uses: its setting if it has one, else the platform's.
pub fn endpoint(settings: &SourceSettings, key: &str, default: &str) -> String {
    settings
        .get(key)
        .cloned()
        .unwrap_or_else(|| default.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_read_from_json_or_name_value_lines_and_unknown_fields_are_named() {
        let allowed = [CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN];
        let json =
            Secret::new(r#"{"client_id":"id-1","client_secret":"cs-2","refresh_token":"1//rt"}"#);
        let lines = Secret::new("client_id=id-1\nclient_secret = cs-2\nrefresh_token=1//rt\n");
        let from_json = secret_fields("google_ads", &json, &allowed)
            .unwrap()
            .unwrap();
        assert_eq!(
            from_json,
            secret_fields("google_ads", &lines, &allowed)
                .unwrap()
                .unwrap()
        );
        assert_eq!(from_json["client_secret"], "cs-2");
        assert_eq!(
            secret_fields("x", &Secret::new("shpat_abc"), &allowed),
            Ok(None)
        );
        let unknown = secret_fields("x", &Secret::new("password=hunter22"), &allowed).unwrap_err();
        assert!(
            unknown.contains("\"password\"") && !unknown.contains("hunter22"),
            "{unknown}"
        );
    }
}
