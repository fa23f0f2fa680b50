//! Data health per source — ok, stale or failing — and the metrics behind it: last success,
//! ingestion lag, records in the last 24 h against the usual day, sync error rate, retries,
//! dead letters and schema drift. The states drive the freshness badge of every view and can
//! raise alerts; the screen itself is the window's. This is the one place the metrics are
//! computed: the Sources screen, `lookback health` and its CSV export all read them from here.
//!
//! - **Usual volume** is the median of the raw events received per 24-hour window over the
//!   `usual_days` windows before the last 24 h (counted back from `now`), taking only windows
//!   that start after the source was added; it needs at least [`MIN_USUAL_WINDOWS`] of them.
//! - **Volume drop**: the last 24 h brought less than `volume_drop_percent` (50) % of the usual,
//!   when the usual is at least `volume_min_usual` (10) records — a warning, not a state.
//! - **Error rate, retries, unknown fields** come from the sync-run log (`sync_runs`) over the
//!   last `window_ms` (7 days): failed runs ÷ runs that ended complete or failed (cancelled runs
//!   say nothing about the source and are left out), retried requests, and top-level fields no
//!   normalizer knew.
//! - **Schema dead letters** are dead letters created in the same window whose reason is a
//!   missing or mistyped field (`lookback_store::SCHEMA_PROBLEM_REASON`).

use lookback_store::{Source, Store};

use crate::TrustResult;

/// The badge of one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HealthState {
    /// The last sync succeeded recently enough.
    Ok,
    /// The last sync did not fail, but the last success is older than the policy allows (or
    /// there never was one).
    Stale,
    /// The most recent sync attempt failed.
    Failing,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::Stale => "stale",
            HealthState::Failing => "failing",
        }
    }
}

/// At least this many whole 24-hour windows since the source was added before there is a
/// usual volume to compare the last 24 h with.
pub const MIN_USUAL_WINDOWS: usize = 3;

const DAY_MS: i64 = 86_400_000;

/// When a source counts as stale, and the windows and thresholds of its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// A source whose last success is older than this is stale. Default 6 hours: hourly
    /// syncs that missed several rounds.
    pub stale_after_ms: i64,
    /// The window of the error rate, retries and schema-drift counts. Default 7 days.
    pub window_ms: i64,
    /// How many 24-hour windows before the last 24 h the usual volume is the median of.
    /// Default 14.
    pub usual_days: u32,
    /// A volume drop is the last 24 h below this percentage of the usual. Default 50.
    pub volume_drop_percent: u64,
    /// No volume drop is flagged while the usual day has fewer records than this (a small
    /// source's quiet day is not an outage). Default 10.
    pub volume_min_usual: u64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            stale_after_ms: 6 * 3_600_000,
            window_ms: 7 * DAY_MS,
            usual_days: 14,
            volume_drop_percent: 50,
            volume_min_usual: 10,
        }
    }
}

/// The state of one source and the facts it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHealthState {
    pub source_id: String,
    pub name: String,
    pub state: HealthState,
    pub last_success_at_ms: Option<i64>,
    /// `now − last success`.
    pub lag_ms: Option<i64>,
    pub last_error: Option<String>,
    pub unresolved_dead_letters: u64,
    /// Raw events received in the 24 hours before `now`.
    pub records_last_24h: u64,
    /// The median of the raw events received per 24 hours before that; `None` until the source
    /// has [`MIN_USUAL_WINDOWS`] whole windows.
    pub usual_daily_records: Option<u64>,
    /// The last 24 h brought less than the policy's share of the usual (see the module notes).
    pub volume_drop: bool,
    /// Sync runs in the window that ended complete or failed.
    pub sync_runs: u64,
    /// Of those, the failed ones.
    pub failed_runs: u64,
    /// Requests retried in the window's runs (throttling, transient failures).
    pub retries: u64,
    /// Unknown top-level fields seen in the window's runs (schema drift: new fields).
    pub unknown_fields: u64,
    /// Dead letters of the window whose reason is a missing or mistyped field (schema drift).
    pub schema_dead_letters: u64,
}

impl SourceHealthState {
    /// Failed runs ÷ runs, in hundredths rounded half up (25 = 0.25); `None` without runs.
    pub fn error_rate_hundredths(&self) -> Option<i64> {
        (self.sync_runs > 0).then(|| {
            let (failed, runs) = (self.failed_runs as i64, self.sync_runs as i64);
            (failed * 200 + runs) / (2 * runs)
        })
    }

    /// The error rate as a decimal with 2 places (`"0.25"`), as every screen and file shows it.
    pub fn error_rate_text(&self) -> Option<String> {
        self.error_rate_hundredths()
            .map(|h| format!("{}.{:02}", h / 100, h % 100))
    }
}

/// The median of `counts` (the lower of the two middle values for an even number).
fn median(mut counts: Vec<u64>) -> Option<u64> {
    if counts.is_empty() {
        return None;
    }
    counts.sort_unstable();
    Some(counts[(counts.len() - 1) / 2])
}

/// The badge of `source` at `now_ms`: cheap (no counting), for every freshness line.
///
/// Failing wins over stale: a source whose latest attempt (at or after its latest success)
/// recorded an error is failing. Otherwise it is stale when it never succeeded or its last
/// success is older than `policy.stale_after_ms`, and ok else.
pub fn health_state(source: &Source, now_ms: i64, policy: HealthPolicy) -> HealthState {
    health_state_at(
        source.last_attempt_at_ms,
        source.last_success_at_ms,
        source.last_error.is_some(),
        now_ms,
        policy,
    )
}

/// [`health_state`] from a source's sync times and whether it holds an error, for callers
/// that read those without the whole source row (a view's freshness lines).
pub fn health_state_at(
    last_attempt_at_ms: Option<i64>,
    last_success_at_ms: Option<i64>,
    has_error: bool,
    now_ms: i64,
    policy: HealthPolicy,
) -> HealthState {
    let failing = has_error
        && match (last_attempt_at_ms, last_success_at_ms) {
            (Some(attempt), Some(success)) => attempt >= success,
            (_, None) => true,
            (None, Some(_)) => false,
        };
    if failing {
        HealthState::Failing
    } else if last_success_at_ms.is_none_or(|success| now_ms - success > policy.stale_after_ms) {
        HealthState::Stale
    } else {
        HealthState::Ok
    }
}

/// The state ([`health_state`]) and metrics of every registered source at `now_ms`, sorted by
/// source id.
pub fn source_health_states(
    store: &Store,
    now_ms: i64,
    policy: HealthPolicy,
) -> TrustResult<Vec<SourceHealthState>> {
    let dead = store.unresolved_dead_letter_counts()?;
    let daily = store.daily_received_counts(now_ms, policy.usual_days)?;
    let since = now_ms - policy.window_ms;
    let runs = store.sync_run_totals(since)?;
    let schema = store.schema_dead_letter_counts(since)?;
    let mut states: Vec<SourceHealthState> = store
        .sources()?
        .into_iter()
        .map(|source| {
            let state = health_state(&source, now_ms, policy);
            let lag_ms = source.last_success_at_ms.map(|s| now_ms - s);
            let received = |days_ago: u32| {
                daily
                    .iter()
                    .find(|d| d.source == source.source_id && d.days_ago == days_ago)
                    .map_or(0, |d| d.records)
            };
            let records_last_24h = received(0);
            // Window k covers the 24 hours ending k days before now; only whole windows that
            // start after the source was added say what a usual day is.
            let usual_windows: Vec<u64> = (1..=policy.usual_days)
                .filter(|&k| now_ms - (i64::from(k) + 1) * DAY_MS >= source.created_at_ms)
                .map(received)
                .collect();
            let usual_daily_records = if usual_windows.len() >= MIN_USUAL_WINDOWS {
                median(usual_windows)
            } else {
                None
            };
            let volume_drop = usual_daily_records.is_some_and(|usual| {
                usual >= policy.volume_min_usual
                    && records_last_24h * 100 < usual * policy.volume_drop_percent
            });
            let run = runs.iter().find(|r| r.source_id == source.source_id);
            SourceHealthState {
                unresolved_dead_letters: dead
                    .iter()
                    .filter(|d| d.source == source.source_id)
                    .map(|d| d.unresolved)
                    .sum(),
                records_last_24h,
                usual_daily_records,
                volume_drop,
                sync_runs: run.map_or(0, |r| r.runs),
                failed_runs: run.map_or(0, |r| r.failed),
                retries: run.map_or(0, |r| r.retries),
                unknown_fields: run.map_or(0, |r| r.unknown_fields),
                schema_dead_letters: schema
                    .iter()
                    .find(|(s, _)| *s == source.source_id)
                    .map_or(0, |(_, n)| *n),
                source_id: source.source_id,
                name: source.name,
                state,
                last_success_at_ms: source.last_success_at_ms,
                lag_ms,
                last_error: source.last_error,
            }
        })
        .collect();
    states.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    Ok(states)
}
