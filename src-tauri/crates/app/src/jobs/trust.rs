//! The trust jobs as the window calls them (the Workspace screen): backup, the full integrity
//! check, the privacy settings, purge and erasure — [`crate::trust`]'s jobs, which `lookback
//! backup|check|privacy …` call, on the session's workspace file, off the async runtime.

use std::path::PathBuf;

use crate::error::AppResult;
use crate::events::AppEvent;
use crate::session::{Session, blocking};
use crate::trust::*;
use crate::wire as ipc;

/// Writes a consistent backup of the open workspace to the new file `out`; says where and how
/// big.
pub async fn backup_job(session: &Session, out: String) -> AppResult<String> {
    let db = session.workspace_path()?;
    blocking(move || {
        let summary = backup(&db, &PathBuf::from(out))?;
        Ok(format!(
            "backed up to {} ({} bytes, layout {})",
            summary.path.display(),
            summary.bytes,
            summary.schema_version
        ))
    })
    .await
}

/// The full integrity check and the totals against a recount; a damaged workspace is an
/// error of kind `damaged`.
pub async fn check_job(session: &Session) -> AppResult<String> {
    let db = session.workspace_path()?;
    blocking(move || {
        check(&db, crate::clock::now_ms())?;
        Ok("the whole file checked out, and its totals equal a recount of its rows".to_owned())
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
    let db = session.workspace_path()?;
    blocking(move || {
        let days = parse_retention_days(&retention_days)?;
        privacy_settings(&db, Some(store_raw_pii), Some(days))?;
        Ok(privacy_view(&db)?)
    })
    .await
}

/// Blanks the raw payloads older than the retention setting; says how many.
pub async fn purge_job(session: &Session) -> AppResult<String> {
    let db = session.workspace_path()?;
    blocking(move || {
        let summary = purge(&db, crate::clock::now_ms())?;
        Ok(format!(
            "purged {} raw payloads older than {} days",
            summary.purged, summary.retention_days
        ))
    })
    .await
}

/// Erases the person the key names; what was erased, line by line (the receipt salt shown
/// this once).
pub async fn erase_job(
    session: &Session,
    key_type: String,
    value: String,
) -> AppResult<Vec<String>> {
    let db = session.workspace_path()?;
    let lines = blocking(move || {
        let key = erasure_key(&key_type, &value)?;
        Ok(describe_erasure(&erase(&db, &key, crate::clock::now_ms())?))
    })
    .await?;
    session.emit(AppEvent::WorkspaceChanged);
    Ok(lines)
}
