//! Commands behind the Sources screen: health, dead letters and replay, and sync with progress
//! streamed through a channel and a cancel button.

use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use super::{now_ms, on_workspace_blocking, with_workspace};
use crate::app_state::WindowState;
use crate::ipc::{self, ErrorKind, IpcError};
use crate::sources;

#[tauri::command]
pub async fn source_list(app: AppHandle) -> Result<Vec<ipc::SourceRow>, IpcError> {
    on_workspace_blocking(app, |open| sources::source_rows(&open.store, now_ms())).await
}

#[tauri::command]
pub fn source_kinds() -> Vec<String> {
    sources::source_kinds()
}

/// Connects a source; its secret goes to the OS keyring, never into the workspace.
#[tauri::command]
pub async fn add_source(
    app: AppHandle,
    request: ipc::NewSourceRequest,
) -> Result<Vec<ipc::SourceRow>, IpcError> {
    on_workspace_blocking(app, move |open| {
        sources::add_source(&mut open.store, request, now_ms())
    })
    .await
}

/// Replaces the refused secret of a source (its data and checkpoints stay); the secret goes to
/// the OS keyring only.
#[tauri::command]
pub async fn reconnect_source(
    app: AppHandle,
    request: ipc::ReconnectSourceRequest,
) -> Result<Vec<ipc::SourceRow>, IpcError> {
    on_workspace_blocking(app, move |open| {
        sources::reconnect_source(&mut open.store, request, now_ms())
    })
    .await
}

/// Connects a Google Ads source to a Google account through the system browser (consent page,
/// PKCE, loopback redirect); its refresh token goes to the OS keyring. Lines to show (the URL)
/// arrive on `on_message`. Runs off the workspace lock, since it waits for the person.
#[tauri::command]
pub async fn connect_source(
    app: AppHandle,
    source_id: String,
    on_message: Channel<ipc::ConnectMessage>,
) -> Result<Vec<ipc::SourceRow>, IpcError> {
    let path = with_workspace(&app.state::<WindowState>(), |open| Ok(open.path.clone()))?;
    tauri::async_runtime::spawn_blocking(move || {
        sources::connect(&path, &source_id, now_ms(), &mut |text| {
            drop(on_message.send(ipc::ConnectMessage { text }))
        })
    })
    .await
    .map_err(|e| IpcError::new(ErrorKind::Internal, e.to_string()))?
    .map_err(IpcError::from)
}

#[tauri::command]
pub async fn source_dead_letters(
    app: AppHandle,
    source_id: String,
) -> Result<Vec<ipc::DeadLetterRow>, IpcError> {
    on_workspace_blocking(app, move |open| {
        sources::dead_letters(&open.store, &source_id)
    })
    .await
}

#[tauri::command]
pub async fn replay_dead_letters(
    app: AppHandle,
    source_id: String,
) -> Result<ipc::ReplayResult, IpcError> {
    on_workspace_blocking(app, move |open| {
        sources::replay(&mut open.store, &source_id, now_ms())
    })
    .await
}

/// Syncs one source on a worker thread, sending progress events on `on_progress`; the last
/// event is `done` or `failed`. The window stays usable meanwhile.
#[tauri::command]
pub async fn sync_source(
    app: AppHandle,
    source_id: String,
    on_progress: Channel<ipc::SyncProgress>,
) -> Result<ipc::SyncProgress, IpcError> {
    let path = with_workspace(&app.state::<WindowState>(), |open| Ok(open.path.clone()))?;
    let cancel = lookback_sync::CancelToken::new();
    app.state::<WindowState>()
        .syncs
        .lock()
        .map_err(|_| IpcError::new(ErrorKind::Internal, "sync registry lock poisoned"))?
        .insert(source_id.clone(), cancel.clone());
    let id = source_id.clone();
    let result = tauri::async_runtime::spawn_blocking(move || {
        sources::sync_one(&path, &id, &cancel, now_ms(), &mut |p| {
            drop(on_progress.send(p))
        })
    })
    .await
    .map_err(|e| IpcError::new(ErrorKind::Internal, e.to_string()))?;
    if let Ok(mut syncs) = app.state::<WindowState>().syncs.lock() {
        syncs.remove(&source_id);
    }
    result.map_err(IpcError::from)
}

/// Cancels a running sync; it stops after the page in flight and resumes from its checkpoint.
#[tauri::command]
pub fn cancel_sync(state: State<'_, WindowState>, source_id: String) -> Result<bool, IpcError> {
    let syncs = state
        .syncs
        .lock()
        .map_err(|_| IpcError::new(ErrorKind::Internal, "sync registry lock poisoned"))?;
    Ok(syncs.get(&source_id).map(|c| c.cancel()).is_some())
}
