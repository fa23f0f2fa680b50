//! The one error type of lookback-sync. Every message names the source and stream it concerns
//! and what a person can do about it; no message ever contains a credential, because the
//! engine redacts the secret from any text that came from a server before it is wrapped here.

use lookback_store::StoreError;

/// Everything that can stop a sync, a source command or a replay.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No connector is registered for this kind of source.
    #[error("unknown source kind {kind:?} (known kinds: {known})")]
    UnknownKind { kind: String, known: String },

    /// No source with this name is registered in the workspace.
    #[error("no source named {name:?} (see `lookback source list`)")]
    UnknownSource { name: String },

    /// A source could not be registered as asked (a bad name, a duplicate, a missing base URL).
    #[error("invalid source: {detail}")]
    InvalidSource { detail: String },

    /// The platform refused the credential (HTTP 401 or 403, or the platform's equivalent:
    /// Meta 190, TikTok's auth codes, a revoked OAuth grant). The source now needs
    /// reconnecting; the message names the one action that fixes it.
    #[error(
        "{source_name}: the {kind} API refused the credential ({detail}); the source needs reconnecting: run `lookback source reconnect {source_name}` (or Reconnect on the Sources screen) with a new key that has read access — its data and checkpoints stay"
    )]
    Unauthorized {
        source_name: String,
        kind: String,
        detail: String,
    },

    /// A request kept failing (timeouts, 5xx, throttling) until the retry budget ran out.
    #[error("{source_name}/{stream}: gave up after {attempts} attempts: {last_error}")]
    RetriesExhausted {
        source_name: String,
        stream: String,
        attempts: u32,
        last_error: String,
    },

    /// The server answered in a way no retry can fix (a 400, a 404, a page that is not the
    /// documented shape).
    #[error("{source_name}/{stream}: {detail}")]
    UnexpectedResponse {
        source_name: String,
        stream: String,
        detail: String,
    },

    /// A connector could not build a request or read its own checkpoint.
    #[error("{connector}: {detail}")]
    Connector {
        connector: &'static str,
        detail: String,
    },

    /// The OS keyring refused to store, read or delete a credential.
    #[error("keyring: {detail}")]
    Keyring { detail: String },

    /// The keyring has no credential for this source (it was removed outside Lookback).
    #[error("no credential for source {source_name:?} in the OS keyring; add the source again")]
    MissingCredential { source_name: String },

    /// `source connect` got no grant: the consent page timed out or was refused, or the
    /// authorization code was not accepted. Nothing was changed; the command can be run again.
    #[error("{source_name}: connecting failed: {detail}")]
    ConsentFailed { source_name: String, detail: String },

    /// The sync was cancelled; everything up to the last committed page is kept.
    #[error("the sync was cancelled; it resumes from its last checkpoint next time")]
    Cancelled,

    /// Reading the secret from stdin or the terminal failed.
    #[error("cannot read the secret: {0}")]
    Io(#[from] std::io::Error),

    /// The workspace store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// The platform no longer serves the API version this Lookback is pinned to (see
    /// [`crate::api_versions`]): Meta's `(#2635) You are calling a deprecated version`, Google
    /// Ads' `UNSUPPORTED_VERSION` or a 404 for the whole version path. No retry or new
    /// credential helps; only a Lookback with a newer pin does.
    #[error(
        "{platform} retired API version {version}{}; this Lookback needs an update",
        on_day(.date)
    )]
    ApiVersionRetired {
        platform: String,
        version: String,
        /// The announced sunset day (`YYYY-MM-DD`), when Lookback knows it.
        date: Option<String>,
    },
}

/// " on DAY" when the day is known, else nothing.
fn on_day(date: &Option<String>) -> String {
    date.as_deref()
        .map(|day| format!(" on {day}"))
        .unwrap_or_default()
}

/// The result type of every fallible function in this crate.
pub type SyncResult<T> = Result<T, SyncError>;
