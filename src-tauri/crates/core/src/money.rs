//! Money as integers: ISO-4217 currencies, minor units, exact decimal parsing and formatting,
//! and largest-remainder splits whose parts always sum to the whole.
//!
//! Architecture Invariant: no `f64` ever holds an amount of money. Floating point appears only
//! as *weights* handed to [`split_largest_remainder`], and even those are turned into exact
//! integers before the one and only rounding step.

use std::fmt;
use std::str::FromStr;

use crate::error::{CoreError, Result};

/// One whole unit in parts per billion: the sum of the shares of every attributed order.
pub const SHARE_ONE_PPB: i64 = 1_000_000_000;

/// The built-in ISO-4217 table: code and number of minor-unit digits (the "exponent").
///
/// The exponents follow ISO-4217, not what a particular processor happens to accept: HUF, IDR,
/// TWD and COP have two decimal places in the standard even though cash rarely uses them.
const CURRENCY_EXPONENTS: &[(&str, u8)] = &[
    // Two decimal places.
    ("USD", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("CAD", 2),
    ("AUD", 2),
    ("CHF", 2),
    ("SEK", 2),
    ("NOK", 2),
    ("DKK", 2),
    ("PLN", 2),
    ("CZK", 2),
    ("HUF", 2),
    ("BRL", 2),
    ("MXN", 2),
    ("INR", 2),
    ("CNY", 2),
    ("HKD", 2),
    ("SGD", 2),
    ("NZD", 2),
    ("ZAR", 2),
    ("TRY", 2),
    ("IDR", 2),
    ("THB", 2),
    ("AED", 2),
    ("SAR", 2),
    ("ILS", 2),
    ("RON", 2),
    ("BGN", 2),
    ("UAH", 2),
    ("RUB", 2),
    ("PHP", 2),
    ("MYR", 2),
    ("TWD", 2),
    ("COP", 2),
    ("PEN", 2),
    ("ARS", 2),
    ("EGP", 2),
    ("NGN", 2),
    ("KES", 2),
    ("QAR", 2),
    ("MAD", 2),
    ("PKR", 2),
    ("BDT", 2),
    // The rest of ISO 4217's active currencies with two decimal places (Stripe and the shops
    // accept most of them; a code missing here would send every order in it to dead letters).
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CDF", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GTQ", 2),
    ("GYD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("IRR", 2),
    ("JMD", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KPW", 2),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NIO", 2),
    ("NPR", 2),
    ("PAB", 2),
    ("PGK", 2),
    ("RSD", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TOP", 2),
    ("TTD", 2),
    ("TZS", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("WST", 2),
    ("XCD", 2),
    ("XCG", 2),
    ("YER", 2),
    ("ZMW", 2),
    ("ZWG", 2),
    // No minor unit.
    ("JPY", 0),
    ("KRW", 0),
    ("CLP", 0),
    ("ISK", 0),
    ("VND", 0),
    ("UGX", 0),
    ("PYG", 0),
    ("XOF", 0),
    ("XAF", 0),
    ("XPF", 0),
    ("BIF", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("KMF", 0),
    ("RWF", 0),
    ("VUV", 0),
    // Three decimal places.
    ("KWD", 3),
    ("BHD", 3),
    ("JOD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("LYD", 3),
    ("IQD", 3),
];

/// An ISO-4217 currency from the built-in table, with its number of decimal places.
///
/// A `Currency` can only be obtained by parsing a known code (or from the constants), so its
/// exponent is always the table's. Codes are stored uppercase; parsing is case-insensitive.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    /// US dollar (2 decimal places).
    pub const USD: Currency = Currency {
        code: *b"USD",
        exponent: 2,
    };
    /// Euro (2 decimal places).
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        exponent: 2,
    };
    /// Pound sterling (2 decimal places).
    pub const GBP: Currency = Currency {
        code: *b"GBP",
        exponent: 2,
    };
    /// Japanese yen (no minor unit).
    pub const JPY: Currency = Currency {
        code: *b"JPY",
        exponent: 0,
    };
    /// Kuwaiti dinar (3 decimal places).
    pub const KWD: Currency = Currency {
        code: *b"KWD",
        exponent: 3,
    };

    /// Parses a three-letter code, ignoring case and surrounding whitespace.
    ///
    /// Fails with [`CoreError::UnknownCurrency`] for anything not in the built-in table, so an
    /// amount is never interpreted with a guessed number of decimal places.
    pub fn parse(code: &str) -> Result<Currency> {
        let trimmed = code.trim();
        let unknown = || CoreError::UnknownCurrency {
            code: code.to_owned(),
        };
        let bytes = trimmed.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(unknown());
        }
        let upper = [
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ];
        CURRENCY_EXPONENTS
            .iter()
            .find(|(known, _)| known.as_bytes() == upper)
            .map(|&(_, exponent)| Currency {
                code: upper,
                exponent,
            })
            .ok_or_else(unknown)
    }

    /// The uppercase three-letter code, e.g. `"USD"`.
    pub fn code(&self) -> &str {
        // The bytes were checked to be ASCII letters when the currency was built.
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// The number of decimal places of the minor unit: 2 for USD, 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// How many minor units make one major unit: 100 for USD, 1 for JPY, 1000 for KWD.
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(u32::from(self.exponent))
    }

    /// Every currency in the built-in table, in table order.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCY_EXPONENTS.iter().map(|&(code, exponent)| {
            let b = code.as_bytes();
            Currency {
                code: [b[0], b[1], b[2]],
                exponent,
            }
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl FromStr for Currency {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<Currency> {
        Currency::parse(s)
    }
}

/// An amount of money: integer minor units (cents, yen, fils) of one currency.
///
/// Arithmetic is checked: combining two currencies or overflowing `i64` is an error, never a
/// silent wrap or a mixed-currency sum.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Money {
    /// The amount in minor units; may be negative (a refund booked as a signed amount).
    pub minor: i64,
    /// The currency the minor units belong to.
    pub currency: Currency,
}

impl Money {
    /// An amount of `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses a major-unit decimal string such as `"14.35"`; see [`parse_signed_major_decimal`].
    pub fn parse_major(s: &str, currency: Currency) -> Result<Money> {
        Ok(Money {
            minor: parse_signed_major_decimal(s, currency)?,
            currency,
        })
    }

    /// `self + other`, or an error on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(CoreError::Overflow {
                operation: "money addition",
            })?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// `self - other`, or an error on a currency mismatch or overflow.
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(CoreError::Overflow {
                operation: "money subtraction",
            })?;
        Ok(Money {
            minor,
            currency: self.currency,
        })
    }

    /// The sum of `amounts`, all of which must be in `currency`.
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    fn same_currency(self, other: Money) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(CoreError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    /// Formats as `"14.35 USD"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            format_minor(self.minor, self.currency),
            self.currency
        )
    }
}

/// Converts a non-negative decimal string in major units to minor units, exactly.
///
/// `"14.35"` USD → 1435, `"1000"` JPY → 1000, `"1.5"` KWD → 1500, `"1.50000"` USD → 150
/// (zeros beyond the currency's decimal places are harmless), `"12.345"` USD → error
/// "more decimal places than USD allows (2)". Surrounding whitespace and a leading `+` are
/// accepted; thousands separators, exponents and a bare `"."` are not, because guessing at them is
/// how amounts end up off by a factor of a thousand. Negative amounts are refused; use
/// [`parse_signed_major_decimal`] where a sign is meaningful.
pub fn parse_major_decimal(s: &str, currency: Currency) -> Result<i64> {
    parse_decimal(s, currency, false)
}

/// Like [`parse_major_decimal`] but accepts a leading `-`: `"-3.10"` USD → -310.
pub fn parse_signed_major_decimal(s: &str, currency: Currency) -> Result<i64> {
    parse_decimal(s, currency, true)
}

fn parse_decimal(s: &str, currency: Currency, allow_negative: bool) -> Result<i64> {
    let invalid = |reason: &'static str| CoreError::InvalidAmount {
        value: s.to_owned(),
        reason,
    };
    let trimmed = s.trim();
    let (negative, body) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        Some(_) => (false, trimmed),
        None => return Err(invalid("empty string")),
    };
    if negative && !allow_negative {
        return Err(CoreError::NegativeAmount {
            value: s.to_owned(),
        });
    }
    if body.contains(',') {
        return Err(invalid(
            "thousands separators or decimal commas are not accepted; use a plain number like 1234.56",
        ));
    }
    if body.contains(['e', 'E']) {
        return Err(invalid(
            "exponent notation is not accepted; use a plain number like 1234.56",
        ));
    }
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "expected digits, optionally followed by '.' and more digits",
        ));
    }
    let fraction = fraction.unwrap_or("");
    if body.contains('.') && fraction.is_empty() {
        return Err(invalid("expected digits after the decimal point"));
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "expected digits, optionally followed by '.' and more digits",
        ));
    }
    let exponent = usize::from(currency.exponent());
    if fraction.len() > exponent && fraction.as_bytes()[exponent..].iter().any(|&b| b != b'0') {
        return Err(CoreError::TooManyDecimalPlaces {
            value: s.to_owned(),
            currency,
            exponent: currency.exponent(),
        });
    }
    // Accumulate in i128 so that a long string overflows into a clear error, not a wrap.
    let overflow = CoreError::Overflow {
        operation: "amount parsing",
    };
    let mut magnitude: i128 = 0;
    let significant_fraction = &fraction[..fraction.len().min(exponent)];
    let padded_zeros = exponent - significant_fraction.len();
    for digit in whole.bytes().chain(significant_fraction.bytes()) {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(digit - b'0')))
            .filter(|m| *m <= i128::from(i64::MAX) + 1)
            .ok_or(overflow.clone())?;
    }
    for _ in 0..padded_zeros {
        magnitude = magnitude.checked_mul(10).ok_or(overflow.clone())?;
    }
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| overflow)
}

/// Formats minor units as a major-unit decimal string without a currency code:
/// 1435 USD → `"14.35"`, -5 USD → `"-0.05"`, 1000 JPY → `"1000"`, 1500 KWD → `"1.500"`.
///
/// The output always has exactly the currency's number of decimal places, so it parses back to
/// the same value with [`parse_signed_major_decimal`].
pub fn format_minor(minor: i64, currency: Currency) -> String {
    let exponent = u32::from(currency.exponent());
    let sign = if minor < 0 { "-" } else { "" };
    // unsigned_abs keeps i64::MIN representable.
    let magnitude = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{magnitude}");
    }
    let unit = 10_u64.pow(exponent);
    let width = exponent as usize;
    format!("{sign}{}.{:0width$}", magnitude / unit, magnitude % unit)
}

/// Converts an amount in micros (millionths of a major unit, as Google Ads' `costMicros`) to
/// minor units, rounding half to even exactly once: 1_234_567 micros USD → 123 cents,
/// 5_000 micros USD (half a cent) → 0, 15_000 → 2.
pub fn micros_to_minor(micros: i64, currency: Currency) -> i64 {
    // Every exponent in the table is at most 3, so the divisor is at least 1000 and the quotient
    // is smaller in magnitude than the input: the conversion cannot overflow.
    let divisor = 10_i128.pow(6 - u32::from(currency.exponent()));
    div_round_half_even(i128::from(micros), divisor) as i64
}

/// `numerator / denominator` rounded to the nearest integer, ties to the even neighbour.
///
/// `denominator` must be positive. This is the crate's one rounding rule for money (micros, fx);
/// splits use largest remainder instead, because they must also preserve the sum.
pub(crate) fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    // Compare 2·remainder with the denominator without risking overflow of 2·remainder.
    let above_remainder = denominator - remainder;
    if remainder > above_remainder || (remainder == above_remainder && quotient % 2 != 0) {
        quotient + 1
    } else {
        quotient
    }
}

/// Splits `total` minor units into parts proportional to exact integer `weights`, so that the
/// parts sum to exactly `total`.
///
/// Method (largest remainder, rounding once): each part's exact quota is
/// `|total| · wᵢ / Σw`, computed in `u128` without loss. Each part first gets the floor of its
/// quota; the units still missing (fewer than the number of parts) go one each to the parts
/// with the largest fractional remainders, ties broken by the lowest index.
///
/// - All-zero weights split the total equally (as if every weight were 1), so an amount is
///   never lost because a model gave every touch nothing.
/// - A negative total is split symmetrically: `split(-t) == -split(t)` element-wise, so the
///   extra units of magnitude also go to the lowest indices on ties.
/// - An empty `weights` is fine for a zero total (no parts) and an error otherwise.
pub fn split_largest_remainder_exact(total: i64, weights: &[u64]) -> Result<Vec<i64>> {
    if weights.is_empty() {
        return if total == 0 {
            Ok(Vec::new())
        } else {
            Err(CoreError::InvalidWeights {
                reason: format!("cannot split {total} over zero parts"),
            })
        };
    }
    let weight_sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if weight_sum == 0 {
        return split_largest_remainder_exact(total, &vec![1; weights.len()]);
    }
    let magnitude = u128::from(total.unsigned_abs());
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut assigned: u128 = 0;
    for &weight in weights {
        // |total| < 2^64 and weight < 2^64, so the product fits in u128.
        let scaled = magnitude * u128::from(weight);
        let floor = scaled / weight_sum;
        assigned += floor;
        parts.push(floor);
        remainders.push(scaled % weight_sum);
    }
    // Σ floor(qᵢ) ≥ Σ qᵢ − n, so fewer than n units are left over.
    let leftover = (magnitude - assigned) as usize;
    if leftover > 0 {
        let mut order: Vec<usize> = (0..weights.len()).collect();
        order.sort_unstable_by(|&a, &b| remainders[b].cmp(&remainders[a]).then(a.cmp(&b)));
        for &index in &order[..leftover] {
            parts[index] += 1;
        }
    }
    let sign: i128 = if total < 0 { -1 } else { 1 };
    // Each part is at most |total| ≤ 2^63, and with the sign applied it fits back into i64.
    Ok(parts
        .into_iter()
        .map(|p| (sign * p as i128) as i64)
        .collect())
}

/// The scale real-valued weights are mapped onto before an exact split: the largest weight
/// becomes 2^62.
const REAL_WEIGHT_SCALE: f64 = (1u64 << 62) as f64;

/// Splits `total` minor units in proportion to real-valued `weights` (model weights, time-decay
/// factors), with parts that sum to exactly `total`.
///
/// The weights are first mapped to exact integers — scaled so the largest is 2^62, then rounded
/// to the nearest integer — and split with [`split_largest_remainder_exact`]. Mapping the weights
/// changes each weight by at most 2^-62 of the largest one, far below anything that can move a
/// minor unit for real amounts, and it makes the single rounding of the money exact and identical
/// on every platform. Semantics otherwise as in [`split_largest_remainder_exact`]: ties to the
/// lowest index, all-zero weights split equally, negative totals symmetric.
///
/// Weights must be finite and not negative; anything else is [`CoreError::InvalidWeights`].
pub fn split_largest_remainder(total: i64, weights: &[f64]) -> Result<Vec<i64>> {
    let integer_weights = real_weights_to_exact(weights)?;
    split_largest_remainder_exact(total, &integer_weights)
}

/// Maps real weights onto exact integers with the largest at 2^62 (all zeros stay zeros).
pub(crate) fn real_weights_to_exact(weights: &[f64]) -> Result<Vec<u64>> {
    let mut largest = 0.0_f64;
    for (index, &weight) in weights.iter().enumerate() {
        if !weight.is_finite() || weight < 0.0 {
            return Err(CoreError::InvalidWeights {
                reason: format!(
                    "weight {index} is {weight}; weights must be finite and not negative"
                ),
            });
        }
        largest = largest.max(weight);
    }
    if largest == 0.0 {
        return Ok(vec![0; weights.len()]);
    }
    Ok(weights
        .iter()
        .map(|&weight| ((weight / largest) * REAL_WEIGHT_SCALE).round() as u64)
        .collect())
}

/// Shares in parts per billion proportional to real `weights`, summing to exactly
/// [`SHARE_ONE_PPB`] (for a non-empty input). Same method as [`split_largest_remainder`].
pub fn split_ppb(weights: &[f64]) -> Result<Vec<i64>> {
    split_largest_remainder(SHARE_ONE_PPB, weights)
}

/// Shares in parts per billion proportional to exact integer `weights`, summing to exactly
/// [`SHARE_ONE_PPB`] (for a non-empty input). Same method as [`split_largest_remainder_exact`].
pub fn split_ppb_exact(weights: &[u64]) -> Result<Vec<i64>> {
    split_largest_remainder_exact(SHARE_ONE_PPB, weights)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::USD
    }

    #[test]
    fn currency_parse_is_case_insensitive_and_knows_exponents() {
        assert_eq!(Currency::parse("usd").unwrap(), Currency::USD);
        assert_eq!(Currency::parse(" Eur ").unwrap().code(), "EUR");
        for (code, exponent) in [("JPY", 0), ("KRW", 0), ("CLP", 0), ("ISK", 0), ("VND", 0)] {
            assert_eq!(
                Currency::parse(code).unwrap().exponent(),
                exponent,
                "{code}"
            );
        }
        for code in ["KWD", "BHD", "JOD", "OMR", "TND"] {
            assert_eq!(Currency::parse(code).unwrap().exponent(), 3, "{code}");
        }
        for code in [
            "GBP", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "BRL", "MXN",
            "INR", "CNY", "HKD", "SGD", "NZD", "ZAR", "TRY", "IDR", "THB", "AED", "SAR", "ILS",
        ] {
            assert_eq!(Currency::parse(code).unwrap().exponent(), 2, "{code}");
        }
        assert!(matches!(
            Currency::parse("US"),
            Err(CoreError::UnknownCurrency { .. })
        ));
        assert!(matches!(
            Currency::parse("XYZ"),
            Err(CoreError::UnknownCurrency { .. })
        ));
        assert!(matches!(
            Currency::parse("U$D"),
            Err(CoreError::UnknownCurrency { .. })
        ));
        assert_eq!(Currency::JPY.minor_per_major(), 1);
        assert_eq!(Currency::KWD.minor_per_major(), 1000);
        assert_eq!(Currency::parse("jpy").unwrap(), Currency::JPY);
    }

    #[test]
    fn money_arithmetic_is_checked() {
        let a = Money::new(1435, usd());
        let b = Money::new(65, usd());
        assert_eq!(a.checked_add(b).unwrap(), Money::new(1500, usd()));
        assert_eq!(b.checked_sub(a).unwrap(), Money::new(-1370, usd()));
        let err = a.checked_add(Money::new(1, Currency::EUR)).unwrap_err();
        assert_eq!(
            err,
            CoreError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            }
        );
        assert_eq!(
            err.to_string(),
            "currency mismatch: cannot combine USD with EUR"
        );
        assert!(matches!(
            Money::new(i64::MAX, usd()).checked_add(Money::new(1, usd())),
            Err(CoreError::Overflow { .. })
        ));
        assert!(matches!(
            Money::new(i64::MIN, usd()).checked_sub(Money::new(1, usd())),
            Err(CoreError::Overflow { .. })
        ));
        assert_eq!(Money::new(1435, usd()).to_string(), "14.35 USD");
        assert_eq!(
            Money::checked_sum(usd(), [a, b, Money::new(1, usd())]).unwrap(),
            Money::new(1501, usd())
        );
    }

    #[test]
    fn parse_major_decimal_is_exact() {
        assert_eq!(parse_major_decimal("14.35", usd()).unwrap(), 1435);
        assert_eq!(parse_major_decimal("14.3", usd()).unwrap(), 1430);
        assert_eq!(parse_major_decimal("14", usd()).unwrap(), 1400);
        assert_eq!(parse_major_decimal("0.01", usd()).unwrap(), 1);
        assert_eq!(parse_major_decimal("1.50000", usd()).unwrap(), 150);
        assert_eq!(parse_major_decimal(" +7.00 ", usd()).unwrap(), 700);
        assert_eq!(parse_major_decimal("1000", Currency::JPY).unwrap(), 1000);
        assert_eq!(
            parse_major_decimal("1000.000", Currency::JPY).unwrap(),
            1000
        );
        assert_eq!(parse_major_decimal("1.5", Currency::KWD).unwrap(), 1500);
        assert_eq!(parse_major_decimal("0.001", Currency::KWD).unwrap(), 1);
        // 0.1 + 0.2 is the classic float trap; here it is just 10 + 20.
        assert_eq!(
            parse_major_decimal("0.10", usd()).unwrap()
                + parse_major_decimal("0.20", usd()).unwrap(),
            30
        );
        assert_eq!(parse_signed_major_decimal("-3.10", usd()).unwrap(), -310);
        assert_eq!(parse_signed_major_decimal("-0.00", usd()).unwrap(), 0);
        assert_eq!(
            parse_major_decimal("92233720368547758.07", usd()).unwrap(),
            i64::MAX
        );
        assert_eq!(
            parse_signed_major_decimal("-92233720368547758.08", usd()).unwrap(),
            i64::MIN
        );
    }

    #[test]
    fn parse_major_decimal_refuses_what_it_cannot_read_exactly() {
        let err = parse_major_decimal("12.345", usd()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid amount \"12.345\": more decimal places than USD allows (2)"
        );
        assert!(matches!(
            parse_major_decimal("1.5", Currency::JPY),
            Err(CoreError::TooManyDecimalPlaces { exponent: 0, .. })
        ));
        assert!(matches!(
            parse_major_decimal("-3.10", usd()),
            Err(CoreError::NegativeAmount { .. })
        ));
        for bad in [
            "", " ", "abc", "1,000.00", "1.2.3", ".5", "5.", "1e3", "--1", "+-1", "1 000", "0x10",
            "١٢",
        ] {
            assert!(
                matches!(
                    parse_signed_major_decimal(bad, usd()),
                    Err(CoreError::InvalidAmount { .. })
                ),
                "{bad:?} should be invalid"
            );
        }
        assert!(matches!(
            parse_major_decimal("92233720368547758.08", usd()),
            Err(CoreError::Overflow { .. })
        ));
        assert!(matches!(
            parse_major_decimal("99999999999999999999999999999999999999999", usd()),
            Err(CoreError::Overflow { .. })
        ));
    }

    #[test]
    fn format_minor_round_trips() {
        assert_eq!(format_minor(1435, usd()), "14.35");
        assert_eq!(format_minor(5, usd()), "0.05");
        assert_eq!(format_minor(-5, usd()), "-0.05");
        assert_eq!(format_minor(-310, usd()), "-3.10");
        assert_eq!(format_minor(0, usd()), "0.00");
        assert_eq!(format_minor(1000, Currency::JPY), "1000");
        assert_eq!(format_minor(-1000, Currency::JPY), "-1000");
        assert_eq!(format_minor(1500, Currency::KWD), "1.500");
        assert_eq!(format_minor(i64::MIN, usd()), "-92233720368547758.08");
    }

    #[test]
    fn micros_round_half_to_even_once() {
        assert_eq!(micros_to_minor(1_234_567, usd()), 123);
        assert_eq!(micros_to_minor(1_235_000, usd()), 124); // 123.5 → 124 (even)
        assert_eq!(micros_to_minor(1_245_000, usd()), 124); // 124.5 → 124 (even)
        assert_eq!(micros_to_minor(5_000, usd()), 0);
        assert_eq!(micros_to_minor(15_000, usd()), 2);
        assert_eq!(micros_to_minor(-15_000, usd()), -2);
        assert_eq!(micros_to_minor(-25_000, usd()), -2);
        assert_eq!(micros_to_minor(1_500_000, Currency::JPY), 2);
        assert_eq!(micros_to_minor(2_500_000, Currency::JPY), 2);
        assert_eq!(micros_to_minor(1_234_567, Currency::KWD), 1235);
        assert_eq!(micros_to_minor(i64::MIN, usd()), -922_337_203_685_478);
    }

    #[test]
    fn largest_remainder_examples() {
        assert_eq!(
            split_largest_remainder_exact(100, &[1, 1, 1]).unwrap(),
            vec![34, 33, 33]
        );
        assert_eq!(
            split_largest_remainder_exact(-100, &[1, 1, 1]).unwrap(),
            vec![-34, -33, -33]
        );
        assert_eq!(
            split_largest_remainder_exact(2, &[1, 1, 1]).unwrap(),
            vec![1, 1, 0]
        );
        // Quotas 1.2, 1.8, 7.0 → floors 1, 1, 7; the one missing unit goes to remainder 0.8.
        assert_eq!(
            split_largest_remainder_exact(10, &[12, 18, 70]).unwrap(),
            vec![1, 2, 7]
        );
        assert_eq!(
            split_largest_remainder_exact(0, &[1, 2]).unwrap(),
            vec![0, 0]
        );
        assert_eq!(
            split_largest_remainder_exact(7, &[0, 0]).unwrap(),
            vec![4, 3]
        );
        assert_eq!(
            split_largest_remainder_exact(7, &[0, 5]).unwrap(),
            vec![0, 7]
        );
        assert_eq!(
            split_largest_remainder_exact(0, &[]).unwrap(),
            Vec::<i64>::new()
        );
        assert!(matches!(
            split_largest_remainder_exact(1, &[]),
            Err(CoreError::InvalidWeights { .. })
        ));
        assert_eq!(
            split_largest_remainder_exact(i64::MAX, &[u64::MAX, u64::MAX]).unwrap(),
            vec![i64::MAX / 2 + 1, i64::MAX / 2]
        );
        assert_eq!(
            split_largest_remainder_exact(i64::MIN, &[1, 1, 1])
                .unwrap()
                .iter()
                .map(|&p| i128::from(p))
                .sum::<i128>(),
            i128::from(i64::MIN)
        );
        assert_eq!(
            split_largest_remainder(100, &[0.5, 0.25, 0.25]).unwrap(),
            vec![50, 25, 25]
        );
        assert_eq!(split_largest_remainder(1, &[1.0, 1.0]).unwrap(), vec![1, 0]);
        assert_eq!(
            split_largest_remainder(1, &[1.0, 1.0 + 1e-9]).unwrap(),
            vec![0, 1]
        );
        assert_eq!(
            split_largest_remainder(5, &[0.0, 0.0, 0.0]).unwrap(),
            vec![2, 2, 1]
        );
        assert!(matches!(
            split_largest_remainder(5, &[1.0, f64::NAN]),
            Err(CoreError::InvalidWeights { .. })
        ));
        assert!(matches!(
            split_largest_remainder(5, &[1.0, -0.5]),
            Err(CoreError::InvalidWeights { .. })
        ));
        assert!(matches!(
            split_largest_remainder(5, &[f64::INFINITY]),
            Err(CoreError::InvalidWeights { .. })
        ));
        assert_eq!(
            split_ppb_exact(&[1, 1, 1]).unwrap(),
            vec![333_333_334, 333_333_333, 333_333_333]
        );
        assert_eq!(
            split_ppb(&[2.0, 1.0]).unwrap(),
            vec![666_666_667, 333_333_333]
        );
    }

    proptest! {
        #[test]
        fn exact_split_sums_and_stays_within_one_unit(
            total in any::<i64>(),
            weights in proptest::collection::vec(0u64..1_000_000, 1..20),
        ) {
            let parts = split_largest_remainder_exact(total, &weights).unwrap();
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().map(|&p| i128::from(p)).sum::<i128>(), i128::from(total));
            let weight_sum: i128 = weights.iter().map(|&w| i128::from(w)).sum();
            let effective: Vec<i128> = if weight_sum == 0 {
                vec![1; weights.len()]
            } else {
                weights.iter().map(|&w| i128::from(w)).collect()
            };
            let effective_sum: i128 = effective.iter().sum();
            for (part, weight) in parts.iter().zip(&effective) {
                // |part·Σw − total·w| < Σw  ⇔  the part is within one unit of its exact quota.
                let gap = (i128::from(*part) * effective_sum - i128::from(total) * weight).abs();
                prop_assert!(gap < effective_sum);
            }
        }

        #[test]
        fn real_split_sums_exactly(
            total in -1_000_000_000_000i64..1_000_000_000_000,
            weights in proptest::collection::vec(0.0f64..1e6, 1..20),
        ) {
            let parts = split_largest_remainder(total, &weights).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), total);
            let negated = split_largest_remainder(-total, &weights).unwrap();
            prop_assert_eq!(negated, parts.iter().map(|p| -p).collect::<Vec<_>>());
        }

        #[test]
        fn decimal_format_and_parse_round_trip(minor in any::<i64>(), code in prop::sample::select(vec!["USD", "JPY", "KWD"])) {
            let currency = Currency::parse(code).unwrap();
            prop_assert_eq!(parse_signed_major_decimal(&format_minor(minor, currency), currency).unwrap(), minor);
        }
    }
}
