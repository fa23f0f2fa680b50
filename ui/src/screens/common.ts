// Pieces every view screen shares: the "by" tabs, chart panels, the CSV export flow, and the
// loading / error states around a request that may start a new attribution run.

import { api, asAppError } from "../api";
import type { ChartSvg, AppError, ExportTable, ModelName, ViewBy, ViewRequest } from "../bindings";
import { h, replaceChildren } from "../dom";
import { formatCount } from "../format";
import { settings, updateSettings } from "../state";

export const VIEW_KEYS: [ViewBy, string][] = [
  ["creator", "Creator"],
  ["campaign", "Campaign"],
  ["channel", "Channel"],
  ["content", "Content"],
  ["platform", "Platform"],
];

/** The key a screen groups by, remembered per screen. */
export function currentBy(screen: string, fallback: ViewBy = "creator"): ViewBy {
  const remembered = settings().by[screen];
  return VIEW_KEYS.find(([key]) => key === remembered)?.[0] ?? fallback;
}

export function byTabs(screen: string, keys: [ViewBy, string][] = VIEW_KEYS): HTMLElement {
  const by = currentBy(screen);
  return h(
    "div",
    { class: "tabs", role: "tablist", "aria-label": "Group by" },
    ...keys.map(([key, label]) =>
      h("button", { role: "tab", "aria-selected": key === by ? "true" : "false", class: key === by ? "tab active" : "tab", "data-testid": `by-${key}`, onclick: () => updateSettings({ by: { ...settings().by, [screen]: key } }) }, label),
    ),
  );
}

/** One chart panel; the SVG is rendered by Rust (plotters) and shown as an image, so it cannot run script. */
function chartPanel(c: ChartSvg): HTMLElement {
  const img = h("img", { alt: c.title, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(c.svg)}` });
  return h("figure", { class: "panel chart" }, h("figcaption", {}, c.title), img);
}

export function chartPanels(charts: ChartSvg[]): HTMLElement | null {
  if (!charts.length) return null;
  return h("div", { class: "charts" }, ...charts.map(chartPanel));
}

/**
 * Chart panels filled in after the screen around them is painted: a spinner holds their place,
 * then `load` is asked (after the next frame, so the rest of the screen paints first) and its
 * charts replace it — unless the screen was left or redrawn meanwhile.
 */
export function laterCharts(load: () => Promise<ChartSvg[]>): HTMLElement {
  const slot = h(
    "div",
    { class: "charts", "data-testid": "charts", "aria-busy": "true" },
    h("div", { class: "busy", role: "status", "data-testid": "charts-pending" }, h("span", { class: "spinner" }), "Drawing the charts…"),
  );
  requestAnimationFrame(() =>
    setTimeout(async () => {
      if (!slot.isConnected) return;
      try {
        const charts = await load();
        if (slot.isConnected) replaceChildren(slot, ...charts.map(chartPanel));
      } catch (e) {
        if (slot.isConnected) replaceChildren(slot, errorBox(asAppError(e)));
      }
      slot.removeAttribute("aria-busy");
    }, 0),
  );
  return slot;
}

export function errorBox(err: AppError): HTMLElement {
  return h("div", { class: "banner error", role: "alert", "data-testid": "error", "data-kind": err.kind }, err.message);
}

export function loading(label = "Computing…"): HTMLElement {
  return h("div", { class: "busy", role: "status", "data-testid": "loading" }, h("span", { class: "spinner" }), label);
}

/** Asks where to save, then has Rust write the CSV of `view`'s table there (the same file as `lookback export <view>`). */
export async function exportCsv(view: ExportTable, request: ViewRequest, extra: { models?: ModelName[]; creator_id?: string; source_id?: string } = {}, status?: HTMLElement): Promise<void> {
  const path = await api.chooseExportPath(`${view}.csv`);
  if (!path) return;
  try {
    const result = await api.exportCsv(view, request, path, extra.models ?? null, extra.creator_id ?? null, extra.source_id ?? null);
    if (status) replaceChildren(status, h("span", { class: "pill ok", "data-testid": "export-done" }, `Exported ${formatCount(result.rows)} rows to ${result.path}`));
  } catch (e) {
    if (status) replaceChildren(status, errorBox(asAppError(e)));
  }
}
