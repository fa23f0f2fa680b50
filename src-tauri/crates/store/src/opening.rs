//! Creating and opening workspace files, and the checks that keep Lookback from writing into a
//! file that is not its own.
//!
//! Architecture Invariant: opening never writes into a foreign, damaged or newer file, and its
//! cost does not grow with the file. Before the first read-write connection exists, `open`
//! checks what can be checked without reading the file through: the path (stat only), the
//! SQLite header through a *read-only* connection (magic string, application id, schema
//! version) and the file's length against the page count the header claims (a truncated file),
//! the WAL taken into account. Only a file that passes is opened read-write, switched to WAL,
//! migrated and marked as having an open session (see `integrity`).
//!
//! Damage inside the file is not looked for here. SQLite reports it on the first read of a
//! damaged page (`SQLITE_CORRUPT`, which callers see through [`StoreError::is_damage`]), and the
//! whole-file checks — [`Store::quick_check`] in the background, [`Store::integrity_check`] on
//! demand — run on a connection of their own when the application decides one is due.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::integrity::{mark_session_closed, mark_session_open};
use crate::migrations::{APPLICATION_ID, SCHEMA_VERSION, apply_pending};
use crate::{StoreError, StoreResult};

/// How long a writer waits for another connection's lock before reporting `SQLITE_BUSY`. Long
/// enough for a sync batch to commit, short enough that the window can report a stuck lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The page size of a new workspace's file, in bytes. Files made before the 8th session keep
/// SQLite's 4 KiB: changing it means rebuilding the file outside WAL mode, which needs the
/// file's only connection, and the window's compaction is not that (README, Benchmarks).
///
/// Why 16 KiB: a monthly touch file's rows land all over the touch id and click id indexes, so
/// its transaction dirties nearly every page of both; with four times fewer pages there are
/// fewer to find, split and write to the WAL. Measured on the 4M busy-year build (README,
/// Benchmarks; `busy_year build`, one after the other): 4 KiB 35.0–36.5 s, 8 KiB 31.8 s,
/// 16 KiB 27.9–33.1 s, 32 KiB 29.9 s, 64 KiB 28.8 s, with the reads (open, overview, cached
/// views, new runs) the same at 16 KiB as at 4 KiB. 64 KiB imported no faster and made every
/// cached view slower (0.16 → 0.21 s) and the open slower (0.08 → 0.10 s): each page read
/// copies four times the bytes.
pub(crate) const WORKSPACE_PAGE_SIZE: i64 = 16_384;

/// An open workspace file. All SQL of Lookback goes through this type and the [`crate::WriteTx`]
/// it hands out.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
    read_only: bool,
    /// What the checks on open found, for a store opened with `open_damaged_read_only` on a
    /// damaged file; `None` for every file that passed them.
    damage: Option<String>,
    /// This read-write session's marker in the file, removed when the store is dropped; `None`
    /// for read-only stores and for a session that could not mark itself.
    pub(crate) session_marker: Option<String>,
    /// Unique among the stores this process opened, so a [`DataStamp`] of one connection never
    /// equals another's.
    connection_id: u64,
}

/// Where the next store's `connection_id` comes from.
static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

fn next_connection_id() -> u64 {
    NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed)
}

/// What a store connection has seen committed to its file, from [`Store::data_stamp`]: equal
/// stamps of one connection mean nothing was committed in between, by it or by any other
/// connection, so whatever was read from the file in between is still what the file holds.
/// Only equality means anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataStamp {
    connection_id: u64,
    /// SQLite's `data_version`: changes when another connection commits to the file.
    data_version: i64,
    /// Rows this connection inserted, updated or deleted since it opened (never decreases,
    /// rolled-back changes included).
    own_changes: u64,
}

impl Store {
    /// Creates a new workspace at `path`. The file must not exist, or be empty (a file the
    /// caller just created, e.g. by a save dialog); anything else is `AlreadyExists`, so a
    /// workspace is never overwritten.
    pub fn create(path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() > 0 || meta.is_dir() => {
                return Err(StoreError::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // The application id is written first, outside any transaction and before WAL is on,
        // so it lands in the main file's header at once. `open` reads it from the header bytes,
        // and a crash during the first migration must not leave a file it would call foreign.
        // Before the first write: a file's page size is fixed once its header is written.
        conn.pragma_update(None, "page_size", WORKSPACE_PAGE_SIZE)?;
        conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        configure_read_write(&conn)?;
        apply_pending(&mut conn)?;
        Ok(Store::read_write(conn, path))
    }

    /// Opens an existing workspace read-write, applying pending migrations in one transaction.
    ///
    /// A missing file is `NotFound`; a file that is not SQLite or belongs to another
    /// application is `NotAWorkspace`; a workspace whose header SQLite cannot read, or that is
    /// shorter than its header says (truncated), is `Damaged`; one from a newer Lookback is
    /// `NewerVersion`. In all these cases the file's bytes are unchanged. The checks read the
    /// header and the file's length, not the whole file: damage further in surfaces as a
    /// `Damaged`-kind error of the query that meets it, and through the whole-file checks.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref();
        let found = check_workspace(path)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerVersion {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure_read_write(&conn)?;
        apply_pending(&mut conn)?;
        Ok(Store::read_write(conn, path))
    }

    /// A read-write store over a checked and migrated connection, its session marked open.
    fn read_write(conn: Connection, path: &Path) -> Store {
        let session_marker = mark_session_open(&conn, BUSY_TIMEOUT);
        Store {
            conn,
            path: path.to_path_buf(),
            read_only: false,
            damage: None,
            session_marker,
            connection_id: next_connection_id(),
        }
    }

    /// Creates the workspace if `path` is missing or empty, otherwise opens it. Convenient for
    /// the demo generator and tests; the window uses `create` and `open` explicitly.
    pub fn open_or_create(path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() > 0 => Store::open(path),
            _ => Store::create(path),
        }
    }

    /// Opens an existing, up-to-date workspace for reading only (exports, a second window).
    /// The same checks as `open` run first; a workspace with pending migrations is
    /// `NeedsUpgrade`, because migrating is a write.
    pub fn open_read_only(path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref();
        let found = check_workspace(path)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerVersion {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::NeedsUpgrade {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let conn = open_read_only_connection(path)?;
        conn.pragma_update(None, "query_only", true)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            read_only: true,
            damage: None,
            session_marker: None,
            connection_id: next_connection_id(),
        })
    }

    /// Opens a workspace for reading only even if it is damaged, so a person can still look at
    /// (and back up) what is left, and so a whole-file check can run on a connection of its own.
    /// A file passing the checks on open (any schema version up to this binary's) opens
    /// read-only; a file failing them opens read-only and query-only too, with their findings
    /// in [`Store::damage`]. Nothing is ever written: the connection is read-only at the SQLite
    /// level, so even a bug in a caller cannot write into the damaged file. Queries on damaged
    /// pages fail with an SQLite error ("database disk image is malformed"), never a crash.
    ///
    /// Missing, foreign and newer files are refused exactly as by `open`.
    pub fn open_damaged_read_only(path: impl AsRef<Path>) -> StoreResult<Store> {
        let path = path.as_ref();
        let detail = match check_workspace(path) {
            Ok(found) if found > SCHEMA_VERSION => {
                return Err(StoreError::NewerVersion {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Ok(_) => None,
            Err(StoreError::Damaged { detail, .. }) => Some(detail),
            Err(other) => return Err(other),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Damaged {
            path: path.to_path_buf(),
            detail: format!(
                "{}; it cannot even be opened read-only: {e}",
                detail.clone().unwrap_or_default()
            ),
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // On a badly damaged file even these fail (the schema itself may be unreadable); the
        // connection is read-only at the SQLite level regardless, so they are best effort and
        // the store still opens, to report the damage and fail each query with an error.
        let _ = set_cache_size(&conn);
        let _ = conn.pragma_update(None, "query_only", true);
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            read_only: true,
            damage: detail,
            session_marker: None,
            connection_id: next_connection_id(),
        })
    }

    /// What the checks on open found wrong with the file, if it was opened damaged with
    /// `open_damaged_read_only`.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    /// The file this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this store was opened with `open_read_only`.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The schema version of the open file (always [`SCHEMA_VERSION`] once opened read-write).
    pub fn schema_version(&self) -> StoreResult<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }

    /// What this connection has seen committed to the file so far (see [`DataStamp`]): a
    /// caller keeps what it derived from the file while the stamp stays equal. `None` while a
    /// transaction is open on this connection, whose changes may still be rolled back. One
    /// pragma, no table read.
    pub fn data_stamp(&self) -> StoreResult<Option<DataStamp>> {
        if !self.conn.is_autocommit() {
            return Ok(None);
        }
        let data_version = self
            .conn
            .pragma_query_value(None, "data_version", |row| row.get(0))?;
        Ok(Some(DataStamp {
            connection_id: self.connection_id,
            data_version,
            own_changes: self.conn.total_changes(),
        }))
    }

    pub(crate) fn ensure_writable(&self) -> StoreResult<()> {
        if self.read_only {
            Err(StoreError::ReadOnly)
        } else {
            Ok(())
        }
    }
}

impl Drop for Store {
    /// A clean close: the session's marker goes, so the next open knows it ended well.
    fn drop(&mut self) {
        if let Some(marker) = self.session_marker.take() {
            mark_session_closed(&self.conn, &marker);
        }
    }
}

/// Settings of every read-write connection. `foreign_keys` must be set outside a transaction,
/// which is why this runs before migrating.
pub(crate) fn configure_read_write(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // Some file systems (network shares) cannot do WAL; SQLite then keeps the rollback
        // journal, which is slower but just as safe, so this is not an error.
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // Checkpoint the WAL every ~64 MiB instead of SQLite's 1,000 pages: a sync rewrites the
    // same index pages in every transaction, and a larger WAL lets each of them reach the
    // database file once per checkpoint rather than once per few pages of events. After a
    // checkpoint SQLite writes the WAL from its start again, so the file stays bounded by about
    // that size; durability is unchanged (WAL + `synchronous = NORMAL`). The setting counts
    // pages, and a file's pages are 4 KiB or 16 KiB (see `WORKSPACE_PAGE_SIZE`).
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |row| row.get(0))?;
    conn.pragma_update(None, "wal_autocheckpoint", (64 << 20) / page_size)?;
    // rusqlite keeps 16 prepared statements by default; a sync alone cycles through about a
    // dozen, and any other query in between would evict one and make the next page re-parse it.
    conn.set_prepared_statement_cache_capacity(64);
    set_cache_size(conn)
}

/// A 64 MiB page cache instead of SQLite's default 2 MiB: bulk imports and a million credits
/// touch far more index pages than 2 MiB holds, and re-reading them dominated the write time.
fn set_cache_size(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
    Ok(())
}

/// A workspace connection's page cache, in KiB (see [`set_cache_size`]).
const PAGE_CACHE_KIB: i64 = 65_536;
/// The page cache while a bulk load writes (see [`Store::run_as_bulk_load`]), in KiB.
const BULK_LOAD_PAGE_CACHE_KIB: i64 = 262_144;

impl Store {
    /// Runs `load`, a write of many rows in one transaction, with a 256 MiB page cache instead
    /// of 64 MiB, then gives the memory back. A touch file's rows land all over the touch id and
    /// click id indexes, so its transaction dirties most of their pages: with them in the cache,
    /// SQLite neither writes pages out to the WAL before the commit nor reads them back (a tenth
    /// of a monthly touch file's import on the 4M busy-year workspace). Memory stays bounded
    /// whatever the file's length.
    pub fn run_as_bulk_load<T>(&mut self, load: impl FnOnce(&mut Store) -> T) -> StoreResult<T> {
        self.conn
            .pragma_update(None, "cache_size", -BULK_LOAD_PAGE_CACHE_KIB)?;
        let done = load(self);
        // Back to the normal size (SQLite frees the pages beyond it).
        set_cache_size(&self.conn)?;
        Ok(done)
    }
}

pub(crate) fn open_read_only_connection(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    set_cache_size(&conn)?;
    Ok(conn)
}

/// Every check `open` makes before writing anything. Returns the file's schema version.
pub(crate) fn check_workspace(path: &Path) -> StoreResult<i64> {
    let not_a_workspace = |detail: &str| StoreError::NotAWorkspace {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    // The file is examined through SQLite only, never opened and closed directly: closing any
    // descriptor of a database file drops every POSIX lock this process holds on it, including
    // those of its open connections (a receiver's writer while the alert loop opens the file).
    // Another process could then take the file for its own and checkpoint away the WAL that
    // those connections still write to — committed events would vanish.
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if metadata.is_dir() {
        return Err(not_a_workspace("it is a directory"));
    }
    if metadata.len() == 0 {
        return Err(not_a_workspace("the file is empty"));
    }
    let probe = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|conn| {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_query_value(None, "application_id", |row| row.get::<_, i32>(0))
    });
    let application_id = match probe {
        Ok(id) => id,
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(not_a_workspace("it is not an SQLite database"));
        }
        // SQLite refuses a file shorter than the page count in its header here, before
        // anything else is read; an overwritten first page ends here too.
        Err(err @ rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseCorrupt =>
        {
            return Err(StoreError::Damaged {
                path: path.to_path_buf(),
                detail: format!(
                    "SQLite cannot read its first page ({err}); the file may be cut short or overwritten"
                ),
            });
        }
        Err(e) => {
            return Err(StoreError::Damaged {
                path: path.to_path_buf(),
                detail: e.to_string(),
            });
        }
    };
    if application_id != APPLICATION_ID {
        return Err(not_a_workspace(&format!(
            "it is an SQLite database of another application (application id {application_id:#010x})"
        )));
    }

    // From here on the file claims to be ours; anything SQLite cannot read is damage.
    let damaged = |detail: String| StoreError::Damaged {
        path: path.to_path_buf(),
        detail,
    };
    let conn = open_read_only_connection(path).map_err(|e| damaged(e.to_string()))?;
    // The version is read through SQLite rather than from the header bytes, because in WAL
    // mode the newest header may still be in the -wal file.
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| damaged(e.to_string()))?;
    if found > SCHEMA_VERSION {
        // A newer schema may lay out its file in ways this binary cannot judge; stop here.
        return Ok(found);
    }
    if let Some(finding) = truncation(path, &conn).map_err(|e| damaged(e.to_string()))? {
        return Err(damaged(finding));
    }
    Ok(found)
}

/// Bytes of a WAL file's header, and of the header before each page (frame) in it.
const WAL_HEADER: u64 = 32;
const WAL_FRAME_HEADER: u64 = 24;

/// Finds a truncated file without reading it: the pages the database holds (`page_count`,
/// which counts pages still in the WAL) must be in the main file, or those missing from its end
/// must at least fit in the WAL. Looked at inside one read transaction, so a checkpoint cannot
/// move pages from the WAL into the file between the two looks. SQLite itself refuses most
/// truncated files on their first read; this catches the rest and says what is missing.
fn truncation(path: &Path, conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.execute_batch("BEGIN")?;
    let finding = (|| {
        let page_count: u64 = conn.pragma_query_value(None, "page_count", |row| row.get(0))?;
        let page_size: u64 = conn.pragma_query_value(None, "page_size", |row| row.get(0))?;
        // Only stat: opening the file directly would drop this process's locks on it.
        let file_len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        Ok(truncation_finding(page_size, page_count, file_len, wal_len))
    })();
    conn.execute_batch("COMMIT")?;
    finding
}

/// What is missing from a file of `file_len` bytes (and a WAL of `wal_len` bytes) holding
/// `page_count` pages of `page_size` bytes; `None` when every page can be there.
fn truncation_finding(
    page_size: u64,
    page_count: u64,
    file_len: u64,
    wal_len: u64,
) -> Option<String> {
    let needed = page_count.saturating_mul(page_size);
    if file_len >= needed || page_size == 0 {
        return None;
    }
    let missing_pages = (needed - file_len).div_ceil(page_size);
    let wal_pages = wal_len.saturating_sub(WAL_HEADER) / (page_size + WAL_FRAME_HEADER);
    if wal_pages >= missing_pages {
        return None;
    }
    Some(format!(
        "the file is truncated: it has {file_len} bytes, but its header counts {page_count} pages \
         of {page_size} bytes ({needed} bytes); {missing_pages} pages are missing from its end{}",
        if wal_len > 0 {
            format!(" and its WAL holds at most {wal_pages}")
        } else {
            String::new()
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::{BULK_LOAD_PAGE_CACHE_KIB, PAGE_CACHE_KIB, Store, truncation_finding};

    #[test]
    fn a_file_shorter_than_its_pages_is_truncated_unless_the_wal_holds_the_rest() {
        // Whole: 10 pages of 4096 bytes.
        assert_eq!(truncation_finding(4096, 10, 40_960, 0), None);
        // A longer file (pages freed and not yet given back) is not damage.
        assert_eq!(truncation_finding(4096, 10, 50_000, 0), None);
        // Two and a half pages missing, no WAL.
        let finding = truncation_finding(4096, 10, 30_000, 0).unwrap();
        assert!(finding.contains("30000 bytes"), "{finding}");
        assert!(finding.contains("3 pages are missing"), "{finding}");
        // The newest three pages are still in the WAL (32-byte header, 24 + 4096 per frame).
        assert_eq!(truncation_finding(4096, 10, 28_672, 32 + 3 * 4120), None);
        // A WAL too short to hold them does not excuse the file.
        let finding = truncation_finding(4096, 10, 28_672, 32 + 2 * 4120).unwrap();
        assert!(finding.contains("WAL holds at most 2"), "{finding}");
    }

    #[test]
    fn a_bulk_load_has_the_larger_page_cache_and_gives_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        let cache = |store: &Store| -> i64 {
            store
                .conn
                .pragma_query_value(None, "cache_size", |row| row.get(0))
                .unwrap()
        };
        assert_eq!(cache(&store), -PAGE_CACHE_KIB);
        let inside = store.run_as_bulk_load(|store| cache(store)).unwrap();
        assert_eq!(inside, -BULK_LOAD_PAGE_CACHE_KIB);
        assert_eq!(cache(&store), -PAGE_CACHE_KIB);
    }
}
