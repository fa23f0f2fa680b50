//! Commands behind the view screens: the model switch, ROAS, CAC, compare, creator revenue,
//! the model log, and CSV export. Each runs off the UI thread; a view first makes sure its run
//! exists (`runs::ensure_run`: a new run is computed on a connection of its own, announced to
//! the window and cancellable), then reads it on the workspace connection.

use std::path::PathBuf;

use tauri::AppHandle;

use super::{now_ms, on_workspace_blocking};
use crate::app_state::WindowState;
use crate::ipc::{self, IpcError};
use crate::{runs, views};

#[tauri::command]
pub async fn model_catalog(app: AppHandle) -> Result<ipc::ModelCatalog, IpcError> {
    on_workspace_blocking(app, |open| views::model_catalog(&open.store)).await
}

/// Changes the workspace's default model; appends to the model log with the reason.
#[tauri::command]
pub async fn set_default_model(
    app: AppHandle,
    choice: ipc::ModelChoice,
    reason: String,
) -> Result<ipc::ModelCatalog, IpcError> {
    on_workspace_blocking(app, move |open| {
        views::set_default_model(&mut open.store, &choice, &reason, now_ms())
    })
    .await
}

#[tauri::command]
pub async fn model_log(app: AppHandle) -> Result<Vec<ipc::ModelChangeEntry>, IpcError> {
    on_workspace_blocking(app, |open| views::model_log(&open.store)).await
}

#[tauri::command]
pub async fn roas_view(
    app: AppHandle,
    request: ipc::ViewRequest,
) -> Result<ipc::RoasView, IpcError> {
    runs::ensure_run(&app, request.model.clone()).await?;
    on_workspace_blocking(app, move |open| {
        views::roas(&mut open.store, &request, now_ms())
    })
    .await
}

#[tauri::command]
pub async fn cac_view(app: AppHandle, request: ipc::ViewRequest) -> Result<ipc::CacView, IpcError> {
    runs::ensure_run(&app, request.model.clone()).await?;
    on_workspace_blocking(app, move |open| {
        views::cac(&mut open.store, &request, now_ms())
    })
    .await
}

#[tauri::command]
pub async fn compare_view(
    app: AppHandle,
    request: ipc::ViewRequest,
    models: Vec<String>,
) -> Result<ipc::CompareView, IpcError> {
    let (r, m) = (request.clone(), models.clone());
    let choices = on_workspace_blocking(app.clone(), move |open| {
        views::compare_choices(&open.store, &r, &m)
    })
    .await?;
    for choice in choices {
        runs::ensure_run(&app, Some(choice)).await?;
    }
    on_workspace_blocking(app, move |open| {
        views::compare(&mut open.store, &request, &models, now_ms())
    })
    .await
}

#[tauri::command]
pub async fn creator_list(app: AppHandle) -> Result<Vec<ipc::CreatorListItem>, IpcError> {
    on_workspace_blocking(app, |open| views::creator_list(&open.store)).await
}

#[tauri::command]
pub async fn creator_revenue_view(
    app: AppHandle,
    request: ipc::ViewRequest,
    creator_id: String,
) -> Result<ipc::CreatorRevenueView, IpcError> {
    runs::ensure_run(&app, request.model.clone()).await?;
    on_workspace_blocking(app, move |open| {
        views::creator_revenue(&mut open.store, &request, &creator_id, now_ms())
    })
    .await
}

/// Writes the CSV of a screen's table to the path the user chose in the save dialog.
#[tauri::command]
pub async fn export_csv(
    app: AppHandle,
    view: String,
    request: ipc::ViewRequest,
    path: String,
    models: Option<Vec<String>>,
    creator_id: Option<String>,
    source_id: Option<String>,
) -> Result<ipc::ExportResult, IpcError> {
    on_workspace_blocking(app, move |open| {
        let target = views::ExportTarget {
            models: models.as_deref(),
            creator_id: creator_id.as_deref(),
            source_id: source_id.as_deref(),
        };
        views::export_csv(
            &mut open.store,
            &view,
            &request,
            &PathBuf::from(path),
            target,
            now_ms(),
        )
    })
    .await
}

/// Asks where to save an export, with the native save dialog. When `LOOKBACK_TEST_SAVE_DIR` is
/// set (end-to-end tests, which cannot click a GTK dialog outside the web view), the file goes
/// into that directory under `suggested_name` instead; everything after the choice is the same.
#[tauri::command]
pub async fn choose_export_path(
    app: AppHandle,
    suggested_name: String,
) -> Result<Option<String>, IpcError> {
    use tauri_plugin_dialog::DialogExt;
    if let Some(dir) = std::env::var_os("LOOKBACK_TEST_SAVE_DIR") {
        return Ok(Some(
            PathBuf::from(dir)
                .join(&suggested_name)
                .display()
                .to_string(),
        ));
    }
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_title("Export CSV")
            .set_file_name(&suggested_name)
            .add_filter("CSV", &["csv"])
            .blocking_save_file()
    })
    .await
    .map_err(|e| IpcError::new(crate::ipc::ErrorKind::Internal, e.to_string()))?;
    Ok(chosen
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}

/// The Reconciliation screen.
#[tauri::command]
pub async fn reconcile_view(
    app: AppHandle,
    request: ipc::ViewRequest,
) -> Result<ipc::ReconcileView, IpcError> {
    on_workspace_blocking(app, move |open| {
        views::reconcile(&open.store, &request, now_ms())
    })
    .await
}

/// Stops the new attribution run in progress before its next phase; `false` when none runs.
#[tauri::command]
pub fn cancel_run(state: tauri::State<'_, WindowState>) -> bool {
    runs::cancel(&state)
}
