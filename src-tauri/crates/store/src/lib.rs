//! lookback-store: the SQLite file of a workspace — schema by numbered migrations, typed queries,
//! the append-only raw-event log and dead letters. The only crate that speaks SQL.
//!
//! Code map:
//! - `opening`: [`Store::create`], [`Store::open`], [`Store::open_read_only`] and the cheap checks
//!   (header, length) that keep Lookback from writing into a file that is not a workspace of a
//!   known version, or a truncated one; [`Store::data_stamp`], which tells a caller keeping
//!   what it read whether anything was committed since.
//! - `integrity`: the whole-file checks ([`Store::quick_check`], [`Store::integrity_check`]) and
//!   what the file records about them: when one last passed, which sessions did not close.
//! - `migrations`: the embedded `migrations/NNNN_name.sql` files and the transaction applying them.
//! - `records`: one struct per canonical table and the closed vocabularies the schema checks.
//! - `write`: [`WriteTx`], the only way to write canonical rows; idempotent on source ids; counts
//!   what it inserts into the workspace totals.
//! - `read`: [`Overview`] (from the totals), streaming loaders for attribution, listings and row
//!   counts.
//! - `raw_payloads`: how raw payloads are stored (zstd, per-stream dictionaries, 32-byte
//!   hashes), the one decoder of either layout, and [`Store::compact_raw_events`].
//! - `settings`: workspace settings, the append-only model log, the input watermark.
//! - `runs`: attribution runs, their per-order outcomes and credits.
//! - `attribution_io`: the lean touch scans of the engine (touches, their click ids by index,
//!   journey touches' report keys by rowid), the one-transaction run writer in two halves
//!   (`begin_run` → `RunWrite::finish`, credits and totals prepared apart in `PreparedRun`), the
//!   journey cache's rows, and settling a reused run.
//! - `basis`: [`CreditBasis`], which instant dates a credit (its order's or its touch's), and
//!   [`Store::basis_shift`], the credits crossing a range's edges between the two.
//! - `reports`: aggregate queries of the report views (credits by key, orders by outcome), read
//!   from a run's stored totals while its inputs are unchanged, else by the exact joins.
//! - `view_queries`: reads of the ROAS, CAC, comparison and creator views (credits keyed by a
//!   touch dimension, spend and costs in a day range, customers' first orders) and the row-by-row
//!   streams of the event-level CSV exports.
//! - `statement_queries`: the counted refunds and chargebacks of a creator's credited orders,
//!   with their instants, for creator statements.
//! - `cohort_queries`: reads of the new-customer cohorts view (every order of the customers a
//!   filter makes new, counted refunds and chargebacks with their instants).
//! - `realtime`: webhook deliveries (receiver's durable log), webhook secret references, alert
//!   rules and notifications (claimed before sending), and the reads alert rules evaluate.
//! - `sync_state`: source removal, per-source dead-letter counts and checkpoints, page-level
//!   dead-letter resolution for the sync machinery.
//! - `backup`: online, consistent backups ([`Store::backup_to`]) and restoring one into a new
//!   workspace ([`Store::restore_backup`]).
//! - `privacy`: identity components, erasing a person, privacy settings, raw-payload purge and
//!   the erasure audit log.
//! - `totals`: whole-workspace totals kept as data lands — inserts counted by `WriteTx` at
//!   commit, updates and deletes by migration 0016's triggers — which the overview, each
//!   source's freshness and the duplicate counts read; and their recount from the rows.
//! - `query_audit`: which statements a piece of work ran and how SQLite plans them (the tests'
//!   guard that the overview reads no big table whole).
//! - `trust_queries`: reads behind reconciliation, credit conservation, run diffs.
//! - `traffic`: each touch's traffic class (human, suspicious, bot) with its rule and signals,
//!   the workspace's versioned rule sets, [`TouchClassifier`] for ingest paths, and
//!   re-classification when a rule set is adopted.
//! - `touch_generations`: the generation each touch row is written in (its rowid's top bits),
//!   by which `touches_by_click` is ordered so a new file's click ids stay in a small part of
//!   it, and the readers by click id that look in every generation.
//! - `change_log`: the model log as people read it — changes of model and of traffic rules
//!   together, newest first.
//!
//! Architecture Invariants:
//! - Opening never writes into a foreign, damaged or newer file, and never reads the whole file.
//! - Every write happens in a transaction; dropping a [`WriteTx`] without committing keeps nothing.
//! - Re-inserting a record with a known source id changes nothing and says so.
//! - The model setting and its `model_changes` row are written together or not at all.
//! - The whole-workspace totals equal a recount of the base tables after every commit.

mod attribution_io;
mod backup;
mod basis;
mod block_moves;
mod change_log;
mod cohort_queries;
mod error;
mod health_queries;
#[cfg(test)]
mod index_plans;
mod integrity;
mod migrations;
mod opening;
mod order_aliases;
mod privacy;
mod query_audit;
mod raw_blocks;
mod raw_payloads;
mod read;
mod realtime;
mod records;
mod reports;
mod runs;
mod settings;
mod source_credentials;
mod source_settings;
mod statement_queries;
mod suppression;
mod sync_state;
mod totals;
mod touch_generations;
mod touch_names;
mod traffic;
mod traffic_totals;
mod trust_queries;
mod upgrade;
mod view_queries;
mod write;

pub use attribution_io::{
    AttributionTouch, CachedJourneyBlobs, NamedRunCredit, PreparedRun, ReportedRunOrder,
    RunChannelWeight, RunCreditTotal, RunWrite, TouchReportKeys,
};
pub use backup::BackupSummary;
pub use basis::{BasisCrossing, BasisShift, CreditBasis, CrossingSums};
pub use change_log::{LoggedChange, TrafficRulesLogEntry};
pub use cohort_queries::{DatedAdjustment, NewCustomerOrder};
pub use error::{StoreError, StoreResult};
pub use health_queries::{
    DailyReceived, NewSyncRun, SCHEMA_PROBLEM_REASON, SyncRunOutcome, SyncRunTotals,
};
pub use integrity::IntegrityRecord;
pub use migrations::{APPLICATION_ID, MIGRATIONS, Migration, SCHEMA_VERSION};
pub use opening::{DataStamp, Store};
pub use order_aliases::OrderAlias;
pub use privacy::{ErasureCounts, ErasureRecord, ErasureRequest, PURGED_PAYLOAD, PersonComponent};
pub use query_audit::BOUNDED_TABLES;
pub use raw_payloads::{CompactionSummary, payload_sha256};
pub use read::{
    COUNTED_ADJUSTMENT, CurrencyAmount, CurrencyRevenue, OrderDetail, OrderWithAdjustments,
    Overview, SourceFreshness, Table,
};
pub use realtime::{
    AlertNotification, AlertRule, CreatorCreditOrder, CreatorLinkOrder, NewAlertNotification,
    NewAlertRule, NewWebhookDelivery, PendingWebhookDelivery, WebhookDeliveryOutcome,
    WebhookSecretRef,
};
pub use records::{
    AdSpend, AdjustmentKind, Campaign, Content, Creator, CreatorCost, CreatorCostKind, DeadLetter,
    FxRate, IdentityKey, IdentityKeyType, IdentityKeys, IdentityLink, InsertOutcome, JoinKind,
    MoneyFigure, NewDeadLetter, NewRawEvent, Order, OrderAdjustment, RawEvent, RawEventOutcome,
    RunOrderOutcome, RunStatus, Source, SyncCheckpoint, Touch,
};
pub use reports::{
    CreditGroup, CreditGrouping, RunOrderFilter, RunOrderTotal, campaign_creator_key,
};
pub use runs::{Credit, NewRun, Run, RunOrder};
pub use settings::{
    DEFAULT_LOOKBACK_DAYS, DEFAULT_MODEL, DEFAULT_MODEL_PARAMETERS, DEFAULT_NAME,
    DEFAULT_REPORTING_CURRENCY, DEFAULT_REPORTING_TIMEZONE, DEFAULT_SETTLEMENT_DAYS, ModelChange,
    ModelChangeRequest, WorkspaceSettings,
};
pub use source_credentials::{CredentialFacts, SourceCredential};
pub use suppression::ERASED_PAYLOAD;
pub use sync_state::SourceDeadLetterCount;
pub use totals::{
    MoneyTotal, RevenueSlot, SLOT_MS, SourceTotal, SpendDay, WorkspaceTotals, slot_of,
};
pub use traffic::{
    BUILT_IN_RULES_VERSION, Reclassification, TouchClassifier, TouchVerdict, TrafficCount,
    TrafficRuleChange,
};
pub use traffic_totals::TrafficTotal;
pub use trust_queries::{ConservationRow, OrphanAdjustment, ReconcileOrder};
pub use upgrade::{PendingUpgrade, UpgradeControl, UpgradeProgress};
pub use view_queries::{
    CUSTOMER_KEY_SQL, CreatorOrderCredit, ExportCredit, ExportOrder, ExportSpend, ExportTouch,
    NewCustomerCredit, ViewCreditBucket, ViewCreditGroup, ViewDimension, ViewSpend,
};
pub use write::{WriteTx, touch_indexes_worth_deferring};
