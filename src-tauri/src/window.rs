//! The desktop window: builds the Tauri app, registers the commands and the shared state, and
//! opens the workspace named on the command line (or the most recent one) before the UI asks.

use std::path::PathBuf;

use crate::app_state::{self, WindowState};
use crate::commands;

/// Opens the window and blocks until it is closed.
pub fn run(db: Option<PathBuf>) {
    let state = WindowState::default();
    // A workspace named with --db wins; otherwise reopen the last one used. A failure here is
    // not fatal: the welcome screen shows the error and offers the demo or a new workspace.
    let initial = db.or_else(|| app_state::recent_workspaces().into_iter().next());
    let startup_error =
        initial.and_then(|path| commands::workspace::open_into(&state, &path).err());

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        // Size, position and maximized state are saved on close and restored on the next start.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .manage(commands::workspace::StartupError(startup_error))
        .invoke_handler(tauri::generate_handler![
            commands::workspace::startup_state,
            commands::workspace::open_workspace,
            commands::workspace::open_demo_workspace,
            commands::workspace::create_workspace,
            commands::overview::workspace_overview,
            commands::views::model_catalog,
            commands::views::set_default_model,
            commands::views::model_log,
            commands::views::roas_view,
            commands::views::cac_view,
            commands::views::compare_view,
            commands::views::creator_list,
            commands::views::creator_revenue_view,
            commands::views::export_csv,
            commands::views::choose_export_path,
            commands::views::reconcile_view,
            commands::views::cancel_run,
            commands::sources::source_list,
            commands::sources::source_kinds,
            commands::sources::add_source,
            commands::sources::reconnect_source,
            commands::sources::source_dead_letters,
            commands::sources::replay_dead_letters,
            commands::sources::sync_source,
            commands::sources::cancel_sync,
            commands::sources::connect_source,
            commands::realtime::start_listener,
            commands::realtime::stop_listener,
            commands::realtime::listener_status,
            commands::realtime::alert_rules,
            commands::realtime::add_alert_rule,
            commands::realtime::remove_alert_rule,
        ])
        .run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("error: the window could not start: {err}");
        std::process::exit(1);
    }
}
