// Pieces every view screen shares: the "by" tabs, chart panels (each with Save SVG…), the CSV
// export flow, and the loading / error states around a request that may start a new attribution run.

import { api, asAppError } from "../api";
import type { ChartSvg, AppError, ExportTable, ModelName, ViewBy, ViewRequest } from "../bindings";
import { h, replaceChildren } from "../dom";
import { formatCount, formatMoney, formatRoas } from "../format";
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

const SVG_NS = "http://www.w3.org/2000/svg";
/** The drawing elements a chart is made of; anything else is dropped before it is shown. */
const CHART_ELEMENTS = new Set(["svg", "g", "rect", "circle", "line", "polyline", "polygon", "path", "text", "title"]);

/**
 * A chart's SVG (drawn by Rust, charts.rs) as an element to show inline, so the theme's CSS
 * variables recolor it and its hover targets can be pointed at. It is parsed as XML, never as
 * HTML, and kept to drawing elements without event handlers or links, so it cannot run script.
 */
function inlineSvg(text: string): SVGSVGElement | null {
  const svg: Element = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  // A document that fails to parse is a <parsererror>, not an <svg>.
  if (!(svg instanceof SVGSVGElement)) return null;
  for (const el of [svg, ...svg.querySelectorAll("*")]) {
    if (!CHART_ELEMENTS.has(el.localName) || el.namespaceURI !== SVG_NS) {
      el.remove();
      continue;
    }
    for (const attr of [...el.attributes]) {
      if (/^on/i.test(attr.name) || /href$/i.test(attr.name)) el.removeAttribute(attr.name);
    }
  }
  return document.importNode(svg, true);
}

/** A hover target's value as the table beside the chart shows it. */
function hoverValue(group: Element, value: string): string {
  const currency = group.getAttribute("data-currency");
  if (group.getAttribute("data-unit") === "money" && currency) return formatMoney({ currency, amount: value, minor: 0 });
  return formatRoas(value);
}

/**
 * One chart panel: the SVG inline, and a tip that shows the exact value of the point or bar
 * under the pointer (or chosen with the arrow keys) — read from the chart's own hover targets,
 * which carry each value as the view computed it.
 */
/** A file name for a chart: its title in lowercase words joined by dashes. */
function chartFileName(title: string): string {
  return `${title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "chart"}.svg`;
}

/** Asks where to save, then has Rust write the chart's SVG as Rust drew it (as `lookback chart --out` writes it). */
async function saveChartSvg(c: ChartSvg, status: HTMLElement): Promise<void> {
  try {
    const path = await api.chooseSvgPath(chartFileName(c.title));
    if (!path) return;
    const written = await api.saveChartSvg(c.svg, path);
    replaceChildren(status, h("span", { class: "pill ok", "data-testid": "chart-saved" }, `Saved ${written}`));
  } catch (e) {
    replaceChildren(status, errorBox(asAppError(e)));
  }
}

function chartPanel(c: ChartSvg): HTMLElement {
  const svg = inlineSvg(c.svg);
  const tip = h("div", { class: "chart-tip", role: "tooltip", hidden: true, "data-testid": "chart-tip" });
  const saved = h("div", { class: "status-line" });
  const save = h("button", { class: "link", "data-testid": "chart-save-svg", onclick: () => void saveChartSvg(c, saved) }, "Save SVG…");
  const figure = h("figure", { class: "panel chart", "data-testid": "chart" }, h("figcaption", {}, c.title, " ", save), svg ?? h("p", { class: "muted" }, "This chart could not be shown."), tip, saved);
  const group = svg?.querySelector(".chart-hover");
  if (!svg || !group) return figure;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", c.title);
  // The tip says what a target's <title> says (kept for the SVG file on its own); a native
  // tooltip as well would repeat it.
  for (const title of group.querySelectorAll("title")) title.remove();
  let hovered: Element | null = null;
  const hide = () => {
    hovered?.classList.remove("hovered");
    hovered = null;
    tip.hidden = true;
  };
  const show = (target: Element) => {
    if (target === hovered) return;
    hovered?.classList.remove("hovered");
    hovered = target;
    target.classList.add("hovered");
    replaceChildren(
      tip,
      h("div", { "data-testid": "chart-tip-label" }, target.getAttribute("data-label") ?? ""),
      h("div", {}, `${target.getAttribute("data-series") ?? ""}: `, h("span", { class: "chart-tip-value", "data-testid": "chart-tip-value" }, hoverValue(group, target.getAttribute("data-value") ?? ""))),
    );
    tip.hidden = false;
    const box = target.getBoundingClientRect();
    const frame = figure.getBoundingClientRect();
    const left = Math.min(Math.max(box.left + box.width / 2 - frame.left - tip.offsetWidth / 2, 4), frame.width - tip.offsetWidth - 4);
    tip.style.left = `${left}px`;
    tip.style.top = `${Math.max(box.top - frame.top - tip.offsetHeight - 8, 4)}px`;
  };
  svg.addEventListener("mouseover", (ev) => {
    const target = ev.target instanceof Element && ev.target.parentElement === group ? ev.target : null;
    if (target) show(target);
    else hide();
  });
  svg.addEventListener("mouseleave", hide);
  // From the keyboard: Tab to the chart, then the arrow keys step through its points and bars
  // (series by series, in drawing order) and the tip says each one's value.
  const targets = [...group.children];
  svg.setAttribute("tabindex", "0");
  svg.addEventListener("keydown", (ev) => {
    const step = ev.key === "ArrowRight" || ev.key === "ArrowDown" ? 1 : ev.key === "ArrowLeft" || ev.key === "ArrowUp" ? -1 : 0;
    if (!step || !targets.length) return;
    ev.preventDefault();
    const at = hovered ? targets.indexOf(hovered) : -1;
    show(targets[at < 0 ? (step > 0 ? 0 : targets.length - 1) : (at + step + targets.length) % targets.length]);
  });
  svg.addEventListener("focus", hide);
  svg.addEventListener("blur", hide);
  return figure;
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
  if (status) replaceChildren(status, h("div", { class: "busy", role: "status", "data-testid": "export-progress" }, h("span", { class: "spinner" }), `Writing ${path}…`));
  try {
    const result = await api.exportCsv(view, request, path, extra.models ?? null, extra.creator_id ?? null, extra.source_id ?? null);
    if (status) replaceChildren(status, h("span", { class: "pill ok", "data-testid": "export-done" }, `Exported ${formatCount(result.rows)} rows to ${result.path}`));
  } catch (e) {
    if (status) replaceChildren(status, errorBox(asAppError(e)));
  }
}
