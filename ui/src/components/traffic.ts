// Bot and prefetch traffic per source and channel (issue 15): how many touches are people's,
// suspicious or bots (link previews, e-mail scanners, prefetches, crawlers), the family most of
// the rest comes from, and the revenue the workspace model's latest run credited to each class.
// The same figures as `lookback traffic summary`; shown on Sources and on Reconciliation.

import type { TrafficRow, TrafficView } from "../bindings";
import { h } from "../dom";
import { formatCount, formatMoney } from "../format";
import { dataTable } from "./table";

/** The share of touches that are not a person's, as people read it: one decimal. */
function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

export function trafficSection(view: TrafficView, testid: string): HTMLElement {
  return h(
    "section",
    { "data-testid": testid },
    h("h2", { class: "section" }, "People, previews, scanners and bots"),
    h(
      "p",
      { class: "muted", "data-testid": `${testid}-provenance` },
      `Each touch is classified when it arrives, from its user agent, the platform's own verdict, its request headers, how soon it followed the post or e-mail, and bursts of the same link (rules in README; lookback traffic rules). ${view.provenance[0].toUpperCase()}${view.provenance.slice(1)}.`,
    ),
    dataTable<TrafficRow>({
      testid: `${testid}-table`,
      rows: view.rows,
      rowKey: (r) => `${r.source}|${r.channel}`,
      filterText: (r) => `${r.source} ${r.channel} ${r.top_family ?? ""}`,
      emptyText: "No touches yet.",
      columns: [
        { label: "Source", text: (r) => r.source },
        { label: "Channel", text: (r) => r.channel },
        { label: "Touches", text: (r) => formatCount(r.touches), sort: (r) => r.touches, numeric: true, attrs: (r) => ({ "data-count": String(r.touches) }) },
        { label: "People", text: (r) => formatCount(r.human), sort: (r) => r.human, numeric: true, attrs: (r) => ({ "data-count": String(r.human) }) },
        { label: "Suspicious", text: (r) => formatCount(r.suspicious), sort: (r) => r.suspicious, numeric: true, attrs: (r) => ({ "data-count": String(r.suspicious) }) },
        { label: "Bots", text: (r) => formatCount(r.bot), sort: (r) => r.bot, numeric: true, attrs: (r) => ({ "data-count": String(r.bot) }) },
        { label: "Not a person", text: (r) => percent(r.not_human_share), sort: (r) => r.not_human_share, numeric: true },
        { label: "Mostly from", text: (r) => r.top_family ?? "" },
        { label: "Credited to people", text: (r) => formatMoney(r.credited_human), sort: (r) => r.credited_human.minor, numeric: true, attrs: (r) => ({ "data-amount": r.credited_human.amount }) },
        { label: "to suspicious", text: (r) => formatMoney(r.credited_suspicious), sort: (r) => r.credited_suspicious.minor, numeric: true, attrs: (r) => ({ "data-amount": r.credited_suspicious.amount }) },
        { label: "to bots", text: (r) => formatMoney(r.credited_bot), sort: (r) => r.credited_bot.minor, numeric: true, attrs: (r) => ({ "data-amount": r.credited_bot.amount }) },
      ],
    }),
  );
}
