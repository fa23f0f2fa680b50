//! What a job tells the front end while it works or when something changes underneath it: the
//! progress of a long job (one type for all of them), a delivery that changed the workspace, an alert. The window
//! turns each into a Tauri event; the CLI prints what it cares about or nothing.

use crate::wire;

/// Something the front end should hear about.
#[derive(Debug, Clone)]
pub enum AppEvent {
    /// A long job got further: a new attribution run, a sync, a browser sign-in.
    Progress(wire::JobProgress),
    /// New canonical rows arrived (a webhook delivery): open views should refresh.
    WorkspaceChanged,
    /// The open workspace was found damaged (by a job's query or the background check) and is
    /// now open read-only: the workspace as it now is, with the reason.
    WorkspaceDamaged(wire::WorkspaceInfo),
    /// An alert fired: its title and body in one line.
    Alert(String),
}

/// Where a session's events go.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: AppEvent);
}

/// Drops every event: for a CLI command or a test that shows none.
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _event: AppEvent) {}
}
