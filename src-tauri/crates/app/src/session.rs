//! What the window holds between jobs: the open workspace and its connection, the connection
//! new attribution runs are computed on, the running syncs and the webhook receiver. The CLI
//! opens a session per command; the window keeps one for its lifetime. No tauri here: what the
//! window must be told (progress, changes, alerts) goes through the [`EventSink`] it passes in.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use lookback_store::Store;
use tokio_util::sync::CancellationToken;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::{AppEvent, EventSink};

/// An open workspace: its file and its store connection.
pub struct OpenWorkspace {
    pub path: PathBuf,
    pub store: Store,
    /// Set when the file is damaged and open read-only.
    pub read_only_reason: Option<String>,
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
            events,
        }))
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

    /// Runs `f` with the open workspace, or answers `no_workspace` when none is open.
    pub fn with_workspace<T>(
        &self,
        f: impl FnOnce(&mut OpenWorkspace) -> AppResult<T>,
    ) -> AppResult<T> {
        let mut guard = lock(&self.0.workspace, "workspace")?;
        let open = guard
            .as_mut()
            .ok_or_else(|| AppError::new(ErrorKind::NoWorkspace, "No workspace is open."))?;
        f(open)
    }

    /// Runs `f` with the open workspace on a blocking thread, so a new attribution run or a
    /// large export never holds up the caller's async runtime (the window's UI thread).
    pub async fn on_workspace<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut OpenWorkspace) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let session = self.clone();
        blocking(move || session.with_workspace(f)).await
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
