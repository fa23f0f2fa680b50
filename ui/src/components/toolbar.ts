// The bar above every view: which model (with its parameters), which dates (the days the view
// covers, never a placeholder, with presets), the basis that dates credits (cash: the order's
// day; accrual: the day of the touch it credits), which touches count (bot touches excluded,
// only human touches, or all), settled only, and the bucket. Changing any of it re-asks Rust for the numbers; nothing here blocks the window.
// "Make default…" changes the workspace's model, which needs a reason and lands in the model log.

import { api, asAppError } from "../api";
import type { Basis, Bucket, DateRange, ModelCatalog, ModelChoice, Touches } from "../bindings";
import { h, replaceChildren } from "../dom";
import { settings, updateSettings } from "../state";

export interface ToolbarOptions {
  catalog: ModelCatalog;
  /** The days a view without dates covers, and the presets (computed in Rust, reporting zone). */
  range: DateRange;
  showBucket: boolean;
  onDefaultChanged: (catalog: ModelCatalog) => void;
}

function sameChoice(a: ModelChoice, b: ModelChoice): boolean {
  return a.model === b.model && a.window_days === b.window_days && a.half_life_days === b.half_life_days && a.position_weights.join() === b.position_weights.join();
}

/** The bases a credit can be dated by, with what each means. */
const BASES: [Basis, string, string][] = [
  ["cash", "Cash", "Each credit counts on the day of its order"],
  ["accrual", "Accrual", "Each credit counts on the day of the touch it credits"],
];

/** Which touches a view's run reads, by traffic class, with what each means. */
const TOUCH_FILTERS: [Touches, string, string][] = [
  ["no-bots", "No bots", "Bot touches excluded: link previews, scanners, crawlers take no credit; suspicious touches count"],
  ["human", "Human", "Only human touches: suspicious and bot touches take no credit"],
  ["all", "All", "All touches, bots included"],
];

/** The buckets a view can be split by; "whole range" (no bucket) comes before them. */
const BUCKETS: [Bucket, string][] = [
  ["day", "day"],
  ["week", "week"],
  ["month", "month"],
];

/** The touch filter switch: `shown` is selected; choosing the workspace's own filter forgets the choice. */
function touchSwitch(shown: Touches, workspace: Touches): HTMLElement {
  return h(
    "div",
    { class: "segmented", role: "radiogroup", "aria-label": "Touches", "data-testid": "touches", "data-touches": shown },
    ...TOUCH_FILTERS.map(([touches, label, title]) =>
      h(
        "button",
        {
          type: "button",
          role: "radio",
          "aria-checked": String(shown === touches),
          class: shown === touches ? "selected" : "",
          title,
          "data-testid": `touches-${touches}`,
          onclick: () => shown !== touches && updateSettings({ touches: touches === workspace ? null : touches }),
        },
        label,
      ),
    ),
  );
}

export function toolbar(opts: ToolbarOptions): HTMLElement {
  const s = settings();
  const choice: ModelChoice = s.model ?? opts.catalog.default;
  const isDefault = sameChoice(choice, opts.catalog.default);

  const setChoice = (patch: Partial<ModelChoice>) => {
    const next = { ...choice, ...patch };
    updateSettings({ model: sameChoice(next, opts.catalog.default) ? null : next });
  };
  const numberInput = (label: string, testid: string, value: number, apply: (n: number) => void) =>
    h(
      "label",
      { class: "field small" },
      label,
      h("input", {
        type: "number",
        min: "1",
        max: "3650",
        value: String(value),
        "data-testid": testid,
        onchange: (e: Event) => {
          const n = Number((e.target as HTMLInputElement).value);
          if (Number.isInteger(n) && n > 0) apply(n);
        },
      }),
    );

  const select = h(
    "select",
    {
      "data-testid": "model-select",
      "aria-label": "Attribution model",
      onchange: (e: Event) => {
        const picked = opts.catalog.models.find((m) => m.name === (e.target as HTMLSelectElement).value);
        if (picked) setChoice({ model: picked.name });
      },
    },
    ...opts.catalog.models.map((m) => h("option", { value: m.name, selected: m.name === choice.model, title: m.description }, m.label + (m.name === opts.catalog.default.model ? " (default)" : ""))),
  );

  const params: HTMLElement[] = [numberInput("Window (days)", "window-days", choice.window_days, (n) => setChoice({ window_days: n }))];
  if (choice.model === "time-decay") params.push(numberInput("Half-life (days)", "half-life-days", choice.half_life_days, (n) => setChoice({ half_life_days: n })));
  if (choice.model === "position-based")
    params.push(
      h(
        "label",
        { class: "field small" },
        "First / middle / last %",
        h("input", {
          type: "text",
          value: choice.position_weights.join(","),
          "data-testid": "position-weights",
          size: "8",
          onchange: (e: Event) => {
            const parts = (e.target as HTMLInputElement).value.split(",").map((p) => Number(p.trim()));
            if (parts.length === 3 && parts.every((p) => Number.isInteger(p) && p >= 0)) setChoice({ position_weights: [parts[0], parts[1], parts[2]] });
          },
        }),
      ),
    );

  // From and To show the days the view covers: the chosen ones, else the first and last day
  // with data (a view without dates covers them all).
  const dateInput = (label: string, testid: string, value: string | null, apply: (v: string | null) => void) =>
    h("label", { class: "field small" }, label, h("input", { type: "date", value: value ?? "", "data-testid": testid, onchange: (e: Event) => apply((e.target as HTMLInputElement).value || null) }));
  const { range } = opts;
  const matching = range.presets.find((p) => p.from === s.from && p.to === s.to);
  const presetSelect = h(
    "label",
    { class: "field small" },
    "Range",
    h(
      "select",
      {
        "data-testid": "date-preset",
        onchange: (e: Event) => {
          const picked = range.presets.find((p) => p.id === (e.target as HTMLSelectElement).value);
          if (picked) updateSettings({ from: picked.from, to: picked.to });
        },
      },
      ...(matching ? [] : [h("option", { value: "custom", selected: true }, "Custom")]),
      ...range.presets.map((p) => h("option", { value: p.id, selected: p.id === matching?.id }, p.label)),
    ),
  );

  const bar = h(
    "div",
    { class: "toolbar", role: "toolbar", "aria-label": "View settings" },
    h("label", { class: "field" }, "Model", select),
    ...params,
    h(
      "div",
      { class: "model-state" },
      isDefault
        ? h("span", { class: "pill ok", "data-testid": "model-is-default" }, "workspace default")
        : h(
            "span",
            { class: "preview-tools" },
            h("span", { class: "pill warn", "data-testid": "model-preview" }, "preview"),
            h("button", { class: "link", onclick: () => updateSettings({ model: null }) }, "Back to default"),
            h("button", { class: "secondary", "data-testid": "make-default", onclick: () => askReason(choice, opts) }, "Make default…"),
          ),
    ),
    h("span", { class: "spacer" }),
    presetSelect,
    dateInput("From", "date-from", s.from ?? range.first_day, (v) => updateSettings({ from: v })),
    dateInput("To", "date-to", s.to ?? range.last_day, (v) => updateSettings({ to: v })),
    h(
      "div",
      { class: "segmented", role: "radiogroup", "aria-label": "Basis", "data-testid": "basis", "data-basis": s.basis },
      ...BASES.map(([basis, label, title]) =>
        h(
          "button",
          {
            type: "button",
            role: "radio",
            "aria-checked": String(s.basis === basis),
            class: s.basis === basis ? "selected" : "",
            title,
            "data-testid": `basis-${basis}`,
            onclick: () => s.basis !== basis && updateSettings({ basis }),
          },
          label,
        ),
      ),
    ),
    touchSwitch(s.touches ?? opts.catalog.touches, opts.catalog.touches),
    opts.showBucket &&
      h(
        "label",
        { class: "field small" },
        "Per",
        h(
          "select",
          { "data-testid": "bucket", onchange: (e: Event) => updateSettings({ bucket: BUCKETS.find(([b]) => b === (e.target as HTMLSelectElement).value)?.[0] ?? null }) },
          ...[["", "whole range"], ...BUCKETS].map(([v, l]) => h("option", { value: v, selected: (s.bucket ?? "") === v }, l)),
        ),
      ),
    h("label", { class: "check" }, h("input", { type: "checkbox", checked: s.settledOnly, "data-testid": "settled-only", onchange: (e: Event) => updateSettings({ settledOnly: (e.target as HTMLInputElement).checked }) }), "Settled only"),
  );
  return bar;
}

/** Asks why the default changes, then changes it (and so appends to the model log). */
function askReason(choice: ModelChoice, opts: ToolbarOptions): void {
  const reason = h("textarea", { rows: "3", "data-testid": "reason", placeholder: "e.g. Creators drive discovery; first touches deserve more credit." }) as HTMLTextAreaElement;
  const error = h("div", { class: "banner error", hidden: true });
  const close = () => dialog.remove();
  const confirm = async () => {
    if (!reason.value.trim()) {
      error.hidden = false;
      replaceChildren(error, "Say why the default changes: the model log keeps it for your team.");
      return;
    }
    try {
      const catalog = await api.setDefaultModel(choice, reason.value.trim());
      close();
      updateSettings({ model: null });
      opts.onDefaultChanged(catalog);
    } catch (e) {
      error.hidden = false;
      replaceChildren(error, asAppError(e).message);
    }
  };
  const dialog = h(
    "div",
    { class: "modal-backdrop", role: "dialog", "aria-modal": "true", "aria-labelledby": "reason-title", onkeydown: (e: Event) => (e as KeyboardEvent).key === "Escape" && close() },
    h(
      "div",
      { class: "modal" },
      h("h2", { id: "reason-title" }, `Make ${choice.model} the workspace default?`),
      h("p", { class: "muted" }, "Everyone using this workspace will see numbers under this model. The change is logged with your name, the time and your reason."),
      error,
      reason,
      h("div", { class: "modal-actions" }, h("button", { class: "secondary", onclick: close }, "Cancel"), h("button", { class: "primary", "data-testid": "confirm-default", onclick: confirm }, "Make default")),
    ),
  );
  document.body.append(dialog);
  reason.focus();
}
