//! Reads behind reconciliation, the credit conservation check and run-to-run diffs (issue #7).
//! Every query is read-only; the arithmetic and the classification of gaps live in
//! lookback-trust. (Duplicate counts come from the maintained totals: `totals`.)

use rusqlite::{OptionalExtension, params};

use crate::read::COUNTED_ADJUSTMENT;
use crate::runs::{RUN_COLUMNS, credit_touch_join, run_from_row};
use crate::{Run, RunOrderOutcome, Store, StoreResult};

/// One order in a reconciliation window, with everything needed to explain where its revenue
/// went in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileOrder {
    pub order_id: String,
    pub source: String,
    pub occurred_at_ms: i64,
    pub currency: String,
    pub gross_minor: i64,
    pub status: String,
    /// Counted refunds and chargebacks (see [`COUNTED_ADJUSTMENT`]), in the order's currency.
    pub counted_adjustments_minor: i64,
    /// Adjustments of any status booked against the order.
    pub adjustments: u64,
    /// Whether the order carries any identity key or click id at all.
    pub has_keys: bool,
    /// Whether one of its keys or its click id is shared with any touch, directly or through
    /// an identity link: i.e. whether identity resolution had anything to work with.
    pub keys_reach_touches: bool,
    /// What the run did with the order; `None` when the run never saw it.
    pub run_outcome: Option<RunOrderOutcome>,
    /// The order's net revenue as the run saw it, in the run's reporting currency.
    pub run_net_minor: Option<i64>,
    /// Σ credits of the order in the run (reporting currency).
    pub credited_minor: i64,
    /// The part of `credited_minor` credited to touches naming a creator or campaign that the
    /// store does not know.
    pub unknown_dimension_minor: i64,
}

/// A refund or chargeback whose order is not in the store: a refund synced before (or
/// without) its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrphanAdjustment {
    pub adjustment_id: String,
    pub order_id: String,
    pub source: String,
    pub occurred_at_ms: i64,
    pub amount_minor: i64,
    pub currency: String,
}

/// An order whose credits in a run do not sum to its net revenue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConservationRow {
    pub order_id: String,
    /// `None` when credits exist for an order the run did not record.
    pub outcome: Option<RunOrderOutcome>,
    pub net_minor: i64,
    pub credited_minor: i64,
    pub credit_rows: u64,
}

impl Store {
    /// The newest complete run of `model`, whatever its parameters and watermark: the run the
    /// views showed last. (Runs store the engine's canonical parameters, which differ in form
    /// from the workspace setting, so parameters are not compared here.)
    pub fn latest_complete_run(&self, model: &str) -> StoreResult<Option<Run>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM attribution_runs
                 WHERE model = ?1 AND status = 'complete'
                 ORDER BY run_id DESC LIMIT 1"
            ))?
            .query_row(params![model], run_from_row)
            .optional()?)
    }

    /// Every complete run of the workspace, newest first (the runs `what-moved` and
    /// `conservation --run` take).
    pub fn complete_runs(&self) -> StoreResult<Vec<Run>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM attribution_runs WHERE status = 'complete' ORDER BY run_id DESC"
        ))?;
        let rows = stmt.query_map([], run_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Every order placed in `[from_ms, to_ms)`, with its fate in `run_id` (if any).
    pub fn reconcile_orders(
        &self,
        from_ms: i64,
        to_ms: i64,
        run_id: Option<i64>,
    ) -> StoreResult<Vec<ReconcileOrder>> {
        let run_id = run_id.unwrap_or(-1);
        let key_match = |t: &str| {
            format!(
                "((o.click_id IS NOT NULL AND {t}.click_id = o.click_id)
                  OR (o.person_id IS NOT NULL AND {t}.person_id = o.person_id)
                  OR (o.anonymous_id IS NOT NULL AND {t}.anonymous_id = o.anonymous_id)
                  OR (o.email_sha256 IS NOT NULL AND {t}.email_sha256 = o.email_sha256)
                  OR (o.customer_id IS NOT NULL AND {t}.customer_id = o.customer_id)
                  OR (o.device_id IS NOT NULL AND {t}.device_id = o.device_id))"
            )
        };
        let link_match = "EXISTS (SELECT 1 FROM identity_links l WHERE
                  (l.key_type_a = 'person_id' AND l.key_a = o.person_id) OR (l.key_type_b = 'person_id' AND l.key_b = o.person_id)
               OR (l.key_type_a = 'anonymous_id' AND l.key_a = o.anonymous_id) OR (l.key_type_b = 'anonymous_id' AND l.key_b = o.anonymous_id)
               OR (l.key_type_a = 'email_sha256' AND l.key_a = o.email_sha256) OR (l.key_type_b = 'email_sha256' AND l.key_b = o.email_sha256)
               OR (l.key_type_a = 'customer_id' AND l.key_a = o.customer_id) OR (l.key_type_b = 'customer_id' AND l.key_b = o.customer_id)
               OR (l.key_type_a = 'device_id' AND l.key_a = o.device_id) OR (l.key_type_b = 'device_id' AND l.key_b = o.device_id))";
        let sql = format!(
            "SELECT o.order_id, o.source, o.occurred_at_ms, o.currency, o.gross_minor, o.status,
                    (SELECT COALESCE(SUM(amount_minor), 0) FROM order_adjustments a
                      WHERE a.order_id = o.order_id AND a.currency = o.currency AND {COUNTED_ADJUSTMENT}),
                    (SELECT COUNT(*) FROM order_adjustments a WHERE a.order_id = o.order_id),
                    (o.click_id IS NOT NULL OR o.person_id IS NOT NULL OR o.anonymous_id IS NOT NULL
                     OR o.email_sha256 IS NOT NULL OR o.customer_id IS NOT NULL OR o.device_id IS NOT NULL),
                    (EXISTS (SELECT 1 FROM touches t WHERE {}) OR {link_match}),
                    ro.outcome, ro.net_minor,
                    (SELECT COALESCE(SUM(c.revenue_minor), 0) FROM credits c WHERE c.run_id = ?3 AND c.order_id = o.order_id),
                    (SELECT COALESCE(SUM(c.revenue_minor), 0) FROM credits c JOIN touches t ON {credit_touch}
                      WHERE c.run_id = ?3 AND c.order_id = o.order_id
                        AND ((t.creator_id IS NOT NULL AND t.creator_id NOT IN (SELECT creator_id FROM creators))
                          OR (t.campaign_id IS NOT NULL AND t.campaign_id NOT IN (SELECT campaign_id FROM campaigns))))
             FROM orders o
             LEFT JOIN run_orders ro ON ro.run_id = ?3 AND ro.order_id = o.order_id
             WHERE o.occurred_at_ms >= ?1 AND o.occurred_at_ms < ?2
             ORDER BY o.occurred_at_ms, o.order_id",
            key_match("t"),
            credit_touch = credit_touch_join(&self.conn)?,
        );
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map(params![from_ms, to_ms, run_id], |row| {
            Ok(ReconcileOrder {
                order_id: row.get(0)?,
                source: row.get(1)?,
                occurred_at_ms: row.get(2)?,
                currency: row.get(3)?,
                gross_minor: row.get(4)?,
                status: row.get(5)?,
                counted_adjustments_minor: row.get(6)?,
                adjustments: row.get::<_, i64>(7)? as u64,
                has_keys: row.get(8)?,
                keys_reach_touches: row.get(9)?,
                run_outcome: row.get(10)?,
                run_net_minor: row.get(11)?,
                credited_minor: row.get(12)?,
                unknown_dimension_minor: row.get(13)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Adjustments in `[from_ms, to_ms)` booked against an order the store does not hold.
    pub fn orphan_adjustments(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> StoreResult<Vec<OrphanAdjustment>> {
        let mut statement = self.conn.prepare(
            "SELECT adjustment_id, order_id, source, occurred_at_ms, amount_minor, currency FROM order_adjustments a
             WHERE occurred_at_ms >= ?1 AND occurred_at_ms < ?2
               AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = a.order_id)
             ORDER BY occurred_at_ms, adjustment_id",
        )?;
        let rows = statement.query_map(params![from_ms, to_ms], |row| {
            Ok(OrphanAdjustment {
                adjustment_id: row.get(0)?,
                order_id: row.get(1)?,
                source: row.get(2)?,
                occurred_at_ms: row.get(3)?,
                amount_minor: row.get(4)?,
                currency: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Every order of `run_id` whose credits do not sum exactly to its net revenue: attributed
    /// orders must be credited in full, every other outcome not at all. Empty means the run
    /// conserves credit.
    pub fn credit_conservation_violations(&self, run_id: i64) -> StoreResult<Vec<ConservationRow>> {
        let mut statement = self.conn.prepare(
            "WITH sums AS (SELECT order_id, SUM(revenue_minor) AS credited, COUNT(*) AS n FROM credits
                           WHERE run_id = ?1 GROUP BY order_id)
             SELECT ro.order_id, ro.outcome, ro.net_minor, COALESCE(s.credited, 0), COALESCE(s.n, 0)
               FROM run_orders ro LEFT JOIN sums s ON s.order_id = ro.order_id
              WHERE ro.run_id = ?1
                AND ((ro.outcome = 'attributed' AND COALESCE(s.credited, 0) <> ro.net_minor)
                  OR (ro.outcome <> 'attributed' AND COALESCE(s.n, 0) > 0))
             UNION ALL
             SELECT s.order_id, NULL, 0, s.credited, s.n FROM sums s
              WHERE NOT EXISTS (SELECT 1 FROM run_orders ro WHERE ro.run_id = ?1 AND ro.order_id = s.order_id)
             ORDER BY 1",
        )?;
        let rows = statement.query_map(params![run_id], |row| {
            Ok(ConservationRow {
                order_id: row.get(0)?,
                outcome: row.get(1)?,
                net_minor: row.get(2)?,
                credited_minor: row.get(3)?,
                credit_rows: row.get::<_, i64>(4)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Σ credited revenue of `run_id` per creator of the credited touch (`None`: touches with
    /// no creator, or erased since). In the run's reporting currency.
    pub fn run_revenue_by_creator(&self, run_id: i64) -> StoreResult<Vec<(Option<String>, i64)>> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT t.creator_id, SUM(c.revenue_minor) FROM credits c LEFT JOIN touches t ON {}
             WHERE c.run_id = ?1 GROUP BY t.creator_id ORDER BY t.creator_id",
            credit_touch_join(&self.conn)?
        ))?;
        let rows = statement.query_map(params![run_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}
