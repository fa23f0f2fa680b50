// The Workspace screen: what the command line could do to a workspace as a whole, in the window —
// the reporting currency and time zone (`lookback settings`), CSV import with a template per kind
// (`lookback import`, `lookback template`), backup and the full integrity check (`lookback
// backup`, `lookback check`), and privacy: the settings, purging old raw payloads and erasing a
// person (`lookback privacy …`), and the event-level exports (`lookback export credits / orders /
// touches / spend`). Rust does every one of them; this screen asks and shows.
// `reportingForm` and `importPanel` are also the steps of a new workspace's setup.

import { api, asAppError } from "../api";
import type { ExportTable, ImportKindName, ImportResult, ModelCatalog, ModelName, PrivacyView, WorkspaceInfo } from "../bindings";
import { h, replaceChildren } from "../dom";
import { formatCount, formatDate } from "../format";
import { errorBox, exportCsv } from "./common";

export const IMPORT_KINDS: [ImportKindName, string][] = [
  ["orders", "Orders"],
  ["touches", "Touches (clicks, visits)"],
  ["refunds", "Refunds and chargebacks"],
  ["spend", "Ad spend"],
  ["creator-costs", "Creator costs"],
  ["identities", "Identity links"],
  ["fx-rates", "Exchange rates (daily)"],
];

/** A few zones to pick from; any IANA zone can be typed. */
const ZONES = ["UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney"];
const CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "JPY", "CHF", "SEK", "BRL"];

/** The zone this computer is in, as the system reports it. */
function systemZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/**
 * The reporting currency and time zone: every view converts to the one and counts days in the
 * other. `suggestZone` fills in this computer's zone (a new workspace's setup).
 */
export function reportingForm(info: WorkspaceInfo, onSaved: (info: WorkspaceInfo) => void, suggestZone = false, saveLabel = "Save"): HTMLElement {
  const currency = h("input", { type: "text", value: info.reporting_currency, list: "currency-list", size: "6", "data-testid": "reporting-currency", "aria-label": "Reporting currency" }) as HTMLInputElement;
  const zone = h("input", { type: "text", value: suggestZone ? systemZone() : info.reporting_timezone, list: "zone-list", "data-testid": "reporting-timezone", "aria-label": "Reporting time zone" }) as HTMLInputElement;
  const message = h("div", { class: "status-line" });
  const save = h("button", { class: "primary", "data-testid": "save-reporting" }, saveLabel) as HTMLButtonElement;
  save.onclick = async () => {
    save.disabled = true;
    try {
      const saved = await api.setReporting(currency.value, zone.value);
      replaceChildren(message, h("span", { class: "pill ok" }, `Reporting in ${saved.reporting_currency}, days in ${saved.reporting_timezone}`));
      onSaved(saved);
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
    save.disabled = false;
  };
  return h(
    "div",
    { "data-testid": "reporting-form" },
    h("p", { class: "muted" }, "Every view converts revenue and spend to the reporting currency at each day's rate, and counts days in the reporting time zone."),
    h(
      "div",
      { class: "rule-form" },
      h("label", { class: "field" }, "Reporting currency", currency),
      h("label", { class: "field" }, "Time zone", zone),
      save,
    ),
    h("datalist", { id: "currency-list" }, ...CURRENCIES.map((c) => h("option", { value: c }))),
    h("datalist", { id: "zone-list" }, ...ZONES.map((z) => h("option", { value: z }))),
    message,
  );
}

export function describeImport(r: ImportResult): string {
  const parts = [`${formatCount(r.imported)} imported`, `${formatCount(r.duplicates)} already there`];
  if (r.updated) parts.push(`${formatCount(r.updated)} updated`);
  if (r.suppressed) parts.push(`${formatCount(r.suppressed)} of erased people not stored`);
  parts.push(`${formatCount(r.rejected)} rejected`);
  return `${r.file}: ${parts.join(" · ")}`;
}

/**
 * Import a CSV file: choose its kind, download that kind's template (the importer's own
 * columns and an example row), choose the file; the summary follows. Bad rows go to dead letters
 * (on the Sources screen, with FILE:LINE and the reason); the rest imports.
 */
export function importPanel(onImported: (r: ImportResult) => void): HTMLElement {
  const kind = h("select", { "data-testid": "import-kind", "aria-label": "What the file holds" }, ...IMPORT_KINDS.map(([k, label]) => h("option", { value: k }, label))) as HTMLSelectElement;
  const chosenKind = (): ImportKindName => IMPORT_KINDS.find(([k]) => k === kind.value)?.[0] ?? "orders";
  const message = h("div", { class: "status-line", "data-testid": "import-status" });
  const template = async () => {
    try {
      const path = await api.chooseExportPath(`${chosenKind()}-template.csv`);
      if (!path) return;
      const written = await api.saveImportTemplate(chosenKind(), path);
      replaceChildren(message, h("span", { class: "pill ok", "data-testid": "template-saved" }, `Template saved to ${written}: replace the example row with your data.`));
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
  };
  const choose = h("button", { class: "primary", "data-testid": "import-choose" }, "Choose a CSV file and import…") as HTMLButtonElement;
  choose.onclick = async () => {
    try {
      const path = await api.chooseImportFile();
      if (!path) return;
      choose.disabled = true;
      replaceChildren(message, h("div", { class: "busy", role: "status", "data-testid": "import-progress" }, h("span", { class: "spinner" }), `Importing ${path}…`));
      const result = await api.importCsv(chosenKind(), path);
      replaceChildren(
        message,
        h("span", { class: result.rejected ? "pill warn" : "pill ok", "data-testid": "import-done", "data-imported": String(result.imported) }, describeImport(result)),
        result.rejected ? h("p", { class: "muted" }, "Rejected rows are in the dead letters of the csv source on the Sources screen, each with its line and reason.") : null,
      );
      onImported(result);
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
    choose.disabled = false;
  };
  return h(
    "div",
    { "data-testid": "import-panel" },
    h("p", { class: "muted" }, "A CSV file with a header row (UTF-8). Importing the same file again changes nothing; each file is imported whole or not at all."),
    h("div", { class: "rule-form" }, h("label", { class: "field" }, "The file holds", kind), h("button", { class: "secondary", "data-testid": "download-template", onclick: template }, "Download template"), choose),
    message,
  );
}

/** The event-level exports: what each writes, and whether it is of an attribution run. */
const EVENT_EXPORTS: { table: ExportTable; label: string; ofRun: boolean }[] = [
  { table: "credits", label: "Credits (one row per order and credited touch)", ofRun: true },
  { table: "orders", label: "Orders (with their credited revenue)", ofRun: true },
  { table: "touches", label: "Touches (clicks, visits, views)", ofRun: false },
  { table: "spend", label: "Ad spend and creator costs", ofRun: false },
];

/**
 * Export event-level data: the same CSV and `.json` sidecar as `lookback export credits / orders
 * / touches / spend --from --to [--model]` (Rust writes both through the CLI's code). Days are
 * order days (spend and costs: their own day), empty for everything; credits and orders are of
 * the chosen model's run (the workspace's by default, computed when there is none yet).
 */
function eventExportPanel(catalog: ModelCatalog): HTMLElement {
  const kind = h("select", { "data-testid": "event-export-kind", "aria-label": "What to export" }, ...EVENT_EXPORTS.map((e) => h("option", { value: e.table }, e.label))) as HTMLSelectElement;
  const from = h("input", { type: "date", "data-testid": "event-export-from", "aria-label": "First day" }) as HTMLInputElement;
  const to = h("input", { type: "date", "data-testid": "event-export-to", "aria-label": "Last day" }) as HTMLInputElement;
  const model = h(
    "select",
    { "data-testid": "event-export-model", "aria-label": "Attribution model" },
    h("option", { value: "" }, `The workspace's model (${catalog.default.model})`),
    ...catalog.models.map((m) => h("option", { value: m.name }, m.label)),
  ) as HTMLSelectElement;
  const modelField = h("label", { class: "field" }, "Model", model);
  const chosen = () => EVENT_EXPORTS.find((e) => e.table === kind.value) ?? EVENT_EXPORTS[0];
  const showModel = () => {
    modelField.hidden = !chosen().ofRun;
  };
  kind.onchange = showModel;
  showModel();
  const message = h("div", { class: "status-line", "data-testid": "event-export-status" });
  const save = async () => {
    const picked = model.value ? (model.value as ModelName) : null;
    // A preview runs the chosen model with the workspace's parameters, as `--model` does.
    const choice = chosen().ofRun && picked ? { ...catalog.default, model: picked } : null;
    const request = { model: choice, by: "creator" as const, from: from.value || null, to: to.value || null, bucket: null, settled_only: false };
    await exportCsv(chosen().table, request, {}, message);
  };
  return h(
    "section",
    { class: "panel", "data-testid": "event-export" },
    h("h2", {}, "Export event-level data"),
    h("p", { class: "muted" }, "One row per event, with a .json file beside the CSV saying what produced it. Identity columns are left out; the command line's --include-pii adds them."),
    h("div", { class: "rule-form" }, h("label", { class: "field" }, "Data", kind), h("label", { class: "field" }, "From", from), h("label", { class: "field" }, "To", to), modelField, h("button", { class: "primary", "data-testid": "event-export-save", onclick: save }, "Save…")),
    message,
  );
}

function backupPanel(): HTMLElement {
  const message = h("div", { class: "status-line", "data-testid": "backup-status" });
  const run = async (label: string, job: () => Promise<string | null>) => {
    replaceChildren(message, h("div", { class: "busy", role: "status" }, h("span", { class: "spinner" }), label));
    try {
      const text = await job();
      replaceChildren(message, text ? h("span", { class: "pill ok" }, text) : null);
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
  };
  const backup = () =>
    run("Writing the backup…", async () => {
      const stamp = new Date().toISOString().slice(0, 10);
      const path = await api.chooseBackupPath(`backup-${stamp}.lookback`);
      return path ? await api.backupWorkspace(path) : null;
    });
  const check = () => run("Checking the whole file…", () => api.checkWorkspace());
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Backup and integrity"),
    h("p", { class: "muted" }, "A backup is a consistent copy, even while a sync writes; open it like any workspace to restore it. The full check reads every page and recounts the totals."),
    h("div", { class: "source-actions" }, h("button", { class: "secondary", "data-testid": "backup", onclick: backup }, "Back up…"), h("button", { class: "secondary", "data-testid": "check", onclick: check }, "Check the whole file")),
    message,
  );
}

function privacyPanel(p: PrivacyView): HTMLElement {
  const pii = h("input", { type: "checkbox", "data-testid": "store-raw-pii" }) as HTMLInputElement;
  pii.checked = p.store_raw_pii;
  const retention = h("input", { type: "text", size: "6", value: p.retention_days === null ? "off" : String(p.retention_days), "data-testid": "retention-days", "aria-label": "Retention in days" }) as HTMLInputElement;
  const message = h("div", { class: "status-line", "data-testid": "privacy-status" });
  const shown = (e: unknown) => replaceChildren(message, errorBox(asAppError(e)));
  const saveSettings = async () => {
    try {
      const saved = await api.setPrivacy(pii.checked, retention.value);
      pii.checked = saved.store_raw_pii;
      retention.value = saved.retention_days === null ? "off" : String(saved.retention_days);
      replaceChildren(message, h("span", { class: "pill ok", "data-testid": "privacy-saved" }, saved.retention_days === null ? "Saved: raw payloads are kept" : `Saved: raw payloads are kept ${saved.retention_days} days`));
    } catch (e) {
      shown(e);
    }
  };
  const purge = async () => {
    try {
      replaceChildren(message, h("span", { class: "pill ok" }, await api.purgeRawPayloads()));
    } catch (e) {
      shown(e);
    }
  };
  const keyType = h("select", { "data-testid": "erase-key-type", "aria-label": "Key type" }, ...["email", "customer_id", "anonymous_id", "device_id", "person_id"].map((k) => h("option", { value: k }, k))) as HTMLSelectElement;
  const keyValue = h("input", { type: "text", autocomplete: "off", "data-testid": "erase-key", "aria-label": "Key value" }) as HTMLInputElement;
  const erase = async () => {
    if (!window.confirm(`Erase everyone linked to ${keyType.value} ${keyValue.value}? Their touches are deleted and orders anonymized; this cannot be undone.`)) return;
    try {
      const lines = await api.erasePerson(keyType.value, keyValue.value);
      keyValue.value = "";
      replaceChildren(message, h("div", { "data-testid": "erase-receipt" }, ...lines.map((l) => h("p", {}, l))));
    } catch (e) {
      shown(e);
    }
  };
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Privacy"),
    h("div", { class: "rule-form" }, h("label", { class: "check" }, pii, "keep personal fields of raw payloads (names, phones, IPs…)"), h("label", { class: "field small" }, "Keep raw payloads (days or off)", retention), h("button", { class: "secondary", "data-testid": "save-privacy", onclick: saveSettings }, "Save"), h("button", { class: "secondary", "data-testid": "purge", onclick: purge }, "Purge old payloads now")),
    h("h3", {}, "Erase a person"),
    h("p", { class: "muted" }, "Their whole identity (every key linked to this one) is removed or anonymized; the log below keeps what and when, never who. The receipt salt is shown once."),
    h("div", { class: "rule-form" }, h("label", { class: "field" }, "Key", keyType), h("label", { class: "field" }, "Value", keyValue), h("button", { class: "secondary", "data-testid": "erase", onclick: erase }, "Erase…")),
    message,
    p.erasures.length
      ? h("table", { class: "data", "data-testid": "erasure-log" }, h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "By key"), h("th", {}, "Marker"), h("th", {}, "What"))), h("tbody", {}, ...p.erasures.map((e) => h("tr", {}, h("td", {}, formatDate(e.erased_at_ms)), h("td", {}, e.key_type), h("td", {}, e.marker), h("td", {}, e.summary)))))
      : h("p", { class: "muted" }, "No erasures yet."),
  );
}

/** `refresh` shows the screen again, with the workspace's new settings when they changed. */
export async function renderWorkspace(content: HTMLElement, info: WorkspaceInfo, refresh: (changed?: WorkspaceInfo) => void): Promise<void> {
  const [privacy, catalog] = await Promise.all([api.privacy(), api.modelCatalog()]);
  replaceChildren(
    content,
    h("section", { class: "panel" }, h("h2", {}, "Reporting"), reportingForm(info, (saved) => refresh(saved))),
    h("section", { class: "panel" }, h("h2", {}, "Import CSV"), importPanel(() => undefined)),
    eventExportPanel(catalog),
    backupPanel(),
    privacyPanel(privacy),
  );
}
