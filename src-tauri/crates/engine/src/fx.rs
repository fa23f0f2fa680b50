//! The exchange rates of a run: which stored rate converts an amount on a given day, and the
//! exact arithmetic of converting with a rate read the other way round.
//!
//! Rule (documented in the README's attribution section): an amount in currency `F` is converted
//! into the reporting currency `R` on day `D` (the order's day in the reporting zone) with
//! 1. the stored rate `F → R` of day `D`, else
//! 2. the stored rate `R → F` of day `D`, divided through exactly (one rounding, half to even).
//!
//! There is no triangulation through a third currency and no borrowing of a neighbouring day's
//! rate: both would produce a number no source published. When neither rate exists the amount
//! is not converted at all and the caller marks the order `missing_fx`.

use std::collections::HashMap;

use lookback_core::CoreError;
use lookback_core::fx::{FxRate, convert};
use lookback_core::money::Currency;

use crate::EngineError;

/// The stored rates by day `YYYY-MM-DD`, each day's as (from currency, to currency, rate): a
/// lookup borrows the day and the codes instead of building a key of three strings.
#[derive(Debug, Default, Clone)]
pub struct FxTable {
    rates: HashMap<String, Vec<(String, String, FxRate)>>,
    count: usize,
}

impl FxTable {
    /// Builds the table from the store's rows. A rate that does not parse as an exact positive
    /// decimal is an error naming it, not a skipped row: a run must not quietly lose a day.
    pub fn from_rows(rows: &[lookback_store::FxRate]) -> Result<FxTable, EngineError> {
        let mut table = FxTable::default();
        for row in rows {
            let rate = FxRate::parse(&row.rate)?;
            let day = table.rates.entry(row.day.clone()).or_default();
            match day
                .iter_mut()
                .find(|(from, to, _)| *from == row.from_currency && *to == row.to_currency)
            {
                // A repeated (day, from, to) keeps the last row, as a map insert would.
                Some(known) => known.2 = rate,
                None => {
                    day.push((row.from_currency.clone(), row.to_currency.clone(), rate));
                    table.count += 1;
                }
            }
        }
        Ok(table)
    }

    /// The number of stored rates.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no rate is stored.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Converts `minor` units of `from` into `to` on `day`; `Ok(None)` when no rate applies.
    /// The same currency converts to itself without a rate.
    pub fn convert(
        &self,
        minor: i64,
        from: Currency,
        to: Currency,
        day: &str,
    ) -> Result<Option<i64>, EngineError> {
        if from == to {
            return Ok(Some(minor));
        }
        let Some(rates) = self.rates.get(day) else {
            return Ok(None);
        };
        let rate = |a: Currency, b: Currency| {
            rates
                .iter()
                .find(|(from, to, _)| from == a.code() && to == b.code())
                .map(|(_, _, rate)| rate)
        };
        if let Some(rate) = rate(from, to) {
            return Ok(Some(convert(minor, from, to, rate)?));
        }
        if let Some(rate) = rate(to, from) {
            return Ok(Some(convert_inverse(minor, from, to, rate)?));
        }
        Ok(None)
    }
}

/// Converts `minor` of `from` into `to` with a rate quoted as one `to` = `rate` `from`:
/// `minor · 10^exp_to · 10^scale / (mantissa · 10^exp_from)`, in `i128`, rounded once half to
/// even — the same rounding rule as core's `convert`.
pub fn convert_inverse(
    minor: i64,
    from: Currency,
    to: Currency,
    rate: &FxRate,
) -> Result<i64, CoreError> {
    let overflow = || CoreError::Overflow {
        operation: "inverse currency conversion",
    };
    let pow10 = |n: u32| 10_i128.checked_pow(n).ok_or_else(overflow);
    let numerator = i128::from(minor)
        .checked_mul(pow10(u32::from(to.exponent()))?)
        .and_then(|n| n.checked_mul(pow10(rate.scale()).ok()?))
        .ok_or_else(overflow)?;
    let denominator = rate
        .mantissa()
        .checked_mul(pow10(u32::from(from.exponent()))?)
        .ok_or_else(overflow)?;
    let rounded = div_round_half_even(numerator, denominator);
    i64::try_from(rounded).map_err(|_| overflow())
}

/// `numerator / denominator` (denominator > 0) rounded to the nearest integer, ties to even.
fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    let twice = remainder * 2;
    if twice > denominator || (twice == denominator && quotient % 2 != 0) {
        quotient + 1
    } else {
        quotient
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: &str, from: &str, to: &str, rate: &str) -> lookback_store::FxRate {
        lookback_store::FxRate {
            day: day.into(),
            from_currency: from.into(),
            to_currency: to.into(),
            rate: rate.into(),
            source: "test".into(),
        }
    }

    #[test]
    fn direct_inverse_same_and_missing() {
        let table = FxTable::from_rows(&[
            row("2026-01-02", "EUR", "USD", "1.25"),
            row("2026-01-02", "USD", "JPY", "150"),
        ])
        .unwrap();
        let (eur, usd, jpy, gbp) = (Currency::EUR, Currency::USD, Currency::JPY, Currency::GBP);
        assert_eq!(
            table.convert(1000, eur, usd, "2026-01-02").unwrap(),
            Some(1250)
        );
        // 1000 USD cents read through USD→EUR inverted: 10.00 / 1.25 = 8.00 EUR.
        assert_eq!(
            table.convert(1000, usd, eur, "2026-01-02").unwrap(),
            Some(800)
        );
        // 1500 JPY → USD through USD→JPY 150 inverted: 10.00 USD.
        assert_eq!(
            table.convert(1500, jpy, usd, "2026-01-02").unwrap(),
            Some(1000)
        );
        assert_eq!(table.convert(1000, eur, usd, "2026-01-03").unwrap(), None);
        assert_eq!(table.convert(1000, gbp, usd, "2026-01-02").unwrap(), None);
        assert_eq!(
            table.convert(777, usd, usd, "1999-01-01").unwrap(),
            Some(777)
        );
    }

    #[test]
    fn inverse_rounds_half_to_even_once() {
        let rate = FxRate::parse("3").unwrap();
        // 1 cent / 3 = 0.333 → 0; 2 cents / 3 = 0.667 → 1; 15 cents / 2 = 7.5 → 8 (even).
        assert_eq!(
            convert_inverse(1, Currency::USD, Currency::EUR, &rate).unwrap(),
            0
        );
        assert_eq!(
            convert_inverse(2, Currency::USD, Currency::EUR, &rate).unwrap(),
            1
        );
        let two = FxRate::parse("2").unwrap();
        assert_eq!(
            convert_inverse(15, Currency::USD, Currency::EUR, &two).unwrap(),
            8
        );
        assert_eq!(
            convert_inverse(13, Currency::USD, Currency::EUR, &two).unwrap(),
            6
        );
    }
}
