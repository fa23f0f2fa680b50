//! One sale, one order (migration 0011). Platforms report the same sale under different ids —
//! a Stripe charge `ch_…` whose invoice `in_…` is the `invoiceId` of Dub's sale event — so
//! connectors name an order's other ids as aliases, and:
//! - an order inserted under an id that is an alias lands on the order it names: its missing
//!   click id and identity keys are filled in (the attribution platform knows the click, the
//!   payment platform the money), nothing else changes;
//! - an alias that names another stored order folds the two into the one stored first: the
//!   later one's refunds move over, its missing keys fill the first one's, and its row goes;
//! - refunds and status updates under an alias land on the order it names.
//!
//! Amounts are not reconciled: the first stored order's amount, currency and status stay (the
//! platforms report the same charge; where they differ, the reconciliation shows it).

use rusqlite::{OptionalExtension, params};

use crate::write::WriteTx;
use crate::{Order, StoreResult};

/// Another id under which a platform reports a stored sale, as a connector names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAlias {
    /// The order's id as this source stores it.
    pub order_id: String,
    /// The other id: an invoice, a payment intent, the shop's order id.
    pub alias: String,
    pub source: String,
    pub created_at_ms: i64,
}

/// Points every alias of one order id at another (`order_aliases_by_order`).
pub(crate) const REPOINT_ALIASES_SQL: &str =
    "UPDATE order_aliases SET order_id = ?1 WHERE order_id = ?2";

/// Moves an order's refunds and chargebacks to another order id (`order_adjustments_by_order`).
pub(crate) const MOVE_ADJUSTMENTS_SQL: &str =
    "UPDATE order_adjustments SET order_id = ?1 WHERE order_id = ?2";

impl WriteTx<'_> {
    /// The stored order an id stands for: the order the id is an alias of, else the id itself.
    pub fn canonical_order_id(&self, id: &str) -> StoreResult<String> {
        Ok(self
            .tx
            .prepare_cached("SELECT order_id FROM order_aliases WHERE alias = ?1")?
            .query_row(params![id], |row| row.get(0))
            .optional()?
            .unwrap_or_else(|| id.to_owned()))
    }

    /// Fills the click id and identity keys `canonical` lacks from `order` (another report of
    /// the same sale). Returns whether anything changed.
    pub(crate) fn fill_order_keys(&mut self, canonical: &str, order: &Order) -> StoreResult<bool> {
        let id = &order.identity;
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE orders SET click_id = COALESCE(click_id, ?2), person_id = COALESCE(person_id, ?3),
                        anonymous_id = COALESCE(anonymous_id, ?4), email_sha256 = COALESCE(email_sha256, ?5),
                        customer_id = COALESCE(customer_id, ?6), device_id = COALESCE(device_id, ?7)
                 WHERE order_id = ?1
                   AND ((click_id IS NULL AND ?2 IS NOT NULL) OR (person_id IS NULL AND ?3 IS NOT NULL)
                        OR (anonymous_id IS NULL AND ?4 IS NOT NULL) OR (email_sha256 IS NULL AND ?5 IS NOT NULL)
                        OR (customer_id IS NULL AND ?6 IS NOT NULL) OR (device_id IS NULL AND ?7 IS NOT NULL))",
            )?
            .execute(params![
                canonical,
                order.click_id,
                id.person_id,
                id.anonymous_id,
                id.email_sha256,
                id.customer_id,
                id.device_id,
            ])?;
        self.mark_inputs_changed(changed > 0);
        Ok(changed > 0)
    }

    /// Records that `alias` is another id of the sale stored as `order_id` (reported by
    /// `source`). If `alias` is itself a stored order, the two are folded into the one stored
    /// first (see the module docs). Returns whether two orders were folded.
    pub fn add_order_alias(
        &mut self,
        order_id: &str,
        alias: &str,
        source: &str,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let a = self.canonical_order_id(order_id)?;
        let b = self.canonical_order_id(alias)?;
        let stored = |tx: &Self, id: &str| -> StoreResult<Option<i64>> {
            Ok(tx
                .tx
                .prepare_cached("SELECT rowid FROM orders WHERE order_id = ?1")?
                .query_row(params![id], |row| row.get(0))
                .optional()?)
        };
        // The order both ids will name: the one stored first when both are orders, else the
        // one that is stored (or `order_id`'s when neither is yet).
        let (keep, other, folded) = if a == b {
            (a, b, false)
        } else {
            match (stored(self, &a)?, stored(self, &b)?) {
                (Some(row_a), Some(row_b)) if row_b < row_a => (b, a, true),
                (Some(_), Some(_)) => (a, b, true),
                (None, Some(_)) => (b, a, false),
                _ => (a, b, false),
            }
        };
        if folded {
            self.fold_order(&keep, &other)?;
        }
        if other != keep {
            // Whatever named `other` now names `keep`.
            self.tx
                .prepare_cached(REPOINT_ALIASES_SQL)?
                .execute(params![keep, other])?;
        }
        for id in [other.as_str(), alias, order_id] {
            self.put_alias(id, &keep, source, now_ms)?;
        }
        Ok(folded)
    }

    fn put_alias(
        &mut self,
        alias: &str,
        order_id: &str,
        source: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        if alias.is_empty() || alias == order_id {
            return Ok(());
        }
        self.tx
            .prepare_cached(
                "INSERT INTO order_aliases (alias, order_id, source, created_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (alias) DO UPDATE SET order_id = excluded.order_id WHERE order_id <> excluded.order_id",
            )?
            .execute(params![alias, order_id, source, now_ms])?;
        Ok(())
    }

    /// Moves the keys and refunds of order `fold` onto order `keep` and deletes `fold`'s row
    /// (the caller re-points `fold`'s aliases).
    fn fold_order(&mut self, keep: &str, fold: &str) -> StoreResult<()> {
        let folded: Order = self
            .tx
            .prepare_cached(&format!(
                "SELECT {} FROM orders WHERE order_id = ?1",
                crate::read::ORDER_COLUMNS
            ))?
            .query_row(params![fold], crate::read::order_from_row)?;
        self.fill_order_keys(keep, &folded)?;
        for sql in [
            MOVE_ADJUSTMENTS_SQL,
            "DELETE FROM orders WHERE order_id = ?2",
        ] {
            self.tx.prepare_cached(sql)?.execute(params![keep, fold])?;
        }
        self.mark_inputs_changed(true);
        Ok(())
    }
}
