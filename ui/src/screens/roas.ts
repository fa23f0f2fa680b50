// ROAS by creator, campaign, channel, content or platform: attributed revenue against cost
// (ad spend + creator costs), under the chosen model, with charts Rust rendered. The table comes
// first; the charts of the same run are asked for once it is painted, so a model switch shows
// the new numbers without waiting for the charts.

import { api } from "../api";
import type { RoasRow } from "../bindings";
import { dataTable } from "../components/table";
import { provenanceLine } from "../components/provenance";
import { h, replaceChildren } from "../dom";
import { formatConversions, formatMoney, formatRoas } from "../format";
import { viewRequest } from "../state";
import { byTabs, currentBy, exportCsv, laterCharts } from "./common";

export async function renderRoas(content: HTMLElement, openCreator: (id: string) => void): Promise<void> {
  const by = currentBy("roas");
  const request = viewRequest(by);
  const view = await api.roasView(request);
  const status = h("div", { class: "status-line" });
  const money = (f: (r: RoasRow) => RoasRow["revenue"], testid?: string) => ({
    text: (r: RoasRow) => formatMoney(f(r)),
    sort: (r: RoasRow) => f(r).minor,
    numeric: true,
    attrs: (r: RoasRow) => ({ "data-minor": String(f(r).minor), ...(testid ? { "data-col": testid } : {}) }),
  });
  const table = dataTable<RoasRow>({
    testid: "roas-table",
    rows: view.rows,
    totals: view.totals,
    rowKey: (r) => `${r.key}|${r.bucket ?? ""}`,
    filterText: (r) => `${r.label} ${r.key}`,
    onRowClick: by === "creator" ? (r) => openCreator(r.key) : undefined,
    onExport: () => exportCsv("roas", request, {}, status),
    columns: [
      { label: by[0].toUpperCase() + by.slice(1), text: (r) => r.label, attrs: (r) => ({ "data-col": "label", title: r.key }) },
      ...(view.rows.some((r) => r.bucket) ? [{ label: "Period", text: (r: RoasRow) => r.bucket ?? "" }] : []),
      { label: "Attributed revenue", ...money((r) => r.revenue, "revenue") },
      { label: "Ad spend", ...money((r) => r.ad_spend) },
      { label: "Creator costs", ...money((r) => r.creator_cost) },
      { label: "Cost", ...money((r) => r.cost, "cost") },
      { label: "ROAS", text: (r) => (r.roas === null ? "—" : formatRoas(r.roas)), sort: (r) => (r.roas === null ? -1 : Number(r.roas)), numeric: true, attrs: (r) => ({ "data-col": "roas", "data-value": r.roas ?? "" }) },
      { label: "Orders credited", text: (r) => formatConversions(r.orders_credited), sort: (r) => Number(r.orders_credited), numeric: true, attrs: () => ({ "data-col": "orders" }) },
      { label: "Provisional", ...money((r) => r.provisional) },
    ],
  });
  const charts = laterCharts(() => api.roasCharts(request, view.provenance.run_id));
  replaceChildren(content, byTabs("roas"), table, status, charts, provenanceLine(view.provenance));
}
