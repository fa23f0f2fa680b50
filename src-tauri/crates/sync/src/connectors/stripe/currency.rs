//! Stripe's own currency exponents, and the exact conversion of a Stripe amount into
//! Lookback's minor units (ISO 4217, `lookback_core::money::Currency`).
//!
//! Stripe's API states every amount as an integer in "the currency's smallest unit", but its
//! table of smallest units is its own (https://docs.stripe.com/currencies, "Zero-decimal
//! currencies", "Three-decimal currencies", "Special cases"), and it is not ISO 4217
//! everywhere:
//! - ISK is two-decimal in the API: `100` is 1 króna. ISO 4217 gives ISK no minor unit, so
//!   an ISK amount is divided by 100. Since 2023-04-14 Stripe only accepts ISK amounts that
//!   are multiples of 100 (support.stripe.com, "Deprecation of fractional ISK charges and
//!   refunds"), so only older fractional-króna objects leave a remainder (see below).
//! - HUF and TWD are charged with two decimals (Stripe treats them as zero-decimal for
//!   *payouts* only, which Lookback does not read); ISO agrees, so nothing changes.
//! - UGX is in Stripe's zero-decimal list, and ISO 4217 gives it no minor unit either.
//! - Three-decimal currencies (BHD, JOD, KWD, OMR, TND) are three-decimal in both; Stripe
//!   only requires the last digit to be 0, which changes nothing when reading.
//!
//! A sub-unit remainder (a pre-2023 ISK charge of `150` = 1.50 króna) is rounded half-even
//! once, here, to whole Lookback minor units (`150` → 2 krónur, `250` → 2 krónur); the exact
//! amount stays in the raw payload. A dead letter would hide real money from every view for a
//! difference below half a króna, which is why this rounds instead.

use lookback_core::money::Currency;

use crate::connector::RecordProblem;

/// Currencies whose Stripe amount is in whole units (Stripe's "zero-decimal" list).
const STRIPE_ZERO_DECIMAL: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies whose Stripe amount is in thousandths (Stripe's "three-decimal" list).
const STRIPE_THREE_DECIMAL: &[&str] = &["BHD", "JOD", "KWD", "OMR", "TND"];

/// The number of decimal places of a Stripe amount in `code` (any case): 0, 3, or else 2
/// (every other currency, ISK included).
pub fn stripe_exponent(code: &str) -> u32 {
    let upper = code.trim().to_ascii_uppercase();
    if STRIPE_ZERO_DECIMAL.contains(&upper.as_str()) {
        0
    } else if STRIPE_THREE_DECIMAL.contains(&upper.as_str()) {
        3
    } else {
        2
    }
}

/// A Stripe amount of `field`, in Stripe's minor units of `currency`, as Lookback minor units
/// of the same currency. Exact when the exponents agree or Lookback's is larger; rounded
/// half-even once when Stripe's unit is finer (ISK). Overflow is a problem naming the field.
pub fn to_lookback_minor(
    field: &str,
    stripe_amount: i64,
    currency: Currency,
) -> Result<i64, RecordProblem> {
    let from = stripe_exponent(currency.code());
    let to = u32::from(currency.exponent());
    let overflow = || {
        RecordProblem::new(format!(
            "field {field} ({stripe_amount} in Stripe's minor units of {}) is too large",
            currency.code()
        ))
    };
    if from == to {
        return Ok(stripe_amount);
    }
    if to > from {
        let factor = 10_i64.checked_pow(to - from).ok_or_else(overflow)?;
        return stripe_amount.checked_mul(factor).ok_or_else(overflow);
    }
    let divisor = 10_i64.checked_pow(from - to).ok_or_else(overflow)?;
    Ok(divide_half_even(stripe_amount, divisor))
}

/// `value / divisor` rounded half to even (`divisor` > 0).
fn divide_half_even(value: i64, divisor: i64) -> i64 {
    let quotient = value.div_euclid(divisor);
    let remainder = value.rem_euclid(divisor);
    // Twice the remainder against the divisor, in i128 so nothing overflows.
    match (2 * i128::from(remainder)).cmp(&i128::from(divisor)) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal if quotient % 2 == 0 => quotient,
        std::cmp::Ordering::Equal => quotient + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(amount: i64, code: &str) -> i64 {
        to_lookback_minor("amount", amount, Currency::parse(code).unwrap()).unwrap()
    }

    #[test]
    fn isk_is_two_decimal_in_stripe_and_zero_decimal_in_lookback() {
        assert_eq!(stripe_exponent("isk"), 2);
        assert_eq!(minor(500, "ISK"), 5, "500 is 5 krónur, not 500");
        assert_eq!(minor(0, "ISK"), 0);
        // Fractional krónur from before 2023 are rounded half-even, once.
        assert_eq!(minor(150, "ISK"), 2);
        assert_eq!(minor(250, "ISK"), 2);
        assert_eq!(minor(251, "ISK"), 3);
        assert_eq!(minor(149, "ISK"), 1);
    }

    #[test]
    fn zero_two_and_three_decimal_currencies_pass_unchanged() {
        assert_eq!(minor(500, "JPY"), 500);
        assert_eq!(minor(500, "KRW"), 500);
        assert_eq!(minor(500, "UGX"), 500);
        assert_eq!(minor(4_990, "USD"), 4_990);
        assert_eq!(
            minor(4_990, "HUF"),
            4_990,
            "HUF is charged with two decimals"
        );
        assert_eq!(
            minor(4_990, "TWD"),
            4_990,
            "TWD is charged with two decimals"
        );
        assert_eq!(minor(5_120, "KWD"), 5_120);
        // MGA: whole ariary in Stripe, hundredths in ISO 4217.
        assert_eq!(minor(5_000, "MGA"), 500_000);
        for code in ["BHD", "JOD", "KWD", "OMR", "TND"] {
            assert_eq!(stripe_exponent(code), 3, "{code}");
        }
        for code in STRIPE_ZERO_DECIMAL {
            assert_eq!(stripe_exponent(code), 0, "{code}");
        }
    }

    #[test]
    fn every_lookback_currency_with_another_exponent_is_a_known_special_case() {
        // A currency whose ISO exponent differs from Stripe's is converted; this list says
        // which ones do, so a change of either table is seen here.
        let mut differing: Vec<&str> = Currency::all()
            .filter(|c| stripe_exponent(c.code()) != u32::from(c.exponent()))
            .map(|c| c.code().to_owned())
            .collect::<Vec<_>>()
            .iter()
            .map(|code| match code.as_str() {
                "ISK" => "ISK",
                // Zero-decimal in Stripe, two decimals (iraimbilanja) in ISO 4217: ×100.
                "MGA" => "MGA",
                // Not Stripe currencies (absent from its presentment list): never charged.
                "LYD" => "LYD",
                "IQD" => "IQD",
                other => panic!("unexpected exponent difference for {other}"),
            })
            .collect();
        differing.sort_unstable();
        assert_eq!(differing, ["IQD", "ISK", "LYD", "MGA"]);
    }

    #[test]
    fn half_even_division() {
        assert_eq!(divide_half_even(-150, 100), -2);
        assert_eq!(divide_half_even(-250, 100), -2);
        assert_eq!(divide_half_even(50, 100), 0);
        assert_eq!(divide_half_even(i64::MAX, 100), i64::MAX / 100);
    }
}
