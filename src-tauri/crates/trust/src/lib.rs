//! lookback-trust: what lets a team settle payouts from Lookback's numbers (issue #7) —
//! reconciliation, data health, privacy controls (erase, redaction, retention), backup and
//! integrity. A library over lookback-store; it speaks no SQL itself.
//!
//! Code map:
//! - `integrity`: opening with an integrity verdict (sound, or damaged and read-only), the
//!   whole-file checks on their own connection and when one is due, `backup` and `restore`.
//! - `privacy`: erasing a person by any key, the retention purge.
//! - `reconcile`: the per-source, per-day reconciliation report with its gaps explained, the
//!   credit conservation check, run-to-run diffs and duplicate counts.
//! - `health`: ok / stale / failing / needs reconnecting per source, with volume, error-rate,
//!   retry and schema-drift metrics and the credential's expiry.
//!
//! Architecture Invariants:
//! - Nothing here writes into a damaged file: a damaged workspace is only ever opened through
//!   `Store::open_damaged_read_only`, whose connection SQLite itself keeps read-only.
//! - An erasure leaves no byte of the person in the workspace file or its `-wal`; the audit log
//!   records the erasure, never the person.
//! - Reconciliation adds up exactly, in minor units: every unit of order revenue in a window is
//!   either attributed or assigned to exactly one gap cause.

mod error;
pub mod health;
pub mod integrity;
pub mod privacy;
pub mod reconcile;

pub use error::{TrustError, TrustResult};
pub use health::{
    CredentialExpiry, HealthPolicy, HealthState, MIN_USUAL_WINDOWS, SourceHealthState,
    credential_expiry, health_state, health_state_at, source_health_states,
};
pub use integrity::{
    CHECK_INTERVAL_MS, CheckDepth, CheckReason, FileCheck, IntegrityVerdict, OpenedWorkspace,
    backup, check_due, check_file, open_checked, reopen_damaged, restore,
};
pub use privacy::{ErasureKey, ErasureReceipt, PurgeSummary, erase, purge_raw_payloads};
pub use reconcile::{
    ConservationReport, CreatorMove, DuplicateCounts, GapCause, ReconcileOptions, Reconciliation,
    ReconciliationRow, check_conservation, diff_runs, duplicate_counts, reconcile,
};
