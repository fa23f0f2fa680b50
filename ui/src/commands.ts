// Generated from src-tauri/src/commands.rs by `UPDATE_BINDINGS=1 cargo test --workspace bindings`.
// Do not edit by hand.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type * as T from "./bindings";

export const startupState = (): Promise<T.StartupState> => invoke("startup_state");
export const openWorkspace = (path: string): Promise<T.WorkspaceInfo> => invoke("open_workspace", { path });
export const stopMaintenance = (): Promise<boolean> => invoke("stop_maintenance");
export const workspaceMaintenance = (): Promise<T.Maintenance> => invoke("workspace_maintenance");
export const compactWorkspace = (): Promise<T.CompactionResult> => invoke("compact_workspace");
export const openDemoWorkspace = (): Promise<T.WorkspaceInfo> => invoke("open_demo_workspace");
export const createWorkspace = (path: string, name: string): Promise<T.WorkspaceInfo> => invoke("create_workspace", { path, name });
export const workspaceOverview = (): Promise<T.Overview> => invoke("workspace_overview");
export const modelCatalog = (): Promise<T.ModelCatalog> => invoke("model_catalog");
export const dateRange = (): Promise<T.DateRange> => invoke("date_range");
export const setDefaultModel = (choice: T.ModelChoice, reason: string): Promise<T.ModelCatalog> => invoke("set_default_model", { choice, reason });
export const modelLog = (): Promise<Array<T.ModelChangeEntry>> => invoke("model_log");
export const roasView = (request: T.ViewRequest): Promise<T.RoasView> => invoke("roas_view", { request });
export const roasCharts = (request: T.ViewRequest, runId: number): Promise<Array<T.ChartSvg>> => invoke("roas_charts", { request, runId });
export const cacView = (request: T.ViewRequest): Promise<T.CacView> => invoke("cac_view", { request });
export const compareView = (request: T.ViewRequest, models: Array<T.ModelName>): Promise<T.CompareView> => invoke("compare_view", { request, models });
export const creatorList = (): Promise<Array<T.CreatorListItem>> => invoke("creator_list");
export const creatorRevenueView = (request: T.ViewRequest, creatorId: string): Promise<T.CreatorRevenueView> => invoke("creator_revenue_view", { request, creatorId });
export const exportCsv = (view: T.ExportTable, request: T.ViewRequest, path: string, models: Array<T.ModelName> | null, creatorId: string | null, sourceId: string | null): Promise<T.ExportResult> => invoke("export_csv", { view, request, path, models, creatorId, sourceId });
export const chooseExportPath = (suggestedName: string): Promise<string | null> => invoke("choose_export_path", { suggestedName });
export const reconcileView = (request: T.ViewRequest): Promise<T.ReconcileView> => invoke("reconcile_view", { request });
export const cancelRun = (): Promise<boolean> => invoke("cancel_run");
export const sourceList = (): Promise<Array<T.SourceRow>> => invoke("source_list");
export const sourceKinds = (): Promise<Array<T.SourceKind>> => invoke("source_kinds");
export const addSource = (request: T.NewSourceRequest): Promise<Array<T.SourceRow>> => invoke("add_source", { request });
export const reconnectSource = (request: T.ReconnectSourceRequest): Promise<Array<T.SourceRow>> => invoke("reconnect_source", { request });
export const connectSource = (sourceId: string): Promise<Array<T.SourceRow>> => invoke("connect_source", { sourceId });
export const sourceDeadLetters = (sourceId: string): Promise<Array<T.DeadLetterRow>> => invoke("source_dead_letters", { sourceId });
export const replayDeadLetters = (sourceId: string): Promise<T.ReplayResult> => invoke("replay_dead_letters", { sourceId });
export const syncSource = (sourceId: string): Promise<T.SyncProgress> => invoke("sync_source", { sourceId });
export const cancelSync = (sourceId: string): Promise<boolean> => invoke("cancel_sync", { sourceId });
export const startListener = (bind: string): Promise<T.ListenerStatus> => invoke("start_listener", { bind });
export const stopListener = (): Promise<T.ListenerStatus> => invoke("stop_listener");
export const listenerStatus = (): Promise<T.ListenerStatus> => invoke("listener_status");
export const alertRules = (): Promise<Array<T.AlertRuleRow>> => invoke("alert_rules");
export const addAlertRule = (rule: T.NewAlertRule): Promise<Array<T.AlertRuleRow>> => invoke("add_alert_rule", { rule });
export const removeAlertRule = (ruleId: number): Promise<Array<T.AlertRuleRow>> => invoke("remove_alert_rule", { ruleId });
export const showLogs = (): Promise<string> => invoke("show_logs");

export const onJobProgress = (handler: (payload: T.JobProgress) => void): Promise<UnlistenFn> => listen<T.JobProgress>("job-progress", (event) => handler(event.payload));
export const onWorkspaceChanged = (handler: (payload: null) => void): Promise<UnlistenFn> => listen<null>("workspace-changed", (event) => handler(event.payload));
export const onAlert = (handler: (payload: string) => void): Promise<UnlistenFn> => listen<string>("alert", (event) => handler(event.payload));
export const onWorkspaceDamaged = (handler: (payload: T.WorkspaceInfo) => void): Promise<UnlistenFn> => listen<T.WorkspaceInfo>("workspace-damaged", (event) => handler(event.payload));
