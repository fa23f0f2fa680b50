//! The HTTP side of the engine: one `reqwest` client per source, the shared token bucket, the
//! credential attached as the connector's [`AuthScheme`] says, and bounded retries with
//! full-jitter exponential backoff that honour `Retry-After` and the connector's own reading of
//! throttling signals.
//!
//! A source with an OAuth grant ([`Connector::token_grant`]) sends an access token from
//! [`AccessTokens`] instead of its stored secret: renewed before it expires, and once more
//! when the connector judges an answer [`ResponseVerdict::TokenExpired`]; a grant the token
//! endpoint declares dead stops the source as unauthorized.
//!
//! Architecture Invariant: every text that leaves this module (errors, wait reasons) passed
//! through [`Secret::redact`] and the access tokens' redaction, and URLs are recorded before a
//! query-parameter credential is added, so a secret cannot reach a dead letter, a log line or
//! the UI from here.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lookback_store::Source;

use crate::auth::{AccessTokens, GrantFailure, SourceSettings, TokenGrant, revoked_grant_detail};
use crate::connector::{
    AuthScheme, Connector, HttpMethod, HttpRequest, HttpResponse, RateLimit, ResponseVerdict,
    SourceContext,
};
use crate::progress::CancellationToken;
use crate::rate_limit::{JitterSource, TokenBucket, full_jitter_backoff};
use crate::secret::Secret;
use crate::{SyncError, SyncResult};

/// How hard to try before giving a page up.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// The backoff of the first retry before jitter; doubles with every further retry.
    pub base_delay: Duration,
    /// The largest backoff between two attempts.
    pub max_delay: Duration,
    /// How long one request may take before it counts as a (transient) timeout.
    pub request_timeout: Duration,
    /// The longest `Retry-After` (or platform wait) honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(15 * 60),
        }
    }
}

/// Why a request was given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FetchFailure {
    Unauthorized(String),
    Exhausted {
        attempts: u32,
        last_error: String,
    },
    Fatal(String),
    /// The platform said the request asks for too much, and the caller can make it smaller.
    TooLarge(String),
    Cancelled,
}

/// What a request came back with.
pub(crate) enum Fetched {
    Response(HttpResponse),
    Unavailable(String),
}

/// Waits and retries observed while fetching one request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FetchCost {
    pub retries: u64,
    pub waited: Duration,
}

/// The HTTP client of one source's sync run.
pub(crate) struct Transport {
    client: reqwest::Client,
    secret: Secret,
    auth: AuthScheme,
    /// The access tokens of a source with an OAuth grant; `None` sends `secret` itself.
    tokens: Option<AccessTokens>,
    bucket: tokio::sync::Mutex<TokenBucket>,
    retry: RetryPolicy,
    jitter: Mutex<JitterSource>,
}

impl Transport {
    pub(crate) fn new(
        secret: Secret,
        auth: AuthScheme,
        rate_limit: RateLimit,
        retry: RetryPolicy,
    ) -> Result<Transport, String> {
        let client = reqwest::Client::builder()
            .timeout(retry.request_timeout)
            .connect_timeout(Duration::from_secs(15))
            .user_agent(concat!("lookback/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.without_url().to_string())?;
        Ok(Transport {
            client,
            secret,
            auth,
            tokens: None,
            bucket: tokio::sync::Mutex::new(TokenBucket::new(rate_limit)),
            retry,
            jitter: Mutex::new(JitterSource::seeded()),
        })
    }

    /// The transport of one source: its secret, and the OAuth grant the connector finds in it
    /// (see [`Connector::token_grant`]). A secret that cannot be used yet (an OAuth client
    /// that was never connected) is [`SyncError::Unauthorized`] with what to do.
    pub(crate) fn for_source(
        connector: &dyn Connector,
        context: &SourceContext,
        source: &Source,
        secret: &Secret,
        settings: &SourceSettings,
        rate_limit: RateLimit,
        retry: RetryPolicy,
    ) -> SyncResult<Transport> {
        let grant = connector
            .token_grant(context, secret, settings)
            .map_err(|detail| SyncError::Unauthorized {
                source_name: source.name.clone(),
                kind: source.kind.clone(),
                detail,
            })?;
        Transport::new(secret.clone(), connector.auth_scheme(), rate_limit, retry)
            .and_then(|transport| transport.with_token_grant(grant))
            .map_err(|detail| SyncError::Connector {
                connector: connector.kind(),
                detail,
            })
    }

    /// Gets access tokens from `grant` instead of sending the stored secret, if there is one.
    pub(crate) fn with_token_grant(mut self, grant: Option<TokenGrant>) -> Result<Self, String> {
        self.tokens = grant.map(AccessTokens::new).transpose()?;
        Ok(self)
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        let redacted = self.secret.redact(text);
        match &self.tokens {
            Some(tokens) => tokens.redact(&redacted),
            None => redacted,
        }
    }

    /// Sends one request once, with the credential attached: `access_token` when the source
    /// has an OAuth grant, else the stored secret.
    async fn send_once(
        &self,
        request: &HttpRequest,
        access_token: Option<&Secret>,
    ) -> Result<HttpResponse, String> {
        let credential = access_token.unwrap_or(&self.secret);
        let mut url = reqwest::Url::parse(&request.url)
            .map_err(|e| format!("invalid URL {}: {e}", request.url))?;
        if let AuthScheme::QueryParameter(name) = self.auth {
            url.query_pairs_mut().append_pair(name, credential.expose());
        }
        let mut builder = match request.method {
            HttpMethod::Get => self.client.get(url),
            HttpMethod::Post => self.client.post(url),
        };
        builder = match self.auth {
            AuthScheme::Bearer => builder.bearer_auth(credential.expose()),
            AuthScheme::BasicUsername => builder.basic_auth(credential.expose(), Some("")),
            AuthScheme::Header(name) => builder.header(name, credential.expose()),
            AuthScheme::QueryParameter(_) => builder,
            AuthScheme::BearerWithSecretHeaders { bearer, headers } => {
                let token = match access_token {
                    Some(token) => token.expose().to_owned(),
                    None => self
                        .secret
                        .field(bearer)
                        .unwrap_or_else(|| self.secret.expose().to_owned()),
                };
                let mut builder = builder.bearer_auth(token);
                for (field, header) in headers {
                    if let Some(value) = self.secret.field(field) {
                        builder = builder.header(*header, value);
                    }
                }
                builder
            }
        };
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            if let Some(content_type) = request.content_type {
                builder = builder.header("content-type", content_type);
            }
            builder = builder.body(body.clone());
        }
        // `without_url` because a URL may carry a query-parameter credential.
        let response = builder
            .send()
            .await
            .map_err(|e| describe(e.without_url()))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| describe(e.without_url()))?
            .to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    /// Sends `request` through the rate limiter, retrying throttled and transient failures
    /// with backoff until the policy's attempts are spent. `on_wait` hears every wait longer
    /// than a second (seconds, reason) so progress can show it. `can_shrink` says whether the
    /// caller has a smaller request to make instead: then a [`ResponseVerdict::TooLarge`]
    /// answer returns at once, else it is retried like a transient failure. The arguments are
    /// the request and everything it is judged and reported with; bundling them would only
    /// rename them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn fetch(
        &self,
        connector: &dyn Connector,
        context: &SourceContext,
        stream: &str,
        request: &HttpRequest,
        cancel: &CancellationToken,
        cost: &mut FetchCost,
        on_wait: &mut (dyn FnMut(f64, String) + Send),
        can_shrink: bool,
    ) -> Result<Fetched, FetchFailure> {
        let mut attempt = 0;
        // Whether this request already got a new access token after one was refused: a
        // second refusal is not expiry but a credential the platform does not accept.
        let mut renewed_after_rejection = false;
        loop {
            attempt += 1;
            self.take_token(cancel, cost, on_wait).await?;
            let access_token = match &self.tokens {
                Some(tokens) => match tokens.current().await {
                    Ok(token) => Some(token),
                    Err(failure) => {
                        // The token endpoint is unreachable: back off as for any transient
                        // failure (a dead grant returns here instead).
                        let detail = self.transient_grant_failure(failure)?;
                        self.back_off(attempt, None, detail, cancel, cost, on_wait)
                            .await?;
                        continue;
                    }
                },
                None => None,
            };
            let verdict = match self.send_once(request, access_token.as_ref()).await {
                Ok(response) => match connector.check_response(context, stream, &response) {
                    ResponseVerdict::Accept => return Ok(Fetched::Response(response)),
                    ResponseVerdict::TokenExpired { detail } => {
                        match (&self.tokens, &access_token) {
                            (Some(tokens), Some(rejected)) if !renewed_after_rejection => {
                                renewed_after_rejection = true;
                                match tokens.renew_after_rejection(rejected).await {
                                    // Sent again at once with the new token; not a retry.
                                    Ok(_) => {
                                        attempt -= 1;
                                        continue;
                                    }
                                    Err(failure) => ResponseVerdict::Transient {
                                        detail: self.transient_grant_failure(failure)?,
                                    },
                                }
                            }
                            _ => ResponseVerdict::Unauthorized { detail },
                        }
                    }
                    verdict => verdict,
                },
                Err(error) => ResponseVerdict::Transient { detail: error },
            };
            let (asked_wait, detail) = match verdict {
                ResponseVerdict::Accept => unreachable!("accepted responses returned above"),
                ResponseVerdict::Unauthorized { detail } => {
                    return Err(FetchFailure::Unauthorized(self.redact(&detail)));
                }
                ResponseVerdict::StreamUnavailable { detail } => {
                    return Ok(Fetched::Unavailable(self.redact(&detail)));
                }
                ResponseVerdict::Fatal { detail } => {
                    return Err(FetchFailure::Fatal(self.redact(&detail)));
                }
                ResponseVerdict::Throttled { wait, detail } => {
                    (wait, format!("throttled: {detail}"))
                }
                ResponseVerdict::Transient { detail } => (None, detail),
                ResponseVerdict::TooLarge { detail } if can_shrink => {
                    return Err(FetchFailure::TooLarge(self.redact(&detail)));
                }
                ResponseVerdict::TooLarge { detail } => (None, detail),
                #[allow(unreachable_patterns)]
                other => (None, format!("{other:?}")),
            };
            self.back_off(attempt, asked_wait, detail, cancel, cost, on_wait)
                .await?;
        }
    }

    /// What a failed token request means for the request waiting on it: a dead or refused
    /// grant stops the source (`Err`); an unreachable endpoint is a transient failure whose
    /// detail is returned, to be retried with backoff.
    fn transient_grant_failure(&self, failure: GrantFailure) -> Result<String, FetchFailure> {
        match failure {
            GrantFailure::Unreachable { detail } => Ok(detail),
            failure => Err(FetchFailure::Unauthorized(
                self.redact(&revoked_grant_detail(&failure)),
            )),
        }
    }

    /// Waits before the next attempt (the platform's `asked_wait`, else full-jitter backoff),
    /// or gives up when the attempts are spent.
    async fn back_off(
        &self,
        attempt: u32,
        asked_wait: Option<Duration>,
        detail: String,
        cancel: &CancellationToken,
        cost: &mut FetchCost,
        on_wait: &mut (dyn FnMut(f64, String) + Send),
    ) -> Result<(), FetchFailure> {
        {
            let detail = self.redact(&detail);
            if attempt >= self.retry.max_attempts {
                return Err(FetchFailure::Exhausted {
                    attempts: attempt,
                    last_error: detail,
                });
            }
            let unit = self.jitter.lock().map(|mut j| j.next_unit()).unwrap_or(0.5);
            let backoff =
                full_jitter_backoff(attempt, self.retry.base_delay, self.retry.max_delay, unit);
            let delay = match asked_wait {
                Some(wait) => wait
                    .min(self.retry.max_retry_after)
                    .max(backoff.min(Duration::from_millis(250))),
                None => backoff,
            };
            cost.retries += 1;
            cost.waited += delay;
            on_wait(
                delay.as_secs_f64(),
                format!(
                    "{detail}; retry {attempt} of {}",
                    self.retry.max_attempts - 1
                ),
            );
            if !crate::progress::sleep_unless_cancelled(cancel, delay).await {
                return Err(FetchFailure::Cancelled);
            }
            Ok(())
        }
    }

    async fn take_token(
        &self,
        cancel: &CancellationToken,
        cost: &mut FetchCost,
        on_wait: &mut (dyn FnMut(f64, String) + Send),
    ) -> Result<(), FetchFailure> {
        loop {
            if cancel.is_cancelled() {
                return Err(FetchFailure::Cancelled);
            }
            let wait = match self.bucket.lock().await.try_take(Instant::now()) {
                Ok(()) => return Ok(()),
                Err(wait) => wait,
            };
            cost.waited += wait;
            if wait >= Duration::from_secs(1) {
                on_wait(wait.as_secs_f64(), "client-side rate limit".to_owned());
            }
            if !crate::progress::sleep_unless_cancelled(cancel, wait).await {
                return Err(FetchFailure::Cancelled);
            }
        }
    }
}

/// A transport error in words, with its causes (e.g. "error sending request: connection refused").
fn describe(error: reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "request timed out".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
