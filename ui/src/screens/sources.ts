// The Sources screen: each connected source's health (last success, lag, records in the last
// 24 h against the usual day, sync error rate, retries, schema drift, dead letters — all
// computed in Rust), a Sync button that streams progress and can be cancelled, and dead letters
// with replay after a fix, and a form that connects a new source (its secret goes to the OS
// keyring through Rust, as with `lookback source add`). A source whose credential the platform
// refused is "needs reconnecting", with the one action that fixes it: Reconnect opens the same
// form prefilled for that source, and the new secret replaces the old one (its data and
// checkpoints stay), as `lookback source reconnect` does. Google Ads signs in through the
// browser instead (OAuth consent with PKCE, the `connect_source` command, as `lookback source
// connect`): on adding it, and from its card to connect or reconnect. The card also shows when
// the credential expires (as the platform reports it) and warns a week ahead, and the API
// version the connector is pinned to, with a warning from 30 days before its announced sunset.

import { trafficSection } from "../components/traffic";
import { trafficRulesSection } from "../components/trafficrules";
import { api, asAppError, events } from "../api";
import type { NewSourceRequest, SourceKind, SourceRow, SyncProgress } from "../bindings";
import { stateClass, stateLabel } from "../components/provenance";
import { dataTable } from "../components/table";
import { h, replaceChildren } from "../dom";
import { formatAgo, formatCount, formatDate } from "../format";
import { viewRequest } from "../state";
import { errorBox, exportCsv } from "./common";

/** One sync progress event in words (also the setup's first sync). */
export function describeSync(p: SyncProgress): string {
  switch (p.event) {
    case "stream_started":
      return `${p.stream}: starting…`;
    case "page":
      return `${p.stream}: ${formatCount(p.pages)} pages, ${formatCount(p.records)} records (${formatCount(p.inserted)} new${p.retries ? `, ${p.retries} retries` : ""}${p.dead_letters ? `, ${p.dead_letters} dead letters` : ""})`;
    case "waiting":
      return `${p.stream}: waiting ${p.seconds.toFixed(1)} s (${p.reason})`;
    case "stream_finished":
      return `${p.stream}: ${p.outcome}${p.detail ? `: ${p.detail}` : ""}`;
    case "done":
      return `Done: ${formatCount(p.new_records)} new records`;
    case "failed":
      return `Failed: ${p.message}`;
    case "needs_reconnecting":
      return `Needs reconnecting: ${p.message}`;
  }
}

/** The last progress line and event count per source, kept across re-renders of the screen. */
const lastProgress = new Map<string, { text: string; events: number }>();

export async function renderSources(content: HTMLElement, refresh: () => void): Promise<void> {
  const [rows, traffic] = await Promise.all([api.sources(), api.trafficView()]);
  const detail = h("div", { class: "source-detail" });
  const progress = new Map<string, HTMLElement>();
  const show = (sourceId: string, text: string) => {
    const entry = lastProgress.get(sourceId) ?? { text: "", events: 0 };
    entry.text = text;
    entry.events += 1;
    lastProgress.set(sourceId, entry);
    const line = progress.get(sourceId);
    if (line) {
      replaceChildren(line, text);
      line.dataset.events = String(entry.events);
    }
  };

  const sync = async (row: SourceRow, button: HTMLButtonElement, cancel: HTMLButtonElement) => {
    const line = progress.get(row.source_id)!;
    button.disabled = true;
    cancel.hidden = false;
    lastProgress.set(row.source_id, { text: "", events: 0 });
    const off = await events.onJobProgress((p) => {
      if (p.job === "sync" && p.source_id === row.source_id) show(row.source_id, describeSync(p.progress));
    });
    try {
      const last = await api.syncSource(row.source_id);
      show(row.source_id, describeSync(last));
      refresh();
    } catch (e) {
      replaceChildren(line, errorBox(asAppError(e)));
      button.disabled = false;
      cancel.hidden = true;
    } finally {
      off();
    }
  };

  const showDeadLetters = async (row: SourceRow) => {
    const letters = await api.deadLetters(row.source_id);
    const result = h("div", { class: "status-line" });
    const exported = h("div", { class: "status-line" });
    replaceChildren(
      detail,
      h(
        "section",
        { class: "panel" },
        h("h2", {}, `Dead letters of ${row.name}`),
        h("p", { class: "muted" }, "Records that could not be used, with where they came from and why. Nothing is dropped: fix the cause (a rate, a mapping, a connector update) and replay."),
        h(
          "button",
          {
            class: "secondary",
            "data-testid": "replay",
            onclick: async () => {
              try {
                const r = await api.replayDeadLetters(row.source_id);
                replaceChildren(result, `${r.resolved} of ${r.examined} now imported; ${r.still_failing} still failing.`);
                refresh();
              } catch (e) {
                replaceChildren(result, errorBox(asAppError(e)));
              }
            },
          },
          "Replay dead letters",
        ),
        result,
        dataTable({
          testid: "dead-letters-table",
          rows: letters,
          rowKey: (d) => String(d.dead_letter_id),
          filterText: (d) => `${d.location} ${d.reason}`,
          onExport: () => exportCsv("dead-letters", viewRequest("creator"), { source_id: row.source_id }, exported),
          columns: [
            { label: "Where", text: (d) => d.location },
            { label: "Stream", text: (d) => d.stream },
            { label: "Reason", text: (d) => d.reason },
            { label: "When", text: (d) => formatAgo(d.created_at_ms, Date.now()), sort: (d) => d.created_at_ms },
          ],
        }),
        exported,
      ),
    );
  };

  const kinds = await api.sourceKinds();
  if (rows.length === 0) {
    replaceChildren(
      content,
      h(
        "div",
        { class: "empty-state" },
        h("h2", {}, "No sources connected"),
        h("p", {}, "Connect a platform below: its secret is kept in your OS keyring, never in the workspace, and Sync now brings its data in. Files from elsewhere import on the Workspace screen (Import CSV), with a template for each kind."),
      ),
      addSourceForm(kinds, true, refresh),
    );
    return;
  }

  const list = h(
    "div",
    { class: "source-cards" },
    ...rows.map((row) => {
      const kept = lastProgress.get(row.source_id);
      const line = h("div", { class: "sync-progress", "data-testid": `sync-progress-${row.source_id}`, "data-events": String(kept?.events ?? 0) }, kept?.text ?? "");
      progress.set(row.source_id, line);
      const cancel = h("button", { class: "link", hidden: true, onclick: () => void api.cancelSync(row.source_id) }, "Cancel") as HTMLButtonElement;
      const button = h("button", { class: "secondary", "data-testid": `sync-${row.source_id}` }, "Sync now") as HTMLButtonElement;
      button.onclick = () => void sync(row, button, cancel);
      const needsReconnect = row.state === "needs_reconnecting";
      // Google Ads connects through the browser (OAuth consent, PKCE, a loopback redirect):
      // Connect / Reconnect run that flow; every other kind reconnects with a new secret in the
      // prefilled form.
      const reconnect =
        row.kind === "google_ads"
          ? h(
              "button",
              { class: needsReconnect ? "primary" : "secondary", "data-testid": needsReconnect ? `reconnect-${row.source_id}` : `connect-google-${row.source_id}`, onclick: () => void connectGoogle(row, line, refresh) },
              needsReconnect ? "Reconnect with Google" : "Connect Google account",
            )
          : needsReconnect
            ? h("button", { class: "primary", "data-testid": `reconnect-${row.source_id}`, onclick: () => replaceChildren(detail, reconnectForm(row, refresh)) }, "Reconnect")
            : null;
      return h(
        "article",
        { class: "panel source-card", "data-source": row.source_id },
        h("header", {}, h("strong", {}, row.name), h("span", { class: "muted" }, ` ${row.kind}`), h("span", { class: `pill ${stateClass(row.state)}`, "data-testid": `state-${row.source_id}`, "data-state": row.state }, stateLabel(row.state))),
        h(
          "dl",
          {},
          h("dt", {}, "Last success"),
          h("dd", {}, formatAgo(row.last_success_at_ms, Date.now())),
          h("dt", {}, "Records"),
          h("dd", {}, formatCount(row.records)),
          ...credentialTerms(row),
          ...(row.api_version ? [h("dt", {}, "API version"), h("dd", { "data-testid": `api-version-${row.source_id}` }, row.api_version)] : []),
          ...healthTerms(row),
          h("dt", {}, "Dead letters"),
          h("dd", {}, row.dead_letters > 0 ? h("button", { class: "link", "data-testid": `dead-letters-${row.source_id}`, onclick: () => void showDeadLetters(row) }, formatCount(row.dead_letters)) : "0"),
        ),
        needsReconnect
          ? h("div", { class: "banner error", "data-testid": `reconnect-banner-${row.source_id}` }, "The platform refused this source's credential, so nothing syncs until it is reconnected with a new one. Its data and checkpoints are kept.", row.last_error ? h("div", { class: "muted" }, row.last_error) : null)
          : row.last_error && h("div", { class: "banner error" }, row.last_error),
        row.api_version_warning && h("div", { class: "banner warn", "data-testid": `api-version-warning-${row.source_id}` }, row.api_version_warning),
        h("div", { class: "source-actions" }, reconnect, button, cancel, h("button", { class: "link", "data-testid": `test-${row.source_id}`, onclick: () => void testSource(row, line) }, "Test credential"), h("button", { class: "link", "data-testid": `remove-${row.source_id}`, onclick: () => void removeSource(row, line, refresh) }, "Remove")),
        line,
      );
    }),
  );
  const exported = h("div", { class: "status-line" });
  const exportHealth = h("button", { class: "secondary", "data-testid": "health-export", onclick: () => void exportCsv("health", viewRequest("creator"), {}, exported) }, "Export health CSV");
  let trafficTable = trafficSection(traffic, "sources-traffic");
  const refreshTraffic = async () => {
    const fresh = trafficSection(await api.trafficView(), "sources-traffic");
    trafficTable.replaceWith(fresh);
    trafficTable = fresh;
  };
  replaceChildren(content, h("div", { class: "source-actions" }, exportHealth), exported, list, trafficTable, trafficRulesSection(refreshTraffic), addSourceForm(kinds, false, refresh), detail);
}

/** One cheap authenticated request with the source's credential; what the platform says. */
async function testSource(row: SourceRow, line: HTMLElement): Promise<void> {
  replaceChildren(line, "Testing the credential…");
  try {
    replaceChildren(line, ...(await api.testSource(row.source_id)).map((l) => h("div", {}, l)));
  } catch (e) {
    replaceChildren(line, errorBox(asAppError(e)));
  }
}

/** Removes the source and its keyring entry, after asking; the data it brought stays. */
async function removeSource(row: SourceRow, line: HTMLElement, refresh: () => void): Promise<void> {
  if (!window.confirm(`Remove ${row.name}? Its secret leaves the OS keyring and it stops syncing; the data it brought stays in the workspace.`)) return;
  try {
    await api.removeSource(row.source_id);
    refresh();
  } catch (e) {
    replaceChildren(line, errorBox(asAppError(e)));
  }
}

/**
 * "Connect a source": kind, name, API address and account where the platform needs them, and
 * the secret (a password field; for Google Ads also the developer token). Rust checks it all,
 * as `lookback source add` does, and keeps the secret in the OS keyring only.
 */
/**
 * Runs the Google sign-in of a google_ads source: Rust opens the system browser on Google's
 * consent page and waits on 127.0.0.1 for the answer; the lines it sends (the consent URL, to
 * open by hand if no browser opened) are shown on `line`.
 */
async function connectGoogle(row: { source_id: string }, line: HTMLElement, onDone: () => void): Promise<void> {
  replaceChildren(line, "Opening Google's consent page in your browser…");
  const off = await events.onJobProgress((p) => {
    if (p.job === "connect" && p.source_id === row.source_id) replaceChildren(line, p.text);
  });
  try {
    await api.connectSource(row.source_id);
    replaceChildren(line, "Connected: the refresh token is in the OS keyring.");
    onDone();
  } catch (e) {
    replaceChildren(line, errorBox(asAppError(e)));
  } finally {
    off();
  }
}

/** The "Connect a source" form (also the setup's); `onAdded` gets the new source's id. */
export function addSourceForm(kinds: SourceKind[], open: boolean, onAdded: (sourceId?: string) => void): HTMLElement {
  const field = (label: string, input: HTMLElement, hint?: string) =>
    h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null);
  const password = (testid: string) => h("input", { type: "password", "data-testid": testid, autocomplete: "off" }) as HTMLInputElement;
  const text = (testid: string, placeholder = "") => h("input", { type: "text", "data-testid": testid, placeholder, autocomplete: "off" }) as HTMLInputElement;
  const kind = h("select", { "data-testid": "new-source-kind" }, ...kinds.map((k) => h("option", { value: k }, k))) as HTMLSelectElement;
  const name = text("new-source-name", "e.g. shop");
  const baseUrl = h("input", { type: "url", "data-testid": "new-source-base-url", placeholder: "the platform's own API when empty" }) as HTMLInputElement;
  const account = text("new-source-account", "ad account, advertiser, customer or shop");
  const secret = password("new-source-secret");
  const clientId = text("new-source-client-id");
  const clientSecret = password("new-source-client-secret");
  const devToken = password("new-source-developer-token");
  const tokenUrl = h("input", { type: "url", "data-testid": "new-source-token-url", placeholder: "the platform's own when empty" }) as HTMLInputElement;
  const authorizeUrl = h("input", { type: "url", "data-testid": "new-source-authorize-url", placeholder: "Google's own when empty" }) as HTMLInputElement;
  const secretField = field("Secret", secret, "kept in the OS keyring, never in the workspace");
  const clientIdField = field("OAuth client ID", clientId);
  const clientSecretField = field("OAuth client secret", clientSecret, "kept in the OS keyring, never in the workspace");
  const devField = field("Developer token", devToken, "optional; Google no longer requires it");
  const authorizeField = field("Consent page", authorizeUrl);
  const advanced = h("details", { class: "advanced" }, h("summary", {}, "OAuth endpoints (proxies, tests)"), field("Token endpoint", tokenUrl), authorizeField);
  const status = h("div", { class: "status-line", "data-testid": "new-source-status" });
  const submit = h("button", { class: "primary", type: "submit", "data-testid": "new-source-add" }, "Connect") as HTMLButtonElement;
  const showFields = () => {
    const google = kind.value === "google_ads";
    const shopify = kind.value === "shopify";
    secretField.hidden = google;
    (secretField.querySelector("span") as HTMLElement).textContent = shopify ? "Access token (legacy custom app)" : "Secret";
    clientIdField.hidden = clientSecretField.hidden = advanced.hidden = !(google || shopify);
    devField.hidden = authorizeField.hidden = !google;
    (clientIdField.querySelector("span") as HTMLElement).textContent = google ? "OAuth client ID (Desktop app)" : "Client ID (Dev Dashboard app)";
    submit.textContent = google ? "Connect with Google" : "Connect";
  };
  kind.onchange = showFields;
  showFields();
  const form = h(
    "form",
    { class: "panel add-source" },
    field("Kind", kind),
    field("Name", name, "letters, digits, - _ ."),
    field("API address", baseUrl),
    field("Account", account),
    clientIdField,
    clientSecretField,
    secretField,
    devField,
    advanced,
    h("div", { class: "source-actions" }, submit),
    status,
  ) as HTMLFormElement;
  // An OAuth client goes to the keyring as one JSON object (the shape `source add` reads).
  const secretText = () => {
    const client = kind.value === "google_ads" || (kind.value === "shopify" && clientId.value.trim() !== "");
    if (!client) return secret.value;
    const parts: Record<string, string> = { client_id: clientId.value.trim(), client_secret: clientSecret.value.trim() };
    if (kind.value === "google_ads" && devToken.value.trim()) parts.developer_token = devToken.value.trim();
    return JSON.stringify(parts);
  };
  const forget = () => {
    for (const input of [secret, clientSecret, devToken]) input.value = "";
  };
  form.onsubmit = async (e) => {
    e.preventDefault();
    submit.disabled = true;
    const request: NewSourceRequest = {
      kind: kinds.find((k) => k === kind.value) ?? kinds[0],
      name: name.value,
      base_url: baseUrl.value || null,
      account: account.value || null,
      secret: secretText(),
      oauth_token_url: tokenUrl.value || null,
      oauth_authorize_url: authorizeUrl.value || null,
    };
    try {
      await api.addSource(request);
      forget();
      if (request.kind === "google_ads") {
        // The source exists with its OAuth client; the Google sign-in gives it a refresh token.
        await connectGoogle({ source_id: request.name.trim() }, status, () => onAdded(request.name.trim()));
        submit.disabled = false;
      } else {
        onAdded(request.name.trim());
      }
    } catch (err) {
      forget();
      replaceChildren(status, errorBox(asAppError(err)));
      submit.disabled = false;
    }
  };
  return h("details", { class: "add-source-box", open: open || undefined, "data-testid": "add-source" }, h("summary", {}, "Connect a source"), form);
}

/** The data-health lines of a source card: every figure comes from Rust (lookback-trust). */
function healthTerms(row: SourceRow): HTMLElement[] {
  const m = row.health;
  const days = `last ${m.window_days} days`;
  return [
    h("dt", {}, "Last 24 h"),
    h(
      "dd",
      { "data-testid": `volume-${row.source_id}`, "data-records": String(m.records_last_24h), "data-usual": m.usual_daily_records === null ? "" : String(m.usual_daily_records) },
      `${formatCount(m.records_last_24h)} records`,
      h("span", { class: "muted" }, m.usual_daily_records === null ? " (no usual day yet)" : ` (usual ${formatCount(m.usual_daily_records)} a day)`),
      m.volume_drop ? h("span", { class: "pill warn", "data-testid": `volume-drop-${row.source_id}`, title: "Less than half the usual day's records arrived in the last 24 hours" }, "volume drop") : null,
    ),
    h("dt", {}, "Sync errors"),
    h(
      "dd",
      { "data-testid": `error-rate-${row.source_id}`, "data-rate": m.error_rate ?? "" },
      m.sync_runs === 0 ? `no syncs in the ${days}` : `${formatCount(m.failed_runs)} of ${formatCount(m.sync_runs)} syncs failed (${m.error_rate}) · ${days}`,
    ),
    h("dt", {}, "Retries"),
    h("dd", { "data-testid": `retries-${row.source_id}` }, `${formatCount(m.retries)} · ${days}`),
    h("dt", {}, "Schema drift"),
    h(
      "dd",
      { "data-testid": `schema-drift-${row.source_id}`, "data-unknown-fields": String(m.unknown_fields), "data-schema-dead-letters": String(m.schema_dead_letters) },
      `${formatCount(m.unknown_fields)} unknown fields kept · ${formatCount(m.schema_dead_letters)} records missing or mistyping a field · ${days}`,
    ),
  ];
}

/**
 * The credential lines of a source card: when the token expires and what it may read, as the
 * platform last reported them (Meta's debug_token), or, where the platform cannot be asked, its
 * published policy for the kind ("never", "renewed" by Lookback, with the policy in words);
 * "soon" (within 7 days, or expired) is Rust's judgement and gets a warning. Nothing is shown
 * where neither is known (a generic source's own token).
 */
function credentialTerms(row: SourceRow): HTMLElement[] {
  const c = row.credential;
  if (c.expiry === "unknown") return [];
  const kind = c.token_type ? ` (${c.token_type})` : "";
  const text =
    c.expiry === "never"
      ? `never expires${kind}`
      : c.expiry === "renewed"
        ? "renewed by Lookback before it expires"
        : `expires ${formatDate(c.expires_at_ms)}${kind}`;
  return [
    h("dt", {}, "Credential"),
    h(
      "dd",
      { "data-testid": `credential-${row.source_id}`, "data-expiry": c.expiry, "data-expires-at": c.expires_at_ms === null ? "" : String(c.expires_at_ms) },
      text,
      c.expiry === "soon"
        ? h("span", { class: "pill warn", "data-testid": `credential-expires-soon-${row.source_id}`, title: "Make a new token (a System User token does not expire) and reconnect before syncs stop" }, "expires soon")
        : null,
      c.scopes.length > 0 ? h("div", { class: "muted" }, `permissions: ${c.scopes.join(", ")}`) : null,
      c.policy ? h("div", { class: "muted", "data-testid": `credential-policy-${row.source_id}` }, c.policy) : null,
    ),
  ];
}

/**
 * Reconnect: the connect form for this one source, prefilled (kind, name, API address and
 * account, which stay as they are), asking only for the new secret. Rust inspects it where the
 * platform can (Meta), puts it in the OS keyring in the old one's place and clears the state;
 * the source keeps its data and checkpoints.
 */
function reconnectForm(row: SourceRow, onDone: () => void): HTMLElement {
  const field = (label: string, input: HTMLElement, hint?: string) =>
    h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null);
  const fixed = (testid: string, value: string | null) =>
    h("input", { type: "text", "data-testid": testid, value: value ?? "", readonly: true, disabled: true }) as HTMLInputElement;
  const secret = h("input", { type: "password", "data-testid": "reconnect-secret", autocomplete: "off" }) as HTMLInputElement;
  const status = h("div", { class: "status-line" });
  const submit = h("button", { class: "primary", type: "submit", "data-testid": "reconnect-submit" }, "Reconnect") as HTMLButtonElement;
  const form = h(
    "form",
    { class: "panel add-source", "data-testid": "reconnect-form", "data-source": row.source_id },
    h("h2", {}, `Reconnect ${row.name}`),
    h("p", { class: "muted" }, "The platform refused the old credential. A new one replaces it in the OS keyring; the source keeps its data and checkpoints."),
    field("Kind", fixed("reconnect-kind", row.kind)),
    field("Name", fixed("reconnect-name", row.name)),
    field("API address", fixed("reconnect-base-url", row.base_url)),
    field("Account", fixed("reconnect-account", row.account)),
    field("New secret", secret, row.kind === "meta" ? "a System User token does not expire; a user token lasts about 60 days" : "kept in the OS keyring, never in the workspace"),
    h("div", { class: "source-actions" }, submit),
    status,
  ) as HTMLFormElement;
  form.onsubmit = async (e) => {
    e.preventDefault();
    submit.disabled = true;
    const value = secret.value;
    try {
      await api.reconnectSource({ source_id: row.source_id, secret: value });
      secret.value = "";
      onDone();
    } catch (err) {
      secret.value = "";
      replaceChildren(status, errorBox(asAppError(err)));
      submit.disabled = false;
    }
  };
  setTimeout(() => secret.focus(), 0);
  return form;
}
