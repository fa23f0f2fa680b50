//! The overview screen's command.

use tauri::State;

use super::{now_ms, with_workspace};
use crate::app_state::WindowState;
use crate::ipc::{IpcError, Overview};
use crate::workspace;

/// The open workspace's overview numbers.
#[tauri::command]
pub async fn workspace_overview(state: State<'_, WindowState>) -> Result<Overview, IpcError> {
    with_workspace(&state, |open| {
        workspace::overview(
            &open.store,
            &open.path,
            open.read_only_reason.clone(),
            now_ms(),
        )
    })
}
