//! Read queries behind a creator statement: the counted refunds and chargebacks of the orders a
//! creator earned credit on in a run, with their instants, so a statement can book each one in
//! the period it happened in (a refund of an earlier period's order is a clawback).

use rusqlite::params;

use crate::runs::credit_touch_join;
use crate::{COUNTED_ADJUSTMENT, OrderAdjustment, Store, StoreResult};

impl Store {
    /// The counted adjustments (see [`COUNTED_ADJUSTMENT`]) booked before `until_at_ms` against
    /// orders that run `run_id` credits to any touch of creator `creator_id`, by order, then
    /// time, then id. Each adjustment is checked against its order's credits (the credits'
    /// key starts with run and order), so the cost grows with the adjustments, not the run.
    pub fn creator_counted_adjustments(
        &self,
        run_id: i64,
        creator_id: &str,
        until_at_ms: i64,
    ) -> StoreResult<Vec<OrderAdjustment>> {
        let sql = format!(
            "SELECT adjustment_id, order_id, source, kind, occurred_at_ms, amount_minor, currency, status, raw_event_id
             FROM order_adjustments a
             WHERE {COUNTED_ADJUSTMENT} AND occurred_at_ms < ?3 AND EXISTS (
                 SELECT 1 FROM credits c JOIN touches t ON {credit_touch}
                 WHERE c.run_id = ?1 AND c.order_id = a.order_id AND t.creator_id = ?2)
             ORDER BY order_id, occurred_at_ms, adjustment_id",
            credit_touch = credit_touch_join(&self.conn)?,
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(params![run_id, creator_id, until_at_ms], |row| {
            Ok(OrderAdjustment {
                adjustment_id: row.get(0)?,
                order_id: row.get(1)?,
                source: row.get(2)?,
                kind: row.get(3)?,
                occurred_at_ms: row.get(4)?,
                amount_minor: row.get(5)?,
                currency: row.get(6)?,
                status: row.get(7)?,
                raw_event_id: row.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
