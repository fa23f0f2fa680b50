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

    /// The platform refused the credential (HTTP 401 or 403, or the platform's equivalent).
    #[error(
        "{source_name}: the {kind} API refused the credential ({detail}); check that the key is valid and has read access, then run `lookback source add {kind} --name {source_name}` again with a new key"
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
}

/// The result type of every fallible function in this crate.
pub type SyncResult<T> = Result<T, SyncError>;
