// One creator's revenue: their content and links, the orders they were credited for, gross vs
// net of refunds, settled vs provisional, and revenue by day; and the Statement button, which
// writes the creator's statement for the screen's days as a PDF and a CSV.

import { api, asAppError } from "../api";
import type { CreatorContentRow, CreatorOrderRow, ViewRequest } from "../bindings";
import { dataTable } from "../components/table";
import { provenanceLine } from "../components/provenance";
import { h, replaceChildren } from "../dom";
import { formatConversions, formatDate, formatMoney } from "../format";
import { settings, updateSettings, viewRequest } from "../state";
import { errorBox, exportCsv } from "./common";
import { creatorIntervalSlot } from "./intervals";

/** The statement's file name: `statement-<creator>[-<from>][-<to>].pdf`, safe on every system. */
function statementName(creatorId: string, request: ViewRequest): string {
  const safe = creatorId.replace(/[^A-Za-z0-9_-]/g, "_");
  return ["statement", safe, request.from, request.to].filter((p) => !!p).join("-") + ".pdf";
}

/** Asks where to save the statement, writes it (PDF and CSV beside it) and says where. */
async function writeStatement(creatorId: string, request: ViewRequest, status: HTMLElement): Promise<void> {
  const path = await api.chooseStatementPath(statementName(creatorId, request));
  if (!path) return;
  replaceChildren(status, h("div", { class: "busy", role: "status" }, h("span", { class: "spinner" }), `Writing ${path}…`));
  try {
    const w = await api.writeStatement(request, creatorId, path);
    replaceChildren(
      status,
      h("span", { class: "pill ok", "data-testid": "statement-done", "data-net": w.net.amount }, `Statement ${w.from} to ${w.to} (model ${w.model}, run #${w.run_id}): net ${formatMoney(w.net)}. Wrote ${w.pdf_path} and ${w.csv_path}`),
    );
  } catch (e) {
    replaceChildren(status, errorBox(asAppError(e)));
  }
}

export async function renderCreator(content: HTMLElement): Promise<void> {
  const creators = await api.creators();
  if (creators.length === 0) {
    replaceChildren(content, h("div", { class: "empty-state" }, h("h2", {}, "No creators yet"), h("p", {}, "Import touches with a creator_id, or connect Dub or Rewardful, to see creator revenue.")));
    return;
  }
  const selected = settings().by["creator-id"] ?? creators[0].creator_id;
  const picker = h(
    "label",
    { class: "field" },
    "Creator",
    h(
      "select",
      { "data-testid": "creator-select", onchange: (e: Event) => updateSettings({ by: { ...settings().by, "creator-id": (e.target as HTMLSelectElement).value } }) },
      ...creators.map((c) => h("option", { value: c.creator_id, selected: c.creator_id === selected }, c.display_name)),
    ),
  );
  const request = viewRequest("creator");
  const view = await api.creatorRevenue(request, selected);
  const status = h("div", { class: "status-line" });
  const statementStatus = h("div", { class: "status-line", "data-testid": "statement-status" });
  const statementButton = h(
    "button",
    {
      class: "secondary",
      "data-testid": "creator-statement",
      title: "The creator's statement for the days above, under the workspace's model: a printable PDF and a CSV",
      onclick: () => writeStatement(selected, request, statementStatus),
    },
    "Statement…",
  );
  const kpi = (label: string, testid: string, m: { currency: string; amount: string; minor: number }) =>
    h("div", { class: "kpi", "data-testid": testid }, h("div", { class: "kpi-label" }, label), h("div", { class: "kpi-value", "data-minor": String(m.minor) }, formatMoney(m)));
  replaceChildren(
    content,
    h("div", { class: "creator-actions" }, picker, statementButton),
    statementStatus,
    h("div", { class: "kpis" }, kpi("Gross credited", "creator-gross", view.gross), kpi("Refunds", "creator-refunds", view.refunds), kpi("Net", "creator-net", view.net), kpi("Settled", "creator-settled", view.settled), kpi("Provisional", "creator-provisional", view.provisional)),
    creatorIntervalSlot(view.provenance.model, request, selected, () => void renderCreator(content)),
    h("section", { class: "panel" }, h("h2", {}, "Content and links"),
      dataTable<CreatorContentRow>({
        testid: "creator-content-table",
        rows: view.content,
        rowKey: (r) => r.content_id,
        filterText: (r) => `${r.title} ${r.kind}`,
        onExport: () => exportCsv("creator-content", request, { creator_id: selected }, status),
        columns: [
          { label: "Content", text: (r) => r.title },
          { label: "Kind", text: (r) => r.kind },
          { label: "Revenue", text: (r) => formatMoney(r.revenue), sort: (r) => r.revenue.minor, numeric: true },
          { label: "Orders credited", text: (r) => formatConversions(r.orders_credited), sort: (r) => Number(r.orders_credited), numeric: true },
        ],
      })),
    h("section", { class: "panel" }, h("h2", {}, "Orders"),
      dataTable<CreatorOrderRow>({
        testid: "creator-orders-table",
        rows: view.orders,
        rowKey: (r) => r.order_id,
        filterText: (r) => r.order_id,
        onExport: () => exportCsv("creator", request, { creator_id: selected }, status),
        columns: [
          { label: "Order", text: (r) => r.order_id },
          { label: "Date", text: (r) => formatDate(r.occurred_at_ms), sort: (r) => r.occurred_at_ms },
          { label: "Share", text: (r) => `${r.share_percent}%`, sort: (r) => Number(r.share_percent), numeric: true },
          { label: "Credited", text: (r) => formatMoney(r.credited), sort: (r) => r.credited.minor, numeric: true },
          { label: "Status", text: (r) => (r.provisional ? "provisional" : "settled") },
        ],
      })),
    status,
    provenanceLine(view.provenance),
  );
}
