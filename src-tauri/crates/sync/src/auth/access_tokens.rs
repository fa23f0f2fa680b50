//! The access token of one source's sync run, kept in memory only: asked for from the token
//! endpoint on first use, renewed before it expires, and renewed once more when the platform
//! refuses it as expired. Every token it ever held is remembered for redaction, so a server
//! that echoes an old token in an error body cannot leak it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::token_grant::{GrantFailure, IssuedToken, TokenGrant, token_http_client};
use crate::secret::Secret;

/// Renew a token this long before it expires (at most half its lifetime, so a short-lived
/// token is still used at all): requests in flight and clocks that disagree by a little never
/// meet an expired token.
pub const RENEWAL_MARGIN: Duration = Duration::from_secs(5 * 60);

/// When a token issued at `issued_at` with `lifetime` should be replaced: [`RENEWAL_MARGIN`]
/// (or half its lifetime, if shorter) before it expires. `None`: it never expires on its own.
pub fn renewal_due(issued_at: Instant, lifetime: Option<Duration>) -> Option<Instant> {
    let lifetime = lifetime?;
    let margin = RENEWAL_MARGIN.min(lifetime / 2);
    Some(issued_at + (lifetime - margin))
}

/// The token in use and when to replace it.
struct CurrentToken {
    token: Secret,
    renew_at: Option<Instant>,
}

/// The access tokens of one source, shared by its streams.
pub(crate) struct AccessTokens {
    grant: TokenGrant,
    http: reqwest::Client,
    current: tokio::sync::Mutex<Option<CurrentToken>>,
    /// Every token issued during this run, for [`AccessTokens::redact`].
    issued: Mutex<Vec<Secret>>,
}

impl AccessTokens {
    pub(crate) fn new(grant: TokenGrant) -> Result<AccessTokens, String> {
        Ok(AccessTokens {
            grant,
            http: token_http_client()?,
            current: tokio::sync::Mutex::new(None),
            issued: Mutex::new(Vec::new()),
        })
    }

    /// The token to send now: the current one, or a new one if there is none yet or it is
    /// due for renewal. Concurrent callers wait for one renewal instead of each making one.
    pub(crate) async fn current(&self) -> Result<Secret, GrantFailure> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref() {
            let fresh = token.renew_at.is_none_or(|at| Instant::now() < at);
            if fresh {
                return Ok(token.token.clone());
            }
        }
        self.renew(&mut current).await
    }

    /// A new token after the platform refused `rejected` as expired. If another stream has
    /// already replaced it, that replacement is used instead of asking again.
    pub(crate) async fn renew_after_rejection(
        &self,
        rejected: &Secret,
    ) -> Result<Secret, GrantFailure> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref()
            && token.token != *rejected
        {
            return Ok(token.token.clone());
        }
        self.renew(&mut current).await
    }

    async fn renew(&self, current: &mut Option<CurrentToken>) -> Result<Secret, GrantFailure> {
        let issued_at = Instant::now();
        let IssuedToken {
            access_token,
            lifetime,
            ..
        } = self.grant.request(&self.http).await?;
        if let Ok(mut issued) = self.issued.lock() {
            issued.push(access_token.clone());
        }
        *current = Some(CurrentToken {
            token: access_token.clone(),
            renew_at: renewal_due(issued_at, lifetime),
        });
        Ok(access_token)
    }

    /// `text` with every token of this run, and the grant's own secrets, replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut redacted = self.grant.client_secret.redact(text);
        if let super::GrantKind::RefreshToken(refresh_token) = &self.grant.kind {
            redacted = refresh_token.redact(&redacted);
        }
        if let Ok(issued) = self.issued.lock() {
            for token in issued.iter() {
                redacted = token.redact(&redacted);
            }
        }
        redacted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_five_minutes_before_it_expires_or_at_half_its_life() {
        let start = Instant::now();
        // Google's tokens live an hour: renewed at 55 minutes.
        assert_eq!(
            renewal_due(start, Some(Duration::from_secs(3600))),
            Some(start + Duration::from_secs(55 * 60))
        );
        // Shopify's live 24 hours less a second.
        assert_eq!(
            renewal_due(start, Some(Duration::from_secs(86_399))),
            Some(start + Duration::from_secs(86_399 - 300))
        );
        // A token shorter-lived than twice the margin is renewed at half its life.
        assert_eq!(
            renewal_due(start, Some(Duration::from_secs(4))),
            Some(start + Duration::from_secs(2))
        );
        assert_eq!(renewal_due(start, None), None);
    }
}
