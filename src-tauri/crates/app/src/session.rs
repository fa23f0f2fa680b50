//! What the window holds between jobs: the open workspace and its connection, the connection
//! new attribution runs are computed on, the running syncs and the webhook receiver. The CLI
//! opens a session per command; the window keeps one for its lifetime. No tauri here: what the
//! window must be told (progress, changes, alerts) goes through the [`EventSink`] it passes in.
//!
//! A workspace found damaged while open — by a job's query (SQLite's `SQLITE_CORRUPT`) or by
//! the background check — is reopened read-only in place ([`Session::found_damaged`]), exactly
//! as a file failing the checks on open would have been, and the window is told.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use lookback_store::Store;
use tokio_util::sync::CancellationToken;

use crate::error::{AppError, AppResult, ErrorKind, name_damaged_file};
use crate::events::{AppEvent, EventSink};

/// An open workspace: its file and its store connection.
pub struct OpenWorkspace {
    pub path: PathBuf,
    pub store: Store,
    /// Set when the file is damaged and open read-only.
    pub read_only_reason: Option<String>,
    /// What the views read that no run changes (the costs), kept while nothing is committed to
    /// the file; tied to `store`'s connection, so a replaced store never reads from it.
    pub view_cache: lookback_report::ViewCache,
}

/// The state behind a [`Session`]. The store connection sits behind a mutex because a SQLite
/// connection serves one caller at a time; a job holds the lock for its whole length. New
/// attribution runs, syncs and the receiver use connections of their own.
struct SessionState {
    workspace: Mutex<Option<OpenWorkspace>>,
    /// Running syncs by source id, so they can be cancelled.
    syncs: Mutex<HashMap<String, lookback_sync::CancellationToken>>,
    /// The local webhook receiver, when the user started it.
    listener: tokio::sync::Mutex<Option<crate::realtime::Listener>>,
    /// The connection new attribution runs are computed on (with its workspace's path), so
    /// the other jobs keep using `workspace` meanwhile; its lock also queues new runs.
    runner: Mutex<Option<(PathBuf, Store)>>,
    /// Cancelled (and replaced) by every cancel of runs: a new run, or one queued behind it,
    /// started under the old token stops before its next phase.
    run_cancel: Mutex<CancellationToken>,
    /// New runs computing or queued for the runner connection.
    runs_pending: AtomicUsize,
    /// Set by "Stop" while a maintenance job runs: an upgrade (which then rolls back) or a
    /// compaction (which stops after its current batch).
    maintenance_stop: AtomicBool,
    /// A workspace named at start whose upgrade waits for the window, so it can show progress.
    deferred_upgrade: Mutex<Option<PathBuf>>,
    events: Arc<dyn EventSink>,
}

/// A handle on the session; clones share it, so a job can take it onto a worker thread.
#[derive(Clone)]
pub struct Session(Arc<SessionState>);

impl Session {
    /// A session with nothing open, telling `events` what happens.
    pub fn new(events: Arc<dyn EventSink>) -> Session {
        Session(Arc::new(SessionState {
            workspace: Mutex::new(None),
            syncs: Mutex::new(HashMap::new()),
            listener: tokio::sync::Mutex::new(None),
            runner: Mutex::new(None),
            run_cancel: Mutex::new(CancellationToken::new()),
            runs_pending: AtomicUsize::new(0),
            maintenance_stop: AtomicBool::new(false),
            deferred_upgrade: Mutex::new(None),
            events,
        }))
    }

    /// Asks the running maintenance job (an upgrade or a compaction) to stop.
    pub fn stop_maintenance(&self) -> bool {
        !self.0.maintenance_stop.swap(true, Ordering::SeqCst)
    }

    /// Clears a stop asked before this maintenance job began.
    pub(crate) fn begin_maintenance(&self) {
        self.0.maintenance_stop.store(false, Ordering::SeqCst);
    }

    /// Whether "Stop" was asked since the maintenance job began.
    pub(crate) fn maintenance_stop_requested(&self) -> bool {
        self.0.maintenance_stop.load(Ordering::SeqCst)
    }

    /// Leaves the workspace at `path`, which needs an upgrade, for the window to open once it
    /// shows, instead of opening (and upgrading) it before the window exists.
    pub fn defer_upgrade(&self, path: PathBuf) -> AppResult<()> {
        *lock(&self.0.deferred_upgrade, "deferred upgrade")? = Some(path);
        Ok(())
    }

    /// The workspace left for the window to upgrade and open, taken (asked once).
    pub(crate) fn take_deferred_upgrade(&self) -> Option<PathBuf> {
        lock(&self.0.deferred_upgrade, "deferred upgrade")
            .ok()?
            .take()
    }

    /// Tells the front end (the window, or the CLI's printer) what happened.
    pub fn emit(&self, event: AppEvent) {
        self.0.events.emit(event);
    }

    /// Makes `open` the session's workspace, closing the one before.
    pub(crate) fn set_workspace(&self, open: OpenWorkspace) -> AppResult<()> {
        *lock(&self.0.workspace, "workspace")? = Some(open);
        Ok(())
    }

    /// Runs `f` with the open workspace, or answers `no_workspace` when none is open. An error
    /// saying the file is damaged names it, and leaves the workspace open read-only.
    pub fn with_workspace<T>(
        &self,
        f: impl FnOnce(&mut OpenWorkspace) -> anyhow::Result<T>,
    ) -> AppResult<T> {
        let mut guard = lock(&self.0.workspace, "workspace")?;
        let open = guard
            .as_mut()
            .ok_or_else(|| AppError::new(ErrorKind::NoWorkspace, "No workspace is open."))?;
        f(open).map_err(|err| {
            let err = AppError::from(name_damaged_file(err, &open.path));
            if err.kind == ErrorKind::Damaged {
                self.fall_back_to_read_only(open, err.message.clone());
            }
            err
        })
    }

    /// Runs `f` with the open workspace on a blocking thread, so a new attribution run or a
    /// large export never holds up the caller's async runtime (the window's UI thread).
    pub async fn on_workspace<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut OpenWorkspace) -> anyhow::Result<T> + Send + 'static,
    ) -> AppResult<T> {
        let session = self.clone();
        blocking(move || session.with_workspace(f)).await
    }

    /// The workspace at `path` was found damaged (`detail` says how) by a job on a connection
    /// of its own or by the background check. If it is still the session's workspace and not
    /// yet read-only, it is reopened read-only; otherwise nothing changes.
    pub fn found_damaged(&self, path: &Path, detail: String) {
        let Ok(mut guard) = lock(&self.0.workspace, "workspace") else {
            return;
        };
        if let Some(open) = guard.as_mut().filter(|open| open.path == path) {
            self.fall_back_to_read_only(open, detail);
        }
    }

    /// Reopens a workspace found damaged read-only, with `detail` in its reason, unless it is
    /// read-only already. Nothing more is written into the file: the session's read-write
    /// connections on it close without writing ([`Store::abandon`]; the run connection only if
    /// no run holds it — a run meeting the damage closes it itself) and running syncs are
    /// cancelled. The window hears [`AppEvent::WorkspaceDamaged`] with the workspace as it now is.
    fn fall_back_to_read_only(&self, open: &mut OpenWorkspace, detail: String) {
        if open.read_only_reason.is_some() {
            return;
        }
        let reopened = match lookback_trust::reopen_damaged(&open.path, detail) {
            Ok(reopened) => reopened,
            Err(err) => {
                // Not even read-only: the error itself reached the caller; keep what is open.
                tracing::error!(path = %open.path.display(), "cannot reopen the damaged workspace read-only: {err}");
                return;
            }
        };
        let reason = reopened.verdict.message();
        std::mem::replace(&mut open.store, reopened.store).abandon();
        open.read_only_reason = Some(reason.clone());
        tracing::warn!(path = %open.path.display(), reason, "workspace found damaged; now read-only");
        if let Ok(mut runner) = self.0.runner.try_lock()
            && runner.as_ref().is_some_and(|(path, _)| path == &open.path)
            && let Some((_, store)) = runner.take()
        {
            store.abandon();
        }
        if let Ok(syncs) = self.syncs() {
            syncs
                .values()
                .for_each(lookback_sync::CancellationToken::cancel);
        }
        match crate::workspace::info(&open.store, &open.path, open.read_only_reason.clone()) {
            Ok(info) => self.emit(AppEvent::WorkspaceDamaged(info)),
            Err(err) => tracing::error!("cannot describe the damaged workspace: {err}"),
        }
    }

    /// The open workspace's file.
    pub fn workspace_path(&self) -> AppResult<PathBuf> {
        self.with_workspace(|open| Ok(open.path.clone()))
    }

    pub(crate) fn syncs(
        &self,
    ) -> AppResult<MutexGuard<'_, HashMap<String, lookback_sync::CancellationToken>>> {
        lock(&self.0.syncs, "sync registry")
    }

    pub(crate) fn listener(&self) -> &tokio::sync::Mutex<Option<crate::realtime::Listener>> {
        &self.0.listener
    }

    pub(crate) fn runner(&self) -> AppResult<MutexGuard<'_, Option<(PathBuf, Store)>>> {
        lock(&self.0.runner, "run")
    }

    /// The token new runs started now stop on.
    pub(crate) fn run_cancel_token(&self) -> AppResult<CancellationToken> {
        Ok(lock(&self.0.run_cancel, "run")?.clone())
    }

    /// Cancels the runs started so far and gives later ones a fresh token.
    pub(crate) fn cancel_runs(&self) -> AppResult<()> {
        let mut token = lock(&self.0.run_cancel, "run")?;
        token.cancel();
        *token = CancellationToken::new();
        Ok(())
    }

    pub(crate) fn runs_pending(&self) -> &AtomicUsize {
        &self.0.runs_pending
    }
}

fn lock<'a, T>(mutex: &'a Mutex<T>, what: &str) -> AppResult<MutexGuard<'a, T>> {
    mutex
        .lock()
        .map_err(|_| AppError::new(ErrorKind::Internal, format!("the {what} lock is poisoned")))
}

/// Runs a blocking job on a worker thread and waits for it without blocking the async caller.
pub async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(job).await.map_err(|e| {
        AppError::new(
            ErrorKind::Internal,
            format!("the job stopped unexpectedly: {e}"),
        )
    })?
}
