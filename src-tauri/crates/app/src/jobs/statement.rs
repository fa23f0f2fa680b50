//! The creator statement as the window writes it (the Creator revenue screen's Statement
//! button): the workspace model's run made sure of first (announced and cancellable like every
//! new run), then [`crate::statement::write_statement`] for the screen's creator and days.

use std::path::PathBuf;

use crate::error::AppResult;
use crate::session::Session;
use crate::statement::{StatementRequest, write_statement};
use crate::views::ViewSelection;
use crate::wire as ipc;

/// Writes the statement of `creator_id` over the days of `request` (its model is ignored: a
/// statement is always under the workspace's model) to `path` and the CSV beside it.
pub async fn statement_job(
    session: &Session,
    request: ipc::ViewRequest,
    creator_id: String,
    path: PathBuf,
) -> AppResult<ipc::StatementWritten> {
    super::runs::ensure_run(session, None, None).await?;
    session
        .on_workspace(move |open| {
            let selection = ViewSelection::from_request(&request)?;
            let statement = StatementRequest {
                creator_id,
                from: selection.from,
                to: selection.to,
                pdf_path: path,
            };
            write_statement(&mut open.store, &statement, crate::clock::now_ms())
        })
        .await
}
