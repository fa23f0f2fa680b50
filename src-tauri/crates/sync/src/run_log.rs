//! The sync-run log behind data health: [`sync_source_logged`] runs [`crate::sync_source`] and,
//! however the run ends, writes one `sync_runs` row with its outcome and the counters summed
//! over its streams (pages, records, dead letters, unknown fields, retries). The window and the
//! CLI both sync through it, so every sync a person starts is counted in the error rate,
//! retries and schema-drift numbers of `lookback health` and the Sources screen.
//!
//! The counters are taken from the progress events the engine sends (each `PageCommitted`
//! carries the stream's totals so far, `StreamFinished` its final ones), so a run that stops on
//! an error or a cancellation still logs what it did before it stopped.

use std::collections::BTreeMap;
use std::time::Instant;

use lookback_store::{NewSyncRun, Source, Store, SyncRunOutcome};

use crate::{
    CancellationToken, Secret, SourceSyncSummary, StreamCounters, SyncError, SyncEvent,
    SyncOptions, SyncResult,
};

/// What a run's progress events said, per stream.
#[derive(Debug, Default)]
struct Tally {
    streams: BTreeMap<String, StreamCounters>,
}

impl Tally {
    fn see(&mut self, event: &SyncEvent) {
        match event {
            SyncEvent::PageCommitted {
                stream, counters, ..
            } => {
                self.streams.insert(stream.clone(), counters.clone());
            }
            SyncEvent::StreamFinished { summary, .. } => {
                self.streams
                    .insert(summary.stream.clone(), summary.counters.clone());
            }
            _ => {}
        }
    }

    fn run(
        &self,
        source_id: &str,
        started_at_ms: i64,
        finished_at_ms: i64,
        outcome: SyncRunOutcome,
        error: Option<String>,
    ) -> NewSyncRun {
        let sum = |f: fn(&StreamCounters) -> u64| self.streams.values().map(f).sum::<u64>();
        NewSyncRun {
            source_id: source_id.to_owned(),
            started_at_ms,
            finished_at_ms,
            outcome,
            pages: sum(|c| c.pages),
            records: sum(|c| c.records),
            inserted: sum(|c| c.inserted),
            new_versions: sum(|c| c.new_versions),
            dead_letters: sum(|c| c.dead_letters),
            unknown_fields: sum(|c| c.unknown_fields),
            retries: sum(|c| c.retries),
            error,
        }
    }
}

/// How a run that returned `result` ended, for the log.
fn outcome_of(result: &SyncResult<SourceSyncSummary>) -> (SyncRunOutcome, Option<String>) {
    match result {
        Ok(summary) => match summary.failure() {
            Some(error) => (SyncRunOutcome::Failed, Some(error.to_owned())),
            None => (SyncRunOutcome::Complete, None),
        },
        Err(SyncError::Cancelled) => (SyncRunOutcome::Cancelled, None),
        Err(error) => (SyncRunOutcome::Failed, Some(error.to_string())),
    }
}

/// Syncs `source` like [`crate::sync_source`] and logs the run in `sync_runs` when it ends.
///
/// The run's own result is returned unchanged. A failure to write the log is returned only
/// when the sync itself succeeded (after a failed sync, the sync's error is the one to show).
pub async fn sync_source_logged(
    store: &mut Store,
    source: &Source,
    secret: &Secret,
    options: &SyncOptions,
    progress: &mut (dyn FnMut(&SyncEvent) + Send),
    cancel: &CancellationToken,
) -> SyncResult<SourceSyncSummary> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let result = {
        let mut forward = |event: &SyncEvent| {
            tally.see(event);
            progress(event);
        };
        crate::sync_source(store, source, secret, options, &mut forward, cancel).await
    };
    let elapsed_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (outcome, error) = outcome_of(&result);
    let run = tally.run(
        &source.source_id,
        options.now_ms,
        options.now_ms.saturating_add(elapsed_ms),
        outcome,
        error,
    );
    let logged = store.write(|tx| tx.insert_sync_run(&run).map(|_| ()));
    match (result, logged) {
        (Ok(summary), Ok(())) => Ok(summary),
        (Ok(_), Err(error)) => Err(error.into()),
        (Err(error), _) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{StreamOutcome, StreamSummary};

    fn counters(pages: u64, retries: u64, unknown_fields: u64) -> StreamCounters {
        StreamCounters {
            pages,
            records: pages * 10,
            retries,
            unknown_fields,
            ..StreamCounters::default()
        }
    }

    #[test]
    fn the_tally_keeps_each_streams_latest_totals_and_sums_the_streams() {
        let mut tally = Tally::default();
        for (stream, c) in [
            ("charges", counters(1, 1, 0)),
            ("charges", counters(2, 3, 4)),
            ("refunds", counters(1, 0, 1)),
        ] {
            tally.see(&SyncEvent::PageCommitted {
                source_id: "s".into(),
                stream: stream.into(),
                counters: c,
            });
        }
        // The finished stream's final counters replace its page totals.
        tally.see(&SyncEvent::StreamFinished {
            source_id: "s".into(),
            summary: StreamSummary {
                stream: "refunds".into(),
                counters: counters(1, 2, 1),
                outcome: StreamOutcome::Failed("HTTP 500".into()),
            },
        });
        let run = tally.run("s", 10, 20, SyncRunOutcome::Failed, Some("HTTP 500".into()));
        assert_eq!(
            (run.pages, run.records, run.retries, run.unknown_fields),
            (3, 30, 5, 5)
        );
    }

    #[test]
    fn outcomes_follow_the_result() {
        let ok = SourceSyncSummary {
            source_id: "s".into(),
            streams: vec![],
        };
        assert_eq!(outcome_of(&Ok(ok)).0, SyncRunOutcome::Complete);
        let failed = SourceSyncSummary {
            source_id: "s".into(),
            streams: vec![StreamSummary {
                stream: "x".into(),
                counters: StreamCounters::default(),
                outcome: StreamOutcome::Failed("boom".into()),
            }],
        };
        assert_eq!(
            outcome_of(&Ok(failed)),
            (SyncRunOutcome::Failed, Some("boom".into()))
        );
        assert_eq!(
            outcome_of(&Err(SyncError::Cancelled)).0,
            SyncRunOutcome::Cancelled
        );
    }
}
