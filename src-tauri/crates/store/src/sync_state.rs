//! Reads and writes of the sync machinery that the canonical-table modules do not cover:
//! removing a source, per-source dead-letter counts and checkpoints for the Sources screen, and
//! resolving the page-level dead letters of a stream once a later sync got past them.
//!
//! Architecture Invariant: removing a source removes its registration, checkpoints and sync-run
//! log only; the raw events and canonical rows it brought stay, because reports and history
//! rest on them.

use rusqlite::params;

use crate::{Store, StoreResult, SyncCheckpoint, WriteTx};

/// Unresolved dead letters of one source, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDeadLetterCount {
    pub source: String,
    pub unresolved: u64,
}

impl Store {
    /// Every checkpoint of a source, by stream name.
    pub fn checkpoints_of(&self, source_id: &str) -> StoreResult<Vec<SyncCheckpoint>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT source_id, stream, cursor, updated_at_ms FROM sync_checkpoints WHERE source_id = ?1 ORDER BY stream",
        )?;
        let rows = statement.query_map(params![source_id], |row| {
            Ok(SyncCheckpoint {
                source_id: row.get(0)?,
                stream: row.get(1)?,
                cursor: row.get(2)?,
                updated_at_ms: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// How many unresolved dead letters each source has (sources with none are absent), from
    /// the maintained totals.
    pub fn unresolved_dead_letter_counts(&self) -> StoreResult<Vec<SourceDeadLetterCount>> {
        Ok(self
            .source_totals()?
            .into_iter()
            .filter(|total| total.unresolved_dead_letters > 0)
            .map(|total| SourceDeadLetterCount {
                source: total.source,
                unresolved: total.unresolved_dead_letters,
            })
            .collect())
    }
}

impl WriteTx<'_> {
    /// Removes a source's registration, its checkpoints and its sync-run log; returns false if
    /// there was none. Its raw events, canonical rows and dead letters are kept.
    pub fn delete_source(&mut self, source_id: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached("DELETE FROM sync_checkpoints WHERE source_id = ?1")?
            .execute(params![source_id])?;
        self.tx
            .prepare_cached("DELETE FROM sync_runs WHERE source_id = ?1")?
            .execute(params![source_id])?;
        let changed = self
            .tx
            .prepare_cached("DELETE FROM sources WHERE source_id = ?1")?
            .execute(params![source_id])?;
        Ok(changed > 0)
    }

    /// Marks resolved, at `at_ms`, every unresolved dead letter of (source, stream) whose
    /// location starts with `location_prefix`; returns how many. The sync engine uses it for
    /// page-level failures once a later sync of the stream has fetched past them.
    pub fn resolve_dead_letters_with_prefix(
        &mut self,
        source: &str,
        stream: &str,
        location_prefix: &str,
        at_ms: i64,
    ) -> StoreResult<u64> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE dead_letters SET resolved_at_ms = ?4
                 WHERE source = ?1 AND stream = ?2 AND resolved_at_ms IS NULL AND substr(location, 1, length(?3)) = ?3",
            )?
            .execute(params![source, stream, location_prefix, at_ms])?;
        Ok(changed as u64)
    }
}
