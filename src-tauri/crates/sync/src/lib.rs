//! lookback-sync: keeps a workspace current from platform APIs. The only crate that speaks HTTP.
//!
//! Code map:
//! - [`api_versions`]: each connector's pinned API version and announced sunset, in one table;
//!   [`version_warning`] says when a pin is within 30 days of it.
//! - [`connector`]: the [`Connector`] trait — a connector describes requests, judges responses,
//!   parses pages and normalizes records, and never does IO itself.
//! - [`engine`]: drives a connector: fetcher task + writer, one transaction per page (or per
//!   batch of pages already waiting) with the last page's checkpoint, progress events,
//!   cancellation.
//! - `transport`: reqwest client, credential attachment, token bucket, full-jitter retries.
//! - [`rate_limit`]: the token bucket and the backoff formula.
//! - [`progress`]: [`SyncEvent`], the summaries and the [`CancellationToken`].
//! - [`fields`]: reading JSON fields with reasons a person can act on.
//! - [`credentials`]: the OS keyring; [`secret`]: the redacting [`Secret`] type.
//! - [`credential_check`]: a credential's own facts (Meta's `debug_token`: expiry, scopes), a
//!   refusal recorded as "needs reconnecting", and `source reconnect`.
//! - [`credentials`]: the OS keyring; [`secret`]: the redacting [`Secret`] type; [`auth`]:
//!   OAuth grants that keep access tokens valid (refresh, client credentials, the installed-app
//!   consent flow of `source connect`).
//! - [`sources`]: add / list / remove / test a source; [`health`]: the Sources screen's data;
//!   [`replay`]: re-normalizing dead letters after a fix; [`run_log`]: a sync that logs its
//!   run (outcome, retries, unknown fields) for data health.
//! - [`webhooks`]: the opt-in local receiver of signed webhooks and S2S postbacks (verify,
//!   store durably, acknowledge, normalize in the background); [`outbound`]: JSON POSTs of
//!   alert notifications (Slack incoming webhooks).
//! - [`connectors`]: one module per platform; [`registry`]: kind name → connector.
//!
//! Architecture Invariants:
//! - A checkpoint is written in the same transaction as the page it covers.
//! - Secrets live only in the OS keyring and in memory as [`Secret`]; every server text is
//!   redacted before it reaches an error, a dead letter or a progress event.
//! - A bad record becomes a dead letter with its location and reason; it never stops a sync.
//! - Normalization is a pure function of (context, stream, stored payload).

pub mod api_versions;
pub mod auth;
pub mod connector;
pub mod connectors;
pub mod credential_check;
pub mod credential_lifetimes;
pub mod credentials;
pub mod engine;
mod error;
pub mod fields;
pub mod health;
pub mod outbound;
pub mod progress;
pub mod rate_limit;
pub mod registry;
pub mod replay;
pub mod run_log;
pub mod secret;
pub mod sources;
mod transport;
pub mod webhooks;

pub use api_versions::{ApiVersionPin, VersionWarning, version_warning, version_warnings};
pub use auth::{ConnectRequest, ConsentBrowser, connect_source};
pub use connector::{
    AuthScheme, CanonicalRow, Connector, HttpMethod, HttpRequest, HttpResponse, Normalized, Page,
    RateLimit, RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
pub use engine::{SyncOptions, sync_source};
pub use error::{SyncError, SyncResult};
pub use health::{SourceHealth, StreamHealth, source_health};
pub use progress::{
    CancellationToken, SourceSyncSummary, StreamCounters, StreamOutcome, StreamSummary, SyncEvent,
};
pub use replay::{ReplaySummary, replay_dead_letters};
pub use run_log::sync_source_logged;
pub use secret::Secret;
pub use sources::{
    NewSource, add_source, find_source, remove_source, set_source_settings, test_source,
};
pub use transport::RetryPolicy;
