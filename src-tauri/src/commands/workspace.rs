//! Commands that choose the window's workspace: start-up state, open a file, open the demo,
//! create an empty workspace.

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager, State};

use crate::app_state::{self, OpenWorkspace, WindowState};
use crate::ipc::{ErrorKind, IpcError, StartupState, WorkspaceInfo};
use crate::workspace;

/// An error from opening the start-up workspace, shown once on the welcome screen.
pub struct StartupError(pub Option<IpcError>);

/// Opens `path` and makes it the window's workspace. Also used before the window exists.
pub fn open_into(state: &WindowState, path: &Path) -> Result<WorkspaceInfo, IpcError> {
    let (store, read_only_reason) = workspace::open_for_window(path)?;
    let info = workspace::info(&store, path, read_only_reason.clone())?;
    // The recent list is a convenience; failing to write it must not fail the open.
    let _ = app_state::remember_workspace(path);
    *state
        .workspace
        .lock()
        .map_err(|_| IpcError::new(ErrorKind::Internal, "workspace lock poisoned"))? =
        Some(OpenWorkspace {
            path: path.to_path_buf(),
            store,
            read_only_reason,
        });
    Ok(info)
}

fn set_title(app: &AppHandle, info: &WorkspaceInfo) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_title(&format!("{} — Lookback", info.name));
    }
}

/// What the window shows first: the open workspace, or the welcome screen's choices.
#[tauri::command]
pub async fn startup_state(
    app: AppHandle,
    state: State<'_, WindowState>,
    startup: State<'_, StartupError>,
) -> Result<StartupState, IpcError> {
    if let Some(err) = startup.0.clone() {
        return Err(err);
    }
    let workspace = super::with_workspace(&state, |open| {
        workspace::info(&open.store, &open.path, open.read_only_reason.clone())
    })
    .ok();
    if let Some(info) = &workspace {
        set_title(&app, info);
    }
    let recent = app_state::recent_workspaces()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    Ok(StartupState {
        workspace,
        demo_path: app_state::demo_workspace_path().display().to_string(),
        recent,
    })
}

/// Opens an existing workspace file.
#[tauri::command]
pub async fn open_workspace(
    app: AppHandle,
    state: State<'_, WindowState>,
    path: String,
) -> Result<WorkspaceInfo, IpcError> {
    let info = open_into(&state, &PathBuf::from(path))?;
    set_title(&app, &info);
    Ok(info)
}

/// Opens the demo workspace, writing it first if it does not exist yet.
#[tauri::command]
pub async fn open_demo_workspace(
    app: AppHandle,
    state: State<'_, WindowState>,
) -> Result<WorkspaceInfo, IpcError> {
    let path = app_state::demo_workspace_path();
    if !path.exists() {
        let options = workspace::DemoOptions {
            seed: 42,
            orders: 5_000,
            end_at_ms: crate::clock::now_ms(),
        };
        tauri::async_runtime::spawn_blocking({
            let path = path.clone();
            move || workspace::create_demo(&path, &options)
        })
        .await
        .map_err(|e| IpcError::new(ErrorKind::Internal, e.to_string()))??;
    }
    let info = open_into(&state, &path)?;
    set_title(&app, &info);
    Ok(info)
}

/// Creates a new, empty workspace at `path` and opens it.
#[tauri::command]
pub async fn create_workspace(
    app: AppHandle,
    state: State<'_, WindowState>,
    path: String,
    name: String,
) -> Result<WorkspaceInfo, IpcError> {
    if name.trim().is_empty() {
        return Err(IpcError::new(
            ErrorKind::InvalidInput,
            "Give the workspace a name.",
        ));
    }
    let path = PathBuf::from(path);
    drop(workspace::create_empty(&path, name.trim())?);
    let info = open_into(&state, &path)?;
    set_title(&app, &info);
    Ok(info)
}
