//! The view jobs as the window calls them: each makes sure its run exists (a new one is computed
//! on the session's run connection, announced and cancellable), then reads the view on the
//! workspace connection, off the caller's async runtime.

use crate::error::AppResult;
use crate::session::Session;
use crate::views::*;
use crate::wire as ipc;

/// The models on offer and the workspace's default.
pub async fn catalog_job(session: &Session) -> AppResult<ipc::ModelCatalog> {
    session
        .on_workspace(|open| model_catalog(&open.store))
        .await
}

/// The days the views' date range covers and the presets beside it, as of now.
pub async fn date_range_job(session: &Session) -> AppResult<ipc::DateRange> {
    session
        .on_workspace(|open| date_range(&open.store, crate::clock::now_ms()))
        .await
}

/// Changes the workspace's default model; appends to the model log with the reason.
pub async fn set_default_model_job(
    session: &Session,
    choice: ipc::ModelChoice,
    reason: String,
) -> AppResult<ipc::ModelCatalog> {
    session
        .on_workspace(move |open| {
            set_default_model(&mut open.store, &choice, &reason, crate::clock::now_ms())
        })
        .await
}

/// Every change of the workspace's model, newest first.
pub async fn model_log_job(session: &Session) -> AppResult<Vec<ipc::ModelChangeEntry>> {
    session.on_workspace(|open| model_log(&open.store)).await
}

/// The ROAS screen's table; a new run is computed first, announced and cancellable.
pub async fn roas_job(session: &Session, request: ipc::ViewRequest) -> AppResult<ipc::RoasView> {
    super::runs::ensure_run(session, request.model.clone(), request.touches).await?;
    session
        .on_workspace(move |open| {
            roas(
                &mut open.store,
                &mut open.view_cache,
                &request,
                crate::clock::now_ms(),
            )
        })
        .await
}

/// The ROAS screen's charts of run `run_id`, the run its table shows.
pub async fn roas_charts_job(
    session: &Session,
    request: ipc::ViewRequest,
    run_id: i64,
) -> AppResult<Vec<ipc::ChartSvg>> {
    session
        .on_workspace(move |open| roas_charts(&open.store, &mut open.view_cache, &request, run_id))
        .await
}

/// The CAC screen; a new run is computed first, announced and cancellable.
pub async fn cac_job(session: &Session, request: ipc::ViewRequest) -> AppResult<ipc::CacView> {
    super::runs::ensure_run(session, request.model.clone(), request.touches).await?;
    session
        .on_workspace(move |open| cac(&mut open.store, &request, crate::clock::now_ms()))
        .await
}

/// The Cohorts screen; a new run is computed first, announced and cancellable.
pub async fn cohorts_job(
    session: &Session,
    request: ipc::ViewRequest,
) -> AppResult<ipc::CohortView> {
    super::runs::ensure_run(session, request.model.clone(), request.touches).await?;
    session
        .on_workspace(move |open| {
            cohorts(
                &mut open.store,
                &mut open.view_cache,
                &request,
                crate::clock::now_ms(),
            )
        })
        .await
}

/// The compare screen: every compared model's run first, then the table.
pub async fn compare_job(
    session: &Session,
    request: ipc::ViewRequest,
    models: Vec<ipc::ModelName>,
) -> AppResult<ipc::CompareView> {
    let (r, m) = (request.clone(), models.clone());
    let choices = session
        .on_workspace(move |open| compare_choices(&open.store, &r, &m))
        .await?;
    for choice in choices {
        super::runs::ensure_run(session, Some(choice), request.touches).await?;
    }
    session
        .on_workspace(move |open| {
            compare(&mut open.store, &request, &models, crate::clock::now_ms())
        })
        .await
}

/// Creators to pick on the creator screen.
pub async fn creator_list_job(session: &Session) -> AppResult<Vec<ipc::CreatorListItem>> {
    session.on_workspace(|open| creator_list(&open.store)).await
}

/// One creator's revenue.
pub async fn creator_revenue_job(
    session: &Session,
    request: ipc::ViewRequest,
    creator_id: String,
) -> AppResult<ipc::CreatorRevenueView> {
    super::runs::ensure_run(session, request.model.clone(), request.touches).await?;
    session
        .on_workspace(move |open| {
            creator_revenue(
                &mut open.store,
                &request,
                &creator_id,
                crate::clock::now_ms(),
            )
        })
        .await
}

/// The Reconciliation screen.
pub async fn reconcile_job(
    session: &Session,
    request: ipc::ViewRequest,
) -> AppResult<ipc::ReconcileView> {
    session
        .on_workspace(move |open| reconcile(&open.store, &request, crate::clock::now_ms()))
        .await
}

/// The channel weights a data-driven model learned (its run is computed first when needed).
pub async fn weights_job(session: &Session, model: ipc::ModelName) -> AppResult<ipc::WeightsView> {
    session
        .on_workspace(move |open| weights_view(&mut open.store, model, crate::clock::now_ms()))
        .await
}

/// The learned weights with their bootstrap intervals (default settings).
pub async fn weight_intervals_job(
    session: &Session,
    model: ipc::ModelName,
) -> AppResult<ipc::WeightIntervalsView> {
    session
        .on_workspace(move |open| {
            intervals::weight_intervals_view(&mut open.store, model, crate::clock::now_ms())
        })
        .await
}

/// The revenue intervals of the request's keys (its run is computed first when needed).
pub async fn roas_intervals_job(
    session: &Session,
    request: ipc::ViewRequest,
) -> AppResult<ipc::RevenueIntervalsView> {
    super::runs::ensure_run(session, request.model.clone(), request.touches).await?;
    session
        .on_workspace(move |open| {
            intervals::roas_intervals_view(&mut open.store, &request, crate::clock::now_ms())
        })
        .await
}

/// Writes the learned weights' CSV (the same file as `lookback report weights --format csv`).
pub async fn export_weights_job(
    session: &Session,
    model: ipc::ModelName,
    path: std::path::PathBuf,
) -> AppResult<ipc::ExportResult> {
    session
        .on_workspace(move |open| {
            export_weights_csv(&mut open.store, model, &path, crate::clock::now_ms())
        })
        .await
}

/// The orders credited for the selection (its run is computed first when needed).
pub async fn order_credits_job(
    session: &Session,
    request: ipc::ViewRequest,
) -> AppResult<ipc::OrderCreditsView> {
    super::runs::ensure_run(session, request.model.clone(), request.touches).await?;
    session
        .on_workspace(move |open| order_credits(&mut open.store, &request, crate::clock::now_ms()))
        .await
}

/// Writes the orders credited as CSV (the same file as `report credits --by order --format csv`).
pub async fn export_order_credits_job(
    session: &Session,
    request: ipc::ViewRequest,
    path: std::path::PathBuf,
) -> AppResult<ipc::ExportResult> {
    session
        .on_workspace(move |open| {
            export_order_credits_csv(&mut open.store, &request, &path, crate::clock::now_ms())
        })
        .await
}

/// What an export from a screen writes: the table, the view request, the file, and which
/// models, creator or source the table is of.
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub view: ExportTable,
    pub request: ipc::ViewRequest,
    pub path: std::path::PathBuf,
    pub models: Option<Vec<ipc::ModelName>>,
    pub creator_id: Option<String>,
    pub source_id: Option<String>,
}

/// Writes the CSV of a screen's table (and its sidecar).
pub async fn export_job(session: &Session, job: ExportJob) -> AppResult<ipc::ExportResult> {
    session
        .on_workspace(move |open| {
            let target = ExportTarget {
                models: job.models.as_deref(),
                creator_id: job.creator_id.as_deref(),
                source_id: job.source_id.as_deref(),
            };
            export_csv(
                &mut open.store,
                job.view,
                &job.request,
                &job.path,
                target,
                crate::clock::now_ms(),
            )
        })
        .await
}
