//! What the attribution engine needs from the store beyond the general loaders: a lean streaming
//! read of touches (no allocation per row for the columns it only looks at), and writing a whole
//! run — row, per-order outcomes, credits and learned weights — in one transaction.
//!
//! Architecture Invariant: a run becomes visible complete or not at all. [`Store::write_complete_run`]
//! inserts the run row, its orders, credits and weights and marks it `complete` inside one
//! immediate transaction; any error rolls all of it back, so `find_run` never returns half a run.

use rusqlite::{TransactionBehavior, params};

use crate::{JoinKind, NewRun, RunOrder, RunStatus, Store, StoreError, StoreResult};

/// One touch as attribution reads it, borrowing the row's text so that a scan of millions of
/// touches allocates only for what the caller decides to keep. `rowid` stands for the touch in
/// credits until the run is written (the text `touch_id` is looked up then, by rowid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributionTouch<'r> {
    pub rowid: i64,
    pub occurred_at_ms: i64,
    pub channel: &'r str,
    pub click_id: Option<&'r str>,
    pub person_id: Option<&'r str>,
    pub anonymous_id: Option<&'r str>,
    pub email_sha256: Option<&'r str>,
    pub customer_id: Option<&'r str>,
    pub device_id: Option<&'r str>,
}

/// A credit as the engine produces it: the order is an index into the `orders` slice handed to
/// [`Store::write_complete_run`], the touch is its rowid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunCredit {
    pub order: u32,
    pub touch_rowid: i64,
    pub share_ppb: i64,
    pub revenue_minor: i64,
    pub join_kind: JoinKind,
    pub confidence_ppm: i64,
}

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

impl Store {
    /// Calls `each` for every touch in rowid order (the table's own order, so no sort), with
    /// only the columns attribution uses.
    pub fn for_each_attribution_touch(
        &self,
        mut each: impl FnMut(AttributionTouch<'_>),
    ) -> StoreResult<()> {
        let mut statement = self.conn.prepare_cached(
            "SELECT rowid, occurred_at_ms, channel, click_id, person_id, anonymous_id, email_sha256, customer_id,
                    device_id
             FROM touches",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let text = |index: usize| -> rusqlite::Result<Option<&str>> {
                Ok(row.get_ref(index)?.as_str_or_null()?)
            };
            each(AttributionTouch {
                rowid: row.get(0)?,
                occurred_at_ms: row.get(1)?,
                channel: text(2)?.unwrap_or(""),
                click_id: text(3)?,
                person_id: text(4)?,
                anonymous_id: text(5)?,
                email_sha256: text(6)?,
                customer_id: text(7)?,
                device_id: text(8)?,
            });
        }
        Ok(())
    }

    /// Writes a finished run in one transaction and returns its id: the `attribution_runs` row
    /// (status `complete`, finished at `finished_at_ms`), one `run_orders` row per order, the
    /// credits (touch ids looked up by rowid) and the learned channel weights.
    ///
    /// A credit naming an order index outside `orders` or a touch rowid that no longer exists is
    /// an `InvalidValue` error, and nothing is written.
    pub fn write_complete_run(
        &mut self,
        run: &NewRun,
        finished_at_ms: i64,
        orders: &[RunOrder],
        credits: &[RunCredit],
        weights: &[RunChannelWeight],
    ) -> StoreResult<i64> {
        self.ensure_writable()?;
        crate::records::check_currency("run reporting_currency", &run.reporting_currency)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO attribution_runs (model, parameters, lookback_days, settlement_days, reporting_currency,
                                           input_watermark, started_at_ms, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running')",
            params![
                run.model,
                run.parameters,
                run.lookback_days,
                run.settlement_days,
                run.reporting_currency,
                run.input_watermark,
                run.started_at_ms,
            ],
        )?;
        let run_id = tx.last_insert_rowid();
        {
            let mut statement = tx.prepare_cached(
                "INSERT INTO run_orders (run_id, order_id, outcome, net_minor, provisional, join_kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for order in orders {
                statement.execute(params![
                    run_id,
                    order.order_id,
                    order.outcome,
                    order.net_minor,
                    order.provisional,
                    order.join_kind,
                ])?;
            }
        }
        {
            // The text id is copied from the touch row inside the same statement: one rowid
            // lookup per credit instead of holding millions of touch ids in memory.
            let mut statement = tx.prepare_cached(
                "INSERT INTO credits (run_id, order_id, touch_id, share_ppb, revenue_minor, join_kind, confidence_ppm)
                 SELECT ?1, ?2, touch_id, ?4, ?5, ?6, ?7 FROM touches WHERE rowid = ?3",
            )?;
            for credit in credits {
                let order = orders.get(credit.order as usize).ok_or_else(|| StoreError::InvalidValue {
                    field: "credit order",
                    detail: format!("order index {} is outside the run's {} orders", credit.order, orders.len()),
                })?;
                let changed = statement.execute(params![
                    run_id,
                    order.order_id,
                    credit.touch_rowid,
                    credit.share_ppb,
                    credit.revenue_minor,
                    credit.join_kind,
                    credit.confidence_ppm,
                ])?;
                if changed != 1 {
                    return Err(StoreError::InvalidValue {
                        field: "credit touch",
                        detail: format!("no touch with rowid {} (it was deleted during the run)", credit.touch_rowid),
                    });
                }
            }
        }
        {
            let mut statement = tx.prepare_cached(
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
        tx.execute(
            "UPDATE attribution_runs SET status = ?2, finished_at_ms = ?3 WHERE run_id = ?1",
            params![run_id, RunStatus::Complete, finished_at_ms],
        )?;
        tx.commit()?;
        Ok(run_id)
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
        self.conn.execute(
            "INSERT INTO attribution_runs (model, parameters, lookback_days, settlement_days, reporting_currency,
                                           input_watermark, started_at_ms, finished_at_ms, status, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'failed', ?9)",
            params![
                run.model,
                run.parameters,
                run.lookback_days,
                run.settlement_days,
                run.reporting_currency,
                run.input_watermark,
                run.started_at_ms,
                finished_at_ms,
                error,
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
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
        let changed = self.conn.execute(
            "UPDATE run_orders SET provisional = 0
             WHERE run_id = ?1 AND provisional = 1
               AND order_id IN (SELECT order_id FROM orders WHERE occurred_at_ms <= ?2)
               AND order_id NOT IN (SELECT order_id FROM order_adjustments WHERE kind = 'chargeback' AND status = 'open')",
            params![run_id, cutoff],
        )?;
        Ok(changed as u64)
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
