//! What only a window can do, for the commands and the window set-up: its title, the save
//! dialog, system notifications, the start-up error, and the session's events as Tauri events.

use std::path::PathBuf;
use std::sync::Mutex;

use lookback_alerts::{Channel, Notifier, SendFuture};
use lookback_app::wire::WorkspaceInfo;
use lookback_app::{AppError, AppEvent, AppResult, ErrorKind, EventSink};
use lookback_store::AlertNotification;
use tauri::{AppHandle, Emitter, Manager};

/// Declares the events the window sends the UI: a constant per event name, and (in test
/// builds) each name with its payload's TypeScript type, from which `crate::bindings` writes
/// typed listeners into `ui/src/commands.ts`.
macro_rules! window_events {
    ($( $(#[doc = $doc:literal])* $constant:ident = $name:literal : $payload:ty; )*) => {
        $( $(#[doc = $doc])* pub const $constant: &str = $name; )*

        /// Each event's name and its payload's TypeScript type.
        #[cfg(test)]
        pub fn event_signatures() -> Vec<(&'static str, String)> {
            vec![$(($name, <$payload as crate::ts_names::TsName>::ts_name())),*]
        }
    };
}

window_events! {
    /// A long job got further: a new attribution run, a sync, a browser sign-in.
    JOB_PROGRESS_EVENT = "job-progress": lookback_app::wire::JobProgress;
    /// New canonical rows arrived: open views refresh.
    WORKSPACE_CHANGED_EVENT = "workspace-changed": ();
    /// An alert fired (its title and body), shown inside the window too.
    ALERT_EVENT = "alert": String;
    /// The open workspace was found damaged and is now read-only: it as it now is, with the
    /// reason the banner shows.
    WORKSPACE_DAMAGED_EVENT = "workspace-damaged": lookback_app::wire::WorkspaceInfo;
}

/// An error from opening the start-up workspace, shown once on the welcome screen.
pub struct StartupError(pub Mutex<Option<AppError>>);

impl StartupError {
    /// The error, the first time it is asked for.
    pub fn take(&self) -> Option<AppError> {
        self.0.lock().ok().and_then(|mut e| e.take())
    }
}

/// The session's events, as Tauri events. Set once the app exists; events before that (none
/// are expected) are dropped.
#[derive(Default)]
pub struct WindowEvents(pub Mutex<Option<AppHandle>>);

impl EventSink for WindowEvents {
    fn emit(&self, event: AppEvent) {
        let Some(app) = self.0.lock().ok().and_then(|a| a.clone()) else {
            return;
        };
        // A window that is gone cannot be told; the job goes on regardless.
        let _ = match event {
            AppEvent::Progress(progress) => app.emit(JOB_PROGRESS_EVENT, progress),
            AppEvent::WorkspaceChanged => app.emit(WORKSPACE_CHANGED_EVENT, ()),
            AppEvent::Alert(text) => app.emit(ALERT_EVENT, text),
            AppEvent::WorkspaceDamaged(info) => app.emit(WORKSPACE_DAMAGED_EVENT, info),
        };
    }
}

/// Desktop alerts through the system's notifications, also shown inside the window.
pub struct SystemNotifier(pub AppHandle);

impl Notifier for SystemNotifier {
    fn channel(&self) -> Channel {
        Channel::Desktop
    }

    fn send<'a>(&'a self, n: &'a AlertNotification) -> SendFuture<'a> {
        Box::pin(async move {
            use tauri_plugin_notification::NotificationExt;
            let _ = self
                .0
                .emit(ALERT_EVENT, format!("{} — {}", n.title, n.body));
            self.0
                .notification()
                .builder()
                .title(&n.title)
                .body(&n.body)
                .show()
                .map_err(|e| e.to_string())
        })
    }
}

/// Desktop alerts of the receiver's alert checks as system notifications (a fresh notifier per
/// check).
pub fn system_notifiers(app: &AppHandle) -> lookback_app::realtime::DesktopNotifierFactory {
    let app = app.clone();
    std::sync::Arc::new(move || Box::new(SystemNotifier(app.clone())) as Box<dyn Notifier>)
}

/// Names the window after the open workspace.
pub fn set_title(app: &AppHandle, info: &WorkspaceInfo) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_title(&format!("{} — Lookback", info.name));
    }
}

/// Passes an opened workspace through, naming the window after it.
pub fn titled(app: &AppHandle, opened: AppResult<WorkspaceInfo>) -> AppResult<WorkspaceInfo> {
    if let Ok(info) = &opened {
        set_title(app, info);
    }
    opened
}

/// Asks where to save an export, with the native save dialog (see [`choose_save_path`]).
pub async fn choose_export_path(
    app: AppHandle,
    suggested_name: String,
) -> AppResult<Option<String>> {
    choose_save_path(app, "Export CSV", suggested_name, ("CSV", &["csv"])).await
}

/// Asks where to save a new file, with the native save dialog. Test seam: in a debug build with
/// `LOOKBACK_TEST_SAVE_DIR` set (end-to-end tests, which cannot click a GTK dialog outside the
/// web view), the file goes into that directory under `suggested_name` instead; everything
/// after the choice is the same. A release build always asks.
pub async fn choose_save_path(
    app: AppHandle,
    title: &'static str,
    suggested_name: String,
    filter: (&'static str, &'static [&'static str]),
) -> AppResult<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    if let Some(dir) = std::env::var_os("LOOKBACK_TEST_SAVE_DIR").filter(|_| cfg!(debug_assertions))
    {
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
            .set_title(title)
            .set_file_name(&suggested_name)
            .add_filter(filter.0, filter.1)
            .blocking_save_file()
    })
    .await
    .map_err(|e| AppError::new(ErrorKind::Internal, e.to_string()))?;
    Ok(chosen
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}

/// Asks which CSV file to import, with the native open dialog. Test seam: in a debug build
/// with `LOOKBACK_TEST_OPEN_FILE` set, that file is the answer.
pub async fn choose_csv_to_import(app: AppHandle) -> AppResult<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    if let Some(file) =
        std::env::var_os("LOOKBACK_TEST_OPEN_FILE").filter(|_| cfg!(debug_assertions))
    {
        return Ok(Some(PathBuf::from(file).display().to_string()));
    }
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_title("Import a CSV file")
            .add_filter("CSV", &["csv", "txt"])
            .blocking_pick_file()
    })
    .await
    .map_err(|e| AppError::new(ErrorKind::Internal, e.to_string()))?;
    Ok(chosen
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}

/// Test seam: set (by the end-to-end tests) to keep "Show logs" from opening a file manager;
/// heard only in debug builds.
const NO_OPEN_VARIABLE: &str = "LOOKBACK_TEST_NO_OPEN";

/// Opens the log directory in the system's file manager when it can, and answers the
/// directory's path for the window to show. Failing to open it is not an error: the path is
/// still shown.
pub fn show_logs() -> String {
    let dir = lookback_app::logs::log_dir();
    let shown = dir.display().to_string();
    let _ = std::fs::create_dir_all(&dir);
    if cfg!(debug_assertions) && std::env::var_os(NO_OPEN_VARIABLE).is_some() {
        return shown;
    }
    if let Err(err) = open::that_detached(&dir) {
        tracing::warn!("could not open the log directory in a file manager: {err}");
    }
    shown
}
