// Generated from src-tauri/crates/app/src/wire.rs by `UPDATE_BINDINGS=1 cargo test --workspace bindings`.
// Do not edit by hand.

export type ErrorKind = "no_workspace" | "not_found" | "not_a_workspace" | "damaged" | "already_exists" | "newer_version" | "invalid_input" | "cancelled" | "internal";

export type AppError = { kind: ErrorKind, message: string, };

export type StartupState = { workspace: WorkspaceInfo | null, 
/**
 * Where "Open the demo workspace" writes (or finds) the demo.
 */
demo_path: string, 
/**
 * Recently opened workspace files, most recent first, that still exist.
 */
recent: Array<string>, 
/**
 * The workspace named at start (or the last one used) when it was written by an older
 * Lookback: the window opens it with `open_workspace`, showing the upgrade's progress.
 */
upgrade_pending: string | null, };

export type WorkspaceInfo = { path: string, name: string, reporting_currency: string, reporting_timezone: string, 
/**
 * Set when the file is damaged and was opened read-only: why, and what to do.
 */
read_only_reason: string | null, };

export type MoneyAmount = { currency: string, 
/**
 * Exact decimal in major units, e.g. "1234.50".
 */
amount: string, minor: number, };

export type RevenueByCurrency = { currency: string, gross: MoneyAmount, refunds: MoneyAmount, chargebacks: MoneyAmount, net: MoneyAmount, };

export type SourceState = "ok" | "stale" | "failing" | "needs_reconnecting" | "imported";

export type SourceFreshness = { source_id: string, 
/**
 * The source's kind as stored: a connector's (`SourceKind`) or another origin's
 * (`web_pixel`, `csv_import`…); empty for data that arrived without a source.
 */
kind: string, name: string, last_success_at_ms: number | null, last_error: string | null, records: number, 
/**
 * ok | stale | failing | needs_reconnecting for a connected source (its data-health
 * state); imported for data that arrived without one (CSV, demo).
 */
state: SourceState, };

export type DateRange = { 
/**
 * The first and last day with an order or a touch; null in an empty workspace.
 */
first_day: string | null, last_day: string | null, 
/**
 * Today in the reporting zone, which the presets count back from.
 */
today: string, presets: Array<DatePreset>, };

export type DatePreset = { 
/**
 * `last-7`, `last-30`, `last-90`, `this-month`, `last-month`, `all`.
 */
id: string, label: string, 
/**
 * Both null for `all`: the view covers every day.
 */
from: string | null, to: string | null, };

export type OverviewHeadline = { net_revenue: MoneyAmount, unconverted_revenue: Array<UnconvertedMoney>, ad_spend: MoneyAmount, unconverted_spend: Array<UnconvertedMoney>, };

export type UnconvertedMoney = { amount: MoneyAmount, rows: number, };

export type Overview = { workspace: WorkspaceInfo, orders: number, 
/**
 * Net revenue and ad spend in the reporting currency (see `lookback_report::headline`).
 */
headline: OverviewHeadline, revenue: Array<RevenueByCurrency>, spend: Array<MoneyAmount>, touches: number, creators: number, campaigns: number, first_activity_at_ms: number | null, last_activity_at_ms: number | null, dead_letters: number, sources: Array<SourceFreshness>, };

export type ModelName = "first-touch" | "last-touch" | "last-non-direct" | "linear" | "time-decay" | "position-based" | "markov" | "shapley";

export type ModelInfo = { 
/**
 * The CLI name, e.g. "position-based".
 */
name: ModelName, label: string, description: string, 
/**
 * Markov and Shapley learn channel weights from all journeys.
 */
data_driven: boolean, };

export type ModelChoice = { model: ModelName, window_days: number, half_life_days: number, 
/**
 * First, middle, last in percent; they sum to 100.
 */
position_weights: [number, number, number], };

export type ModelCatalog = { models: Array<ModelInfo>, default: ModelChoice, 
/**
 * The touches the workspace's views read unless the touch switch says otherwise.
 */
touches: Touches, };

export type ViewBy = "creator" | "campaign" | "channel" | "content" | "platform";

export type Bucket = "day" | "week" | "month";

export type Basis = "cash" | "accrual";

export type Touches = "no-bots" | "human" | "all";

export type ViewRequest = { model: ModelChoice | null, by: ViewBy, 
/**
 * First and last day, YYYY-MM-DD in the reporting zone, inclusive: of the orders, or of
 * the credited touches under the accrual basis.
 */
from: string | null, to: string | null, 
/**
 * Null for one row per key.
 */
bucket: Bucket | null, settled_only: boolean, 
/**
 * Cash when absent.
 */
basis?: Basis, 
/**
 * Which touches the run reads; the workspace's setting (bot touches left out unless
 * `lookback model set --touches` changed it) when absent.
 */
touches?: Touches, };

export type FreshnessLine = { name: string, 
/**
 * The source's kind as stored: a connector's (`SourceKind`) or another origin's
 * (`web_pixel`, `csv_import`…); empty for data that arrived without a source.
 */
kind: string, last_success_at_ms: number | null, 
/**
 * ok | stale | failing | needs_reconnecting (the source's data-health state); imported for
 * data that arrived without a connected source.
 */
state: SourceState, };

export type Provenance = { run_id: number, model: ModelName, 
/**
 * The model and its parameters in words ("Last touch · 30-day window").
 */
in_words: string, parameters: string, run_finished_at_ms: number | null, reporting_currency: string, freshness: Array<FreshnessLine>, deterministic: MoneyAmount, identity_graph: MoneyAmount, probabilistic: MoneyAmount, unattributed_orders: number, unattributed: MoneyAmount, missing_fx_orders: number, provisional: MoneyAmount, 
/**
 * The basis the view's credits are dated by.
 */
basis: Basis, 
/**
 * Under accrual over a range, what the credits crossing its edges move from the cash
 * basis, in words; null otherwise (the bases agree).
 */
basis_shift: string | null, 
/**
 * Which touches the run read (a run stored before the filter existed read all).
 */
touches: Touches, 
/**
 * The same in words: "bot touches excluded", "only human touches", "all touches".
 */
touches_in_words: string, };

export type RoasRow = { key: string, label: string, bucket: string | null, revenue: MoneyAmount, ad_spend: MoneyAmount, creator_cost: MoneyAmount, cost: MoneyAmount, 
/**
 * Revenue ÷ cost with 2 decimals; null when there is no cost (shown as "—").
 */
roas: string | null, 
/**
 * Orders credited: the sum of fractional credit, exact (9 decimals); the window rounds it.
 */
orders_credited: string, provisional: MoneyAmount, };

export type ChartSvg = { title: string, svg: string, };

export type RoasView = { rows: Array<RoasRow>, totals: RoasRow, provenance: Provenance, };

export type CacRow = { key: string, label: string, cost: MoneyAmount, 
/**
 * Attributed new customers, fractional, exact (9 decimals).
 */
new_customers: string, cac: MoneyAmount | null, 
/**
 * Each payback over the new customers whose window has closed (see `payback_customers`).
 */
payback_30: string | null, payback_60: string | null, payback_90: string | null, 
/**
 * Per window (30, 60, 90 days), the new customers whose window has closed: those each
 * payback covers, of `new_customers`. Exact, 9 decimals.
 */
payback_customers: Array<string>, };

export type CacView = { rows: Array<CacRow>, totals: CacRow, provenance: Provenance, };

export type CohortHorizonCell = { days: number, 
/**
 * The row's customers whose horizon has closed: those the revenue and payback cover, of
 * `CohortRow.customers`. Exact, 9 decimals.
 */
customers_closed: string, 
/**
 * What they brought in during their first `days` days (refunds dated when they happened).
 */
revenue: MoneyAmount, 
/**
 * `revenue` ÷ `customers_closed`; null while no customer's horizon has closed.
 */
revenue_per_customer: MoneyAmount | null, 
/**
 * revenue ÷ (cost × closed ÷ customers), 2 decimals; null without cost or closed customers.
 */
payback: string | null, };

export type CohortRow = { 
/**
 * The cohort: `2026-03` (month), `2026-W09` (ISO week), or `(all)` for the totals.
 */
cohort: string, key: string, label: string, 
/**
 * New customers, fractional (a first order split 0.6 / 0.4 counts 0.6 here), exact.
 */
customers: string, first_order_revenue: MoneyAmount, revenue_to_date: MoneyAmount, 
/**
 * One per horizon: 30, 60, 90, 180 days.
 */
horizons: Array<CohortHorizonCell>, ad_spend: MoneyAmount, creator_cost: MoneyAmount, cost: MoneyAmount, cac: MoneyAmount | null, };

export type CohortView = { bucket: Bucket, rows: Array<CohortRow>, cohorts: Array<CohortRow>, totals: CohortRow, chart: ChartSvg, provenance: Provenance, };

export type CompareRow = { key: string, label: string, 
/**
 * One per compared model, in the order of `CompareView.models`.
 */
revenue: Array<MoneyAmount>, spread: MoneyAmount, 
/**
 * Spread ÷ the largest revenue, as a percentage with 1 decimal.
 */
spread_percent: string | null, };

export type CompareView = { models: Array<Provenance>, rows: Array<CompareRow>, charts: Array<ChartSvg>, };

export type CreatorContentRow = { content_id: string, title: string, kind: string, url: string | null, revenue: MoneyAmount, orders_credited: string, };

export type CreatorOrderRow = { order_id: string, occurred_at_ms: number, 
/**
 * This creator's share of the order, percent with 2 decimals.
 */
share_percent: string, credited: MoneyAmount, provisional: boolean, };

export type CreatorDay = { day: string, revenue: MoneyAmount, };

export type CreatorRevenueView = { creator_id: string, display_name: string, gross: MoneyAmount, refunds: MoneyAmount, net: MoneyAmount, settled: MoneyAmount, provisional: MoneyAmount, content: Array<CreatorContentRow>, orders: Array<CreatorOrderRow>, by_day: Array<CreatorDay>, provenance: Provenance, };

export type CreatorListItem = { creator_id: string, display_name: string, };

export type ChangeKind = "model" | "traffic_rules";

export type ModelChangeEntry = { kind: ChangeKind, changed_at_ms: number, changed_by: string, 
/**
 * A change of model: the models before and after (`None` before for the first).
 */
from_model: ModelName | null, to_model: ModelName | null, parameters_before: string | null, parameters_after: string | null, 
/**
 * A change of traffic rules: the rule set versions before and after.
 */
from_rules_version: number | null, to_rules_version: number | null, 
/**
 * The change in words: the model and parameters after it ("Position based · 30-day
 * window · 40/20/40"), or what changed in the traffic rules ("Traffic rules v1 → v2: rule
 * chat-preview now suspicious instead of bot").
 */
after_in_words: string, reason: string, };

export type ExportTable = "roas" | "cac" | "compare" | "creator" | "creator-content" | "model-log" | "credits" | "orders" | "touches" | "spend" | "reconcile" | "dead-letters" | "alert-rules" | "health" | "revenue" | "sources" | "cohorts";

export type ExportResult = { path: string, rows: number, };

export type StatementWritten = { pdf_path: string, csv_path: string, creator_id: string, display_name: string, 
/**
 * The period, YYYY-MM-DD in the reporting zone, inclusive.
 */
from: string, to: string, run_id: number, model: string, 
/**
 * Orders of the period credited to the creator, and clawbacks of earlier orders.
 */
orders: number, clawbacks: number, settled: MoneyAmount, provisional: MoneyAmount, clawbacks_total: MoneyAmount, net: MoneyAmount, costs: MoneyAmount, 
/**
 * The PDF's summary, line by line.
 */
summary: Array<StatementLine>, };

export type StatementLine = { label: string, figure: string, };

export type WeightRowView = { channel: string, 
/**
 * The removal effect (Markov) or Shapley value.
 */
value: number, 
/**
 * `value` normalized over the run's channels (they sum to 1 when any value is positive).
 */
weight: number, 
/**
 * Converting paths the channel appears in.
 */
conversions: number, 
/**
 * All paths the channel appears in.
 */
paths: number, };

export type WeightsView = { model: ModelName, run_id: number, 
/**
 * `removal_effect` (Markov) or `shapley_value` (Shapley): what `value` is, as the CSV's
 * column is named.
 */
value_name: string, rows: Array<WeightRowView>, };

export type IntervalSettings = { resamples: number, 
/**
 * Coverage, e.g. 0.9 for 90% intervals.
 */
level: number, 
/**
 * The generator's seed, as decimal text (a u64 does not fit a JavaScript number).
 */
seed: string, 
/**
 * "too few conversions to say".
 */
too_few_words: string, };

export type WeightIntervalRow = { channel: string, weight: number, low: number, high: number, 
/**
 * Converting paths the channel appears in.
 */
conversions: number, 
/**
 * Fewer than 30 conversions or an interval wider than the weight: show the words instead.
 */
too_few: boolean, };

export type WeightIntervalsView = { model: ModelName, run_id: number, settings: IntervalSettings, rows: Array<WeightIntervalRow>, };

export type RevenueIntervalRow = { 
/**
 * The key as the ROAS rows name it.
 */
key: string, label: string, low: MoneyAmount, high: MoneyAmount, 
/**
 * Orders in range whose journey has a touch of this key.
 */
orders: number, 
/**
 * Fewer than 30 orders or an interval wider than the revenue: show the words instead.
 */
too_few: boolean, };

export type RevenueIntervalsView = { run_id: number, by: ViewBy, settings: IntervalSettings, rows: Array<RevenueIntervalRow>, };

export type OrderCreditRow = { order_id: string, 
/**
 * The order's share of a conversion, exact ("1", "0.5").
 */
conversions: string, 
/**
 * Credited net revenue in the reporting currency.
 */
revenue: MoneyAmount, };

export type OrderCreditsView = { run_id: number, model: string, rows: Array<OrderCreditRow>, total: MoneyAmount, };

export type NewSourceRequest = { kind: SourceKind, name: string, base_url: string | null, account: string | null, secret: string, 
/**
 * OAuth endpoint overrides (a proxy, a test server); null or empty: the platform's own.
 */
oauth_token_url: string | null, oauth_authorize_url: string | null, };

export type ReconnectSourceRequest = { source_id: string, secret: string, };

export type Expiry = "unknown" | "never" | "renewed" | "ok" | "soon";

export type CredentialStatus = { expiry: Expiry, 
/**
 * When it expires (the earlier of the token and its data access); null unless it does.
 */
expires_at_ms: number | null, 
/**
 * The platform's kind of token (Meta: SYSTEM_USER, USER, …).
 */
token_type: string | null, 
/**
 * The permissions granted to it.
 */
scopes: Array<string>, 
/**
 * Where the platform cannot be asked: its policy for this kind of credential, in words
 * (`lookback_sync::credential_lifetimes`).
 */
policy: string | null, };

export type SourceRow = { source_id: string, 
/**
 * As stored: a connector's kind (`SourceKind`) or another origin's (`web_pixel`…).
 */
kind: string, name: string, 
/**
 * The API root as added (null: the platform's own), for the Reconnect form.
 */
base_url: string | null, 
/**
 * The account as added, for the Reconnect form.
 */
account: string | null, last_success_at_ms: number | null, 
/**
 * Now minus the last success, in milliseconds; null if it never succeeded.
 */
lag_ms: number | null, records: number, last_error: string | null, dead_letters: number, 
/**
 * ok | stale | failing | needs_reconnecting (the platform refused the credential: the
 * card offers Reconnect, the one action that fixes it); never imported.
 */
state: SourceState, 
/**
 * Since when the source needs reconnecting; null unless it does.
 */
needs_reconnect_since_ms: number | null, 
/**
 * The credential's expiry and permissions, as the platform last reported them.
 */
credential: CredentialStatus, 
/**
 * The platform API version this kind of source is pinned to (null: an unversioned API).
 */
api_version: string | null, 
/**
 * Said from 30 days before the platform's announced sunset of that version: the app must
 * be updated before it (null otherwise).
 */
api_version_warning: string | null, 
/**
 * Data health (lookback-trust computes every figure; see `lookback health`).
 */
health: SourceHealthMetrics, };

export type SourceHealthMetrics = { 
/**
 * Raw events received in the last 24 hours.
 */
records_last_24h: number, 
/**
 * The median of the raw events received per 24 hours over the 14 days before; null while
 * the source is too young to say.
 */
usual_daily_records: number | null, 
/**
 * The last 24 h brought less than half the usual (and the usual is at least 10).
 */
volume_drop: boolean, window_days: number, 
/**
 * Syncs that ended complete or failed.
 */
sync_runs: number, failed_runs: number, 
/**
 * failed ÷ runs as a decimal with 2 places ("0.25"); null without runs.
 */
error_rate: string | null, 
/**
 * Requests retried after throttling or transient failures.
 */
retries: number, 
/**
 * Unknown new fields the connectors saw (kept in the raw payload).
 */
unknown_fields: number, 
/**
 * Dead letters whose record missed a field or had one of the wrong type.
 */
schema_dead_letters: number, };

export type DeadLetterRow = { dead_letter_id: number, stream: string, location: string, reason: string, created_at_ms: number, };

export type ReplayResult = { examined: number, resolved: number, still_failing: number, };

export type StreamOutcomeName = "complete" | "failed" | "unavailable" | "cancelled";

export type SyncProgress = { "event": "stream_started", stream: string, } | { "event": "page", stream: string, pages: number, records: number, inserted: number, dead_letters: number, retries: number, } | { "event": "waiting", stream: string, seconds: number, reason: string, } | { "event": "stream_finished", stream: string, outcome: StreamOutcomeName, 
/**
 * Why it failed or was unavailable; null when it completed or was cancelled.
 */
detail: string | null, } | { "event": "done", new_records: number, } | { "event": "failed", message: string, } | { "event": "needs_reconnecting", message: string, };

export type RunPhaseName = "journeys" | "credits" | "writing" | "done" | "cancelled" | "failed";

export type RunProgress = { 
/**
 * The model's name, e.g. `markov`.
 */
model: ModelName, phase: RunPhaseName, };

export type UpgradeStatus = { from_version: number, to_version: number, 
/**
 * The change being applied, 1-based, of `changes`.
 */
change: number, changes: number, 
/**
 * What that change does, in words ("workspace totals").
 */
change_title: string, elapsed_ms: number, finished: boolean, };

export type Maintenance = { 
/**
 * Raw events that compacting would make smaller.
 */
raw_events_to_compact: number, 
/**
 * Whether that is worth offering (it ends by rebuilding the whole file).
 */
offer_compaction: boolean, };

export type CompactionResult = { rows_converted: number, 
/**
 * The file's size before and after, in bytes.
 */
bytes_before: number, bytes_after: number, 
/**
 * Stopped before the end; the next run resumes.
 */
stopped: boolean, 
/**
 * Nothing was left to do.
 */
already_compact: boolean, };

export type JobProgress = { "job": "run", progress: RunProgress, } | { "job": "sync", source_id: string, progress: SyncProgress, } | { "job": "connect", source_id: string, text: string, } | { "job": "upgrade", path: string, progress: UpgradeStatus, } | { "job": "compact", path: string, done: number, total: number, };

export type ReconcileRow = { source: string, day: string, orders: number, 
/**
 * In the orders' own currency.
 */
gross: MoneyAmount, net: MoneyAmount, 
/**
 * In the reporting currency.
 */
known_to_attribution: MoneyAmount, attributed: MoneyAmount, unattributed: MoneyAmount, };

export type GapOrder = { order_id: string, source: string, day: string, amount: MoneyAmount, };

export type GapCauseName = "not_in_run" | "missing_fx" | "identity_unresolved" | "no_touch_in_window" | "unknown_creator_or_campaign" | "refund_not_synced";

export type GapCause = { cause: GapCauseName, label: string, orders: number, amounts: Array<MoneyAmount>, top: Array<GapOrder>, };

export type ReconcileView = { from_day: string, to_day: string, model: ModelName, run_id: number | null, 
/**
 * False when newer data has arrived since the run: the views will recompute.
 */
run_is_current: boolean, rows: Array<ReconcileRow>, gaps: Array<GapCause>, 
/**
 * None: no run to check. Some(0): the run conserves revenue exactly.
 */
conservation_violations: number | null, };

export type ListenerStatus = { listening: boolean, address: string | null, stored: number, };

export type WebhookSecretRow = { source: string, secret_ref: string, added_at_ms: number, };

export type NewWebhookSecret = { source: string, secret: string, };

export type AlertCheckSummary = { 
/**
 * Findings of all rules, including ones notified before.
 */
findings: number, 
/**
 * New notifications this check claimed.
 */
claimed: number, sent: number, 
/**
 * Notifications that failed for good (dead-lettered).
 */
failed: number, 
/**
 * Notifications waiting for a channel (Slack without a URL).
 */
waiting: number, };

export type ImportKindName = "touches" | "orders" | "refunds" | "spend" | "creator-costs" | "identities" | "fx-rates";

export type ImportResult = { file: string, kind: ImportKindName, imported: number, duplicates: number, updated: number, 
/**
 * Rows of an erased person, not stored.
 */
suppressed: number, 
/**
 * Rows sent to dead letters (FILE:LINE and the reason, on the Sources screen).
 */
rejected: number, };

export type PrivacyView = { 
/**
 * Keep PII fields of raw payloads (names, phones, IPs, user agents, addresses).
 */
store_raw_pii: boolean, 
/**
 * Days raw payloads are kept before a purge blanks them; none: kept.
 */
retention_days: number | null, erasures: Array<ErasureRow>, };

export type ErasureRow = { erasure_id: number, erased_at_ms: number, 
/**
 * The kind of key the request named (email, customer_id, …).
 */
key_type: string, marker: string, 
/**
 * What was removed or anonymized, in words.
 */
summary: string, };

export type AlertKindName = "creator_revenue" | "large_order" | "sync_failing" | "dead_letters" | "source_health";

export type AlertChannel = "desktop" | "slack";

export type SourceKind = "generic" | "stripe" | "meta" | "google_ads" | "tiktok" | "shopify" | "dub" | "rewardful";

export type AlertRuleRow = { rule_id: number, kind: AlertKindName, subject: string | null, 
/**
 * Minor units for money kinds, minutes for sync_failing, a count for dead_letters.
 */
threshold: number, currency: string | null, include_provisional: boolean, grace_minutes: number, channel: AlertChannel, };

export type NewAlertRule = { kind: AlertKindName, subject: string | null, threshold: string, currency: string | null, include_provisional: boolean, grace_minutes: number, channel: AlertChannel, };

export type RunRow = { run_id: number, model: string, 
/**
 * The model's parameters as the run stored them (canonical JSON).
 */
parameters: string, 
/**
 * The model and its parameters in words ("Time decay · 30-day window · half-life 7 days").
 */
in_words: string, reporting_currency: string, finished_at_ms: number | null, };

export type ConservationView = { run_id: number, holds: boolean, violations: Array<ConservationViolationRow>, };

export type ConservationViolationRow = { order_id: string, net: MoneyAmount, credited: MoneyAmount, credit_rows: number, };

export type CreatorMoveRow = { 
/**
 * None: touches without a creator.
 */
creator_id: string | null, before: MoneyAmount, after: MoneyAmount, delta: MoneyAmount, };

export type DuplicateRow = { source: string, raw_events: number, distinct_records: number, restated_versions: number, };

export type AlertNotificationRow = { notification_id: number, rule_id: number, 
/**
 * pending, sent, failed, …
 */
state: string, channel: string, attempts: number, title: string, last_error: string | null, };

export type TrafficRow = { source: string, channel: string, touches: number, human: number, suspicious: number, bot: number, 
/**
 * Suspicious and bot touches over all, 0–1.
 */
not_human_share: number, 
/**
 * The family most suspicious and bot touches came from (`slack-preview`, …).
 */
top_family: string | null, credited_human: MoneyAmount, credited_suspicious: MoneyAmount, credited_bot: MoneyAmount, };

export type TrafficView = { 
/**
 * Which rule set decided the classes and which run's credit is split, in words.
 */
provenance: string, rules_version: number, run_id: number | null, rows: Array<TrafficRow>, };

export type TrafficClassName = "human" | "suspicious" | "bot";

export type TrafficRuleView = { id: string, enabled: boolean, class: TrafficClassName, score: number, 
/**
 * What it matches, in words.
 */
matches: string, description: string, 
/**
 * Where its facts come from.
 */
source: string, 
/**
 * The rule's own window in seconds, when it has one the editor can change (the after-send
 * window of `soon_after_carrier`, the sweep window of `scanner_sweep`).
 */
window_seconds: number | null, };

export type TrafficRuleVersion = { version: number, 
/**
 * `None` for the built-in set a workspace starts with.
 */
adopted_at_ms: number | null, adopted_by: string, reason: string, 
/**
 * What changed from the version before, in words (the built-in set: "the built-in rules").
 */
changes: string, };

export type TrafficRulesView = { version: number, adopted_at_ms: number | null, adopted_by: string, burst_window_seconds: number, rules: Array<TrafficRuleView>, 
/**
 * Newest first.
 */
history: Array<TrafficRuleVersion>, };

export type TrafficRuleEdit = { id: string, enabled: boolean, class: TrafficClassName, window_seconds: number | null, };

export type TrafficRulesChange = { burst_window_seconds: number, 
/**
 * Rules not named keep what they are.
 */
rules: Array<TrafficRuleEdit>, 
/**
 * Why; required, the model log keeps it.
 */
reason: string, };

export type TrafficClassCounts = { human: number, suspicious: number, bot: number, };

export type TrafficMove = { from: TrafficClassName, to: TrafficClassName, touches: number, };

export type TrafficRulesAdopted = { from_version: number, to_version: number, 
/**
 * "Traffic rules v1 → v2: rule chat-preview now suspicious instead of bot".
 */
in_words: string, touches: number, before: TrafficClassCounts, after: TrafficClassCounts, 
/**
 * Only the touches whose class changed.
 */
moved: Array<TrafficMove>, };

