//! The one error type of lookback-core: every way a pure computation here can refuse its input.
//!
//! Messages are written for a person reading a dead letter or a CLI error: they name the bad
//! value (except raw emails, which are PII and never echoed) and say what was expected.

use crate::money::Currency;

/// Shorthand for results whose error is [`CoreError`].
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in lookback-core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A currency code is not three letters, or is not in the built-in ISO-4217 exponent table.
    #[error(
        "unknown currency code {code:?}: expected a three-letter ISO-4217 code such as USD or EUR"
    )]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },

    /// Two amounts in different currencies were added, subtracted or netted.
    #[error("currency mismatch: cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// The currency of the left-hand amount.
        left: Currency,
        /// The currency of the right-hand amount.
        right: Currency,
    },

    /// An integer result does not fit in an `i64` (or an intermediate in `i128`).
    #[error("arithmetic overflow in {operation}")]
    Overflow {
        /// What was being computed, e.g. "money addition".
        operation: &'static str,
    },

    /// A decimal amount string is not a plain decimal number.
    #[error("invalid amount {value:?}: {reason}")]
    InvalidAmount {
        /// The string as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A decimal amount has non-zero digits beyond the currency's minor unit.
    #[error("invalid amount {value:?}: more decimal places than {currency} allows ({exponent})")]
    TooManyDecimalPlaces {
        /// The string as given.
        value: String,
        /// The currency the amount was parsed in.
        currency: Currency,
        /// How many decimal places the currency has.
        exponent: u8,
    },

    /// A negative amount was given where only zero or positive amounts make sense.
    #[error("invalid amount {value:?}: negative amounts are not accepted here")]
    NegativeAmount {
        /// The string as given.
        value: String,
    },

    /// Weights handed to a split are unusable (negative, NaN or infinite), or a non-zero amount
    /// was to be split over no parts at all.
    #[error("invalid split weights: {reason}")]
    InvalidWeights {
        /// Why the weights were refused.
        reason: String,
    },

    /// An exchange rate string is not a positive exact decimal.
    #[error("invalid exchange rate {value:?}: {reason}")]
    InvalidRate {
        /// The string as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A timestamp string is not an RFC 3339 / ISO-8601 instant with a UTC offset.
    #[error("invalid instant {value:?}: {reason}")]
    InvalidInstant {
        /// The string as given.
        value: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A millisecond instant lies outside the calendar range chrono can represent
    /// (about ±262,000 years), which only happens with corrupt input.
    #[error("instant {at_ms} ms since the epoch is outside the supported calendar range")]
    InstantOutOfRange {
        /// The instant as given.
        at_ms: i64,
    },

    /// A time zone name is not an IANA zone known to the bundled tz database.
    #[error(
        "unknown time zone {name:?}: expected an IANA name such as \"Europe/Berlin\" or \"UTC\""
    )]
    UnknownTimeZone {
        /// The name as given.
        name: String,
    },

    /// A reporting bucket name is not `day`, `week` or `month`.
    #[error("unknown time bucket {name:?}: expected day, week or month")]
    UnknownBucket {
        /// The name as given.
        name: String,
    },

    /// An identity key type name is not one of the five known types.
    #[error(
        "unknown identity key type {name:?}: expected person_id, anonymous_id, email_sha256, customer_id or device_id"
    )]
    UnknownKeyType {
        /// The name as given.
        name: String,
    },

    /// An identity key value cannot be used. The value itself is not repeated in the message
    /// because it may be an email address.
    #[error("invalid {key} value: {reason}")]
    InvalidIdentityKey {
        /// The key type or CSV column the value came from.
        key: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// An attribution model name is not one of the eight CLI names.
    #[error(
        "unknown attribution model {name:?}: expected first-touch, last-touch, last-non-direct, linear, time-decay, position-based, markov or shapley"
    )]
    UnknownModel {
        /// The name as given.
        name: String,
    },

    /// Model parameters are out of range or their stored form cannot be read.
    #[error("invalid model parameters: {reason}")]
    InvalidModelParams {
        /// What is wrong with them.
        reason: String,
    },

    /// Journey resolution settings are out of range.
    #[error("invalid journey settings: {reason}")]
    InvalidJourneyConfig {
        /// What is wrong with them.
        reason: String,
    },

    /// More records than the `u32` indices of the journey and attribution code can address.
    #[error("too many {what}: {count} (at most {limit})")]
    TooManyRecords {
        /// What was counted, e.g. "touches".
        what: &'static str,
        /// How many were given.
        count: usize,
        /// The most that is supported.
        limit: usize,
    },

    /// A data-driven model was asked to learn from more distinct channels than its exact
    /// computation supports in reasonable time.
    #[error("too many active channels for the {model} model: {count} (at most {limit})")]
    TooManyChannels {
        /// The model's CLI name.
        model: &'static str,
        /// How many distinct channels the paths contain.
        count: usize,
        /// The most that is supported.
        limit: usize,
    },

    /// An index (of a touch, an order or a channel) points outside the slice it indexes.
    #[error("{what} index {index} is out of range (there are {len})")]
    IndexOutOfRange {
        /// What the index refers to, e.g. "touch".
        what: &'static str,
        /// The index as given.
        index: usize,
        /// The length of the slice it indexes.
        len: usize,
    },
}
