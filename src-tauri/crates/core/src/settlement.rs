//! Settlement: whether an order's revenue is still provisional, and its net revenue after
//! refunds and chargebacks.
//!
//! Both are pure functions of their inputs; the caller passes `now_ms` so that a view computed
//! twice at the same `now` gives the same answer.

use crate::error::Result;
use crate::money::Money;
use crate::time::DAY_MS;

/// Default settlement window: 14 days.
pub const DEFAULT_SETTLEMENT_DAYS: u32 = 14;

/// Whether an order is still provisional at `now_ms`.
///
/// An order is settled once it is at least `settlement_days` old (`now − order_at ≥ window`; at
/// exactly the boundary it counts as settled) and it has no open dispute. An open dispute keeps
/// it provisional however old it is. An order dated in the future relative to `now` (clock skew
/// between sources) is provisional.
pub fn is_provisional(
    order_at_ms: i64,
    now_ms: i64,
    settlement_days: u32,
    has_open_dispute: bool,
) -> bool {
    if has_open_dispute {
        return true;
    }
    let window = i64::from(settlement_days) * DAY_MS;
    // i128 so that extreme instants cannot overflow the subtraction.
    i128::from(now_ms) - i128::from(order_at_ms) < i128::from(window)
}

/// Net revenue of an order: `gross − refunds − chargebacks`, clamped at zero, in the order's
/// currency.
///
/// `refunds` is the total of succeeded refunds; `chargebacks` the total of chargebacks that
/// took the money (open or lost — a won dispute returns it and is not passed). All three must
/// be in the same currency (convert adjustments first); otherwise
/// [`crate::CoreError::CurrencyMismatch`].
///
/// The result never goes below zero: refunding more than was charged (a goodwill refund on top,
/// a refund and a chargeback for the same money) means the order earned nothing, and crediting
/// touches with negative revenue would make them look like they destroyed value they never had.
/// The excess remains visible in reconciliation, which sums the adjustments themselves.
pub fn net_revenue(gross: Money, refunds: Money, chargebacks: Money) -> Result<Money> {
    let net = gross.checked_sub(refunds)?.checked_sub(chargebacks)?;
    Ok(Money {
        minor: net.minor.max(0),
        currency: net.currency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CoreError;
    use crate::money::Currency;

    #[test]
    fn provisional_until_the_window_passes_and_while_disputed() {
        let order_at = 1_700_000_000_000;
        let window = 14 * DAY_MS;
        assert!(is_provisional(order_at, order_at, 14, false));
        assert!(is_provisional(order_at, order_at + window - 1, 14, false));
        assert!(!is_provisional(order_at, order_at + window, 14, false));
        assert!(is_provisional(order_at, order_at + 100 * window, 14, true));
        assert!(is_provisional(order_at, order_at - 1, 14, false));
        assert!(!is_provisional(order_at, order_at, 0, false));
        assert!(!is_provisional(i64::MIN, i64::MAX, 14, false));
        assert!(is_provisional(i64::MAX, i64::MIN, 14, false));
    }

    #[test]
    fn net_revenue_subtracts_and_clamps() {
        let usd = |minor| Money::new(minor, Currency::USD);
        assert_eq!(
            net_revenue(usd(10_000), usd(2_500), usd(0)).unwrap(),
            usd(7_500)
        );
        assert_eq!(
            net_revenue(usd(10_000), usd(2_500), usd(7_500)).unwrap(),
            usd(0)
        );
        assert_eq!(
            net_revenue(usd(10_000), usd(8_000), usd(7_500)).unwrap(),
            usd(0)
        );
        assert_eq!(
            net_revenue(usd(10_000), usd(0), usd(1)).unwrap(),
            usd(9_999)
        );
        assert!(matches!(
            net_revenue(usd(10_000), Money::new(100, Currency::EUR), usd(0)),
            Err(CoreError::CurrencyMismatch { .. })
        ));
    }
}
