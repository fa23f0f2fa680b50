//! What the attribution engine needs from the store beyond the general loaders: a lean streaming
//! read of touches (no allocation per row for the columns it only looks at), and writing a whole
//! run — row, per-order outcomes, credits and learned weights — in one transaction.
//!
//! Architecture Invariant: a run becomes visible complete or not at all. [`Store::write_complete_run`]
//! inserts the run row, its orders, credits and weights and marks it `complete` inside one
//! immediate transaction; any error rolls all of it back, so `find_run` never returns half a run.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::{CreditGrouping, JoinKind, NewRun, RunOrder, RunStatus, Store, StoreError, StoreResult};

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
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let settling: Vec<String> = {
            let mut statement = tx.prepare_cached(
                "SELECT order_id FROM run_orders
                 WHERE run_id = ?1 AND provisional = 1
                   AND order_id IN (SELECT order_id FROM orders WHERE occurred_at_ms <= ?2)
                   AND order_id NOT IN (SELECT order_id FROM order_adjustments WHERE kind = 'chargeback' AND status = 'open')",
            )?;
            let rows = statement.query_map(params![run_id, cutoff], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        if settling.is_empty() {
            return Ok(0);
        }
        {
            let mut statement =
                tx.prepare_cached("UPDATE run_orders SET provisional = 0 WHERE run_id = ?1 AND order_id = ?2")?;
            for order_id in &settling {
                statement.execute(params![run_id, order_id])?;
            }
        }
        let has_totals: bool = tx
            .prepare_cached("SELECT has_report_totals FROM attribution_runs WHERE run_id = ?1")?
            .query_row(params![run_id], |row| row.get(0))
            .optional()?
            .unwrap_or(false);
        if has_totals && !move_settled_totals(&tx, run_id, &settling)? {
            // Totals that cannot be moved exactly are dropped: reports fall back to the exact
            // joins for this run, which are slower but never wrong.
            tx.execute("DELETE FROM run_credit_totals WHERE run_id = ?1", params![run_id])?;
            tx.execute("UPDATE attribution_runs SET has_report_totals = 0 WHERE run_id = ?1", params![run_id])?;
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

/// One order of a run as [`Store::write_complete_run_with_totals`] writes it: the outcome plus
/// the order's instant and currency as the run saw them, so order totals need no join later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedRunOrder {
    pub order: RunOrder,
    pub occurred_at_ms: i64,
    /// The order's own currency (what a `missing_fx` total is in).
    pub currency: String,
}

/// A credit naming its touch by text id (the engine keeps the ids of journey touches), for
/// [`Store::write_complete_run_with_totals`]; `order` indexes the run's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedRunCredit<'a> {
    pub order: u32,
    pub touch_id: &'a str,
    pub share_ppb: i64,
    pub revenue_minor: i64,
    pub join_kind: JoinKind,
    pub confidence_ppm: i64,
}

/// A run's credits summed over one report key, one order day and one provisional flag (a row of
/// `run_credit_totals`). The day is the half-open instant range of the order's day in the run's
/// reporting zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCreditTotal {
    /// Channel, creator, campaign or content (order totals come from `run_orders` itself).
    pub grouping: CreditGrouping,
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

/// The report keys of one touch, read by rowid for the touches of journeys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchReportKeys {
    pub rowid: i64,
    pub touch_id: String,
    pub creator_id: Option<String>,
    pub campaign_id: Option<String>,
    pub content_id: Option<String>,
}

impl CreditGrouping {
    /// The stored name of a grouping in `run_credit_totals` (`None` for order, which has none).
    pub(crate) fn totals_name(self) -> Option<&'static str> {
        match self {
            CreditGrouping::Channel => Some("channel"),
            CreditGrouping::Creator => Some("creator"),
            CreditGrouping::Campaign => Some("campaign"),
            CreditGrouping::Content => Some("content"),
            CreditGrouping::Order => None,
        }
    }
}

impl Store {
    /// The cached journeys stored for exactly this watermark, lookback and probabilistic setting
    /// in `format`, if any. A row in another format is treated as absent.
    pub fn journey_cache(
        &self,
        input_watermark: &str,
        lookback_days: u32,
        probabilistic: bool,
        format: i64,
    ) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT payload FROM journey_cache
                 WHERE input_watermark = ?1 AND lookback_days = ?2 AND probabilistic = ?3 AND format = ?4",
            )?
            .query_row(params![input_watermark, lookback_days, probabilistic, format], |row| row.get(0))
            .optional()?)
    }

    /// Stores the journeys of `input_watermark` (replacing a row with the same key) and deletes
    /// every cache row of another watermark: the watermark only grows, so those are never read.
    pub fn put_journey_cache(
        &mut self,
        input_watermark: &str,
        lookback_days: u32,
        probabilistic: bool,
        format: i64,
        created_at_ms: i64,
        payload: &[u8],
    ) -> StoreResult<()> {
        self.ensure_writable()?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM journey_cache WHERE input_watermark <> ?1", params![input_watermark])?;
        tx.execute(
            "INSERT OR REPLACE INTO journey_cache (input_watermark, lookback_days, probabilistic, format, created_at_ms, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![input_watermark, lookback_days, probabilistic, format, created_at_ms, payload],
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

    /// The text id and report keys of the touches with these rowids, in the order given; sorted
    /// rowids make this a near-sequential walk of the table. A rowid that no longer exists is an
    /// `InvalidValue` error (the touch was deleted during the run).
    pub fn touch_report_keys(&self, rowids: &[i64]) -> StoreResult<Vec<TouchReportKeys>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT touch_id, creator_id, campaign_id, content_id FROM touches WHERE rowid = ?1",
        )?;
        let mut found = Vec::with_capacity(rowids.len());
        for &rowid in rowids {
            let keys = statement
                .query_row(params![rowid], |row| {
                    Ok(TouchReportKeys {
                        rowid,
                        touch_id: row.get(0)?,
                        creator_id: row.get(1)?,
                        campaign_id: row.get(2)?,
                        content_id: row.get(3)?,
                    })
                })
                .optional()?
                .ok_or_else(|| StoreError::InvalidValue {
                    field: "credit touch",
                    detail: format!("no touch with rowid {rowid} (it was deleted during the run)"),
                })?;
            found.push(keys);
        }
        Ok(found)
    }

    /// [`Store::write_complete_run`] for a run that also carries its report totals: the run row
    /// (marked as having them), its orders with their instant and currency, its credits by touch
    /// id, its weights and its `run_credit_totals`, in one immediate transaction.
    ///
    /// Orders and credits are inserted sorted by their primary keys, so every index insert lands
    /// at the end of the new run's range instead of on a random page.
    pub fn write_complete_run_with_totals(
        &mut self,
        run: &NewRun,
        finished_at_ms: i64,
        orders: &[ReportedRunOrder],
        credits: &[NamedRunCredit<'_>],
        weights: &[RunChannelWeight],
        totals: &[RunCreditTotal],
    ) -> StoreResult<i64> {
        self.ensure_writable()?;
        crate::records::check_currency("run reporting_currency", &run.reporting_currency)?;
        for credit in credits {
            if credit.order as usize >= orders.len() {
                return Err(StoreError::InvalidValue {
                    field: "credit order",
                    detail: format!("order index {} is outside the run's {} orders", credit.order, orders.len()),
                });
            }
        }
        check_report_conservation(orders, credits)?;
        let mut order_sequence: Vec<u32> = (0..orders.len() as u32).collect();
        order_sequence.sort_unstable_by(|&a, &b| orders[a as usize].order.order_id.cmp(&orders[b as usize].order.order_id));
        let mut credit_sequence: Vec<u32> = (0..credits.len() as u32).collect();
        credit_sequence.sort_unstable_by(|&a, &b| {
            let (a, b) = (&credits[a as usize], &credits[b as usize]);
            let order_a = &orders[a.order as usize].order.order_id;
            let order_b = &orders[b.order as usize].order.order_id;
            order_a.as_bytes().cmp(order_b.as_bytes()).then_with(|| a.touch_id.as_bytes().cmp(b.touch_id.as_bytes()))
        });

        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO attribution_runs (model, parameters, lookback_days, settlement_days, reporting_currency,
                                           input_watermark, started_at_ms, status, has_report_totals)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', 1)",
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
                "INSERT INTO run_orders (run_id, order_id, outcome, net_minor, provisional, join_kind, occurred_at_ms, order_currency)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for &index in &order_sequence {
                let item = &orders[index as usize];
                let order = &item.order;
                statement.execute(params![
                    run_id,
                    order.order_id,
                    order.outcome,
                    order.net_minor,
                    order.provisional,
                    order.join_kind,
                    item.occurred_at_ms,
                    item.currency,
                ])?;
            }
        }
        {
            let mut statement = tx.prepare_cached(
                "INSERT INTO credits (run_id, order_id, touch_id, share_ppb, revenue_minor, join_kind, confidence_ppm)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for &index in &credit_sequence {
                let credit = &credits[index as usize];
                statement.execute(params![
                    run_id,
                    orders[credit.order as usize].order.order_id,
                    credit.touch_id,
                    credit.share_ppb,
                    credit.revenue_minor,
                    credit.join_kind,
                    credit.confidence_ppm,
                ])?;
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
        {
            let mut statement = tx.prepare_cached(
                "INSERT INTO run_credit_totals (run_id, grouping, key, day_start_ms, day_end_ms, provisional, credits,
                                                share_ppb, revenue_minor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for total in totals {
                let grouping = total.grouping.totals_name().ok_or_else(|| StoreError::InvalidValue {
                    field: "run credit total",
                    detail: "order totals are read from run_orders, not stored".to_owned(),
                })?;
                statement.execute(params![
                    run_id,
                    grouping,
                    total.key,
                    total.day_start_ms,
                    total.day_end_ms,
                    total.provisional,
                    total.credits as i64,
                    total.share_ppb,
                    total.revenue_minor,
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
}

/// Moves the credits of orders that just settled from their provisional buckets of
/// `run_credit_totals` to the settled ones. Returns `false` if a credit's bucket is not where it
/// must be (the totals no longer match the credits), in which case the caller drops the totals.
fn move_settled_totals(tx: &rusqlite::Transaction<'_>, run_id: i64, settling: &[String]) -> StoreResult<bool> {
    use std::collections::BTreeMap;
    // (grouping, key, order instant) → (credits, share, revenue): one bucket lookup per group.
    let mut moved: BTreeMap<(&'static str, Option<String>, i64), (i64, i64, i64)> = BTreeMap::new();
    {
        let mut statement = tx.prepare_cached(
            "SELECT t.channel, t.creator_id, t.campaign_id, t.content_id, o.occurred_at_ms, c.share_ppb, c.revenue_minor
             FROM credits c
             JOIN orders o ON o.order_id = c.order_id
             JOIN touches t ON t.touch_id = c.touch_id
             WHERE c.run_id = ?1 AND c.order_id = ?2",
        )?;
        for order_id in settling {
            let mut rows = statement.query(params![run_id, order_id])?;
            while let Some(row) = rows.next()? {
                let at: i64 = row.get(4)?;
                let (share, revenue): (i64, i64) = (row.get(5)?, row.get(6)?);
                for (index, name) in [(0, "channel"), (1, "creator"), (2, "campaign"), (3, "content")] {
                    let key: Option<String> = row.get(index)?;
                    let sums = moved.entry((name, key, at)).or_default();
                    sums.0 += 1;
                    sums.1 += share;
                    sums.2 += revenue;
                }
            }
        }
    }
    let mut find = tx.prepare_cached(
        "SELECT rowid, day_start_ms, day_end_ms, credits FROM run_credit_totals
         WHERE run_id = ?1 AND grouping = ?2 AND key IS ?3 AND provisional = ?4
           AND day_start_ms <= ?5 AND day_end_ms > ?5",
    )?;
    let mut subtract = tx.prepare_cached(
        "UPDATE run_credit_totals SET credits = credits - ?2, share_ppb = share_ppb - ?3, revenue_minor = revenue_minor - ?4
         WHERE rowid = ?1",
    )?;
    let mut delete = tx.prepare_cached("DELETE FROM run_credit_totals WHERE rowid = ?1")?;
    let mut add = tx.prepare_cached(
        "UPDATE run_credit_totals SET credits = credits + ?2, share_ppb = share_ppb + ?3, revenue_minor = revenue_minor + ?4
         WHERE rowid = ?1",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO run_credit_totals (run_id, grouping, key, day_start_ms, day_end_ms, provisional, credits, share_ppb,
                                        revenue_minor)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8)",
    )?;
    for ((name, key, at), (credits, share, revenue)) in moved {
        let source: Option<(i64, i64, i64, i64)> = find
            .query_row(params![run_id, name, key, true, at], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .optional()?;
        let Some((rowid, day_start, day_end, held)) = source else { return Ok(false) };
        if held < credits {
            return Ok(false);
        }
        if held == credits {
            delete.execute(params![rowid])?;
        } else {
            subtract.execute(params![rowid, credits, share, revenue])?;
        }
        let target: Option<i64> =
            find.query_row(params![run_id, name, key, false, at], |row| row.get(0)).optional()?;
        match target {
            Some(rowid) => add.execute(params![rowid, credits, share, revenue])?,
            None => insert.execute(params![run_id, name, key, day_start, day_end, credits, share, revenue])?,
        };
    }
    Ok(true)
}

/// The by-order report of a run with totals is read from `run_orders` alone, which is exact only
/// if every attributed order's credits sum to one whole share and its net revenue and no other
/// order has credits. The engine guarantees it; this makes the store refuse anything else.
fn check_report_conservation(orders: &[ReportedRunOrder], credits: &[NamedRunCredit<'_>]) -> StoreResult<()> {
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
                    if attributed { "attributed" } else { "not attributed" }
                ),
            });
        }
    }
    Ok(())
}
