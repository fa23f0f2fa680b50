//! lookback-store: the SQLite file of a workspace — schema by numbered migrations, typed queries,
//! the append-only raw-event log and dead letters. The only crate that speaks SQL.
//!
//! Code map:
//! - `opening`: [`Store::create`], [`Store::open`], [`Store::open_read_only`] and the checks that
//!   keep Lookback from writing into a file that is not a sound workspace of a known version.
//! - `migrations`: the embedded `migrations/NNNN_name.sql` files and the transaction applying them.
//! - `records`: one struct per canonical table and the closed vocabularies the schema checks.
//! - `write`: [`WriteTx`], the only way to write canonical rows; idempotent on source ids.
//! - `read`: [`Overview`], streaming loaders for attribution, listings and row counts.
//! - `settings`: workspace settings, the append-only model log, the input watermark.
//! - `runs`: attribution runs, their per-order outcomes and credits.
//! - `attribution_io`: the lean touch scan of the engine and the one-transaction run writer.
//! - `reports`: aggregate queries of the report views (credits by key, orders by outcome).
//! - `view_queries`: reads of the ROAS, CAC, comparison and creator views (credits keyed by a
//!   touch dimension, spend and costs in a day range, customers' first orders) and the row-by-row
//!   streams of the event-level CSV exports.
//! - `sync_state`: source removal, per-source dead-letter counts and checkpoints, page-level
//!   dead-letter resolution for the sync machinery.
//!
//! Architecture Invariants:
//! - Opening never writes into a foreign, damaged or newer file.
//! - Every write happens in a transaction; dropping a [`WriteTx`] without committing keeps nothing.
//! - Re-inserting a record with a known source id changes nothing and says so.
//! - The model setting and its `model_changes` row are written together or not at all.

mod attribution_io;
mod error;
mod migrations;
mod opening;
mod read;
mod records;
mod reports;
mod runs;
mod settings;
mod sync_state;
mod view_queries;
mod write;

pub use attribution_io::{
    AttributionTouch, NamedRunCredit, ReportedRunOrder, RunChannelWeight, RunCredit, RunCreditTotal,
    TouchReportKeys,
};
pub use error::{StoreError, StoreResult};
pub use migrations::{APPLICATION_ID, MIGRATIONS, Migration, SCHEMA_VERSION};
pub use opening::Store;
pub use read::{
    COUNTED_ADJUSTMENT, CurrencyAmount, CurrencyRevenue, OrderWithAdjustments, Overview,
    SourceFreshness, Table,
};
pub use records::{
    AdSpend, AdjustmentKind, Campaign, Content, Creator, CreatorCost, CreatorCostKind, DeadLetter,
    FxRate, IdentityKey, IdentityKeyType, IdentityKeys, IdentityLink, InsertOutcome, JoinKind,
    NewDeadLetter, NewRawEvent, Order, OrderAdjustment, RawEvent, RawEventOutcome, RunOrderOutcome,
    RunStatus, Source, SyncCheckpoint, Touch,
};
pub use reports::{CreditGroup, CreditGrouping, RunOrderFilter, RunOrderTotal};
pub use runs::{Credit, NewRun, Run, RunOrder};
pub use settings::{
    DEFAULT_LOOKBACK_DAYS, DEFAULT_MODEL, DEFAULT_MODEL_PARAMETERS, DEFAULT_NAME,
    DEFAULT_REPORTING_CURRENCY, DEFAULT_REPORTING_TIMEZONE, DEFAULT_SETTLEMENT_DAYS, ModelChange,
    ModelChangeRequest, WorkspaceSettings,
};
pub use sync_state::SourceDeadLetterCount;
pub use view_queries::{
    CUSTOMER_KEY_SQL, CreatorOrderCredit, ExportCredit, ExportOrder, ExportSpend, ExportTouch,
    NewCustomerCredit, ViewCreditGroup, ViewDimension, ViewSpend,
};
pub use write::WriteTx;
