// The window's shell: the welcome screen when no workspace is open, otherwise the sidebar and
// the current screen. Screens ask Rust for their numbers and show them; they compute nothing.

import { open } from "@tauri-apps/plugin-dialog";
import { api, asAppError, events } from "./api";
import type { AppError, ModelCatalog, RunProgress, StartupState, UpgradeStatus, WorkspaceInfo } from "./bindings";
import { h, replaceChildren } from "./dom";
import { toolbar } from "./components/toolbar";
import { renderCac } from "./screens/cac";
import { renderCohorts } from "./screens/cohorts";
import { renderCompare } from "./screens/compare";
import { renderCreator } from "./screens/creator";
import { renderModelLog } from "./screens/modellog";
import { renderOverview } from "./screens/overview";
import { renderReconcile } from "./screens/reconcile";
import { renderRealtime } from "./screens/realtime";
import { renderRoas } from "./screens/roas";
import { renderSetup } from "./screens/setup";
import { renderSources } from "./screens/sources";
import { renderWorkspace } from "./screens/workspace";
import { loadSettings, onSettingsChange, settings, updateSettings } from "./state";
import { startTheme, themePicker } from "./theme";

const root = document.getElementById("app")!;

function errorBanner(err: AppError): HTMLElement {
  return h("div", { class: "banner error", role: "alert", "data-testid": "error", "data-kind": err.kind }, err.message);
}

/** A short-lived message in the corner, for alerts as they fire. */
function toast(text: string): void {
  const el = h("div", { class: "toast", role: "status", "data-testid": "toast" }, text);
  document.body.append(el);
  window.setTimeout(() => el.remove(), 8000);
}

function busy(label: string): HTMLElement {
  return h("div", { class: "busy", role: "status" }, h("span", { class: "spinner" }), label);
}

/** What a new attribution run is doing, as its `job-progress` events say. */
const RUN_PHASES: Record<string, string> = {
  journeys: "resolving journeys",
  credits: "crediting touches",
  writing: "saving the run",
};

/**
 * The wait for a view: a spinner, and while a new attribution run computes (the numbers are not
 * cached yet), its model and phase with a Cancel button. Cached runs answer before any event.
 */
function viewBusy(label: string): HTMLElement {
  const status = h("span", { "data-testid": "run-progress" }, label);
  const cancel = h("button", { class: "link", hidden: "", "data-testid": "cancel-run", onclick: () => void api.cancelRun() }, "Cancel");
  return h("div", { class: "busy", role: "status", "data-testid": "loading" }, h("span", { class: "spinner" }), status, cancel);
}

function showRunProgress(content: HTMLElement, progress: RunProgress): void {
  const status = content.querySelector<HTMLElement>("[data-testid=run-progress]");
  const cancel = content.querySelector<HTMLElement>("[data-testid=cancel-run]");
  if (!status || !cancel) return;
  const phase = RUN_PHASES[progress.phase];
  if (phase) {
    status.textContent = `New ${progress.model} run: ${phase}…`;
    cancel.hidden = false;
  } else {
    cancel.hidden = true;
  }
}

/**
 * "Show logs": opens the log directory in the file manager and says where it is, so a user can
 * attach the files to a bug report. On the welcome screen and in the sidebar, so always reachable.
 */
function showLogsAction(): HTMLElement {
  const status = h("div", { class: "logs-path", role: "status", "data-testid": "logs-path" });
  const button = h(
    "button",
    {
      class: "link",
      "data-testid": "show-logs",
      onclick: async () => {
        try {
          status.textContent = `Logs: ${await api.showLogs()}`;
        } catch (e) {
          status.textContent = asAppError(e).message;
        }
      },
    },
    "Show logs",
  );
  return h("div", { class: "logs-action" }, button, status);
}

/**
 * Opens a workspace file. One written by an older Lookback is upgraded first: while that runs,
 * `into` shows which change is applied, how long it has run and a Stop button (stopping leaves
 * the file exactly as it was, and the open fails as `cancelled`).
 */
async function openWorkspaceShowingUpgrade(path: string, into: HTMLElement): Promise<WorkspaceInfo> {
  const off = await events.onJobProgress((p) => {
    if (p.job === "upgrade" && p.path === path) replaceChildren(into, upgradePanel(p.progress));
  });
  try {
    return await api.openWorkspace(path);
  } finally {
    off();
  }
}

function upgradePanel(p: UpgradeStatus): HTMLElement {
  const seconds = Math.round(p.elapsed_ms / 1000);
  const status = p.finished
    ? `Upgraded in ${(p.elapsed_ms / 1000).toFixed(1)} s. Opening…`
    : `Change ${p.change} of ${p.changes}: ${p.change_title} · ${seconds} s`;
  const stop = h(
    "button",
    {
      "data-testid": "stop-upgrade",
      onclick: () => {
        stop.setAttribute("disabled", "");
        void api.stopMaintenance();
      },
    },
    "Stop",
  );
  return h(
    "div",
    { class: "upgrade", role: "status", "data-testid": "upgrade-progress" },
    h("h3", {}, "Upgrading this workspace for this version of Lookback"),
    h("p", { class: "muted" }, `A one-time change from layout ${p.from_version} to ${p.to_version}. Stopping leaves the file exactly as it was; it is upgraded the next time you open it.`),
    h("progress", { max: String(p.changes), value: String(p.finished ? p.changes : p.change - 1) }),
    h("p", { "data-testid": "upgrade-status" }, status),
    !p.finished && stop,
  );
}

async function showWelcome(state: StartupState | null, err: AppError | null, openAtOnce: string | null = null): Promise<void> {
  shown = null;
  current = null;
  const choose = async (label: string, job: () => Promise<WorkspaceInfo>) => {
    replaceChildren(card, busy(label));
    try {
      await showWorkspace(await job());
    } catch (e) {
      await showWelcome(state, asAppError(e));
    }
  };
  const openFile = (path: string) => choose("Opening…", () => openWorkspaceShowingUpgrade(path, card));
  const recent = state?.recent ?? [];
  const card = h(
    "section",
    { class: "welcome-card" },
    h("div", { class: "brand big" }, h("span", { class: "logo" }), "Lookback"),
    h("p", { class: "lede" }, "Which posts, links and ads earned money — net of refunds, under the attribution model you choose."),
    err && errorBanner(err),
    h(
      "div",
      { class: "choices" },
      h(
        "button",
        { class: "primary", "data-testid": "open-demo", onclick: () => choose("Writing the demo workspace…", api.openDemoWorkspace) },
        h("strong", {}, "Open the demo workspace"),
        h("small", {}, "12 creators, 4 ad platforms, 90 days of orders"),
      ),
      h(
        "button",
        {
          "data-testid": "create-empty",
          onclick: async () => {
            const path = await api.chooseWorkspacePath("workspace.lookback");
            if (!path) return;
            replaceChildren(card, busy("Creating the workspace…"));
            try {
              const info = await api.createWorkspace(path, "My workspace");
              shown = null;
              await renderSetup(root, info, (ready) => void showWorkspace(ready));
            } catch (e) {
              await showWelcome(state, asAppError(e));
            }
          },
        },
        h("strong", {}, "Create an empty workspace"),
        h("small", {}, "a short setup: currency and time zone, then a source or a CSV file"),
      ),
      h(
        "button",
        {
          "data-testid": "open-file",
          onclick: async () => {
            const path = await open({ title: "Open a Lookback workspace", multiple: false, directory: false, filters: [{ name: "Lookback workspace", extensions: ["lookback", "sqlite", "db"] }] });
            if (typeof path === "string") await openFile(path);
          },
        },
        h("strong", {}, "Open a workspace file…"),
        h("small", {}, "a .lookback file"),
      ),
      h(
        "button",
        {
          "data-testid": "restore-backup",
          onclick: async () => {
            const from = await open({ title: "Restore a Lookback backup", multiple: false, directory: false, filters: [{ name: "Lookback backup", extensions: ["lookback", "sqlite", "db"] }] });
            if (typeof from !== "string") return;
            const path = await api.chooseWorkspacePath("restored.lookback");
            if (path) await choose("Restoring the backup…", () => api.restoreBackup(from, path));
          },
        },
        h("strong", {}, "Restore a backup…"),
        h("small", {}, "into a new workspace file; the backup is only read"),
      ),
    ),
    recent.length > 0 &&
      h(
        "div",
        { class: "recent" },
        h("h3", {}, "Recent"),
        h("ul", {}, ...recent.map((path) => h("li", {}, h("button", { class: "link", onclick: () => openFile(path) }, path)))),
      ),
    showLogsAction(),
    themePicker(),
  );
  replaceChildren(root, h("main", { class: "welcome" }, card));
  if (openAtOnce) await openFile(openAtOnce);
}

type ScreenId = "overview" | "roas" | "cac" | "cohorts" | "compare" | "creator" | "model-log" | "reconcile" | "sources" | "realtime" | "workspace";
const screens: { id: ScreenId; label: string; toolbar: boolean }[] = [
  { id: "overview", label: "Overview", toolbar: false },
  { id: "roas", label: "ROAS", toolbar: true },
  { id: "cac", label: "CAC", toolbar: true },
  { id: "cohorts", label: "Cohorts", toolbar: true },
  { id: "compare", label: "Compare models", toolbar: true },
  { id: "creator", label: "Creator revenue", toolbar: true },
  { id: "model-log", label: "Model log", toolbar: false },
  { id: "reconcile", label: "Reconciliation", toolbar: false },
  { id: "sources", label: "Sources", toolbar: false },
  { id: "realtime", label: "Real time", toolbar: false },
  { id: "workspace", label: "Workspace", toolbar: false },
];

/** The screens that show nothing useful until the workspace has orders or touches. */
const EMPTY_AWARE = new Set<ScreenId>(["roas", "cac", "cohorts", "compare", "reconcile"]);

/** On an empty workspace: what to do next, with the way there; otherwise nothing. */
/**
 * The workspace (by path) last found to hold data. A workspace does not empty itself while it is
 * open, so once it holds data the empty-state check stops asking: a model switch on ROAS would
 * otherwise wait for a whole overview before its own view (issue 12's ≤ 100 ms repaint).
 */
let knownToHoldData: string | null = null;

async function emptyWorkspaceNotice(go: (id: ScreenId) => void): Promise<HTMLElement | null> {
  const path = shown?.path ?? null;
  if (path !== null && knownToHoldData === path) return null;
  const o = await api.overview();
  if (o.orders > 0 || o.touches > 0) {
    knownToHoldData = path;
    return null;
  }
  return h(
    "div",
    { class: "empty-state", "data-testid": "empty-workspace" },
    h("h2", {}, "No orders or touches yet"),
    h("p", {}, "This screen fills in once the workspace has data: import orders and touches from CSV files (a template for each kind is on the Workspace screen), or connect a platform and sync it."),
    h("div", { class: "source-actions" }, h("button", { class: "primary", onclick: () => go("workspace") }, "Import CSV…"), h("button", { class: "secondary", onclick: () => go("sources") }, "Connect a source…")),
  );
}

/**
 * The screen on show: how to render it again and where it draws. The window's events are
 * subscribed once (in `start`) and reach only this screen. Subscribing per screen raced with a
 * quick click: a screen whose subscriptions were still being set up when the next one showed
 * kept its listeners, and its renders then superseded the shown screen's, which stayed on
 * "Loading…" after a live update.
 */
let current: { render: () => Promise<void>; content: HTMLElement } | null = null;
let renderToken = 0;
/** The workspace and screen on show; `null` on the welcome screen. */
let shown: { path: string; screen: ScreenId } | null = null;
/** A damaged verdict that arrived before its workspace was shown (a check finishing at start). */
let damagedEarly: WorkspaceInfo | null = null;

async function showWorkspace(info: WorkspaceInfo, screen: ScreenId = "overview"): Promise<void> {
  if (damagedEarly?.path === info.path) info = damagedEarly;
  damagedEarly = null;
  shown = { path: info.path, screen };
  loadSettings(info.path);
  const bar = h("div", { class: "toolbar-slot" });
  const content = h("section", { class: "content", id: "content", tabindex: "-1", "data-screen": screen });
  const go = (id: ScreenId) => showWorkspace(info, id);
  const nav = h(
    "nav",
    { class: "sidebar", "aria-label": "Screens" },
    h("div", { class: "brand" }, h("span", { class: "logo" }), "Lookback"),
    h("div", { class: "workspace-name", title: info.path, "data-testid": "workspace-name" }, info.name),
    h(
      "ul",
      {},
      ...screens.map((s, i) =>
        h(
          "li",
          {},
          h(
            "button",
            { class: s.id === screen ? "nav-item active" : "nav-item", "data-testid": `nav-${s.id}`, "aria-current": s.id === screen ? "page" : undefined, title: `Ctrl+${i + 1}`, onclick: () => go(s.id) },
            s.label,
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "sidebar-foot" },
      h("button", { class: "link", "data-testid": "switch-workspace", onclick: () => api.startupState().then((st) => showWelcome({ ...st, workspace: null }, null)) }, "Switch workspace…"),
      showLogsAction(),
      themePicker(),
    ),
  );
  const damaged = info.read_only_reason ? h("div", { class: "banner error read-only", role: "alert", "data-testid": "read-only" }, `Read-only: ${info.read_only_reason}`) : null;
  replaceChildren(root, h("div", { class: "shell" }, nav, h("div", { class: "main-col" }, damaged, bar, content)));
  document.onkeydown = (e: KeyboardEvent) => {
    if ((e.ctrlKey || e.metaKey) && /^[1-9]$/.test(e.key)) {
      const target = screens[Number(e.key) - 1];
      if (target) {
        e.preventDefault();
        void go(target.id);
      }
    }
  };

  const spec = screens.find((s) => s.id === screen)!;
  let catalog: ModelCatalog | null = null;
  const render = async () => {
    // A newer render supersedes an older one still waiting for Rust, so a fast user never sees
    // stale numbers land on top of fresh ones. A screen no longer shown renders nothing (a late
    // callback of its controls must not supersede the shown screen's render).
    if (current?.render !== render) return;
    const token = ++renderToken;
    replaceChildren(content, screen === "overview" ? busy("Loading…") : viewBusy("Computing under the chosen model…"));
    try {
      if (spec.toolbar) {
        catalog = catalog ?? (await api.modelCatalog());
        const range = await api.dateRange();
        replaceChildren(bar, toolbar({ catalog, range, showBucket: screen === "roas", onDefaultChanged: (c) => { catalog = c; void render(); } }));
      } else {
        replaceChildren(bar);
      }
      const target = h("div", { class: "screen" });
      // A view of an empty workspace says where its data comes from, not only "nothing to show".
      const notice = EMPTY_AWARE.has(screen) ? await emptyWorkspaceNotice(go) : null;
      if (screen === "overview") await renderOverview(target);
      else if (screen === "roas") await renderRoas(target, (id) => { updateSettings({ by: { ...settings().by, "creator-id": id } }); void go("creator"); });
      else if (screen === "cac") await renderCac(target);
      else if (screen === "cohorts") await renderCohorts(target);
      else if (screen === "compare") await renderCompare(target, catalog!);
      else if (screen === "creator") await renderCreator(target);
      else if (screen === "model-log") await renderModelLog(target);
      else if (screen === "reconcile") await renderReconcile(target);
      else if (screen === "realtime") await renderRealtime(target, () => void render());
      else if (screen === "sources") await renderSources(target, () => void render());
      else if (screen === "workspace") await renderWorkspace(target, info, (changed) => void showWorkspace(changed ?? info, "workspace"));
      if (token === renderToken) replaceChildren(content, h("header", { class: "page-head" }, h("h1", {}, spec.label)), notice, target);
    } catch (e) {
      if (token === renderToken) replaceChildren(content, errorBanner(asAppError(e)));
    }
  };
  current = { render, content };
  await render();
}

/** Whether the focus is in a field of `root` that takes typing. */
function typingIn(root: HTMLElement): boolean {
  const active = document.activeElement;
  return !!active && root.contains(active) && active.matches("input:not([type=checkbox]):not([type=radio]):not([type=button]), textarea, select");
}

/** Subscribes, once, to what the window must follow on whichever screen is shown. */
async function followWindowEvents(): Promise<void> {
  onSettingsChange(() => void current?.render());
  // Live updates: when the receiver has normalized new events, the shown screen asks Rust again
  // (at most once a second, so a burst of deliveries does not thrash it).
  // A render waits while the user is typing into a field of the screen, so an update never
  // wipes what they were entering (a secret, a rule); it runs once the field loses focus.
  let pending: number | undefined;
  const renderWhenIdle = () => {
    pending = undefined;
    if (current && typingIn(current.content)) pending = window.setTimeout(renderWhenIdle, 1000);
    else void current?.render();
  };
  await events.onWorkspaceChanged(() => {
    if (pending === undefined) pending = window.setTimeout(renderWhenIdle, 1000);
  });
  await events.onAlert((text) => toast(text));
  await events.onJobProgress((p) => {
    if (p.job === "run" && current) showRunProgress(current.content, p.progress);
  });
}

async function start(): Promise<void> {
  startTheme();
  await followWindowEvents();
  // The open workspace was found damaged (by the background check or a query) and is now
  // read-only: show it again, with the banner, on the same screen.
  await events.onWorkspaceDamaged((info) => {
    if (shown === null) damagedEarly = info;
    else if (shown.path === info.path) void showWorkspace(info, shown.screen);
  });
  try {
    const state = await api.startupState();
    if (state.workspace) await showWorkspace(state.workspace);
    else await showWelcome(state, null, state.upgrade_pending);
  } catch (e) {
    await showWelcome(null, asAppError(e));
  }
}

void start();
