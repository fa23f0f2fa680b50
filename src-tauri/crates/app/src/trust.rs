//! The trust jobs (issue #7) of the window and the CLI: the full integrity check (with the
//! maintained totals against a recount), backup and restore, privacy (erase a person, purge old
//! raw payloads, the privacy settings, the erasure log), credit conservation, what moved between
//! runs, duplicates, and the health of every source with the one default policy the Sources
//! screen and `lookback health` share. The reconciliation itself is
//! [`crate::views::reconcile_report`]. The clock is read by callers and passed in.

use std::path::Path;

use anyhow::{Context, Result};
use lookback_store::{BackupSummary, ErasureRecord, Store};
use lookback_trust::{
    CheckDepth, ConservationReport, CreatorMove, DuplicateCounts, ErasureKey, ErasureReceipt,
    HealthPolicy, IntegrityVerdict, PurgeSummary, SourceHealthState,
};

use crate::error::{AppError, ErrorKind};
use crate::workspace::money;

/// Opens a workspace to read a report from: read-only when it can be, so a report never
/// writes (a workspace that needs migrating is opened for writing).
pub fn open_for_reading(db: &Path) -> Result<Store> {
    Ok(Store::open_read_only(db).or_else(|_| Store::open(db))?)
}

/// Writes a consistent backup of the workspace `db` to the new file `out` (even while a sync
/// writes).
pub fn backup(db: &Path, out: &Path) -> Result<BackupSummary> {
    Ok(lookback_trust::backup(db, out)?)
}

/// Restores the backup `from` into the new workspace `db` (it must not exist).
pub fn restore(from: &Path, db: &Path) -> Result<BackupSummary> {
    Ok(lookback_trust::restore(from, db)?)
}

/// The full integrity check of `db` (`lookback check`), on a read-only connection, then the
/// workspace's maintained totals against a recount of its rows: `Ok` when both pass, a `damaged` error saying what is wrong otherwise. A pass is recorded in the file
/// at `now_ms` (which also clears the markers of sessions that did not close), so the window's
/// background check is not due for another day; a damaged file is never written.
pub fn check(db: &Path, now_ms: i64) -> Result<()> {
    let checked = lookback_trust::check_file(db, CheckDepth::Full)?;
    if let IntegrityVerdict::Damaged { .. } = &checked.verdict {
        return Err(AppError::new(
            ErrorKind::Damaged,
            format!("{}: {}", db.display(), checked.verdict.message()),
        )
        .into());
    }
    let mut store = Store::open(db)?;
    let mut differences = store.totals()?.differences(&store.recount_totals()?);
    if store.traffic_totals()? != store.recount_traffic_totals()? {
        differences.push("touches per source, channel and traffic class".to_owned());
    }
    if !differences.is_empty() {
        return Err(AppError::new(
            ErrorKind::Damaged,
            format!(
                "the workspace's totals disagree with a recount of its rows: {}",
                differences.join("; ")
            ),
        )
        .into());
    }
    store.record_check_passed(now_ms, &checked.covered_sessions)?;
    Ok(())
}

/// Erases the person `key` names: their whole identity component is removed or anonymized.
pub fn erase(db: &Path, key: &ErasureKey, now_ms: i64) -> Result<ErasureReceipt> {
    let mut store = Store::open(db)?;
    Ok(lookback_trust::erase(&mut store, key, now_ms)?)
}

/// Blanks the raw payloads older than the retention setting.
pub fn purge(db: &Path, now_ms: i64) -> Result<PurgeSummary> {
    let mut store = Store::open(db)?;
    Ok(lookback_trust::purge_raw_payloads(&mut store, now_ms)?)
}

/// The privacy settings of a workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacySettings {
    /// Keep PII fields of raw payloads.
    pub store_raw_pii: bool,
    /// Days raw payloads are kept before a purge blanks them; `None`: kept.
    pub raw_payload_retention_days: Option<u32>,
}

/// A retention as typed: a number of days or `off` (`invalid_input` otherwise).
pub fn parse_retention_days(text: &str) -> Result<Option<u32>> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let days = text.trim().parse::<u32>().map_err(|_| {
        AppError::invalid(
            "retention_days",
            format!("{text:?} is not a number of days or `off`"),
        )
    })?;
    Ok(Some(days))
}

/// Changes the privacy settings given (`None` leaves one as it is) and returns them all.
pub fn privacy_settings(
    db: &Path,
    store_raw_pii: Option<bool>,
    retention_days: Option<Option<u32>>,
) -> Result<PrivacySettings> {
    let mut store = Store::open(db)?;
    if let Some(on) = store_raw_pii {
        store.set_store_raw_pii(on)?;
    }
    if let Some(days) = retention_days {
        store.set_raw_payload_retention_days(days)?;
    }
    Ok(PrivacySettings {
        store_raw_pii: store.store_raw_pii()?,
        raw_payload_retention_days: store.raw_payload_retention_days()?,
    })
}

/// The erasure audit log: what was erased and when, never who.
pub fn erasure_log(db: &Path) -> Result<Vec<ErasureRecord>> {
    Ok(Store::open(db)?.erasures()?)
}

/// What a backup wrote, in words (`lookback backup` and the window's **Back up…**).
pub fn describe_backup(db: &Path, summary: &BackupSummary) -> String {
    format!(
        "backed up {} to {} ({} bytes, schema {})",
        db.display(),
        summary.path.display(),
        summary.bytes,
        summary.schema_version
    )
}

/// What a full check found when it passed, in words (`lookback check` and the window's
/// **Check the whole file**).
pub fn describe_check_passed(db: &Path) -> String {
    format!(
        "ok: {} passed the integrity check and its totals match a recount",
        db.display()
    )
}

/// What a purge did, in words (`lookback privacy purge` and the window's **Purge**).
pub fn describe_purge(summary: &PurgeSummary) -> String {
    format!(
        "purged {} raw payloads older than {} days",
        summary.purged, summary.retention_days
    )
}

/// The person an erasure request names: a key type (`email`, `customer_id`, `anonymous_id`,
/// `device_id` or `person_id`) and its value.
pub fn erasure_key(key_type: &str, value: &str) -> Result<ErasureKey> {
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(AppError::invalid("key", "name the person: the key's value is empty").into());
    }
    Ok(match key_type {
        "email" => ErasureKey::Email(value),
        "customer_id" => ErasureKey::CustomerId(value),
        "anonymous_id" => ErasureKey::AnonymousId(value),
        "device_id" => ErasureKey::DeviceId(value),
        "person_id" => ErasureKey::PersonId(value),
        other => {
            return Err(AppError::invalid(
                "key type",
                format!(
                    "{other:?} is not email, customer_id, anonymous_id, device_id or person_id"
                ),
            )
            .into());
        }
    })
}

/// What an erasure removed, in words (the CLI's line, the window's message).
pub fn describe_erasure_counts(c: &lookback_store::ErasureCounts) -> String {
    format!(
        "{} touches deleted · {} orders anonymized · {} identity links · {} raw events · {} dead letters · {} runs to recompute",
        c.touches_deleted,
        c.orders_anonymized,
        c.identity_links_deleted,
        c.raw_events_deleted,
        c.dead_letters_deleted,
        c.runs_deleted
    )
}

/// What an erasure did, line by line, with the receipt salt shown this once.
pub fn describe_erasure(receipt: &ErasureReceipt) -> Vec<String> {
    vec![
        format!(
            "erased: {} keys resolved · {}",
            receipt.counts.keys_resolved,
            describe_erasure_counts(&receipt.counts)
        ),
        format!("audit marker {}", receipt.marker),
        format!(
            "receipt salt {} (shown once, not stored: keep it with the request to prove this erasure later)",
            receipt.receipt_salt
        ),
    ]
}

/// The privacy settings and the erasure log, for the window.
pub fn privacy_view(db: &Path) -> Result<crate::wire::PrivacyView> {
    let settings = privacy_settings(db, None, None)?;
    let erasures = erasure_log(db)?
        .into_iter()
        .map(|e| crate::wire::ErasureRow {
            erasure_id: e.erasure_id,
            erased_at_ms: e.erased_at_ms,
            key_type: e.requested_key_type,
            marker: e.marker,
            summary: describe_erasure_counts(&e.counts),
        })
        .collect();
    Ok(crate::wire::PrivacyView {
        store_raw_pii: settings.store_raw_pii,
        retention_days: settings.raw_payload_retention_days,
        erasures,
    })
}

/// Whether `run` (default: the latest complete run of the workspace's model) conserves
/// credit: Σ credits = Σ net revenue of its attributed orders, exactly.
pub fn conservation(store: &Store, run: Option<i64>) -> Result<(i64, ConservationReport)> {
    let run_id = match run {
        Some(id) => id,
        None => {
            let settings = store.settings()?;
            store
                .latest_complete_run(&settings.model)?
                .context("no complete run of the workspace's model yet; open a view or run `lookback report` first")?
                .run_id
        }
    };
    Ok((run_id, lookback_trust::check_conservation(store, run_id)?))
}

/// What moved per creator between the runs `before` and `after`.
pub fn what_moved(store: &Store, before: i64, after: i64) -> Result<Vec<CreatorMove>> {
    Ok(lookback_trust::diff_runs(store, before, after)?)
}

/// Raw events, distinct records and restated versions per source.
pub fn duplicates(store: &Store) -> Result<Vec<DuplicateCounts>> {
    Ok(lookback_trust::duplicate_counts(store)?)
}

/// The complete runs of the workspace, newest first, for the window's Runs section.
pub fn complete_runs(store: &Store) -> Result<Vec<crate::wire::RunRow>> {
    Ok(store
        .complete_runs()?
        .into_iter()
        .map(|r| crate::wire::RunRow {
            in_words: match (
                lookback_core::attribution::Model::parse(&r.model),
                lookback_core::attribution::ModelParams::parse_canonical(&r.parameters),
            ) {
                // With the touches the run read (a run from before the filter read all).
                (Ok(model), Ok(params)) => format!(
                    "{} · {}",
                    crate::views::model_in_words(model, &params),
                    lookback_core::touch_filter::TouchFilter::of_run_parameters(&r.parameters)
                        .unwrap_or(params.touches)
                        .in_words()
                ),
                _ => format!("{} {}", r.model, r.parameters),
            },
            run_id: r.run_id,
            model: r.model,
            parameters: r.parameters,
            reporting_currency: r.reporting_currency,
            finished_at_ms: r.finished_at_ms,
        })
        .collect())
}

/// A run's conservation check for the window: ok, or the orders whose credits do not sum to
/// their net revenue (the rows `lookback trust conservation` prints).
pub fn conservation_view(store: &Store, run: i64) -> Result<crate::wire::ConservationView> {
    let (run_id, report) = conservation(store, Some(run))?;
    let currency = run_currency(store, run_id)?;
    Ok(crate::wire::ConservationView {
        run_id,
        holds: report.holds(),
        violations: report
            .violations
            .into_iter()
            .map(|v| {
                Ok(crate::wire::ConservationViolationRow {
                    net: money(v.net_minor, &currency)?,
                    credited: money(v.credited_minor, &currency)?,
                    order_id: v.order_id,
                    credit_rows: v.credit_rows as i64,
                })
            })
            .collect::<Result<_>>()?,
    })
}

/// The reporting currency of run `run_id` (`invalid_input` when there is no such run).
fn run_currency(store: &Store, run_id: i64) -> Result<String> {
    Ok(store
        .run(run_id)?
        .ok_or_else(|| AppError::invalid("run", format!("there is no run {run_id}")))?
        .reporting_currency)
}

/// What moved per creator between two runs, for the window.
pub fn what_moved_rows(
    store: &Store,
    before: i64,
    after: i64,
) -> Result<Vec<crate::wire::CreatorMoveRow>> {
    let moves = what_moved(store, before, after)?;
    let currency = run_currency(store, after)?;
    moves
        .into_iter()
        .map(|m| {
            Ok(crate::wire::CreatorMoveRow {
                before: money(m.before_minor, &currency)?,
                after: money(m.after_minor, &currency)?,
                delta: money(m.delta_minor, &currency)?,
                creator_id: m.creator_id,
            })
        })
        .collect()
}

/// Duplicates per source, for the window.
pub fn duplicate_rows(store: &Store) -> Result<Vec<crate::wire::DuplicateRow>> {
    Ok(duplicates(store)?
        .into_iter()
        .map(|d| crate::wire::DuplicateRow {
            source: d.source,
            raw_events: d.raw_events as i64,
            distinct_records: d.distinct_records as i64,
            restated_versions: d.restated_versions as i64,
        })
        .collect())
}

/// The health of every source and the policy it was judged by.
#[derive(Debug, Clone)]
pub struct SourceHealth {
    /// Each source's state and metrics, with its kind (for its API version).
    pub sources: Vec<(SourceHealthState, String)>,
    /// Days the error rate, retries and schema drift are counted over.
    pub window_days: i64,
    /// The 24-hour windows the usual volume is the median of.
    pub usual_days: u32,
}

/// The health of every source: the Sources screen's cards and `lookback health` both come
/// from here, with the default policy unless `stale_after_hours` (how long after its last
/// success a source is stale) is given.
pub fn health_states(
    store: &Store,
    now_ms: i64,
    stale_after_hours: Option<i64>,
) -> Result<SourceHealth> {
    let mut policy = HealthPolicy::default();
    if let Some(hours) = stale_after_hours {
        if hours < 0 {
            return Err(AppError::invalid(
                "stale_after_hours",
                format!("{hours} is not a number of hours (0 or more)"),
            )
            .into());
        }
        policy.stale_after_ms = hours.saturating_mul(3_600_000);
    }
    let states = lookback_trust::source_health_states(store, now_ms, policy)?;
    let kinds = store.sources()?;
    let kind_of = |source_id: &str| {
        kinds
            .iter()
            .find(|s| s.source_id == source_id)
            .map_or(String::new(), |s| s.kind.clone())
    };
    Ok(SourceHealth {
        sources: states
            .into_iter()
            .map(|s| {
                let kind = kind_of(&s.source_id);
                (s, kind)
            })
            .collect(),
        window_days: policy.window_ms / 86_400_000,
        usual_days: policy.usual_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_is_days_or_off_and_anything_else_names_the_field() {
        assert_eq!(parse_retention_days("30").unwrap(), Some(30));
        assert_eq!(parse_retention_days("OFF").unwrap(), None);
        let err = AppError::from(parse_retention_days("soon").unwrap_err());
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(
            err.message.starts_with("retention_days: "),
            "{}",
            err.message
        );
    }
}
