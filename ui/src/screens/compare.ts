// Compare models side by side: one row per creator (or channel…), one column per model, and
// the spread between them — how differently each creator is paid depending on attribution.

import { api } from "../api";
import type { CompareRow, ModelCatalog } from "../bindings";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { formatMoney } from "../format";
import { settings, updateSettings, viewRequest } from "../state";
import { byTabs, chartPanels, currentBy, exportCsv } from "./common";

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
  replaceChildren(content, byTabs("compare", [["creator", "Creator"], ["channel", "Channel"], ["campaign", "Campaign"], ["platform", "Platform"]]), picker, table, status, chartPanels(view.charts));
}
