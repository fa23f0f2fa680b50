// Reconciliation: order revenue per source and day against what attribution knows, what it
// credited and what it left unattributed — and the gap explained by cause, with the orders
// behind each cause. A run whose credits do not sum to its revenue is shown as an error.
// Below: the workspace's complete runs, with a conservation check of any one and what moved per
// creator between two (`lookback trust conservation --run N`, `trust what-moved`), and the
// duplicates per source (`trust duplicates`).

import { api } from "../api";
import type { ConservationViolationRow, CreatorMoveRow, DuplicateRow, GapCause, ReconcileRow, RunRow } from "../bindings";
import { dataTable } from "../components/table";
import { trafficSection } from "../components/traffic";
import { h, replaceChildren } from "../dom";
import { formatCount, formatDate, formatMoney } from "../format";
import { viewRequest } from "../state";
import { errorBox, exportCsv } from "./common";
import { asAppError } from "../api";

export async function renderReconcile(content: HTMLElement): Promise<void> {
  const request = viewRequest("creator");
  const [view, runs, duplicates, traffic] = await Promise.all([api.reconcile(request), api.completeRuns(), api.duplicates(), api.trafficView()]);
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
    runsSection(runs),
    h("h2", { class: "section" }, "Duplicates per source"),
    h("p", { class: "muted" }, "Raw events stored, the distinct records they are, and the restated versions beyond each record's first (exact re-deliveries are never stored)."),
    dataTable<DuplicateRow>({
      testid: "duplicates-table",
      rows: duplicates,
      rowKey: (d) => d.source,
      emptyText: "No sources yet.",
      columns: [
        { label: "Source", text: (d) => d.source },
        { label: "Raw events", text: (d) => formatCount(d.raw_events), sort: (d) => d.raw_events, numeric: true, attrs: (d) => ({ "data-count": String(d.raw_events) }) },
        { label: "Distinct records", text: (d) => formatCount(d.distinct_records), sort: (d) => d.distinct_records, numeric: true, attrs: (d) => ({ "data-count": String(d.distinct_records) }) },
        { label: "Restated versions", text: (d) => formatCount(d.restated_versions), sort: (d) => d.restated_versions, numeric: true, attrs: (d) => ({ "data-count": String(d.restated_versions) }) },
      ],
    }),
    trafficSection(traffic, "reconcile-traffic"),
  );
}

/** A run as a choice: its id, model, parameters and when it finished. */
function runLabel(r: RunRow): string {
  return `#${r.run_id} · ${r.in_words} · ${r.reporting_currency} · finished ${formatDate(r.finished_at_ms)}`;
}

function runSelect(runs: RunRow[], testid: string, selected: number | undefined): HTMLSelectElement {
  return h("select", { "data-testid": testid }, ...runs.map((r) => h("option", { value: String(r.run_id), selected: r.run_id === selected }, runLabel(r)))) as HTMLSelectElement;
}

/** The complete runs: check one's conservation, or see what moved per creator between two. */
function runsSection(runs: RunRow[]): HTMLElement {
  if (runs.length === 0) {
    return h("section", {}, h("h2", { class: "section" }, "Runs"), h("p", { class: "muted" }, "No complete run yet: open ROAS to compute one."));
  }
  const checkRun = runSelect(runs, "conservation-run", runs[0].run_id);
  const checked = h("div", { "data-testid": "conservation-result" });
  const check = async () => {
    replaceChildren(checked, h("span", { class: "muted" }, "Checking…"));
    try {
      const c = await api.conservation(Number(checkRun.value));
      replaceChildren(
        checked,
        c.holds
          ? h("div", { class: "banner ok", "data-testid": "run-conserves" }, `ok: run #${c.run_id} conserves credit (Σ credits = Σ net revenue of attributed orders, exactly).`)
          : h(
              "div",
              {},
              h("div", { class: "banner error", role: "alert" }, `Run #${c.run_id} violates credit conservation on ${formatCount(c.violations.length)} orders.`),
              dataTable<ConservationViolationRow>({
                testid: "conservation-violations",
                rows: c.violations,
                rowKey: (v) => v.order_id,
                filterText: (v) => v.order_id,
                columns: [
                  { label: "Order", text: (v) => v.order_id },
                  { label: "Net", text: (v) => formatMoney(v.net), sort: (v) => v.net.minor, numeric: true },
                  { label: "Credited", text: (v) => formatMoney(v.credited), sort: (v) => v.credited.minor, numeric: true },
                  { label: "Credit rows", text: (v) => formatCount(v.credit_rows), sort: (v) => v.credit_rows, numeric: true },
                ],
              }),
            ),
      );
    } catch (e) {
      replaceChildren(checked, errorBox(asAppError(e)));
    }
  };
  const before = runSelect(runs, "moved-before", runs[1]?.run_id ?? runs[0].run_id);
  const after = runSelect(runs, "moved-after", runs[0].run_id);
  const moved = h("div", { "data-testid": "moved-result" });
  const compare = async () => {
    replaceChildren(moved, h("span", { class: "muted" }, "Comparing…"));
    try {
      const b = Number(before.value);
      const a = Number(after.value);
      const rows = await api.whatMoved(b, a);
      replaceChildren(
        moved,
        dataTable<CreatorMoveRow>({
          testid: "moved-table",
          rows,
          rowKey: (m) => m.creator_id ?? "",
          filterText: (m) => m.creator_id ?? "(no creator)",
          emptyText: `Nothing moved between run #${b} and run #${a}.`,
          columns: [
            { label: "Creator", text: (m) => m.creator_id ?? "(no creator)" },
            { label: "Before", text: (m) => formatMoney(m.before), sort: (m) => m.before.minor, numeric: true, attrs: (m) => ({ "data-minor": String(m.before.minor) }) },
            { label: "After", text: (m) => formatMoney(m.after), sort: (m) => m.after.minor, numeric: true, attrs: (m) => ({ "data-minor": String(m.after.minor) }) },
            { label: "Delta", text: (m) => formatMoney(m.delta), sort: (m) => m.delta.minor, numeric: true, attrs: (m) => ({ "data-minor": String(m.delta.minor) }) },
          ],
        }),
      );
    } catch (e) {
      replaceChildren(moved, errorBox(asAppError(e)));
    }
  };
  return h(
    "section",
    { "data-testid": "runs-section" },
    h("h2", { class: "section" }, "Runs"),
    h("p", { class: "muted" }, `${formatCount(runs.length)} complete runs, newest first.`),
    h("h3", {}, "Check conservation"),
    h("div", { class: "source-actions" }, checkRun, h("button", { class: "secondary", "data-testid": "check-conservation", onclick: check }, "Check conservation")),
    checked,
    h("h3", {}, "What moved per creator"),
    h("div", { class: "source-actions" }, h("label", {}, "Before ", before), h("label", {}, "After ", after), h("button", { class: "secondary", "data-testid": "what-moved", onclick: compare }, "What moved")),
    moved,
  );
}
