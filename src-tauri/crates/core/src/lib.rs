//! lookback-core: domain types and all the math — money, time, identity, journeys and attribution models.
//!
//! Architecture Invariant: everything here is a pure function of its inputs, `now` included.
//! There is no IO, no clock, no SQL, no HTTP and no tauri in this crate, so every number the app
//! shows can be reproduced in a unit test from plain values.
//!
//! Architecture Invariant: money is `i64` minor units plus a [`money::Currency`]. `f64` appears
//! only for model weights and shares, and every split of an amount rounds exactly once, with the
//! parts summing to the whole (largest remainder).
//!
//! Code map:
//! - [`money`]: currencies, minor units, exact decimal parsing, largest-remainder splits.
//! - [`fx`]: exact decimal exchange rates and currency conversion with one rounding.
//! - [`time`]: RFC 3339 instants, IANA zones, day/week/month buckets.
//! - [`identity`]: email normalization and hashing, identity key types, the union–find graph.
//! - [`pii`]: data minimization of raw payloads (e-mails hashed, other personal fields redacted).
//! - [`journey`]: resolving who touched what before each order, and the non-converting paths.
//! - [`attribution`]: the eight models and the credits they produce.
//! - [`bootstrap`]: intervals for data-driven weights and credit (multinomial bootstrap over
//!   distinct paths, seeded).
//! - [`settlement`]: provisional vs settled orders, and net revenue.
//! - [`traffic`]: bot, preview and prefetch classification of touches, rules as data.
//! - [`touch_filter`]: which traffic classes a run reads (`--touches`).

pub mod attribution;
pub mod bootstrap;
pub mod error;
pub mod fx;
pub mod identity;
pub mod journey;
pub mod money;
pub mod pii;
pub mod settlement;
pub mod time;
pub mod touch_filter;
pub mod traffic;
pub mod traffic_words;

pub use error::{CoreError, Result};
