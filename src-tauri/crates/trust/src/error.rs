//! The one error type of lookback-trust.

use std::path::PathBuf;

/// Everything that can go wrong checking, backing up, erasing or reconciling a workspace.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The store refused or failed (missing, foreign, damaged or newer file; SQLite errors).
    #[error(transparent)]
    Store(#[from] lookback_store::StoreError),

    /// A target file of a backup or restore already exists; neither ever overwrites.
    #[error("{path} already exists; choose a new file name (nothing is ever overwritten)")]
    TargetExists { path: PathBuf },

    /// An erasure was asked for with an empty or unusable key (e.g. an email without `@`).
    #[error("cannot erase by {key_type}: {detail}")]
    InvalidKey {
        key_type: &'static str,
        detail: String,
    },

    /// The erasure key matched nothing in the workspace; nothing was changed or logged.
    #[error("no record in the workspace carries that {key_type}; nothing was erased")]
    PersonNotFound { key_type: &'static str },

    /// `purge` was run on a workspace with no retention setting.
    #[error("the workspace has no raw_payload_retention_days setting; set one before purging")]
    NoRetention,

    /// A date or window given to reconciliation is malformed or empty.
    #[error("invalid window: {0}")]
    InvalidWindow(String),

    /// The workspace's reporting time zone is not a valid IANA zone, or an instant is out of range.
    #[error("time: {0}")]
    Time(#[from] lookback_core::error::CoreError),
}

/// The result type of every fallible function in this crate.
pub type TrustResult<T> = Result<T, TrustError>;
