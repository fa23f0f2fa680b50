//! New attribution runs for the window's views. A view first asks for the run of its model:
//! a cached run is found on the workspace connection at once; a new one is computed on a
//! connection of its own (`WindowState::runner`), so the other screens keep answering while it
//! runs. Its phases are announced to the window (`run-progress` events) and the window can
//! cancel it (`cancel_run`), which stops it — and every view request queued behind it — before
//! its next phase, with nothing written.

use std::sync::atomic::{AtomicU64, Ordering};

use lookback_engine::{EngineError, RunObserver, RunPhase};
use lookback_store::Store;
use tauri::{AppHandle, Emitter, Manager};

use crate::app_state::WindowState;
use crate::commands::{now_ms, on_workspace_blocking};
use crate::ipc::{self, ErrorKind, IpcError};
use crate::views;

/// The event that carries [`ipc::RunProgress`].
pub const RUN_PROGRESS_EVENT: &str = "run-progress";

/// Tells the window each phase; cancelled once a cancel bumped the generation it started in.
struct WindowObserver<'a> {
    app: &'a AppHandle,
    model: &'static str,
    generation: u64,
    current: &'a AtomicU64,
}

impl WindowObserver<'_> {
    fn announce(&self, phase: &str) {
        let progress = ipc::RunProgress {
            model: self.model.to_owned(),
            phase: phase.to_owned(),
        };
        // A window that is gone cannot be told; the run goes on regardless.
        drop(self.app.emit(RUN_PROGRESS_EVENT, progress));
    }
}

/// Test seam: milliseconds each phase of a new run is held back, so an end-to-end test can
/// watch the progress and press Cancel on the small demo workspace, whose runs take
/// milliseconds. Unset outside tests.
const PHASE_DELAY_ENV: &str = "LOOKBACK_TEST_RUN_PHASE_DELAY_MS";

impl RunObserver for WindowObserver<'_> {
    fn phase(&mut self, phase: RunPhase) {
        self.announce(phase.as_str());
        if let Some(ms) = std::env::var(PHASE_DELAY_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            // Held in short steps, so a cancel is seen before the phase's work starts.
            let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
            while std::time::Instant::now() < until && !self.cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }

    fn cancelled(&self) -> bool {
        self.current.load(Ordering::SeqCst) != self.generation
    }
}

/// Makes sure the run of `choice` (or of the workspace's default model) over the workspace as
/// it is now exists, computing it on the runner connection if needed.
pub async fn ensure_run(app: &AppHandle, choice: Option<ipc::ModelChoice>) -> Result<(), IpcError> {
    let generation = app
        .state::<WindowState>()
        .run_generation
        .load(Ordering::SeqCst);
    let now = now_ms();
    let (path, model, params, ready) = on_workspace_blocking(app.clone(), move |open| {
        let (model, params) = views::model_for(&open.store, choice.as_ref())?;
        // A read-only (damaged) workspace cannot store a run; the view reports why itself.
        let ready = open.read_only_reason.is_some()
            || lookback_engine::find_cached_run(&mut open.store, model, &params, now)?.is_some();
        Ok((open.path.clone(), model, params, ready))
    })
    .await?;
    if ready {
        return Ok(());
    }
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<WindowState>();
        state.runs_pending.fetch_add(1, Ordering::SeqCst);
        let result = run_on_runner(&app, &state, &path, model, &params, now, generation);
        state.runs_pending.fetch_sub(1, Ordering::SeqCst);
        result
    })
    .await
    .map_err(|e| {
        IpcError::new(
            ErrorKind::Internal,
            format!("the run stopped unexpectedly: {e}"),
        )
    })?
}

/// Computes the run on the runner connection (opened on first use), waiting for any run before
/// it; a run or request older than the last cancel stops with `Cancelled`.
fn run_on_runner(
    app: &AppHandle,
    state: &WindowState,
    path: &std::path::Path,
    model: lookback_core::attribution::Model,
    params: &lookback_core::attribution::ModelParams,
    now: i64,
    generation: u64,
) -> Result<(), IpcError> {
    let mut runner = state
        .runner
        .lock()
        .map_err(|_| IpcError::new(ErrorKind::Internal, "run lock poisoned"))?;
    if runner
        .as_ref()
        .is_none_or(|(open_path, _)| open_path != path)
    {
        *runner = Some((path.to_path_buf(), Store::open(path)?));
    }
    let (_, store) = runner.as_mut().expect("opened above");
    let mut observer = WindowObserver {
        app,
        model: model.as_str(),
        generation,
        current: &state.run_generation,
    };
    // A run queued behind the cancelled one finds it (or its own) cached, or was cancelled too.
    match lookback_engine::run_model_observed(store, model, params, now, &mut observer) {
        Ok(_) => {
            observer.announce("done");
            Ok(())
        }
        Err(EngineError::Cancelled) => {
            observer.announce("cancelled");
            Err(IpcError::new(
                ErrorKind::Cancelled,
                "The attribution run was cancelled; nothing of it was kept.",
            ))
        }
        Err(error) => {
            observer.announce("failed");
            Err(IpcError::from(anyhow::Error::from(error)))
        }
    }
}

/// Asks the new run in progress, and every view request queued behind it, to stop; `false`
/// when none is running.
pub fn cancel(state: &WindowState) -> bool {
    state.run_generation.fetch_add(1, Ordering::SeqCst);
    state.runs_pending.load(Ordering::SeqCst) > 0
}
