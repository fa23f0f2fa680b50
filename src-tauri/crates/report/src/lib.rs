//! lookback-report: views over the store — a run's credits by channel, creator, campaign, content
//! or order, the channel weights a data-driven run learned — and their CSV, JSON and text-table
//! renderings.
//!
//! Code map:
//! - [`credits`]: [`credits_by`] and the [`CreditsReport`] it returns.
//! - [`weights`]: [`weights`] and the [`WeightsReport`] of a Markov or Shapley run.
//! - [`render`]: CSV (RFC 4180), JSON and aligned tables of both.
//!
//! Architecture Invariants:
//! - Every report carries the run that produced it (id, model, parameters, finish time,
//!   reporting currency), and every rendering says so.
//! - Revenue is exact: rows sum to the totals to the minor unit, and attributed + unattributed
//!   revenue is the net revenue of the convertible orders in range. Money is rendered with core's
//!   `format_minor`, never through `f64`.

pub mod credits;
pub mod render;
pub mod weights;

pub use credits::{CreditKey, CreditRow, CreditsReport, MissingFxTotal, NONE_KEY, OutcomeTotal, RunInfo, credits_by, format_conversions};
pub use render::Format;
pub use weights::{WeightRow, WeightsReport, weights};

use lookback_core::CoreError;
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
}
