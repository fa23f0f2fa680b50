//! Workspace jobs shared by the CLI and the window: open a workspace file, create an empty one,
//! write the demo, and read the overview as wire types. No tauri here, so a test can drive it.

use std::path::Path;

use anyhow::{Context, Result};
use lookback_core::money::{Currency, format_minor};
use lookback_store::Store;

use crate::error::AppError;
use crate::wire as ipc;

/// Opens an existing workspace for the CLI. Missing, foreign, damaged and newer files are
/// refused with a clear error and left untouched (`lookback check` reports on a damaged one).
pub fn open(path: &Path) -> Result<Store> {
    let store = Store::open(path)?;
    tracing::info!(path = %path.display(), "workspace opened");
    Ok(store)
}

/// How often a running upgrade reports while one change runs.
pub const UPGRADE_TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Upgrades the workspace at `path` to this binary's schema if it is older (see
/// `Store::upgrade`), telling `observer` how it goes; `None` when it was up to date. Stopping it
/// leaves the file unchanged (`cancelled`).
pub fn upgrade(
    path: &Path,
    observer: &mut (
             dyn FnMut(&lookback_store::UpgradeProgress) -> lookback_store::UpgradeControl + Send
         ),
) -> Result<Option<lookback_store::PendingUpgrade>> {
    let started = std::time::Instant::now();
    let upgraded = Store::upgrade(path, UPGRADE_TICK, observer)?;
    if let Some(u) = upgraded {
        tracing::info!(
            path = %path.display(),
            from = u.from_version,
            to = u.to_version,
            seconds = started.elapsed().as_secs_f64(),
            "workspace upgraded"
        );
    }
    Ok(upgraded)
}

/// Opens an existing workspace for the window: a damaged file opens read-only, with the reason,
/// so what is readable can still be looked at; missing, foreign and newer files are refused.
pub fn open_for_window(path: &Path) -> Result<(Store, Option<String>)> {
    let opened = lookback_trust::open_checked(path)?;
    let read_only_reason = match &opened.verdict {
        lookback_trust::IntegrityVerdict::Sound => None,
        damaged => Some(damaged.message()),
    };
    Ok((opened.store, read_only_reason))
}

/// Creates a new, empty workspace. Refuses to reuse a file that already exists, so an existing
/// workspace can never be overwritten by mistake.
pub fn create_empty(path: &Path, name: &str) -> Result<Store> {
    refuse_existing(path)?;
    let mut store = Store::create(path)?;
    store.set_name(name)?;
    tracing::info!(path = %path.display(), "workspace created");
    Ok(store)
}

/// What `demo` writes: a seed, a size, and the last day of its thirteen months of data.
pub struct DemoOptions {
    pub seed: u64,
    pub orders: usize,
    /// UTC milliseconds of the demo's "now"; the data ends here (exclusive).
    pub end_at_ms: i64,
}

/// Writes a new demo workspace at `path`, with the demo team's history of model changes in its
/// model log. Refuses an existing file.
pub fn create_demo(path: &Path, options: &DemoOptions) -> Result<lookback_demo::DemoSummary> {
    refuse_existing(path)?;
    let mut store = Store::create(path)?;
    store.set_name("Demo workspace")?;
    let config = lookback_demo::DemoConfig {
        seed: options.seed,
        orders: options.orders,
        end_at_ms: options.end_at_ms,
    };
    let summary =
        lookback_demo::generate(&mut store, &config).context("writing the demo workspace")?;
    // The demo team's model changes, through the job a user's change goes through.
    for change in lookback_demo::model_history(&config) {
        crate::models::change_model(
            &mut store,
            change.model,
            &change.params,
            Some(change.changed_by),
            change.reason,
            change.at_ms,
        )?;
    }
    Ok(summary)
}

fn refuse_existing(path: &Path) -> Result<()> {
    if path.exists() {
        return Err(crate::error::AppError::new(
            crate::error::ErrorKind::AlreadyExists,
            format!(
                "{} already exists; choose a new file name (an existing workspace is never overwritten)",
                path.display()
            ),
        )
        .into());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}

/// Imports a CSV file of touches, orders, refunds, spend, creator costs or identity links; bad
/// rows go to dead letters with FILE:LINE and the reason. The job behind `lookback import`.
pub fn import(
    store: &mut Store,
    kind: lookback_ingest::ImportKind,
    file: &Path,
    now_ms: i64,
) -> Result<lookback_ingest::ImportSummary> {
    Ok(lookback_ingest::import_csv(store, kind, file, now_ms)?)
}

/// What an import did, as the window shows it.
pub fn import_result(summary: &lookback_ingest::ImportSummary) -> ipc::ImportResult {
    use lookback_ingest::ImportKind as K;
    ipc::ImportResult {
        file: summary.file.clone(),
        kind: match summary.kind {
            K::Touches => ipc::ImportKindName::Touches,
            K::Orders => ipc::ImportKindName::Orders,
            K::Refunds => ipc::ImportKindName::Refunds,
            K::Spend => ipc::ImportKindName::Spend,
            K::CreatorCosts => ipc::ImportKindName::CreatorCosts,
            K::Identities => ipc::ImportKindName::Identities,
            K::FxRates => ipc::ImportKindName::FxRates,
        },
        imported: summary.imported,
        duplicates: summary.duplicates,
        updated: summary.updated,
        suppressed: summary.suppressed,
        rejected: summary.rejected,
    }
}

/// Writes the template CSV of `kind` (the importer's own columns and an example row) to
/// `path` — the window's **Download template**; `lookback template KIND` prints the same text.
pub fn write_import_template(kind: lookback_ingest::ImportKind, path: &Path) -> Result<()> {
    std::fs::write(path, lookback_ingest::template_csv(kind))
        .with_context(|| format!("writing the {kind} template to {}", path.display()))
}

/// Sets the currency every view converts to and the time zone that decides its days — the
/// first step of a new workspace's setup, and `lookback settings --currency --timezone`.
/// `None` leaves one as it is.
pub fn set_reporting(
    store: &mut Store,
    currency: Option<&str>,
    timezone: Option<&str>,
) -> Result<()> {
    let currency = currency
        .map(|text| {
            text.trim().to_uppercase().parse::<Currency>().map_err(|_| {
                AppError::invalid(
                    "currency",
                    format!("{text:?} is not a known ISO-4217 code such as USD, EUR or GBP"),
                )
            })
        })
        .transpose()?;
    let timezone = timezone
        .map(|text| {
            lookback_core::time::parse_time_zone(text.trim())
                .map(|_| text.trim().to_owned())
                .map_err(|_| {
                    AppError::invalid(
                        "time zone",
                        format!("{text:?} is not an IANA time zone such as Europe/Berlin or America/New_York"),
                    )
                })
        })
        .transpose()?;
    if let Some(currency) = currency {
        store.set_reporting_currency(currency.code())?;
    }
    if let Some(timezone) = timezone {
        store.set_reporting_timezone(&timezone)?;
    }
    Ok(())
}

/// Test seam: milliseconds `compact_raw_events` holds after each batch, so a test can kill
/// `lookback compact` between two batches of a small workspace. Read only in debug builds; a
/// release build never waits.
const BATCH_DELAY_ENV: &str = "LOOKBACK_TEST_COMPACT_BATCH_DELAY_MS";

fn batch_delay() -> Option<std::time::Duration> {
    if !cfg!(debug_assertions) {
        return None;
    }
    std::env::var(BATCH_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(std::time::Duration::from_millis)
}

/// Converts the raw-event log of `store` to the compact layout and gives the freed space back
/// (see [`Store::compact_raw_events`]): `progress(done, total)` after every batch, `cancelled`
/// asked between batches. Safe to stop or kill at any point; the next run resumes, and a run
/// with nothing left to do says so. The job behind `lookback compact`, and the one the window
/// starts for a workspace that [`Store::raw_events_need_compaction`].
pub fn compact_raw_events(
    store: &mut Store,
    now_ms: i64,
    mut progress: impl FnMut(u64, u64),
    cancelled: &dyn Fn() -> bool,
) -> Result<lookback_store::CompactionSummary> {
    let hold = batch_delay();
    let summary = store.compact_raw_events(
        now_ms,
        |done, total| {
            progress(done, total);
            if let Some(hold) = hold {
                std::thread::sleep(hold);
            }
        },
        cancelled,
    )?;
    tracing::info!(
        moved_to_blocks = summary.events_moved_to_blocks,
        rows = summary.rows_converted,
        dictionaries = summary.dictionaries_trained,
        bytes_before = summary.bytes_before,
        bytes_after = summary.bytes_after,
        cancelled = summary.cancelled,
        "raw events compacted"
    );
    Ok(summary)
}

/// The workspace's name and the settings that shape its numbers.
pub fn info(
    store: &Store,
    path: &Path,
    read_only_reason: Option<String>,
) -> Result<ipc::WorkspaceInfo> {
    let settings = match store.settings() {
        Ok(settings) => settings,
        // A damaged file may not even yield its settings; show it under its file name with the
        // defaults rather than refuse to show what else is readable.
        Err(_) if read_only_reason.is_some() => lookback_store::WorkspaceSettings {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            reporting_currency: lookback_store::DEFAULT_REPORTING_CURRENCY.to_string(),
            reporting_timezone: lookback_store::DEFAULT_REPORTING_TIMEZONE.to_string(),
            ..store_defaults()
        },
        Err(err) => return Err(err.into()),
    };
    Ok(ipc::WorkspaceInfo {
        path: path.display().to_string(),
        name: settings.name,
        reporting_currency: settings.reporting_currency,
        reporting_timezone: settings.reporting_timezone,
        read_only_reason,
    })
}

/// The settings a new workspace starts with.
fn store_defaults() -> lookback_store::WorkspaceSettings {
    lookback_store::WorkspaceSettings {
        name: lookback_store::DEFAULT_NAME.to_string(),
        reporting_currency: lookback_store::DEFAULT_REPORTING_CURRENCY.to_string(),
        reporting_timezone: lookback_store::DEFAULT_REPORTING_TIMEZONE.to_string(),
        lookback_days: lookback_store::DEFAULT_LOOKBACK_DAYS,
        settlement_days: lookback_store::DEFAULT_SETTLEMENT_DAYS,
        probabilistic_matching: false,
        model: lookback_store::DEFAULT_MODEL.to_string(),
        model_parameters: lookback_store::DEFAULT_MODEL_PARAMETERS.to_string(),
    }
}

/// An amount as it crosses to the UI: exact decimal string plus minor units.
pub fn money(minor: i64, currency: &str) -> Result<ipc::MoneyAmount> {
    let parsed: Currency = currency
        .parse()
        .with_context(|| format!("unknown currency {currency:?} in the store"))?;
    Ok(ipc::MoneyAmount {
        currency: parsed.code().to_string(),
        amount: format_minor(minor, parsed),
        minor,
    })
}

/// The overview screen's numbers, read from the store; the sources' states as data health
/// judges them at `now_ms`.
pub fn overview(
    store: &Store,
    path: &Path,
    read_only_reason: Option<String>,
    now_ms: i64,
) -> Result<ipc::Overview> {
    let o = store.overview()?;
    let headline = lookback_report::headline(store)?;
    let unconverted = |list: &[lookback_report::Unconverted]| {
        list.iter()
            .map(|u| {
                Ok(ipc::UnconvertedMoney {
                    amount: money(u.amount_minor, &u.currency)?,
                    rows: u.rows,
                })
            })
            .collect::<Result<Vec<_>>>()
    };
    let headline = ipc::OverviewHeadline {
        net_revenue: money(headline.net_revenue_minor, &headline.currency)?,
        unconverted_revenue: unconverted(&headline.unconverted_revenue)?,
        ad_spend: money(headline.ad_spend_minor, &headline.currency)?,
        unconverted_spend: unconverted(&headline.unconverted_spend)?,
    };
    let revenue = o
        .revenue
        .iter()
        .map(|r| {
            Ok(ipc::RevenueByCurrency {
                currency: r.currency.clone(),
                gross: money(r.gross_minor, &r.currency)?,
                refunds: money(r.refunds_minor, &r.currency)?,
                chargebacks: money(r.chargebacks_minor, &r.currency)?,
                net: money(r.net_minor, &r.currency)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let spend = o
        .ad_spend
        .iter()
        .map(|s| money(s.amount_minor, &s.currency))
        .collect::<Result<Vec<_>>>()?;
    let sources = lookback_report::source_statuses(store, now_ms)?
        .into_iter()
        .map(|s| {
            Ok(ipc::SourceFreshness {
                state: ipc::SourceState::named(s.state)
                    .with_context(|| format!("unknown source state {:?}", s.state))?,
                source_id: s.source_id,
                kind: s.kind,
                name: s.name,
                last_success_at_ms: s.last_success_at_ms,
                last_error: s.last_error,
                records: count(s.records),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ipc::Overview {
        workspace: info(store, path, read_only_reason)?,
        orders: count(o.order_count),
        headline,
        revenue,
        spend,
        touches: count(o.touch_count),
        creators: count(o.creator_count),
        campaigns: count(o.campaign_count),
        first_activity_at_ms: o.first_activity_at_ms,
        last_activity_at_ms: o.last_activity_at_ms,
        dead_letters: count(o.unresolved_dead_letters),
        sources,
    })
}

/// Row counts cross the bridge as JavaScript-safe numbers.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
