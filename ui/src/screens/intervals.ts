// "Show intervals": bootstrap intervals beside data-driven figures (Markov, Shapley). On the
// Compare models screen each learned weight gets its interval; on the ROAS screen each row's
// attributed revenue. Rust computes the intervals and decides when a figure rests on too few
// conversions to state (`too_few`); here they are only shown. The choice to show them is
// remembered while the window is open.

import { api, asAppError } from "../api";
import type { IntervalSettings, ModelName, RevenueIntervalsView, RoasRow, ViewRequest, WeightIntervalRow } from "../bindings";
import type { Column } from "../components/table";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { formatCount, formatMoney } from "../format";
import { errorBox, loading } from "./common";

let shown = false;

/** Whether intervals are asked for. */
export function intervalsShown(): boolean {
  return shown;
}

/** The data-driven models, the only ones whose figures have intervals. */
export function isDataDriven(model: ModelName): boolean {
  return model === "markov" || model === "shapley";
}

/** The "Show intervals" switch; `onChange` runs after the choice is remembered. */
export function intervalsToggle(testid: string, onChange: (on: boolean) => void, disabledWhy?: string): HTMLElement {
  const input = h("input", {
    type: "checkbox",
    checked: shown && !disabledWhy,
    disabled: !!disabledWhy,
    "data-testid": testid,
    onchange: (e: Event) => {
      shown = (e.target as HTMLInputElement).checked;
      onChange(shown);
    },
  });
  return h("label", { class: "check", title: disabledWhy ?? "Bootstrap intervals of the data-driven figures" }, input, "Show intervals", disabledWhy ? h("span", { class: "muted" }, ` (${disabledWhy})`) : null);
}

/** How the intervals were made, and what the words instead of a number mean. */
export function intervalsCaption(s: IntervalSettings): HTMLElement {
  return h(
    "p",
    { class: "muted", "data-testid": "intervals-caption" },
    `${Math.round(s.level * 100)}% intervals from ${formatCount(s.resamples)} bootstrap resamples over journeys (seed ${s.seed}). "${s.too_few_words}": fewer than 30 conversions, or an interval wider than the figure.`,
  );
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

/** A learned weights panel's switch and, when on, its weights with their intervals. */
export function weightIntervalsSlot(model: ModelName): HTMLElement {
  const body = h("div", { "data-testid": `weight-intervals-slot-${model}` });
  const load = async () => {
    replaceChildren(body, loading());
    try {
      const view = await api.weightIntervals(model);
      replaceChildren(
        body,
        intervalsCaption(view.settings),
        dataTable<WeightIntervalRow>({
          testid: `weight-intervals-${model}`,
          rows: view.rows,
          rowKey: (r) => r.channel,
          filterText: (r) => r.channel,
          emptyText: "No converting journeys to learn from yet.",
          columns: [
            { label: "Channel", text: (r) => r.channel, attrs: () => ({ "data-col": "channel" }) },
            { label: "Weight", text: (r) => (r.too_few ? view.settings.too_few_words : percent(r.weight)), sort: (r) => r.weight, numeric: true, attrs: (r) => ({ "data-col": "weight", "data-value": String(r.weight) }) },
            {
              label: `${Math.round(view.settings.level * 100)}% interval`,
              text: (r) => (r.too_few ? "—" : `${percent(r.low)} – ${percent(r.high)}`),
              sort: (r) => r.high - r.low,
              numeric: true,
              attrs: (r) => ({ "data-col": "interval", "data-low": String(r.low), "data-high": String(r.high), "data-too-few": String(r.too_few) }),
            },
            { label: "Converting paths", text: (r) => formatCount(r.conversions), sort: (r) => r.conversions, numeric: true, attrs: () => ({ "data-col": "conversions" }) },
          ],
        }),
      );
    } catch (e) {
      replaceChildren(body, errorBox(asAppError(e)));
    }
  };
  const toggle = intervalsToggle(`intervals-toggle-${model}`, (on) => (on ? void load() : replaceChildren(body)));
  if (shown) void load();
  return h("div", { class: "intervals" }, toggle, body);
}

/** Why a ROAS selection has no intervals, or nothing when it can have them. */
export function roasIntervalsUnavailable(model: ModelName, request: ViewRequest): string | undefined {
  if (!isDataDriven(model)) return "data-driven models only";
  if (request.bucket) return "not with days, weeks or months";
  if (request.by === "platform") return "not by platform";
  return undefined;
}

/** The ROAS selection's revenue intervals when they are shown and can be made, else null. */
export async function roasIntervalsFor(model: ModelName, request: ViewRequest): Promise<RevenueIntervalsView | null> {
  if (!shown || roasIntervalsUnavailable(model, request)) return null;
  return api.roasIntervals(request);
}

/** The ROAS table's interval column: low – high beside the attributed revenue, or the words. */
export function revenueIntervalColumn(view: RevenueIntervalsView): Column<RoasRow> {
  const byKey = new Map(view.rows.map((r) => [r.key, r]));
  return {
    label: `${Math.round(view.settings.level * 100)}% interval`,
    text: (r) => {
      const i = byKey.get(r.key);
      if (!i) return "";
      return i.too_few ? view.settings.too_few_words : `${formatMoney(i.low)} – ${formatMoney(i.high)}`;
    },
    sort: (r) => {
      const i = byKey.get(r.key);
      return i ? i.high.minor - i.low.minor : -1;
    },
    numeric: true,
    attrs: (r): Record<string, string> => {
      const i = byKey.get(r.key);
      return i ? { "data-col": "interval", "data-low-minor": String(i.low.minor), "data-high-minor": String(i.high.minor), "data-too-few": String(i.too_few) } : { "data-col": "interval" };
    },
  };
}

/** The Creator revenue screen's switch and, when on, the interval of the creator's net credited revenue. */
export function creatorIntervalSlot(model: ModelName, request: ViewRequest, creatorId: string, rerender: () => void): HTMLElement {
  const why = roasIntervalsUnavailable(model, { ...request, by: "creator", bucket: null });
  const body = h("div", { "data-testid": "creator-interval" });
  if (shown && !why) {
    replaceChildren(body, loading());
    api
      .roasIntervals({ ...request, by: "creator", bucket: null, settled_only: false })
      .then((view) => {
        const row = view.rows.find((r) => r.key === creatorId);
        const level = `${Math.round(view.settings.level * 100)}% interval`;
        const text = !row ? "no credited orders in this range" : row.too_few ? view.settings.too_few_words : `${formatMoney(row.low)} – ${formatMoney(row.high)}`;
        replaceChildren(
          body,
          h("p", { class: "muted", "data-low-minor": row ? String(row.low.minor) : undefined, "data-high-minor": row ? String(row.high.minor) : undefined, "data-too-few": row ? String(row.too_few) : undefined }, `Net credited, ${level}: ${text}`),
          intervalsCaption(view.settings),
        );
      })
      .catch((e: unknown) => replaceChildren(body, errorBox(asAppError(e))));
  }
  return h("div", { class: "intervals" }, intervalsToggle("creator-intervals-toggle", rerender, why), body);
}
