// The overview screen: what the workspace holds and how fresh each source is (the state badge is
// Rust's data-health state). Both tables export CSV like every other table.

import { api, asAppError, events } from "../api";
import type { ExportTable, Maintenance, MoneyAmount, Overview, UnconvertedMoney } from "../bindings";
import { stateClass, stateLabel } from "../components/provenance";
import { h, replaceChildren } from "../dom";
import { formatAgo, formatCount, formatDate, formatMoney } from "../format";
import { viewRequest } from "../state";
import { exportCsv } from "./common";

function kpi(label: string, testid: string, ...values: (string | HTMLElement)[]): HTMLElement {
  return h("div", { class: "kpi", "data-testid": testid }, h("div", { class: "kpi-label" }, label), ...values.map((v) => h("div", { class: "kpi-value" }, v)));
}

/**
 * A money KPI: one total in the reporting currency in large type (converted in Rust at each
 * day's rate), the per-currency amounts it came from below it in small type, and, when some days
 * had no exchange rate, what was left out of the total and why. `total` is null when there is
 * no money of this kind at all.
 */
function headlineKpi(label: string, testid: string, total: MoneyAmount | null, split: MoneyAmount[], unconverted: UnconvertedMoney[], rowsWord: string): HTMLElement {
  const foreign = split.some((m) => m.currency !== total?.currency);
  return h(
    "div",
    { class: "kpi", "data-testid": testid },
    h("div", { class: "kpi-label" }, label),
    h("div", { class: "kpi-value", "data-testid": `${testid}-total`, "data-currency": total?.currency ?? "", "data-minor": total ? String(total.minor) : "" }, total ? formatMoney(total) : "—"),
    foreign &&
      h(
        "div",
        { class: "kpi-split", title: "The same money in the currencies it was paid in" },
        ...split.flatMap((m, i) => [i > 0 ? " · " : "", h("span", { "data-currency": m.currency, "data-minor": String(m.minor) }, formatMoney(m))]),
      ),
    ...unconverted.map((u) =>
      h(
        "div",
        { class: "kpi-unconverted", "data-testid": `${testid}-unconverted`, "data-currency": u.amount.currency },
        `${formatMoney(u.amount)} not included: no exchange rate on its days (${formatCount(u.rows)} ${rowsWord})`,
      ),
    ),
  );
}

/** Megabytes, for file sizes. */
function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toLocaleString(undefined, { maximumFractionDigits: 1 })} MB`;
}

/**
 * The offer to compact a workspace whose raw events are stored larger than they need be (one
 * written before the compact layout): what it does, then its progress with a Stop button, then
 * what it freed. Compacting runs on a connection of its own in short steps, so every screen
 * stays usable meanwhile.
 */
function compactionNotice(m: Maintenance, rerender: () => void): HTMLElement {
  const status = h("p", { "data-testid": "compact-status" });
  const bar = h("progress", { max: "100", value: "0", hidden: "" });
  const stop = h("button", { class: "secondary", hidden: "", "data-testid": "stop-compaction", onclick: () => void api.stopMaintenance() }, "Stop");
  const start = h(
    "button",
    {
      class: "primary",
      "data-testid": "compact-now",
      onclick: async () => {
        start.hidden = true;
        stop.hidden = false;
        bar.hidden = false;
        status.textContent = "Compacting raw events…";
        const off = await events.onJobProgress((p) => {
          if (p.job !== "compact") return;
          const percent = p.total > 0 ? Math.floor((p.done * 100) / p.total) : 100;
          bar.setAttribute("value", String(percent));
          status.textContent = `Compacting raw events: ${percent}%`;
        });
        let finished = false;
        try {
          const r = await api.compactWorkspace();
          finished = !r.stopped;
          status.textContent = r.stopped
            ? "Stopped. What was compacted stays compacted; compact again to go on."
            : `Compacted ${formatCount(r.rows_converted)} raw events: ${megabytes(r.bytes_before)} → ${megabytes(r.bytes_after)}.`;
        } catch (e) {
          status.textContent = asAppError(e).message;
        } finally {
          off();
        }
        stop.hidden = true;
        bar.hidden = true;
        start.hidden = finished;
        // Done: the offer goes once the result has been read.
        if (finished) window.setTimeout(rerender, 4000);
      },
    },
    "Compact now",
  );
  return h(
    "section",
    { class: "panel notice", "data-testid": "compact-offer" },
    h("h2", {}, "Make this workspace smaller"),
    h(
      "p",
      {},
      `${formatCount(m.raw_events_to_compact)} raw events are stored in a larger layout than they need (the workspace comes from an older version of Lookback). ` +
        "Compacting them keeps every event byte for byte and changes no number. It runs in short steps while you keep working; stopping keeps what is done.",
    ),
    h("div", { class: "notice-actions" }, start, stop, bar),
    status,
  );
}

export async function renderOverview(content: HTMLElement): Promise<void> {
  const [o, maintenance]: [Overview, Maintenance] = await Promise.all([api.overview(), api.maintenance()]);
  const now = Date.now();
  const empty = o.orders === 0 && o.touches === 0;
  const exported = h("div", { class: "status-line" });
  const exportButton = (view: ExportTable, testid: string) =>
    h("div", { class: "table-tools" }, h("button", { class: "secondary", "data-testid": testid, onclick: () => void exportCsv(view, viewRequest("creator"), {}, exported) }, "Export CSV"));
  replaceChildren(
    content,
    h("p", { class: "muted" }, `Reporting in ${o.workspace.reporting_currency} · ${o.workspace.reporting_timezone}`),
    maintenance.offer_compaction && compactionNotice(maintenance, () => void renderOverview(content)),
    empty &&
      h("div", { class: "empty-state", "data-testid": "empty-state" }, h("h2", {}, "This workspace is empty"), h("p", {}, "Import orders and touches from CSV on the Workspace screen (a template for each kind is there), or connect a platform on the Sources screen, and the numbers appear here.")),
    h(
      "div",
      { class: "kpis" },
      kpi("Orders", "kpi-orders", formatCount(o.orders)),
      headlineKpi(
        "Net revenue",
        "kpi-net-revenue",
        o.revenue.length > 0 ? o.headline.net_revenue : null,
        o.revenue.map((r) => r.net),
        o.headline.unconverted_revenue,
        "orders",
      ),
      headlineKpi("Ad spend", "kpi-spend", o.spend.length > 0 ? o.headline.ad_spend : null, o.spend, o.headline.unconverted_spend, "spend rows"),
      kpi("Touches", "kpi-touches", formatCount(o.touches)),
      kpi("Creators", "kpi-creators", formatCount(o.creators)),
      kpi("Date span", "kpi-span", `${formatDate(o.first_activity_at_ms)} – ${formatDate(o.last_activity_at_ms)}`),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Revenue by currency"),
      h(
        "table",
        { class: "data", "data-testid": "revenue-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Currency"), h("th", { class: "num" }, "Gross"), h("th", { class: "num" }, "Refunds"), h("th", { class: "num" }, "Chargebacks"), h("th", { class: "num" }, "Net"))),
        h(
          "tbody",
          {},
          ...o.revenue.map((r) =>
            h(
              "tr",
              { "data-currency": r.currency },
              h("td", {}, r.currency),
              h("td", { class: "num", "data-col": "gross", "data-minor": String(r.gross.minor) }, formatMoney(r.gross)),
              h("td", { class: "num", "data-col": "refunds", "data-minor": String(r.refunds.minor) }, formatMoney(r.refunds)),
              h("td", { class: "num", "data-col": "chargebacks", "data-minor": String(r.chargebacks.minor) }, formatMoney(r.chargebacks)),
              h("td", { class: "num", "data-col": "net", "data-minor": String(r.net.minor) }, formatMoney(r.net)),
            ),
          ),
        ),
      ),
      o.revenue.length > 0 && exportButton("revenue", "revenue-table-export"),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, "Sources"),
      o.sources.length === 0
        ? h("p", { class: "muted" }, "No sources yet. Connect an ad platform, a payment provider or an attribution API, or import CSV.")
        : h(
            "table",
            { class: "data", "data-testid": "sources-table" },
            h("thead", {}, h("tr", {}, h("th", {}, "Source"), h("th", {}, "Kind"), h("th", {}, "Last sync"), h("th", { class: "num" }, "Records"), h("th", {}, "Status"))),
            h(
              "tbody",
              {},
              ...o.sources.map((s) =>
                h(
                  "tr",
                  {},
                  h("td", {}, s.name),
                  h("td", {}, s.kind),
                  h("td", { title: s.last_success_at_ms ? new Date(s.last_success_at_ms).toISOString() : "" }, formatAgo(s.last_success_at_ms, now)),
                  h("td", { class: "num" }, formatCount(s.records)),
                  h("td", {}, h("span", { class: `pill ${stateClass(s.state)}`, title: s.last_error ?? "", "data-testid": `overview-state-${s.source_id}`, "data-state": s.state }, stateLabel(s.state))),
                ),
              ),
            ),
          ),
      o.sources.length > 0 && exportButton("sources", "sources-table-export"),
    ),
    exported,
    o.dead_letters > 0 && h("p", { class: "muted" }, `${formatCount(o.dead_letters)} records are waiting in dead letters with the reason they could not be used.`),
  );
}
