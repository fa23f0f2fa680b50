//! New attribution runs for the views. A view first asks for the run of its model: a cached run
//! is found on the workspace connection at once; a new one is computed on a connection of its
//! own (the session's runner), so other jobs keep answering while it runs. Its phases are
//! announced ([`wire::JobProgress::Run`]) and [`cancel`] stops it — and every view request queued
//! behind it — before its next phase, with nothing written.

use std::sync::atomic::Ordering;

use lookback_core::attribution::{Model, ModelParams};
use lookback_engine::{EngineError, RunObserver, RunPhase};
use lookback_store::Store;
use tokio_util::sync::CancellationToken;

use crate::error::{AppError, AppResult, ErrorKind, name_damaged_file};
use crate::events::AppEvent;
use crate::session::{Session, blocking};
use crate::{clock, views, wire};

/// Tells the session each phase; cancelled once its token is.
struct SessionObserver<'a> {
    session: &'a Session,
    model: wire::ModelName,
    cancel: CancellationToken,
}

impl SessionObserver<'_> {
    fn announce(&self, phase: wire::RunPhaseName) {
        self.session
            .emit(AppEvent::Progress(wire::JobProgress::Run {
                progress: wire::RunProgress {
                    model: self.model,
                    phase,
                },
            }));
    }
}

/// Test seam: milliseconds each phase of a new run is held back, so an end-to-end test can
/// watch the progress and press Cancel on the small demo workspace, whose runs take
/// milliseconds. Read only in debug builds; a release build never waits.
const PHASE_DELAY_ENV: &str = "LOOKBACK_TEST_RUN_PHASE_DELAY_MS";

fn phase_delay() -> Option<std::time::Duration> {
    if !cfg!(debug_assertions) {
        return None;
    }
    std::env::var(PHASE_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(std::time::Duration::from_millis)
}

impl RunObserver for SessionObserver<'_> {
    fn phase(&mut self, phase: RunPhase) {
        self.announce(phase.into());
        if let Some(delay) = phase_delay() {
            // Held in short steps, so a cancel is seen before the phase's work starts.
            let until = std::time::Instant::now() + delay;
            while std::time::Instant::now() < until && !self.cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}

/// Makes sure the run of `choice` (or of the workspace's default model) reading `touches` (or
/// the workspace's touch filter) over the workspace as it is now exists, computing it on the
/// runner connection if needed.
pub async fn ensure_run(
    session: &Session,
    choice: Option<wire::ModelChoice>,
    touches: Option<wire::Touches>,
) -> AppResult<()> {
    let cancel = session.run_cancel_token()?;
    let now = clock::now_ms();
    let (path, model, params, ready) = session
        .on_workspace(move |open| {
            let (model, params) = views::model_for(&open.store, choice.as_ref(), touches)?;
            // A read-only (damaged) workspace cannot store a run; the view reports why itself.
            let ready = open.read_only_reason.is_some()
                || lookback_engine::find_cached_run(&mut open.store, model, &params, now)?
                    .is_some();
            Ok((open.path.clone(), model, params, ready))
        })
        .await?;
    if ready {
        return Ok(());
    }
    let session = session.clone();
    blocking(move || {
        session.runs_pending().fetch_add(1, Ordering::SeqCst);
        let result = run_on_runner(&session, &path, model, &params, now, cancel);
        session.runs_pending().fetch_sub(1, Ordering::SeqCst);
        if let Err(err) = &result
            && err.kind == ErrorKind::Damaged
        {
            session.found_damaged(&path, err.message.clone());
        }
        result
    })
    .await
}

/// Computes the run on the runner connection (opened on first use), waiting for any run before
/// it; a run or request whose token was cancelled stops with `Cancelled`.
fn run_on_runner(
    session: &Session,
    path: &std::path::Path,
    model: Model,
    params: &ModelParams,
    now: i64,
    cancel: CancellationToken,
) -> AppResult<()> {
    let mut runner = session.runner()?;
    if runner
        .as_ref()
        .is_none_or(|(open_path, _)| open_path != path)
    {
        *runner = Some((path.to_path_buf(), Store::open(path)?));
    }
    let Some((_, store)) = runner.as_mut() else {
        return Err(AppError::new(
            ErrorKind::Internal,
            "the run connection is gone",
        ));
    };
    let mut observer = SessionObserver {
        session,
        model: model.into(),
        cancel,
    };
    // A run queued behind the cancelled one finds it (or its own) cached, or was cancelled too.
    match lookback_engine::run_model_observed(store, model, params, now, &mut observer) {
        Ok(_) => {
            observer.announce(wire::RunPhaseName::Done);
            Ok(())
        }
        Err(EngineError::Cancelled) => {
            observer.announce(wire::RunPhaseName::Cancelled);
            Err(AppError::new(
                ErrorKind::Cancelled,
                "The attribution run was cancelled; nothing of it was kept.",
            ))
        }
        Err(error) => {
            observer.announce(wire::RunPhaseName::Failed);
            let error = AppError::from(name_damaged_file(error.into(), path));
            if error.kind == ErrorKind::Damaged
                && let Some((_, store)) = runner.take()
            {
                // Nothing more is written into a damaged file, not even this session's marker.
                store.abandon();
            }
            Err(error)
        }
    }
}

/// Asks the new run in progress, and every view request queued behind it, to stop; `false`
/// when none is running.
pub fn cancel(session: &Session) -> AppResult<bool> {
    session.cancel_runs()?;
    Ok(session.runs_pending().load(Ordering::SeqCst) > 0)
}
