//! The window's commands: one line each, calling one job of `lookback-app` with the window's
//! [`Session`]. They are declared once, in the [`commands!`] table below, which also writes
//! their TypeScript wrappers (`ui/src/commands.ts`, checked by `commands_are_current`): a
//! command or argument renamed here fails the UI's type check until the UI follows.

use std::path::PathBuf;
use std::sync::Arc;

use lookback_app::jobs::views::ExportJob;
use lookback_app::jobs::{realtime, runs, sources, views, workspace};
use lookback_app::views::ExportTable;
use lookback_app::wire::*;
use lookback_app::{AppError, Session};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};

use crate::desktop;

/// The session the window keeps for its lifetime.
fn session(app: &AppHandle) -> Session {
    app.state::<Session>().inner().clone()
}

/// Declares each command as `name(arg: Type, …) -> Answer = |session, app| job`. Every command
/// is async, gets the app handle and the session, and answers `Result<Answer, AppError>`.
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty = |$session:ident, $app:ident| $body:expr;
    )*) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command]
            pub async fn $name($app: AppHandle, $($arg: $ty),*) -> Result<$ret, AppError> {
                #[allow(unused_variables)]
                let $session = session(&$app);
                let answer: Result<$ret, AppError> = async { $body }.await;
                if let Err(err) = &answer {
                    lookback_app::logs::job_failed(stringify!($name), err);
                }
                answer
            }
        )*

        /// Registers every command with the window.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// Each command's name, arguments and answer, as TypeScript types.
        #[cfg(test)]
        pub fn signatures() -> Vec<CommandSignature> {
            vec![$(CommandSignature {
                name: stringify!($name),
                args: vec![$((stringify!($arg), <$ty as TsName>::ts_name())),*],
                returns: <$ret as TsName>::ts_name(),
            }),*]
        }
    };
}

commands! {
    /// What the window shows first: the open workspace, or the welcome screen's choices (or
    /// why the workspace named at start could not open, once).
    startup_state() -> StartupState = |session, app| {
        if let Some(err) = app.state::<desktop::StartupError>().take() {
            return Err(err);
        }
        let state = workspace::startup_state(&session);
        if let Some(info) = &state.workspace {
            desktop::set_title(&app, info);
        }
        Ok(state)
    };
    /// Opens an existing workspace file.
    open_workspace(path: String) -> WorkspaceInfo = |session, app| {
        desktop::titled(&app, workspace::open_in_session(&session, &PathBuf::from(path)))
    };
    /// Opens the demo workspace, writing it first if it does not exist yet.
    open_demo_workspace() -> WorkspaceInfo = |session, app| {
        desktop::titled(&app, workspace::open_demo_job(&session).await)
    };
    /// Creates a new, empty workspace and opens it.
    create_workspace(path: String, name: String) -> WorkspaceInfo = |session, app| {
        desktop::titled(&app, workspace::create_job(&session, &PathBuf::from(path), &name))
    };
    workspace_overview() -> Overview = |session, app| workspace::overview_job(&session).await;
    model_catalog() -> ModelCatalog = |session, app| views::catalog_job(&session).await;
    set_default_model(choice: ModelChoice, reason: String) -> ModelCatalog = |session, app| {
        views::set_default_model_job(&session, choice, reason).await
    };
    model_log() -> Vec<ModelChangeEntry> = |session, app| views::model_log_job(&session).await;
    roas_view(request: ViewRequest) -> RoasView = |session, app| views::roas_job(&session, request).await;
    cac_view(request: ViewRequest) -> CacView = |session, app| views::cac_job(&session, request).await;
    compare_view(request: ViewRequest, models: Vec<ModelName>) -> CompareView = |session, app| {
        views::compare_job(&session, request, models).await
    };
    creator_list() -> Vec<CreatorListItem> = |session, app| views::creator_list_job(&session).await;
    creator_revenue_view(request: ViewRequest, creator_id: String) -> CreatorRevenueView = |session, app| {
        views::creator_revenue_job(&session, request, creator_id).await
    };
    /// Writes the CSV of a screen's table to the path the user chose.
    export_csv(
        view: ExportTable,
        request: ViewRequest,
        path: String,
        models: Option<Vec<ModelName>>,
        creator_id: Option<String>,
        source_id: Option<String>
    ) -> ExportResult = |session, app| {
        let job = ExportJob { view, request, path: PathBuf::from(path), models, creator_id, source_id };
        views::export_job(&session, job).await
    };
    /// Asks where to save an export, with the native save dialog.
    choose_export_path(suggested_name: String) -> Option<String> = |session, app| {
        desktop::choose_export_path(app, suggested_name).await
    };
    reconcile_view(request: ViewRequest) -> ReconcileView = |session, app| views::reconcile_job(&session, request).await;
    /// Stops the new attribution run in progress before its next phase; `false` when none runs.
    cancel_run() -> bool = |session, app| runs::cancel(&session);
    source_list() -> Vec<SourceRow> = |session, app| sources::source_list_job(&session).await;
    source_kinds() -> Vec<String> = |session, app| Ok(lookback_app::sources::source_kinds());
    add_source(request: NewSourceRequest) -> Vec<SourceRow> = |session, app| {
        sources::add_source_job(&session, request).await
    };
    reconnect_source(request: ReconnectSourceRequest) -> Vec<SourceRow> = |session, app| {
        sources::reconnect_source_job(&session, request).await
    };
    /// Connects a source through the system browser; lines to show arrive on `on_message`.
    connect_source(source_id: String, on_message: Channel<ConnectMessage>) -> Vec<SourceRow> = |session, app| {
        sources::connect_source_job(&session, source_id, move |text| drop(on_message.send(ConnectMessage { text }))).await
    };
    source_dead_letters(source_id: String) -> Vec<DeadLetterRow> = |session, app| {
        sources::dead_letters_job(&session, source_id).await
    };
    replay_dead_letters(source_id: String) -> ReplayResult = |session, app| {
        sources::replay_job(&session, source_id).await
    };
    /// Syncs one source, streaming progress on `on_progress`; the answer is the last event.
    sync_source(source_id: String, on_progress: Channel<SyncProgress>) -> SyncProgress = |session, app| {
        sources::sync_job(&session, source_id, move |p| drop(on_progress.send(p))).await
    };
    cancel_sync(source_id: String) -> bool = |session, app| sources::cancel_sync_job(&session, &source_id);
    start_listener(bind: String) -> ListenerStatus = |session, app| {
        let notifier_app = app.clone();
        let desktop: lookback_app::realtime::DesktopNotifierFactory =
            Arc::new(move || Box::new(desktop::SystemNotifier(notifier_app.clone())) as Box<dyn lookback_alerts::Notifier>);
        realtime::start_listener_job(&session, bind, desktop).await
    };
    stop_listener() -> ListenerStatus = |session, app| realtime::stop_listener_job(&session).await;
    listener_status() -> ListenerStatus = |session, app| realtime::listener_status_job(&session).await;
    alert_rules() -> Vec<AlertRuleRow> = |session, app| realtime::alert_rules_job(&session).await;
    add_alert_rule(rule: NewAlertRule) -> Vec<AlertRuleRow> = |session, app| {
        realtime::add_alert_rule_job(&session, rule).await
    };
    remove_alert_rule(rule_id: i64) -> Vec<AlertRuleRow> = |session, app| {
        realtime::remove_alert_rule_job(&session, rule_id).await
    };
    /// Opens the log directory in the file manager; the answer is its path, to show.
    show_logs() -> String = |session, app| Ok(desktop::show_logs());
}

/// A command as the UI calls it.
#[cfg(test)]
pub struct CommandSignature {
    pub name: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub returns: String,
}

/// The TypeScript type of a command's argument or answer: the wire type's own name (ts-rs),
/// numbers for integers (they stay within JavaScript's safe range), a Tauri channel for
/// streamed progress.
#[cfg(test)]
trait TsName {
    fn ts_name() -> String;
}

#[cfg(test)]
macro_rules! ts_named {
    ($($ty:ty),*) => {$(
        impl TsName for $ty {
            fn ts_name() -> String {
                <$ty as ts_rs::TS>::name()
            }
        }
    )*};
}

#[cfg(test)]
ts_named!(
    String,
    bool,
    StartupState,
    WorkspaceInfo,
    Overview,
    ModelCatalog,
    ModelChoice,
    ModelName,
    ModelChangeEntry,
    ViewRequest,
    RoasView,
    CacView,
    CompareView,
    CreatorListItem,
    CreatorRevenueView,
    ExportResult,
    ExportTable,
    ReconcileView,
    SourceRow,
    NewSourceRequest,
    ReconnectSourceRequest,
    ConnectMessage,
    DeadLetterRow,
    ReplayResult,
    SyncProgress,
    ListenerStatus,
    AlertRuleRow,
    NewAlertRule
);

#[cfg(test)]
impl TsName for i64 {
    fn ts_name() -> String {
        "number".into()
    }
}

#[cfg(test)]
impl<T: TsName> TsName for Vec<T> {
    fn ts_name() -> String {
        format!("Array<{}>", T::ts_name())
    }
}

#[cfg(test)]
impl<T: TsName> TsName for Option<T> {
    fn ts_name() -> String {
        format!("{} | null", T::ts_name())
    }
}

#[cfg(test)]
impl<T: TsName> TsName for Channel<T> {
    fn ts_name() -> String {
        format!("Channel<{}>", T::ts_name())
    }
}

/// `snake_case` → `camelCase`, as Tauri renames command arguments.
#[cfg(test)]
fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `ui/src/commands.ts`: one typed wrapper per command.
#[cfg(test)]
pub fn typescript_commands() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/commands.rs by `UPDATE_BINDINGS=1 cargo test --workspace bindings`.\n// Do not edit by hand.\n\nimport { Channel, invoke } from \"@tauri-apps/api/core\";\nimport type * as T from \"./bindings\";\n\n",
    );
    let qualify = |ts: &str| qualify_wire_names(ts);
    for c in signatures() {
        let params: Vec<String> = c
            .args
            .iter()
            .map(|(arg, ty)| format!("{}: {}", camel(arg), qualify(ty)))
            .collect();
        let keys: Vec<String> = c.args.iter().map(|(arg, _)| camel(arg)).collect();
        let payload = if keys.is_empty() {
            String::new()
        } else {
            format!(", {{ {} }}", keys.join(", "))
        };
        out.push_str(&format!(
            "export const {} = ({}): Promise<{}> => invoke(\"{}\"{});\n",
            camel(c.name),
            params.join(", "),
            qualify(&c.returns),
            c.name,
            payload
        ));
    }
    out.push_str("\nexport { Channel };\n");
    out
}

/// Prefixes the generated wire types' names with `T.` (they live in `bindings.ts`).
#[cfg(test)]
fn qualify_wire_names(ts: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.chars().next().is_some_and(char::is_uppercase)
            && word != "Array"
            && word != "Channel"
        {
            out.push_str("T.");
        }
        out.push_str(word);
        word.clear();
    };
    for c in ts.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI calls commands through generated wrappers, never by hand-typed names: this fails
    /// when `ui/src/commands.ts` no longer matches the table above.
    #[test]
    fn bindings_commands_are_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/commands.ts");
        let expected = typescript_commands();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &expected).expect("write commands.ts");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "ui/src/commands.ts is stale; run `UPDATE_BINDINGS=1 cargo test --workspace bindings` and commit it"
        );
    }

    #[test]
    fn arguments_are_renamed_as_tauri_does() {
        assert_eq!(camel("creator_id"), "creatorId");
        assert_eq!(camel("on_progress"), "onProgress");
        assert_eq!(
            qualify_wire_names("Array<SourceRow> | null"),
            "Array<T.SourceRow> | null"
        );
    }
}
