//! What a workspace file records about its own integrity, so that the whole-file check need not
//! run at every open: when a full check last passed, and which read-write sessions are open.
//!
//! Both live in `workspace_settings` (no schema change): the key `integrity_checked_at_ms` holds
//! the instant of the last passing check, and every read-write [`Store`] adds a key
//! `open_session.<16 hex digits>` when it opens and removes it again when it is dropped. A key
//! left behind is a session that ended without closing (a crash, a kill, a power cut) — or one
//! still running in another process; the two cannot be told apart from the file, and both
//! merely make a check due. A check that passes removes the keys it saw when it started.
//!
//! Architecture Invariant: nothing here writes into a file that failed a check. The marker is
//! written only by a read-write open, which has passed the cheap checks; a store whose file was
//! found damaged is closed with [`Store::abandon`], which writes nothing (its marker stays, so the
//! next open knows that session did not end well). Neither write ever waits on another
//! connection's lock at open: a session that cannot mark itself at once stays unmarked.

use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, TransactionBehavior, params};

use crate::{Store, StoreResult};

/// The key holding the instant (UTC ms) of the last integrity check that passed.
const CHECKED_AT_KEY: &str = "integrity_checked_at_ms";
/// The prefix of every open session's marker key.
const SESSION_PREFIX: &str = "open_session.";

/// What the file says about its integrity checks, as read by one store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntegrityRecord {
    /// When the last integrity check passed (UTC ms); `None` if none ever did.
    pub last_check_passed_at_ms: Option<i64>,
    /// The markers of read-write sessions other than this store that have not closed: each
    /// one crashed, or is still open elsewhere. Opaque; hand them back to
    /// [`Store::record_check_passed`] once a check started after reading them has passed.
    pub unclosed_sessions: Vec<String>,
}

impl Store {
    /// When the last integrity check passed and which other sessions have not closed.
    pub fn integrity_record(&self) -> StoreResult<IntegrityRecord> {
        let last_check_passed_at_ms = self
            .conn
            .query_row(
                "SELECT value FROM workspace_settings WHERE key = ?1",
                [CHECKED_AT_KEY],
                |row| row.get::<_, String>(0),
            )
            .map(|text| text.parse::<i64>().ok())
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })?;
        let mut statement = self.conn.prepare(
            "SELECT key FROM workspace_settings WHERE key >= ?1 AND key < ?2 ORDER BY key",
        )?;
        let unclosed_sessions = statement
            .query_map(params![SESSION_PREFIX, session_prefix_end()], |row| {
                row.get::<_, String>(0)
            })?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|key| Some(key) != self.session_marker.as_ref())
            .collect();
        Ok(IntegrityRecord {
            last_check_passed_at_ms,
            unclosed_sessions,
        })
    }

    /// Records that an integrity check of this file passed at `checked_at_ms`, and removes the
    /// markers of `covered_sessions` (those read before the check started): whatever those
    /// sessions left in the file, the check has seen. Refused on a read-only store.
    pub fn record_check_passed(
        &mut self,
        checked_at_ms: i64,
        covered_sessions: &[String],
    ) -> StoreResult<()> {
        self.ensure_writable()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO workspace_settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CHECKED_AT_KEY, checked_at_ms.to_string()],
        )?;
        for marker in covered_sessions
            .iter()
            .filter(|key| key.starts_with(SESSION_PREFIX))
        {
            tx.execute("DELETE FROM workspace_settings WHERE key = ?1", [marker])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `PRAGMA quick_check` over the whole file (the periodic check: it reads every page
    /// and checks each b-tree's structure, but not that indexes match their tables) and returns
    /// its complaints; empty means the file is sound.
    pub fn quick_check(&self) -> StoreResult<Vec<String>> {
        pragma_check(&self.conn, "PRAGMA quick_check(50)")
    }

    /// Runs the full `PRAGMA integrity_check` (slower and stricter than [`Store::quick_check`]:
    /// indexes are matched against their tables too) and returns its complaints; empty means
    /// the file is sound.
    pub fn integrity_check(&self) -> StoreResult<Vec<String>> {
        pragma_check(&self.conn, "PRAGMA integrity_check(50)")
    }

    /// Closes this store without writing anything more, for a file found damaged: its session
    /// marker stays behind, so the next open sees a session that did not end cleanly, and the
    /// connection does not checkpoint its WAL into the file as it closes (the WAL stays beside
    /// the file, complete, for whatever opens it next).
    pub fn abandon(mut self) {
        self.session_marker = None;
        let _ = self
            .conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
    }
}

fn pragma_check(conn: &Connection, sql: &str) -> StoreResult<Vec<String>> {
    let mut statement = conn.prepare(sql)?;
    let lines = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines.into_iter().filter(|line| line != "ok").collect())
}

/// The first key after every `open_session.` key (`/` follows `.` in ASCII).
fn session_prefix_end() -> String {
    format!("{}/", SESSION_PREFIX.trim_end_matches('.'))
}

/// Marks a read-write session open and returns its marker, or `None` when the write lock is
/// not free at once (another process in the middle of a write) or the write fails: an open
/// never waits for a marker, and a missing marker only means this session's end goes unseen.
pub(crate) fn mark_session_open(conn: &Connection, busy_timeout: Duration) -> Option<String> {
    conn.busy_timeout(Duration::ZERO).ok()?;
    let marker = conn
        .query_row(
            "INSERT INTO workspace_settings (key, value)
             VALUES (?1 || lower(hex(randomblob(8))), '') RETURNING key",
            [SESSION_PREFIX],
            |row| row.get::<_, String>(0),
        )
        .ok();
    // Without the usual timeout every later statement would fail at the first lock it meets.
    let _ = conn.busy_timeout(busy_timeout);
    marker
}

/// Removes a session's marker as the session closes. A failure (a full disk, a lock held past
/// the busy timeout) leaves the marker, which only makes the next check come sooner.
pub(crate) fn mark_session_closed(conn: &Connection, marker: &str) {
    let _ = conn.execute("DELETE FROM workspace_settings WHERE key = ?1", [marker]);
}
