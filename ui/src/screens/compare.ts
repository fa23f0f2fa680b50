// Compare models side by side: one row per creator (or channel…), one column per model, and
// the spread between them — how differently each creator is paid depending on attribution.
// Under it, for each data-driven model compared (Markov, Shapley), the channel weights it
// learned (`lookback report weights`), with their CSV, and on request their intervals.

import { api, asAppError } from "../api";
import type { CompareRow, ModelCatalog, ModelName, WeightRowView, WeightsView } from "../bindings";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { formatCount, formatMoney } from "../format";
import { settings, updateSettings, viewRequest } from "../state";
import { byTabs, chartPanels, currentBy, errorBox, exportCsv } from "./common";
import { weightIntervalsSlot } from "./intervals";

/** What a weights view's value is called, as the CSV's column is. */
function valueLabel(valueName: string): string {
  return valueName === "removal_effect" ? "Removal effect" : valueName === "shapley_value" ? "Shapley value" : valueName;
}

/** Writes the learned weights' CSV (the same file as `lookback report weights --format csv`). */
async function exportWeights(model: ModelName, status: HTMLElement): Promise<void> {
  const path = await api.chooseExportPath(`${model}-weights.csv`);
  if (!path) return;
  try {
    const result = await api.exportWeightsCsv(model, path);
    replaceChildren(status, h("span", { class: "pill ok", "data-testid": "export-done" }, `Exported ${formatCount(result.rows)} rows to ${result.path}`));
  } catch (e) {
    replaceChildren(status, errorBox(asAppError(e)));
  }
}

/** The channel weights one data-driven model learned, largest first. */
function weightsPanel(view: WeightsView, label: string): HTMLElement {
  const status = h("div", { class: "status-line" });
  const table = dataTable<WeightRowView>({
    testid: `weights-${view.model}`,
    rows: view.rows,
    rowKey: (r) => r.channel,
    filterText: (r) => r.channel,
    onExport: () => void exportWeights(view.model, status),
    emptyText: "No converting journeys to learn from yet.",
    columns: [
      { label: "Channel", text: (r) => r.channel, attrs: () => ({ "data-col": "channel" }) },
      { label: valueLabel(view.value_name), text: (r) => r.value.toFixed(4), sort: (r) => r.value, numeric: true, attrs: (r) => ({ "data-col": "value", "data-value": String(r.value) }) },
      { label: "Weight", text: (r) => `${(r.weight * 100).toFixed(1)}%`, sort: (r) => r.weight, numeric: true, attrs: (r) => ({ "data-col": "weight", "data-value": String(r.weight) }) },
      { label: "Converting paths", text: (r) => formatCount(r.conversions), sort: (r) => r.conversions, numeric: true, attrs: (r) => ({ "data-col": "conversions", "data-value": String(r.conversions) }) },
      { label: "Paths", text: (r) => formatCount(r.paths), sort: (r) => r.paths, numeric: true, attrs: (r) => ({ "data-col": "paths", "data-value": String(r.paths) }) },
    ],
  });
  return h(
    "section",
    { class: "panel", "data-testid": `weights-panel-${view.model}` },
    h("h2", {}, `What ${label} learned: channel weights`),
    h("p", { class: "muted" }, `Run #${view.run_id}, on the workspace's parameters. Each converting journey's credit is split between its channels by these weights.`),
    table,
    status,
    weightIntervalsSlot(view.model),
  );
}

export async function renderCompare(content: HTMLElement, catalog: ModelCatalog): Promise<void> {
  const by = currentBy("compare");
  const chosen = settings().compare.filter((m) => catalog.models.some((c) => c.name === m));
  const picker = h(
    "fieldset",
    { class: "model-picker" },
    h("legend", {}, "Models to compare"),
    ...catalog.models.map((m) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          checked: chosen.includes(m.name),
          "data-testid": `compare-${m.name}`,
          onchange: (e: Event) => {
            const on = (e.target as HTMLInputElement).checked;
            const next = on ? [...chosen, m.name] : chosen.filter((x) => x !== m.name);
            updateSettings({ compare: catalog.models.map((c) => c.name).filter((n) => next.includes(n)) });
          },
        }),
        m.label,
      ),
    ),
  );
  if (chosen.length < 2) {
    replaceChildren(content, byTabs("compare"), picker, h("p", { class: "empty-state" }, "Choose at least two models to compare."));
    return;
  }
  const request = viewRequest(by);
  const view = await api.compareView(request, chosen);
  const learning = catalog.models.filter((m) => m.data_driven && chosen.includes(m.name));
  // A model's weights that cannot be read say why in their own panel; the comparison stays.
  const weights = await Promise.all(learning.map((m) => api.weightsView(m.name).catch((e: unknown) => asAppError(e))));
  const status = h("div", { class: "status-line" });
  const table = dataTable<CompareRow>({
    testid: "compare-table",
    rows: view.rows,
    rowKey: (r) => r.key,
    filterText: (r) => `${r.label} ${r.key}`,
    onExport: () => exportCsv("compare", request, { models: chosen }, status),
    columns: [
      { label: by[0].toUpperCase() + by.slice(1), text: (r) => r.label },
      ...view.models.map((m, i) => ({
        label: m.model,
        text: (r: CompareRow) => formatMoney(r.revenue[i]),
        sort: (r: CompareRow) => r.revenue[i].minor,
        numeric: true,
        attrs: (r: CompareRow) => ({ "data-model": m.model, "data-minor": String(r.revenue[i].minor) }),
      })),
      { label: "Spread", text: (r) => formatMoney(r.spread), sort: (r) => r.spread.minor, numeric: true, cellClass: (r) => (Number(r.spread_percent ?? 0) >= 25 ? "hot" : undefined) },
      { label: "Spread %", text: (r) => (r.spread_percent === null ? "—" : `${r.spread_percent}%`), sort: (r) => Number(r.spread_percent ?? -1), numeric: true, cellClass: (r) => (Number(r.spread_percent ?? 0) >= 25 ? "hot" : undefined) },
    ],
  });
  // Every compared run reads the same touches (the touch switch's, or the workspace's).
  const touches = view.models[0]
    ? h("p", { class: "muted", "data-testid": "compare-touches", "data-touches": view.models[0].touches }, `Runs ${view.models.map((m) => `#${m.run_id}`).join(", ")} · ${view.models[0].touches_in_words}`)
    : null;
  replaceChildren(content, byTabs("compare", [["creator", "Creator"], ["channel", "Channel"], ["campaign", "Campaign"], ["platform", "Platform"]]), picker, table, touches, status, chartPanels(view.charts), ...weights.map((w, i) => ("rows" in w ? weightsPanel(w, learning[i].label) : h("section", { class: "panel" }, h("h2", {}, `What ${learning[i].label} learned`), errorBox(w)))));
}
