//! lookback-demo: writes a deterministic, realistic demo workspace (creators, campaigns, spend,
//! touches, orders, refunds) through the store, from a seed.
//!
//! Architecture Invariant: the same [`DemoConfig`] always produces byte-identical tables. The
//! crate reads no clock (the caller passes the end instant), uses its own PRNG rather than a
//! dependency's, builds payload JSON in a fixed field order, and writes everything in one
//! transaction in a fixed order, so even rowids repeat.
//!
//! Code map: `world` is the fixed cast (creators, platforms, campaigns, products); `random` the
//! PRNG; `calendar` UTC day arithmetic; `payload` the JSON writer for raw events; `generator`
//! the story of about thirteen months written through one [`lookback_store::WriteTx`];
//! `season` how busy each day is; `traffic` the clicks no person made (mail scanners, link
//! previews, crawlers), classified as they are written; `model_history` the team's changes of
//! the attribution model ([`model_history`]), which the app records through its own
//! model-change job.

mod calendar;
mod generator;
mod model_history;
mod payload;
mod random;
mod season;
mod traffic;
mod world;

pub use model_history::{DemoModelChange, model_history};

use lookback_store::{Store, StoreError, Table};

/// How many days of history the demo covers, ending at [`DemoConfig::end_at_ms`]: about
/// thirteen months, so a cohort's 180-day horizon has closed for most months.
pub const DEMO_DAYS: i64 = 395;

/// The end instant of `DemoConfig::default()`: 2025-06-01T00:00:00Z. A fixed date rather than
/// "now", because the library never reads the clock; the CLI passes today's date instead.
pub const DEFAULT_END_AT_MS: i64 = 1_748_736_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoConfig {
    /// Seeds every random choice; the same seed gives the same workspace.
    pub seed: u64,
    /// How many orders to write (touches and persons scale with this; spend with the days).
    pub orders: usize,
    /// The instant the demo history ends (exclusive); every record lies in the
    /// [`DEMO_DAYS`] days before it.
    pub end_at_ms: i64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            seed: 42,
            orders: 12_000,
            end_at_ms: DEFAULT_END_AT_MS,
        }
    }
}

impl DemoConfig {
    /// The default seed and size, ending at `end_at_ms`.
    pub fn ending_at(end_at_ms: i64) -> Self {
        DemoConfig {
            end_at_ms,
            ..DemoConfig::default()
        }
    }

    /// The default seed and size, ending at midnight UTC starting the given day.
    pub fn ending_on(year: i32, month: u32, day: u32) -> Result<Self, DemoError> {
        let valid =
            (1..=12).contains(&month) && (1..=31).contains(&day) && (1971..=9999).contains(&year);
        let days = calendar::days_from_civil(i64::from(year), month, day);
        if !valid || calendar::civil_from_days(days) != (i64::from(year), month, day) {
            return Err(DemoError::InvalidConfig {
                detail: format!("{year:04}-{month:02}-{day:02} is not a date"),
            });
        }
        Ok(DemoConfig::ending_at(days * calendar::DAY_MS))
    }
}

/// What was written. Counts are rows inserted by this generation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub orders: u64,
    pub touches: u64,
    /// Every simulated person: buyers, browsers who never buy, and guest checkouts.
    pub persons: u64,
    pub converting_persons: u64,
    /// Orders whose buyer cannot be tied to any touch (guest checkouts, and buyers whose
    /// browser was never linked to their email and whose order carries no click id).
    pub unresolvable_orders: u64,
    pub creators: u64,
    pub content_items: u64,
    pub campaigns: u64,
    pub ad_spend_rows: u64,
    pub refunds: u64,
    pub chargebacks: u64,
    pub creator_costs: u64,
    pub identity_links: u64,
    pub fx_rates: u64,
    pub sources: u64,
    pub raw_events: u64,
    /// Earliest and latest `occurred_at_ms` over touches and orders.
    pub first_at_ms: Option<i64>,
    pub last_at_ms: Option<i64>,
}

/// Why a demo workspace could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The workspace already has orders or touches; mixing demo data into real data would make
    /// both meaningless, so generation only writes into an empty workspace.
    #[error(
        "the workspace is not empty ({orders} orders, {touches} touches); generate the demo into a new workspace"
    )]
    WorkspaceNotEmpty { orders: u64, touches: u64 },

    /// The configuration asks for something the generator cannot produce.
    #[error("invalid demo configuration: {detail}")]
    InvalidConfig { detail: String },

    /// The store refused a read or write; nothing of the demo was kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The largest `orders` accepted: beyond it the demo stops being a demo.
pub const MAX_ORDERS: usize = 1_000_000;

/// Writes a demo workspace into `store`, which must have no orders and no touches, in one
/// transaction: on any error nothing is kept.
pub fn generate(store: &mut Store, cfg: &DemoConfig) -> Result<DemoSummary, DemoError> {
    if cfg.orders > MAX_ORDERS {
        return Err(DemoError::InvalidConfig {
            detail: format!("{} orders is more than {MAX_ORDERS}", cfg.orders),
        });
    }
    if cfg.end_at_ms < (DEMO_DAYS + 1) * calendar::DAY_MS {
        return Err(DemoError::InvalidConfig {
            detail: "the end instant must be after 1971-02-01".into(),
        });
    }
    let orders = store.row_count(Table::Orders)?;
    let touches = store.row_count(Table::Touches)?;
    if orders > 0 || touches > 0 {
        return Err(DemoError::WorkspaceNotEmpty { orders, touches });
    }
    // What only hindsight decides (a scanner's sweep of a mailbox that never comes back) is
    // decided as `lookback traffic reclassify` would, so the demo shows every rule at work.
    let summary = store.write(|tx| {
        let summary = generator::DemoWriter::new(tx, cfg)?.write_all()?;
        tx.reclassify_traffic(&mut |_, _| {})?;
        Ok::<_, DemoError>(summary)
    })?;
    Ok(summary)
}
