// The model log: every change of the workspace's attribution model, newest first. Append-only
// in the store; exportable.

import { api } from "../api";
import type { ModelChangeEntry } from "../bindings";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { viewRequest } from "../state";
import { exportCsv } from "./common";

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export async function renderModelLog(content: HTMLElement): Promise<void> {
  const log = await api.modelLog();
  const status = h("div", { class: "status-line" });
  replaceChildren(
    content,
    log.length === 0 ? h("div", { class: "empty-state" }, h("p", {}, "No model changes yet. Choose a model above and use “Make default…” to change the workspace's model; each change is logged here with who, when and why.")) : null,
    dataTable<ModelChangeEntry>({
      testid: "model-log-table",
      rows: log,
      rowKey: (r) => String(r.changed_at_ms) + r.to_model,
      filterText: (r) => `${r.changed_by} ${r.from_model ?? ""} ${r.to_model} ${r.reason}`,
      onExport: () => exportCsv("model-log", viewRequest("creator"), {}, status),
      emptyText: "No changes logged.",
      columns: [
        { label: "When", text: (r) => when(r.changed_at_ms), sort: (r) => r.changed_at_ms },
        { label: "Who", text: (r) => r.changed_by },
        { label: "From", text: (r) => r.from_model ?? "—" },
        { label: "To", text: (r) => r.to_model, attrs: () => ({ "data-col": "to" }) },
        { label: "Parameters", text: (r) => r.after_in_words, attrs: (r) => ({ title: r.parameters_after }) },
        { label: "Reason", text: (r) => r.reason, attrs: () => ({ "data-col": "reason" }) },
      ],
    }),
    status,
  );
}
