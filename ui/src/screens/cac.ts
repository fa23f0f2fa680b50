// CAC by the same keys: cost per attributed new customer, and payback within 30/60/90 days so
// channels whose customers pay slowly are not undersold.

import { api } from "../api";
import type { CacRow } from "../bindings";
import { dataTable } from "../components/table";
import { provenanceLine } from "../components/provenance";
import { h, replaceChildren } from "../dom";
import { formatConversions, formatMoney, formatRoas } from "../format";
import { viewRequest } from "../state";
import { byTabs, currentBy, exportCsv } from "./common";

export async function renderCac(content: HTMLElement): Promise<void> {
  const by = currentBy("cac");
  const request = viewRequest(by);
  const view = await api.cacView(request);
  const status = h("div", { class: "status-line" });
  // A payback covers the new customers whose window has closed; while some are still inside it,
  // the cell says how many it covers ("1.40× · 212 of 378").
  const payback = (i: number, days: number, f: (r: CacRow) => string | null) => ({
    text: (r: CacRow) => {
      const ratio = f(r);
      const multiple = ratio === null ? "—" : formatRoas(ratio);
      const closed = r.payback_customers[i];
      return closed === undefined || closed === r.new_customers ? multiple : `${multiple} · ${formatConversions(closed)} of ${formatConversions(r.new_customers)}`;
    },
    sort: (r: CacRow) => Number(f(r) ?? -1),
    numeric: true,
    cellClass: () => "nowrap",
    attrs: (r: CacRow) => ({
      "data-col": `payback-${days}`,
      title: `Over the ${formatConversions(r.payback_customers[i] ?? "0")} of ${formatConversions(r.new_customers)} new customers whose ${days}-day window has closed`,
    }),
  });
  const table = dataTable<CacRow>({
    testid: "cac-table",
    rows: view.rows,
    totals: view.totals,
    rowKey: (r) => r.key,
    filterText: (r) => `${r.label} ${r.key}`,
    onExport: () => exportCsv("cac", request, {}, status),
    columns: [
      { label: by[0].toUpperCase() + by.slice(1), text: (r) => r.label },
      { label: "Cost", text: (r) => formatMoney(r.cost), sort: (r) => r.cost.minor, numeric: true, attrs: (r) => ({ "data-minor": String(r.cost.minor) }) },
      { label: "New customers", text: (r) => formatConversions(r.new_customers), sort: (r) => Number(r.new_customers), numeric: true },
      { label: "CAC", text: (r) => (r.cac ? formatMoney(r.cac) : "—"), sort: (r) => r.cac?.minor ?? -1, numeric: true, attrs: (r) => ({ "data-col": "cac", "data-minor": String(r.cac?.minor ?? "") }) },
      { label: "Payback 30 d", ...payback(0, 30, (r) => r.payback_30) },
      { label: "Payback 60 d", ...payback(1, 60, (r) => r.payback_60) },
      { label: "Payback 90 d", ...payback(2, 90, (r) => r.payback_90) },
    ],
  });
  replaceChildren(content, byTabs("cac"), table, status, provenanceLine(view.provenance));
}
