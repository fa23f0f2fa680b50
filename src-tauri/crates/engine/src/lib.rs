//! lookback-engine: attribution runs over the store — load the inputs, resolve journeys, run a
//! model, persist credits — and the one way to change the workspace's model.
//!
//! Code map:
//! - [`inputs`]: reading touches, orders (net revenue converted to the reporting currency at the
//!   order day's rate), identity links and settings out of the store into core's records.
//! - [`fx`]: the exchange-rate table of a run: which rate converts an order, and when none does.
//! - [`interner`]: strings to dense ids without an allocation per string (identity keys, click
//!   ids, the touch ids and report keys of cached journeys).
//! - [`journey_cache`]: resolved journeys in the compact form every model needs, and their
//!   encoding for the store's journey cache (keyed by watermark, lookback, probabilistic flag,
//!   touch filter).
//! - [`run`]: [`run_model`] — reuse a complete run for the same model, parameters and input
//!   watermark, or compute, check and persist a new one in one transaction; [`load_journeys`]
//!   reads cached journeys or resolves (and caches) them.
//! - [`creator_credits`]: what each creator earned per order in a time window under a model,
//!   from the stored run or computed in memory without writing one (alerts).
//! - [`intervals`]: bootstrap intervals of a data-driven model over the run's journeys: the
//!   channels' weights, and the revenue of a view's orders per channel, creator, campaign or
//!   content.
//! - [`model_settings`]: [`set_model`] and [`current_model`], the workspace's model setting and its log.
//!
//! Architecture Invariants:
//! - The engine never reads the clock: `now_ms` is a parameter of every function that needs it.
//! - A run is written whole or not at all, and only after every order's credits passed the
//!   conservation check (Σ revenue = the order's net, Σ shares = 1e9).
//! - A missing exchange rate is never a silent 1.0: the order is `missing_fx`, credited to no
//!   touch, and counted in the run summary.
//! - Cached journeys are used only for the exact (input watermark, lookback, probabilistic flag,
//!   touch filter) they were resolved for, and a run from them writes byte-identical credits to a run that
//!   resolved (tests/journey_cache.rs); anything that depends on `now` or on settings outside
//!   the key (revenue, fx, provisional status, report days) is read fresh on every run.
//! - The model setting changes only through [`set_model`], which always appends to the model log.
//!   Previews ([`run_model`] with any model) never touch the setting or the log.

pub mod creator_credits;
pub mod fx;
pub mod inputs;
pub mod interner;
pub mod intervals;
pub mod journey_cache;
pub mod model_settings;
pub mod run;

pub use creator_credits::{CreatorCredits, creator_credits_between};
pub use inputs::{
    DIRECT_CHANNELS, Inputs, OrderFacts, ReportingNet, is_direct_channel, load_inputs,
    load_order_facts, net_in_reporting,
};
pub use intervals::{IntervalKey, RevenueInterval, RunBootstrap, revenue_intervals, run_bootstrap};
pub use journey_cache::CachedJourneys;
pub use model_settings::{changed_by, current_model, set_model};
pub use run::{
    ComputedCredit, ComputedRun, MissingFx, RunObserver, RunPhase, RunSummary, compute_run,
    find_cached_run, load_journeys, resolve, run_model, run_model_observed,
};

use lookback_core::CoreError;
use lookback_store::StoreError;

/// Everything that can go wrong running attribution or changing the model.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// A computation of the core crate refused its input (bad parameters, an overflow, too many
    /// channels for a data-driven model).
    #[error(transparent)]
    Core(#[from] CoreError),

    /// A stored workspace setting cannot be used (an unknown reporting currency or zone, an
    /// unreadable model name or parameters).
    #[error("the workspace setting {field} is unusable: {detail}")]
    InvalidSetting {
        /// The setting's key.
        field: &'static str,
        /// What is wrong with its value.
        detail: String,
    },

    /// A model change was refused before anything was written (for example a lookback window
    /// outside what the workspace setting allows, or an empty reason).
    #[error("cannot change the model: {reason}")]
    InvalidModelChange {
        /// Why, in words for the person making the change.
        reason: String,
    },

    /// The person who started the run cancelled it; nothing of it was written.
    #[error("the attribution run was cancelled")]
    Cancelled,

    /// The credits of an order do not add up to its net revenue or to a whole share. This is a
    /// bug, never a data problem; the run is recorded as failed and nothing of it is kept.
    #[error("credit conservation violated for order {order_id}: {detail}")]
    ConservationViolated {
        /// The order whose credits do not add up.
        order_id: String,
        /// Which sum is off, and by how much.
        detail: String,
    },
}
