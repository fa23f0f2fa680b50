//! Choosing the session's workspace: open a file (a damaged one read-only), the demo, a new
//! empty one; the start-up state; the overview. Opening costs the same for any size of file;
//! when the whole-file check is due (see `lookback_trust::check_due`) it runs afterwards on a
//! background thread, and a damaged verdict turns the open workspace read-only.

use std::path::{Path, PathBuf};

use lookback_trust::{CheckDepth, CheckReason, IntegrityVerdict};

use crate::error::{AppError, AppResult, ErrorKind};
use crate::session::{OpenWorkspace, Session, blocking};
use crate::wire as ipc;
use crate::workspace::*;

/// Opens `path` (a damaged file read-only, with the reason) and makes it the session's
/// workspace; it goes to the top of the recent list. If a whole-file check is due, it starts in
/// the background (see `start_background_check`).
pub fn open_in_session(session: &Session, path: &Path) -> AppResult<ipc::WorkspaceInfo> {
    upgrade_in_session(session, path)?;
    let (mut store, mut read_only_reason) = open_for_window(path)?;
    let info = match info(&store, path, read_only_reason.clone()) {
        Ok(info) => info,
        // The settings' page is damaged: the file passed the checks on open, but is read-only
        // from here on, like any damaged workspace.
        Err(err) if read_only_reason.is_none() => {
            let err = AppError::from(crate::error::name_damaged_file(err, path));
            if err.kind != ErrorKind::Damaged {
                return Err(err);
            }
            let reopened = lookback_trust::reopen_damaged(path, err.message)?;
            std::mem::replace(&mut store, reopened.store).abandon();
            read_only_reason = Some(reopened.verdict.message());
            info(&store, path, read_only_reason.clone())?
        }
        Err(err) => return Err(err.into()),
    };
    match &read_only_reason {
        None => tracing::info!(path = %path.display(), "workspace opened"),
        Some(reason) => {
            tracing::warn!(path = %path.display(), reason, "workspace opened read-only")
        }
    }
    let due = match &read_only_reason {
        None => check_due(&store, crate::clock::now_ms()),
        Some(_) => None,
    };
    // The recent list is a convenience; failing to write it must not fail the open.
    let _ = crate::paths::remember_workspace(path);
    session.set_workspace(OpenWorkspace {
        path: path.to_path_buf(),
        store,
        read_only_reason,
        view_cache: lookback_report::ViewCache::new(),
    })?;
    if let Some((reason, covered_sessions)) = due {
        tracing::info!(path = %path.display(), reason = reason.describe(), "integrity check due");
        if let Err(err) = start_background_check(session, path.to_path_buf(), covered_sessions) {
            // The next open finds the check still due.
            tracing::warn!(path = %path.display(), "integrity check not started: {err}");
        }
    }
    Ok(info)
}

/// Whether the whole-file check is due for the just-opened `store` at `now_ms`, why, and the
/// unclosed sessions a pass would cover. A record that cannot be read makes it due.
fn check_due(store: &lookback_store::Store, now_ms: i64) -> Option<(CheckReason, Vec<String>)> {
    let record = store.integrity_record().unwrap_or_default();
    lookback_trust::check_due(&record, now_ms).map(|reason| (reason, record.unclosed_sessions))
}

/// Runs the quick whole-file check of the session's workspace `path` on a thread and a
/// read-only connection of its own, so the window stays usable meanwhile. A pass is recorded
/// in the file (with the unclosed sessions it covers) through the session's connection, if
/// that workspace is still open and sound; damage reopens it read-only and tells the window
/// ([`Session::found_damaged`]).
fn start_background_check(
    session: &Session,
    path: PathBuf,
    covered_sessions: Vec<String>,
) -> std::io::Result<()> {
    let session = session.clone();
    let started_at_ms = crate::clock::now_ms();
    std::thread::Builder::new()
        .name("integrity-check".into())
        .spawn(move || {
            let checked = lookback_trust::check_file(&path, CheckDepth::Quick);
            match checked.map(|c| c.verdict) {
                Ok(IntegrityVerdict::Sound) => {
                    let recorded = session.with_workspace(|open| {
                        if open.path == path && open.read_only_reason.is_none() {
                            open.store
                                .record_check_passed(started_at_ms, &covered_sessions)?;
                        }
                        Ok(())
                    });
                    match recorded {
                        Ok(()) => tracing::info!(path = %path.display(), "integrity check passed"),
                        Err(err) => tracing::warn!(path = %path.display(), "integrity check passed but was not recorded: {err}"),
                    }
                }
                Ok(IntegrityVerdict::Damaged { detail }) => {
                    tracing::error!(path = %path.display(), detail, "integrity check found damage");
                    session.found_damaged(&path, detail);
                }
                Err(err) => {
                    tracing::warn!(path = %path.display(), "integrity check could not run: {err}")
                }
            }
        })
        .map(drop)
}

/// What the window shows first: the open workspace, or the welcome screen's choices.
pub fn startup_state(session: &Session) -> ipc::StartupState {
    let upgrade_pending = session
        .take_deferred_upgrade()
        .map(|path| path.display().to_string());
    let workspace = session
        .with_workspace(|open| info(&open.store, &open.path, open.read_only_reason.clone()))
        .ok();
    ipc::StartupState {
        workspace,
        demo_path: crate::paths::demo_workspace_path().display().to_string(),
        recent: crate::paths::recent_workspaces()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        upgrade_pending,
    }
}

/// Upgrades the workspace at `path` if an older Lookback wrote it, telling the window how it
/// goes (`JobProgress::Upgrade`) and stopping when it asks (`Session::stop_maintenance`). A file
/// that cannot be opened is left to `open_for_window` to report.
fn upgrade_in_session(session: &Session, path: &Path) -> AppResult<()> {
    if !matches!(lookback_store::Store::pending_upgrade(path), Ok(Some(_))) {
        return Ok(());
    }
    session.begin_maintenance();
    let shown = path.display().to_string();
    let events = session.clone();
    upgrade(path, &mut move |p| {
        events.emit(crate::events::AppEvent::Progress(
            ipc::JobProgress::Upgrade {
                path: shown.clone(),
                progress: ipc::UpgradeStatus {
                    from_version: p.upgrade.from_version,
                    to_version: p.upgrade.to_version,
                    change: p.change as u32,
                    changes: p.upgrade.changes as u32,
                    change_title: p.change_title.clone(),
                    elapsed_ms: p.elapsed.as_millis() as u64,
                    finished: p.finished,
                },
            },
        ));
        if events.maintenance_stop_requested() {
            lookback_store::UpgradeControl::Stop
        } else {
            lookback_store::UpgradeControl::Continue
        }
    })?;
    Ok(())
}

/// The demo the window writes: the CLI's defaults (`lookback demo`), ending now.
pub fn default_demo_options(now_ms: i64) -> DemoOptions {
    DemoOptions {
        seed: 42,
        orders: lookback_demo::DemoConfig::default().orders,
        end_at_ms: now_ms,
    }
}

/// Opens the demo workspace, writing it first if it does not exist yet.
pub async fn open_demo_job(session: &Session) -> AppResult<ipc::WorkspaceInfo> {
    let path = crate::paths::demo_workspace_path();
    if !path.exists() {
        let options = default_demo_options(crate::clock::now_ms());
        let target = path.clone();
        blocking(move || Ok(create_demo(&target, &options).map(drop)?)).await?;
    }
    open_in_session(session, &path)
}

/// Creates a new, empty workspace at `path` named `name`, and opens it.
pub fn create_job(session: &Session, path: &Path, name: &str) -> AppResult<ipc::WorkspaceInfo> {
    if name.trim().is_empty() {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "name: give the workspace a name.",
        ));
    }
    drop(create_empty(path, name.trim())?);
    open_in_session(session, path)
}

/// The open workspace's overview.
pub async fn overview_job(session: &Session) -> AppResult<ipc::Overview> {
    session
        .on_workspace(|open| {
            overview(
                &open.store,
                &open.path,
                open.read_only_reason.clone(),
                crate::clock::now_ms(),
            )
        })
        .await
}

/// The raw events of the open workspace that compaction would make smaller, and whether the
/// window should offer it (from [`COMPACTION_WORTH_OFFERING`] events on).
pub async fn maintenance_job(session: &Session) -> AppResult<ipc::Maintenance> {
    session
        .on_workspace(|open| {
            let raw_events_to_compact = match &open.read_only_reason {
                Some(_) => 0,
                None => open.store.raw_events_to_compact()?,
            };
            Ok(ipc::Maintenance {
                raw_events_to_compact,
                offer_compaction: raw_events_to_compact >= COMPACTION_WORTH_OFFERING,
            })
        })
        .await
}

/// Below this many raw events to shrink, compacting (which ends by rebuilding the whole file)
/// is not worth offering: the rows written before a stream had its dictionary, a thousand per
/// stream, are not. A workspace from before the compact layout has all of its rows to shrink.
pub const COMPACTION_WORTH_OFFERING: u64 = 10_000;

/// Compacts the open workspace's raw events (`lookback compact`) on a connection of its own, so
/// the views stay usable: it commits in short batches, telling the window how far it is
/// (`JobProgress::Compact`), and stops after the current batch when asked
/// (`Session::stop_maintenance`); a later run resumes.
pub async fn compact_job(session: &Session) -> AppResult<ipc::CompactionResult> {
    let path = session.with_workspace(|open| {
        if let Some(reason) = &open.read_only_reason {
            anyhow::bail!("the workspace is open read-only ({reason}); it cannot be compacted");
        }
        Ok(open.path.clone())
    })?;
    session.begin_maintenance();
    let session = session.clone();
    blocking(move || {
        let mut store = lookback_store::Store::open(&path)?;
        let shown = path.display().to_string();
        let events = session.clone();
        let summary = compact_raw_events(
            &mut store,
            crate::clock::now_ms(),
            |done, total| {
                events.emit(crate::events::AppEvent::Progress(
                    ipc::JobProgress::Compact {
                        path: shown.clone(),
                        done,
                        total,
                    },
                ))
            },
            &|| session.maintenance_stop_requested(),
        )?;
        Ok(ipc::CompactionResult {
            // Touch payloads moved from rows into blocks are raw events compacted too.
            rows_converted: summary.rows_converted + summary.events_moved_to_blocks,
            bytes_before: summary.bytes_before,
            bytes_after: summary.bytes_after,
            stopped: summary.cancelled,
            already_compact: summary.was_already_compact(),
        })
    })
    .await
}

/// Sets the open workspace's reporting currency and time zone (the setup's first step).
pub async fn set_reporting_job(
    session: &Session,
    currency: String,
    timezone: String,
) -> AppResult<ipc::WorkspaceInfo> {
    let answer = session
        .on_workspace(move |open| {
            set_reporting(&mut open.store, Some(&currency), Some(&timezone))?;
            info(&open.store, &open.path, open.read_only_reason.clone())
        })
        .await?;
    session.emit(crate::events::AppEvent::WorkspaceChanged);
    Ok(answer)
}

/// Imports the CSV file at `path` into the open workspace (one transaction; bad rows to dead
/// letters), as `lookback import KIND FILE`.
pub async fn import_job(
    session: &Session,
    kind: ipc::ImportKindName,
    path: String,
) -> AppResult<ipc::ImportResult> {
    let summary = session
        .on_workspace(move |open| {
            import(
                &mut open.store,
                kind.into(),
                Path::new(&path),
                crate::clock::now_ms(),
            )
        })
        .await?;
    if summary.imported + summary.updated > 0 {
        session.emit(crate::events::AppEvent::WorkspaceChanged);
    }
    Ok(import_result(&summary))
}

/// Writes the template CSV of `kind` to `path`; the answer is the path, to show.
pub async fn import_template_job(kind: ipc::ImportKindName, path: String) -> AppResult<String> {
    blocking(move || {
        write_import_template(kind.into(), Path::new(&path))?;
        Ok(path)
    })
    .await
}

/// Restores the backup `from` into the new workspace file `path` (it must not exist) and opens
/// it — the window's **Restore a backup…**, as `lookback --db NEW restore FROM`.
pub async fn restore_job(
    session: &Session,
    from: String,
    path: String,
) -> AppResult<ipc::WorkspaceInfo> {
    let target = PathBuf::from(&path);
    let copy = target.clone();
    blocking(move || Ok(crate::trust::restore(Path::new(&from), &copy).map(drop)?)).await?;
    open_in_session(session, &target)
}
