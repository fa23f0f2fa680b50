//! The window's commands: one line each, calling one job of `lookback-app` with the window's
//! [`Session`]. They are declared once, in the [`commands!`] table below, from which
//! `crate::bindings` writes their TypeScript wrappers (`ui/src/commands.ts`, checked by a test):
//! a command or argument renamed here fails the UI's type check until the UI follows.

use std::path::PathBuf;

use lookback_app::jobs::views::ExportJob;
use lookback_app::jobs::{realtime, runs, sources, trust, views, workspace};
use lookback_app::views::ExportTable;
use lookback_app::wire::*;
use lookback_app::{AppError, Session};
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
        pub fn signatures() -> Vec<crate::ts_names::CommandSignature> {
            vec![$(crate::ts_names::CommandSignature {
                name: stringify!($name),
                args: vec![$((stringify!($arg), <$ty as crate::ts_names::TsName>::ts_name())),*],
                returns: <$ret as crate::ts_names::TsName>::ts_name(),
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
    /// Asks the running maintenance job to stop: an upgrade of the workspace being opened (the
    /// file stays as it was) or a compaction (it stops after its batch and resumes next time).
    stop_maintenance() -> bool = |session, app| Ok(session.stop_maintenance());
    /// Upkeep the open workspace could use (raw events to compact).
    workspace_maintenance() -> Maintenance = |session, app| workspace::maintenance_job(&session).await;
    /// Compacts the open workspace's raw events, with progress; the views stay usable.
    compact_workspace() -> CompactionResult = |session, app| workspace::compact_job(&session).await;
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
    /// The days a view without dates covers, and the date presets as of today.
    date_range() -> DateRange = |session, app| views::date_range_job(&session).await;
    set_default_model(choice: ModelChoice, reason: String) -> ModelCatalog = |session, app| {
        views::set_default_model_job(&session, choice, reason).await
    };
    model_log() -> Vec<ModelChangeEntry> = |session, app| views::model_log_job(&session).await;
    roas_view(request: ViewRequest) -> RoasView = |session, app| views::roas_job(&session, request).await;
    /// The ROAS screen's charts of the run its table shows, asked for once the table is painted.
    roas_charts(request: ViewRequest, run_id: i64) -> Vec<ChartSvg> = |session, app| {
        views::roas_charts_job(&session, request, run_id).await
    };
    cac_view(request: ViewRequest) -> CacView = |session, app| views::cac_job(&session, request).await;
    /// The Cohorts screen: new customers by cohort and by who acquired them, with its chart.
    cohort_view(request: ViewRequest) -> CohortView = |session, app| views::cohorts_job(&session, request).await;
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
    /// The channel weights a data-driven model learned (`lookback report weights`).
    weights_view(model: ModelName) -> WeightsView = |session, app| views::weights_job(&session, model).await;
    /// The learned weights with bootstrap intervals (`lookback report weights --intervals`).
    weight_intervals(model: ModelName) -> WeightIntervalsView = |session, app| views::weight_intervals_job(&session, model).await;
    /// The revenue intervals of a ROAS view's keys (`lookback view roas --intervals`).
    roas_intervals(request: ViewRequest) -> RevenueIntervalsView = |session, app| views::roas_intervals_job(&session, request).await;
    /// Writes the learned weights' CSV to the path the user chose.
    export_weights_csv(model: ModelName, path: String) -> ExportResult = |session, app| {
        views::export_weights_job(&session, model, PathBuf::from(path)).await
    };
    /// Each order's credit in the selection's run (`lookback report credits --by order`).
    order_credits(request: ViewRequest) -> OrderCreditsView = |session, app| views::order_credits_job(&session, request).await;
    /// Writes the orders credited as CSV to the path the user chose.
    export_order_credits_csv(request: ViewRequest, path: String) -> ExportResult = |session, app| {
        views::export_order_credits_job(&session, request, PathBuf::from(path)).await
    };
    /// Asks where to save a chart, with the native save dialog.
    choose_svg_path(suggested_name: String) -> Option<String> = |session, app| {
        desktop::choose_save_path(app, "Save chart", suggested_name, ("SVG image", &["svg"])).await
    };
    /// Writes a chart's SVG, as its panel shows it, to the path the user chose.
    save_chart_svg(svg: String, path: String) -> String = |session, app| {
        Ok(lookback_app::views::save_chart_svg(&svg, std::path::Path::new(&path))?)
    };
    /// Asks where to save an export, with the native save dialog.
    choose_export_path(suggested_name: String) -> Option<String> = |session, app| {
        desktop::choose_export_path(app, suggested_name).await
    };
    /// Asks where to save a creator statement (a PDF; its CSV goes beside it).
    choose_statement_path(suggested_name: String) -> Option<String> = |session, app| {
        desktop::choose_save_path(app, "Save statement", suggested_name, ("PDF", &["pdf"])).await
    };
    /// Writes a creator's statement over the screen's days, under the workspace's model, as a
    /// PDF and a CSV beside it (`lookback statement`).
    write_statement(request: ViewRequest, creator_id: String, path: String) -> StatementWritten = |session, app| {
        lookback_app::jobs::statement::statement_job(&session, request, creator_id, PathBuf::from(path)).await
    };
    reconcile_view(request: ViewRequest) -> ReconcileView = |session, app| views::reconcile_job(&session, request).await;
    /// Stops the new attribution run in progress before its next phase; `false` when none runs.
    cancel_run() -> bool = |session, app| runs::cancel(&session);
    source_list() -> Vec<SourceRow> = |session, app| sources::source_list_job(&session).await;
    source_kinds() -> Vec<SourceKind> = |session, app| Ok(lookback_app::sources::source_kinds());
    add_source(request: NewSourceRequest) -> Vec<SourceRow> = |session, app| {
        sources::add_source_job(&session, request).await
    };
    reconnect_source(request: ReconnectSourceRequest) -> Vec<SourceRow> = |session, app| {
        sources::reconnect_source_job(&session, request).await
    };
    /// Connects a source through the system browser; lines to show arrive as `job-progress`.
    connect_source(source_id: String) -> Vec<SourceRow> = |session, app| {
        sources::connect_source_job(&session, source_id).await
    };
    source_dead_letters(source_id: String) -> Vec<DeadLetterRow> = |session, app| {
        sources::dead_letters_job(&session, source_id).await
    };
    replay_dead_letters(source_id: String) -> ReplayResult = |session, app| {
        sources::replay_job(&session, source_id).await
    };
    /// Syncs one source, its progress as `job-progress` events; the answer is the last event.
    sync_source(source_id: String) -> SyncProgress = |session, app| {
        sources::sync_job(&session, source_id).await
    };
    cancel_sync(source_id: String) -> bool = |session, app| sources::cancel_sync_job(&session, &source_id);
    start_listener(bind: String) -> ListenerStatus = |session, app| {
        realtime::start_listener_job(&session, bind, desktop::system_notifiers(&app)).await
    };
    stop_listener() -> ListenerStatus = |session, app| realtime::stop_listener_job(&session).await;
    listener_status() -> ListenerStatus = |session, app| realtime::listener_status_job(&session).await;
    /// The webhook secrets of every source (never their values).
    webhook_secrets() -> Vec<WebhookSecretRow> = |session, app| realtime::webhook_secrets_job(&session).await;
    /// Adds a webhook secret (into the OS keyring; older ones stay valid until removed).
    add_webhook_secret(request: NewWebhookSecret) -> Vec<WebhookSecretRow> = |session, app| {
        realtime::add_webhook_secret_job(&session, request).await
    };
    /// Removes one webhook secret (the end of a rotation).
    remove_webhook_secret(secret_ref: String) -> Vec<WebhookSecretRow> = |session, app| {
        realtime::remove_webhook_secret_job(&session, secret_ref).await
    };
    alert_rules() -> Vec<AlertRuleRow> = |session, app| realtime::alert_rules_job(&session).await;
    /// The alert notifications sent, failed or waiting, newest history as the store keeps it.
    alert_notifications() -> Vec<AlertNotificationRow> = |session, app| {
        realtime::alert_notifications_job(&session).await
    };
    add_alert_rule(rule: NewAlertRule) -> Vec<AlertRuleRow> = |session, app| {
        realtime::add_alert_rule_job(&session, rule).await
    };
    remove_alert_rule(rule_id: i64) -> Vec<AlertRuleRow> = |session, app| {
        realtime::remove_alert_rule_job(&session, rule_id).await
    };
    /// Whether a Slack incoming-webhook URL is in the OS keyring (never the URL).
    slack_url_stored() -> bool = |session, app| realtime::slack_url_stored_job().await;
    /// Stores the Slack incoming-webhook URL in the OS keyring.
    set_slack_url(url: String) -> bool = |session, app| realtime::set_slack_url_job(url).await;
    /// Evaluates every alert rule now and delivers what is due.
    check_alerts() -> AlertCheckSummary = |session, app| {
        realtime::check_alerts_job(&session, desktop::system_notifiers(&app)).await
    };
    /// Asks where to create a new workspace file, with the native save dialog.
    choose_workspace_path(suggested_name: String) -> Option<String> = |session, app| {
        desktop::choose_save_path(app, "New Lookback workspace", suggested_name, ("Lookback workspace", &["lookback"])).await
    };
    /// Restores a backup into a new workspace file and opens it.
    restore_backup(from: String, path: String) -> WorkspaceInfo = |session, app| {
        desktop::titled(&app, workspace::restore_job(&session, from, path).await)
    };
    /// Sets the open workspace's reporting currency and time zone.
    set_reporting(currency: String, timezone: String) -> WorkspaceInfo = |session, app| {
        let info = workspace::set_reporting_job(&session, currency, timezone).await?;
        desktop::set_title(&app, &info);
        Ok(info)
    };
    /// Asks which CSV file to import, with the native open dialog.
    choose_import_file() -> Option<String> = |session, app| desktop::choose_csv_to_import(app).await;
    /// Imports a CSV file of the given kind (bad rows go to dead letters).
    import_csv(kind: ImportKindName, path: String) -> ImportResult = |session, app| {
        workspace::import_job(&session, kind, path).await
    };
    /// Writes the template CSV of a kind of import to the path chosen.
    save_import_template(kind: ImportKindName, path: String) -> String = |session, app| {
        workspace::import_template_job(kind, path).await
    };
    /// Removes a source and its keyring entry; its data stays.
    remove_source(source_id: String) -> Vec<SourceRow> = |session, app| {
        sources::remove_source_job(&session, source_id).await
    };
    /// Tries a source's credential; what the platform says, line by line.
    test_source(source_id: String) -> Vec<String> = |session, app| {
        sources::test_source_job(&session, source_id).await
    };
    /// Asks where to write a backup, with the native save dialog.
    choose_backup_path(suggested_name: String) -> Option<String> = |session, app| {
        desktop::choose_save_path(app, "Back up the workspace", suggested_name, ("Lookback workspace", &["lookback"])).await
    };
    /// Writes a consistent backup of the open workspace to a new file.
    backup_workspace(path: String) -> String = |session, app| trust::backup_job(&session, path).await;
    /// The full integrity check of the open workspace, with its totals against a recount.
    check_workspace() -> String = |session, app| trust::check_job(&session).await;
    /// The workspace's complete attribution runs, newest first.
    complete_runs() -> Vec<RunRow> = |session, app| trust::runs_job(&session).await;
    /// Whether a run's credits sum exactly to its attributed orders' net revenue.
    conservation(run_id: i64) -> ConservationView = |session, app| {
        trust::conservation_job(&session, run_id).await
    };
    /// What moved per creator between two runs.
    what_moved(before: i64, after: i64) -> Vec<CreatorMoveRow> = |session, app| {
        trust::what_moved_job(&session, before, after).await
    };
    /// Raw events, distinct records and restated versions per source.
    duplicates() -> Vec<DuplicateRow> = |session, app| trust::duplicates_job(&session).await;
    /// Touches per source and channel by traffic class, and the credit each class holds.
    traffic_view() -> TrafficView = |session, app| trust::traffic_job(&session).await;
    /// The traffic rule set in force, each rule in words, and its versions.
    traffic_rules() -> TrafficRulesView = |session, app| trust::traffic_rules_job(&session).await;
    /// Adopts the rule set in force with the editor's changes (and a reason) as the next
    /// version, re-classifying every touch; logged in the model log.
    adopt_traffic_rules(change: TrafficRulesChange) -> TrafficRulesAdopted = |session, app| {
        trust::adopt_traffic_rules_job(&session, change).await
    };
    /// Runs the rules in force again over every touch, deciding what only a re-classification
    /// can (a scanner's sweep); nothing is logged, since no rule changes.
    reclassify_traffic() -> TrafficRulesAdopted = |session, app| {
        trust::reclassify_traffic_job(&session).await
    };
    /// The privacy settings and the erasure log.
    privacy() -> PrivacyView = |session, app| trust::privacy_job(&session).await;
    set_privacy(store_raw_pii: bool, retention_days: String) -> PrivacyView = |session, app| {
        trust::set_privacy_job(&session, store_raw_pii, retention_days).await
    };
    /// Blanks raw payloads older than the retention setting.
    purge_raw_payloads() -> String = |session, app| trust::purge_job(&session).await;
    /// Erases a person by one of their keys; the receipt is shown once.
    erase_person(key_type: String, value: String) -> Vec<String> = |session, app| {
        trust::erase_job(&session, key_type, value).await
    };
    /// Opens the log directory in the file manager; the answer is its path, to show.
    show_logs() -> String = |session, app| Ok(desktop::show_logs());
}
