// The line under every view that says what produced it: model and parameters in words, run, the
// basis, which touches were read, freshness with
// each source's data-health badge, and how much of the revenue rests on each kind of identity
// join.

import type { Provenance } from "../bindings";
import { h } from "../dom";
import { formatAgo, formatMoney } from "../format";

/** A data-health state as a badge reads it (the state itself is decided in Rust). */
export function stateLabel(state: string): string {
  return state === "needs_reconnecting" ? "needs reconnecting" : state;
}

/** The badge colour of a data-health state. */
export function stateClass(state: string): string {
  return state === "ok" || state === "imported" ? "ok" : state === "stale" ? "warn" : "bad";
}

export function provenanceLine(p: Provenance): HTMLElement {
  const now = Date.now();
  return h(
    "footer",
    { class: "provenance", "data-testid": "provenance", "data-run-id": String(p.run_id), "data-model": p.model },
    h(
      "div",
      { title: p.parameters },
      h("strong", { "data-testid": "provenance-model" }, p.in_words),
      ` · run #${p.run_id}`,
      p.run_finished_at_ms ? ` · computed ${formatAgo(p.run_finished_at_ms, now)}` : "",
      h("span", { "data-testid": "provenance-basis", "data-basis": p.basis }, p.basis === "accrual" ? " · accrual basis (credits dated by their touch)" : " · cash basis (credits dated by their order)"),
      h("span", { "data-testid": "provenance-touches", "data-touches": p.touches }, ` · ${p.touches_in_words}`),
    ),
    p.basis_shift && h("div", { "data-testid": "basis-shift" }, p.basis_shift),
    h(
      "div",
      {},
      `Joins: deterministic ${formatMoney(p.deterministic)} · identity graph ${formatMoney(p.identity_graph)} · probabilistic ${formatMoney(p.probabilistic)}`,
      ` · unattributed ${formatMoney(p.unattributed)} (${p.unattributed_orders} orders)`,
      ` · provisional ${formatMoney(p.provisional)}`,
      p.missing_fx_orders > 0 ? h("span", { class: "pill bad" }, `${p.missing_fx_orders} orders lack an exchange rate`) : null,
    ),
    p.freshness.length > 0 &&
      h(
        "div",
        { class: "muted", "data-testid": "freshness" },
        ...p.freshness.flatMap((f, i) => [
          i > 0 ? " · " : "",
          `${f.name}: synced ${formatAgo(f.last_success_at_ms, now)}`,
          // The data-health state decided in Rust; only what needs attention gets a badge.
          f.state === "stale" || f.state === "failing" || f.state === "needs_reconnecting"
            ? h("span", { class: `pill ${f.state === "stale" ? "warn" : "bad"}`, "data-state": f.state }, stateLabel(f.state))
            : "",
        ]),
      ),
  );
}
