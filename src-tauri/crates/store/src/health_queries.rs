//! What data health is computed from: the log of sync runs (error rate, retries, unknown
//! fields), raw events received per 24 hours (volume against the usual), and dead letters whose
//! reason says a field was missing or of the wrong type (schema drift). The health policy
//! itself lives in lookback-trust; this module only counts.

use rusqlite::params;

use crate::{Store, StoreResult, WriteTx};

/// How a sync run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRunOutcome {
    /// Every stream caught up (or was unavailable on the server).
    Complete,
    /// A stream failed, the credential was refused, or the run stopped on an error.
    Failed,
    /// Cancelled by the user; resumes from the last committed page.
    Cancelled,
}

impl SyncRunOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncRunOutcome::Complete => "complete",
            SyncRunOutcome::Failed => "failed",
            SyncRunOutcome::Cancelled => "cancelled",
        }
    }
}

/// One sync of one source, as it is logged when it ends. Counters are sums over its streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSyncRun {
    pub source_id: String,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub outcome: SyncRunOutcome,
    pub pages: u64,
    pub records: u64,
    pub inserted: u64,
    pub new_versions: u64,
    pub dead_letters: u64,
    /// Top-level fields no normalizer knew (schema drift), summed over records.
    pub unknown_fields: u64,
    /// Requests retried after throttling or a transient failure.
    pub retries: u64,
    /// The redacted error a person sees, for a failed run.
    pub error: Option<String>,
}

/// Sync runs of one source started in a window, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRunTotals {
    pub source_id: String,
    /// Runs that ended complete or failed (cancelled runs are not counted: they say nothing
    /// about the source).
    pub runs: u64,
    pub failed: u64,
    pub retries: u64,
    pub unknown_fields: u64,
}

/// Raw events of one source received in one 24-hour window counted back from `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyReceived {
    pub source: String,
    /// 0: the 24 hours before `now` (and anything stamped after `now`); 1: the 24 hours before
    /// those; and so on.
    pub days_ago: u32,
    pub records: u64,
}

/// SQL predicate over `dead_letters.reason`: the record lacked a required field or had a field
/// of the wrong type — the wording of `lookback_sync::fields`, which every connector's
/// normalizer uses (a test there keeps the two in step). Such dead letters are schema drift
/// on the platform's side, unlike a bad value (an unknown currency, a negative amount).
pub const SCHEMA_PROBLEM_REASON: &str = "(reason LIKE '%required field % is missing%' \
     OR reason LIKE '%required field % is empty%' \
     OR reason LIKE '%field % should be %, found %' \
     OR reason LIKE '%the record is %, not an object%')";

const DAY_MS: i64 = 86_400_000;

/// Raw events received per source and 24-hour window, from the arrival counts of migration
/// 0017 (a row per import, sync page or delivery), through their primary key.
pub(crate) const DAILY_RECEIVED_SQL: &str =
    "SELECT source, MAX(0, (?1 - 1 - received_at_ms) / ?2) AS days_ago, SUM(events)
             FROM raw_events_received WHERE received_at_ms >= ?1 - (?3 + 1) * ?2
             GROUP BY source, days_ago HAVING SUM(events) > 0 ORDER BY source, days_ago";

/// Sync runs per source since an instant (`sync_runs_by_source`).
pub(crate) const SYNC_RUN_TOTALS_SQL: &str = "SELECT source_id,
                    SUM(outcome <> 'cancelled'), SUM(outcome = 'failed'),
                    SUM(retries), SUM(unknown_fields)
             FROM sync_runs WHERE started_at_ms >= ?1 GROUP BY source_id ORDER BY source_id";

impl Store {
    /// Per source, the sync runs started at or after `since_ms`, summed (sources without runs
    /// are absent). A damaged workspace opened read-only at an older schema has no run log:
    /// then there are no runs to count, rather than an error.
    pub fn sync_run_totals(&self, since_ms: i64) -> StoreResult<Vec<SyncRunTotals>> {
        if !crate::migrations::table_exists(&self.conn, "sync_runs")? {
            return Ok(Vec::new());
        }
        let mut statement = self.conn.prepare_cached(SYNC_RUN_TOTALS_SQL)?;
        let rows = statement.query_map(params![since_ms], |row| {
            Ok(SyncRunTotals {
                source_id: row.get(0)?,
                runs: row.get::<_, i64>(1)? as u64,
                failed: row.get::<_, i64>(2)? as u64,
                retries: row.get::<_, i64>(3)? as u64,
                unknown_fields: row.get::<_, i64>(4)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Raw events received per source and 24-hour window, for the `days` windows before
    /// `now_ms` (window 0 included, so `days + 1` windows at most). Windows with no events are
    /// absent. Read from the arrival counts kept as events land (migration 0017), never from
    /// raw_events.
    pub fn daily_received_counts(&self, now_ms: i64, days: u32) -> StoreResult<Vec<DailyReceived>> {
        // A damaged workspace opened read-only at an older schema has no arrival counts: its
        // raw events are counted instead (slow, and only ever for such a file).
        let sql = if crate::migrations::table_exists(&self.conn, "raw_events_received")? {
            DAILY_RECEIVED_SQL
        } else {
            "SELECT source, MAX(0, (?1 - 1 - received_at_ms) / ?2) AS days_ago, COUNT(*)
             FROM raw_events WHERE received_at_ms >= ?1 - (?3 + 1) * ?2
             GROUP BY source, days_ago ORDER BY source, days_ago"
        };
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map(params![now_ms, DAY_MS, i64::from(days)], |row| {
            Ok(DailyReceived {
                source: row.get(0)?,
                days_ago: row.get::<_, i64>(1)? as u32,
                records: row.get::<_, i64>(2)? as u64,
            })
        })?;
        Ok(rows
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|d| d.days_ago <= days)
            .collect())
    }

    /// Per source, dead letters created at or after `since_ms` (resolved or not) whose reason
    /// is a missing or mistyped field ([`SCHEMA_PROBLEM_REASON`]).
    pub fn schema_dead_letter_counts(&self, since_ms: i64) -> StoreResult<Vec<(String, u64)>> {
        let sql = format!(
            "SELECT source, COUNT(*) FROM dead_letters
             WHERE created_at_ms >= ?1 AND {SCHEMA_PROBLEM_REASON}
             GROUP BY source ORDER BY source"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(params![since_ms], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

impl WriteTx<'_> {
    /// Logs one ended sync run; returns its id.
    pub fn insert_sync_run(&mut self, run: &NewSyncRun) -> StoreResult<i64> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.tx
            .prepare_cached(
                "INSERT INTO sync_runs (source_id, started_at_ms, finished_at_ms, outcome, pages,
                     records, inserted, new_versions, dead_letters, unknown_fields, retries, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                run.source_id,
                run.started_at_ms,
                run.finished_at_ms,
                run.outcome.as_str(),
                n(run.pages),
                n(run.records),
                n(run.inserted),
                n(run.new_versions),
                n(run.dead_letters),
                n(run.unknown_fields),
                n(run.retries),
                run.error,
            ])?;
        Ok(self.tx.last_insert_rowid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_source() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        store
            .write(|tx| {
                tx.upsert_source(&crate::Source {
                    source_id: "shop".into(),
                    kind: "generic".into(),
                    name: "shop".into(),
                    base_url: None,
                    account: None,
                    credential_ref: None,
                    created_at_ms: 0,
                    last_attempt_at_ms: None,
                    last_success_at_ms: None,
                    last_error: None,
                })
            })
            .unwrap();
        (dir, store)
    }

    fn run(started_at_ms: i64, outcome: SyncRunOutcome, retries: u64) -> NewSyncRun {
        NewSyncRun {
            source_id: "shop".into(),
            started_at_ms,
            finished_at_ms: started_at_ms + 1000,
            outcome,
            pages: 1,
            records: 10,
            inserted: 10,
            new_versions: 0,
            dead_letters: 0,
            unknown_fields: 2,
            retries,
            error: None,
        }
    }

    #[test]
    fn run_totals_count_the_window_and_leave_cancelled_runs_out_of_the_rate() {
        let (_dir, mut store) = store_with_source();
        store
            .write(|tx| {
                tx.insert_sync_run(&run(100, SyncRunOutcome::Complete, 1))?;
                tx.insert_sync_run(&run(200, SyncRunOutcome::Failed, 3))?;
                tx.insert_sync_run(&run(300, SyncRunOutcome::Cancelled, 5))?;
                // Before the window: not counted.
                tx.insert_sync_run(&run(50, SyncRunOutcome::Failed, 100))
            })
            .unwrap();
        let totals = store.sync_run_totals(100).unwrap();
        assert_eq!(
            totals,
            vec![SyncRunTotals {
                source_id: "shop".into(),
                runs: 2,
                failed: 1,
                retries: 9,
                unknown_fields: 6,
            }]
        );
    }
}
