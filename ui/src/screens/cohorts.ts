// New-customer cohorts: customers grouped by the month (or week) of their first order and by who
// acquired them under the chosen model, with what they brought in at 30/60/90/180 days and to
// date, against cost: CAC and payback. A horizon's figures cover only the customers whose
// horizon has closed, and say how many of the row's customers that is ("1,240.00 · 3 of 5").
// The chart draws each cohort's cumulative revenue per customer at the horizons all of its
// customers have reached; everything is Rust's
// (`lookback view cohorts`, `lookback export cohorts`).

import { api } from "../api";
import type { Bucket, CohortRow, ViewBy } from "../bindings";
import { dataTable, type Column } from "../components/table";
import { provenanceLine } from "../components/provenance";
import { h, replaceChildren } from "../dom";
import { formatConversions, formatMoney, formatRoas } from "../format";
import { settings, updateSettings, viewRequest } from "../state";
import { VIEW_KEYS, byTabs, chartPanels, currentBy, exportCsv } from "./common";

/** Cohorts are by who acquired the customer: a touch's creator, campaign, channel or platform. */
const COHORT_KEYS: [ViewBy, string][] = VIEW_KEYS.filter(([key]) => key !== "content");
const BUCKETS: [Bucket, string][] = [
  ["month", "By month"],
  ["week", "By week"],
];
/** Where the screen remembers its bucket (beside the keys each screen groups by). */
const BUCKET_SETTING = "cohorts-bucket";

function currentBucket(): Bucket {
  const remembered = settings().by[BUCKET_SETTING];
  return BUCKETS.find(([b]) => b === remembered)?.[0] ?? "month";
}

function bucketTabs(): HTMLElement {
  const bucket = currentBucket();
  return h(
    "div",
    { class: "tabs", role: "tablist", "aria-label": "Cohorts by" },
    ...BUCKETS.map(([b, label]) =>
      h("button", { role: "tab", "aria-selected": b === bucket ? "true" : "false", class: b === bucket ? "tab active" : "tab", "data-testid": `cohort-bucket-${b}`, onclick: () => updateSettings({ by: { ...settings().by, [BUCKET_SETTING]: b } }) }, label),
    ),
  );
}

const isZero = (exact: string) => Number(exact) === 0;

/** The columns of a cohort table; `keyLabel` names the key column, absent for the cohort sums. */
function columns(keyLabel: string | null): Column<CohortRow>[] {
  const money = (col: string, f: (r: CohortRow) => CohortRow["cost"]): Partial<Column<CohortRow>> => ({
    text: (r) => formatMoney(f(r)),
    sort: (r) => f(r).minor,
    numeric: true,
    attrs: (r) => ({ "data-col": col, "data-minor": String(f(r).minor) }),
  });
  const horizons = [0, 1, 2, 3];
  const days = [30, 60, 90, 180];
  const horizon = (i: number): Column<CohortRow> => ({
    label: `${days[i]} d`,
    text: (r) => {
      const c = r.horizons[i];
      if (isZero(c.customers_closed) && !isZero(r.customers)) return "—";
      const shown = formatMoney(c.revenue);
      return c.customers_closed === r.customers ? shown : `${shown} · ${formatConversions(c.customers_closed)} of ${formatConversions(r.customers)}`;
    },
    sort: (r) => r.horizons[i].revenue.minor,
    numeric: true,
    attrs: (r) => ({
      "data-col": `revenue-${days[i]}`,
      "data-minor": String(r.horizons[i].revenue.minor),
      "data-closed": r.horizons[i].customers_closed,
      title: r.horizons[i].revenue_per_customer ? `${formatMoney(r.horizons[i].revenue_per_customer!)} per customer over the ${formatConversions(r.horizons[i].customers_closed)} whose ${days[i]} days have passed` : `No customer of this row has reached ${days[i]} days yet`,
    }),
  });
  const payback = (i: number): Column<CohortRow> => ({
    label: `Payback ${days[i]} d`,
    text: (r) => (r.horizons[i].payback === null ? "—" : formatRoas(r.horizons[i].payback!)),
    sort: (r) => Number(r.horizons[i].payback ?? -1),
    numeric: true,
    attrs: (r) => ({ "data-col": `payback-${days[i]}`, "data-value": r.horizons[i].payback ?? "" }),
  });
  return [
    { label: "Cohort", text: (r) => r.cohort, cellClass: () => "nowrap", attrs: () => ({ "data-col": "cohort" }) },
    ...(keyLabel ? [{ label: keyLabel, text: (r: CohortRow) => r.label, attrs: () => ({ "data-col": "key" }) }] : []),
    { label: "Customers", text: (r) => formatConversions(r.customers), sort: (r) => Number(r.customers), numeric: true, attrs: (r) => ({ "data-col": "customers", "data-value": r.customers }) },
    { label: "First order", ...money("first-order", (r) => r.first_order_revenue) } as Column<CohortRow>,
    { label: "To date", ...money("to-date", (r) => r.revenue_to_date) } as Column<CohortRow>,
    ...horizons.map(horizon),
    { label: "Cost", ...money("cost", (r) => r.cost) } as Column<CohortRow>,
    { label: "CAC", text: (r) => (r.cac ? formatMoney(r.cac) : "—"), sort: (r) => r.cac?.minor ?? -1, numeric: true, attrs: (r) => ({ "data-col": "cac", "data-minor": String(r.cac?.minor ?? "") }) },
    ...horizons.map(payback),
  ];
}

export async function renderCohorts(content: HTMLElement): Promise<void> {
  const by = currentBy("cohorts");
  const request = { ...viewRequest(by), bucket: currentBucket() };
  const view = await api.cohortView(request);
  const status = h("div", { class: "status-line" });
  const keyLabel = COHORT_KEYS.find(([k]) => k === by)?.[1] ?? by;
  const triangle = dataTable<CohortRow>({
    testid: "cohort-triangle",
    rows: view.cohorts,
    totals: view.totals,
    rowKey: (r) => r.cohort,
    columns: columns(null),
    emptyText: "No new customer in these days.",
  });
  const table = dataTable<CohortRow>({
    testid: "cohorts-table",
    rows: view.rows,
    totals: view.totals,
    rowKey: (r) => `${r.cohort}|${r.key}`,
    filterText: (r) => `${r.cohort} ${r.label} ${r.key}`,
    onExport: () => exportCsv("cohorts", request, {}, status),
    columns: columns(keyLabel),
    emptyText: "No new customer in these days.",
  });
  replaceChildren(
    content,
    h("div", { class: "tabs-row" }, byTabs("cohorts", COHORT_KEYS), bucketTabs()),
    h("p", { class: "muted" }, `New customers by the ${view.bucket} of their first order. Revenue at 30, 60, 90 and 180 days counts refunds when they happened, and only the customers whose horizon has passed; payback is that revenue over what acquiring them cost.`),
    chartPanels([view.chart]),
    h("section", { class: "panel scroll-x" }, h("h2", {}, "Cohorts"), triangle),
    h("section", { class: "panel scroll-x" }, h("h2", {}, `By ${keyLabel.toLowerCase()}`), table),
    status,
    provenanceLine(view.provenance),
  );
}
