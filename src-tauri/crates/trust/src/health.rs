//! Data health states per source — ok, stale or failing — from the sync state the store keeps.
//! The states drive the freshness badge of every view and can raise alerts; the screen itself
//! is the window's.

use lookback_store::Store;

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

/// When a source counts as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// A source whose last success is older than this is stale. Default 6 hours: hourly
    /// syncs that missed several rounds.
    pub stale_after_ms: i64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            stale_after_ms: 6 * 3_600_000,
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
}

/// The state of every registered source at `now_ms`, sorted by source id.
///
/// Failing wins over stale: a source whose latest attempt (at or after its latest success)
/// recorded an error is failing. Otherwise it is stale when it never succeeded or its last
/// success is older than `policy.stale_after_ms`, and ok else.
pub fn source_health_states(
    store: &Store,
    now_ms: i64,
    policy: HealthPolicy,
) -> TrustResult<Vec<SourceHealthState>> {
    let dead = store.unresolved_dead_letter_counts()?;
    let stats = store.raw_event_stats(now_ms - 86_400_000)?;
    let mut states: Vec<SourceHealthState> = store
        .sources()?
        .into_iter()
        .map(|source| {
            let failing = source.last_error.is_some()
                && match (source.last_attempt_at_ms, source.last_success_at_ms) {
                    (Some(attempt), Some(success)) => attempt >= success,
                    (_, None) => true,
                    (None, Some(_)) => false,
                };
            let lag_ms = source.last_success_at_ms.map(|s| now_ms - s);
            let state = if failing {
                HealthState::Failing
            } else if lag_ms.is_none_or(|lag| lag > policy.stale_after_ms) {
                HealthState::Stale
            } else {
                HealthState::Ok
            };
            SourceHealthState {
                unresolved_dead_letters: dead
                    .iter()
                    .filter(|d| d.source == source.source_id)
                    .map(|d| d.unresolved)
                    .sum(),
                records_last_24h: stats
                    .iter()
                    .filter(|s| s.source == source.source_id)
                    .map(|s| s.rows_since)
                    .sum(),
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
