//! What a running sync tells its caller, and how the caller stops it. The window passes
//! [`SyncEvent`]s on as its `job-progress` event; the CLI prints a progress line on stderr.

use std::time::Duration;

pub use tokio_util::sync::CancellationToken;

/// Counters of one stream in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// Pages committed.
    pub pages: u64,
    /// Records received (including duplicates).
    pub records: u64,
    /// Records new to the raw-event log.
    pub inserted: u64,
    /// Records whose stored latest version had the same payload: nothing written.
    pub duplicates: u64,
    /// Records known with a different payload (restated): appended as a new version.
    pub new_versions: u64,
    /// Records that became dead letters.
    pub dead_letters: u64,
    /// Top-level fields nobody knew (schema drift), summed over records.
    pub unknown_fields: u64,
    /// Requests retried (throttled, transient failures).
    pub retries: u64,
    /// Time spent waiting for the rate limiter, `Retry-After`, backoff or usage pauses.
    pub waited: Duration,
}

/// How a stream's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamOutcome {
    /// Caught up; the checkpoint covers everything fetched.
    Complete,
    /// Stopped by an error, recorded on the source and as a dead letter.
    Failed(String),
    /// The server does not offer this stream; skipped.
    Unavailable(String),
    /// Cancelled; resumes from the last committed page.
    Cancelled,
}

/// The result of one stream in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    pub stream: String,
    pub counters: StreamCounters,
    pub outcome: StreamOutcome,
}

/// The result of syncing one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSyncSummary {
    pub source_id: String,
    pub streams: Vec<StreamSummary>,
}

impl SourceSyncSummary {
    /// The first failure, if any stream failed.
    pub fn failure(&self) -> Option<&str> {
        self.streams.iter().find_map(|s| match &s.outcome {
            StreamOutcome::Failed(error) => Some(error.as_str()),
            _ => None,
        })
    }
}

/// A progress report of a running sync.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SyncEvent {
    StreamStarted {
        source_id: String,
        stream: String,
    },
    /// A page was committed; the counters are the stream's totals so far.
    PageCommitted {
        source_id: String,
        stream: String,
        counters: StreamCounters,
    },
    /// The sync is waiting before its next request (rate limit, `Retry-After`, backoff).
    Waiting {
        source_id: String,
        stream: String,
        seconds: f64,
        reason: String,
    },
    StreamFinished {
        source_id: String,
        summary: StreamSummary,
    },
}

/// Sleeps for `duration` unless `cancel` fires first; false if it did. Syncs stop on one
/// token type, tokio-util's `CancellationToken`, shared with the app's other long jobs.
pub async fn sleep_unless_cancelled(cancel: &CancellationToken, duration: Duration) -> bool {
    if cancel.is_cancelled() {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => !cancel.is_cancelled(),
        _ = cancel.cancelled() => false,
    }
}
