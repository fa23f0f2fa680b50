// The UI's only door to Rust: typed wrappers over the Tauri commands. Errors arrive as
// {kind, message}; the UI branches on kind and shows message, never parses it.

import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  ConnectMessage,
  CacView,
  CompareView,
  CreatorListItem,
  CreatorRevenueView,
  ExportResult,
  IpcError,
  ModelCatalog,
  ModelChangeEntry,
  ModelChoice,
  AlertRuleRow,
  ListenerStatus,
  NewAlertRule,
  ReconcileView,
  DeadLetterRow,
  ReplayResult,
  NewSourceRequest,
  ReconnectSourceRequest,
  SourceRow,
  SyncProgress,
  Overview,
  RoasView,
  StartupState,
  ViewRequest,
  WorkspaceInfo,
} from "./bindings";

export function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "kind" in e && "message" in e;
}

/** Any thrown value as an IpcError, so screens have one shape to show. */
export function asIpcError(e: unknown): IpcError {
  return isIpcError(e) ? e : { kind: "internal", message: String(e) };
}

export const api = {
  startupState: () => invoke<StartupState>("startup_state"),
  openWorkspace: (path: string) => invoke<WorkspaceInfo>("open_workspace", { path }),
  openDemoWorkspace: () => invoke<WorkspaceInfo>("open_demo_workspace"),
  createWorkspace: (path: string, name: string) => invoke<WorkspaceInfo>("create_workspace", { path, name }),
  overview: () => invoke<Overview>("workspace_overview"),
  modelCatalog: () => invoke<ModelCatalog>("model_catalog"),
  setDefaultModel: (choice: ModelChoice, reason: string) => invoke<ModelCatalog>("set_default_model", { choice, reason }),
  modelLog: () => invoke<ModelChangeEntry[]>("model_log"),
  roasView: (request: ViewRequest) => invoke<RoasView>("roas_view", { request }),
  cacView: (request: ViewRequest) => invoke<CacView>("cac_view", { request }),
  compareView: (request: ViewRequest, models: string[]) => invoke<CompareView>("compare_view", { request, models }),
  creators: () => invoke<CreatorListItem[]>("creator_list"),
  creatorRevenue: (request: ViewRequest, creatorId: string) => invoke<CreatorRevenueView>("creator_revenue_view", { request, creatorId }),
  sources: () => invoke<SourceRow[]>("source_list"),
  sourceKinds: () => invoke<string[]>("source_kinds"),
  addSource: (request: NewSourceRequest) => invoke<SourceRow[]>("add_source", { request }),
  reconnectSource: (request: ReconnectSourceRequest) => invoke<SourceRow[]>("reconnect_source", { request }),
  connectSource: (sourceId: string, onMessage: Channel<ConnectMessage>) => invoke<SourceRow[]>("connect_source", { sourceId, onMessage }),
  deadLetters: (sourceId: string) => invoke<DeadLetterRow[]>("source_dead_letters", { sourceId }),
  replayDeadLetters: (sourceId: string) => invoke<ReplayResult>("replay_dead_letters", { sourceId }),
  syncSource: (sourceId: string, onProgress: Channel<SyncProgress>) => invoke<SyncProgress>("sync_source", { sourceId, onProgress }),
  cancelSync: (sourceId: string) => invoke<boolean>("cancel_sync", { sourceId }),
  cancelRun: () => invoke<boolean>("cancel_run"),
  reconcile: (request: ViewRequest) => invoke<ReconcileView>("reconcile_view", { request }),
  listenerStatus: () => invoke<ListenerStatus>("listener_status"),
  startListener: (bind: string) => invoke<ListenerStatus>("start_listener", { bind }),
  stopListener: () => invoke<ListenerStatus>("stop_listener"),
  alertRules: () => invoke<AlertRuleRow[]>("alert_rules"),
  addAlertRule: (rule: NewAlertRule) => invoke<AlertRuleRow[]>("add_alert_rule", { rule }),
  removeAlertRule: (ruleId: number) => invoke<AlertRuleRow[]>("remove_alert_rule", { ruleId }),
  chooseExportPath: (suggestedName: string) => invoke<string | null>("choose_export_path", { suggestedName }),
  exportCsv: (view: string, request: ViewRequest, path: string, models: string[] | null, creatorId: string | null, sourceId: string | null) =>
    invoke<ExportResult>("export_csv", { view, request, path, models, creatorId, sourceId }),
};
