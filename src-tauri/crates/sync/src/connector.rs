//! The contract between the sync engine and a connector. A connector never performs IO: it
//! describes requests, judges responses, parses pages and normalizes records, and the engine
//! ([`crate::engine`]) does the HTTP, the rate limiting, the retries, the transactions and the
//! checkpoints. That split is why the machinery is written once and not once per platform, and
//! why a connector can be unit-tested with a string as its "server".
//!
//! The life of one stream in one sync run:
//! 1. [`Connector::start_position`] turns the stored checkpoint (if any) into the position of the
//!    first request of this run, or `None` when there is nothing to fetch.
//! 2. [`Connector::page_request`] builds the request for a position; the engine adds the
//!    credential as [`Connector::auth_scheme`] says, so no connector ever touches the secret.
//! 3. [`Connector::check_response`] classifies the answer: accept it, wait (throttled — also
//!    when the platform says so inside an HTTP 200 body), retry (transient), or stop.
//! 4. [`Connector::parse_page`] turns an accepted answer into [`RawRecord`]s, the checkpoint to
//!    store with them, and the position of the next request (`None` ends the run).
//! 5. [`Connector::normalize`] turns one stored payload into canonical rows, or a
//!    [`RecordProblem`] that becomes a dead letter. It is pure, so replaying a dead letter or
//!    reprocessing `raw_events` after a fix gives the same rows a sync would have written.

use std::time::Duration;

use lookback_store::{
    AdSpend, Campaign, Content, Creator, CreatorCost, IdentityLink, Order, OrderAdjustment,
    OrderAlias, Touch,
};
use reqwest::header::HeaderMap;

use crate::SyncError;
use crate::auth::{SourceSettings, TokenGrant};
use crate::secret::Secret;

/// What a connector knows about the source it is syncing. Built by the engine from the stored
/// source and the sync options; never holds the secret.
#[derive(Debug, Clone)]
pub struct SourceContext {
    /// `sources.source_id`: written as `source` on every raw event and canonical row.
    pub source_id: String,
    /// The source's name as the user typed it, for messages.
    pub source_name: String,
    /// The API root without a trailing slash: the source's `--base-url`, else the connector's
    /// default.
    pub base_url: String,
    /// The source's `--account` (ad account, advertiser, customer id, shop), if any.
    pub account: Option<String>,
    /// Days re-read on every incremental sync because the platform restates them.
    pub restatement_days: u32,
    /// Records per request; the connector clamps it to what the platform allows.
    pub page_size: u32,
    /// The time the sync run started (UTC ms). Connectors use it for restatement windows and
    /// watermarks instead of reading a clock, so a run is reproducible in tests.
    pub now_ms: i64,
}

/// How the engine attaches the credential to every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthScheme {
    /// `Authorization: Bearer <secret>` (Stripe, Dub, Google Ads, the generic API).
    Bearer,
    /// HTTP Basic with the secret as user name and an empty password (Rewardful, Stripe).
    BasicUsername,
    /// The secret as the value of this header (`X-Shopify-Access-Token`, TikTok's `Access-Token`).
    Header(&'static str),
    /// The secret as this query parameter (Meta's `access_token`). The engine adds it after the
    /// URL was recorded, so it never reaches a dead letter or a message.
    QueryParameter(&'static str),
    /// A structured secret (see [`crate::Secret::field`]): its field `bearer` as
    /// `Authorization: Bearer`, and each `(field, header)` of `headers` that the secret holds
    /// as that header (Google Ads: `developer_token` → `developer-token`). A secret that is not
    /// a JSON object is the bearer token alone.
    BearerWithSecretHeaders {
        bearer: &'static str,
        headers: &'static [(&'static str, &'static str)],
    },
}

/// A client-side token bucket: at most `burst` requests at once, refilled at
/// `requests_per_second`. Sized per platform from its documented limits and configurable per
/// sync.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub requests_per_second: f64,
    pub burst: u32,
}

impl RateLimit {
    /// No client-side limit (benchmarks, loopback tests).
    pub const UNLIMITED: RateLimit = RateLimit {
        requests_per_second: f64::INFINITY,
        burst: u32::MAX,
    };
}

/// The HTTP method of a request; only what the platforms need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

/// A request as a connector describes it. `url` is complete (query included) and free of
/// secrets, so the engine may put it into dead letters and progress messages as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: String,
    /// Extra headers that are not the credential (`Stripe-Version`, `developer-token`, ...).
    pub headers: Vec<(String, String)>,
    /// A body for POST requests, sent as-is with `content_type`.
    pub body: Option<String>,
    pub content_type: Option<&'static str>,
}

impl HttpRequest {
    /// A GET of `url` with no extra headers.
    pub fn get(url: impl Into<String>) -> HttpRequest {
        HttpRequest {
            method: HttpMethod::Get,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            content_type: None,
        }
    }

    /// Adds a (non-secret) header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A response as the engine received it.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of a header, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The start of the body as text, for error messages (the engine redacts the secret).
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut excerpt: String = text.chars().take(300).collect();
        if text.chars().count() > 300 {
            excerpt.push('…');
        }
        excerpt
    }

    /// `Retry-After` in seconds (the delta-seconds form; an HTTP date is ignored).
    pub fn retry_after(&self) -> Option<Duration> {
        let text = self.header("retry-after")?.trim();
        text.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
    }
}

/// What the engine should do with a response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResponseVerdict {
    /// Parse it as a page.
    Accept,
    /// The platform asks us to slow down (429, a rate-limit error code, a usage header near
    /// 100 %, TikTok's 40100 inside a 200). `wait` is how long it asked for, if it said; the
    /// engine waits at least that, else its own backoff, and retries.
    Throttled {
        wait: Option<Duration>,
        detail: String,
    },
    /// A failure that may pass (5xx, 408, a platform timeout code): retry with backoff.
    Transient { detail: String },
    /// The credential was refused: stop the whole source with a clear message.
    Unauthorized { detail: String },
    /// The access token was refused as expired or invalid (Google's 401 `UNAUTHENTICATED` /
    /// `OAUTH_TOKEN_EXPIRED`, Shopify's 401). For a source with an OAuth grant the engine asks
    /// the token endpoint for a new token and sends the request once more; for a static
    /// credential, or when the new token is refused too, it is [`ResponseVerdict::Unauthorized`].
    TokenExpired { detail: String },
    /// This stream does not exist on this server or account (e.g. an emulator without
    /// `/v1/disputes`): skip it, say so in the summary, and go on with the other streams.
    StreamUnavailable { detail: String },
    /// A failure no retry fixes (400 with a bad parameter): the stream stops with this error.
    Fatal { detail: String },
    /// The request asked for more than the platform will answer at once (Meta's query
    /// timeouts and "reduce the amount of data"): the engine asks
    /// [`Connector::smaller_position`] for a smaller request, and retries as for
    /// [`ResponseVerdict::Transient`] when there is none.
    TooLarge { detail: String },
}

/// The classification every connector starts from: 2xx accept, 401/403 unauthorized, 429
/// throttled (honouring `Retry-After`), 408/5xx transient, anything else fatal.
pub fn default_verdict(response: &HttpResponse) -> ResponseVerdict {
    match response.status {
        200..=299 => ResponseVerdict::Accept,
        401 | 403 => ResponseVerdict::Unauthorized {
            detail: format!("HTTP {}", response.status),
        },
        429 => ResponseVerdict::Throttled {
            wait: response.retry_after(),
            detail: "HTTP 429".to_owned(),
        },
        408 | 500..=599 => ResponseVerdict::Transient {
            detail: format!("HTTP {}: {}", response.status, response.body_excerpt()),
        },
        status => ResponseVerdict::Fatal {
            detail: format!("HTTP {status}: {}", response.body_excerpt()),
        },
    }
}

/// One record of a page, as received. The engine minimizes `payload` (e-mails hashed, other
/// personal fields redacted unless the workspace keeps them; `lookback_core::pii::minimize`)
/// before it is stored or normalized, so raw PII never reaches the store.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// The platform's own id of the record: the idempotency key in `raw_events`.
    pub external_id: String,
    pub payload: serde_json::Value,
}

/// An accepted page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub records: Vec<RawRecord>,
    /// The checkpoint to store in the same transaction as these records. A run killed after
    /// this page resumes from it through [`Connector::start_position`].
    pub checkpoint: String,
    /// The position of the next request of this run, or `None` when the stream is caught up.
    pub next: Option<String>,
    /// Wait this long before the next request: a usage header says the quota is nearly
    /// spent, or an async report job is still running.
    pub pause_before_next: Option<Duration>,
}

/// The canonical rows one record normalizes to. Written by the engine in the page's
/// transaction, with `raw_event_id` set to the record's raw event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonicalRow {
    Touch(Touch),
    /// An order; if it exists, its status is updated to this one (a pending charge that
    /// succeeded, a cancelled order).
    Order(Order),
    /// Another id of the order just before it (an invoice, a payment intent, the shop's order
    /// id), under which another platform may report the same sale: one sale, one order.
    OrderAlias(OrderAlias),
    /// A refund or chargeback; if it exists, its status is updated (dispute won or lost).
    Adjustment(OrderAdjustment),
    /// A day of spend; a restated day replaces the stored row.
    AdSpend(AdSpend),
    CreatorCost(CreatorCost),
    /// The creator cost `cost_id` of `source` is void (a voided commission): it costs nothing,
    /// so a stored row of it goes. Its raw event stays.
    VoidedCreatorCost {
        cost_id: String,
        source: String,
    },
    IdentityLink(IdentityLink),
    Creator(Creator),
    Campaign(Campaign),
    Content(Content),
}

/// A normalized record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// Possibly empty: a failed Stripe charge is logged in `raw_events` but is not an order.
    pub rows: Vec<CanonicalRow>,
    /// Top-level fields of the payload the connector does not know (schema drift). They stay
    /// in the raw payload; the sync summary reports the count.
    pub unknown_fields: u32,
}

/// Why a record could not be normalized, in words a person can act on: which field, what was
/// expected, what came. Becomes a dead letter; never stops the sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordProblem {
    pub reason: String,
}

impl RecordProblem {
    pub fn new(reason: impl Into<String>) -> RecordProblem {
        RecordProblem {
            reason: reason.into(),
        }
    }
}

/// One platform's API, as the engine drives it. Implementations are stateless values (all
/// run state lives in positions and checkpoints), shared across tasks behind an `Arc`.
pub trait Connector: Send + Sync + 'static {
    /// The kind name users type: `generic`, `stripe`, `meta`, ...
    fn kind(&self) -> &'static str;

    /// The streams of this connector, synced in this order.
    fn streams(&self) -> &'static [&'static str];

    /// The public API root, if the platform has one; `None` means `--base-url` is required.
    fn default_base_url(&self) -> Option<&'static str>;

    fn auth_scheme(&self) -> AuthScheme;

    /// The client-side rate limit from the platform's documented limits.
    fn default_rate_limit(&self) -> RateLimit;

    /// Days re-read on every incremental sync (Meta: 28); 0 when records never change.
    fn default_restatement_days(&self) -> u32 {
        0
    }

    /// Records per request when the user did not choose.
    fn default_page_size(&self) -> u32 {
        100
    }

    /// Bumped when `normalize` changes meaning; stored on each raw event.
    fn normalizer_version(&self) -> i64 {
        1
    }

    /// Whether the source needs `--account` (an ad account id, a shop).
    fn requires_account(&self) -> bool {
        false
    }

    /// The position of this run's first request, from the stored checkpoint (`None` on a
    /// first sync). `Ok(None)` means there is nothing to fetch.
    fn start_position(
        &self,
        context: &SourceContext,
        stream: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError>;

    /// The request that fetches the page at `position`.
    fn page_request(
        &self,
        context: &SourceContext,
        stream: &str,
        position: &str,
    ) -> Result<HttpRequest, SyncError>;

    /// How to treat a response. Override to read throttling from a 200 body or usage headers
    /// and fall back to [`default_verdict`].
    fn check_response(
        &self,
        _context: &SourceContext,
        _stream: &str,
        response: &HttpResponse,
    ) -> ResponseVerdict {
        default_verdict(response)
    }

    /// Parses an accepted response. An `Err` here (the envelope is not the documented shape)
    /// stops the stream and dead-letters the page; a bad *record* is not an error here but a
    /// [`RecordProblem`] from `normalize`.
    fn parse_page(
        &self,
        context: &SourceContext,
        stream: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String>;

    /// Normalizes one stored payload (e-mails already hashed). Pure: the same payload and
    /// context always give the same rows.
    fn normalize(
        &self,
        context: &SourceContext,
        stream: &str,
        payload: &serde_json::Value,
    ) -> Result<Normalized, RecordProblem>;

    /// One cheap authenticated request for `lookback source test`.
    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError>;

    /// Checks (and may reshape) the secret `source add` is about to store. A connector whose
    /// platform needs several secret parts (Google Ads) validates them here and returns the
    /// one value the keyring keeps. The error names what is wrong, never the secret.
    fn prepare_secret(&self, secret: Secret) -> Result<Secret, String> {
        Ok(secret)
    }

    /// The OAuth grant that turns this source's secret into access tokens, when the secret is
    /// one (Google Ads: client id, client secret and refresh token; Shopify: client id and
    /// secret). `Ok(None)`, the default, sends the secret itself as [`Connector::auth_scheme`]
    /// says. `settings` are the source's non-secret settings (endpoint overrides). An `Err`
    /// says, without the secret, why the secret cannot be used yet (e.g. not connected).
    fn token_grant(
        &self,
        _context: &SourceContext,
        _secret: &Secret,
        _settings: &SourceSettings,
    ) -> Result<Option<TokenGrant>, String> {
        Ok(None)
    }

    /// A smaller request instead of the one at `position`, when the platform answered that it
    /// asked for too much ([`ResponseVerdict::TooLarge`]): e.g. the first half of its date
    /// range. `None` (the default, and for a request that cannot be made smaller) makes the
    /// engine treat the answer as transient: retried with backoff, then dead-lettered.
    fn smaller_position(
        &self,
        _context: &SourceContext,
        _stream: &str,
        _position: &str,
    ) -> Option<String> {
        None
    }
}
