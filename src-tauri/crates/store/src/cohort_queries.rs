//! Read queries behind the new-customer cohorts view: every order (in a run) of the customers
//! whose first order a filter selects, and the counted refunds and chargebacks of the store with
//! the instant each happened, so the view can date a refund when it happened rather than when
//! its order was placed.
//!
//! "Customer" and "first order" are [`CUSTOMER_KEY_SQL`]'s, as the CAC view has them: first over
//! every order in the store, so a customer who first bought before the filter's range is not
//! new in it.

use rusqlite::params;

use crate::read::COUNTED_ADJUSTMENT;
use crate::{AdjustmentKind, CUSTOMER_KEY_SQL, RunOrderFilter, Store, StoreResult};

/// One order of a new customer, as a run has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomerOrder {
    /// The customer's first order (ties by id), which names the customer.
    pub first_order_id: String,
    pub first_order_at_ms: i64,
    pub order_id: String,
    pub occurred_at_ms: i64,
    /// The order's net revenue in the reporting currency, as the run converted it (every
    /// counted adjustment the run saw subtracted).
    pub net_minor: i64,
    /// The order's gross and currency, for recomputing its net with fewer adjustments.
    pub gross_minor: i64,
    pub currency: String,
}

/// One counted refund or chargeback (see [`COUNTED_ADJUSTMENT`]) with when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatedAdjustment {
    pub order_id: String,
    pub kind: AdjustmentKind,
    pub occurred_at_ms: i64,
    pub amount_minor: i64,
    pub currency: String,
}

impl Store {
    /// Calls `each` for every order of run `run_id` (orders it could convert; settled only with
    /// `filter.settled_only`) whose customer's first order `filter` selects and the run
    /// attributed — the first order itself included. In no particular order.
    pub fn for_each_new_customer_order(
        &self,
        run_id: i64,
        filter: &RunOrderFilter,
        mut each: impl FnMut(NewCustomerOrder),
    ) -> StoreResult<()> {
        let sql = format!(
            "WITH keyed AS (
                 SELECT k.order_id, k.occurred_at_ms,
                        FIRST_VALUE(k.order_id) OVER w AS first_order_id,
                        FIRST_VALUE(k.occurred_at_ms) OVER w AS first_at
                 FROM (SELECT order_id, occurred_at_ms, {CUSTOMER_KEY_SQL} AS ck FROM orders) k
                 WINDOW w AS (PARTITION BY k.ck ORDER BY k.occurred_at_ms, k.order_id)
             )
             SELECT k.first_order_id, k.first_at, k.order_id, k.occurred_at_ms, ro.net_minor,
                    o.gross_minor, o.currency
             FROM keyed k
             JOIN run_orders rf ON rf.run_id = ?1 AND rf.order_id = k.first_order_id
             JOIN run_orders ro ON ro.run_id = ?1 AND ro.order_id = k.order_id
             JOIN orders o ON o.order_id = k.order_id
             WHERE rf.outcome = 'attributed' AND ro.outcome <> 'missing_fx'
               AND (?2 IS NULL OR k.first_at >= ?2) AND (?3 IS NULL OR k.first_at < ?3)
               AND (?4 = 0 OR (rf.provisional = 0 AND ro.provisional = 0))"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params![
            run_id,
            filter.from_at_ms,
            filter.until_at_ms,
            filter.settled_only,
        ])?;
        while let Some(row) = rows.next()? {
            each(NewCustomerOrder {
                first_order_id: row.get(0)?,
                first_order_at_ms: row.get(1)?,
                order_id: row.get(2)?,
                occurred_at_ms: row.get(3)?,
                net_minor: row.get(4)?,
                gross_minor: row.get(5)?,
                currency: row.get(6)?,
            });
        }
        Ok(())
    }

    /// Every counted refund and chargeback with its instant, by order then instant then id.
    pub fn dated_counted_adjustments(&self) -> StoreResult<Vec<DatedAdjustment>> {
        self.collect(
            &format!(
                "SELECT order_id, kind, occurred_at_ms, amount_minor, currency
                 FROM order_adjustments WHERE {COUNTED_ADJUSTMENT}
                 ORDER BY order_id, occurred_at_ms, adjustment_id"
            ),
            [],
            |row| {
                Ok(DatedAdjustment {
                    order_id: row.get(0)?,
                    kind: row.get(1)?,
                    occurred_at_ms: row.get(2)?,
                    amount_minor: row.get(3)?,
                    currency: row.get(4)?,
                })
            },
        )
    }
}
