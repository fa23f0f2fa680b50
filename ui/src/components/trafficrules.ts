// The traffic rule editor (issue 15), under the traffic table on Sources: the rule set in force
// (each rule's class, score, what it matches and where its facts come from), its version and
// who adopted it when, every earlier version, and a manager's change — a rule enabled or
// disabled, its class, its window, the burst window — adopted with a reason as the next version
// (the same store path as `lookback traffic set-rules`: every touch re-classified, logged in the
// model log). After adopting it says what moved and asks the traffic table to refresh. The rules
// in force can also run again unchanged (`lookback traffic reclassify`), which decides the
// scanner sweeps no ingest can see; that is not logged, since no rule changes.

import { api, asAppError } from "../api";
import type { TrafficClassCounts, TrafficClassName, TrafficRuleEdit, TrafficRulesAdopted, TrafficRulesView } from "../bindings";
import { h, replaceChildren } from "../dom";
import { formatCount } from "../format";

const CLASSES: Array<[TrafficClassName, string]> = [
  ["human", "person"],
  ["suspicious", "suspicious"],
  ["bot", "bot"],
];

function when(ms: number | null): string {
  return ms === null ? "from the start" : new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/** "People 4 → 2 · Suspicious 0 → 2 · Bots 2 → 0". */
function countsMoved(before: TrafficClassCounts, after: TrafficClassCounts): string {
  const part = (label: string, a: number, b: number) => `${label} ${formatCount(a)} → ${formatCount(b)}`;
  return [part("People", before.human, after.human), part("Suspicious", before.suspicious, after.suspicious), part("Bots", before.bot, after.bot)].join(" · ");
}

function adoptedBanner(result: TrafficRulesAdopted): HTMLElement {
  const moved = result.moved.map((m) => `${formatCount(m.touches)} ${m.from} → ${m.to}`).join(", ");
  return h(
    "div",
    { class: "banner", "data-testid": "rules-adopted" },
    h("div", {}, result.in_words),
    h("div", { "data-testid": "rules-adopted-counts" }, `${formatCount(result.touches)} touches re-classified: ${countsMoved(result.before, result.after)}`),
    h("div", { class: "muted" }, moved ? `Moved: ${moved}.` : "No touch changed class."),
  );
}

/** The editor; `onAdopted` refreshes what else shows traffic classes (the traffic table). */
export function trafficRulesSection(onAdopted: () => Promise<void>): HTMLElement {
  const section = h("section", { "data-testid": "traffic-rules" });
  const render = async (result: TrafficRulesAdopted | null) => {
    let view: TrafficRulesView;
    try {
      view = await api.trafficRules();
    } catch (e) {
      replaceChildren(section, h("div", { class: "banner error" }, asAppError(e).message));
      return;
    }
    replaceChildren(section, ...editor(view, result, async (adopted) => {
      await onAdopted();
      await render(adopted);
    }));
  };
  void render(null);
  return section;
}

function editor(view: TrafficRulesView, result: TrafficRulesAdopted | null, adopted: (r: TrafficRulesAdopted) => Promise<void>): Node[] {
  const edits = new Map<string, TrafficRuleEdit>(view.rules.map((r) => [r.id, { id: r.id, enabled: r.enabled, class: r.class, window_seconds: r.window_seconds }]));
  const burst = h("input", { type: "number", min: "1", max: "3600", value: String(view.burst_window_seconds), "data-testid": "burst-window" }) as HTMLInputElement;
  const rows = view.rules.map((rule) => {
    const edit = edits.get(rule.id)!;
    const enabled = h("input", { type: "checkbox", checked: rule.enabled, "data-testid": `rule-enabled-${rule.id}`, "aria-label": `Rule ${rule.id} enabled`, onchange: (e: Event) => (edit.enabled = (e.target as HTMLInputElement).checked) });
    const cls = h(
      "select",
      { "data-testid": `rule-class-${rule.id}`, "aria-label": `Class of rule ${rule.id}`, onchange: (e: Event) => (edit.class = (e.target as HTMLSelectElement).value as TrafficClassName) },
      ...CLASSES.map(([value, label]) => h("option", { value, selected: value === rule.class }, label)),
    );
    const windowInput =
      rule.window_seconds !== null
        ? h("input", {
            type: "number",
            min: "0",
            value: String(rule.window_seconds),
            class: "narrow",
            "data-testid": `rule-window-${rule.id}`,
            "aria-label": `Window of rule ${rule.id} in seconds`,
            onchange: (e: Event) => (edit.window_seconds = Number((e.target as HTMLInputElement).value)),
          })
        : null;
    return h(
      "tr",
      { "data-key": rule.id, class: rule.enabled ? "" : "muted" },
      h("td", {}, enabled),
      h("td", {}, h("code", {}, rule.id)),
      h("td", {}, cls),
      h("td", { class: "num" }, String(rule.score)),
      h("td", {}, rule.matches, windowInput ? h("div", {}, "window ", windowInput, " s") : null),
      h("td", { class: "muted", title: rule.source }, rule.description),
    );
  });
  const reason = h("textarea", { rows: "2", "data-testid": "rules-reason", placeholder: "Why the rules change, e.g. Discord previews come from readers' own apps." }) as HTMLTextAreaElement;
  const error = h("div", { class: "banner error", hidden: true, "data-testid": "rules-error" });
  const adopt = h("button", { class: "primary", "data-testid": "adopt-rules" }, "Adopt as the next version") as HTMLButtonElement;
  adopt.addEventListener("click", async () => {
    error.hidden = true;
    if (!reason.value.trim()) {
      error.hidden = false;
      replaceChildren(error, "Say why the rules change: the model log keeps it for your team.");
      return;
    }
    adopt.disabled = true;
    replaceChildren(adopt, "Re-classifying every touch…");
    try {
      const change = { burst_window_seconds: Number(burst.value), rules: [...edits.values()], reason: reason.value.trim() };
      await adopted(await api.adoptTrafficRules(change));
    } catch (e) {
      error.hidden = false;
      replaceChildren(error, asAppError(e).message);
      adopt.disabled = false;
      replaceChildren(adopt, "Adopt as the next version");
    }
  });
  // The rules in force run again: what only a re-classification decides (a scanner's sweep) is
  // decided for the touches that came since the last one. No rule changes, so no reason.
  const rerun = h("button", { "data-testid": "reclassify-touches" }, "Re-classify every touch now") as HTMLButtonElement;
  rerun.addEventListener("click", async () => {
    error.hidden = true;
    rerun.disabled = true;
    adopt.disabled = true;
    replaceChildren(rerun, "Re-classifying every touch…");
    try {
      await adopted(await api.reclassifyTraffic());
    } catch (e) {
      error.hidden = false;
      replaceChildren(error, asAppError(e).message);
      rerun.disabled = false;
      adopt.disabled = false;
      replaceChildren(rerun, "Re-classify every touch now");
    }
  });
  const history = h(
    "table",
    { class: "data", "data-testid": "rules-history" },
    h("thead", {}, h("tr", {}, ...["Version", "When", "Who", "What changed", "Reason"].map((l) => h("th", { scope: "col" }, l)))),
    h(
      "tbody",
      {},
      ...view.history.map((v) =>
        h("tr", { "data-key": String(v.version) }, h("td", {}, `v${v.version}`), h("td", {}, when(v.adopted_at_ms)), h("td", {}, v.adopted_by), h("td", { "data-col": "changes" }, v.changes), h("td", { "data-col": "reason" }, v.reason)),
      ),
    ),
  );
  return [
    h("h2", { class: "section" }, "Traffic rules"),
    h(
      "p",
      { class: "muted", "data-testid": "rules-version" },
      `Version ${view.version}, ${view.adopted_at_ms === null ? "the built-in rules" : `adopted by ${view.adopted_by} on ${when(view.adopted_at_ms)}`}. The first enabled rule that matches a touch decides its class. Adopting a change re-classifies every touch and is logged in the model log with your reason. A scanner's sweep (a visitor's only touches, seconds apart, then a week of nothing) is decided at re-classification only: adopt a change, or re-classify with the rules as they are.`,
    ),
    result ? adoptedBanner(result) : null,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "data", "data-testid": "rules-table" },
        h("thead", {}, h("tr", {}, ...["On", "Rule", "Class", "Score", "Matches", "What it catches (hover: source)"].map((l) => h("th", { scope: "col" }, l)))),
        h("tbody", {}, ...rows),
      ),
    ),
    h("label", {}, "Burst window (seconds) ", burst),
    error,
    reason,
    h("div", { class: "modal-actions" }, rerun, adopt),
    h("h3", {}, "Versions"),
    h("div", { class: "table-wrap" }, history),
  ].filter((n): n is HTMLElement => n !== null);
}
