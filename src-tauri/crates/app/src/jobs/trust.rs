//! The trust jobs as the window calls them (the Workspace and Reconciliation screens): backup,
//! the full integrity check, the privacy settings, purge and erasure, the complete runs with
//! their conservation check and what moved between two, and duplicates per source — [`crate::trust`]'s jobs, which `lookback
//! backup|check|privacy …` call, on the session's workspace file, off the async runtime. They
//! open the file on connections of their own, so those that write refuse a workspace the
//! session holds read-only (damaged).

use std::path::PathBuf;

use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::AppEvent;
use crate::session::{Session, blocking};
use crate::trust::*;
use crate::wire as ipc;

/// The open workspace's file, for a job that writes it on a connection of its own; refused
/// while the session holds it read-only.
fn writable_path(session: &Session) -> AppResult<PathBuf> {
    session.with_workspace(|open| match &open.read_only_reason {
        Some(reason) => Err(AppError::new(
            ErrorKind::Damaged,
            format!("the workspace is read-only, so nothing is changed: {reason}"),
        )
        .into()),
        None => Ok(open.path.clone()),
    })
}

/// Writes a consistent backup of the open workspace to the new file `out`; says where and how
/// big.
pub async fn backup_job(session: &Session, out: String) -> AppResult<String> {
    let db = session.workspace_path()?;
    blocking(move || {
        let summary = backup(&db, &PathBuf::from(out))?;
        Ok(describe_backup(&db, &summary))
    })
    .await
}

/// The full integrity check and the totals against a recount; a damaged workspace is an
/// error of kind `damaged`.
pub async fn check_job(session: &Session) -> AppResult<String> {
    let db = session.workspace_path()?;
    blocking(move || {
        check(&db, crate::clock::now_ms())?;
        Ok(describe_check_passed(&db))
    })
    .await
}

/// The privacy settings and the erasure log.
pub async fn privacy_job(session: &Session) -> AppResult<ipc::PrivacyView> {
    let db = session.workspace_path()?;
    blocking(move || Ok(privacy_view(&db)?)).await
}

/// Changes the privacy settings: keep raw PII or not, and the raw-payload retention (a number
/// of days or `off`).
pub async fn set_privacy_job(
    session: &Session,
    store_raw_pii: bool,
    retention_days: String,
) -> AppResult<ipc::PrivacyView> {
    let db = writable_path(session)?;
    blocking(move || {
        let days = parse_retention_days(&retention_days)?;
        privacy_settings(&db, Some(store_raw_pii), Some(days))?;
        Ok(privacy_view(&db)?)
    })
    .await
}

/// Blanks the raw payloads older than the retention setting; says how many.
pub async fn purge_job(session: &Session) -> AppResult<String> {
    let db = writable_path(session)?;
    blocking(move || Ok(describe_purge(&purge(&db, crate::clock::now_ms())?))).await
}

/// Erases the person the key names; what was erased, line by line (the receipt salt shown
/// this once).
pub async fn erase_job(
    session: &Session,
    key_type: String,
    value: String,
) -> AppResult<Vec<String>> {
    let db = writable_path(session)?;
    let lines = blocking(move || {
        let key = erasure_key(&key_type, &value)?;
        Ok(describe_erasure(&erase(&db, &key, crate::clock::now_ms())?))
    })
    .await?;
    session.emit(AppEvent::WorkspaceChanged);
    Ok(lines)
}

/// The workspace's complete runs, newest first.
pub async fn runs_job(session: &Session) -> AppResult<Vec<ipc::RunRow>> {
    session
        .on_workspace(|open| complete_runs(&open.store))
        .await
}

/// Whether the run conserves credit (`lookback trust conservation --run N`).
pub async fn conservation_job(session: &Session, run_id: i64) -> AppResult<ipc::ConservationView> {
    session
        .on_workspace(move |open| conservation_view(&open.store, run_id))
        .await
}

/// What moved per creator from run `before` to run `after` (`lookback trust what-moved`).
pub async fn what_moved_job(
    session: &Session,
    before: i64,
    after: i64,
) -> AppResult<Vec<ipc::CreatorMoveRow>> {
    session
        .on_workspace(move |open| what_moved_rows(&open.store, before, after))
        .await
}

/// Touches per source and channel by traffic class and the credit each holds (`lookback
/// traffic summary`).
pub async fn traffic_job(session: &Session) -> AppResult<ipc::TrafficView> {
    session
        .on_workspace(|open| {
            Ok(crate::traffic::traffic_view(
                &mut open.store,
                crate::clock::now_ms(),
            )?)
        })
        .await
}

/// The traffic rule set in force and its versions (`lookback traffic rules` and `log`).
pub async fn traffic_rules_job(session: &Session) -> AppResult<ipc::TrafficRulesView> {
    session
        .on_workspace(|open| Ok(crate::traffic_editor::traffic_rules_view(&open.store)?))
        .await
}

/// Adopts the rule set in force with the editor's changes as the next version and
/// re-classifies every touch (`lookback traffic set-rules`).
pub async fn adopt_traffic_rules_job(
    session: &Session,
    change: ipc::TrafficRulesChange,
) -> AppResult<ipc::TrafficRulesAdopted> {
    session
        .on_workspace(move |open| {
            Ok(crate::traffic_editor::adopt_rule_edits(
                &mut open.store,
                &change,
                None,
                crate::clock::now_ms(),
            )?)
        })
        .await
}

/// Runs the rules in force again over every touch (`lookback traffic reclassify`).
pub async fn reclassify_traffic_job(session: &Session) -> AppResult<ipc::TrafficRulesAdopted> {
    session
        .on_workspace(|open| Ok(crate::traffic_editor::reclassify_now(&mut open.store)?))
        .await
}

/// Raw events, distinct records and restated versions per source (`lookback trust duplicates`).
pub async fn duplicates_job(session: &Session) -> AppResult<Vec<ipc::DuplicateRow>> {
    session
        .on_workspace(|open| duplicate_rows(&open.store))
        .await
}
