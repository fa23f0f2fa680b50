//! The Sources screen's jobs: each source's health, dead letters and their replay, connecting
//! and reconnecting a source, and a sync that reports progress as it goes. A sync opens its
//! own connection to the workspace file (SQLite in WAL mode lets the window keep reading while
//! it writes) and runs on its own thread.

use std::path::Path;

use anyhow::{Context, Result};
use lookback_store::Store;
use lookback_sync::{CancellationToken, StreamOutcome, SyncEvent, SyncOptions};

use crate::wire as ipc;

/// Every kind of source the window can connect, in the order the CLI lists them.
pub fn source_kinds() -> Vec<ipc::SourceKind> {
    ipc::SourceKind::ALL.to_vec()
}

/// A source to add, as the user describes it (the window's form or `lookback source add`);
/// blank optional fields mean "the platform's own".
#[derive(Debug, Clone)]
pub struct SourceToAdd {
    pub kind: String,
    pub name: String,
    pub base_url: Option<String>,
    pub account: Option<String>,
    pub oauth_token_url: Option<String>,
    pub oauth_authorize_url: Option<String>,
}

/// Adds a source — the one job behind `lookback source add` and the window's **Connect** —
/// after the platform accepted its secret where it can say (Meta: a refused token or one
/// without ads_read is not kept, and its expiry and permissions are stored). The secret goes to
/// the OS keyring, the source (with a reference to it) to the workspace.
pub fn add_vetted(
    store: &mut Store,
    to_add: SourceToAdd,
    secret: &lookback_sync::Secret,
    now_ms: i64,
) -> Result<(lookback_store::Source, Option<CredentialFacts>)> {
    let blank_is_none =
        |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    // The kind is checked before anything else, so a typo is named as such.
    lookback_sync::registry::connector_for_kind(&to_add.kind)?;
    let new = lookback_sync::NewSource {
        kind: to_add.kind,
        name: to_add.name.trim().to_owned(),
        base_url: blank_is_none(to_add.base_url),
        account: blank_is_none(to_add.account),
    };
    let settings: lookback_sync::auth::SourceSettings = [
        (
            lookback_sync::auth::TOKEN_URL_SETTING,
            blank_is_none(to_add.oauth_token_url),
        ),
        (
            lookback_sync::auth::AUTHORIZE_URL_SETTING,
            blank_is_none(to_add.oauth_authorize_url),
        ),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_owned(), value?)))
    .collect();
    Ok(block_on(
        lookback_sync::credential_check::add_vetted_source(
            store,
            &new,
            secret,
            &settings,
            &SyncOptions::new(now_ms),
        ),
    )??)
}

/// What the platform said about a credential when it was added or replaced.
pub use lookback_store::CredentialFacts;

/// The window's **Connect**: [`add_vetted`] with the form's secret. Returns the new list.
pub fn add_source(
    store: &mut Store,
    request: ipc::NewSourceRequest,
    now_ms: i64,
) -> Result<Vec<ipc::SourceRow>> {
    let secret = lookback_sync::Secret::new(request.secret.trim_end_matches(['\r', '\n']));
    let to_add = SourceToAdd {
        kind: request.kind.as_str().to_owned(),
        name: request.name,
        base_url: request.base_url,
        account: request.account,
        oauth_token_url: request.oauth_token_url,
        oauth_authorize_url: request.oauth_authorize_url,
    };
    add_vetted(store, to_add, &secret, now_ms)?;
    source_rows(store, now_ms)
}

/// Connects the source named `name` (or with that id) of the workspace at `path` to its account
/// through the system browser (or `LOOKBACK_BROWSER`): consent page, PKCE, loopback redirect;
/// the refresh token goes to the OS keyring. The one job behind `lookback source connect` and
/// the window's **Connect with Google**; lines to show (the consent URL) go to `on_message`.
pub fn connect(
    path: &Path,
    name: &str,
    timeout: std::time::Duration,
    on_message: &mut (dyn FnMut(String) + Send),
) -> Result<lookback_store::Source> {
    let mut store = Store::open(path)?;
    let request = lookback_sync::ConnectRequest {
        name: name.to_owned(),
        timeout,
    };
    let browser = lookback_sync::ConsentBrowser::from_env();
    Ok(block_on(lookback_sync::connect_source(
        &mut store, &request, &browser, on_message,
    ))??)
}

/// Replaces the refused secret of the source named `name` (or with that id) — the one job
/// behind `lookback source reconnect` and the window's **Reconnect** — keeping its data and
/// checkpoints, and ends its needs-reconnecting state.
pub fn reconnect_vetted(
    store: &mut Store,
    name: &str,
    secret: &lookback_sync::Secret,
    now_ms: i64,
) -> Result<(lookback_store::Source, Option<CredentialFacts>)> {
    Ok(block_on(
        lookback_sync::credential_check::reconnect_source(
            store,
            name,
            secret,
            &SyncOptions::new(now_ms),
        ),
    )??)
}

/// The window's **Reconnect**: [`reconnect_vetted`] with the form's secret. Returns the new list.
pub fn reconnect_source(
    store: &mut Store,
    request: ipc::ReconnectSourceRequest,
    now_ms: i64,
) -> Result<Vec<ipc::SourceRow>> {
    let secret = lookback_sync::Secret::new(request.secret.trim_end_matches(['\r', '\n']));
    reconnect_vetted(store, &request.source_id, &secret, now_ms)?;
    source_rows(store, now_ms)
}

/// Removes the source named `name` (or with that id) and its keyring entry; the data it
/// brought stays in the workspace. The job behind `lookback source remove`.
pub fn remove(store: &mut Store, name: &str) -> Result<lookback_store::Source> {
    Ok(lookback_sync::remove_source(store, name)?)
}

/// Tries the credential of the source named `name` (or with that id) against its platform and
/// says what the platform reports about it, line by line. The job behind `lookback source test`.
pub fn test(store: &mut Store, name: &str, now_ms: i64) -> Result<Vec<String>> {
    let source = lookback_sync::find_source(store, name)?;
    let secret = lookback_sync::sources::secret_of(&source)?;
    let settings = store.source_settings(&source.source_id)?;
    Ok(block_on(
        lookback_sync::credential_check::test_and_inspect(
            store,
            &source,
            &secret,
            &settings,
            &SyncOptions::new(now_ms),
        ),
    )??)
}

/// Runs one credential request to its end on this (worker) thread.
fn block_on<T>(job: impl std::future::Future<Output = T>) -> Result<T> {
    Ok(crate::runtime::worker_runtime()
        .context("starting the credential check")?
        .block_on(job))
}

/// Health of every registered source: its ok / stale / failing / needs-reconnecting badge and
/// its metrics come from the trust crate's health computation (one place, so every screen and
/// the CLI agree); the record total comes from the sync crate's per-source counts.
pub fn source_rows(store: &Store, now_ms: i64) -> Result<Vec<ipc::SourceRow>> {
    let health = lookback_sync::source_health(store, now_ms)?;
    let states = crate::trust::health_states(store, now_ms, None)?;
    let window_days = states.window_days;
    let sources = store.sources()?;
    let credentials = store.source_credentials()?;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    health
        .into_iter()
        .map(|h| {
            let state = states
                .sources
                .iter()
                .map(|(s, _)| s)
                .find(|s| s.source_id == h.source_id);
            let source = sources.iter().find(|s| s.source_id == h.source_id);
            let credential = credentials.iter().find(|c| c.source_id == h.source_id);
            let expiry = state.map_or(lookback_trust::CredentialExpiry::Unknown, |s| {
                s.credential_expiry
            });
            let (api_version, api_version_warning) = api_version_status(&h.kind, now_ms);
            let (card_expiry, policy) = credential_terms(expiry, &h.kind);
            Ok(ipc::SourceRow {
                api_version,
                api_version_warning,
                state: state.map_or(ipc::SourceState::Stale, |s| s.state.into()),
                needs_reconnect_since_ms: state.and_then(|s| s.needs_reconnect_since_ms),
                credential: ipc::CredentialStatus {
                    expiry: card_expiry,
                    policy,
                    expires_at_ms: expiry.expires_at_ms(),
                    token_type: credential.and_then(|c| c.token_type.clone()),
                    scopes: credential.map(|c| c.scopes.clone()).unwrap_or_default(),
                },
                base_url: source.and_then(|s| s.base_url.clone()),
                account: source.and_then(|s| s.account.clone()),
                health: ipc::SourceHealthMetrics {
                    records_last_24h: n(state.map_or(0, |s| s.records_last_24h)),
                    usual_daily_records: state.and_then(|s| s.usual_daily_records).map(n),
                    volume_drop: state.is_some_and(|s| s.volume_drop),
                    window_days,
                    sync_runs: n(state.map_or(0, |s| s.sync_runs)),
                    failed_runs: n(state.map_or(0, |s| s.failed_runs)),
                    error_rate: state.and_then(|s| s.error_rate_text()),
                    retries: n(state.map_or(0, |s| s.retries)),
                    unknown_fields: n(state.map_or(0, |s| s.unknown_fields)),
                    schema_dead_letters: n(state.map_or(0, |s| s.schema_dead_letters)),
                },
                source_id: h.source_id,
                kind: h.kind,
                name: h.name,
                last_success_at_ms: h.last_success_at_ms,
                lag_ms: h.lag_ms,
                records: n(h.records),
                last_error: h.last_error,
                dead_letters: n(h.unresolved_dead_letters),
            })
        })
        .collect()
}

/// A source's unresolved dead letters, newest first (payloads stay in the store).
pub fn dead_letters(store: &Store, source_id: &str) -> Result<Vec<ipc::DeadLetterRow>> {
    let mut rows: Vec<ipc::DeadLetterRow> = store
        .source_dead_letters(source_id, false)?
        .into_iter()
        .map(|d| ipc::DeadLetterRow {
            dead_letter_id: d.dead_letter_id,
            stream: d.stream,
            location: d.location,
            reason: d.reason,
            created_at_ms: d.created_at_ms,
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.created_at_ms));
    Ok(rows)
}

/// Re-normalizes the dead letters of the source named `name` (or with that id) after a fix;
/// those that now work are marked resolved. `lookback source replay` and the window's
/// **Replay** both call this.
pub fn replay(store: &mut Store, name: &str, now_ms: i64) -> Result<ipc::ReplayResult> {
    let source = lookback_sync::find_source(store, name)?;
    let summary = lookback_sync::replay_dead_letters(store, &source, now_ms)?;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Ok(ipc::ReplayResult {
        examined: n(summary.examined),
        resolved: n(summary.resolved),
        still_failing: n(summary.still_failing),
    })
}

fn progress_of(event: &SyncEvent) -> Option<ipc::SyncProgress> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Some(match event {
        SyncEvent::StreamStarted { stream, .. } => ipc::SyncProgress::StreamStarted {
            stream: stream.clone(),
        },
        SyncEvent::PageCommitted {
            stream, counters, ..
        } => ipc::SyncProgress::Page {
            stream: stream.clone(),
            pages: n(counters.pages),
            records: n(counters.records),
            inserted: n(counters.inserted),
            dead_letters: n(counters.dead_letters),
            retries: n(counters.retries),
        },
        SyncEvent::Waiting {
            stream,
            seconds,
            reason,
            ..
        } => ipc::SyncProgress::Waiting {
            stream: stream.clone(),
            seconds: *seconds,
            reason: reason.clone(),
        },
        SyncEvent::StreamFinished { summary, .. } => ipc::SyncProgress::StreamFinished {
            stream: summary.stream.clone(),
            outcome: match &summary.outcome {
                StreamOutcome::Complete => ipc::StreamOutcomeName::Complete,
                StreamOutcome::Failed(_) => ipc::StreamOutcomeName::Failed,
                StreamOutcome::Unavailable(_) => ipc::StreamOutcomeName::Unavailable,
                StreamOutcome::Cancelled => ipc::StreamOutcomeName::Cancelled,
                // A new outcome the sync crate may add: shown as failed, with what it was.
                _ => ipc::StreamOutcomeName::Failed,
            },
            detail: match &summary.outcome {
                StreamOutcome::Failed(why) | StreamOutcome::Unavailable(why) => Some(why.clone()),
                StreamOutcome::Complete | StreamOutcome::Cancelled => None,
                other => Some(format!("{other:?}").to_lowercase()),
            },
        },
        _ => return None,
    })
}

/// Syncs one source — the one job behind `lookback sync` and the window's **Sync** — telling
/// `on_event` each page, wait and stream, until done or `cancel` fires. Blocks the calling
/// thread (it runs its own small runtime); the window calls it on a worker thread.
pub fn sync_source(
    store: &mut Store,
    source: &lookback_store::Source,
    options: &SyncOptions,
    cancel: &CancellationToken,
    on_event: &mut (dyn FnMut(&SyncEvent) + Send),
) -> Result<lookback_sync::SourceSyncSummary, lookback_sync::SyncError> {
    let secret = lookback_sync::sources::secret_of(source)?;
    let runtime =
        crate::runtime::worker_runtime().map_err(|e| lookback_sync::SyncError::Connector {
            connector: "lookback",
            detail: format!("starting the sync runtime: {e}"),
        })?;
    crate::logs::sync_started(&source.source_id, &source.kind);
    let result = runtime.block_on(lookback_sync::sync_source_logged(
        store, source, &secret, options, on_event, cancel,
    ));
    crate::logs::sync_finished(&source.source_id, result.as_ref());
    result
}

/// Syncs the source `source_id` of the workspace at `path` as the window does (see
/// [`sync_source`]), reporting progress through `report`; the answer is the last event.
pub fn sync_one(
    path: &Path,
    source_id: &str,
    cancel: &CancellationToken,
    now_ms: i64,
    report: &mut (dyn FnMut(ipc::SyncProgress) + Send),
) -> Result<ipc::SyncProgress> {
    let mut store = Store::open(path)?;
    let source = lookback_sync::find_source(&store, source_id)?;
    let options = SyncOptions::new(now_ms);
    let mut forward = |event: &SyncEvent| {
        if let Some(p) = progress_of(event) {
            report(p);
        }
    };
    let summary = match sync_source(&mut store, &source, &options, cancel, &mut forward) {
        Ok(summary) => summary,
        // Recorded on the source by the engine; the card shows it with its Reconnect button.
        Err(refused @ lookback_sync::SyncError::Unauthorized { .. }) => {
            return Ok(ipc::SyncProgress::NeedsReconnecting {
                message: refused.to_string(),
            });
        }
        Err(other) => return Err(other.into()),
    };
    let records: u64 = summary
        .streams
        .iter()
        .map(|s| s.counters.inserted + s.counters.new_versions)
        .sum();
    Ok(match summary.failure() {
        Some(error) => ipc::SyncProgress::Failed {
            message: error.to_string(),
        },
        None => ipc::SyncProgress::Done {
            new_records: i64::try_from(records).unwrap_or(i64::MAX),
        },
    })
}

/// The platform's published lifetime of `kind`'s credential, where the platform has reported
/// nothing of this one (every kind but Meta): what the Sources card and `lookback health` say.
pub fn credential_policy(
    reported: lookback_trust::CredentialExpiry,
    kind: &str,
) -> Option<lookback_sync::credential_lifetimes::CredentialLifetime> {
    matches!(reported, lookback_trust::CredentialExpiry::Unknown)
        .then(|| lookback_sync::credential_lifetimes::lifetime_of(kind))
        .flatten()
}

/// The expiry a card shows: what the platform last reported, else [`credential_policy`] with
/// the policy in words.
fn credential_terms(
    reported: lookback_trust::CredentialExpiry,
    kind: &str,
) -> (ipc::Expiry, Option<String>) {
    use lookback_sync::credential_lifetimes::Renewal;
    match credential_policy(reported, kind) {
        Some(lifetime) => (
            match lifetime.renewal {
                Renewal::Never => ipc::Expiry::Never,
                Renewal::ByLookback => ipc::Expiry::Renewed,
            },
            Some(lifetime.in_words.to_owned()),
        ),
        None => (reported.into(), None),
    }
}

/// The API version a kind of source is pinned to, and the warning to show from 30 days before
/// the platform's announced sunset of it (`lookback_sync::api_versions`). One function for the
/// Sources screen and `lookback health`.
pub fn api_version_status(kind: &str, now_ms: i64) -> (Option<String>, Option<String>) {
    let version = lookback_sync::api_versions::pin_for(kind)
        .and_then(|pin| pin.version)
        .map(str::to_owned);
    let warning = lookback_sync::api_versions::version_warning(kind, now_ms)
        .map(|w| format!("{w}; update Lookback before then"));
    (version, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2027-03-15T00:00:00Z: 17 days before Shopify 2026-04 leaves support.
    const MARCH_15_2027_MS: i64 = 1_805_068_800_000;

    #[test]
    fn a_pinned_version_near_its_sunset_is_named_on_the_card_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        for (id, kind) in [("shop", "shopify"), ("ads", "tiktok")] {
            let source = lookback_store::Source {
                source_id: id.into(),
                kind: kind.into(),
                name: id.into(),
                base_url: None,
                account: None,
                credential_ref: None,
                created_at_ms: 0,
                last_attempt_at_ms: None,
                last_success_at_ms: None,
                last_error: None,
            };
            store.write(|tx| tx.upsert_source(&source)).unwrap();
        }
        let rows = source_rows(&store, MARCH_15_2027_MS).unwrap();
        let shop = rows.iter().find(|r| r.source_id == "shop").unwrap();
        assert_eq!(shop.api_version.as_deref(), Some("2026-04"));
        let warning = shop.api_version_warning.as_deref().unwrap_or_default();
        assert!(
            warning.contains("2027-04-01") && warning.contains("17 days"),
            "{warning}"
        );
        let tiktok = rows.iter().find(|r| r.source_id == "ads").unwrap();
        assert_eq!(tiktok.api_version.as_deref(), Some("v1.3"));
        assert_eq!(tiktok.api_version_warning, None, "no sunset announced");
        // Where the platform cannot be asked, the card says its policy: TikTok's long-term
        // tokens last until revoked; Shopify's are renewed by Lookback.
        assert_eq!(tiktok.credential.expiry, ipc::Expiry::Never);
        assert!(
            tiktok
                .credential
                .policy
                .as_deref()
                .is_some_and(|p| p.contains("until the advertiser revokes")),
            "{:?}",
            tiktok.credential
        );
        assert_eq!(shop.credential.expiry, ipc::Expiry::Renewed);
        assert!(
            shop.credential
                .policy
                .as_deref()
                .is_some_and(|p| p.contains("24 hours")),
            "{:?}",
            shop.credential
        );
        // Today (2026-12) no pin is near its sunset.
        let now = source_rows(&store, 1_796_515_200_000).unwrap();
        assert!(now.iter().all(|r| r.api_version_warning.is_none()));
    }
}
