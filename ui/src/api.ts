// The UI's only door to Rust: the generated, typed command wrappers of `commands.ts` under the
// names the screens use. A command or argument renamed in Rust fails the type check here.
// Errors arrive as {kind, message}; the UI branches on kind and shows message, never parses it.

import * as commands from "./commands";
import type { AppError } from "./bindings";

/** Typed listeners for the events the window sends, generated with the commands. */
export const events = {
  onJobProgress: commands.onJobProgress,
  onWorkspaceChanged: commands.onWorkspaceChanged,
  onAlert: commands.onAlert,
  onWorkspaceDamaged: commands.onWorkspaceDamaged,
};

export function isAppError(e: unknown): e is AppError {
  return typeof e === "object" && e !== null && "kind" in e && "message" in e;
}

/** Any thrown value as an AppError, so screens have one shape to show. */
export function asAppError(e: unknown): AppError {
  return isAppError(e) ? e : { kind: "internal", message: String(e) };
}

export const api = {
  startupState: commands.startupState,
  openWorkspace: commands.openWorkspace,
  stopMaintenance: commands.stopMaintenance,
  maintenance: commands.workspaceMaintenance,
  compactWorkspace: commands.compactWorkspace,
  openDemoWorkspace: commands.openDemoWorkspace,
  createWorkspace: commands.createWorkspace,
  overview: commands.workspaceOverview,
  modelCatalog: commands.modelCatalog,
  dateRange: commands.dateRange,
  setDefaultModel: commands.setDefaultModel,
  modelLog: commands.modelLog,
  roasView: commands.roasView,
  roasCharts: commands.roasCharts,
  cacView: commands.cacView,
  cohortView: commands.cohortView,
  compareView: commands.compareView,
  creators: commands.creatorList,
  creatorRevenue: commands.creatorRevenueView,
  sources: commands.sourceList,
  sourceKinds: commands.sourceKinds,
  addSource: commands.addSource,
  reconnectSource: commands.reconnectSource,
  connectSource: commands.connectSource,
  deadLetters: commands.sourceDeadLetters,
  replayDeadLetters: commands.replayDeadLetters,
  syncSource: commands.syncSource,
  cancelSync: commands.cancelSync,
  cancelRun: commands.cancelRun,
  reconcile: commands.reconcileView,
  listenerStatus: commands.listenerStatus,
  startListener: commands.startListener,
  stopListener: commands.stopListener,
  webhookSecrets: commands.webhookSecrets,
  addWebhookSecret: commands.addWebhookSecret,
  removeWebhookSecret: commands.removeWebhookSecret,
  slackUrlStored: commands.slackUrlStored,
  setSlackUrl: commands.setSlackUrl,
  checkAlerts: commands.checkAlerts,
  alertRules: commands.alertRules,
  alertNotifications: commands.alertNotifications,
  addAlertRule: commands.addAlertRule,
  removeAlertRule: commands.removeAlertRule,
  chooseExportPath: commands.chooseExportPath,
  chooseSvgPath: commands.chooseSvgPath,
  saveChartSvg: commands.saveChartSvg,
  exportCsv: commands.exportCsv,
  chooseStatementPath: commands.chooseStatementPath,
  writeStatement: commands.writeStatement,
  weightsView: commands.weightsView,
  exportWeightsCsv: commands.exportWeightsCsv,
  weightIntervals: commands.weightIntervals,
  roasIntervals: commands.roasIntervals,
  orderCredits: commands.orderCredits,
  exportOrderCreditsCsv: commands.exportOrderCreditsCsv,
  showLogs: commands.showLogs,
  chooseWorkspacePath: commands.chooseWorkspacePath,
  restoreBackup: commands.restoreBackup,
  setReporting: commands.setReporting,
  chooseImportFile: commands.chooseImportFile,
  importCsv: commands.importCsv,
  saveImportTemplate: commands.saveImportTemplate,
  removeSource: commands.removeSource,
  testSource: commands.testSource,
  chooseBackupPath: commands.chooseBackupPath,
  backupWorkspace: commands.backupWorkspace,
  checkWorkspace: commands.checkWorkspace,
  privacy: commands.privacy,
  completeRuns: commands.completeRuns,
  conservation: commands.conservation,
  whatMoved: commands.whatMoved,
  duplicates: commands.duplicates,
  trafficView: commands.trafficView,
  trafficRules: commands.trafficRules,
  adoptTrafficRules: commands.adoptTrafficRules,
  reclassifyTraffic: commands.reclassifyTraffic,
  setPrivacy: commands.setPrivacy,
  purgeRawPayloads: commands.purgeRawPayloads,
  erasePerson: commands.erasePerson,
};
