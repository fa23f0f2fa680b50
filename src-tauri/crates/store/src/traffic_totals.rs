//! Touches per source, channel, traffic class and family, kept as touches land (migration 0026,
//! issue 12), and the revenue a run credited per source, channel and class, kept per run once it
//! is first asked for. They make the traffic summary (`lookback traffic summary`, the window's
//! traffic table) read a few hundred rows instead of every touch and every credit.
//!
//! Who keeps the touch counts (0026 says why): [`crate::WriteTx`] counts the touches it inserts
//! in a [`TrafficTotalsDelta`] and adds it when it commits; the triggers of 0026 count every
//! change of class, family, source or channel and every delete, whichever code makes it.
//! [`Store::recount_traffic_totals`] counts the same from the touch rows: the tests compare the
//! two.
//!
//! Architecture Invariant: after every committed write, [`Store::traffic_totals`] equals
//! [`Store::recount_traffic_totals`]. A new way of inserting a touch row goes through
//! `WriteTx::insert_touch_row`, which tells the delta.

use std::collections::HashMap;

use lookback_core::traffic::TrafficClass;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::runs::credit_touch_join;
use crate::touch_names::{TouchName, names_by_id};
use crate::traffic::class_of;
use crate::{Store, StoreError, StoreResult};

/// The touches of one source, channel, class and family.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TrafficTotal {
    pub source: String,
    pub channel: String,
    pub class: TrafficClass,
    /// The touch's family in `touch_traffic` (`None` when it has none).
    pub family: Option<String>,
    pub touches: u64,
}

/// The touches one write transaction inserted per (source id, channel id, class), with no
/// family yet, added to `traffic_totals` when it commits.
#[derive(Debug, Default)]
pub(crate) struct TrafficTotalsDelta {
    inserted: HashMap<(i64, i64, i64), i64>,
}

impl TrafficTotalsDelta {
    /// A touch of `source_id` and `channel_id` was inserted with the class of `class_code`.
    pub(crate) fn touch_inserted(&mut self, source_id: i64, channel_id: i64, class_code: i64) {
        *self
            .inserted
            .entry((source_id, channel_id, class_code))
            .or_default() += 1;
    }

    /// Adds what was counted to `traffic_totals` in `tx`, in key order, and forgets it.
    pub(crate) fn flush(&mut self, tx: &Transaction<'_>) -> StoreResult<()> {
        if self.inserted.is_empty() {
            return Ok(());
        }
        let mut inserted: Vec<((i64, i64, i64), i64)> = self.inserted.drain().collect();
        inserted.sort_unstable();
        let mut statement = tx.prepare_cached(
            "INSERT INTO traffic_totals (source_id, channel_id, traffic_class, family, touches)
             VALUES (?1, ?2, ?3, '', ?4)
             ON CONFLICT (source_id, channel_id, traffic_class, family)
             DO UPDATE SET touches = touches + excluded.touches",
        )?;
        for ((source_id, channel_id, class_code), touches) in inserted {
            statement.execute(params![source_id, channel_id, class_code, touches])?;
        }
        Ok(())
    }
}

/// The maintained touch counts (rows whose count went back to zero are left by the triggers
/// and skipped here).
const TRAFFIC_TOTALS_SQL: &str = "SELECT source_id, channel_id, traffic_class, family, touches FROM traffic_totals WHERE touches <> 0";

/// The same counted from the touch rows.
const TRAFFIC_RECOUNT_SQL: &str =
    "SELECT t.source_id, t.channel_id, t.traffic_class, COALESCE(f.family, ''), COUNT(*)
     FROM touch_rows t LEFT JOIN touch_traffic f ON f.touch_id = t.touch_id
     GROUP BY 1, 2, 3, 4";

/// The join a run's credit per source, channel and class is first computed with, the credits
/// joined to their touches by `credit_touch` (see `credit_touch_join`).
pub(crate) fn run_traffic_credits_sql(credit_touch: &str) -> String {
    format!(
        "SELECT t.source_id, t.channel_id, t.traffic_class, SUM(c.revenue_minor)
         FROM credits c JOIN touch_rows t ON {credit_touch}
         WHERE c.run_id = ?1 GROUP BY t.source_id, t.channel_id, t.traffic_class"
    )
}

/// A run's credit per (source id, channel id, class code).
type IdCredits = Vec<(i64, i64, i64, i64)>;

impl Store {
    /// Touches per source, channel, class and family as 0026 keeps them (recounted on a file
    /// older than 0026), sorted.
    pub fn traffic_totals(&self) -> StoreResult<Vec<TrafficTotal>> {
        if self.has_traffic_totals()? {
            self.traffic_totals_from(TRAFFIC_TOTALS_SQL)
        } else {
            self.recount_traffic_totals()
        }
    }

    /// [`Store::traffic_totals`] counted from the touch rows: one pass over every touch. For
    /// checking the totals, never for showing them.
    pub fn recount_traffic_totals(&self) -> StoreResult<Vec<TrafficTotal>> {
        self.traffic_totals_from(TRAFFIC_RECOUNT_SQL)
    }

    fn traffic_totals_from(&self, sql: &str) -> StoreResult<Vec<TrafficTotal>> {
        let sources = names_by_id(&self.conn, TouchName::Source)?;
        let channels = names_by_id(&self.conn, TouchName::Channel)?;
        let mut statement = self.conn.prepare(sql)?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?;
        let mut totals = Vec::new();
        for row in rows {
            let (source_id, channel_id, code, family, touches) = row?;
            let touches = u64::try_from(touches).map_err(|_| StoreError::InvalidValue {
                field: "traffic_totals.touches",
                detail: format!("{touches} touches is below zero"),
            })?;
            totals.push(TrafficTotal {
                source: sources.get(&source_id).cloned().unwrap_or_default(),
                channel: channels.get(&channel_id).cloned().unwrap_or_default(),
                class: class_of(code)?,
                family: Some(family).filter(|f| !f.is_empty()),
                touches,
            });
        }
        totals.sort();
        Ok(totals)
    }

    /// Whether the file has 0026's tables (a workspace opened read-only at an older schema does
    /// not).
    pub(crate) fn has_traffic_totals(&self) -> StoreResult<bool> {
        crate::migrations::table_exists(&self.conn, "traffic_totals")
    }

    /// Revenue `run_id` credited per source id, channel id and class code of the credited
    /// touch: its kept row, else the join of its credits with their touches, kept for next
    /// time when the workspace is writable.
    pub(crate) fn run_traffic_credit_ids(&mut self, run_id: i64) -> StoreResult<IdCredits> {
        if !self.has_traffic_totals()? {
            return self.join_run_traffic_credits(run_id);
        }
        let kept: Option<String> = self
            .conn
            .prepare_cached("SELECT payload FROM run_traffic_credits WHERE run_id = ?1")?
            .query_row([run_id], |row| row.get(0))
            .optional()?;
        if let Some(payload) = kept {
            return decode_credits(run_id, &payload);
        }
        let credits = self.join_run_traffic_credits(run_id)?;
        if self.ensure_writable().is_ok() {
            // Only for a run that exists (the foreign key would refuse another).
            self.conn
                .prepare_cached(
                    "INSERT INTO run_traffic_credits (run_id, payload)
                     SELECT run_id, ?2 FROM attribution_runs WHERE run_id = ?1
                     ON CONFLICT (run_id) DO NOTHING",
                )?
                .execute(params![run_id, encode_credits(&credits)])?;
        }
        Ok(credits)
    }

    fn join_run_traffic_credits(&self, run_id: i64) -> StoreResult<IdCredits> {
        let mut statement = self
            .conn
            .prepare_cached(&run_traffic_credits_sql(credit_touch_join(&self.conn)?))?;
        let rows = statement.query_map([run_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// `credits` as `run_traffic_credits.payload`: a line of `source_id channel_id class revenue`
/// each.
fn encode_credits(credits: &IdCredits) -> String {
    let mut payload = String::new();
    for (source_id, channel_id, code, minor) in credits {
        payload.push_str(&format!("{source_id} {channel_id} {code} {minor}\n"));
    }
    payload
}

fn decode_credits(run_id: i64, payload: &str) -> StoreResult<IdCredits> {
    let bad = |line: usize| StoreError::InvalidValue {
        field: "run_traffic_credits.payload",
        detail: format!("run {run_id}, line {}: not four whole numbers", line + 1),
    };
    let mut credits = Vec::new();
    for (index, line) in payload.lines().enumerate() {
        let numbers: Vec<i64> = line
            .split(' ')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| bad(index))?;
        let [source_id, channel_id, code, minor] = numbers[..] else {
            return Err(bad(index));
        };
        credits.push((source_id, channel_id, code, minor));
    }
    Ok(credits)
}
