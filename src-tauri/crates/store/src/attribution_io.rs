//! What the attribution engine needs from the store beyond the general loaders: lean streaming
//! reads of touches (no allocation per row for the columns it only looks at), of their click
//! ids grouped by the `touches_by_click` index, and of journey touches' report keys by rowid;
//! the journey cache's rows (opaque blobs the engine encodes); and writing a whole run — row,
//! per-order outcomes, credits, learned weights and the report totals of migration 0003 — in one
//! transaction, in two halves so the engine can compute credits while the orders are written.
//!
//! Architecture Invariant: a run becomes visible complete or not at all. [`Store::begin_run`]
//! opens one immediate transaction and inserts the run row (status `running`) and its orders;
//! [`RunWrite::finish`] inserts its credits, weights and totals, marks it `complete` and commits;
//! a [`RunWrite`] dropped before that, or any error, rolls all of it back, so `find_run` never
//! returns half a run.

use lookback_core::touch_filter::TouchFilter;
use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, ToSql, TransactionBehavior, params};

use crate::reports::CAMPAIGN_CREATOR_KEY_SQL;
use crate::runs::{RunRowStart, credit_touch_join, insert_run_row};
use crate::touch_generations::for_each_click_in_order;
use crate::touch_names::{TouchName, names_by_id};
use std::collections::BTreeMap;

use crate::{
    CreditBasis, CreditGrouping, JoinKind, NewRun, RunOrder, RunOrderOutcome, RunStatus, Store,
    StoreError, StoreResult,
};

/// One touch as attribution reads it, borrowing the row's text so that a scan of millions of
/// touches allocates only for what the caller decides to keep. `rowid` stands for the touch in
/// credits until the run is written (the text `touch_id` is looked up then, by rowid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributionTouch<'r> {
    pub rowid: i64,
    pub occurred_at_ms: i64,
    pub channel: &'r str,
    pub person_id: Option<&'r str>,
    pub anonymous_id: Option<&'r str>,
    pub email_sha256: Option<&'r str>,
    pub customer_id: Option<&'r str>,
    pub device_id: Option<&'r str>,
}

/// The digits of lowercase hex, as the `email_sha256` column writes a stored hash.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A channel weight a data-driven run learned (a row of `run_channel_weights`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunChannelWeight {
    pub channel: String,
    /// The Markov removal effect or the Shapley value.
    pub value: f64,
    /// `value` normalized over the run's channels.
    pub weight: f64,
    /// Converting paths the channel appears in.
    pub conversions: u64,
    /// All paths (converting or not) the channel appears in.
    pub paths: u64,
}

/// A run's provisional orders that have settled. Starts from the run's provisional orders (the
/// partial index `run_orders_provisional` holds exactly those), so a run whose orders all
/// settled costs one index probe, not a scan of orders.
pub(crate) const SETTLING_ORDERS_SQL: &str =
    "SELECT ro.order_id FROM run_orders ro JOIN orders o ON o.order_id = ro.order_id
     WHERE ro.run_id = ?1 AND ro.provisional = 1 AND o.occurred_at_ms <= ?2
       AND NOT EXISTS (SELECT 1 FROM order_adjustments a
                       WHERE a.order_id = ro.order_id AND a.kind = 'chargeback' AND a.status = 'open')";

/// Every distinct click id orders carry, in click-id order (orders are few next to touches: a
/// scan and a sort).
pub(crate) const ORDER_CLICK_IDS_SQL: &str = "SELECT DISTINCT click_id FROM orders
     WHERE click_id IS NOT NULL AND click_id <> '' ORDER BY click_id";

/// A run's order buckets, to rebuild them (`run_order_buckets_by_run`).
pub(crate) const DELETE_ORDER_BUCKETS_SQL: &str = "DELETE FROM run_order_buckets WHERE run_id = ?1";

impl Store {
    /// Calls `each` for every touch in rowid order (the table's own order, so no sort), with
    /// only the columns attribution uses (click ids are read apart, grouped:
    /// [`Store::for_each_touch_click`]).
    pub fn for_each_attribution_touch(
        &self,
        touches: TouchFilter,
        mut each: impl FnMut(AttributionTouch<'_>),
    ) -> StoreResult<()> {
        // The touch rows themselves (migration 0024), not the `touches` view: the channel id
        // is mapped to its name in memory, and the stored e-mail hash is written out as hex
        // here, into one reused buffer, rather than by the view's SQL on every row.
        let channels = names_by_id(&self.conn, TouchName::Channel)?;
        let mut statement = self.conn.prepare_cached(
            "SELECT rowid, occurred_at_ms, channel_id, person_id, anonymous_id, email_hash, customer_id, device_id
             FROM touch_rows WHERE traffic_class <= ?1",
        )?;
        let mut rows = statement.query(params![touches.max_class().code()])?;
        let mut email_hex = String::with_capacity(64);
        while let Some(row) = rows.next()? {
            let text = |index: usize| -> rusqlite::Result<Option<&str>> {
                Ok(row.get_ref(index)?.as_str_or_null()?)
            };
            let email_sha256 = match row.get_ref(5)? {
                ValueRef::Blob(bytes) => {
                    email_hex.clear();
                    for byte in bytes {
                        email_hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
                        email_hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
                    }
                    Some(email_hex.as_str())
                }
                other => other.as_str_or_null().map_err(rusqlite::Error::from)?,
            };
            each(AttributionTouch {
                rowid: row.get(0)?,
                occurred_at_ms: row.get(1)?,
                channel: channels
                    .get(&row.get::<_, i64>(2)?)
                    .map_or("", String::as_str),
                person_id: text(3)?,
                anonymous_id: text(4)?,
                email_sha256,
                customer_id: text(6)?,
                device_id: text(7)?,
            });
        }
        Ok(())
    }

    /// Calls `each` with the click id and rowid of every touch that has a click id, in click-id
    /// order (touches sharing one are adjacent, by rowid): a walk of the `touches_by_click`
    /// index, one sorted run per generation merged, which groups them without hashing millions
    /// of ids.
    pub fn for_each_touch_click(&self, each: impl FnMut(&str, i64)) -> StoreResult<()> {
        for_each_click_in_order(&self.conn, each)
    }

    /// Every distinct non-empty click id of an order, in click-id order (the order
    /// [`Store::for_each_touch_click`] walks touches' click ids in, so the two can be merged).
    pub fn order_click_ids(&self) -> StoreResult<Vec<String>> {
        let mut statement = self.conn.prepare_cached(ORDER_CLICK_IDS_SQL)?;
        let rows = statement.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a run that failed before anything of it was written: a `failed` row with the
    /// error, and no orders or credits. It is never reused; it exists so the failure is on record.
    pub fn record_failed_run(
        &mut self,
        run: &NewRun,
        finished_at_ms: i64,
        error: &str,
    ) -> StoreResult<i64> {
        self.ensure_writable()?;
        insert_run_row(
            &self.conn,
            run,
            RunRowStart::Failed {
                finished_at_ms,
                error,
            },
        )
    }

    /// Marks as settled the orders of a reused run that have matured since it was computed:
    /// provisional, now at least `settlement_days` old at `now_ms`, and without an open dispute.
    /// Returns how many changed.
    ///
    /// Why this exists: whether an order is provisional depends on `now`, which moves without
    /// changing the input watermark, and a reused run must not keep calling a month-old order
    /// provisional. Only the 1 → 0 direction is possible without a watermark change (a new
    /// dispute is an adjustment write, which changes the watermark and forces a new run).
    pub fn settle_matured_run_orders(
        &mut self,
        run_id: i64,
        now_ms: i64,
        settlement_days: u32,
    ) -> StoreResult<u64> {
        self.ensure_writable()?;
        let cutoff = now_ms.saturating_sub(i64::from(settlement_days).saturating_mul(86_400_000));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let settling: Vec<String> = {
            let mut statement = tx.prepare_cached(SETTLING_ORDERS_SQL)?;
            let rows = statement.query_map(params![run_id, cutoff], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        if settling.is_empty() {
            return Ok(0);
        }
        {
            let mut statement = tx.prepare_cached(
                "UPDATE run_orders SET provisional = 0 WHERE run_id = ?1 AND order_id = ?2",
            )?;
            for order_id in &settling {
                statement.execute(params![run_id, order_id])?;
            }
        }
        let has_totals: bool = tx
            .prepare_cached("SELECT has_report_totals FROM attribution_runs WHERE run_id = ?1")?
            .query_row(params![run_id], |row| row.get(0))
            .optional()?
            .unwrap_or(false);
        if has_totals {
            let buckets = {
                let mut statement = tx.prepare_cached(
                    "SELECT outcome, order_currency, day_start_ms, day_end_ms, provisional, join_kind, net_minor
                     FROM run_orders WHERE run_id = ?1",
                )?;
                let mut rows = statement.query(params![run_id])?;
                let mut buckets = OrderBuckets::default();
                while let Some(row) = rows.next()? {
                    buckets.add(
                        row.get(0)?,
                        row.get_ref(1)?
                            .as_str_or_null()
                            .map_err(rusqlite::Error::from)?,
                        (row.get(2)?, row.get(3)?),
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                    )?;
                }
                buckets
            };
            write_order_buckets(&tx, run_id, &buckets)?;
        }
        if has_totals && !move_settled_totals(&tx, run_id, &settling)? {
            // Totals that cannot be moved exactly are dropped: reports fall back to the exact
            // joins for this run, which are slower but never wrong.
            tx.execute(
                "DELETE FROM run_credit_totals WHERE run_id = ?1",
                params![run_id],
            )?;
            tx.execute(DELETE_ORDER_BUCKETS_SQL, params![run_id])?;
            tx.execute("UPDATE attribution_runs SET has_report_totals = 0, has_view_totals = 0 WHERE run_id = ?1", params![run_id])?;
        }
        tx.commit()?;
        Ok(settling.len() as u64)
    }

    /// The channel weights a data-driven run learned, by weight (largest first), then channel.
    pub fn run_channel_weights(&self, run_id: i64) -> StoreResult<Vec<RunChannelWeight>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT channel, value, weight, conversions, paths FROM run_channel_weights
             WHERE run_id = ?1 ORDER BY weight DESC, channel",
        )?;
        let rows = statement.query_map(params![run_id], |row| {
            Ok(RunChannelWeight {
                channel: row.get(0)?,
                value: row.get(1)?,
                weight: row.get(2)?,
                conversions: row.get::<_, i64>(3)? as u64,
                paths: row.get::<_, i64>(4)? as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// One order of a run as [`Store::begin_run`] writes it: the outcome plus
/// the order's instant and currency as the run saw them, so order totals need no join later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedRunOrder {
    pub order: RunOrder,
    pub occurred_at_ms: i64,
    /// The order's own currency (what a `missing_fx` total is in).
    pub currency: String,
    /// The order's day in the run's reporting zone, as the instant range `[start, end)`.
    pub day_start_ms: i64,
    pub day_end_ms: i64,
}

/// A credit naming its touch by text id and by rowid (the engine keeps both for journey
/// touches), for [`PreparedRun::new`]; `order` indexes the run's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedRunCredit<'a> {
    pub order: u32,
    pub touch_id: &'a str,
    /// The touch's rowid, stored as `credits.touch_row` (0030): what readers join touches by.
    pub touch_row: i64,
    pub share_ppb: i64,
    pub revenue_minor: i64,
    pub join_kind: JoinKind,
    pub confidence_ppm: i64,
}

/// A run's credits summed over one report key, one day and one provisional flag (a row of
/// `run_credit_totals`). The day is the half-open instant range of the order's day (cash basis)
/// or of the credited touch's day (accrual basis) in the run's reporting zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCreditTotal {
    /// Channel, creator, campaign or content (order totals come from `run_orders` itself).
    pub grouping: CreditGrouping,
    /// Whose day the bucket is: the order's (cash) or the credited touch's (accrual).
    pub basis: CreditBasis,
    /// The touch's value for the key; `None` when it has none.
    pub key: Option<String>,
    pub day_start_ms: i64,
    pub day_end_ms: i64,
    pub provisional: bool,
    /// How many credit rows the sums cover.
    pub credits: u64,
    pub share_ppb: i64,
    pub revenue_minor: i64,
}

/// The text id and report keys of one touch, read by rowid for the touches of journeys and
/// borrowed from the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TouchReportKeys<'r> {
    pub rowid: i64,
    pub touch_id: &'r str,
    pub creator_id: Option<&'r str>,
    pub campaign_id: Option<&'r str>,
    pub content_id: Option<&'r str>,
}

/// A `journey_cache` row's blobs: the journeys, and the non-converting paths when asked for.
pub type CachedJourneyBlobs = (Vec<u8>, Option<Vec<u8>>);

impl CreditGrouping {
    /// The stored name of a grouping's totals on `basis` in `run_credit_totals` (`None` for
    /// order, which has none).
    pub(crate) fn totals_name(self, basis: CreditBasis) -> Option<&'static str> {
        TOTAL_GROUPINGS
            .iter()
            .find(|&&(g, b, _)| g == self && b == basis)
            .map(|&(_, _, name)| name)
    }
}

impl Store {
    /// The cached journeys stored for exactly this watermark, lookback, probabilistic setting and
    /// touch filter in `format`, if any — and their non-converting paths only `with_paths`
    /// (heuristic models need none, and they are the larger part). A row in another format is
    /// treated as absent.
    pub fn journey_cache(
        &self,
        input_watermark: &str,
        lookback_days: u32,
        probabilistic: bool,
        touches: TouchFilter,
        format: i64,
        with_paths: bool,
    ) -> StoreResult<Option<CachedJourneyBlobs>> {
        let sql = if with_paths {
            "SELECT payload, paths FROM journey_cache
             WHERE input_watermark = ?1 AND lookback_days = ?2 AND probabilistic = ?3 AND touches = ?4
               AND format = ?5"
        } else {
            "SELECT payload, NULL FROM journey_cache
             WHERE input_watermark = ?1 AND lookback_days = ?2 AND probabilistic = ?3 AND touches = ?4
               AND format = ?5"
        };
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(
                params![
                    input_watermark,
                    lookback_days,
                    probabilistic,
                    touches.as_str(),
                    format
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?)
    }

    /// Stores the journeys of `input_watermark` (replacing a row with the same key) and deletes
    /// every cache row of another watermark: the watermark only grows, so those are never read.
    #[allow(clippy::too_many_arguments)]
    pub fn put_journey_cache(
        &mut self,
        input_watermark: &str,
        lookback_days: u32,
        probabilistic: bool,
        touches: TouchFilter,
        format: i64,
        created_at_ms: i64,
        payload: &[u8],
        paths: &[u8],
    ) -> StoreResult<()> {
        self.ensure_writable()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM journey_cache WHERE input_watermark <> ?1",
            params![input_watermark],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO journey_cache (input_watermark, lookback_days, probabilistic, touches, format,
                                                   created_at_ms, payload, paths)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                input_watermark,
                lookback_days,
                probabilistic,
                touches.as_str(),
                format,
                created_at_ms,
                payload,
                paths
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Deletes every cached journey (they are derived data; the next run resolves again).
    pub fn clear_journey_cache(&mut self) -> StoreResult<()> {
        self.ensure_writable()?;
        self.conn.execute("DELETE FROM journey_cache", [])?;
        Ok(())
    }

    /// Calls `each` with the text id and report keys of the touches with these rowids (sorted
    /// ascending), in that order. Rowids close together are read with one range query (a
    /// journey's touches are usually near each other), so the table is walked in a few long
    /// steps rather than one B-tree descent per touch. A rowid that no longer exists is an
    /// `InvalidValue` error (the touch was deleted during the run).
    pub fn for_each_touch_report_keys(
        &self,
        rowids: &[i64],
        mut each: impl FnMut(TouchReportKeys<'_>),
    ) -> StoreResult<()> {
        /// Rows between two wanted ones that a range query may step over rather than end.
        const MAX_GAP: i64 = 16;
        let mut statement = self.conn.prepare_cached(
            "SELECT rowid, touch_id, creator_id, campaign_id, content_id FROM touches
             WHERE rowid BETWEEN ?1 AND ?2",
        )?;
        let missing = |rowid: i64| StoreError::InvalidValue {
            field: "credit touch",
            detail: format!("no touch with rowid {rowid} (it was deleted during the run)"),
        };
        let mut start = 0;
        while start < rowids.len() {
            let mut end = start + 1;
            while end < rowids.len() && rowids[end] - rowids[end - 1] <= MAX_GAP {
                end += 1;
            }
            let wanted = &rowids[start..end];
            let mut next = 0;
            let mut rows = statement.query(params![wanted[0], wanted[wanted.len() - 1]])?;
            while let Some(row) = rows.next()? {
                let rowid: i64 = row.get(0)?;
                if next < wanted.len() && rowid == wanted[next] {
                    let text = |index: usize| -> rusqlite::Result<Option<&str>> {
                        Ok(row.get_ref(index)?.as_str_or_null()?)
                    };
                    each(TouchReportKeys {
                        rowid,
                        touch_id: row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
                        creator_id: text(2)?,
                        campaign_id: text(3)?,
                        content_id: text(4)?,
                    });
                    next += 1;
                } else if next < wanted.len() && rowid > wanted[next] {
                    return Err(missing(wanted[next]));
                }
            }
            if next < wanted.len() {
                return Err(missing(wanted[next]));
            }
            start = end;
        }
        Ok(())
    }

    /// Starts writing a finished run: in one immediate transaction, the run row (status
    /// `running`, marked as having its report totals), its orders with their instant and
    /// currency, and their `run_order_buckets`. [`RunWrite::finish`] adds the credits, weights
    /// and report totals, marks the run `complete` and commits; a [`RunWrite`] dropped before
    /// that rolls all of it back. Nothing between needs the model, so a caller can compute the
    /// credits while the orders are written.
    ///
    /// Orders and credits are inserted sorted by their primary keys, so every index insert lands
    /// at the end of the new run's range instead of on a random page.
    pub fn begin_run<'s, 'o>(
        &'s mut self,
        run: &NewRun,
        orders: &'o [ReportedRunOrder],
    ) -> StoreResult<RunWrite<'s, 'o>> {
        self.ensure_writable()?;
        crate::records::check_currency("run reporting_currency", &run.reporting_currency)?;
        let mut order_sequence: Vec<u32> = (0..orders.len() as u32).collect();
        order_sequence.sort_unstable_by(|&a, &b| {
            orders[a as usize]
                .order
                .order_id
                .cmp(&orders[b as usize].order.order_id)
        });
        // Every row of the run names the run row inserted first in the same transaction, so
        // SQLite's foreign-key check of each one (a lookup in attribution_runs per credit, a
        // tenth of the write) cannot fail. It can only be switched outside a transaction: off
        // until the run write ends, committed or not (see `RunWrite`).
        self.conn.pragma_update(None, "foreign_keys", false)?;
        let mut write = RunWrite {
            conn: &self.conn,
            run_id: 0,
            orders,
            open: false,
        };
        write.conn.execute_batch("BEGIN IMMEDIATE")?;
        write.open = true;
        write.run_id = insert_run_row(
            write.conn,
            run,
            RunRowStart::Running {
                has_report_totals: true,
            },
        )?;
        insert_batched(
            write.conn,
            RUN_ORDER_COLUMNS,
            &write.run_id,
            order_sequence.iter().map(|&index| &orders[index as usize]),
            |item, row| {
                let order = &item.order;
                row.extend([
                    &order.order_id as &dyn ToSql,
                    &order.outcome,
                    &order.net_minor,
                    &order.provisional,
                    &order.join_kind,
                    &item.occurred_at_ms,
                    &item.currency,
                    &item.day_start_ms,
                    &item.day_end_ms,
                ]);
            },
        )?;
        let mut buckets = OrderBuckets::default();
        for item in orders {
            let order = &item.order;
            buckets.add(
                order.outcome,
                Some(&item.currency),
                (item.day_start_ms, item.day_end_ms),
                order.provisional,
                order.join_kind,
                order.net_minor,
            )?;
        }
        write_order_buckets(write.conn, write.run_id, &buckets)?;
        Ok(write)
    }
}

/// A run being written: its row, orders and order buckets are in the open transaction of
/// [`Store::begin_run`]. Dropped without [`RunWrite::finish`], it rolls the transaction back, so
/// nothing of the run is kept; either way foreign keys are switched on again.
pub struct RunWrite<'s, 'o> {
    conn: &'s rusqlite::Connection,
    run_id: i64,
    orders: &'o [ReportedRunOrder],
    /// Whether the transaction is open (neither committed nor rolled back).
    open: bool,
}

impl RunWrite<'_, '_> {
    /// The id the run will have.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Writes the run's credits and `run_credit_totals` (`prepared`) and its weights, marks it
    /// `complete` and commits; returns its id. `prepared` must have been made for the very
    /// orders the run was begun with.
    pub fn finish(
        mut self,
        finished_at_ms: i64,
        prepared: &PreparedRun<'_>,
        weights: &[RunChannelWeight],
    ) -> StoreResult<i64> {
        if !std::ptr::eq(prepared.orders, self.orders) {
            return Err(StoreError::InvalidValue {
                field: "run credits",
                detail: "prepared for other orders than the run's".to_owned(),
            });
        }
        let conn = self.conn;
        let run_id = self.run_id;
        let mut start = 0;
        let ids: Vec<(&str, &str)> = prepared
            .id_ends
            .chunks_exact(2)
            .map(|ends| {
                let pair = (
                    &prepared.ids[start..ends[0]],
                    &prepared.ids[ends[0]..ends[1]],
                );
                start = ends[1];
                pair
            })
            .collect();
        insert_batched(
            conn,
            CREDIT_COLUMNS,
            &run_id,
            ids.iter().zip(&prepared.values),
            |((order_id, touch_id), values), row| {
                row.extend([
                    order_id as &dyn ToSql,
                    touch_id,
                    &values.touch_row,
                    &values.share_ppb,
                    &values.revenue_minor,
                    &values.join_kind,
                    &values.confidence_ppm,
                ]);
            },
        )?;
        {
            let mut statement = conn.prepare_cached(
                "INSERT INTO run_channel_weights (run_id, channel, value, weight, conversions, paths)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for weight in weights {
                statement.execute(params![
                    run_id,
                    weight.channel,
                    weight.value,
                    weight.weight,
                    weight.conversions as i64,
                    weight.paths as i64,
                ])?;
            }
        }
        {
            let mut statement = conn.prepare_cached(
                "INSERT INTO run_credit_totals (run_id, grouping, payload) VALUES (?1, ?2, ?3)",
            )?;
            for (name, payload) in &prepared.totals {
                statement.execute(params![run_id, name, payload])?;
            }
        }
        conn.execute(
            "UPDATE attribution_runs SET status = ?2, finished_at_ms = ?3, has_view_totals = ?4 WHERE run_id = ?1",
            params![run_id, RunStatus::Complete, finished_at_ms, prepared.view_totals],
        )?;
        conn.execute_batch("COMMIT")?;
        self.open = false;
        conn.pragma_update(None, "foreign_keys", true)?;
        Ok(run_id)
    }
}

impl Drop for RunWrite<'_, '_> {
    fn drop(&mut self) {
        if self.open {
            // Best effort: a failed rollback leaves SQLite to roll back when the connection
            // closes, and the run row was never marked complete.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        let _ = self.conn.pragma_update(None, "foreign_keys", true);
    }
}

/// A run's credits and report totals as [`RunWrite::finish`] writes them: the credits checked
/// against the run's orders, sorted by primary key (order id, touch id) with their ids gathered
/// end to end in that order, and the totals encoded per grouping. Preparing needs no
/// connection, so it can run on another thread while the orders are written; gathering the ids
/// first spares SQLite's bind a cache miss per id.
#[derive(Debug)]
pub struct PreparedRun<'o> {
    /// The orders the credits were checked against.
    orders: &'o [ReportedRunOrder],
    /// Each credit's order id then touch id, end to end; `id_ends` holds where each ends.
    ids: String,
    id_ends: Vec<usize>,
    values: Vec<CreditValues>,
    /// Whether every credit carries its order's join kind (see [`PreparedRun::new`]).
    view_totals: bool,
    /// Each stored grouping's name and encoded `run_credit_totals` payload.
    totals: Vec<(&'static str, Vec<u8>)>,
}

/// The columns of a credit besides its ids.
#[derive(Debug, Clone, Copy)]
struct CreditValues {
    touch_row: i64,
    share_ppb: i64,
    revenue_minor: i64,
    join_kind: JoinKind,
    confidence_ppm: i64,
}

impl<'o> PreparedRun<'o> {
    /// Checks and orders `credits` (whose `order` indexes `orders`) and encodes `totals`.
    /// Refuses credits that do not conserve each attributed order's net revenue and one whole
    /// share, or name an order the run does not have (the by-order report relies on both), and
    /// totals of the order grouping (read from run_orders, never stored).
    pub fn new(
        orders: &'o [ReportedRunOrder],
        credits: &[NamedRunCredit<'_>],
        totals: &[RunCreditTotal],
    ) -> StoreResult<PreparedRun<'o>> {
        let mut by_grouping: Vec<(&'static str, Vec<&RunCreditTotal>)> = TOTAL_GROUPINGS
            .iter()
            .map(|&(_, _, name)| (name, Vec::new()))
            .collect();
        for total in totals {
            let slot = TOTAL_GROUPINGS
                .iter()
                .position(|&(g, b, _)| g == total.grouping && b == total.basis)
                .ok_or_else(|| StoreError::InvalidValue {
                    field: "run credit total",
                    detail: "order totals are read from run_orders, not stored".to_owned(),
                })?;
            by_grouping[slot].1.push(total);
        }
        let totals = by_grouping
            .into_iter()
            .map(|(name, totals)| Ok((name, encode_totals(&totals)?)))
            .collect::<StoreResult<_>>()?;
        for credit in credits {
            if credit.order as usize >= orders.len() {
                return Err(StoreError::InvalidValue {
                    field: "credit order",
                    detail: format!(
                        "order index {} is outside the run's {} orders",
                        credit.order,
                        orders.len()
                    ),
                });
            }
        }
        check_report_conservation(orders, credits)?;
        // Provenance reads credited revenue by join kind from the order buckets (0006), which is
        // exact only if every credit carries its order's join kind; the engine's do, and a run
        // whose credits do not is still written, just read with the exact join.
        let view_totals = credits
            .iter()
            .all(|c| orders[c.order as usize].order.join_kind == Some(c.join_kind));
        // Credits in (order id, touch id) order without comparing order ids per credit: bucket
        // them by order (a counting sort), walk the orders in id order, sort each order's few
        // by touch id.
        let mut order_sequence: Vec<u32> = (0..orders.len() as u32).collect();
        order_sequence.sort_unstable_by(|&a, &b| {
            orders[a as usize]
                .order
                .order_id
                .cmp(&orders[b as usize].order.order_id)
        });
        let mut starts = vec![0u32; orders.len() + 1];
        for credit in credits {
            starts[credit.order as usize + 1] += 1;
        }
        for index in 0..orders.len() {
            starts[index + 1] += starts[index];
        }
        let mut by_order = vec![0u32; credits.len()];
        let mut fill = starts.clone();
        for (index, credit) in credits.iter().enumerate() {
            by_order[fill[credit.order as usize] as usize] = index as u32;
            fill[credit.order as usize] += 1;
        }
        drop(fill);
        let mut prepared = PreparedRun {
            orders,
            totals,
            ids: String::new(),
            id_ends: Vec::with_capacity(2 * credits.len()),
            values: Vec::with_capacity(credits.len()),
            view_totals,
        };
        for &order in &order_sequence {
            let own =
                &mut by_order[starts[order as usize] as usize..starts[order as usize + 1] as usize];
            own.sort_unstable_by(|&a, &b| {
                credits[a as usize]
                    .touch_id
                    .as_bytes()
                    .cmp(credits[b as usize].touch_id.as_bytes())
            });
            for &index in own.iter() {
                let credit = &credits[index as usize];
                prepared
                    .ids
                    .push_str(&orders[order as usize].order.order_id);
                prepared.id_ends.push(prepared.ids.len());
                prepared.ids.push_str(credit.touch_id);
                prepared.id_ends.push(prepared.ids.len());
                prepared.values.push(CreditValues {
                    touch_row: credit.touch_row,
                    share_ppb: credit.share_ppb,
                    revenue_minor: credit.revenue_minor,
                    join_kind: credit.join_kind,
                    confidence_ppm: credit.confidence_ppm,
                });
            }
        }
        Ok(prepared)
    }
}

/// A run's orders summed per row of `run_order_buckets` (0006): outcome, the order currency of
/// `missing_fx` orders (their net is in it), order day, provisional flag and join kind → how
/// many orders and their net. Summed in memory from the orders being written (or, when some
/// of a stored run's orders settle, from its `run_orders`): a few hundred buckets out of
/// hundreds of thousands of orders.
#[derive(Default)]
struct OrderBuckets {
    /// Keyed by the stored spellings, so the rows come out in SQLite's order of those values
    /// (NULL first) — the order the bucket rows have always been inserted in.
    sums: BTreeMap<OrderBucketKey, (i64, i64)>,
}

/// (outcome, currency, day start, day end, provisional, join kind), as stored.
type OrderBucketKey = (
    &'static str,
    Option<String>,
    i64,
    i64,
    bool,
    Option<&'static str>,
);

impl OrderBuckets {
    fn add(
        &mut self,
        outcome: RunOrderOutcome,
        currency: Option<&str>,
        (day_start_ms, day_end_ms): (i64, i64),
        provisional: bool,
        join_kind: Option<JoinKind>,
        net_minor: i64,
    ) -> StoreResult<()> {
        // Only a missing_fx order's net is in its own currency; the others are in the run's.
        let currency = currency
            .filter(|_| outcome == RunOrderOutcome::MissingFx)
            .map(str::to_owned);
        let key = (
            outcome.as_str(),
            currency,
            day_start_ms,
            day_end_ms,
            provisional,
            join_kind.map(JoinKind::as_str),
        );
        let sums = self.sums.entry(key).or_insert((0, 0));
        sums.0 += 1;
        sums.1 = sums
            .1
            .checked_add(net_minor)
            .ok_or_else(|| StoreError::InvalidValue {
                field: "run order net_minor",
                detail: "the net revenue of one day's orders overflows 64 bits".to_owned(),
            })?;
        Ok(())
    }
}

/// Replaces a run's `run_order_buckets` with `buckets`.
fn write_order_buckets(
    tx: &rusqlite::Connection,
    run_id: i64,
    buckets: &OrderBuckets,
) -> StoreResult<()> {
    tx.execute(DELETE_ORDER_BUCKETS_SQL, params![run_id])?;
    let mut statement = tx.prepare_cached(
        "INSERT INTO run_order_buckets (run_id, outcome, currency, day_start_ms, day_end_ms, provisional, orders, net_minor,
                                        join_kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for ((outcome, currency, day_start_ms, day_end_ms, provisional, join_kind), (orders, net)) in
        &buckets.sums
    {
        statement.execute(params![
            run_id,
            outcome,
            currency,
            day_start_ms,
            day_end_ms,
            provisional,
            orders,
            net,
            join_kind
        ])?;
    }
    Ok(())
}

/// The groupings whose totals are stored, on each basis, with their names in
/// `run_credit_totals` (the accrual ones since migration 0020). The accrual slots follow the
/// cash ones in the same order: slot `i + CASH_SLOTS` is slot `i` by touch day.
pub(crate) const TOTAL_GROUPINGS: [(CreditGrouping, CreditBasis, &str); 10] = [
    (CreditGrouping::Channel, CreditBasis::Cash, "channel"),
    (CreditGrouping::Creator, CreditBasis::Cash, "creator"),
    (CreditGrouping::Campaign, CreditBasis::Cash, "campaign"),
    (CreditGrouping::Content, CreditBasis::Cash, "content"),
    (
        CreditGrouping::CampaignCreator,
        CreditBasis::Cash,
        "campaign_creator",
    ),
    (
        CreditGrouping::Channel,
        CreditBasis::Accrual,
        "accrual_channel",
    ),
    (
        CreditGrouping::Creator,
        CreditBasis::Accrual,
        "accrual_creator",
    ),
    (
        CreditGrouping::Campaign,
        CreditBasis::Accrual,
        "accrual_campaign",
    ),
    (
        CreditGrouping::Content,
        CreditBasis::Accrual,
        "accrual_content",
    ),
    (
        CreditGrouping::CampaignCreator,
        CreditBasis::Accrual,
        "accrual_campaign_creator",
    ),
];

/// The cash slots of [`TOTAL_GROUPINGS`] (its first half).
const CASH_SLOTS: usize = 5;

/// Moves the credits of orders that just settled from their provisional buckets of
/// `run_credit_totals` to the settled ones. Returns `false` if a credit's bucket is not where it
/// must be (the totals no longer match the credits), in which case the caller drops the totals.
fn move_settled_totals(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    settling: &[String],
) -> StoreResult<bool> {
    use std::collections::{BTreeMap, HashMap};
    // (grouping slot, key, the bucket's instant) → (credits, share, revenue).
    type Moved = BTreeMap<(usize, Option<String>, i64), (u64, i64, i64)>;
    let mut moved = Moved::new();
    {
        // One key column per cash slot of TOTAL_GROUPINGS, in its order; an accrual slot has
        // its cash slot's key.
        let mut statement = tx.prepare_cached(&format!(
            "SELECT t.channel, t.creator_id, t.campaign_id, t.content_id, {CAMPAIGN_CREATOR_KEY_SQL},
                    o.occurred_at_ms, t.occurred_at_ms, c.share_ppb, c.revenue_minor
             FROM credits c
             JOIN orders o ON o.order_id = c.order_id
             JOIN touches t ON {credit_touch}
             WHERE c.run_id = ?1 AND c.order_id = ?2",
            credit_touch = credit_touch_join(tx)?,
        ))?;
        let keys = CASH_SLOTS;
        for order_id in settling {
            let mut rows = statement.query(params![run_id, order_id])?;
            while let Some(row) = rows.next()? {
                let (order_at, touch_at): (i64, i64) = (row.get(keys)?, row.get(keys + 1)?);
                let (share, revenue): (i64, i64) = (row.get(keys + 2)?, row.get(keys + 3)?);
                for (slot, &(_, basis, _)) in TOTAL_GROUPINGS.iter().enumerate() {
                    let key: Option<String> = row.get(slot % CASH_SLOTS)?;
                    let at = match basis {
                        CreditBasis::Cash => order_at,
                        CreditBasis::Accrual => touch_at,
                    };
                    let sums = moved.entry((slot, key, at)).or_default();
                    sums.0 += 1;
                    sums.1 += share;
                    sums.2 += revenue;
                }
            }
        }
    }
    for (slot, &(grouping, basis, name)) in TOTAL_GROUPINGS.iter().enumerate() {
        let payload: Option<Vec<u8>> = tx
            .prepare_cached(
                "SELECT payload FROM run_credit_totals WHERE run_id = ?1 AND grouping = ?2",
            )?
            .query_row(params![run_id, name], |row| row.get(0))
            .optional()?;
        // A run written before a grouping existed has no totals for it; its views read that
        // grouping with the exact join, so there is nothing to move.
        let Some(payload) = payload else {
            continue;
        };
        let Ok(mut buckets) = decode_totals(&payload, grouping, basis) else {
            return Ok(false);
        };
        // Where each (key, day start, provisional) bucket is, and each key's provisional days.
        let mut at_bucket: HashMap<(Option<String>, i64, bool), usize> =
            HashMap::with_capacity(buckets.len());
        for (index, bucket) in buckets.iter().enumerate() {
            at_bucket.insert(
                (bucket.key.clone(), bucket.day_start_ms, bucket.provisional),
                index,
            );
        }
        let mut provisional_of_key: HashMap<Option<String>, Vec<usize>> = HashMap::new();
        for (index, bucket) in buckets.iter().enumerate().filter(|(_, b)| b.provisional) {
            provisional_of_key
                .entry(bucket.key.clone())
                .or_default()
                .push(index);
        }
        for ((_, key, at), (credits, share, revenue)) in
            moved.range((slot, None, i64::MIN)..(slot + 1, None, i64::MIN))
        {
            // The provisional bucket of this key whose day holds the order's (or touch's) instant.
            let source = provisional_of_key.get(key).and_then(|indices| {
                indices
                    .iter()
                    .copied()
                    .find(|&i| buckets[i].day_start_ms <= *at && *at < buckets[i].day_end_ms)
            });
            let Some(source) = source else {
                return Ok(false);
            };
            let bucket = &mut buckets[source];
            if bucket.credits < *credits {
                return Ok(false);
            }
            bucket.credits -= credits;
            bucket.share_ppb -= share;
            bucket.revenue_minor -= revenue;
            let (day_start_ms, day_end_ms) = (bucket.day_start_ms, bucket.day_end_ms);
            match at_bucket.get(&(key.clone(), day_start_ms, false)) {
                Some(&target) => {
                    let bucket = &mut buckets[target];
                    bucket.credits += credits;
                    bucket.share_ppb += share;
                    bucket.revenue_minor += revenue;
                }
                None => {
                    at_bucket.insert((key.clone(), day_start_ms, false), buckets.len());
                    buckets.push(RunCreditTotal {
                        grouping,
                        basis,
                        key: key.clone(),
                        day_start_ms,
                        day_end_ms,
                        provisional: false,
                        credits: *credits,
                        share_ppb: *share,
                        revenue_minor: *revenue,
                    });
                }
            }
        }
        let kept: Vec<&RunCreditTotal> = buckets.iter().filter(|b| b.credits > 0).collect();
        tx.prepare_cached(
            "UPDATE run_credit_totals SET payload = ?3 WHERE run_id = ?1 AND grouping = ?2",
        )?
        .execute(params![run_id, name, encode_totals(&kept)?])?;
    }
    Ok(true)
}

/// zstd's level for `run_credit_totals` payloads: level 1 shrinks them about tenfold (29 MB to
/// ~3 MB for a run on the 10M busy-year workspace) at ~700 MB/s, and a view decompresses its
/// grouping at ~1.6 GB/s, a few milliseconds.
const TOTALS_ZSTD_LEVEL: i32 = 1;

/// How a zstd frame begins. A payload written before its compression (a run of an older
/// version) begins with its bucket count instead, which would need billions of buckets to
/// look like this.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// One grouping's buckets as stored: [`totals_bytes`], compressed by zstd. Most of a new run's
/// written pages were these payloads, which its commit writes to the WAL and its checkpoint
/// again into the file.
pub(crate) fn encode_totals(totals: &[&RunCreditTotal]) -> StoreResult<Vec<u8>> {
    zstd::bulk::compress(&totals_bytes(totals), TOTALS_ZSTD_LEVEL).map_err(StoreError::Compression)
}

/// The binary form of one grouping's buckets: a count, then per bucket a key flag (0 none,
/// 1 text), the key's length and UTF-8 bytes, then day start, day end, provisional (one byte),
/// credits, share and revenue as little-endian 64-bit integers.
fn totals_bytes(totals: &[&RunCreditTotal]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + totals.len() * 56);
    out.extend_from_slice(&(totals.len() as u64).to_le_bytes());
    for total in totals {
        match &total.key {
            None => out.push(0),
            Some(key) => {
                out.push(1);
                out.extend_from_slice(&(key.len() as u64).to_le_bytes());
                out.extend_from_slice(key.as_bytes());
            }
        }
        out.extend_from_slice(&total.day_start_ms.to_le_bytes());
        out.extend_from_slice(&total.day_end_ms.to_le_bytes());
        out.push(u8::from(total.provisional));
        out.extend_from_slice(&total.credits.to_le_bytes());
        out.extend_from_slice(&total.share_ppb.to_le_bytes());
        out.extend_from_slice(&total.revenue_minor.to_le_bytes());
    }
    out
}

/// Reads [`encode_totals`]' output, or an older run's uncompressed [`totals_bytes`]; anything
/// malformed is an `InvalidValue` error.
pub(crate) fn decode_totals(
    stored: &[u8],
    grouping: CreditGrouping,
    basis: CreditBasis,
) -> StoreResult<Vec<RunCreditTotal>> {
    let bad = || StoreError::InvalidValue {
        field: "run_credit_totals payload",
        detail: "malformed".to_owned(),
    };
    let decompressed;
    let bytes = if stored.starts_with(&ZSTD_MAGIC) {
        decompressed = zstd::stream::decode_all(stored).map_err(|e| StoreError::InvalidValue {
            field: "run_credit_totals payload",
            detail: format!("cannot be decompressed: {e}"),
        })?;
        decompressed.as_slice()
    } else {
        stored
    };
    let mut at = 0usize;
    let mut take = |n: usize| -> StoreResult<&[u8]> {
        let slice = bytes
            .get(at..at.checked_add(n).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        at += n;
        Ok(slice)
    };
    let word = |slice: &[u8]| -> [u8; 8] { slice.try_into().unwrap_or_default() };
    let count = u64::from_le_bytes(word(take(8)?));
    let mut totals = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(bytes.len() / 41));
    for _ in 0..count {
        let key = match take(1)?[0] {
            0 => None,
            1 => {
                let len = usize::try_from(u64::from_le_bytes(word(take(8)?))).map_err(|_| bad())?;
                Some(
                    std::str::from_utf8(take(len)?)
                        .map_err(|_| bad())?
                        .to_owned(),
                )
            }
            _ => return Err(bad()),
        };
        let day_start_ms = i64::from_le_bytes(word(take(8)?));
        let day_end_ms = i64::from_le_bytes(word(take(8)?));
        let provisional = match take(1)?[0] {
            0 => false,
            1 => true,
            _ => return Err(bad()),
        };
        let credits = u64::from_le_bytes(word(take(8)?));
        let share_ppb = i64::from_le_bytes(word(take(8)?));
        let revenue_minor = i64::from_le_bytes(word(take(8)?));
        totals.push(RunCreditTotal {
            grouping,
            basis,
            key,
            day_start_ms,
            day_end_ms,
            provisional,
            credits,
            share_ppb,
            revenue_minor,
        });
    }
    if take(0).is_ok() && at == bytes.len() {
        Ok(totals)
    } else {
        Err(bad())
    }
}

/// The by-order report of a run with totals is read from `run_orders` alone, which is exact only
/// if every attributed order's credits sum to one whole share and its net revenue and no other
/// order has credits. The engine guarantees it; this makes the store refuse anything else.
fn check_report_conservation(
    orders: &[ReportedRunOrder],
    credits: &[NamedRunCredit<'_>],
) -> StoreResult<()> {
    let mut sums = vec![(0u64, 0i128, 0i128); orders.len()];
    for credit in credits {
        let sum = &mut sums[credit.order as usize];
        sum.0 += 1;
        sum.1 += i128::from(credit.share_ppb);
        sum.2 += i128::from(credit.revenue_minor);
    }
    for (item, (count, share, revenue)) in orders.iter().zip(sums) {
        let order = &item.order;
        let attributed = order.outcome == crate::RunOrderOutcome::Attributed;
        let conserved = if attributed {
            count > 0 && share == 1_000_000_000 && revenue == i128::from(order.net_minor)
        } else {
            count == 0
        };
        if !conserved {
            return Err(StoreError::InvalidValue {
                field: "run credits",
                detail: format!(
                    "order {} ({}) has credits summing to {share} ppb and {revenue} minor units",
                    order.order_id,
                    if attributed {
                        "attributed"
                    } else {
                        "not attributed"
                    }
                ),
            });
        }
    }
    Ok(())
}

/// Rows per multi-row `INSERT` of [`insert_batched`]: a few hundred bound values per statement,
/// far below SQLite's limit, and most of the per-statement cost amortized.
const BATCH_ROWS: usize = 64;

/// The statement [`insert_batched`] runs for `rows` rows of `table_columns` (`table (col, …)`).
pub(crate) fn batched_insert_sql(table_columns: &str, rows: usize) -> String {
    let columns = table_columns.matches(',').count() + 1;
    let row = format!("({})", vec!["?"; columns].join(", "));
    format!(
        "INSERT OR FAIL INTO {table_columns} VALUES {}",
        vec![row; rows].join(", ")
    )
}

/// The table and columns of a run's row per order, as [`insert_batched`] takes them.
pub(crate) const RUN_ORDER_COLUMNS: &str = "run_orders (run_id, order_id, outcome, net_minor, provisional, join_kind, \
     occurred_at_ms, order_currency, day_start_ms, day_end_ms)";

/// The table and columns of a run's row per (order, touch), as [`insert_batched`] takes them.
pub(crate) const CREDIT_COLUMNS: &str = "credits (run_id, order_id, touch_id, touch_row, share_ppb, revenue_minor, join_kind, confidence_ppm)";

/// Inserts `items` into `table_columns` (`"table (run_id, col, …)"`) with multi-row `INSERT`
/// statements: `run_id` first, then the values `bind` pushes for each item. One statement per
/// row costs most of a bulk insert's time outside SQLite's B-tree work. `OR FAIL`: a violated
/// constraint stops the statement without undoing its earlier rows, which spares SQLite a
/// statement journal (a copy of every page each statement touches); callers roll the whole
/// transaction back on any error, so no partial run survives.
fn insert_batched<'a, T: Copy + 'a>(
    tx: &rusqlite::Connection,
    table_columns: &str,
    run_id: &'a i64,
    items: impl Iterator<Item = T>,
    bind: impl Fn(&T, &mut Vec<&'a dyn ToSql>),
) -> StoreResult<()> {
    let columns = table_columns.matches(',').count() + 1;
    // Every statement but the last has BATCH_ROWS rows: its text is built once, not per batch.
    let full_batch = batched_insert_sql(table_columns, BATCH_ROWS);
    let mut values: Vec<&'a dyn ToSql> = Vec::with_capacity(BATCH_ROWS * columns);
    let mut rows = 0;
    let flush = |values: &mut Vec<&'a dyn ToSql>, rows: usize| -> StoreResult<()> {
        if rows == BATCH_ROWS {
            tx.prepare_cached(&full_batch)?.execute(&values[..])?;
        } else if rows > 0 {
            tx.prepare_cached(&batched_insert_sql(table_columns, rows))?
                .execute(&values[..])?;
        }
        values.clear();
        Ok(())
    };
    for item in items {
        values.push(run_id);
        let before = values.len();
        bind(&item, &mut values);
        debug_assert_eq!(values.len() - before + 1, columns);
        rows += 1;
        if rows == BATCH_ROWS {
            flush(&mut values, rows)?;
            rows = 0;
        }
    }
    flush(&mut values, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A year of days for a few hundred keys, as a busy workspace's content grouping has.
    fn buckets() -> Vec<RunCreditTotal> {
        let day_ms = 86_400_000;
        let mut totals = Vec::new();
        for key in 0..300_i64 {
            for day in 0..365_i64 {
                totals.push(RunCreditTotal {
                    grouping: CreditGrouping::Content,
                    basis: CreditBasis::Cash,
                    key: (key > 0).then(|| format!("post-{key}")),
                    day_start_ms: 1_767_225_600_000 + day * day_ms,
                    day_end_ms: 1_767_225_600_000 + (day + 1) * day_ms,
                    provisional: day > 350,
                    credits: (key * day) as u64 % 7 + 1,
                    share_ppb: 1_000_000_000 - key * day,
                    revenue_minor: 1_999 * (key + day),
                });
            }
        }
        totals
    }

    #[test]
    fn totals_are_stored_compressed_and_read_back_exactly() {
        let totals = buckets();
        let refs: Vec<&RunCreditTotal> = totals.iter().collect();
        let stored = encode_totals(&refs).unwrap();
        let raw = totals_bytes(&refs);
        assert!(stored.starts_with(&ZSTD_MAGIC));
        assert!(
            stored.len() * 5 < raw.len(),
            "{} bytes stored for {} raw",
            stored.len(),
            raw.len()
        );
        let read = decode_totals(&stored, CreditGrouping::Content, CreditBasis::Cash).unwrap();
        assert_eq!(read, totals);
    }

    #[test]
    fn an_older_runs_uncompressed_totals_still_read_and_damage_is_an_error() {
        let totals = buckets();
        let refs: Vec<&RunCreditTotal> = totals.iter().collect();
        let older = totals_bytes(&refs);
        let read = decode_totals(&older, CreditGrouping::Content, CreditBasis::Cash).unwrap();
        assert_eq!(read, totals);
        let empty = totals_bytes(&[]);
        assert!(
            decode_totals(&empty, CreditGrouping::Content, CreditBasis::Cash)
                .unwrap()
                .is_empty()
        );
        let mut damaged = encode_totals(&refs).unwrap();
        damaged.truncate(damaged.len() / 2);
        let error = decode_totals(&damaged, CreditGrouping::Content, CreditBasis::Cash)
            .expect_err("a truncated frame");
        assert!(
            error.to_string().contains("run_credit_totals payload"),
            "{error}"
        );
    }
}
