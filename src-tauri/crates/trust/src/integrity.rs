//! Opening a workspace with an integrity verdict, the whole-file checks and when one is due,
//! online backup, and restore into a new file.
//!
//! The store refuses foreign and newer files on `open`, and damaged ones as far as its cheap
//! checks (header, length) can tell. What this adds is the second chance issue #7 asks for: a
//! damaged workspace is opened read-only instead of not at all, so a person can see what is
//! left and back it up, with a message that says why it is read-only. A newer workspace is
//! still refused outright: reading a schema this binary does not know could show wrong
//! numbers, which is worse than showing none.
//!
//! Damage the cheap checks cannot see (a flipped bit inside a data page) is found by SQLite on
//! the query that reads it, and by a whole-file check ([`check_file`]) run on a connection of
//! its own: `lookback check` runs the full one on demand, and the window runs the quick one in
//! the background when [`check_due`] says so (never checked here, a day since the last passing
//! check, or a session that did not close). Issue 12 moved that check off the open, whose
//! cost must not grow with the file.

use std::path::Path;

use lookback_store::{BackupSummary, IntegrityRecord, Store, StoreError};

use crate::{TrustError, TrustResult};

/// What the checks concluded: those on open, or a whole-file check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrityVerdict {
    /// The file passed the check and is open read-write.
    Sound,
    /// The file failed a check (the checks on open, a whole-file check, or a query that met a
    /// damaged page); it is open read-only and nothing will ever be written into it. `detail`
    /// is what was found.
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
                 Found: {detail}"
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

/// Opens `path` read-write if it passes the checks on open, or read-only if it fails them.
/// Missing, foreign and newer files are errors, exactly as with `Store::open`. `Sound` means
/// sound as far as the cheap checks see; see [`check_file`] for the rest.
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

/// Opens `path` read-only for a workspace found damaged while it was open (by a query or a
/// whole-file check), with what was found: the same mode a file failing the checks on open gets.
pub fn reopen_damaged(path: &Path, detail: String) -> TrustResult<OpenedWorkspace> {
    let store = Store::open_damaged_read_only(path)?;
    Ok(OpenedWorkspace {
        store,
        verdict: IntegrityVerdict::Damaged { detail },
    })
}

/// How thorough a whole-file check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckDepth {
    /// `PRAGMA quick_check`: every page read and every b-tree's structure checked. The
    /// periodic check in the background.
    Quick,
    /// `PRAGMA integrity_check`: the quick check plus every index matched against its table.
    /// What `lookback check` runs.
    Full,
}

/// What a whole-file check found, and the sessions whose markers it covers if it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    pub verdict: IntegrityVerdict,
    /// The unclosed sessions the file recorded when the check started; a passing check is
    /// recorded with them ([`Store::record_check_passed`]), which clears them.
    pub covered_sessions: Vec<String>,
}

/// Checks the whole workspace file at `path` on a read-only connection of its own, so it can
/// run beside the window's connection (in the background) and never writes. Missing, foreign
/// and newer files are errors; everything the checks find wrong is a `Damaged` verdict.
pub fn check_file(path: &Path, depth: CheckDepth) -> TrustResult<FileCheck> {
    let store = Store::open_damaged_read_only(path)?;
    let damaged = |detail: String| FileCheck {
        verdict: IntegrityVerdict::Damaged { detail },
        covered_sessions: Vec::new(),
    };
    if let Some(detail) = store.damage() {
        return Ok(damaged(detail.to_string()));
    }
    let covered_sessions = match store.integrity_record() {
        Ok(record) => record.unclosed_sessions,
        Err(err) if err.is_damage() => return Ok(damaged(damage_detail(err, path))),
        Err(err) => return Err(err.into()),
    };
    let outcome = match depth {
        CheckDepth::Quick => store.quick_check(),
        CheckDepth::Full => store.integrity_check(),
    };
    match outcome {
        Ok(problems) if problems.is_empty() => Ok(FileCheck {
            verdict: IntegrityVerdict::Sound,
            covered_sessions,
        }),
        Ok(problems) => Ok(damaged(problems.join("; "))),
        Err(err) if err.is_damage() => Ok(damaged(damage_detail(err, path))),
        Err(err) => Err(err.into()),
    }
}

/// What a damage error of a check says, without the file's name (the verdict's message is
/// about that file already).
fn damage_detail(err: StoreError, path: &Path) -> String {
    match err.in_file(path) {
        StoreError::Damaged { detail, .. } => detail,
        other => other.to_string(),
    }
}

/// How long a passing check keeps a workspace from being checked again: a day.
pub const CHECK_INTERVAL_MS: i64 = 24 * 60 * 60 * 1000;

/// Why a whole-file check of a workspace is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckReason {
    /// No check has passed on this file yet (a new file, a copy, one from an older Lookback).
    NeverChecked,
    /// The last passing check is [`CHECK_INTERVAL_MS`] old or more (or stamped in the future:
    /// the clock was set back).
    Stale { last_passed_at_ms: i64 },
    /// Read-write sessions did not close: crashed, or still open in another process.
    UncleanShutdown { sessions: usize },
}

impl CheckReason {
    /// The reason in words, for the log.
    pub fn describe(&self) -> String {
        match self {
            CheckReason::NeverChecked => "no check has passed yet".to_string(),
            CheckReason::Stale { last_passed_at_ms } => {
                format!("the last check passed at {last_passed_at_ms} (UTC ms)")
            }
            CheckReason::UncleanShutdown { sessions } => {
                format!("{sessions} earlier session(s) did not close")
            }
        }
    }
}

/// Whether a whole-file check is due at `now_ms` for a file with this record, and why.
pub fn check_due(record: &IntegrityRecord, now_ms: i64) -> Option<CheckReason> {
    if !record.unclosed_sessions.is_empty() {
        return Some(CheckReason::UncleanShutdown {
            sessions: record.unclosed_sessions.len(),
        });
    }
    match record.last_check_passed_at_ms {
        None => Some(CheckReason::NeverChecked),
        Some(last) if now_ms < last || now_ms - last >= CHECK_INTERVAL_MS => {
            Some(CheckReason::Stale {
                last_passed_at_ms: last,
            })
        }
        Some(_) => None,
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
        // the damage in a second file. (Damage the open cannot see is caught by the full
        // check the copy gets before it takes its name.)
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
