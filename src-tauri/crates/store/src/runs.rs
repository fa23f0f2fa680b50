//! Persistence of attribution runs: the run row, what became of each order, and the credits.
//!
//! A run is keyed by (model, parameters, input watermark). `find_run` returns a complete run
//! with the same key so an unchanged workspace is never attributed twice; a run that failed or
//! never finished is never reused.

use std::borrow::Borrow;

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use crate::{JoinKind, RunOrderOutcome, RunStatus, Store, StoreError, StoreResult};

/// What a new run is about to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub model: String,
    /// Canonical JSON of the model's parameters, as the core crate writes it.
    pub parameters: String,
    pub lookback_days: u32,
    pub settlement_days: u32,
    pub reporting_currency: String,
    /// `Store::input_watermark()` read before the run's inputs were loaded.
    pub input_watermark: String,
    pub started_at_ms: i64,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub run_id: i64,
    pub model: String,
    pub parameters: String,
    pub lookback_days: u32,
    pub settlement_days: u32,
    pub reporting_currency: String,
    pub input_watermark: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub status: RunStatus,
    pub error: Option<String>,
}

/// What became of one order in one run; `net_minor` is in the run's reporting currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOrder {
    pub order_id: String,
    pub outcome: RunOrderOutcome,
    pub net_minor: i64,
    pub provisional: bool,
    pub join_kind: Option<JoinKind>,
}

/// The share of one order's net revenue one touch earned in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub order_id: String,
    pub touch_id: String,
    /// Parts per billion; the shares of one order sum to exactly 1e9.
    pub share_ppb: i64,
    /// Sums to exactly the order's `net_minor` over its credits.
    pub revenue_minor: i64,
    pub join_kind: JoinKind,
    /// 1e6 for deterministic and identity-graph joins; below for probabilistic ones.
    pub confidence_ppm: i64,
}

/// The columns of a [`Run`], in the order [`run_from_row`] reads them.
pub(crate) const RUN_COLUMNS: &str = "run_id, model, parameters, lookback_days, settlement_days, reporting_currency, \
     input_watermark, started_at_ms, finished_at_ms, status, error";

pub(crate) fn run_from_row(row: &Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        run_id: row.get(0)?,
        model: row.get(1)?,
        parameters: row.get(2)?,
        lookback_days: row.get(3)?,
        settlement_days: row.get(4)?,
        reporting_currency: row.get(5)?,
        input_watermark: row.get(6)?,
        started_at_ms: row.get(7)?,
        finished_at_ms: row.get(8)?,
        status: row.get(9)?,
        error: row.get(10)?,
    })
}

/// How a run's row begins.
pub(crate) enum RunRowStart<'a> {
    /// `running`: its results follow; `has_report_totals` when its writer also writes the
    /// report totals in the same transaction.
    Running { has_report_totals: bool },
    /// Already `failed`, with nothing of it written: kept so the failure is on record.
    Failed { finished_at_ms: i64, error: &'a str },
}

/// Inserts a run's row on `conn` (a connection or a transaction) and returns its id.
pub(crate) fn insert_run_row(
    conn: &rusqlite::Connection,
    run: &NewRun,
    start: RunRowStart<'_>,
) -> StoreResult<i64> {
    let (status, has_report_totals, finished_at_ms, error) = match start {
        RunRowStart::Running { has_report_totals } => ("running", has_report_totals, None, None),
        RunRowStart::Failed {
            finished_at_ms,
            error,
        } => ("failed", false, Some(finished_at_ms), Some(error)),
    };
    conn.execute(
        "INSERT INTO attribution_runs (model, parameters, lookback_days, settlement_days, reporting_currency,
                                       input_watermark, started_at_ms, status, has_report_totals, finished_at_ms, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            run.model,
            run.parameters,
            run.lookback_days,
            run.settlement_days,
            run.reporting_currency,
            run.input_watermark,
            run.started_at_ms,
            status,
            has_report_totals,
            finished_at_ms,
            error,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

impl Store {
    /// Records the start of a run (status `running`) and returns its id.
    pub fn insert_run(&mut self, run: &NewRun) -> StoreResult<i64> {
        self.ensure_writable()?;
        crate::records::check_currency("run reporting_currency", &run.reporting_currency)?;
        insert_run_row(
            &self.conn,
            run,
            RunRowStart::Running {
                has_report_totals: false,
            },
        )
    }

    /// Writes a run's credits in one transaction with one cached statement; returns how many.
    /// Accepts owned or borrowed credits, so a caller holding a `Vec<Credit>` passes `&vec`.
    pub fn insert_credits<I>(&mut self, run_id: i64, credits: I) -> StoreResult<u64>
    where
        I: IntoIterator,
        I::Item: Borrow<Credit>,
    {
        self.ensure_writable()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_run_exists(&tx, run_id)?;
        let mut written = 0u64;
        {
            let mut statement = tx.prepare_cached(
                "INSERT INTO credits (run_id, order_id, touch_id, share_ppb, revenue_minor, join_kind, confidence_ppm, touch_row)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT rowid FROM touch_rows WHERE touch_id = ?3))",
            )?;
            for credit in credits {
                let credit = credit.borrow();
                statement.execute(params![
                    run_id,
                    credit.order_id,
                    credit.touch_id,
                    credit.share_ppb,
                    credit.revenue_minor,
                    credit.join_kind,
                    credit.confidence_ppm,
                ])?;
                written += 1;
            }
        }
        tx.commit()?;
        Ok(written)
    }

    /// Writes what became of each order in a run, in one transaction; returns how many.
    pub fn insert_run_orders<I>(&mut self, run_id: i64, orders: I) -> StoreResult<u64>
    where
        I: IntoIterator,
        I::Item: Borrow<RunOrder>,
    {
        self.ensure_writable()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        ensure_run_exists(&tx, run_id)?;
        let mut written = 0u64;
        {
            let mut statement = tx.prepare_cached(
                "INSERT INTO run_orders (run_id, order_id, outcome, net_minor, provisional, join_kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for order in orders {
                let order = order.borrow();
                statement.execute(params![
                    run_id,
                    order.order_id,
                    order.outcome,
                    order.net_minor,
                    order.provisional,
                    order.join_kind,
                ])?;
                written += 1;
            }
        }
        tx.commit()?;
        Ok(written)
    }

    /// Marks a run complete or failed at `finished_at_ms`, with the error for a failed one.
    pub fn finish_run(
        &mut self,
        run_id: i64,
        status: RunStatus,
        finished_at_ms: i64,
        error: Option<&str>,
    ) -> StoreResult<()> {
        self.ensure_writable()?;
        let changed = self.conn.execute(
            "UPDATE attribution_runs SET status = ?2, finished_at_ms = ?3, error = ?4 WHERE run_id = ?1",
            params![run_id, status, finished_at_ms, error],
        )?;
        if changed == 0 {
            return Err(StoreError::RunNotFound { run_id });
        }
        Ok(())
    }

    /// Deletes a run with its credits and orders (e.g. failed or superseded runs).
    pub fn delete_run(&mut self, run_id: i64) -> StoreResult<()> {
        self.ensure_writable()?;
        let changed = self.conn.execute(
            "DELETE FROM attribution_runs WHERE run_id = ?1",
            params![run_id],
        )?;
        if changed == 0 {
            return Err(StoreError::RunNotFound { run_id });
        }
        Ok(())
    }

    /// The latest complete run of `model` with `parameters` over inputs at `input_watermark`.
    pub fn find_run(
        &self,
        model: &str,
        parameters: &str,
        input_watermark: &str,
    ) -> StoreResult<Option<Run>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM attribution_runs
                 WHERE model = ?1 AND parameters = ?2 AND input_watermark = ?3 AND status = 'complete'
                 ORDER BY run_id DESC LIMIT 1"
            ))?
            .query_row(params![model, parameters, input_watermark], run_from_row)
            .optional()?)
    }

    /// One run by id.
    pub fn run(&self, run_id: i64) -> StoreResult<Option<Run>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM attribution_runs WHERE run_id = ?1"
            ))?
            .query_row(params![run_id], run_from_row)
            .optional()?)
    }

    /// Calls `each` for every credit of a run, by order then touch.
    pub fn for_each_credit(&self, run_id: i64, mut each: impl FnMut(Credit)) -> StoreResult<()> {
        let mut statement = self.conn.prepare_cached(
            "SELECT order_id, touch_id, share_ppb, revenue_minor, join_kind, confidence_ppm
             FROM credits WHERE run_id = ?1 ORDER BY order_id, touch_id",
        )?;
        let mut rows = statement.query(params![run_id])?;
        while let Some(row) = rows.next()? {
            each(Credit {
                order_id: row.get(0)?,
                touch_id: row.get(1)?,
                share_ppb: row.get(2)?,
                revenue_minor: row.get(3)?,
                join_kind: row.get(4)?,
                confidence_ppm: row.get(5)?,
            });
        }
        Ok(())
    }

    /// Every credit of a run, by order then touch.
    pub fn credits_for_run(&self, run_id: i64) -> StoreResult<Vec<Credit>> {
        let mut all = Vec::new();
        self.for_each_credit(run_id, |credit| all.push(credit))?;
        Ok(all)
    }

    /// What became of every order in a run, by order id.
    pub fn run_orders(&self, run_id: i64) -> StoreResult<Vec<RunOrder>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT order_id, outcome, net_minor, provisional, join_kind FROM run_orders WHERE run_id = ?1 ORDER BY order_id",
        )?;
        let rows = statement.query_map(params![run_id], |row| {
            Ok(RunOrder {
                order_id: row.get(0)?,
                outcome: row.get(1)?,
                net_minor: row.get(2)?,
                provisional: row.get(3)?,
                join_kind: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// How a query joins a credit `c` to the touch `t` it credits (the `touches` view or
/// `touch_rows`): by the touch's rowid, which each credit carries since 0030 — one descent of the
/// touch table, no touch-id index — or, on a file older than 0030 (a damaged one, opened
/// read-only at its own schema), by touch id.
pub(crate) fn credit_touch_join(conn: &rusqlite::Connection) -> StoreResult<&'static str> {
    Ok(
        if crate::migrations::column_exists(conn, "credits", "touch_row")? {
            "t.rowid = c.touch_row"
        } else {
            "t.touch_id = c.touch_id"
        },
    )
}

fn ensure_run_exists(conn: &rusqlite::Connection, run_id: i64) -> StoreResult<()> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM attribution_runs WHERE run_id = ?1")?
        .exists(params![run_id])?;
    if exists {
        Ok(())
    } else {
        Err(StoreError::RunNotFound { run_id })
    }
}
