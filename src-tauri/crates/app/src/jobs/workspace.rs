//! Choosing the session's workspace: open a file (a damaged one read-only), the demo, a new
//! empty one; the start-up state; the overview.

use std::path::Path;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::session::{OpenWorkspace, Session, blocking};
use crate::wire as ipc;
use crate::workspace::*;

/// Opens `path` (a damaged file read-only, with the reason) and makes it the session's
/// workspace; it goes to the top of the recent list.
pub fn open_in_session(session: &Session, path: &Path) -> AppResult<ipc::WorkspaceInfo> {
    let (store, read_only_reason) = open_for_window(path)?;
    let info = info(&store, path, read_only_reason.clone())?;
    match &read_only_reason {
        None => tracing::info!(path = %path.display(), "workspace opened"),
        Some(reason) => {
            tracing::warn!(path = %path.display(), reason, "workspace opened read-only")
        }
    }
    // The recent list is a convenience; failing to write it must not fail the open.
    let _ = crate::paths::remember_workspace(path);
    session.set_workspace(OpenWorkspace {
        path: path.to_path_buf(),
        store,
        read_only_reason,
    })?;
    Ok(info)
}

/// What the window shows first: the open workspace, or the welcome screen's choices.
pub fn startup_state(session: &Session) -> ipc::StartupState {
    let workspace = session
        .with_workspace(|open| {
            Ok(info(
                &open.store,
                &open.path,
                open.read_only_reason.clone(),
            )?)
        })
        .ok();
    ipc::StartupState {
        workspace,
        demo_path: crate::paths::demo_workspace_path().display().to_string(),
        recent: crate::paths::recent_workspaces()
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    }
}

/// The demo the window writes: the CLI's defaults (`lookback demo`), ending now.
pub fn default_demo_options(now_ms: i64) -> DemoOptions {
    DemoOptions {
        seed: 42,
        orders: 5_000,
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
            Ok(overview(
                &open.store,
                &open.path,
                open.read_only_reason.clone(),
                crate::clock::now_ms(),
            )?)
        })
        .await
}
