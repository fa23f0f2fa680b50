// ROAS by creator, campaign, channel, content or platform: attributed revenue against cost
// (ad spend + creator costs), under the chosen model, with charts Rust rendered. The table comes
// first; the charts of the same run are asked for once it is painted, so a model switch shows
// the new numbers without waiting for the charts. Under them, "Orders credited" shows each
// order's credit in the same run (`lookback report credits --by order`), with its CSV. Under a
// data-driven model, "Show intervals" adds each row's revenue interval (screens/intervals.ts).

import { api, asAppError } from "../api";
import type { OrderCreditRow, RoasRow, ViewRequest } from "../bindings";
import { dataTable } from "../components/table";
import { provenanceLine } from "../components/provenance";
import { h, replaceChildren } from "../dom";
import { formatConversions, formatCount, formatMoney, formatRoas } from "../format";
import { viewRequest } from "../state";
import { byTabs, currentBy, errorBox, exportCsv, laterCharts, loading } from "./common";
import { intervalsCaption, intervalsToggle, revenueIntervalColumn, roasIntervalsFor, roasIntervalsUnavailable } from "./intervals";

/** Writes the orders credited as CSV (the same file as `lookback report credits --by order --format csv`). */
async function exportOrderCredits(request: ViewRequest, status: HTMLElement): Promise<void> {
  const path = await api.chooseExportPath("orders-credited.csv");
  if (!path) return;
  try {
    const result = await api.exportOrderCreditsCsv(request, path);
    replaceChildren(status, h("span", { class: "pill ok", "data-testid": "export-done" }, `Exported ${formatCount(result.rows)} rows to ${result.path}`));
  } catch (e) {
    replaceChildren(status, errorBox(asAppError(e)));
  }
}

/**
 * Whether the user asked for the orders credited. Kept across renders of the screen, so a live
 * update (new events from the receiver) or any other render does not fold the table away under
 * the user, or swallow a click that landed just before it.
 */
let orderCreditsAsked = false;

/** Each order's credit in the selection's run, read when asked for. */
function orderCreditsPanel(request: ViewRequest): HTMLElement {
  const body = h("div", {});
  const dated = request.basis === "accrual" ? "credits to touches" : "orders";
  const days = request.from || request.to ? `${dated} of ${request.from ?? "the first day"} – ${request.to ?? "the last day"}` : "every order";
  const show = h("button", { class: "secondary", "data-testid": "order-credits-open" }, "Show the orders credited") as HTMLButtonElement;
  const panel = h(
    "section",
    { class: "panel", "data-testid": "order-credits", "data-from": request.from ?? "", "data-to": request.to ?? "", "data-settled-only": String(request.settled_only) },
    h("h2", {}, "Orders credited"),
    body,
  );
  const open = async () => {
    orderCreditsAsked = true;
    replaceChildren(body, loading());
    try {
      const view = await api.orderCredits(request);
      const status = h("div", { class: "status-line" });
      replaceChildren(
        body,
        h("p", { class: "muted" }, `Run #${view.run_id} (${view.model}), ${days}${request.settled_only ? ", settled only" : ""}: ${formatCount(view.rows.length)} orders, ${formatMoney(view.total)} credited.`),
        dataTable<OrderCreditRow>({
          testid: "order-credits-table",
          rows: view.rows,
          rowKey: (r) => r.order_id,
          filterText: (r) => r.order_id,
          onExport: () => void exportOrderCredits(request, status),
          emptyText: "No order credited in this selection.",
          columns: [
            { label: "Order", text: (r) => r.order_id, attrs: () => ({ "data-col": "order" }) },
            { label: "Conversions", text: (r) => formatConversions(r.conversions), sort: (r) => Number(r.conversions), numeric: true, attrs: (r) => ({ "data-col": "conversions", "data-value": r.conversions }) },
            { label: "Credited revenue", text: (r) => formatMoney(r.revenue), sort: (r) => r.revenue.minor, numeric: true, attrs: (r) => ({ "data-col": "revenue", "data-value": r.revenue.amount }) },
          ],
        }),
        status,
      );
    } catch (e) {
      orderCreditsAsked = false;
      replaceChildren(body, errorBox(asAppError(e)), show);
    }
  };
  show.onclick = () => void open();
  if (orderCreditsAsked) void open();
  else replaceChildren(body, show);
  return panel;
}

export async function renderRoas(content: HTMLElement, openCreator: (id: string) => void): Promise<void> {
  const by = currentBy("roas");
  const request = viewRequest(by);
  const view = await api.roasView(request);
  const intervals = await roasIntervalsFor(view.provenance.model, request);
  const toggle = intervalsToggle("roas-intervals-toggle", () => void renderRoas(content, openCreator), roasIntervalsUnavailable(view.provenance.model, request));
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
      ...(intervals ? [revenueIntervalColumn(intervals)] : []),
    ],
  });
  const charts = laterCharts(() => api.roasCharts(request, view.provenance.run_id));
  // The orders panel goes above the charts: they are drawn after the rest of the screen, and a
  // button below them would move under the pointer when they appear.
  replaceChildren(content, byTabs("roas"), toggle, intervals ? intervalsCaption(intervals.settings) : null, table, status, orderCreditsPanel(request), charts, provenanceLine(view.provenance));
}
