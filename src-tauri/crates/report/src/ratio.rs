//! Exact ratios of two integer amounts (ROAS, payback, spreads): kept as a reduced fraction so a
//! view never carries a rounded number, and rendered once, half to even, at the places asked for.

use std::fmt;

/// `numerator / denominator`, reduced, with `denominator > 0`. A ratio over zero does not exist:
/// [`Ratio::new`] returns `None`, which views show as "—" (never ∞ or 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    numerator: i128,
    denominator: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    /// The ratio `numerator / denominator`, or `None` when `denominator` is 0.
    pub fn new(numerator: i128, denominator: i128) -> Option<Ratio> {
        if denominator == 0 {
            return None;
        }
        let sign = if denominator < 0 { -1 } else { 1 };
        let divisor = gcd(numerator, denominator).max(1);
        Some(Ratio {
            numerator: sign * numerator / divisor,
            denominator: sign * denominator / divisor,
        })
    }

    /// The reduced numerator (carries the sign).
    pub fn numerator(&self) -> i128 {
        self.numerator
    }

    /// The reduced denominator, always positive.
    pub fn denominator(&self) -> i128 {
        self.denominator
    }

    /// The decimal with exactly `places` decimals, rounded once, half to even:
    /// 7/2 → "3.50", 1/3 → "0.33", 2/3 → "0.67", 1/8 at 2 places → "0.12".
    pub fn to_decimal_string(&self, places: u32) -> String {
        let scale = 10_i128.pow(places);
        let negative = self.numerator < 0;
        let magnitude = self.numerator.unsigned_abs();
        let denominator = self.denominator.unsigned_abs();
        // u128 leaves room for any ratio of i64 amounts times 10^places for the places a view uses.
        let scaled = magnitude.saturating_mul(scale as u128);
        let mut units = scaled / denominator;
        let remainder = scaled % denominator;
        if remainder * 2 > denominator || (remainder * 2 == denominator && units % 2 == 1) {
            units += 1;
        }
        let scale = scale as u128;
        let sign = if negative && units > 0 { "-" } else { "" };
        if places == 0 {
            return format!("{sign}{units}");
        }
        format!(
            "{sign}{}.{:0width$}",
            units / scale,
            units % scale,
            width = places as usize
        )
    }

    /// The nearest `f64`, for plotting only: every number a person reads comes from
    /// [`Ratio::to_decimal_string`].
    pub fn to_f64(&self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

impl fmt::Display for Ratio {
    /// Two decimals, the way ROAS is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string(2))
    }
}

/// The text shown for an optional ratio: its decimal, or "—" when there is none.
pub fn format_ratio(ratio: Option<&Ratio>, places: u32) -> String {
    ratio
        .map(|r| r.to_decimal_string(places))
        .unwrap_or_else(|| NO_RATIO.to_owned())
}

/// The places a ratio (ROAS, payback) is shown to in the window and in a chart's hover.
pub const RATIO_PLACES: u32 = 2;

/// What a ratio without a denominator (a ROAS without cost) is shown as.
pub const NO_RATIO: &str = "—";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_once_half_to_even() {
        assert_eq!(Ratio::new(7, 2).unwrap().to_decimal_string(2), "3.50");
        assert_eq!(Ratio::new(1, 3).unwrap().to_decimal_string(2), "0.33");
        assert_eq!(Ratio::new(2, 3).unwrap().to_decimal_string(2), "0.67");
        assert_eq!(Ratio::new(1, 8).unwrap().to_decimal_string(2), "0.12"); // 0.125 → even
        assert_eq!(Ratio::new(3, 8).unwrap().to_decimal_string(2), "0.38"); // 0.375 → even
        assert_eq!(Ratio::new(-1, 3).unwrap().to_decimal_string(2), "-0.33");
        assert_eq!(Ratio::new(1, -400).unwrap().to_decimal_string(2), "0.00");
        assert_eq!(Ratio::new(5, 2).unwrap().to_decimal_string(0), "2");
        assert_eq!(Ratio::new(0, 5).unwrap().to_decimal_string(2), "0.00");
    }

    #[test]
    fn no_denominator_is_no_ratio_and_shows_a_dash() {
        assert_eq!(Ratio::new(10, 0), None);
        assert_eq!(format_ratio(None, 2), "—");
        assert_eq!(Ratio::new(6, 4), Ratio::new(3, 2));
    }
}
