//! Opening a workspace with an integrity verdict, online backup, and restore into a new file.
//!
//! The store already refuses damaged, foreign and newer files on `open`. What this adds is the
//! second chance issue #7 asks for: a damaged workspace is opened read-only instead of not at
//! all, so a person can see what is left and back it up, with a message that says why it is
//! read-only. A newer workspace is still refused outright: reading a schema this binary does
//! not know could show wrong numbers, which is worse than showing none.

use std::path::Path;

use lookback_store::{BackupSummary, Store, StoreError};

use crate::{TrustError, TrustResult};

/// What the integrity check on open concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrityVerdict {
    /// The file passed the check and is open read-write.
    Sound,
    /// The file failed SQLite's integrity check; it is open read-only and nothing will ever be
    /// written into it. `detail` is what the check reported.
    Damaged { detail: String },
}

impl IntegrityVerdict {
    /// One sentence for the window's banner and the CLI.
    pub fn message(&self) -> String {
        match self {
            IntegrityVerdict::Sound => "the workspace passed its integrity check".to_string(),
            IntegrityVerdict::Damaged { detail } => format!(
                "the workspace file is damaged and was opened read-only; nothing will be written to it. \
                 Restore a backup (lookback restore --from BACKUP --db NEW) or copy out what is readable. \
                 Integrity check: {detail}"
            ),
        }
    }
}

/// A workspace opened by [`open_checked`].
#[derive(Debug)]
pub struct OpenedWorkspace {
    pub store: Store,
    pub verdict: IntegrityVerdict,
}

/// Opens `path` read-write if it is sound, or read-only if it is damaged. Missing, foreign and
/// newer files are errors, exactly as with `Store::open`.
pub fn open_checked(path: &Path) -> TrustResult<OpenedWorkspace> {
    match Store::open(path) {
        Ok(store) => Ok(OpenedWorkspace {
            store,
            verdict: IntegrityVerdict::Sound,
        }),
        Err(StoreError::Damaged { .. }) => {
            let store = Store::open_damaged_read_only(path)?;
            let detail = store
                .damage()
                .unwrap_or("the integrity check failed")
                .to_string();
            Ok(OpenedWorkspace {
                store,
                verdict: IntegrityVerdict::Damaged { detail },
            })
        }
        Err(other) => Err(other.into()),
    }
}

/// Writes a consistent backup of the workspace at `db` to `out` while other connections (a
/// running sync) keep writing. The source is opened read-only, so a backup never writes into
/// the workspace; `out` must not exist.
pub fn backup(db: &Path, out: &Path) -> TrustResult<BackupSummary> {
    if out.exists() {
        return Err(TrustError::TargetExists {
            path: out.to_path_buf(),
        });
    }
    let store = Store::open_damaged_read_only(db)?;
    if let Some(detail) = store.damage() {
        // A backup must restore to a sound workspace; copying known-bad pages would only hide
        // the damage in a second file.
        return Err(StoreError::Damaged {
            path: db.to_path_buf(),
            detail: detail.to_string(),
        }
        .into());
    }
    Ok(store.backup_to(out)?)
}

/// Restores the backup `from` into a new workspace at `to` (which must not exist) and returns
/// what was written. The backup itself is only read.
pub fn restore(from: &Path, to: &Path) -> TrustResult<BackupSummary> {
    if to.exists() {
        return Err(TrustError::TargetExists {
            path: to.to_path_buf(),
        });
    }
    let store = Store::restore_backup(from, to).map_err(|e| match e {
        StoreError::AlreadyExists { path } => TrustError::TargetExists { path },
        other => TrustError::Store(other),
    })?;
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    Ok(BackupSummary {
        path: to.to_path_buf(),
        bytes,
        schema_version: store.schema_version()?,
    })
}
