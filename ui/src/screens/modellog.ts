// The model log: every change of the workspace's attribution model and of its traffic rules
// (which decide which touches are people's, so they move credit as much), newest first.
// Append-only in the store; exportable.

import { api } from "../api";
import type { ModelChangeEntry } from "../bindings";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { viewRequest } from "../state";
import { exportCsv } from "./common";

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/** Where a change started: the model before, or the rule set version before. */
function from(r: ModelChangeEntry): string {
  if (r.kind === "traffic_rules") return `rules v${r.from_rules_version ?? "?"}`;
  return r.from_model ?? "—";
}

function to(r: ModelChangeEntry): string {
  if (r.kind === "traffic_rules") return `rules v${r.to_rules_version ?? "?"}`;
  return r.to_model ?? "—";
}

export async function renderModelLog(content: HTMLElement): Promise<void> {
  const log = await api.modelLog();
  const status = h("div", { class: "status-line" });
  replaceChildren(
    content,
    log.length === 0 ? h("div", { class: "empty-state" }, h("p", {}, "No model changes yet. Choose a model above and use “Make default…” to change the workspace's model, or change the traffic rules on the Sources screen; each change is logged here with who, when and why.")) : null,
    dataTable<ModelChangeEntry>({
      testid: "model-log-table",
      rows: log,
      rowKey: (r) => `${r.kind}|${r.changed_at_ms}|${r.to_model ?? r.to_rules_version}`,
      filterText: (r) => `${r.changed_by} ${from(r)} ${to(r)} ${r.after_in_words} ${r.reason}`,
      onExport: () => exportCsv("model-log", viewRequest("creator"), {}, status),
      emptyText: "No changes logged.",
      columns: [
        { label: "When", text: (r) => when(r.changed_at_ms), sort: (r) => r.changed_at_ms },
        { label: "Who", text: (r) => r.changed_by },
        { label: "From", text: from },
        { label: "To", text: to, attrs: () => ({ "data-col": "to" }) },
        { label: "What changed", text: (r) => r.after_in_words, attrs: (r) => ({ "data-col": "words", title: r.parameters_after ?? "" }) },
        { label: "Reason", text: (r) => r.reason, attrs: () => ({ "data-col": "reason" }) },
        { label: "Kind", text: (r) => (r.kind === "model" ? "Model" : "Traffic rules"), attrs: (r) => ({ "data-col": "kind", "data-kind": r.kind }) },
      ],
    }),
    status,
  );
}
