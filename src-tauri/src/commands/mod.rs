//! Thin `#[tauri::command]` adapters, one file per screen or job. Each takes its arguments and
//! the shared state, calls one library function, and maps the error to `ipc::IpcError`.

pub mod overview;
pub mod realtime;
pub mod sources;
pub mod views;
pub mod workspace;

use crate::app_state::{OpenWorkspace, WindowState};
use crate::ipc::{ErrorKind, IpcError};

/// Runs `f` with the open workspace, or answers `no_workspace` when none is open.
pub fn with_workspace<T>(
    state: &WindowState,
    f: impl FnOnce(&mut OpenWorkspace) -> anyhow::Result<T>,
) -> Result<T, IpcError> {
    let mut guard = state
        .workspace
        .lock()
        .map_err(|_| IpcError::new(ErrorKind::Internal, "workspace lock poisoned"))?;
    let open = guard
        .as_mut()
        .ok_or_else(|| IpcError::new(ErrorKind::NoWorkspace, "No workspace is open."))?;
    f(open).map_err(IpcError::from)
}

/// Runs `f` with the open workspace on a blocking thread, so a new attribution run or a large
/// export never freezes the window, and waits for it without holding up the UI thread.
pub async fn on_workspace_blocking<T: Send + 'static>(
    app: tauri::AppHandle,
    f: impl FnOnce(&mut OpenWorkspace) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, IpcError> {
    use tauri::Manager;
    tauri::async_runtime::spawn_blocking(move || with_workspace(&app.state::<WindowState>(), f))
        .await
        .map_err(|e| {
            IpcError::new(
                ErrorKind::Internal,
                format!("the job stopped unexpectedly: {e}"),
            )
        })?
}

pub use crate::clock::now_ms;
