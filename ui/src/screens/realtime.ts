// Real time: the opt-in local receiver for signed webhooks and postbacks (open views refresh as
// events arrive), the webhook secrets it verifies with (typed in once, kept in the OS keyring,
// never shown again), and alert rules delivered as system notifications or to Slack.

import { api, asAppError } from "../api";
import type { AlertChannel, AlertKindName, AlertNotificationRow, AlertRuleRow, ListenerStatus, WebhookSecretRow } from "../bindings";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { formatCount, formatDate } from "../format";
import { viewRequest } from "../state";
import { errorBox, exportCsv } from "./common";

const KINDS: [AlertKindName, string, string][] = [
  ["creator_revenue", "A creator's revenue in 24 h reaches", "amount"],
  ["large_order", "A single order from a creator link is at least", "amount"],
  ["sync_failing", "A source's sync has been failing for (minutes)", "minutes"],
  ["dead_letters", "Dead letters are more than", "count"],
  ["source_health", "A source is stale or failing for (minutes), or its volume drops", "minutes"],
];

const CHANNELS: [AlertChannel, string][] = [
  ["desktop", "desktop notification"],
  ["slack", "Slack (URL in keyring)"],
];

function kindLabel(kind: string): string {
  return KINDS.find(([k]) => k === kind)?.[1] ?? kind;
}

export async function renderRealtime(content: HTMLElement, refresh: () => void): Promise<void> {
  const [status, rules, secrets, slackStored, notifications] = await Promise.all([api.listenerStatus(), api.alertRules(), api.webhookSecrets(), api.slackUrlStored(), api.alertNotifications()]);
  const message = h("div", { class: "status-line" });

  const bind = h("input", { type: "text", value: "127.0.0.1:8787", "data-testid": "listen-address", "aria-label": "Listen address" }) as HTMLInputElement;
  const toggle = async () => {
    try {
      if (status.listening) await api.stopListener();
      else await api.startListener(bind.value);
      refresh();
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
  };
  const receiver = h(
    "section",
    { class: "panel" },
    h("h2", {}, "Webhooks and postbacks"),
    h("p", { class: "muted" }, "An opt-in receiver on this computer. Signed deliveries are verified, stored before they are acknowledged, and deduplicated; open views update as they arrive. Polling sync stays the reconciliation path. Expose it through a tunnel (e.g. cloudflared or ngrok to 127.0.0.1)."),
    listenerLine(status, secrets.length),
    h("div", { class: "source-actions" }, !status.listening && h("label", { class: "field small" }, "Address", bind), h("button", { class: status.listening ? "secondary" : "primary", "data-testid": "listen-toggle", onclick: toggle }, status.listening ? "Stop receiving" : "Start receiving")),
    h("pre", {}, "POST /webhooks/stripe/<source>   Stripe-Signature: t=…,v1=…\nPOST /webhooks/dub/<source>      Dub-Signature: <hex>\nPOST /webhooks/generic/<source>  X-Timestamp + X-Signature: sha256=<hex>\nGET|POST /postback/<source>?token=…"),
    message,
  );

  const form = ruleForm(refresh);
  const exported = h("div", { class: "status-line" });
  const table = dataTable<AlertRuleRow>({
    testid: "alert-rules-table",
    rows: rules,
    rowKey: (r) => String(r.rule_id),
    emptyText: "No alert rules yet.",
    onExport: () => exportCsv("alert-rules", viewRequest("creator"), {}, exported),
    columns: [
      { label: "When", text: (r) => kindLabel(r.kind) },
      { label: "Threshold", text: (r) => (r.currency ? `${(r.threshold / 100).toFixed(2)} ${r.currency}` : String(r.threshold)), numeric: true },
      { label: "Subject", text: (r) => r.subject ?? "any" },
      { label: "Orders", text: (r) => (r.currency ? (r.include_provisional ? "incl. provisional" : "settled only") : "—") },
      { label: "Deliver to", text: (r) => r.channel },
      { label: "", text: () => "Remove", attrs: (r) => ({ "data-rule": String(r.rule_id), class: "remove-rule" }) },
    ],
  });
  table.addEventListener("click", async (e) => {
    const cell = (e.target as HTMLElement).closest("[data-rule]") as HTMLElement | null;
    if (cell) {
      await api.removeAlertRule(Number(cell.dataset.rule));
      refresh();
    }
  });
  const checked = h("div", { class: "status-line", "data-testid": "alert-check-result" });
  const checkNow = async () => {
    try {
      const s = await api.checkAlerts();
      replaceChildren(checked, h("span", { class: "pill ok" }, `${formatCount(s.findings)} finding(s) · ${formatCount(s.claimed)} new · ${formatCount(s.sent)} sent · ${formatCount(s.failed)} failed · ${formatCount(s.waiting)} waiting for a channel`));
    } catch (e) {
      replaceChildren(checked, errorBox(asAppError(e)));
    }
  };
  const alerts = h(
    "section",
    { class: "panel" },
    h("h2", {}, "Alerts"),
    h("p", { class: "muted" }, "Checked every 30 s while the receiver runs, or now with Check now. Each alert is sent once per creator and day, order, outage or day of dead letters — never twice."),
    form,
    table,
    exported,
    h("div", { class: "source-actions" }, h("button", { class: "secondary", "data-testid": "check-alerts", onclick: checkNow }, "Check now")),
    checked,
    h("h3", {}, "Notifications"),
    dataTable<AlertNotificationRow>({
      testid: "alert-notifications-table",
      rows: notifications,
      rowKey: (n) => String(n.notification_id),
      filterText: (n) => `${n.title} ${n.state} ${n.channel}`,
      emptyText: "No alert has fired yet.",
      columns: [
        { label: "#", text: (n) => String(n.notification_id), sort: (n) => n.notification_id, numeric: true },
        { label: "Rule", text: (n) => String(n.rule_id), sort: (n) => n.rule_id, numeric: true },
        { label: "State", text: (n) => n.state },
        { label: "Channel", text: (n) => n.channel },
        { label: "Attempts", text: (n) => formatCount(n.attempts), sort: (n) => n.attempts, numeric: true },
        { label: "Title", text: (n) => n.title },
        { label: "Last error", text: (n) => n.last_error ?? "" },
      ],
    }),
    slackPanel(slackStored, refresh),
  );
  replaceChildren(content, receiver, secretsPanel(secrets, refresh), alerts);
}

/**
 * The webhook secrets deliveries are verified with. A secret is typed in once, goes to the OS
 * keyring and is never shown again. Rotating adds a newer secret beside the old one (both
 * verify); the old one is removed once the sender signs with the new one.
 */
function secretsPanel(secrets: WebhookSecretRow[], refresh: () => void): HTMLElement {
  const source = h("input", { type: "text", placeholder: "e.g. backend, stripe", "data-testid": "secret-source", "aria-label": "Source name" }) as HTMLInputElement;
  const value = h("input", { type: "password", autocomplete: "off", "data-testid": "secret-value", "aria-label": "Secret" }) as HTMLInputElement;
  const message = h("div", { class: "status-line", "data-testid": "secret-message" });
  const save = async () => {
    try {
      await api.addWebhookSecret({ source: source.value, secret: value.value });
      value.value = "";
      refresh();
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
  };
  const remove = async (ref: string) => {
    try {
      await api.removeWebhookSecret(ref);
      refresh();
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
  };
  const rotate = (name: string) => {
    source.value = name;
    value.value = "";
    value.focus();
    replaceChildren(message, h("span", { class: "muted" }, `Paste the new secret of ${name} and save it; the old one keeps verifying until you remove it.`));
  };
  const perSource = new Map<string, number>();
  for (const s of secrets) perSource.set(s.source, (perSource.get(s.source) ?? 0) + 1);
  const rows = secrets.map((s) =>
    h(
      "tr",
      { "data-key": s.secret_ref, "data-source": s.source },
      h("td", {}, s.source),
      h("td", {}, `added ${formatDate(s.added_at_ms)}`),
      h("td", {}, (perSource.get(s.source) ?? 0) > 1 ? "one of several valid (rotation)" : "valid"),
      h("td", {}, h("button", { class: "link", "data-testid": "rotate-secret", onclick: () => rotate(s.source) }, "Rotate"), " ", h("button", { class: "link", "data-testid": "remove-secret", onclick: () => remove(s.secret_ref) }, "Remove")),
    ),
  );
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Webhook secrets"),
    h("p", { class: "muted" }, "Each source signs its deliveries with a secret you copy from the sender (Stripe's whsec_…, Dub's, or one you chose for your backend). It is kept in the OS keyring and never shown again after saving; the source's endpoint is /webhooks/<kind>/<source>. Without a secret every delivery gets 401."),
    secrets.length
      ? h("table", { class: "data", "data-testid": "webhook-secrets" }, h("thead", {}, h("tr", {}, h("th", {}, "Source"), h("th", {}, "Added"), h("th", {}, "State"), h("th", {}, ""))), h("tbody", {}, ...rows))
      : h("p", { class: "muted", "data-testid": "webhook-secrets-empty" }, "No webhook secrets yet: add the first one below, then start receiving."),
    h("div", { class: "rule-form" }, h("label", { class: "field" }, "Source", source), h("label", { class: "field" }, "Secret", value), h("button", { class: "primary", "data-testid": "save-secret", onclick: save }, "Save secret")),
    message,
  );
}

/** The Slack incoming-webhook URL Slack alerts go to: stored in the OS keyring, never shown. */
function slackPanel(stored: boolean, refresh: () => void): HTMLElement {
  const url = h("input", { type: "password", autocomplete: "off", placeholder: "https://hooks.slack.com/services/…", "data-testid": "slack-url", "aria-label": "Slack incoming-webhook URL" }) as HTMLInputElement;
  const message = h("div", { class: "status-line" });
  const save = async () => {
    try {
      await api.setSlackUrl(url.value);
      url.value = "";
      refresh();
    } catch (e) {
      replaceChildren(message, errorBox(asAppError(e)));
    }
  };
  return h(
    "div",
    { class: "slack" },
    h("h3", {}, "Slack"),
    h("p", { "data-testid": "slack-state" }, stored ? h("span", { class: "pill ok" }, "URL stored") : h("span", { class: "pill warn" }, "no URL"), stored ? " Slack rules are delivered. Save another URL to replace it." : " Slack rules wait until an incoming-webhook URL is saved here."),
    h("div", { class: "rule-form" }, h("label", { class: "field" }, "Incoming-webhook URL", url), h("button", { class: "secondary", "data-testid": "save-slack-url", onclick: save }, "Save URL")),
    message,
  );
}

function listenerLine(s: ListenerStatus, secretCount: number): HTMLElement {
  return s.listening
    ? h(
        "p",
        { "data-testid": "listen-status" },
        h("span", { class: "pill ok" }, "receiving"),
        ` on ${s.address} · ${formatCount(s.stored)} deliveries stored`,
        secretCount === 0 ? h("span", { class: "pill warn", "data-testid": "no-secrets" }, "no webhook secrets: every delivery gets 401 until one is saved below") : null,
      )
    : h("p", { "data-testid": "listen-status" }, h("span", { class: "pill warn" }, "off"), " Nothing is listening.");
}

function ruleForm(refresh: () => void): HTMLElement {
  const kind = h("select", { "data-testid": "rule-kind" }, ...KINDS.map(([k, label]) => h("option", { value: k }, label))) as HTMLSelectElement;
  const threshold = h("input", { type: "text", value: "100", size: "8", "data-testid": "rule-threshold" }) as HTMLInputElement;
  const currency = h("input", { type: "text", value: "USD", size: "4" }) as HTMLInputElement;
  const subject = h("input", { type: "text", placeholder: "creator or source id (optional)" }) as HTMLInputElement;
  const provisional = h("input", { type: "checkbox" }) as HTMLInputElement;
  const grace = h("input", { type: "number", min: "0", value: "0", size: "4", "data-testid": "rule-grace", "aria-label": "Grace minutes" }) as HTMLInputElement;
  const channel = h("select", {}, ...CHANNELS.map(([c, label]) => h("option", { value: c }, label))) as HTMLSelectElement;
  const error = h("div", { class: "status-line" });
  const add = async () => {
    try {
      const [kindName, , unit] = KINDS.find(([k]) => k === kind.value) ?? KINDS[0];
      const channelName = CHANNELS.find(([c]) => c === channel.value)?.[0] ?? CHANNELS[0][0];
      const money = unit === "amount";
      await api.addAlertRule({ kind: kindName, subject: subject.value || null, threshold: threshold.value, currency: money ? currency.value : null, include_provisional: provisional.checked, grace_minutes: Number(grace.value) || 0, channel: channelName });
      refresh();
    } catch (e) {
      replaceChildren(error, errorBox(asAppError(e)));
    }
  };
  return h(
    "div",
    { class: "rule-form" },
    h("label", { class: "field" }, "When", kind),
    h("label", { class: "field small" }, "Threshold", threshold),
    h("label", { class: "field small" }, "Currency", currency),
    h("label", { class: "field" }, "Only", subject),
    h("label", { class: "check" }, provisional, "include provisional orders"),
    h("label", { class: "field small", title: "Judge the 24 h window ending this many minutes ago, so late refunds and click ids land" }, "Grace (min)", grace),
    h("label", { class: "field" }, "Deliver to", channel),
    h("button", { class: "primary", "data-testid": "add-rule", onclick: add }, "Add rule"),
    error,
  );
}
