//! lookback-ingest: CSV import — parse, validate and normalize CSV files into the raw-event
//! log and the canonical tables, with bad rows to dead letters.
//!
//! Code map:
//! - `kind`: [`ImportKind`], the six kinds of file and their CLI names.
//! - `columns`: the header row, resolved once per file; the whole-file checks.
//! - `normalize`: one row to one canonical record (touch, order, adjustment, spend day,
//!   creator cost, identity link), or the reason it cannot be used; email hashing.
//! - `payload`: the JSON payload of a row that goes into `raw_events`.
//! - `template`: [`template_csv`], the template file of each kind, from the importer's own
//!   column list.
//! - `import`: [`import_csv`] / [`import_csv_reader`], the per-file transaction and the
//!   [`ImportSummary`].
//!
//! Architecture Invariants:
//! - One file is one transaction: its good rows, its dead letters and the `csv` source's
//!   `last_success_at_ms` are committed together or not at all.
//! - Every data row ends in exactly one of: a canonical row (new, duplicate or restated), or
//!   `dead_letters` with `FILE:LINE` and a reason a person can act on.
//! - Importing a file twice changes nothing but the source's `last_success_at_ms`.
//! - A raw email address is never stored, not even in a payload or a dead letter.
//! - All SQL goes through lookback-store's typed writes; all money, time and identity parsing
//!   through lookback-core.

mod columns;
mod error;
mod import;
mod kind;
mod normalize;
mod payload;
mod template;

pub use error::IngestError;
pub use import::{CSV_SOURCE_ID, ImportSummary, NORMALIZER_VERSION, import_csv, import_csv_reader};
pub use kind::ImportKind;
pub use template::{template_columns, template_csv};
