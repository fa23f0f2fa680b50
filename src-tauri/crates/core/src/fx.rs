//! Exchange rates as exact decimals, and currency conversion of minor units with one rounding.
//!
//! A rate is stored as it was published ("1.0834"), as an integer mantissa and a decimal scale,
//! so converting never passes through binary floating point and two runs over the same rates
//! always produce the same cents.

use std::fmt;
use std::str::FromStr;

use crate::error::{CoreError, Result};
use crate::money::{Currency, div_round_half_even};

/// The most significant digits a rate may have. No rate source publishes more than about 12;
/// the limit keeps every intermediate product of a conversion inside `i128`.
const MAX_RATE_DIGITS: u32 = 18;

/// The most decimal places a rate may have after trailing zeros are dropped.
const MAX_RATE_SCALE: u32 = 30;

/// An exchange rate as an exact positive decimal: one major unit of the source currency buys
/// `mantissa / 10^scale` major units of the target currency (the `fx_rates.rate` column).
///
/// The representation is canonical (no trailing fractional zeros), so equal rates compare equal
/// and [`fmt::Display`] gives back a stable string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FxRate {
    mantissa: i128,
    scale: u32,
}

impl FxRate {
    /// The rate 1, for converting a currency into itself.
    pub const ONE: FxRate = FxRate {
        mantissa: 1,
        scale: 0,
    };

    /// Parses a positive decimal such as `"1.0834"`, `"150"`, `"0.0000393"` or `"3.93e-05"`.
    ///
    /// Exponent notation is accepted here (unlike in amounts) because JSON rate feeds emit it for
    /// very small rates, and it is still an exact decimal. Zero, negative, empty and non-numeric
    /// rates are refused, as are rates with more than 18 significant digits or 30 decimal places.
    pub fn parse(s: &str) -> Result<FxRate> {
        let invalid = |reason: &'static str| CoreError::InvalidRate {
            value: s.to_owned(),
            reason,
        };
        let trimmed = s.trim();
        let trimmed = trimmed.strip_prefix('+').unwrap_or(trimmed);
        if trimmed.starts_with('-') {
            return Err(invalid("a rate must be positive"));
        }
        let (number, exponent) = match trimmed.split_once(['e', 'E']) {
            Some((number, exponent)) => {
                let exponent: i32 = exponent
                    .parse()
                    .map_err(|_| invalid("the exponent is not an integer"))?;
                (number, exponent)
            }
            None => (trimmed, 0),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid("expected a decimal number such as 1.0834"));
        }
        if !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return Err(invalid("expected a decimal number such as 1.0834"));
        }
        // Significant digits: drop leading zeros of the whole digit string.
        let digits: String = whole.chars().chain(fraction.chars()).collect();
        let significant = digits.trim_start_matches('0').trim_end_matches('0');
        if significant.is_empty() {
            return Err(invalid("a rate must be positive"));
        }
        if significant.len() as u32 > MAX_RATE_DIGITS {
            return Err(invalid("more than 18 significant digits"));
        }
        let trailing_zeros = digits.len() - digits.trim_end_matches('0').len();
        let mantissa: i128 = significant
            .parse()
            .map_err(|_| invalid("expected a decimal number such as 1.0834"))?;
        // value = significant · 10^(trailing_zeros − fraction.len() + exponent)
        let power = i64::try_from(trailing_zeros).unwrap_or(i64::MAX) - fraction.len() as i64
            + i64::from(exponent);
        if power >= 0 {
            let power = u32::try_from(power).map_err(|_| invalid("the rate is too large"))?;
            let factor = 10_i128
                .checked_pow(power)
                .ok_or(invalid("the rate is too large"))?;
            let mantissa = mantissa
                .checked_mul(factor)
                .ok_or(invalid("the rate is too large"))?;
            if mantissa >= 10_i128.pow(MAX_RATE_DIGITS) {
                return Err(invalid("the rate is too large"));
            }
            Ok(FxRate { mantissa, scale: 0 })
        } else {
            let scale =
                u32::try_from(-power).map_err(|_| invalid("more than 30 decimal places"))?;
            if scale > MAX_RATE_SCALE {
                return Err(invalid("more than 30 decimal places"));
            }
            Ok(FxRate { mantissa, scale })
        }
    }

    /// The integer mantissa: the rate is `mantissa() / 10^scale()`.
    pub fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// The number of decimal places of the rate.
    pub fn scale(&self) -> u32 {
        self.scale
    }
}

impl fmt::Display for FxRate {
    /// The canonical decimal form: `"1.0834"`, `"150"`, `"0.0000393"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let digits = self.mantissa.to_string();
        let scale = self.scale as usize;
        if digits.len() > scale {
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            write!(f, "{whole}.{fraction}")
        } else {
            write!(f, "0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

impl FromStr for FxRate {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<FxRate> {
        FxRate::parse(s)
    }
}

/// Converts `minor` units of `from` into minor units of `to` at `rate` (one major `from` =
/// `rate` major `to`), rounding half to even exactly once.
///
/// The different exponents are handled in the same integer expression:
/// `minor · mantissa · 10^(exp_to) / (10^scale · 10^(exp_from))`, all in `i128`, then one
/// rounding. Examples: 10.00 USD (1000 cents) at 151.5 → 1515 JPY; 1500 JPY at 0.0066 → 990
/// cents; 10.00 EUR at 1.0834 → 1083 cents (10.834 rounded once). Converting a currency into itself should use [`FxRate::ONE`]; no rate is
/// special-cased, so a wrong rate shows up as a wrong number rather than being ignored.
///
/// Fails with [`CoreError::Overflow`] if the result does not fit in `i64`.
pub fn convert(minor: i64, from: Currency, to: Currency, rate: &FxRate) -> Result<i64> {
    let overflow = CoreError::Overflow {
        operation: "currency conversion",
    };
    let shift = i64::from(to.exponent()) - i64::from(from.exponent()) - i64::from(rate.scale);
    // |minor| < 2^63 and mantissa < 10^18 < 2^60, so the product fits in i128 (< 2^123).
    let mut numerator = i128::from(minor) * rate.mantissa;
    let denominator = if shift >= 0 {
        numerator = numerator
            .checked_mul(10_i128.pow(shift as u32))
            .ok_or(overflow.clone())?;
        1
    } else {
        // scale ≤ 30 and exponents ≤ 3, so this power is at most 10^33 < 2^127.
        10_i128.pow((-shift) as u32)
    };
    let rounded = div_round_half_even(numerator, denominator);
    i64::try_from(rounded).map_err(|_| overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> FxRate {
        FxRate::parse(s).unwrap()
    }

    #[test]
    fn rates_parse_to_canonical_exact_decimals() {
        let r = rate("1.0834");
        assert_eq!((r.mantissa(), r.scale()), (10834, 4));
        assert_eq!(rate("1.083400"), r);
        assert_eq!(rate("1.083400").to_string(), "1.0834");
        assert_eq!(rate("150").to_string(), "150");
        assert_eq!(rate("150.00").to_string(), "150");
        assert_eq!(rate("0.0000393").to_string(), "0.0000393");
        assert_eq!(rate("3.93e-05"), rate("0.0000393"));
        assert_eq!(rate("1.5E2"), rate("150"));
        assert_eq!(rate(".5"), rate("0.5"));
        assert_eq!(rate("1"), FxRate::ONE);
        for bad in [
            "",
            "0",
            "0.000",
            "-1.2",
            "abc",
            "1,08",
            "1.2.3",
            "e5",
            ".",
            "1e",
            "1234567890123456789",
        ] {
            assert!(
                matches!(FxRate::parse(bad), Err(CoreError::InvalidRate { .. })),
                "{bad:?}"
            );
        }
        assert_eq!(
            FxRate::parse("-1.2").unwrap_err().to_string(),
            "invalid exchange rate \"-1.2\": a rate must be positive"
        );
    }

    #[test]
    fn convert_handles_exponents_and_rounds_once() {
        let usd = Currency::USD;
        let eur = Currency::EUR;
        let jpy = Currency::JPY;
        let kwd = Currency::KWD;
        // 10.00 EUR at 1.0834 → 10.834 USD → 10.83 (rounded once).
        assert_eq!(convert(1000, eur, usd, &rate("1.0834")).unwrap(), 1083);
        // 10.00 USD at 151.5 → 1515 JPY (exponent 2 → 0).
        assert_eq!(convert(1000, usd, jpy, &rate("151.5")).unwrap(), 1515);
        // 1500 JPY at 0.0066 → 9.90 USD (exponent 0 → 2).
        assert_eq!(convert(1500, jpy, usd, &rate("0.0066")).unwrap(), 990);
        // 1.000 KWD at 3.25 → 3.25 USD (exponent 3 → 2).
        assert_eq!(convert(1000, kwd, usd, &rate("3.25")).unwrap(), 325);
        // 1.00 USD at 0.3075 → 0.3075 KWD → 0.308 (exponent 2 → 3, tie 307.5 → 308 even).
        assert_eq!(convert(100, usd, kwd, &rate("0.3075")).unwrap(), 308);
        // Ties go to even: 0.05 EUR at 1.5 = 0.075 → 0.08; 0.15 at 1.5 = 0.225 → 0.22.
        assert_eq!(convert(5, eur, usd, &rate("1.5")).unwrap(), 8);
        assert_eq!(convert(15, eur, usd, &rate("1.5")).unwrap(), 22);
        assert_eq!(convert(-15, eur, usd, &rate("1.5")).unwrap(), -22);
        // 0.5 yen-equivalent ties: 1 USD cent at 50 → 0.5 JPY → 0; 3 cents → 1.5 → 2.
        assert_eq!(convert(1, usd, jpy, &rate("50")).unwrap(), 0);
        assert_eq!(convert(3, usd, jpy, &rate("50")).unwrap(), 2);
        assert_eq!(convert(1234, usd, usd, &FxRate::ONE).unwrap(), 1234);
        assert!(matches!(
            convert(i64::MAX, usd, jpy, &rate("1000")),
            Err(CoreError::Overflow { .. })
        ));
        assert_eq!(
            convert(1, Currency::parse("VND").unwrap(), usd, &rate("0.0000393")).unwrap(),
            0
        );
        assert_eq!(
            convert(
                1_000_000,
                Currency::parse("VND").unwrap(),
                usd,
                &rate("0.0000393")
            )
            .unwrap(),
            3930
        );
    }
}
