//! Typed records of the canonical tables, one struct per table, and the closed vocabularies the
//! schema enforces with CHECK constraints. Field names are the column names, so a reader of the
//! SQL and a reader of the Rust see the same words.
//!
//! Money is `*_minor: i64` plus an uppercase ISO-4217 `currency`; instants are `*_at_ms` (UTC,
//! milliseconds since the epoch); calendar days are `YYYY-MM-DD` strings in the zone named
//! beside them. Vocabularies that come from outside (channels, statuses, platforms) stay
//! strings, so a value a platform invents tomorrow is recorded rather than refused.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// Declares a closed vocabulary stored as TEXT: the Rust variants, their exact spellings in
/// SQL, and the conversions both ways. A value in the file outside the vocabulary is a read
/// error rather than a silent default.
macro_rules! text_vocabulary {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The spelling stored in SQLite.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// The value spelled `text`, if it is one of the vocabulary.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                Self::parse(text).ok_or_else(|| {
                    FromSqlError::Other(format!("{text:?} is not a {}", stringify!($name)).into())
                })
            }
        }
    };
}

text_vocabulary! {
    /// What an order adjustment is.
    pub enum AdjustmentKind {
        /// Money the merchant returned to the customer.
        Refund => "refund",
        /// Money the customer's bank pulled back through a dispute.
        Chargeback => "chargeback",
    }
}

text_vocabulary! {
    /// What a row of `money_totals` (migration 0016) sums, per currency.
    pub enum MoneyFigure {
        /// Orders' gross, whatever their status.
        OrderGross => "order",
        /// Counted refunds (see `COUNTED_ADJUSTMENT`).
        Refunds => "refund",
        /// Counted chargebacks.
        Chargebacks => "chargeback",
        /// Ad spend.
        AdSpend => "ad_spend",
        /// Creator costs: fees and commissions.
        CreatorCosts => "creator_cost",
    }
}

text_vocabulary! {
    /// What a creator cost is.
    pub enum CreatorCostKind {
        /// A flat fee agreed in advance (per post, per month).
        Fee => "fee",
        /// A share of sales paid after the fact.
        Commission => "commission",
    }
}

text_vocabulary! {
    /// The kinds of identity key a touch or order can carry and an identity link can join.
    pub enum IdentityKeyType {
        /// An id Lookback or an attribution platform assigned to a resolved person.
        PersonId => "person_id",
        /// A cookie or pixel id of one browser.
        AnonymousId => "anonymous_id",
        /// SHA-256 hex of the normalized (trimmed, lowercase) email address.
        EmailSha256 => "email_sha256",
        /// The shop's or payment provider's customer id.
        CustomerId => "customer_id",
        /// A mobile device id.
        DeviceId => "device_id",
    }
}

text_vocabulary! {
    /// Where an attribution run is in its life.
    pub enum RunStatus {
        /// Started, credits still being written (or the process died while writing them).
        Running => "running",
        /// Every credit is written; the run may be reused.
        Complete => "complete",
        /// Stopped with an error; never reused.
        Failed => "failed",
    }
}

text_vocabulary! {
    /// What became of one order in one attribution run.
    pub enum RunOrderOutcome {
        /// At least one touch earned credit.
        Attributed => "attributed",
        /// No touch in the journey: shown as unattributed, never dropped.
        Unattributed => "unattributed",
        /// No fx rate for the order's day, so its revenue could not be converted.
        MissingFx => "missing_fx",
    }
}

text_vocabulary! {
    /// How an order was tied to the touches that earned credit.
    pub enum JoinKind {
        /// The order carried the click id or the platform's own attribution.
        Deterministic => "deterministic",
        /// Through the identity graph (shared keys between touches and the order).
        IdentityGraph => "identity_graph",
        /// By time proximity, only when the workspace enables it; confidence below 1.
        Probabilistic => "probabilistic",
    }
}

/// The identity keys a touch or an order may carry. All are optional; email only as a hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityKeys {
    pub person_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub email_sha256: Option<String>,
    pub customer_id: Option<String>,
    pub device_id: Option<String>,
}

/// One identity key with its type, as joined by an [`IdentityLink`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdentityKey {
    pub key_type: IdentityKeyType,
    pub value: String,
}

impl IdentityKey {
    pub fn new(key_type: IdentityKeyType, value: impl Into<String>) -> Self {
        IdentityKey {
            key_type,
            value: value.into(),
        }
    }
}

/// A place data comes from. `credential_ref` names a keyring entry; secrets are never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub source_id: String,
    pub kind: String,
    pub name: String,
    pub base_url: Option<String>,
    pub account: Option<String>,
    pub credential_ref: Option<String>,
    pub created_at_ms: i64,
    pub last_attempt_at_ms: Option<i64>,
    pub last_success_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

/// Where an incremental sync of one stream stopped; written with the data it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncCheckpoint {
    pub source_id: String,
    pub stream: String,
    pub cursor: String,
    pub updated_at_ms: i64,
}

/// A record as it arrived, before normalization. Borrowed, because payloads can be large and
/// the caller already holds them.
#[derive(Debug, Clone, Copy)]
pub struct NewRawEvent<'a> {
    pub source: &'a str,
    pub stream: &'a str,
    pub external_id: &'a str,
    pub received_at_ms: i64,
    /// The payload verbatim (JSON text); the store computes its SHA-256.
    pub payload: &'a str,
    pub normalizer_version: i64,
}

/// One stored version of a raw record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    pub raw_event_id: i64,
    pub source: String,
    pub stream: String,
    pub external_id: String,
    pub received_at_ms: i64,
    /// The payload byte for byte as it arrived (or the placeholder purge or erasure left).
    pub payload: String,
    /// The SHA-256 of the payload as it arrived.
    pub payload_sha256: [u8; 32],
    pub normalizer_version: i64,
}

/// What inserting a raw event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawEventOutcome {
    /// First time this (source, stream, external_id) was seen; the new row's id.
    Inserted(i64),
    /// The latest stored version has the same payload: nothing was written. Carries that
    /// version's id so canonical rows can still point at it.
    Duplicate(i64),
    /// The record was known with a different payload (a restatement): appended as a new
    /// version with this id.
    NewVersion(i64),
}

impl RawEventOutcome {
    /// The id of the raw event that now holds this payload, whatever happened.
    pub fn raw_event_id(self) -> i64 {
        match self {
            RawEventOutcome::Inserted(id)
            | RawEventOutcome::Duplicate(id)
            | RawEventOutcome::NewVersion(id) => id,
        }
    }
}

/// What inserting an idempotent record (touch, order, adjustment, cost, identity link) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertOutcome {
    /// The record was new and is now stored.
    Inserted,
    /// A record with the same id was already stored; nothing changed.
    Duplicate,
    /// The record belongs to an erased person and was not stored (see `suppression`).
    Suppressed,
}

/// A record that could not be used, to be written to `dead_letters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    pub source: String,
    pub stream: String,
    /// Where it came from: `file.csv:17`, a page URL, a webhook id.
    pub location: String,
    /// Why it was refused, in words a person can act on.
    pub reason: String,
    pub payload: String,
    pub created_at_ms: i64,
}

/// A stored dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub dead_letter_id: i64,
    pub source: String,
    pub stream: String,
    pub location: String,
    pub reason: String,
    pub payload: String,
    pub created_at_ms: i64,
    pub resolved_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    pub creator_id: String,
    pub display_name: String,
    pub handle: Option<String>,
    pub platform: Option<String>,
    pub created_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub campaign_id: String,
    pub platform: String,
    pub account_id: Option<String>,
    pub name: String,
    pub channel: String,
    /// Set for creator (whitelisted) ads, whose spend is a cost of that creator.
    pub creator_id: Option<String>,
}

/// A post, story, video or tracked link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub content_id: String,
    pub creator_id: Option<String>,
    pub kind: String,
    pub title: String,
    pub url: Option<String>,
    pub published_at_ms: Option<i64>,
}

/// A click, link visit, story swipe, ad click, email open or direct visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub touch_id: String,
    pub source: String,
    pub occurred_at_ms: i64,
    pub channel: String,
    /// `click` unless the source says otherwise (`view`, `open`, `swipe`).
    pub touch_type: String,
    pub creator_id: Option<String>,
    pub campaign_id: Option<String>,
    pub ad_id: Option<String>,
    pub content_id: Option<String>,
    pub click_id: Option<String>,
    pub identity: IdentityKeys,
    pub raw_event_id: Option<i64>,
}

/// An order at its gross amount; refunds and chargebacks are [`OrderAdjustment`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: String,
    pub source: String,
    pub occurred_at_ms: i64,
    pub gross_minor: i64,
    pub currency: String,
    pub status: String,
    pub click_id: Option<String>,
    pub identity: IdentityKeys,
    pub raw_event_id: Option<i64>,
}

/// A refund or chargeback booked against an order, positive, in its own currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAdjustment {
    pub adjustment_id: String,
    pub order_id: String,
    pub source: String,
    pub kind: AdjustmentKind,
    pub occurred_at_ms: i64,
    pub amount_minor: i64,
    pub currency: String,
    /// Refunds: `succeeded` (counted), `pending`, `failed`/`canceled` (not counted).
    /// Chargebacks: `open` (counted, and the order is disputed), `lost` (counted), `won` (not counted).
    pub status: String,
    pub raw_event_id: Option<i64>,
}

/// One day of ad spend as the platform reports it, in the account's zone and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdSpend {
    pub platform: String,
    pub account_id: String,
    pub campaign_id: String,
    /// Empty for campaign-level rows.
    pub ad_id: String,
    pub day: String,
    pub account_timezone: String,
    pub channel: String,
    pub creator_id: Option<String>,
    pub spend_minor: i64,
    pub currency: String,
    pub impressions: Option<i64>,
    pub clicks: Option<i64>,
    pub source: String,
    pub raw_event_id: Option<i64>,
    pub updated_at_ms: i64,
}

/// A flat fee or commission paid to a creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorCost {
    pub cost_id: String,
    pub creator_id: String,
    pub day: String,
    pub kind: CreatorCostKind,
    pub amount_minor: i64,
    pub currency: String,
    pub source: String,
    pub raw_event_id: Option<i64>,
}

/// Two identity keys known to belong to one person. The store keeps `a < b` (by type, then
/// value) so each link is stored once whichever way round it was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    pub a: IdentityKey,
    pub b: IdentityKey,
    pub source: String,
    pub created_at_ms: i64,
}

/// 1 unit of `from_currency` is `rate` units of `to_currency` on `day`; `rate` is an exact
/// decimal string such as `"1.0842"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxRate {
    pub day: String,
    pub from_currency: String,
    pub to_currency: String,
    pub rate: String,
    pub source: String,
}

/// Checks that `currency` looks like an ISO-4217 code: three uppercase ASCII letters.
pub(crate) fn check_currency(field: &'static str, currency: &str) -> crate::StoreResult<()> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(crate::StoreError::InvalidValue {
            field,
            detail: format!("{currency:?} is not an uppercase ISO-4217 code"),
        })
    }
}

/// Checks that `day` is shaped `YYYY-MM-DD` with a plausible month and day, so string
/// comparison of days orders them by date.
pub(crate) fn check_day(field: &'static str, day: &str) -> crate::StoreResult<()> {
    let b = day.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10);
    let plausible = shaped && {
        let month: u32 = day[5..7].parse().unwrap_or(0);
        let dom: u32 = day[8..10].parse().unwrap_or(0);
        (1..=12).contains(&month) && (1..=31).contains(&dom)
    };
    if plausible {
        Ok(())
    } else {
        Err(crate::StoreError::InvalidValue {
            field,
            detail: format!("{day:?} is not a YYYY-MM-DD day"),
        })
    }
}
