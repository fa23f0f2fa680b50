//! Wire types: every request a job takes and every response it gives, as they cross from Rust
//! to the UI (and as the CLI prints them with `--format json`).
//!
//! Each type derives `ts_rs::TS`; `ui/src/bindings.ts` is generated from them by
//! `cargo test --workspace bindings` with `UPDATE_BINDINGS=1`, and the test `bindings_are_current`
//! fails when the committed file is stale. Money crosses as exact decimal strings with their
//! currency (plus the integer minor units), never as floats; instants as UTC milliseconds.

use lookback_alerts::{AlertKind, Channel};
use lookback_core::attribution::Model;
use lookback_core::time::TimeBucket;
use lookback_core::touch_filter::TouchFilter;
use lookback_report::ViewKey;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use crate::error::{AppError, ErrorKind};

/// What the window needs at start: the open workspace, if any, and what it could open.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StartupState {
    pub workspace: Option<WorkspaceInfo>,
    /// Where "Open the demo workspace" writes (or finds) the demo.
    pub demo_path: String,
    /// Recently opened workspace files, most recent first, that still exist.
    pub recent: Vec<String>,
    /// The workspace named at start (or the last one used) when it was written by an older
    /// Lookback: the window opens it with `open_workspace`, showing the upgrade's progress.
    pub upgrade_pending: Option<String>,
}

/// The open workspace: its file and its settings that shape every number.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WorkspaceInfo {
    pub path: String,
    pub name: String,
    pub reporting_currency: String,
    pub reporting_timezone: String,
    /// Set when the file is damaged and was opened read-only: why, and what to do.
    pub read_only_reason: Option<String>,
}

/// An amount of money: exact decimal string in major units, the integer minor units, and the currency.
#[derive(Debug, Clone, Serialize, TS, PartialEq, Eq)]
pub struct MoneyAmount {
    pub currency: String,
    /// Exact decimal in major units, e.g. "1234.50".
    pub amount: String,
    #[ts(type = "number")]
    pub minor: i64,
}

/// Order revenue in one currency: gross, refunds, chargebacks and what is left.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RevenueByCurrency {
    pub currency: String,
    pub gross: MoneyAmount,
    pub refunds: MoneyAmount,
    pub chargebacks: MoneyAmount,
    pub net: MoneyAmount,
}

/// How current one source's data is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceFreshness {
    pub source_id: String,
    /// The source's kind as stored: a connector's (`SourceKind`) or another origin's
    /// (`web_pixel`, `csv_import`…); empty for data that arrived without a source.
    pub kind: String,
    pub name: String,
    #[ts(type = "number | null")]
    pub last_success_at_ms: Option<i64>,
    pub last_error: Option<String>,
    #[ts(type = "number")]
    pub records: i64,
    /// ok | stale | failing | needs_reconnecting for a connected source (its data-health
    /// state); imported for data that arrived without one (CSV, demo).
    pub state: SourceState,
}

/// A source's data-health badge: the trust crate's state for a connected source, `imported`
/// for data that arrived without one (CSV, demo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    Ok,
    Stale,
    Failing,
    NeedsReconnecting,
    Imported,
}

impl SourceState {
    /// Every state, in badge order.
    pub const ALL: [SourceState; 5] = [
        SourceState::Ok,
        SourceState::Stale,
        SourceState::Failing,
        SourceState::NeedsReconnecting,
        SourceState::Imported,
    ];

    /// The word on the wire and in files: `ok`, `stale`, `failing`, `needs_reconnecting`,
    /// `imported`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Ok => "ok",
            SourceState::Stale => "stale",
            SourceState::Failing => "failing",
            SourceState::NeedsReconnecting => "needs_reconnecting",
            SourceState::Imported => "imported",
        }
    }

    /// The state spelled `name` (as [`SourceState::as_str`] spells it).
    pub fn named(name: &str) -> Option<SourceState> {
        SourceState::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl From<lookback_trust::HealthState> for SourceState {
    fn from(state: lookback_trust::HealthState) -> Self {
        match state {
            lookback_trust::HealthState::Ok => SourceState::Ok,
            lookback_trust::HealthState::Stale => SourceState::Stale,
            lookback_trust::HealthState::Failing => SourceState::Failing,
            lookback_trust::HealthState::NeedsReconnecting => SourceState::NeedsReconnecting,
        }
    }
}

/// The workspace overview screen: what is in the store, and how fresh it is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Overview {
    pub workspace: WorkspaceInfo,
    #[ts(type = "number")]
    pub orders: i64,
    /// Net revenue and ad spend in the reporting currency (see `lookback_report::headline`).
    pub headline: OverviewHeadline,
    pub revenue: Vec<RevenueByCurrency>,
    pub spend: Vec<MoneyAmount>,
    #[ts(type = "number")]
    pub touches: i64,
    #[ts(type = "number")]
    pub creators: i64,
    #[ts(type = "number")]
    pub campaigns: i64,
    #[ts(type = "number | null")]
    pub first_activity_at_ms: Option<i64>,
    #[ts(type = "number | null")]
    pub last_activity_at_ms: Option<i64>,
    #[ts(type = "number")]
    pub dead_letters: i64,
    pub sources: Vec<SourceFreshness>,
}

/// The overview's headline: one total each in the reporting currency, converted at each day's
/// rate; what had no rate is left out and listed per currency in its own money.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OverviewHeadline {
    pub net_revenue: MoneyAmount,
    pub unconverted_revenue: Vec<UnconvertedMoney>,
    pub ad_spend: MoneyAmount,
    pub unconverted_spend: Vec<UnconvertedMoney>,
}

/// Money of one currency with no exchange rate for its days: the orders (revenue) or spend rows
/// (spend) it holds and its sum in its own currency.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UnconvertedMoney {
    pub amount: MoneyAmount,
    #[ts(type = "number")]
    pub rows: u64,
}

/// The dates a view's From and To show and the presets beside them, as days (`YYYY-MM-DD`) in
/// the workspace's reporting zone: a view without dates covers `first_day`..=`last_day`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DateRange {
    /// The first and last day with an order or a touch; null in an empty workspace.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    /// Today in the reporting zone, which the presets count back from.
    pub today: String,
    pub presets: Vec<DatePreset>,
}

/// A named date range: last 7 / 30 / 90 days, this month, last month, all.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DatePreset {
    /// `last-7`, `last-30`, `last-90`, `this-month`, `last-month`, `all`.
    pub id: String,
    pub label: String,
    /// Both null for `all`: the view covers every day.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// An attribution model by its CLI name (`lookback_core::attribution::Model::as_str`), as the
/// window sends it and as `lookback model set` and `--model` take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ModelName {
    FirstTouch,
    LastTouch,
    LastNonDirect,
    Linear,
    TimeDecay,
    PositionBased,
    Markov,
    Shapley,
}

impl From<Model> for ModelName {
    fn from(model: Model) -> Self {
        match model {
            Model::FirstTouch => ModelName::FirstTouch,
            Model::LastTouch => ModelName::LastTouch,
            Model::LastNonDirect => ModelName::LastNonDirect,
            Model::Linear => ModelName::Linear,
            Model::TimeDecay => ModelName::TimeDecay,
            Model::PositionBased => ModelName::PositionBased,
            Model::Markov => ModelName::Markov,
            Model::Shapley => ModelName::Shapley,
        }
    }
}

impl ModelName {
    /// The model a run or a model-log entry names in the store; an unknown name is the store's
    /// fault, not the user's.
    pub fn stored(name: &str) -> Result<ModelName, AppError> {
        Model::parse(name).map(ModelName::from).map_err(|_| {
            AppError::new(
                ErrorKind::Internal,
                format!("the workspace names an unknown model {name:?}"),
            )
        })
    }
}

impl From<ModelName> for Model {
    fn from(name: ModelName) -> Self {
        match name {
            ModelName::FirstTouch => Model::FirstTouch,
            ModelName::LastTouch => Model::LastTouch,
            ModelName::LastNonDirect => Model::LastNonDirect,
            ModelName::Linear => Model::Linear,
            ModelName::TimeDecay => Model::TimeDecay,
            ModelName::PositionBased => Model::PositionBased,
            ModelName::Markov => Model::Markov,
            ModelName::Shapley => Model::Shapley,
        }
    }
}

/// One attribution model the UI can offer, with what it means.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelInfo {
    /// The CLI name, e.g. "position-based".
    pub name: ModelName,
    pub label: String,
    pub description: String,
    /// Markov and Shapley learn channel weights from all journeys.
    pub data_driven: bool,
}

/// A model and its parameters, as the UI chooses them.
#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq, Eq)]
pub struct ModelChoice {
    pub model: ModelName,
    pub window_days: u32,
    pub half_life_days: u32,
    /// First, middle, last in percent; they sum to 100.
    pub position_weights: [u32; 3],
}

/// The models on offer and the workspace's default.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelCatalog {
    pub models: Vec<ModelInfo>,
    pub default: ModelChoice,
    /// The touches the workspace's views read unless the touch switch says otherwise.
    pub touches: Touches,
}

/// What a view's rows are grouped by (`lookback_report::ViewKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ViewBy {
    Creator,
    Campaign,
    Channel,
    Content,
    Platform,
}

impl From<ViewKey> for ViewBy {
    fn from(key: ViewKey) -> Self {
        match key {
            ViewKey::Creator => ViewBy::Creator,
            ViewKey::Campaign => ViewBy::Campaign,
            ViewKey::Channel => ViewBy::Channel,
            ViewKey::Content => ViewBy::Content,
            ViewKey::Platform => ViewBy::Platform,
        }
    }
}

impl From<ViewBy> for ViewKey {
    fn from(by: ViewBy) -> Self {
        match by {
            ViewBy::Creator => ViewKey::Creator,
            ViewBy::Campaign => ViewKey::Campaign,
            ViewBy::Channel => ViewKey::Channel,
            ViewBy::Content => ViewKey::Content,
            ViewBy::Platform => ViewKey::Platform,
        }
    }
}

/// The period of a bucketed view's rows (`lookback_core::time::TimeBucket`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Day,
    Week,
    Month,
}

impl From<TimeBucket> for Bucket {
    fn from(bucket: TimeBucket) -> Self {
        match bucket {
            TimeBucket::Day => Bucket::Day,
            TimeBucket::Week => Bucket::Week,
            TimeBucket::Month => Bucket::Month,
        }
    }
}

impl From<Bucket> for TimeBucket {
    fn from(bucket: Bucket) -> Self {
        match bucket {
            Bucket::Day => TimeBucket::Day,
            Bucket::Week => TimeBucket::Week,
            Bucket::Month => TimeBucket::Month,
        }
    }
}

/// Which day a credit counts on (`lookback_store::CreditBasis`): its order's (cash, the
/// default) or the touch's it credits (accrual).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[default]
    Cash,
    Accrual,
}

impl From<lookback_store::CreditBasis> for Basis {
    fn from(basis: lookback_store::CreditBasis) -> Self {
        match basis {
            lookback_store::CreditBasis::Cash => Basis::Cash,
            lookback_store::CreditBasis::Accrual => Basis::Accrual,
        }
    }
}

impl From<Basis> for lookback_store::CreditBasis {
    fn from(basis: Basis) -> Self {
        match basis {
            Basis::Cash => lookback_store::CreditBasis::Cash,
            Basis::Accrual => lookback_store::CreditBasis::Accrual,
        }
    }
}

/// Which touches a view's run reads, by traffic class (`lookback_core::touch_filter`): bot
/// touches left out (the default), only human touches, or every touch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum Touches {
    #[default]
    NoBots,
    Human,
    All,
}

impl From<TouchFilter> for Touches {
    fn from(filter: TouchFilter) -> Self {
        match filter {
            TouchFilter::NoBots => Touches::NoBots,
            TouchFilter::Human => Touches::Human,
            TouchFilter::All => Touches::All,
        }
    }
}

impl From<Touches> for TouchFilter {
    fn from(touches: Touches) -> Self {
        match touches {
            Touches::NoBots => TouchFilter::NoBots,
            Touches::Human => TouchFilter::Human,
            Touches::All => TouchFilter::All,
        }
    }
}

/// What a view is asked for. `model: null` means the workspace's default model.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct ViewRequest {
    pub model: Option<ModelChoice>,
    pub by: ViewBy,
    /// First and last day, YYYY-MM-DD in the reporting zone, inclusive: of the orders, or of
    /// the credited touches under the accrual basis.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Null for one row per key.
    pub bucket: Option<Bucket>,
    pub settled_only: bool,
    /// Cash when absent.
    #[serde(default)]
    #[ts(optional)]
    pub basis: Option<Basis>,
    /// Which touches the run reads; the workspace's setting (bot touches left out unless
    /// `lookback model set --touches` changed it) when absent.
    #[serde(default)]
    #[ts(optional)]
    pub touches: Option<Touches>,
}

/// How fresh one source is, for the line under every view.
#[derive(Debug, Clone, Serialize, TS)]
pub struct FreshnessLine {
    pub name: String,
    /// The source's kind as stored: a connector's (`SourceKind`) or another origin's
    /// (`web_pixel`, `csv_import`…); empty for data that arrived without a source.
    pub kind: String,
    #[ts(type = "number | null")]
    pub last_success_at_ms: Option<i64>,
    /// ok | stale | failing | needs_reconnecting (the source's data-health state); imported for
    /// data that arrived without a connected source.
    pub state: SourceState,
}

/// What produced a view: model, parameters, run, freshness, and how solid the revenue is.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Provenance {
    #[ts(type = "number")]
    pub run_id: i64,
    pub model: ModelName,
    /// The model and its parameters in words ("Last touch · 30-day window").
    pub in_words: String,
    pub parameters: String,
    #[ts(type = "number | null")]
    pub run_finished_at_ms: Option<i64>,
    pub reporting_currency: String,
    pub freshness: Vec<FreshnessLine>,
    pub deterministic: MoneyAmount,
    pub identity_graph: MoneyAmount,
    pub probabilistic: MoneyAmount,
    #[ts(type = "number")]
    pub unattributed_orders: i64,
    pub unattributed: MoneyAmount,
    #[ts(type = "number")]
    pub missing_fx_orders: i64,
    pub provisional: MoneyAmount,
    /// The basis the view's credits are dated by.
    pub basis: Basis,
    /// Under accrual over a range, what the credits crossing its edges move from the cash
    /// basis, in words; null otherwise (the bases agree).
    pub basis_shift: Option<String>,
    /// Which touches the run read (a run stored before the filter existed read all).
    pub touches: Touches,
    /// The same in words: "bot touches excluded", "only human touches", "all touches".
    pub touches_in_words: String,
}

/// One row of the ROAS table (or its totals).
#[derive(Debug, Clone, Serialize, TS)]
pub struct RoasRow {
    pub key: String,
    pub label: String,
    pub bucket: Option<String>,
    pub revenue: MoneyAmount,
    pub ad_spend: MoneyAmount,
    pub creator_cost: MoneyAmount,
    pub cost: MoneyAmount,
    /// Revenue ÷ cost with 2 decimals; null when there is no cost (shown as "—").
    pub roas: Option<String>,
    /// Orders credited: the sum of fractional credit, exact (9 decimals); the window rounds it.
    pub orders_credited: String,
    pub provisional: MoneyAmount,
}

/// A chart rendered in Rust, as SVG text.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ChartSvg {
    pub title: String,
    pub svg: String,
}

/// The ROAS screen's table; its charts come from the `roas_charts` command.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RoasView {
    pub rows: Vec<RoasRow>,
    pub totals: RoasRow,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CacRow {
    pub key: String,
    pub label: String,
    pub cost: MoneyAmount,
    /// Attributed new customers, fractional, exact (9 decimals).
    pub new_customers: String,
    pub cac: Option<MoneyAmount>,
    /// Each payback over the new customers whose window has closed (see `payback_customers`).
    pub payback_30: Option<String>,
    pub payback_60: Option<String>,
    pub payback_90: Option<String>,
    /// Per window (30, 60, 90 days), the new customers whose window has closed: those each
    /// payback covers, of `new_customers`. Exact, 9 decimals.
    pub payback_customers: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CacView {
    pub rows: Vec<CacRow>,
    pub totals: CacRow,
    pub provenance: Provenance,
}

/// One horizon (30, 60, 90 or 180 days) of a cohort row.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CohortHorizonCell {
    pub days: u32,
    /// The row's customers whose horizon has closed: those the revenue and payback cover, of
    /// `CohortRow.customers`. Exact, 9 decimals.
    pub customers_closed: String,
    /// What they brought in during their first `days` days (refunds dated when they happened).
    pub revenue: MoneyAmount,
    /// `revenue` ÷ `customers_closed`; null while no customer's horizon has closed.
    pub revenue_per_customer: Option<MoneyAmount>,
    /// revenue ÷ (cost × closed ÷ customers), 2 decimals; null without cost or closed customers.
    pub payback: Option<String>,
}

/// One row of the cohorts table: a cohort and who acquired its customers (or every key).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CohortRow {
    /// The cohort: `2026-03` (month), `2026-W09` (ISO week), or `(all)` for the totals.
    pub cohort: String,
    pub key: String,
    pub label: String,
    /// New customers, fractional (a first order split 0.6 / 0.4 counts 0.6 here), exact.
    pub customers: String,
    pub first_order_revenue: MoneyAmount,
    pub revenue_to_date: MoneyAmount,
    /// One per horizon: 30, 60, 90, 180 days.
    pub horizons: Vec<CohortHorizonCell>,
    pub ad_spend: MoneyAmount,
    pub creator_cost: MoneyAmount,
    pub cost: MoneyAmount,
    pub cac: Option<MoneyAmount>,
}

/// The Cohorts screen: the table (cohort × key rows), each cohort with every key summed, the
/// totals, and the chart of cumulative revenue per customer by cohort.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CohortView {
    pub bucket: Bucket,
    pub rows: Vec<CohortRow>,
    pub cohorts: Vec<CohortRow>,
    pub totals: CohortRow,
    pub chart: ChartSvg,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CompareRow {
    pub key: String,
    pub label: String,
    /// One per compared model, in the order of `CompareView.models`.
    pub revenue: Vec<MoneyAmount>,
    pub spread: MoneyAmount,
    /// Spread ÷ the largest revenue, as a percentage with 1 decimal.
    pub spread_percent: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CompareView {
    pub models: Vec<Provenance>,
    pub rows: Vec<CompareRow>,
    pub charts: Vec<ChartSvg>,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatorContentRow {
    pub content_id: String,
    pub title: String,
    pub kind: String,
    pub url: Option<String>,
    pub revenue: MoneyAmount,
    pub orders_credited: String,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatorOrderRow {
    pub order_id: String,
    #[ts(type = "number")]
    pub occurred_at_ms: i64,
    /// This creator's share of the order, percent with 2 decimals.
    pub share_percent: String,
    pub credited: MoneyAmount,
    pub provisional: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatorDay {
    pub day: String,
    pub revenue: MoneyAmount,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatorRevenueView {
    pub creator_id: String,
    pub display_name: String,
    pub gross: MoneyAmount,
    pub refunds: MoneyAmount,
    pub net: MoneyAmount,
    pub settled: MoneyAmount,
    pub provisional: MoneyAmount,
    pub content: Vec<CreatorContentRow>,
    pub orders: Vec<CreatorOrderRow>,
    pub by_day: Vec<CreatorDay>,
    pub provenance: Provenance,
}

/// A creator to pick on the creator screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatorListItem {
    pub creator_id: String,
    pub display_name: String,
}

/// What a model log entry changed: the model, or the traffic rules (which decide which touches
/// are people's, so they move credit as much).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Model,
    TrafficRules,
}

/// One entry of the model log: a change of model or of traffic rules.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ModelChangeEntry {
    pub kind: ChangeKind,
    #[ts(type = "number")]
    pub changed_at_ms: i64,
    pub changed_by: String,
    /// A change of model: the models before and after (`None` before for the first).
    pub from_model: Option<ModelName>,
    pub to_model: Option<ModelName>,
    pub parameters_before: Option<String>,
    pub parameters_after: Option<String>,
    /// A change of traffic rules: the rule set versions before and after.
    pub from_rules_version: Option<u32>,
    pub to_rules_version: Option<u32>,
    /// The change in words: the model and parameters after it ("Position based · 30-day
    /// window · 40/20/40"), or what changed in the traffic rules ("Traffic rules v1 → v2: rule
    /// chat-preview now suspicious instead of bot").
    pub after_in_words: String,
    pub reason: String,
}

/// One channel's weight learned by a data-driven run (`lookback report weights`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct WeightRowView {
    pub channel: String,
    /// The removal effect (Markov) or Shapley value.
    pub value: f64,
    /// `value` normalized over the run's channels (they sum to 1 when any value is positive).
    pub weight: f64,
    /// Converting paths the channel appears in.
    #[ts(type = "number")]
    pub conversions: i64,
    /// All paths the channel appears in.
    #[ts(type = "number")]
    pub paths: i64,
}

/// The channel weights a Markov or Shapley run learned, largest first.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WeightsView {
    pub model: ModelName,
    #[ts(type = "number")]
    pub run_id: i64,
    /// `removal_effect` (Markov) or `shapley_value` (Shapley): what `value` is, as the CSV's
    /// column is named.
    pub value_name: String,
    pub rows: Vec<WeightRowView>,
}

/// How bootstrap intervals were made, and the words shown for a figure too uncertain to state.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IntervalSettings {
    pub resamples: u32,
    /// Coverage, e.g. 0.9 for 90% intervals.
    pub level: f64,
    /// The generator's seed, as decimal text (a u64 does not fit a JavaScript number).
    pub seed: String,
    /// "too few conversions to say".
    pub too_few_words: String,
}

/// One channel's learned weight with its bootstrap interval.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WeightIntervalRow {
    pub channel: String,
    pub weight: f64,
    pub low: f64,
    pub high: f64,
    /// Converting paths the channel appears in.
    #[ts(type = "number")]
    pub conversions: i64,
    /// Fewer than 30 conversions or an interval wider than the weight: show the words instead.
    pub too_few: bool,
}

/// The weights a Markov or Shapley run learned, with intervals (Compare models, "Show intervals").
#[derive(Debug, Clone, Serialize, TS)]
pub struct WeightIntervalsView {
    pub model: ModelName,
    #[ts(type = "number")]
    pub run_id: i64,
    pub settings: IntervalSettings,
    pub rows: Vec<WeightIntervalRow>,
}

/// One key's credited revenue interval under a data-driven model.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RevenueIntervalRow {
    /// The key as the ROAS rows name it.
    pub key: String,
    pub label: String,
    pub low: MoneyAmount,
    pub high: MoneyAmount,
    /// Orders in range whose journey has a touch of this key.
    #[ts(type = "number")]
    pub orders: i64,
    /// Fewer than 30 orders or an interval wider than the revenue: show the words instead.
    pub too_few: bool,
}

/// The revenue intervals of a ROAS view's keys (the ROAS screen, "Show intervals").
#[derive(Debug, Clone, Serialize, TS)]
pub struct RevenueIntervalsView {
    #[ts(type = "number")]
    pub run_id: i64,
    pub by: ViewBy,
    pub settings: IntervalSettings,
    pub rows: Vec<RevenueIntervalRow>,
}

/// One order's credit in a run (`lookback report credits --by order`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct OrderCreditRow {
    pub order_id: String,
    /// The order's share of a conversion, exact ("1", "0.5").
    pub conversions: String,
    /// Credited net revenue in the reporting currency.
    pub revenue: MoneyAmount,
}

/// The orders credited in a run for a selection, largest revenue first.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OrderCreditsView {
    #[ts(type = "number")]
    pub run_id: i64,
    pub model: String,
    pub rows: Vec<OrderCreditRow>,
    pub total: MoneyAmount,
}

/// Where an export was written and how many rows it holds.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportResult {
    pub path: String,
    #[ts(type = "number")]
    pub rows: i64,
}

/// A creator statement written (`lookback statement`, the Statement button): where its PDF and
/// CSV went, the run it came from, and its totals as the PDF shows them.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StatementWritten {
    pub pdf_path: String,
    pub csv_path: String,
    pub creator_id: String,
    pub display_name: String,
    /// The period, YYYY-MM-DD in the reporting zone, inclusive.
    pub from: String,
    pub to: String,
    #[ts(type = "number")]
    pub run_id: i64,
    pub model: String,
    /// Orders of the period credited to the creator, and clawbacks of earlier orders.
    #[ts(type = "number")]
    pub orders: i64,
    #[ts(type = "number")]
    pub clawbacks: i64,
    pub settled: MoneyAmount,
    pub provisional: MoneyAmount,
    pub clawbacks_total: MoneyAmount,
    pub net: MoneyAmount,
    pub costs: MoneyAmount,
    /// The PDF's summary, line by line.
    pub summary: Vec<StatementLine>,
}

/// One line of a statement's summary: a label and its figure, as printed.
#[derive(Debug, Clone, Serialize, TS)]
pub struct StatementLine {
    pub label: String,
    pub figure: String,
}

/// A source the user connects from the Sources screen. `secret` goes straight into the OS
/// keyring (`lookback_sync::add_source`); it is never stored, logged or sent back.
#[derive(Clone, Deserialize, TS)]
pub struct NewSourceRequest {
    pub kind: SourceKind,
    pub name: String,
    pub base_url: Option<String>,
    pub account: Option<String>,
    pub secret: String,
    /// OAuth endpoint overrides (a proxy, a test server); null or empty: the platform's own.
    pub oauth_token_url: Option<String>,
    pub oauth_authorize_url: Option<String>,
}

impl std::fmt::Debug for NewSourceRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSourceRequest")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("account", &self.account)
            .field("oauth_token_url", &self.oauth_token_url)
            .field("oauth_authorize_url", &self.oauth_authorize_url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// A new secret for a source whose credential the platform refused, from the Reconnect form:
/// it replaces the keyring entry (`lookback_sync::credential_check::reconnect_source`) and is
/// never stored, logged or sent back. The source keeps its data and checkpoints.
#[derive(Clone, Deserialize, TS)]
pub struct ReconnectSourceRequest {
    pub source_id: String,
    pub secret: String,
}

impl std::fmt::Debug for ReconnectSourceRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectSourceRequest")
            .field("source_id", &self.source_id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// A credential's expiry as the card shows it (`lookback_trust::CredentialExpiry`, without its
/// instant): unknown (never inspected, or the platform cannot say) | never (does not expire) |
/// renewed (short-lived tokens Lookback renews itself, by the platform's policy) | ok | soon
/// (expires within 7 days, or has expired: the card warns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    Unknown,
    Never,
    Renewed,
    Ok,
    Soon,
}

impl From<lookback_trust::CredentialExpiry> for Expiry {
    fn from(expiry: lookback_trust::CredentialExpiry) -> Self {
        match expiry {
            lookback_trust::CredentialExpiry::Unknown => Expiry::Unknown,
            lookback_trust::CredentialExpiry::Never => Expiry::Never,
            lookback_trust::CredentialExpiry::At { .. } => Expiry::Ok,
            lookback_trust::CredentialExpiry::Soon { .. } => Expiry::Soon,
        }
    }
}

/// What the platform last said about a source's credential (Meta's `debug_token`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CredentialStatus {
    pub expiry: Expiry,
    /// When it expires (the earlier of the token and its data access); null unless it does.
    #[ts(type = "number | null")]
    pub expires_at_ms: Option<i64>,
    /// The platform's kind of token (Meta: SYSTEM_USER, USER, …).
    pub token_type: Option<String>,
    /// The permissions granted to it.
    pub scopes: Vec<String>,
    /// Where the platform cannot be asked: its policy for this kind of credential, in words
    /// (`lookback_sync::credential_lifetimes`).
    pub policy: Option<String>,
}

/// One source on the Sources screen.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceRow {
    pub source_id: String,
    /// As stored: a connector's kind (`SourceKind`) or another origin's (`web_pixel`…).
    pub kind: String,
    pub name: String,
    /// The API root as added (null: the platform's own), for the Reconnect form.
    pub base_url: Option<String>,
    /// The account as added, for the Reconnect form.
    pub account: Option<String>,
    #[ts(type = "number | null")]
    pub last_success_at_ms: Option<i64>,
    /// Now minus the last success, in milliseconds; null if it never succeeded.
    #[ts(type = "number | null")]
    pub lag_ms: Option<i64>,
    #[ts(type = "number")]
    pub records: i64,
    pub last_error: Option<String>,
    #[ts(type = "number")]
    pub dead_letters: i64,
    /// ok | stale | failing | needs_reconnecting (the platform refused the credential: the
    /// card offers Reconnect, the one action that fixes it); never imported.
    pub state: SourceState,
    /// Since when the source needs reconnecting; null unless it does.
    #[ts(type = "number | null")]
    pub needs_reconnect_since_ms: Option<i64>,
    /// The credential's expiry and permissions, as the platform last reported them.
    pub credential: CredentialStatus,
    /// The platform API version this kind of source is pinned to (null: an unversioned API).
    pub api_version: Option<String>,
    /// Said from 30 days before the platform's announced sunset of that version: the app must
    /// be updated before it (null otherwise).
    pub api_version_warning: Option<String>,
    /// Data health (lookback-trust computes every figure; see `lookback health`).
    pub health: SourceHealthMetrics,
}

/// A source's data-health metrics. Counts of runs, retries and schema drift cover the last
/// `window_days` days.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SourceHealthMetrics {
    /// Raw events received in the last 24 hours.
    #[ts(type = "number")]
    pub records_last_24h: i64,
    /// The median of the raw events received per 24 hours over the 14 days before; null while
    /// the source is too young to say.
    #[ts(type = "number | null")]
    pub usual_daily_records: Option<i64>,
    /// The last 24 h brought less than half the usual (and the usual is at least 10).
    pub volume_drop: bool,
    #[ts(type = "number")]
    pub window_days: i64,
    /// Syncs that ended complete or failed.
    #[ts(type = "number")]
    pub sync_runs: i64,
    #[ts(type = "number")]
    pub failed_runs: i64,
    /// failed ÷ runs as a decimal with 2 places ("0.25"); null without runs.
    pub error_rate: Option<String>,
    /// Requests retried after throttling or transient failures.
    #[ts(type = "number")]
    pub retries: i64,
    /// Unknown new fields the connectors saw (kept in the raw payload).
    #[ts(type = "number")]
    pub unknown_fields: i64,
    /// Dead letters whose record missed a field or had one of the wrong type.
    #[ts(type = "number")]
    pub schema_dead_letters: i64,
}

/// A record that could not be used, with where it came from and why.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DeadLetterRow {
    #[ts(type = "number")]
    pub dead_letter_id: i64,
    pub stream: String,
    pub location: String,
    pub reason: String,
    #[ts(type = "number")]
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ReplayResult {
    #[ts(type = "number")]
    pub examined: i64,
    #[ts(type = "number")]
    pub resolved: i64,
    #[ts(type = "number")]
    pub still_failing: i64,
}

/// A phase of a new attribution run: the engine's (`lookback_engine::RunPhase`), then how it
/// ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RunPhaseName {
    Journeys,
    Credits,
    Writing,
    Done,
    Cancelled,
    Failed,
}

impl From<lookback_engine::RunPhase> for RunPhaseName {
    fn from(phase: lookback_engine::RunPhase) -> Self {
        match phase {
            lookback_engine::RunPhase::Journeys => RunPhaseName::Journeys,
            lookback_engine::RunPhase::Credits => RunPhaseName::Credits,
            lookback_engine::RunPhase::Writing => RunPhaseName::Writing,
        }
    }
}

/// The phase a new attribution run has reached, told (as [`JobProgress::Run`]) while a view
/// waits for it: `journeys`, `credits` or `writing`, then `done` (or `cancelled`, `failed`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunProgress {
    /// The model's name, e.g. `markov`.
    pub model: ModelName,
    pub phase: RunPhaseName,
}

/// What a long job tells the window while it works — one type for every long job, sent as the
/// window's `job-progress` event: a new attribution run's phases, a sync's pages, waits and
/// streams, and the lines of a browser sign-in. Each names what it is about (the model, the
/// source), so a screen shows only its own.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum JobProgress {
    /// A new attribution run for the views.
    Run { progress: RunProgress },
    /// A sync of one source; the last is `done`, `failed` or `needs_reconnecting`.
    Sync {
        source_id: String,
        progress: SyncProgress,
    },
    /// Connecting a source through the browser: a line to show (the consent URL, to open by
    /// hand if no browser opened).
    Connect { source_id: String, text: String },
    /// Upgrading a workspace written by an older Lookback, before it opens.
    Upgrade {
        path: String,
        progress: UpgradeStatus,
    },
    /// Compacting the open workspace's raw events: `done` of `total` (row ids of the pass).
    Compact {
        path: String,
        #[ts(type = "number")]
        done: u64,
        #[ts(type = "number")]
        total: u64,
    },
}

/// Upkeep the open workspace could use, for the overview to offer.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Maintenance {
    /// Raw events that compacting would make smaller.
    #[ts(type = "number")]
    pub raw_events_to_compact: u64,
    /// Whether that is worth offering (it ends by rebuilding the whole file).
    pub offer_compaction: bool,
}

/// What compacting the raw events did (`lookback_store::CompactionSummary`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CompactionResult {
    #[ts(type = "number")]
    pub rows_converted: u64,
    /// The file's size before and after, in bytes.
    #[ts(type = "number")]
    pub bytes_before: u64,
    #[ts(type = "number")]
    pub bytes_after: u64,
    /// Stopped before the end; the next run resumes.
    pub stopped: bool,
    /// Nothing was left to do.
    pub already_compact: bool,
}

/// Where the upgrade of a workspace stands (`lookback_store::UpgradeProgress`), told every
/// quarter second while it runs and once when it has finished.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UpgradeStatus {
    #[ts(type = "number")]
    pub from_version: i64,
    #[ts(type = "number")]
    pub to_version: i64,
    /// The change being applied, 1-based, of `changes`.
    pub change: u32,
    pub changes: u32,
    /// What that change does, in words ("workspace totals").
    pub change_title: String,
    #[ts(type = "number")]
    pub elapsed_ms: u64,
    pub finished: bool,
}

/// How one stream of a sync ended (`lookback_sync::StreamOutcome`, without its reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StreamOutcomeName {
    /// Caught up.
    Complete,
    /// Stopped by an error (the detail says which).
    Failed,
    /// The server does not offer this stream (the detail says why); skipped.
    Unavailable,
    /// Cancelled; resumes from the last committed page.
    Cancelled,
}

/// Progress of a running sync, streamed to the window as it happens.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncProgress {
    StreamStarted {
        stream: String,
    },
    Page {
        stream: String,
        #[ts(type = "number")]
        pages: i64,
        #[ts(type = "number")]
        records: i64,
        #[ts(type = "number")]
        inserted: i64,
        #[ts(type = "number")]
        dead_letters: i64,
        #[ts(type = "number")]
        retries: i64,
    },
    Waiting {
        stream: String,
        seconds: f64,
        reason: String,
    },
    StreamFinished {
        stream: String,
        outcome: StreamOutcomeName,
        /// Why it failed or was unavailable; null when it completed or was cancelled.
        detail: Option<String>,
    },
    Done {
        #[ts(type = "number")]
        new_records: i64,
    },
    Failed {
        message: String,
    },
    /// The platform refused the credential: not a sync failure, the source needs reconnecting
    /// (nothing it brought was touched).
    NeedsReconnecting {
        message: String,
    },
}

/// One source, day and currency of the reconciliation.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReconcileRow {
    pub source: String,
    pub day: String,
    #[ts(type = "number")]
    pub orders: i64,
    /// In the orders' own currency.
    pub gross: MoneyAmount,
    pub net: MoneyAmount,
    /// In the reporting currency.
    pub known_to_attribution: MoneyAmount,
    pub attributed: MoneyAmount,
    pub unattributed: MoneyAmount,
}

/// One order behind a gap.
#[derive(Debug, Clone, Serialize, TS)]
pub struct GapOrder {
    pub order_id: String,
    pub source: String,
    pub day: String,
    pub amount: MoneyAmount,
}

/// Why an order's revenue is not (fully) attributed (`lookback_trust::GapCause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum GapCauseName {
    NotInRun,
    MissingFx,
    IdentityUnresolved,
    NoTouchInWindow,
    UnknownCreatorOrCampaign,
    RefundNotSynced,
}

impl From<lookback_trust::GapCause> for GapCauseName {
    fn from(cause: lookback_trust::GapCause) -> Self {
        use lookback_trust::GapCause as C;
        match cause {
            C::NotInRun => GapCauseName::NotInRun,
            C::MissingFx => GapCauseName::MissingFx,
            C::IdentityUnresolved => GapCauseName::IdentityUnresolved,
            C::NoTouchInWindow => GapCauseName::NoTouchInWindow,
            C::UnknownCreatorOrCampaign => GapCauseName::UnknownCreatorOrCampaign,
            C::RefundNotSynced => GapCauseName::RefundNotSynced,
        }
    }
}

impl From<GapCauseName> for lookback_trust::GapCause {
    fn from(cause: GapCauseName) -> Self {
        use lookback_trust::GapCause as C;
        match cause {
            GapCauseName::NotInRun => C::NotInRun,
            GapCauseName::MissingFx => C::MissingFx,
            GapCauseName::IdentityUnresolved => C::IdentityUnresolved,
            GapCauseName::NoTouchInWindow => C::NoTouchInWindow,
            GapCauseName::UnknownCreatorOrCampaign => C::UnknownCreatorOrCampaign,
            GapCauseName::RefundNotSynced => C::RefundNotSynced,
        }
    }
}

/// One cause of the gap between order revenue and attributed revenue.
#[derive(Debug, Clone, Serialize, TS)]
pub struct GapCause {
    pub cause: GapCauseName,
    pub label: String,
    #[ts(type = "number")]
    pub orders: i64,
    pub amounts: Vec<MoneyAmount>,
    pub top: Vec<GapOrder>,
}

/// The Reconciliation screen: order revenue vs attributed vs unattributed, and why.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ReconcileView {
    pub from_day: String,
    pub to_day: String,
    pub model: ModelName,
    #[ts(type = "number | null")]
    pub run_id: Option<i64>,
    /// False when newer data has arrived since the run: the views will recompute.
    pub run_is_current: bool,
    pub rows: Vec<ReconcileRow>,
    pub gaps: Vec<GapCause>,
    /// None: no run to check. Some(0): the run conserves revenue exactly.
    #[ts(type = "number | null")]
    pub conservation_violations: Option<i64>,
}

/// Whether the local webhook receiver runs, where, and how many deliveries it stored.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ListenerStatus {
    pub listening: bool,
    pub address: Option<String>,
    #[ts(type = "number")]
    pub stored: i64,
}

/// A webhook secret as the Real time screen lists it: which source it verifies and when it was
/// added, never its value (that lives only in the OS keyring). `secret_ref` names it for
/// removal.
#[derive(Debug, Clone, Serialize, TS)]
pub struct WebhookSecretRow {
    pub source: String,
    pub secret_ref: String,
    #[ts(type = "number")]
    pub added_at_ms: i64,
}

/// A webhook secret typed into the window, on its way to the OS keyring.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct NewWebhookSecret {
    pub source: String,
    pub secret: String,
}

/// What one alert check did (the Real time screen's **Check now**, `lookback alert check`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertCheckSummary {
    /// Findings of all rules, including ones notified before.
    #[ts(type = "number")]
    pub findings: u64,
    /// New notifications this check claimed.
    #[ts(type = "number")]
    pub claimed: u64,
    #[ts(type = "number")]
    pub sent: u64,
    /// Notifications that failed for good (dead-lettered).
    #[ts(type = "number")]
    pub failed: u64,
    /// Notifications waiting for a channel (Slack without a URL).
    #[ts(type = "number")]
    pub waiting: u64,
}

/// What a CSV file to import holds (`lookback_ingest::ImportKind`), named as on the command
/// line (`lookback import KIND FILE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKindName {
    Touches,
    Orders,
    Refunds,
    Spend,
    CreatorCosts,
    Identities,
    FxRates,
}

impl From<ImportKindName> for lookback_ingest::ImportKind {
    fn from(kind: ImportKindName) -> Self {
        use lookback_ingest::ImportKind as K;
        match kind {
            ImportKindName::Touches => K::Touches,
            ImportKindName::Orders => K::Orders,
            ImportKindName::Refunds => K::Refunds,
            ImportKindName::Spend => K::Spend,
            ImportKindName::CreatorCosts => K::CreatorCosts,
            ImportKindName::Identities => K::Identities,
            ImportKindName::FxRates => K::FxRates,
        }
    }
}

/// What an import did (`lookback_ingest::ImportSummary`): every data row is in exactly one count.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ImportResult {
    pub file: String,
    pub kind: ImportKindName,
    #[ts(type = "number")]
    pub imported: u64,
    #[ts(type = "number")]
    pub duplicates: u64,
    #[ts(type = "number")]
    pub updated: u64,
    /// Rows of an erased person, not stored.
    #[ts(type = "number")]
    pub suppressed: u64,
    /// Rows sent to dead letters (FILE:LINE and the reason, on the Sources screen).
    #[ts(type = "number")]
    pub rejected: u64,
}

/// The privacy settings and the erasure log (the Workspace screen; `lookback privacy …`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct PrivacyView {
    /// Keep PII fields of raw payloads (names, phones, IPs, user agents, addresses).
    pub store_raw_pii: bool,
    /// Days raw payloads are kept before a purge blanks them; none: kept.
    pub retention_days: Option<u32>,
    pub erasures: Vec<ErasureRow>,
}

/// One erasure as the audit log keeps it: what and when, never who.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ErasureRow {
    #[ts(type = "number")]
    pub erasure_id: i64,
    #[ts(type = "number")]
    pub erased_at_ms: i64,
    /// The kind of key the request named (email, customer_id, …).
    pub key_type: String,
    pub marker: String,
    /// What was removed or anonymized, in words.
    pub summary: String,
}

/// One complete attribution run, for the Reconciliation screen's Runs section.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RunRow {
    #[ts(type = "number")]
    pub run_id: i64,
    pub model: String,
    /// The model's parameters as the run stored them (canonical JSON).
    pub parameters: String,
    /// The model and its parameters in words ("Time decay · 30-day window · half-life 7 days").
    pub in_words: String,
    pub reporting_currency: String,
    #[ts(type = "number | null")]
    pub finished_at_ms: Option<i64>,
}

/// Whether a run conserves credit, and the orders that break it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConservationView {
    #[ts(type = "number")]
    pub run_id: i64,
    pub holds: bool,
    pub violations: Vec<ConservationViolationRow>,
}

/// One order whose credits do not sum to its net revenue (in the run's currency).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ConservationViolationRow {
    pub order_id: String,
    pub net: MoneyAmount,
    pub credited: MoneyAmount,
    #[ts(type = "number")]
    pub credit_rows: i64,
}

/// What moved for one creator between two runs (in the later run's currency).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CreatorMoveRow {
    /// None: touches without a creator.
    pub creator_id: Option<String>,
    pub before: MoneyAmount,
    pub after: MoneyAmount,
    pub delta: MoneyAmount,
}

/// Raw events, distinct records and restated versions of one source.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DuplicateRow {
    pub source: String,
    #[ts(type = "number")]
    pub raw_events: i64,
    #[ts(type = "number")]
    pub distinct_records: i64,
    #[ts(type = "number")]
    pub restated_versions: i64,
}

/// One source and channel's touches by traffic class, and the revenue the workspace model's
/// latest run credited to each class (`lookback traffic summary`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrafficRow {
    pub source: String,
    pub channel: String,
    #[ts(type = "number")]
    pub touches: u64,
    #[ts(type = "number")]
    pub human: u64,
    #[ts(type = "number")]
    pub suspicious: u64,
    #[ts(type = "number")]
    pub bot: u64,
    /// Suspicious and bot touches over all, 0–1.
    pub not_human_share: f64,
    /// The family most suspicious and bot touches came from (`slack-preview`, …).
    pub top_family: Option<String>,
    pub credited_human: MoneyAmount,
    pub credited_suspicious: MoneyAmount,
    pub credited_bot: MoneyAmount,
}

/// How much of the workspace's traffic is people's, per source and channel.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrafficView {
    /// Which rule set decided the classes and which run's credit is split, in words.
    pub provenance: String,
    pub rules_version: u32,
    #[ts(type = "number | null")]
    pub run_id: Option<i64>,
    pub rows: Vec<TrafficRow>,
}

/// A traffic class as the window names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TrafficClassName {
    Human,
    Suspicious,
    Bot,
}

/// One rule of a traffic rule set, as the rule editor shows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrafficRuleView {
    pub id: String,
    pub enabled: bool,
    pub class: TrafficClassName,
    pub score: f64,
    /// What it matches, in words.
    pub matches: String,
    pub description: String,
    /// Where its facts come from.
    pub source: String,
    /// The rule's own window in seconds, when it has one the editor can change (the after-send
    /// window of `soon_after_carrier`, the sweep window of `scanner_sweep`).
    #[ts(type = "number | null")]
    pub window_seconds: Option<i64>,
}

/// One version of the workspace's traffic rule set: who adopted it, when, why, and what it
/// changed from the version before.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrafficRuleVersion {
    pub version: u32,
    /// `None` for the built-in set a workspace starts with.
    #[ts(type = "number | null")]
    pub adopted_at_ms: Option<i64>,
    pub adopted_by: String,
    pub reason: String,
    /// What changed from the version before, in words (the built-in set: "the built-in rules").
    pub changes: String,
}

/// The traffic rule set in force, its rules and every version the workspace used.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrafficRulesView {
    pub version: u32,
    #[ts(type = "number | null")]
    pub adopted_at_ms: Option<i64>,
    pub adopted_by: String,
    #[ts(type = "number")]
    pub burst_window_seconds: i64,
    pub rules: Vec<TrafficRuleView>,
    /// Newest first.
    pub history: Vec<TrafficRuleVersion>,
}

/// A change to one rule of the set in force: whether it is enabled, its class and, for a rule
/// with a window, the window in seconds.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct TrafficRuleEdit {
    pub id: String,
    pub enabled: bool,
    pub class: TrafficClassName,
    #[ts(type = "number | null")]
    pub window_seconds: Option<i64>,
}

/// The rule editor's change: the set in force with these edits becomes the next version.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct TrafficRulesChange {
    #[ts(type = "number")]
    pub burst_window_seconds: i64,
    /// Rules not named keep what they are.
    pub rules: Vec<TrafficRuleEdit>,
    /// Why; required, the model log keeps it.
    pub reason: String,
}

/// Touches per traffic class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, TS)]
pub struct TrafficClassCounts {
    #[ts(type = "number")]
    pub human: u64,
    #[ts(type = "number")]
    pub suspicious: u64,
    #[ts(type = "number")]
    pub bot: u64,
}

/// Touches that moved from one class to another.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrafficMove {
    pub from: TrafficClassName,
    pub to: TrafficClassName,
    #[ts(type = "number")]
    pub touches: u64,
}

/// What adopting a rule set did: the versions, what changed in words, and what moved.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrafficRulesAdopted {
    pub from_version: u32,
    pub to_version: u32,
    /// "Traffic rules v1 → v2: rule chat-preview now suspicious instead of bot".
    pub in_words: String,
    #[ts(type = "number")]
    pub touches: u64,
    pub before: TrafficClassCounts,
    pub after: TrafficClassCounts,
    /// Only the touches whose class changed.
    pub moved: Vec<TrafficMove>,
}

/// One alert notification as the history keeps it (`lookback alert list`'s second part).
#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertNotificationRow {
    #[ts(type = "number")]
    pub notification_id: i64,
    #[ts(type = "number")]
    pub rule_id: i64,
    /// pending, sent, failed, …
    pub state: String,
    pub channel: String,
    #[ts(type = "number")]
    pub attempts: i64,
    pub title: String,
    pub last_error: Option<String>,
}

/// What an alert rule watches (`lookback_alerts::AlertKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AlertKindName {
    CreatorRevenue,
    LargeOrder,
    SyncFailing,
    DeadLetters,
    SourceHealth,
}

impl From<AlertKind> for AlertKindName {
    fn from(kind: AlertKind) -> Self {
        match kind {
            AlertKind::CreatorRevenue => AlertKindName::CreatorRevenue,
            AlertKind::LargeOrder => AlertKindName::LargeOrder,
            AlertKind::SyncFailing => AlertKindName::SyncFailing,
            AlertKind::DeadLetters => AlertKindName::DeadLetters,
            AlertKind::SourceHealth => AlertKindName::SourceHealth,
        }
    }
}

impl From<AlertKindName> for AlertKind {
    fn from(kind: AlertKindName) -> Self {
        match kind {
            AlertKindName::CreatorRevenue => AlertKind::CreatorRevenue,
            AlertKindName::LargeOrder => AlertKind::LargeOrder,
            AlertKindName::SyncFailing => AlertKind::SyncFailing,
            AlertKindName::DeadLetters => AlertKind::DeadLetters,
            AlertKindName::SourceHealth => AlertKind::SourceHealth,
        }
    }
}

/// A kind of source the user can connect (`lookback_sync::registry::KINDS`, the names
/// `lookback source add` takes). Stored sources also have other kinds (a demo's `web_pixel`, a
/// `csv_import`…), so a stored source's kind crosses as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Generic,
    Stripe,
    Meta,
    GoogleAds,
    Tiktok,
    Shopify,
    Dub,
    Rewardful,
}

impl SourceKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [SourceKind; 8] = [
        SourceKind::Generic,
        SourceKind::Stripe,
        SourceKind::Meta,
        SourceKind::GoogleAds,
        SourceKind::Tiktok,
        SourceKind::Shopify,
        SourceKind::Dub,
        SourceKind::Rewardful,
    ];

    /// The kind's name, as the sync crate and the store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Generic => "generic",
            SourceKind::Stripe => "stripe",
            SourceKind::Meta => "meta",
            SourceKind::GoogleAds => "google_ads",
            SourceKind::Tiktok => "tiktok",
            SourceKind::Shopify => "shopify",
            SourceKind::Dub => "dub",
            SourceKind::Rewardful => "rewardful",
        }
    }
}

/// Where an alert rule notifies (`lookback_alerts::Channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AlertChannel {
    Desktop,
    Slack,
}

impl From<Channel> for AlertChannel {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Desktop => AlertChannel::Desktop,
            Channel::Slack => AlertChannel::Slack,
        }
    }
}

impl From<AlertChannel> for Channel {
    fn from(channel: AlertChannel) -> Self {
        match channel {
            AlertChannel::Desktop => Channel::Desktop,
            AlertChannel::Slack => Channel::Slack,
        }
    }
}

/// An alert rule as stored.
#[derive(Debug, Clone, Serialize, TS)]
pub struct AlertRuleRow {
    #[ts(type = "number")]
    pub rule_id: i64,
    pub kind: AlertKindName,
    pub subject: Option<String>,
    /// Minor units for money kinds, minutes for sync_failing, a count for dead_letters.
    #[ts(type = "number")]
    pub threshold: i64,
    pub currency: Option<String>,
    pub include_provisional: bool,
    #[ts(type = "number")]
    pub grace_minutes: i64,
    pub channel: AlertChannel,
}

/// An alert rule as the user writes it; a money threshold is a decimal in major units.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct NewAlertRule {
    pub kind: AlertKindName,
    pub subject: Option<String>,
    pub threshold: String,
    pub currency: Option<String>,
    pub include_provisional: bool,
    #[ts(type = "number")]
    pub grace_minutes: i64,
    pub channel: AlertChannel,
}

/// The tables an export writes. The names (kebab-case) are the CLI's and the window's: clap's
/// for `lookback export <table>`, serde's (the same spelling) for the window's `export_csv`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
    ts_rs::TS,
)]
#[serde(rename_all = "kebab-case")]
pub enum ExportTable {
    /// The ROAS table.
    Roas,
    /// The CAC and payback table.
    Cac,
    /// The model comparison: one revenue column per model, and the spread.
    Compare,
    /// One creator's table: its content or, with the orders creator table, its orders.
    Creator,
    /// One creator's content (the creator screen's content table).
    CreatorContent,
    /// Every change of the workspace's model.
    ModelLog,
    /// The credits of the run, per order and touch.
    Credits,
    /// Orders, with their credits in the run.
    Orders,
    /// Touches.
    Touches,
    /// Ad spend and creator costs.
    Spend,
    /// The Reconciliation screen's table: per source, day and currency.
    Reconcile,
    /// Unresolved dead letters (of one source, or of every source).
    DeadLetters,
    /// The alert rules in force.
    AlertRules,
    /// Data health per source.
    Health,
    /// Revenue per order currency (the overview's table).
    Revenue,
    /// Every source with its state, records and last sync (the overview's table).
    Sources,
    /// New-customer cohorts: per cohort and key, revenue at 30/60/90/180 days, cost, CAC and
    /// payback.
    Cohorts,
}

impl ExportTable {
    /// The table's name, as the CLI and the window spell it.
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// Every wire type, in the order they are written to `ui/src/bindings.ts`.
#[cfg(test)]
pub fn typescript_bindings() -> String {
    let decls = [
        ErrorKind::decl(),
        AppError::decl(),
        StartupState::decl(),
        WorkspaceInfo::decl(),
        MoneyAmount::decl(),
        RevenueByCurrency::decl(),
        SourceState::decl(),
        SourceFreshness::decl(),
        DateRange::decl(),
        DatePreset::decl(),
        OverviewHeadline::decl(),
        UnconvertedMoney::decl(),
        Overview::decl(),
        ModelName::decl(),
        ModelInfo::decl(),
        ModelChoice::decl(),
        ModelCatalog::decl(),
        ViewBy::decl(),
        Bucket::decl(),
        Basis::decl(),
        Touches::decl(),
        ViewRequest::decl(),
        FreshnessLine::decl(),
        Provenance::decl(),
        RoasRow::decl(),
        ChartSvg::decl(),
        RoasView::decl(),
        CacRow::decl(),
        CacView::decl(),
        CohortHorizonCell::decl(),
        CohortRow::decl(),
        CohortView::decl(),
        CompareRow::decl(),
        CompareView::decl(),
        CreatorContentRow::decl(),
        CreatorOrderRow::decl(),
        CreatorDay::decl(),
        CreatorRevenueView::decl(),
        CreatorListItem::decl(),
        ChangeKind::decl(),
        ModelChangeEntry::decl(),
        ExportTable::decl(),
        ExportResult::decl(),
        StatementWritten::decl(),
        StatementLine::decl(),
        WeightRowView::decl(),
        WeightsView::decl(),
        IntervalSettings::decl(),
        WeightIntervalRow::decl(),
        WeightIntervalsView::decl(),
        RevenueIntervalRow::decl(),
        RevenueIntervalsView::decl(),
        OrderCreditRow::decl(),
        OrderCreditsView::decl(),
        NewSourceRequest::decl(),
        ReconnectSourceRequest::decl(),
        Expiry::decl(),
        CredentialStatus::decl(),
        SourceRow::decl(),
        SourceHealthMetrics::decl(),
        DeadLetterRow::decl(),
        ReplayResult::decl(),
        StreamOutcomeName::decl(),
        SyncProgress::decl(),
        RunPhaseName::decl(),
        RunProgress::decl(),
        UpgradeStatus::decl(),
        Maintenance::decl(),
        CompactionResult::decl(),
        JobProgress::decl(),
        ReconcileRow::decl(),
        GapOrder::decl(),
        GapCauseName::decl(),
        GapCause::decl(),
        ReconcileView::decl(),
        ListenerStatus::decl(),
        WebhookSecretRow::decl(),
        NewWebhookSecret::decl(),
        AlertCheckSummary::decl(),
        ImportKindName::decl(),
        ImportResult::decl(),
        PrivacyView::decl(),
        ErasureRow::decl(),
        AlertKindName::decl(),
        AlertChannel::decl(),
        SourceKind::decl(),
        AlertRuleRow::decl(),
        NewAlertRule::decl(),
        RunRow::decl(),
        ConservationView::decl(),
        ConservationViolationRow::decl(),
        CreatorMoveRow::decl(),
        DuplicateRow::decl(),
        AlertNotificationRow::decl(),
        TrafficRow::decl(),
        TrafficView::decl(),
        TrafficClassName::decl(),
        TrafficRuleView::decl(),
        TrafficRuleVersion::decl(),
        TrafficRulesView::decl(),
        TrafficRuleEdit::decl(),
        TrafficRulesChange::decl(),
        TrafficClassCounts::decl(),
        TrafficMove::decl(),
        TrafficRulesAdopted::decl(),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/crates/app/src/wire.rs by `UPDATE_BINDINGS=1 cargo test --workspace bindings`.\n// Do not edit by hand.\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window offers exactly the kinds the sync crate can connect, spelled its way.
    #[test]
    fn source_kinds_are_the_sync_crates() {
        let names: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, lookback_sync::registry::KINDS);
        for kind in SourceKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
    }

    /// The UI's types are generated, never hand-copied: this fails when `ui/src/bindings.ts`
    /// no longer matches the Rust wire types.
    #[test]
    fn bindings_are_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../ui/src/bindings.ts");
        let expected = typescript_bindings();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &expected).expect("write bindings");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "ui/src/bindings.ts is stale; run `UPDATE_BINDINGS=1 cargo test --workspace bindings` and commit it"
        );
    }
}
