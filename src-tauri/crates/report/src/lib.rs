//! lookback-report: views over the store — a run's credits by channel, creator, campaign, content
//! or order, the channel weights a data-driven run learned — and their CSV, JSON and text-table
//! renderings.
//!
//! Code map:
//! - [`credits`]: [`credits_by`] and the [`CreditsReport`] it returns.
//! - [`weights`]: [`weights`] and the [`WeightsReport`] of a Markov or Shapley run.
//! - [`intervals`]: bootstrap intervals beside data-driven figures (learned weights, the revenue
//!   of a ROAS view's keys), and the words shown instead when a figure is too uncertain.
//! - [`render`]: CSV (RFC 4180), JSON and aligned tables of both.
//! - [`views`]: the ROAS ([`roas_view`]), CAC ([`cac_view`]), model comparison ([`compare_view`])
//!   and creator revenue ([`creator_revenue_view`]) views, each with its [`Provenance`]; the
//!   new-customer cohorts ([`cohort_view`]).
//! - [`headline`]: the overview's net revenue and ad spend in the reporting currency.
//! - [`ratio`]: [`Ratio`], the exact fraction behind ROAS, payback and spreads.
//! - [`charts`]: plotters SVG charts of the views, with the plotted series beside the SVG.
//! - [`statement`]: a creator's statement for a period ([`creator_statement`]): orders credited,
//!   clawbacks, settled vs provisional, costs, ROAS, model changes; as PDF and CSV.
//! - [`export`]: CSV files of every view table and streaming event-level exports (credits,
//!   orders, touches, spend, model log), with a JSON sidecar saying what produced them.
//!
//! Architecture Invariants:
//! - Every report carries the run that produced it (id, model, parameters, finish time,
//!   reporting currency), and every rendering says so.
//! - Revenue is exact: rows sum to the totals to the minor unit, and attributed + unattributed
//!   revenue is the net revenue of the convertible orders in range. Money is rendered with core's
//!   `format_minor`, never through `f64`.

pub mod charts;
pub mod credits;
pub mod export;
pub mod headline;
pub mod intervals;
pub mod ratio;
pub mod render;
pub mod statement;
pub mod views;
pub mod weights;

pub use credits::{
    CreditKey, CreditRow, CreditsReport, MissingFxTotal, NONE_KEY, OutcomeTotal, RunInfo,
    credits_by, credits_by_basis, format_conversions, none_label, readable_conversions,
};
pub use headline::{Headline, Unconverted, headline};
pub use intervals::{
    RevenueIntervalRow, RevenueIntervalsView, WeightIntervals, WeightRowInterval,
    attach_weight_intervals, revenue_intervals_view,
};
pub use render::Format;
pub use statement::{CreatorStatement, creator_statement};
pub use weights::{WeightRow, WeightsReport, weights};

pub use charts::{
    Chart, ChartSeries, cohort_revenue_chart_svg, compare_chart_svg, cost_vs_revenue_chart_svg,
    roas_chart_svg,
};
pub use export::{
    EventRange, ExportOptions, ExportSummary, MODEL_LOG_COLUMNS, SourceStatus,
    export_alert_rules_csv, export_cac_csv, export_cohorts_csv, export_compare_csv,
    export_creator_content_csv, export_creator_orders_csv, export_credits_csv,
    export_dead_letters_csv, export_health_csv, export_model_log_csv, export_orders_csv,
    export_reconcile_csv, export_revenue_csv, export_roas_csv, export_sources_csv,
    export_spend_csv, export_touches_csv, model_log_cells, neutralize, source_statuses,
    write_reconcile_csv,
};
pub use lookback_store::{BasisShift, CreditBasis};
pub use ratio::{NO_RATIO, RATIO_PLACES, Ratio, format_ratio};
pub use views::cac::{CacRow, CacView, PAYBACK_WINDOWS_DAYS, cac_view};
pub use views::cohorts::{
    ALL_COHORTS, COHORT_HORIZONS_DAYS, CohortHorizon, CohortRow, CohortView, DEFAULT_COHORT_BUCKET,
    cohort_view, cohort_view_cached,
};
pub use views::compare::{CompareRow, CompareView, compare_view};
pub use views::creator::{
    CreatorContentLine, CreatorOrderLine, CreatorRevenueView, DayRevenue, creator_revenue_view,
};
pub use views::provenance::{
    JoinKindRevenue, MissingFxCost, Provenance, SourceFreshnessLine, basis_shift_in_words,
    provenance,
};
pub use views::roas::{RoasRow, RoasView, TOTAL_KEY, roas_view, roas_view_cached};
pub use views::{CREATOR_COSTS_KEY, ViewCache, ViewKey, ViewQuery};

use std::path::PathBuf;

use lookback_core::CoreError;
use lookback_engine::EngineError;
use lookback_store::StoreError;

/// Everything that can go wrong building a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// A day or amount computation of core refused its input.
    #[error(transparent)]
    Core(#[from] CoreError),

    /// No attribution run has this id.
    #[error("no attribution run with id {run_id}")]
    RunNotFound {
        /// The id asked for.
        run_id: i64,
    },

    /// The run exists but is not complete (still running or failed), so its credits are not a
    /// whole answer.
    #[error("attribution run {run_id} is {status}, not complete")]
    RunIncomplete {
        /// The run's id.
        run_id: i64,
        /// Its status.
        status: String,
    },

    /// The day range is reversed.
    #[error("invalid day range: {from} is after {to}")]
    InvalidRange {
        /// The first day asked for.
        from: String,
        /// The last day asked for.
        to: String,
    },

    /// Weights were asked of a run whose model learns none.
    #[error("the {model} model learns no channel weights; use markov or shapley")]
    NotDataDriven {
        /// The run's model.
        model: String,
    },

    /// A stored value the report depends on cannot be read (a run's currency, the reporting zone).
    #[error("unusable {field}: {detail}")]
    InvalidSetting {
        /// What was read.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },

    /// Exchange rates could not be read for converting costs or gross amounts.
    #[error(transparent)]
    Engine(#[from] EngineError),

    /// A view key other than creator, campaign, channel, content or platform.
    #[error("unknown view key {name:?}: use creator, campaign, channel, content or platform")]
    UnknownViewKey {
        /// The name as given.
        name: String,
    },

    /// A comparison was asked of no runs.
    #[error("nothing to compare: name at least one model or run")]
    NothingToCompare,

    /// Runs compared side by side report in different currencies.
    #[error(
        "run {run_id} reports in {other}, the first run in {first}: runs in different currencies cannot be compared"
    )]
    CurrencyMismatch {
        /// The first run's reporting currency.
        first: String,
        /// The other run's.
        other: String,
        /// The other run.
        run_id: i64,
    },

    /// No creator has this id, and no touch names it.
    #[error("no creator {creator_id:?} in this workspace")]
    UnknownCreator {
        /// The id asked for.
        creator_id: String,
    },

    /// A chart over time was asked of a view without day/week/month buckets.
    #[error("a ROAS chart over time needs a bucketed view (day, week or month)")]
    ChartNeedsBuckets,

    /// plotters could not draw a chart.
    #[error("cannot draw the chart: {detail}")]
    Chart {
        /// plotters' error.
        detail: String,
    },

    /// An export file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file being written.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// The CSV writer failed (in practice an IO error underneath).
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
}
