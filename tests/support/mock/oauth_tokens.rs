//! Access tokens as a platform's API checks them, for mocks of APIs whose tokens come from the
//! OAuth server the tests start (`support::oauth_server`, npm `oauth2-mock-server`): a token is
//! accepted only if it is an RS256 JWT signed by one of that server's keys (its JWKS) and its
//! `exp` has not passed. So a mock accepts only tokens the OAuth server issued, and refuses them
//! once they expire, the way Google answers 401 `UNAUTHENTICATED` with `OAUTH_TOKEN_EXPIRED`.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde_json::Value;

/// What a mock makes of a bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// Signed by the OAuth server and not expired.
    Valid,
    /// Signed by the OAuth server, but its `exp` has passed.
    Expired,
    /// Not a token of the OAuth server (unsigned, foreign, malformed, a static key).
    Unknown,
}

/// The OAuth server's public keys, and what was seen.
pub struct IssuedTokens {
    /// (modulus, exponent) of every RS256 key in the server's JWKS.
    keys: Vec<(Vec<u8>, Vec<u8>)>,
    accepted: Mutex<BTreeSet<String>>,
    expired_refusals: Mutex<u64>,
}

impl IssuedTokens {
    /// Reads the JWKS of the OAuth server at `issuer` (`{issuer}/jwks`).
    pub fn from_issuer(issuer: &str) -> IssuedTokens {
        let jwks: Value = reqwest::blocking::get(format!("{issuer}/jwks"))
            .and_then(|r| r.json())
            .expect("read the OAuth server's JWKS");
        let keys = jwks["keys"]
            .as_array()
            .expect("JWKS keys")
            .iter()
            .filter(|key| key["kty"] == "RSA")
            .map(|key| {
                let part = |name: &str| {
                    URL_SAFE_NO_PAD
                        .decode(key[name].as_str().expect("RSA key part"))
                        .expect("base64url key part")
                };
                (part("n"), part("e"))
            })
            .collect::<Vec<_>>();
        assert!(!keys.is_empty(), "the OAuth server published no RSA key");
        IssuedTokens {
            keys,
            accepted: Mutex::new(BTreeSet::new()),
            expired_refusals: Mutex::new(0),
        }
    }

    /// Checks `token` now, and remembers it if it is accepted.
    pub fn check(&self, token: &str) -> TokenCheck {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs_f64();
        let verdict = self.check_at(token, now);
        match verdict {
            TokenCheck::Valid => {
                self.accepted.lock().unwrap().insert(token.to_owned());
            }
            TokenCheck::Expired => *self.expired_refusals.lock().unwrap() += 1,
            TokenCheck::Unknown => {}
        }
        verdict
    }

    fn check_at(&self, token: &str, now_secs: f64) -> TokenCheck {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts.as_slice() else {
            return TokenCheck::Unknown;
        };
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text).ok();
        let (Some(header), Some(payload), Some(signature)) =
            (decode(header), decode(payload), decode(signature))
        else {
            return TokenCheck::Unknown;
        };
        let header: Value = serde_json::from_slice(&header).unwrap_or(Value::Null);
        if header["alg"] != "RS256" {
            return TokenCheck::Unknown;
        }
        let signed = &token[..token.rfind('.').expect("three parts")];
        let verified = self.keys.iter().any(|(n, e)| {
            RsaPublicKeyComponents { n, e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
                .is_ok()
        });
        if !verified {
            return TokenCheck::Unknown;
        }
        let payload: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
        match payload["exp"].as_f64() {
            Some(exp) if now_secs < exp => TokenCheck::Valid,
            Some(_) => TokenCheck::Expired,
            None => TokenCheck::Unknown,
        }
    }

    /// How many different tokens were accepted: more than one means the client renewed.
    pub fn accepted_count(&self) -> usize {
        self.accepted.lock().unwrap().len()
    }

    /// Every token accepted so far (for byte-searching the workspace file).
    pub fn accepted(&self) -> Vec<String> {
        self.accepted.lock().unwrap().iter().cloned().collect()
    }

    /// How many requests were refused because their token had expired.
    pub fn expired_refusals(&self) -> u64 {
        *self.expired_refusals.lock().unwrap()
    }
}

/// Google's answer to a request whose bearer token is not a valid token of the OAuth server:
/// 401 `UNAUTHENTICATED`, with `OAUTH_TOKEN_EXPIRED` for an expired one (google-ads 34.0.0,
/// `AuthenticationErrorEnum`). `None` when the token is valid.
pub fn google_token_rejection(
    tokens: &IssuedTokens,
    request: &super::MockRequest,
) -> Option<super::MockResponse> {
    let message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.";
    match request.bearer().map(|token| tokens.check(token)) {
        Some(TokenCheck::Valid) => None,
        Some(TokenCheck::Expired) => Some(super::google_ads::google_error(
            401,
            "UNAUTHENTICATED",
            message,
            Some(serde_json::json!({
                "errorCode": {"authenticationError": "OAUTH_TOKEN_EXPIRED"},
                "message": "Oauth token in the header has expired."
            })),
        )),
        _ => Some(super::google_ads::google_error(
            401,
            "UNAUTHENTICATED",
            message,
            Some(serde_json::json!({
                "errorCode": {"authenticationError": "OAUTH_TOKEN_INVALID"},
                "message": "Oauth token in the header is not valid."
            })),
        )),
    }
}
