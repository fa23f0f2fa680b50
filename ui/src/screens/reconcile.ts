// Reconciliation: order revenue per source and day against what attribution knows, what it
// credited and what it left unattributed — and the gap explained by cause, with the orders
// behind each cause. A run whose credits do not sum to its revenue is shown as an error.

import { api } from "../api";
import type { GapCause, ReconcileRow } from "../bindings";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { formatCount, formatMoney } from "../format";
import { viewRequest } from "../state";
import { exportCsv } from "./common";

export async function renderReconcile(content: HTMLElement): Promise<void> {
  const request = viewRequest("creator");
  const view = await api.reconcile(request);
  const status = h("div", { class: "status-line" });
  const conservation =
    view.conservation_violations === null
      ? h("div", { class: "banner warn" }, "No attribution run yet: open ROAS to compute one.")
      : view.conservation_violations > 0
        ? h("div", { class: "banner error", role: "alert", "data-testid": "conservation-error" }, `Run #${view.run_id} does not conserve revenue: ${view.conservation_violations} orders' credits do not sum to their net revenue. These numbers cannot be used for payouts.`)
        : h("div", { class: "banner ok", "data-testid": "conservation-ok" }, `Run #${view.run_id} (${view.model}) conserves revenue exactly: every attributed order's credits sum to its net revenue.`);
  const stale = !view.run_is_current && view.run_id !== null ? h("div", { class: "banner warn" }, "Data arrived after this run; the views recompute on next open, and newer orders are listed below as not in the run.") : null;
  const gapCard = (g: GapCause) =>
    h(
      "article",
      { class: "panel gap", "data-cause": g.cause },
      h("header", {}, h("strong", {}, g.label), h("span", { class: "muted" }, ` ${formatCount(g.orders)} orders · ${g.amounts.map((m) => formatMoney(m)).join(" + ") || "—"}`)),
      g.top.length > 0 &&
        h("ul", { class: "gap-orders" }, ...g.top.map((t) => h("li", {}, h("code", {}, t.order_id), ` ${t.source} · ${t.day} · ${formatMoney(t.amount)}`))),
    );
  replaceChildren(
    content,
    h("p", { class: "muted" }, `${view.from_day} – ${view.to_day} · model ${view.model}${view.run_id !== null ? ` · run #${view.run_id}` : ""}`),
    conservation,
    stale,
    h("h2", { class: "section" }, "Why revenue is not attributed"),
    view.gaps.length ? h("div", { class: "gaps" }, ...view.gaps.map(gapCard)) : h("p", { class: "muted" }, "No gaps: every order in the window is attributed."),
    h("h2", { class: "section" }, "Per source and day"),
    dataTable<ReconcileRow>({
      testid: "reconcile-table",
      rows: view.rows,
      rowKey: (r) => `${r.source}|${r.day}|${r.gross.currency}`,
      filterText: (r) => `${r.source} ${r.day}`,
      onExport: () => exportCsv("reconcile", request, {}, status),
      columns: [
        { label: "Source", text: (r) => r.source },
        { label: "Day", text: (r) => r.day },
        { label: "Orders", text: (r) => formatCount(r.orders), sort: (r) => r.orders, numeric: true },
        { label: "Gross", text: (r) => formatMoney(r.gross), sort: (r) => r.gross.minor, numeric: true },
        { label: "Net", text: (r) => formatMoney(r.net), sort: (r) => r.net.minor, numeric: true },
        { label: "Known to attribution", text: (r) => formatMoney(r.known_to_attribution), sort: (r) => r.known_to_attribution.minor, numeric: true },
        { label: "Attributed", text: (r) => formatMoney(r.attributed), sort: (r) => r.attributed.minor, numeric: true },
        { label: "Unattributed", text: (r) => formatMoney(r.unattributed), sort: (r) => r.unattributed.minor, numeric: true },
      ],
    }),
    status,
  );
}
