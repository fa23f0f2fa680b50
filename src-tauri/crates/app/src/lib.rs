//! `lookback-app`: every job Lookback does, for the window and the CLI alike. A job takes typed
//! input (a request from [`wire`], a path, a choice) and returns a wire type or an [`AppError`]
//! whose kind the UI branches on. Defaults — the date range, the compared models, the grouping
//! — are decided here, once. No tauri here: the window's commands and the CLI's subcommands are
//! thin adapters over these functions (see `src-tauri/ARCHITECTURE.md`).
//!
//! - [`session`]: what stays open between jobs (the workspace, the run connection, syncs, the
//!   receiver), and [`events`]: what a job tells the front end while it works.
//! - [`workspace`]: open, create, the demo, the overview. [`paths`]: Lookback's own files.
//! - [`views`]: the model switch, ROAS, CAC, compare, creator revenue, reconciliation and every
//!   export.
//! - [`jobs`]: the same jobs on a session, as the window calls them; [`jobs::runs`]: new
//!   attribution runs, announced and cancellable.
//! - [`models`]: changing the workspace's model, logged with who, when and why.
//!   [`attribution`]: the workspace's model, parameter overrides, the model log, credits and
//!   learned weights (`lookback model`, `lookback report`).
//! - [`trust`]: the integrity check, backup and restore, privacy (erase, purge, settings, the
//!   erasure log), conservation, what moved, duplicates, and source health with its default
//!   policy (the Sources screen and `lookback health`).
//! - [`statement`]: a creator's statement for a period, as PDF and CSV.
//! - [`sources`]: connect, reconnect, sync with progress, dead letters and replay.
//! - [`realtime`]: the webhook receiver and alert rules.
//! - [`traffic`]: bot and prefetch traffic per source and channel, the traffic rule sets and
//!   adopting a new one (`lookback traffic`).
//! - [`traffic_editor`]: the window's traffic rule editor — the set in force in words, its
//!   versions, and adopting it with a manager's edits.
//! - [`runtime`]: the tokio runtimes jobs use. [`clock`]: the one place the system clock is
//!   read. [`logs`]: the log file a user can send.

pub mod attribution;
pub mod clock;
pub mod error;
pub mod events;
pub mod jobs;
pub mod logs;
pub mod models;
pub mod paths;
pub mod realtime;
pub mod runtime;
pub mod session;
pub mod sources;
pub mod statement;
pub mod traffic;
pub mod traffic_editor;
pub mod trust;
pub mod views;
pub mod wire;
pub mod workspace;

pub use error::{AppError, AppResult, ErrorKind};
pub use events::{AppEvent, EventSink, NoEvents};
pub use session::Session;
