//! The desktop window: builds the Tauri app with the session and the commands, and opens the
//! workspace named on the command line (or the most recent one) before the UI asks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lookback_app::Session;

use crate::commands;
use crate::desktop::{StartupError, WindowEvents};

/// Opens the window and blocks until it is closed.
pub fn run(db: Option<PathBuf>) {
    let events = Arc::new(WindowEvents::default());
    let session = Session::new(events.clone());
    // A workspace named with --db wins; otherwise reopen the last one used. A failure here is
    // not fatal: the welcome screen shows the error and offers the demo or a new workspace.
    let initial = db.or_else(|| lookback_app::paths::recent_workspaces().into_iter().next());
    // A workspace an older Lookback wrote is upgraded once the window shows, with progress,
    // rather than here before there is a window to show it in.
    let startup_error = initial.and_then(|path| {
        if matches!(lookback_store::Store::pending_upgrade(&path), Ok(Some(_))) {
            return session.defer_upgrade(path).err();
        }
        lookback_app::jobs::workspace::open_in_session(&session, &path).err()
    });
    if let Some(err) = &startup_error {
        lookback_app::logs::job_failed("open_at_start", err);
    }

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        // Size, position and maximized state are saved on close and restored on the next start.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .manage(session)
        .manage(StartupError(Mutex::new(startup_error)))
        .setup(move |app| {
            if let Ok(mut handle) = events.0.lock() {
                *handle = Some(app.handle().clone());
            }
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    if let Err(err) = result {
        tracing::error!("the window could not start: {err}");
        eprintln!("error: the window could not start: {err}");
        std::process::exit(1);
    }
}
