//! How busy the shop is on a given day: a retail year with a slow January and February, a
//! steady spring and summer and a fourth-quarter peak (November's sales weekend and December's
//! gifts), on top of a slow growth over the demo's months. Orders, browsing and ad spend follow
//! it, so a cohort of November buyers is bigger than one of February's.

use crate::calendar::civil_from_days;

/// Relative demand per calendar month, January first.
const MONTH_FACTOR: [f64; 12] = [
    0.80, 0.78, 0.88, 0.93, 0.98, 0.95, 0.90, 0.92, 1.00, 1.08, 1.65, 1.45,
];

/// An upper bound of [`demand`] (at most 1.65 × 1.2), for rejection sampling.
pub(crate) const MAX_DEMAND: f64 = 2.0;

/// Relative demand on UTC day `day`, `progress` (0 at the demo's first day, 1 at its last)
/// giving the growth from 0.8 to 1.2.
pub(crate) fn demand(day: i64, progress: f64) -> f64 {
    let (_, month, _) = civil_from_days(day);
    MONTH_FACTOR[month as usize - 1] * (0.8 + 0.4 * progress.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::days_from_civil;

    #[test]
    fn november_is_the_busiest_month_and_february_the_quietest() {
        let nov = demand(days_from_civil(2025, 11, 20), 0.5);
        let feb = demand(days_from_civil(2025, 2, 10), 0.5);
        let may = demand(days_from_civil(2025, 5, 10), 0.5);
        assert!(nov > 1.9 * feb && nov > 1.6 * may, "{nov} {feb} {may}");
        assert!(demand(days_from_civil(2025, 11, 1), 1.0) <= MAX_DEMAND);
    }
}
