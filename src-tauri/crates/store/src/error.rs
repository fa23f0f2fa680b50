//! The one error type of lookback-store. Every variant says what went wrong in terms a caller
//! can act on; the CLI and the window map variants to their own `{kind, message}` without
//! reading message text.

use std::path::PathBuf;

/// Everything that can go wrong opening, reading or writing a workspace file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `open` was given a path where no file exists.
    #[error("no workspace at {path}")]
    NotFound { path: PathBuf },

    /// `create` was given a path that already holds a non-empty file; it never overwrites.
    #[error("{path} already exists and is not empty")]
    AlreadyExists { path: PathBuf },

    /// The file is not SQLite at all, or is an SQLite file of another application.
    /// The file was only read, never written.
    #[error("{path} is not a Lookback workspace: {detail}")]
    NotAWorkspace { path: PathBuf, detail: String },

    /// The file is a Lookback workspace but damaged: the checks on open failed (for example a
    /// truncated copy), SQLite met a damaged page while reading it, or a whole-file check found
    /// problems. The file was only read, never written.
    #[error("the workspace {path} is damaged: {detail}")]
    Damaged { path: PathBuf, detail: String },

    /// The workspace was written by a newer Lookback whose schema this binary does not know.
    /// The file was left untouched.
    #[error("the workspace has schema version {found}; this Lookback supports up to {supported}")]
    NewerVersion { found: i64, supported: i64 },

    /// A read-only open found a workspace with an older schema; it has to be opened read-write
    /// once so its migrations can run.
    #[error(
        "the workspace has schema version {found} and needs upgrading to {supported}, which a read-only open cannot do"
    )]
    NeedsUpgrade { found: i64, supported: i64 },

    /// An upgrade to this binary's schema was stopped before it finished (the user cancelled
    /// it). Nothing of it was written: the file is still at schema version `found`.
    #[error(
        "the upgrade of {path} was stopped; the workspace is unchanged at schema version {found} and is upgraded the next time it is opened"
    )]
    UpgradeStopped { path: PathBuf, found: i64 },

    /// A write was attempted through a store opened with `open_read_only`.
    #[error("the workspace was opened read-only")]
    ReadOnly,

    /// A value handed to the store, or found in it, is not acceptable for the named field
    /// (a currency that is not an ISO code, a malformed day, an unparsable setting).
    #[error("invalid {field}: {detail}")]
    InvalidValue { field: &'static str, detail: String },

    /// A raw event's stored payload cannot be turned back into its text (a damaged
    /// compressed payload, or a dictionary missing).
    #[error("the stored payload of raw event {raw_event_id} cannot be read: {detail}")]
    UndecodablePayload { raw_event_id: i64, detail: String },

    /// zstd could not compress what the store keeps compressed (a raw payload, a block of
    /// them, a run's totals); it fails only when memory runs out.
    #[error("compressing stored data failed: {0}")]
    Compression(#[source] std::io::Error),

    /// No attribution run has this id.
    #[error("no attribution run with id {run_id}")]
    RunNotFound { run_id: i64 },

    /// The file system refused an operation on the workspace path.
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// SQLite reported an error (a constraint, a busy database, a full disk, an append-only
    /// trigger of `model_changes`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// Whether this error says the file is damaged: `Damaged` itself, or SQLite reporting a
    /// damaged page (`SQLITE_CORRUPT`) or a file that is no database (`SQLITE_NOTADB`) in the
    /// middle of a query on a file that opened as a workspace.
    pub fn is_damage(&self) -> bool {
        matches!(self, StoreError::Damaged { .. }) || self.is_sqlite_damage()
    }

    /// This error as met while reading the workspace at `path`: SQLite's report of a damaged
    /// page becomes `Damaged`, naming the file; any other error is returned as it is.
    pub fn in_file(self, path: &std::path::Path) -> StoreError {
        if self.is_sqlite_damage() {
            StoreError::damaged_page(path, &self)
        } else {
            self
        }
    }

    /// The error for a damaged page SQLite met while reading the workspace at `path`; `what`
    /// is how the read failed.
    pub fn damaged_page(path: &std::path::Path, what: impl std::fmt::Display) -> StoreError {
        StoreError::Damaged {
            path: path.to_path_buf(),
            detail: format!("SQLite met a damaged page while reading it ({what})"),
        }
    }

    /// Whether this is SQLite's own report of damage (not yet naming the file).
    pub fn is_sqlite_damage(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
                )
        )
    }
}

/// The result type of every fallible function in this crate.
pub type StoreResult<T> = Result<T, StoreError>;
