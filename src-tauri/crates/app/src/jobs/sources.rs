//! The Sources jobs as the window calls them: the shared source jobs of [`crate::sources`] on
//! the session's workspace, off the caller's async runtime, with running syncs registered so
//! they can be cancelled.

use lookback_sync::CancellationToken;

use crate::error::{AppError, AppResult, ErrorKind, name_damaged_file};
use crate::events::AppEvent;
use crate::session::{Session, blocking};
use crate::sources::*;
use crate::wire as ipc;

/// Every source with its health.
pub async fn source_list_job(session: &Session) -> AppResult<Vec<ipc::SourceRow>> {
    session
        .on_workspace(|open| source_rows(&open.store, crate::clock::now_ms()))
        .await
}

/// Connects a source; its secret goes to the OS keyring, never into the workspace.
pub async fn add_source_job(
    session: &Session,
    request: ipc::NewSourceRequest,
) -> AppResult<Vec<ipc::SourceRow>> {
    session
        .on_workspace(move |open| add_source(&mut open.store, request, crate::clock::now_ms()))
        .await
}

/// Replaces the refused secret of a source; its data and checkpoints stay.
pub async fn reconnect_source_job(
    session: &Session,
    request: ipc::ReconnectSourceRequest,
) -> AppResult<Vec<ipc::SourceRow>> {
    session
        .on_workspace(move |open| {
            reconnect_source(&mut open.store, request, crate::clock::now_ms())
        })
        .await
}

/// Connects a source to its account through the system browser; lines to show (the consent
/// URL) are told as [`ipc::JobProgress::Connect`]. Runs off the workspace lock, since it waits
/// for the person.
pub async fn connect_source_job(
    session: &Session,
    source_id: String,
) -> AppResult<Vec<ipc::SourceRow>> {
    let path = session.workspace_path()?;
    let events = session.clone();
    let id = source_id.clone();
    let mut on_message = move |text: String| {
        events.emit(AppEvent::Progress(ipc::JobProgress::Connect {
            source_id: id.clone(),
            text,
        }));
    };
    blocking(move || {
        connect(
            &path,
            &source_id,
            lookback_sync::auth::google_installed_app::DEFAULT_CONSENT_TIMEOUT,
            &mut on_message,
        )?;
        Ok(source_rows(
            &lookback_store::Store::open(&path)?,
            crate::clock::now_ms(),
        )?)
    })
    .await
}

/// A source's unresolved dead letters.
pub async fn dead_letters_job(
    session: &Session,
    source_id: String,
) -> AppResult<Vec<ipc::DeadLetterRow>> {
    session
        .on_workspace(move |open| dead_letters(&open.store, &source_id))
        .await
}

/// Replays a source's dead letters through today's parsers.
pub async fn replay_job(session: &Session, source_id: String) -> AppResult<ipc::ReplayResult> {
    session
        .on_workspace(move |open| replay(&mut open.store, &source_id, crate::clock::now_ms()))
        .await
}

/// Syncs one source on a worker thread, telling its progress as [`ipc::JobProgress::Sync`]; the
/// answer is the last event (`done`, `failed` or `needs_reconnecting`). Cancellable with
/// [`cancel_sync_job`].
pub async fn sync_job(session: &Session, source_id: String) -> AppResult<ipc::SyncProgress> {
    let path = session.workspace_path()?;
    let events = session.clone();
    let progress_of = source_id.clone();
    let mut on_progress = move |progress: ipc::SyncProgress| {
        events.emit(AppEvent::Progress(ipc::JobProgress::Sync {
            source_id: progress_of.clone(),
            progress,
        }));
    };
    let cancel = CancellationToken::new();
    session.syncs()?.insert(source_id.clone(), cancel.clone());
    let id = source_id.clone();
    let db = path.clone();
    let result = blocking(move || {
        sync_one(&db, &id, &cancel, crate::clock::now_ms(), &mut on_progress)
            .map_err(|err| AppError::from(name_damaged_file(err, &db)))
    })
    .await;
    session.syncs()?.remove(&source_id);
    if let Err(err) = &result
        && err.kind == ErrorKind::Damaged
    {
        session.found_damaged(&path, err.message.clone());
    }
    result
}

/// Cancels a running sync: it stops after the page in flight and resumes from its checkpoint
/// next time. `false` when that source is not syncing.
pub fn cancel_sync_job(session: &Session, source_id: &str) -> AppResult<bool> {
    Ok(session
        .syncs()?
        .get(source_id)
        .map(CancellationToken::cancel)
        .is_some())
}

/// Removes a source and its keyring entry; the data it brought stays.
pub async fn remove_source_job(
    session: &Session,
    source_id: String,
) -> AppResult<Vec<ipc::SourceRow>> {
    session
        .on_workspace(move |open| {
            remove(&mut open.store, &source_id)?;
            source_rows(&open.store, crate::clock::now_ms())
        })
        .await
}

/// Tries a source's credential against its platform; what the platform says, line by line.
pub async fn test_source_job(session: &Session, source_id: String) -> AppResult<Vec<String>> {
    session
        .on_workspace(move |open| test(&mut open.store, &source_id, crate::clock::now_ms()))
        .await
}
