//! Online backup of a workspace and restoring a backup into a new workspace.
//!
//! Architecture Invariant: a backup is one consistent snapshot. The SQLite backup API copies
//! every page in a single step, inside one read transaction of the source; in WAL mode writers
//! keep committing meanwhile, and the copy holds exactly the transactions committed before the
//! step began. (Copying in several steps would let a concurrent writer restart the copy, which
//! never finishes under a busy sync.) Neither function ever overwrites an existing file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::opening::{check_workspace, open_read_only_connection};
use crate::{SCHEMA_VERSION, Store, StoreError, StoreResult};

/// What a backup or restore wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its schema version.
    pub schema_version: i64,
}

impl Store {
    /// Writes a consistent copy of this workspace to `out`, which must not exist. The copy is
    /// written to `out` + `.partial` first, checked with `PRAGMA integrity_check`, and only
    /// then renamed, so a crash or a full disk never leaves a half backup under the real name.
    /// Works on read-only stores too (a backup is a read of the source).
    pub fn backup_to(&self, out: impl AsRef<Path>) -> StoreResult<BackupSummary> {
        copy_database(&self.conn, out.as_ref())
    }

    /// Restores the backup at `from` into a new workspace at `to` and opens it read-write
    /// (applying migrations if the backup is older than this binary). `to` must not exist; a
    /// damaged, foreign or newer backup is refused with the same errors as `open`.
    pub fn restore_backup(from: impl AsRef<Path>, to: impl AsRef<Path>) -> StoreResult<Store> {
        let (from, to) = (from.as_ref(), to.as_ref());
        let found = check_workspace(from)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerVersion {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let source = open_read_only_connection(from)?;
        // The backup passed only the cheap checks; a damaged page in it names the backup.
        copy_database(&source, to).map_err(|e| e.in_file(from))?;
        Store::open(to)
    }
}

fn copy_database(source: &Connection, out: &Path) -> StoreResult<BackupSummary> {
    refuse_existing(out)?;
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    // A leftover .partial is from a failed earlier attempt; it was never a backup.
    remove_if_present(&partial)?;
    let result = (|| {
        let mut target = Connection::open_with_flags(
            &partial,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        {
            let backup = Backup::new(source, &mut target)?;
            // -1: every page in one step, i.e. one read transaction of the source. A busy or
            // locked source (a writer checkpointing) is retried; nothing has been copied then.
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
        // The copy carries the source's WAL flag; a backup is a single self-contained file, so
        // switch it to a rollback journal (this also folds any WAL frames into the file).
        let _: String =
            target.pragma_update_and_check(None, "journal_mode", "delete", |row| row.get(0))?;
        let problems = {
            let mut statement = target.prepare("PRAGMA integrity_check(20)")?;
            let lines = statement
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            lines
                .into_iter()
                .filter(|line| line != "ok")
                .collect::<Vec<_>>()
        };
        let schema_version: i64 =
            target.pragma_query_value(None, "user_version", |row| row.get(0))?;
        drop(target);
        if !problems.is_empty() {
            return Err(StoreError::Damaged {
                path: partial.clone(),
                detail: format!(
                    "the copy failed its integrity check: {}",
                    problems.join("; ")
                ),
            });
        }
        Ok(schema_version)
    })();
    let schema_version = match result {
        Ok(version) => version,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    // Rename refuses nothing on Unix, so check again right before it: a file that appeared
    // meanwhile must not be replaced.
    refuse_existing(out)?;
    std::fs::rename(&partial, out).map_err(|source| StoreError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let bytes = std::fs::metadata(out)
        .map_err(|source| StoreError::Io {
            path: out.to_path_buf(),
            source,
        })?
        .len();
    Ok(BackupSummary {
        path: out.to_path_buf(),
        bytes,
        schema_version,
    })
}

fn refuse_existing(path: &Path) -> StoreResult<()> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Err(StoreError::AlreadyExists {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn remove_if_present(path: &Path) -> StoreResult<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
