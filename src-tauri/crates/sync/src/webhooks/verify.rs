//! Signature checks of incoming webhooks and postbacks: pure functions of (headers, raw body,
//! secrets, now), so every rule is unit-tested without a server.
//!
//! Schemes:
//! - Stripe: `Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of `"{t}.{raw body}"`;
//!   `t` must not be older than the tolerance. A `t` ahead of this computer's clock is
//!   accepted, as Stripe's own libraries do (`stripe` 16.1.0 `_webhook.py`,
//!   `WebhookSignature.verify_header`: it refuses only `timestamp < time.time() - tolerance`,
//!   with `Webhook.DEFAULT_TOLERANCE = 300`), so a computer whose clock runs a little slow
//!   does not refuse Stripe's deliveries. Replays are stopped by the tolerance and by the
//!   event-id deduplication.
//! - Dub: `Dub-Signature: <hex>`, HMAC-SHA256 of the raw body (Dub signs no timestamp, so
//!   replays are stopped by the event-id deduplication alone).
//! - Generic (Lookback's contract): `X-Timestamp: <unix s>` and `X-Signature: [sha256=]<hex>`,
//!   HMAC-SHA256 of `"{timestamp}.{raw body}"`; the timestamp must be within the tolerance.
//! - Postback (S2S): a per-source `token` query parameter, compared in constant time.
//!
//! Every comparison is constant time (`Mac::verify_slice`, `subtle`), and every secret of the
//! source is tried, so a rotation can keep the old and the new secret valid for a while.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// How a delivery was signed; also decides how it is parsed and normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Stripe,
    Dub,
    Generic,
    Postback,
}

impl Scheme {
    /// The name in endpoint paths and in `webhook_deliveries.scheme`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Stripe => "stripe",
            Scheme::Dub => "dub",
            Scheme::Generic => "generic",
            Scheme::Postback => "postback",
        }
    }

    pub fn parse(text: &str) -> Option<Scheme> {
        match text {
            "stripe" => Some(Scheme::Stripe),
            "dub" => Some(Scheme::Dub),
            "generic" => Some(Scheme::Generic),
            "postback" => Some(Scheme::Postback),
            _ => None,
        }
    }
}

/// Why a delivery was refused. The receiver answers 401 or 400 and says nothing more, so an
/// attacker learns nothing about which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Missing or wrong signature or token, or a timestamp outside the tolerance: 401.
    Unauthorized,
    /// A signature header that cannot be read at all: 400.
    BadRequest,
}

/// The headers the schemes read, already looked up (lowercase names) by the receiver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignatureHeaders<'a> {
    pub stripe_signature: Option<&'a str>,
    pub dub_signature: Option<&'a str>,
    pub x_signature: Option<&'a str>,
    pub x_timestamp: Option<&'a str>,
}

/// Checks a delivery of `scheme`. `token` is the postback's `token` parameter; `now_s` the
/// receiver's clock in Unix seconds; `tolerance_s` the accepted clock distance.
pub fn verify(
    scheme: Scheme,
    headers: &SignatureHeaders<'_>,
    token: Option<&str>,
    body: &[u8],
    secrets: &[Secret],
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), Rejection> {
    if secrets.is_empty() {
        return Err(Rejection::Unauthorized);
    }
    match scheme {
        Scheme::Stripe => {
            verify_stripe(headers.stripe_signature, body, secrets, now_s, tolerance_s)
        }
        Scheme::Dub => {
            let signature = headers.dub_signature.ok_or(Rejection::Unauthorized)?;
            let expected = decode_hex(signature.trim())?;
            any_secret_signs(secrets, &[body], &expected)
        }
        Scheme::Generic => {
            let timestamp = headers.x_timestamp.ok_or(Rejection::Unauthorized)?.trim();
            let signature = headers.x_signature.ok_or(Rejection::Unauthorized)?.trim();
            let signature = signature.strip_prefix("sha256=").unwrap_or(signature);
            let t: i64 = timestamp.parse().map_err(|_| Rejection::BadRequest)?;
            check_tolerance(t, now_s, tolerance_s)?;
            let expected = decode_hex(signature)?;
            any_secret_signs(secrets, &[timestamp.as_bytes(), b".", body], &expected)
        }
        Scheme::Postback => {
            let token = token.ok_or(Rejection::Unauthorized)?;
            // Every secret is compared (no early exit), so timing does not say which matched.
            let mut matched = subtle::Choice::from(0u8);
            for secret in secrets {
                matched |= secret.expose().as_bytes().ct_eq(token.as_bytes());
            }
            if bool::from(matched) {
                Ok(())
            } else {
                Err(Rejection::Unauthorized)
            }
        }
    }
}

fn verify_stripe(
    header: Option<&str>,
    body: &[u8],
    secrets: &[Secret],
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), Rejection> {
    let header = header.ok_or(Rejection::Unauthorized)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(Rejection::BadRequest);
        };
        match key {
            "t" => timestamp = Some(value),
            // Other schemes (`v0`, test-mode signatures) are ignored, as Stripe's libraries do.
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Rejection::BadRequest)?;
    let t: i64 = timestamp.parse().map_err(|_| Rejection::BadRequest)?;
    check_not_older(t, now_s, tolerance_s)?;
    if signatures.is_empty() {
        return Err(Rejection::Unauthorized);
    }
    let mut ok = false;
    for signature in signatures {
        let Ok(expected) = decode_hex(signature) else {
            continue;
        };
        ok |= any_secret_signs(secrets, &[timestamp.as_bytes(), b".", body], &expected).is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(Rejection::Unauthorized)
    }
}

/// Stripe's rule: refuses a timestamp more than `tolerance_s` before now; a future one passes.
fn check_not_older(t: i64, now_s: i64, tolerance_s: i64) -> Result<(), Rejection> {
    if i128::from(t) < i128::from(now_s) - i128::from(tolerance_s) {
        Err(Rejection::Unauthorized)
    } else {
        Ok(())
    }
}

/// The generic scheme's rule: the timestamp must be within `tolerance_s` of now either way.
fn check_tolerance(t: i64, now_s: i64, tolerance_s: i64) -> Result<(), Rejection> {
    if (i128::from(now_s) - i128::from(t)).abs() > i128::from(tolerance_s) {
        Err(Rejection::Unauthorized)
    } else {
        Ok(())
    }
}

fn decode_hex(text: &str) -> Result<Vec<u8>, Rejection> {
    hex::decode(text).map_err(|_| Rejection::BadRequest)
}

/// Whether the HMAC-SHA256 of the concatenated `parts` under any secret equals `expected`
/// (constant-time per secret; all secrets are tried).
fn any_secret_signs(secrets: &[Secret], parts: &[&[u8]], expected: &[u8]) -> Result<(), Rejection> {
    let mut ok = false;
    for secret in secrets {
        let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        ok |= mac.verify_slice(expected).is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(Rejection::Unauthorized)
    }
}

/// The hex HMAC-SHA256 of `parts` under `secret`: what a sender computes. Used by the tests,
/// the load benchmark, and anyone writing a sender for the generic scheme.
pub fn sign_hex(secret: &str, parts: &[&[u8]]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    hex::encode(mac.finalize().into_bytes())
}

/// A `Stripe-Signature` header value for `body` at `t` (Unix seconds) under `secret`.
pub fn stripe_signature_header(secret: &str, t: i64, body: &[u8]) -> String {
    let t_text = t.to_string();
    format!(
        "t={t_text},v1={}",
        sign_hex(secret, &[t_text.as_bytes(), b".", body])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_772_323_200;

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values.iter().map(|v| Secret::new(*v)).collect()
    }

    #[test]
    fn stripe_accepts_a_fresh_signature_under_any_rotated_secret() {
        let body = br#"{"id":"evt_1"}"#;
        let header = stripe_signature_header("whsec_new", NOW - 10, body);
        let h = SignatureHeaders {
            stripe_signature: Some(&header),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Stripe,
                &h,
                None,
                body,
                &secrets(&["whsec_old", "whsec_new"]),
                NOW,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                Scheme::Stripe,
                &h,
                None,
                body,
                &secrets(&["whsec_old"]),
                NOW,
                300
            ),
            Err(Rejection::Unauthorized)
        );
        // A stale timestamp is refused even with a correct signature.
        let stale = stripe_signature_header("whsec_new", NOW - 301, body);
        let h = SignatureHeaders {
            stripe_signature: Some(&stale),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Stripe,
                &h,
                None,
                body,
                &secrets(&["whsec_new"]),
                NOW,
                300
            ),
            Err(Rejection::Unauthorized)
        );
        // Exactly at the tolerance passes; one second older does not (as the SDK's `<`).
        let edge = stripe_signature_header("whsec_new", NOW - 300, body);
        let h = SignatureHeaders {
            stripe_signature: Some(&edge),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Stripe,
                &h,
                None,
                body,
                &secrets(&["whsec_new"]),
                NOW,
                300
            ),
            Ok(())
        );
        // A timestamp ahead of this computer's clock (Stripe's clock is ahead, or ours is
        // slow) is accepted, as Stripe's libraries accept it; a forged one still is not.
        for ahead in [1, 90, 301, 3_600] {
            let future = stripe_signature_header("whsec_new", NOW + ahead, body);
            let h = SignatureHeaders {
                stripe_signature: Some(&future),
                ..Default::default()
            };
            assert_eq!(
                verify(
                    Scheme::Stripe,
                    &h,
                    None,
                    body,
                    &secrets(&["whsec_new"]),
                    NOW,
                    300
                ),
                Ok(()),
                "{ahead} s ahead"
            );
            assert_eq!(
                verify(
                    Scheme::Stripe,
                    &h,
                    None,
                    body,
                    &secrets(&["whsec_old"]),
                    NOW,
                    300
                ),
                Err(Rejection::Unauthorized)
            );
        }
        // A changed body is refused.
        let h = SignatureHeaders {
            stripe_signature: Some(&header),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Stripe,
                &h,
                None,
                b"{}",
                &secrets(&["whsec_new"]),
                NOW,
                300
            ),
            Err(Rejection::Unauthorized)
        );
        let h = SignatureHeaders {
            stripe_signature: Some("garbage"),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Stripe,
                &h,
                None,
                body,
                &secrets(&["whsec_new"]),
                NOW,
                300
            ),
            Err(Rejection::BadRequest)
        );
    }

    #[test]
    fn dub_generic_and_postback_check_their_own_fields() {
        let body = br#"{"id":"evt_1"}"#;
        let sig = sign_hex("dubsecret", &[body]);
        let h = SignatureHeaders {
            dub_signature: Some(&sig),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Dub,
                &h,
                None,
                body,
                &secrets(&["dubsecret"]),
                NOW,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                Scheme::Dub,
                &h,
                None,
                b"x",
                &secrets(&["dubsecret"]),
                NOW,
                300
            ),
            Err(Rejection::Unauthorized)
        );

        let ts = (NOW - 5).to_string();
        let sig = format!("sha256={}", sign_hex("gen", &[ts.as_bytes(), b".", body]));
        let h = SignatureHeaders {
            x_signature: Some(&sig),
            x_timestamp: Some(&ts),
            ..Default::default()
        };
        assert_eq!(
            verify(
                Scheme::Generic,
                &h,
                None,
                body,
                &secrets(&["gen"]),
                NOW,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                Scheme::Generic,
                &h,
                None,
                body,
                &secrets(&["gen"]),
                NOW + 400,
                300
            ),
            Err(Rejection::Unauthorized)
        );

        let h = SignatureHeaders::default();
        assert_eq!(
            verify(
                Scheme::Postback,
                &h,
                Some("tok-2"),
                b"",
                &secrets(&["tok-1", "tok-2"]),
                NOW,
                300
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                Scheme::Postback,
                &h,
                Some("tok-3"),
                b"",
                &secrets(&["tok-1", "tok-2"]),
                NOW,
                300
            ),
            Err(Rejection::Unauthorized)
        );
        assert_eq!(
            verify(
                Scheme::Postback,
                &h,
                None,
                b"",
                &secrets(&["tok-1"]),
                NOW,
                300
            ),
            Err(Rejection::Unauthorized)
        );
        assert_eq!(
            verify(Scheme::Postback, &h, Some("tok-1"), b"", &[], NOW, 300),
            Err(Rejection::Unauthorized)
        );
    }
}
