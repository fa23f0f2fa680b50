//! Data health per source — ok, stale, failing or needs reconnecting — and the metrics behind it: last success,
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
//! - **Needs reconnecting**: the platform refused the source's credential (recorded by the sync
//!   engine on the source, `lookback_store::SourceCredential`). No retry or wait fixes that,
//!   only a new secret (`lookback source reconnect NAME`, or Reconnect in the window), so it is
//!   its own state and wins over failing and stale.
//! - **Credential expiry**: when the platform reports when the credential expires (Meta's
//!   `debug_token`), the state carries it and warns `credential_warning_ms` (7 days) ahead.

use lookback_store::{Source, SourceCredential, Store};

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
    /// The platform refused the credential; only a new secret (a reconnect) fixes it. Wins
    /// over failing and stale.
    NeedsReconnecting,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Ok => "ok",
            HealthState::Stale => "stale",
            HealthState::Failing => "failing",
            HealthState::NeedsReconnecting => "needs_reconnecting",
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
    /// A credential that expires within this much of `now` (or has expired) is flagged, so a
    /// person replaces it before the syncs stop. Default 7 days: a Meta user token lasts
    /// about 60, and a week leaves time to make a System User token instead.
    pub credential_warning_ms: i64,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        HealthPolicy {
            stale_after_ms: 6 * 3_600_000,
            window_ms: 7 * DAY_MS,
            usual_days: 14,
            volume_drop_percent: 50,
            volume_min_usual: 10,
            credential_warning_ms: 7 * DAY_MS,
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
    /// The first refusal of the credential in the current outage, while the source needs
    /// reconnecting (then `state` is [`HealthState::NeedsReconnecting`]).
    pub needs_reconnect_since_ms: Option<i64>,
    /// Why the platform refused it (its error, never a secret).
    pub needs_reconnect_reason: Option<String>,
    /// What the platform last said about the credential's lifetime (see [`CredentialExpiry`]).
    pub credential_expiry: CredentialExpiry,
}

/// What is known about when a source's credential expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialExpiry {
    /// The platform was never asked (it has no inspection endpoint, or it was not yet asked).
    Unknown,
    /// The platform says the credential does not expire (a Meta System User token).
    Never,
    /// The credential expires at this instant, more than the warning period from now.
    At { expires_at_ms: i64 },
    /// The credential expires within the policy's warning period, or has expired.
    Soon { expires_at_ms: i64 },
}

impl CredentialExpiry {
    /// `unknown`, `never`, `ok` or `soon`: the word every screen and file uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialExpiry::Unknown => "unknown",
            CredentialExpiry::Never => "never",
            CredentialExpiry::At { .. } => "ok",
            CredentialExpiry::Soon { .. } => "soon",
        }
    }

    /// The expiry instant, when the credential expires.
    pub fn expires_at_ms(self) -> Option<i64> {
        match self {
            CredentialExpiry::At { expires_at_ms } | CredentialExpiry::Soon { expires_at_ms } => {
                Some(expires_at_ms)
            }
            CredentialExpiry::Unknown | CredentialExpiry::Never => None,
        }
    }
}

/// The expiry of `credential` as seen at `now_ms` under `policy`. The earlier of the token's
/// own expiry and its data-access expiry counts: after either, syncs stop.
pub fn credential_expiry(
    credential: Option<&SourceCredential>,
    now_ms: i64,
    policy: HealthPolicy,
) -> CredentialExpiry {
    let Some(credential) = credential.filter(|c| c.checked_at_ms.is_some()) else {
        return CredentialExpiry::Unknown;
    };
    let expires = match (
        credential.expires_at_ms,
        credential.data_access_expires_at_ms,
    ) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match expires {
        None => CredentialExpiry::Never,
        Some(expires_at_ms) if expires_at_ms - now_ms <= policy.credential_warning_ms => {
            CredentialExpiry::Soon { expires_at_ms }
        }
        Some(expires_at_ms) => CredentialExpiry::At { expires_at_ms },
    }
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
/// `credential` is the source's credential facts (`Store::source_credentials`); `None` reads as
/// a credential that was never refused.
///
/// Needs reconnecting wins over everything: the platform refused the credential. Then failing
/// wins over stale: a source whose latest attempt (at or after its latest success) recorded an
/// error is failing. Otherwise it is stale when it never succeeded or its last success is
/// older than `policy.stale_after_ms`, and ok else.
pub fn health_state(
    source: &Source,
    credential: Option<&SourceCredential>,
    now_ms: i64,
    policy: HealthPolicy,
) -> HealthState {
    health_state_at(
        source.last_attempt_at_ms,
        source.last_success_at_ms,
        source.last_error.is_some(),
        credential.is_some_and(SourceCredential::needs_reconnect),
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
    needs_reconnect: bool,
    now_ms: i64,
    policy: HealthPolicy,
) -> HealthState {
    if needs_reconnect {
        return HealthState::NeedsReconnecting;
    }
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
    let credentials = store.source_credentials()?;
    let mut states: Vec<SourceHealthState> = store
        .sources()?
        .into_iter()
        .map(|source| {
            let credential = credentials.iter().find(|c| c.source_id == source.source_id);
            let state = health_state(&source, credential, now_ms, policy);
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
                needs_reconnect_since_ms: credential.and_then(|c| c.needs_reconnect_since_ms),
                needs_reconnect_reason: credential.and_then(|c| c.needs_reconnect_reason.clone()),
                credential_expiry: credential_expiry(credential, now_ms, policy),
            }
        })
        .collect();
    states.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000_000;
    const HOUR: i64 = 3_600_000;

    fn refused(since: Option<i64>) -> SourceCredential {
        SourceCredential {
            source_id: "ads".into(),
            needs_reconnect_since_ms: since,
            ..SourceCredential::default()
        }
    }

    #[test]
    fn needs_reconnecting_wins_over_failing_and_stale_and_names_itself() {
        let policy = HealthPolicy::default();
        // A refused credential with an error on the latest attempt and no success for days.
        let state = health_state_at(Some(NOW), Some(NOW - 72 * HOUR), true, true, NOW, policy);
        assert_eq!(state, HealthState::NeedsReconnecting);
        assert_eq!(state.as_str(), "needs_reconnecting");
        // Never synced at all, refused at `source test`.
        assert_eq!(
            health_state_at(None, None, false, true, NOW, policy),
            HealthState::NeedsReconnecting
        );
        // The same source without the refusal is failing, then stale, then ok.
        assert_eq!(
            health_state_at(Some(NOW), Some(NOW - 72 * HOUR), true, false, NOW, policy),
            HealthState::Failing
        );
        assert_eq!(
            health_state_at(Some(NOW), Some(NOW - 72 * HOUR), false, false, NOW, policy),
            HealthState::Stale
        );
        assert_eq!(
            health_state_at(Some(NOW), Some(NOW - HOUR), false, false, NOW, policy),
            HealthState::Ok
        );
    }

    #[test]
    fn the_source_row_and_its_credential_give_the_state() {
        let source = Source {
            source_id: "ads".into(),
            kind: "meta".into(),
            name: "ads".into(),
            base_url: None,
            account: None,
            credential_ref: None,
            created_at_ms: 0,
            last_attempt_at_ms: Some(NOW),
            last_success_at_ms: Some(NOW - HOUR),
            last_error: Some("the meta API refused the credential".into()),
        };
        let policy = HealthPolicy::default();
        assert_eq!(
            health_state(&source, Some(&refused(Some(NOW))), NOW, policy),
            HealthState::NeedsReconnecting
        );
        assert_eq!(
            health_state(&source, Some(&refused(None)), NOW, policy),
            HealthState::Failing
        );
        assert_eq!(
            health_state(&source, None, NOW, policy),
            HealthState::Failing
        );
    }

    #[test]
    fn expiry_is_flagged_seven_days_ahead_and_the_earlier_of_token_and_data_access_counts() {
        let policy = HealthPolicy::default();
        let day = 24 * HOUR;
        let checked = |expires: Option<i64>, data_access: Option<i64>| SourceCredential {
            checked_at_ms: Some(NOW - HOUR),
            expires_at_ms: expires,
            data_access_expires_at_ms: data_access,
            ..SourceCredential::default()
        };
        assert_eq!(
            credential_expiry(None, NOW, policy),
            CredentialExpiry::Unknown
        );
        assert_eq!(
            credential_expiry(Some(&SourceCredential::default()), NOW, policy),
            CredentialExpiry::Unknown,
            "never inspected"
        );
        assert_eq!(
            credential_expiry(Some(&checked(None, None)), NOW, policy),
            CredentialExpiry::Never
        );
        assert_eq!(
            credential_expiry(Some(&checked(Some(NOW + 7 * day + 1), None)), NOW, policy),
            CredentialExpiry::At {
                expires_at_ms: NOW + 7 * day + 1
            }
        );
        assert_eq!(
            credential_expiry(Some(&checked(Some(NOW + 7 * day), None)), NOW, policy),
            CredentialExpiry::Soon {
                expires_at_ms: NOW + 7 * day
            },
            "exactly seven days ahead is inside the warning"
        );
        assert_eq!(
            credential_expiry(
                Some(&checked(Some(NOW + 50 * day), Some(NOW + 3 * day))),
                NOW,
                policy
            ),
            CredentialExpiry::Soon {
                expires_at_ms: NOW + 3 * day
            },
            "data access ending first stops the syncs first"
        );
        assert_eq!(
            credential_expiry(Some(&checked(Some(NOW - day), None)), NOW, policy).as_str(),
            "soon",
            "an expired credential is flagged too"
        );
    }
}
