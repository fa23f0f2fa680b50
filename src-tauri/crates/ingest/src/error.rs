//! The one error type of lookback-ingest: the ways a whole CSV file can fail to import.
//!
//! A bad *row* is never an error here: it goes to `dead_letters` with its `FILE:LINE` and a
//! reason, and the rest of the file imports. An [`IngestError`] means nothing of the file was
//! written (the import's transaction was rolled back, or never started).

use std::path::PathBuf;

use lookback_store::StoreError;

use crate::ImportKind;

/// Everything that stops a CSV file from importing at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// An import kind name given on the command line is not one of the six kinds.
    #[error(
        "unknown import kind {name:?}: expected touches, orders, refunds, spend, creator-costs or identities"
    )]
    UnknownKind {
        /// The name as given.
        name: String,
    },

    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },

    /// Reading the CSV stream failed part-way (an I/O error under the CSV reader). Nothing of
    /// the file was kept.
    #[error("cannot read {file}: {source}")]
    Csv {
        /// The file's display name.
        file: String,
        /// The CSV reader's error.
        #[source]
        source: csv::Error,
    },

    /// The file has no header row (it is empty, or holds only blank lines).
    #[error("{file} is empty: a {kind} CSV starts with a header row")]
    EmptyFile {
        /// The file's display name.
        file: String,
        /// What was being imported.
        kind: ImportKind,
    },

    /// The header row lacks columns this kind of import requires. Nothing was written.
    #[error("{file} cannot be imported as {kind}: missing required column(s) {}", missing.join(", "))]
    MissingColumns {
        /// The file's display name.
        file: String,
        /// What was being imported.
        kind: ImportKind,
        /// The missing columns, in the order the format lists them; an identity requirement
        /// reads "one of person_id, anonymous_id, …".
        missing: Vec<String>,
    },

    /// The header row cannot be used as it is: a column name appears twice (names are
    /// compared trimmed and case-insensitively), it is not UTF-8, or it names both `email`
    /// and `email_sha256`. Nothing was written.
    #[error("{file} has an unusable header row: {detail}")]
    BadHeader {
        /// The file's display name.
        file: String,
        /// What is wrong with it.
        detail: String,
    },

    /// The workspace refused a read or write (locked, full disk, read-only). The import's
    /// transaction was rolled back, so nothing of the file was kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}
