// The window's shell: the welcome screen when no workspace is open, otherwise the sidebar and
// the current screen. Screens ask Rust for their numbers and show them; they compute nothing.

import { open, save } from "@tauri-apps/plugin-dialog";
import { api, asIpcError } from "./api";
import type { IpcError, StartupState, WorkspaceInfo } from "./bindings";
import { h, replaceChildren } from "./dom";
import { renderOverview } from "./screens/overview";

const root = document.getElementById("app")!;

function errorBanner(err: IpcError): HTMLElement {
  return h("div", { class: "banner error", role: "alert", "data-testid": "error", "data-kind": err.kind }, err.message);
}

function busy(label: string): HTMLElement {
  return h("div", { class: "busy", role: "status" }, h("span", { class: "spinner" }), label);
}

async function showWelcome(state: StartupState | null, err: IpcError | null): Promise<void> {
  const choose = async (label: string, job: () => Promise<WorkspaceInfo>) => {
    replaceChildren(card, busy(label));
    try {
      await showWorkspace(await job());
    } catch (e) {
      await showWelcome(state, asIpcError(e));
    }
  };
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
            const path = await save({ title: "New Lookback workspace", defaultPath: "workspace.lookback", filters: [{ name: "Lookback workspace", extensions: ["lookback"] }] });
            if (path) await choose("Creating the workspace…", () => api.createWorkspace(path, "My workspace"));
          },
        },
        h("strong", {}, "Create an empty workspace"),
        h("small", {}, "then connect a source or import CSV"),
      ),
      h(
        "button",
        {
          "data-testid": "open-file",
          onclick: async () => {
            const path = await open({ title: "Open a Lookback workspace", multiple: false, directory: false, filters: [{ name: "Lookback workspace", extensions: ["lookback", "sqlite", "db"] }] });
            if (typeof path === "string") await choose("Opening…", () => api.openWorkspace(path));
          },
        },
        h("strong", {}, "Open a workspace file…"),
        h("small", {}, "a .lookback file"),
      ),
    ),
    recent.length > 0 &&
      h(
        "div",
        { class: "recent" },
        h("h3", {}, "Recent"),
        h("ul", {}, ...recent.map((path) => h("li", {}, h("button", { class: "link", onclick: () => choose("Opening…", () => api.openWorkspace(path)) }, path)))),
      ),
  );
  replaceChildren(root, h("main", { class: "welcome" }, card));
}

type ScreenId = "overview";
const screens: { id: ScreenId; label: string }[] = [{ id: "overview", label: "Overview" }];

async function showWorkspace(info: WorkspaceInfo, screen: ScreenId = "overview"): Promise<void> {
  const content = h("section", { class: "content", id: "content", tabindex: "-1" });
  const nav = h(
    "nav",
    { class: "sidebar", "aria-label": "Screens" },
    h("div", { class: "brand" }, h("span", { class: "logo" }), "Lookback"),
    h("div", { class: "workspace-name", title: info.path, "data-testid": "workspace-name" }, info.name),
    h(
      "ul",
      {},
      ...screens.map((s) =>
        h("li", {}, h("button", { class: s.id === screen ? "nav-item active" : "nav-item", "aria-current": s.id === screen ? "page" : undefined, onclick: () => showWorkspace(info, s.id) }, s.label)),
      ),
    ),
    h("div", { class: "sidebar-foot" }, h("button", { class: "link", onclick: () => api.startupState().then((s) => showWelcome({ ...s, workspace: null }, null)) }, "Switch workspace…")),
  );
  replaceChildren(root, h("div", { class: "shell" }, nav, content));
  replaceChildren(content, busy("Loading…"));
  try {
    await renderOverview(content);
  } catch (e) {
    replaceChildren(content, errorBanner(asIpcError(e)));
  }
}

async function start(): Promise<void> {
  try {
    const state = await api.startupState();
    if (state.workspace) await showWorkspace(state.workspace);
    else await showWelcome(state, null);
  } catch (e) {
    await showWelcome(null, asIpcError(e));
  }
}

void start();
