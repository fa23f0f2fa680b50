//! Whole-workspace totals (issue 12): row counts, money per figure and currency, the same
//! money per 15-minute slot (revenue) or day (ad spend) so the overview can convert it at each
//! day's rate (0018, issue 13), and per
//! source the raw events, distinct records, latest arrival and unresolved dead letters, kept as
//! data lands so the overview, each source's freshness and the duplicate counts read a few dozen
//! rows however large the workspace grows. [`Store::recount_totals`] computes the same figures
//! from the base tables with the aggregate queries the overview used to run: the tests and
//! `lookback check` compare the two.
//!
//! Who keeps them (migration 0016 says why): rows enter the counted tables only through
//! [`crate::WriteTx`], which adds up what it inserted in a `TotalsDelta` and writes that in
//! the same transaction when it commits; the triggers of 0016 and 0018 count every update and delete,
//! whichever code makes it. Both only ever add signed amounts, so a row inserted and then
//! restated in one transaction (the trigger's part written first, the insert's at commit) ends
//! counted once.
//!
//! Architecture Invariant: after every committed write, [`Store::totals`] equals
//! [`Store::recount_totals`]. A new insert into a counted table goes through `WriteTx` and
//! tells its `TotalsDelta`; a change of what is counted (such as [`COUNTED_ADJUSTMENT`]) needs a
//! new migration. A workspace opened read-only at a schema older than 0016 (a damaged file) has
//! no totals and is recounted.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use crate::read::COUNTED_ADJUSTMENT;
use crate::{MoneyFigure, Store, StoreError, StoreResult};

/// The whole workspace in a few numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceTotals {
    pub touches: u64,
    pub creators: u64,
    pub campaigns: u64,
    pub content: u64,
    /// Every figure and currency with rows, sorted by figure then currency.
    pub money: Vec<MoneyTotal>,
    /// Every source name with raw events or unresolved dead letters, sorted; registered or not.
    pub sources: Vec<SourceTotal>,
    /// Ad spend per currency and day (the spend row's own day), sorted by currency then day;
    /// the same money as the `AdSpend` figure of `money`, split by day.
    pub ad_spend_days: Vec<SpendDay>,
    /// Order gross and counted refunds and chargebacks per currency and 15-minute slot of
    /// their own instant, sorted by figure, currency, slot; the `OrderGross`, `Refunds` and
    /// `Chargebacks` figures of `money`, split by time.
    pub revenue_slots: Vec<RevenueSlot>,
    /// The earliest and latest touch instants (`None` without touches), kept by migration 0025
    /// instead of a time index over every touch.
    pub touch_span_ms: (Option<i64>, Option<i64>),
}

/// The length of a [`RevenueSlot`]: a quarter hour, by which every zone in use today is offset
/// from UTC, so no slot straddles a reporting day.
pub const SLOT_MS: i64 = 15 * 60 * 1000;

/// The slot of an instant: `floor(at_ms / SLOT_MS)`.
pub fn slot_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(SLOT_MS)
}

/// One money figure of one currency in one 15-minute slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueSlot {
    pub figure: MoneyFigure,
    pub currency: String,
    /// Starts at `slot * SLOT_MS`.
    pub slot: i64,
    pub rows: u64,
    pub amount_minor: i64,
}

/// The ad spend of one currency on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendDay {
    pub currency: String,
    /// `YYYY-MM-DD`, as the spend rows carry it.
    pub day: String,
    pub rows: u64,
    pub amount_minor: i64,
}

/// One figure of one currency: the rows it sums and their sum, in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyTotal {
    pub figure: MoneyFigure,
    pub currency: String,
    pub rows: u64,
    pub amount_minor: i64,
}

/// What one source name brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTotal {
    pub source: String,
    /// Raw events stored, every version.
    pub raw_events: u64,
    /// Distinct (stream, external id) records among them; the rest are restatements.
    pub raw_records: u64,
    pub last_received_at_ms: Option<i64>,
    pub unresolved_dead_letters: u64,
}

impl WorkspaceTotals {
    /// Where `self` (the maintained totals) and `recounted` differ, one line each; empty when
    /// they agree.
    pub fn differences(&self, recounted: &WorkspaceTotals) -> Vec<String> {
        let mut found = Vec::new();
        for (name, kept, counted) in [
            ("touches", self.touches, recounted.touches),
            ("creators", self.creators, recounted.creators),
            ("campaigns", self.campaigns, recounted.campaigns),
            ("content", self.content, recounted.content),
        ] {
            if kept != counted {
                found.push(format!("{name}: total {kept}, recount {counted}"));
            }
        }
        let money = |totals: &WorkspaceTotals| {
            totals
                .money
                .iter()
                .map(|m| ((m.figure, m.currency.clone()), (m.rows, m.amount_minor)))
                .collect::<BTreeMap<_, _>>()
        };
        if self.touch_span_ms != recounted.touch_span_ms {
            found.push(format!(
                "touch span: total {:?}, recount {:?}",
                self.touch_span_ms, recounted.touch_span_ms
            ));
        }
        for ((figure, currency), kept, counted) in both_sides(money(self), money(recounted)) {
            if kept != counted {
                let show = |v: Option<(u64, i64)>| {
                    v.map_or("none".to_string(), |(rows, sum)| {
                        format!("{sum} over {rows} rows")
                    })
                };
                found.push(format!(
                    "{figure} in {currency}: total {}, recount {}",
                    show(kept),
                    show(counted)
                ));
            }
        }
        let days = |totals: &WorkspaceTotals| {
            totals
                .ad_spend_days
                .iter()
                .map(|d| {
                    (
                        (d.currency.clone(), d.day.clone()),
                        (d.rows, d.amount_minor),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        };
        for ((currency, day), kept, counted) in both_sides(days(self), days(recounted)) {
            if kept != counted {
                let show = |v: Option<(u64, i64)>| {
                    v.map_or("none".to_string(), |(rows, sum)| {
                        format!("{sum} over {rows} rows")
                    })
                };
                found.push(format!(
                    "ad spend in {currency} on {day}: total {}, recount {}",
                    show(kept),
                    show(counted)
                ));
            }
        }
        let slots = |totals: &WorkspaceTotals| {
            totals
                .revenue_slots
                .iter()
                .map(|r| {
                    (
                        (r.figure, r.currency.clone(), r.slot),
                        (r.rows, r.amount_minor),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        };
        for ((figure, currency, slot), kept, counted) in both_sides(slots(self), slots(recounted)) {
            if kept != counted {
                let show = |v: Option<(u64, i64)>| {
                    v.map_or("none".to_string(), |(rows, sum)| {
                        format!("{sum} over {rows} rows")
                    })
                };
                found.push(format!(
                    "{figure} in {currency} in slot {slot}: total {}, recount {}",
                    show(kept),
                    show(counted)
                ));
            }
        }
        let sources = |totals: &WorkspaceTotals| {
            totals
                .sources
                .iter()
                .map(|s| (s.source.clone(), s.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        for (source, kept, counted) in both_sides(sources(self), sources(recounted)) {
            if kept != counted {
                let show = |v: Option<SourceTotal>| {
                    v.map_or("none".to_string(), |s| {
                        format!(
                            "{} raw events, {} records, last received {:?}, {} unresolved dead letters",
                            s.raw_events,
                            s.raw_records,
                            s.last_received_at_ms,
                            s.unresolved_dead_letters
                        )
                    })
                };
                found.push(format!(
                    "source {source}: total {}, recount {}",
                    show(kept),
                    show(counted)
                ));
            }
        }
        found
    }

    /// The figure's rows of every currency, in currency order.
    pub fn money_of(&self, figure: MoneyFigure) -> impl Iterator<Item = &MoneyTotal> {
        self.money.iter().filter(move |m| m.figure == figure)
    }
}

/// Every key of either map with its value on each side.
fn both_sides<K: Ord, V>(
    mut left: BTreeMap<K, V>,
    right: BTreeMap<K, V>,
) -> Vec<(K, Option<V>, Option<V>)> {
    let mut all: Vec<(K, Option<V>, Option<V>)> = right
        .into_iter()
        .map(|(key, value)| {
            let kept = left.remove(&key);
            (key, kept, Some(value))
        })
        .collect();
    all.extend(
        left.into_iter()
            .map(|(key, value)| (key, Some(value), None)),
    );
    all
}

fn money_row(row: &Row<'_>) -> rusqlite::Result<MoneyTotal> {
    Ok(MoneyTotal {
        figure: row.get(0)?,
        currency: row.get(1)?,
        rows: row.get::<_, i64>(2)? as u64,
        amount_minor: row.get(3)?,
    })
}

fn spend_day_row(row: &Row<'_>) -> rusqlite::Result<SpendDay> {
    Ok(SpendDay {
        currency: row.get(0)?,
        day: row.get(1)?,
        rows: row.get::<_, i64>(2)? as u64,
        amount_minor: row.get(3)?,
    })
}

fn revenue_slot_row(row: &Row<'_>) -> rusqlite::Result<RevenueSlot> {
    Ok(RevenueSlot {
        figure: row.get(0)?,
        currency: row.get(1)?,
        slot: row.get(2)?,
        rows: row.get::<_, i64>(3)? as u64,
        amount_minor: row.get(4)?,
    })
}

/// Revenue per figure, currency and slot, recounted from orders and order_adjustments: an
/// adjustment at its order's instant, or its own while its order is not stored (the slot
/// expression and the rule are migration 0018's).
fn revenue_slots_recount() -> String {
    format!(
        "SELECT 'order', currency, occurred_at_ms / 900000 - (occurred_at_ms % 900000 < 0), COUNT(*), SUM(gross_minor)
           FROM orders GROUP BY 1, 2, 3
         UNION ALL
         SELECT kind, currency, t / 900000 - (t % 900000 < 0), COUNT(*), SUM(amount_minor)
           FROM (SELECT a.kind, a.currency, a.amount_minor, COALESCE(o.occurred_at_ms, a.occurred_at_ms) AS t
                   FROM (SELECT * FROM order_adjustments WHERE {COUNTED_ADJUSTMENT}) a
                   LEFT JOIN orders o ON o.order_id = a.order_id)
          GROUP BY 1, 2, 3
         ORDER BY 1, 2, 3"
    )
}

/// Ad spend per currency and day, recounted from ad_spend.
const SPEND_DAYS_RECOUNT: &str = "SELECT currency, day, COUNT(*), SUM(spend_minor) FROM ad_spend
     GROUP BY currency, day ORDER BY currency, day";

fn source_row(row: &Row<'_>) -> rusqlite::Result<SourceTotal> {
    Ok(SourceTotal {
        source: row.get(0)?,
        raw_events: row.get::<_, i64>(1)? as u64,
        raw_records: row.get::<_, i64>(2)? as u64,
        last_received_at_ms: row.get(3)?,
        unresolved_dead_letters: row.get::<_, i64>(4)? as u64,
    })
}

/// The maintained source totals. A row whose counts all went back to zero (its raw events
/// erased, its dead letters resolved) is left in place by the triggers and skipped here.
const SOURCE_TOTALS: &str = "SELECT source, raw_events, raw_records, last_received_at_ms, unresolved_dead_letters
     FROM source_totals
     WHERE raw_events <> 0 OR raw_records <> 0 OR last_received_at_ms IS NOT NULL OR unresolved_dead_letters <> 0
     ORDER BY source";

/// The source totals recounted from raw_events and dead_letters.
const SOURCE_RECOUNT: &str = "SELECT source, SUM(raw_events), SUM(raw_records), MAX(last_received_at_ms), SUM(unresolved)
     FROM (SELECT source, SUM(versions) AS raw_events, COUNT(*) AS raw_records,
                  MAX(last_received_at_ms) AS last_received_at_ms, 0 AS unresolved
             FROM (SELECT source, COUNT(*) AS versions, MAX(received_at_ms) AS last_received_at_ms
                     FROM raw_events GROUP BY source, stream, external_id)
            GROUP BY source
           UNION ALL
           SELECT source, 0, 0, NULL, COUNT(*) FROM dead_letters WHERE resolved_at_ms IS NULL GROUP BY source)
     GROUP BY source ORDER BY source";

impl Store {
    /// The whole-workspace totals as the triggers keep them (recounted on a workspace too old
    /// to have them).
    pub fn totals(&self) -> StoreResult<WorkspaceTotals> {
        if !self.has_maintained_totals()? {
            return self.recount_totals();
        }
        let mut totals = WorkspaceTotals {
            money: self.collect(
                "SELECT figure, currency, rows, amount_minor FROM money_totals
                 WHERE rows <> 0 OR amount_minor <> 0 ORDER BY figure, currency",
                [],
                money_row,
            )?,
            sources: self.collect(SOURCE_TOTALS, [], source_row)?,
            ad_spend_days: self.ad_spend_days()?,
            revenue_slots: self.revenue_slots()?,
            touch_span_ms: self.touch_span_ms()?,
            ..WorkspaceTotals::default()
        };
        let rows = self.collect("SELECT table_name, rows FROM table_rows", [], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)? as u64))
        })?;
        for (table, n) in rows {
            match table.as_str() {
                "touches" => totals.touches = n,
                "creators" => totals.creators = n,
                "campaigns" => totals.campaigns = n,
                "content" => totals.content = n,
                _ => {}
            }
        }
        Ok(totals)
    }

    /// The per-source part of [`Store::totals`].
    pub fn source_totals(&self) -> StoreResult<Vec<SourceTotal>> {
        if self.has_maintained_totals()? {
            self.collect(SOURCE_TOTALS, [], source_row)
        } else {
            self.collect(SOURCE_RECOUNT, [], source_row)
        }
    }

    /// The same figures as [`Store::totals`], counted from the base tables: one scan of each.
    /// Slow on a large workspace; for checking the totals, never for showing them.
    pub fn recount_totals(&self) -> StoreResult<WorkspaceTotals> {
        let money = self.collect(
            &format!(
                "SELECT 'order', currency, COUNT(*), SUM(gross_minor) FROM orders GROUP BY currency
                 UNION ALL
                 SELECT kind, currency, COUNT(*), SUM(amount_minor) FROM order_adjustments
                  WHERE {COUNTED_ADJUSTMENT} GROUP BY kind, currency
                 UNION ALL
                 SELECT 'ad_spend', currency, COUNT(*), SUM(spend_minor) FROM ad_spend GROUP BY currency
                 UNION ALL
                 SELECT 'creator_cost', currency, COUNT(*), SUM(amount_minor) FROM creator_costs GROUP BY currency
                 ORDER BY 1, 2"
            ),
            [],
            money_row,
        )?;
        let count = |table: &str| self.count(&format!("SELECT COUNT(*) FROM {table}"));
        Ok(WorkspaceTotals {
            touches: count("touches")?,
            creators: count("creators")?,
            campaigns: count("campaigns")?,
            content: count("content")?,
            money,
            sources: self.recount_sources()?,
            ad_spend_days: self.collect(SPEND_DAYS_RECOUNT, [], spend_day_row)?,
            revenue_slots: self.collect(&revenue_slots_recount(), [], revenue_slot_row)?,
            touch_span_ms: self.recount_touch_span_ms()?,
        })
    }

    /// The source totals counted from raw_events rows, raw-event blocks (decoded: see
    /// `raw_blocks`) and dead letters. A record's versions are rows or blocked, never both.
    fn recount_sources(&self) -> StoreResult<Vec<SourceTotal>> {
        let mut sources = self.collect(SOURCE_RECOUNT, [], source_row)?;
        for (source, blocked) in self.recount_blocked_events()? {
            let at = match sources.binary_search_by(|s| s.source.as_str().cmp(&source)) {
                Ok(at) => at,
                Err(at) => {
                    sources.insert(
                        at,
                        SourceTotal {
                            source,
                            raw_events: 0,
                            raw_records: 0,
                            last_received_at_ms: None,
                            unresolved_dead_letters: 0,
                        },
                    );
                    at
                }
            };
            let total = &mut sources[at];
            total.raw_events += blocked.events;
            total.raw_records += blocked.records;
            total.last_received_at_ms = total.last_received_at_ms.max(blocked.last_received_at_ms);
        }
        Ok(sources)
    }

    /// Revenue per figure, currency and 15-minute slot as 0018 keeps it (recounted on a file
    /// older than 0018). One row per slot with orders, refunds or chargebacks in a currency:
    /// bounded by the time the data spans, not by how many orders it holds.
    pub fn revenue_slots(&self) -> StoreResult<Vec<RevenueSlot>> {
        if !self.has_table("revenue_slots")? {
            return self.collect(&revenue_slots_recount(), [], revenue_slot_row);
        }
        self.collect(
            "SELECT figure, currency, slot, rows, amount_minor FROM revenue_slots
             WHERE rows <> 0 OR amount_minor <> 0 ORDER BY figure, currency, slot",
            [],
            revenue_slot_row,
        )
    }

    /// [`Store::revenue_slots`] one row at a time, without an allocation per row: `each` gets
    /// the figure, currency, slot, rows and amount, in figure, currency, slot order.
    pub fn for_each_revenue_slot(
        &self,
        mut each: impl FnMut(MoneyFigure, &str, i64, u64, i64),
    ) -> StoreResult<()> {
        let recount;
        let sql = if self.has_table("revenue_slots")? {
            "SELECT figure, currency, slot, rows, amount_minor FROM revenue_slots
             WHERE rows <> 0 OR amount_minor <> 0 ORDER BY figure, currency, slot"
        } else {
            recount = revenue_slots_recount();
            &recount
        };
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let currency = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            each(
                row.get(0)?,
                currency,
                row.get(2)?,
                row.get::<_, i64>(3)? as u64,
                row.get(4)?,
            );
        }
        Ok(())
    }

    /// The earliest and latest touch instants as migration 0025 keeps them: one row, however
    /// many touches. Counted from the rows when a delete took a touch at an end (the span is
    /// then marked not exact) or the file predates 0025.
    pub fn touch_span_ms(&self) -> StoreResult<(Option<i64>, Option<i64>)> {
        touch_span_ms(&self.conn)
    }

    fn recount_touch_span_ms(&self) -> StoreResult<(Option<i64>, Option<i64>)> {
        recount_touch_span_ms(&self.conn)
    }

    fn has_table(&self, name: &str) -> StoreResult<bool> {
        crate::migrations::table_exists(&self.conn, name)
    }

    /// Ad spend per currency and day as 0018 keeps it: a row per day and currency that has
    /// spend, however many spend rows it sums (recounted on a file older than 0018).
    pub fn ad_spend_days(&self) -> StoreResult<Vec<SpendDay>> {
        if !self.has_table("ad_spend_days")? {
            return self.collect(SPEND_DAYS_RECOUNT, [], spend_day_row);
        }
        self.collect(
            "SELECT currency, day, rows, amount_minor FROM ad_spend_days
             WHERE rows <> 0 OR amount_minor <> 0 ORDER BY currency, day",
            [],
            spend_day_row,
        )
    }

    /// Whether the file has the tables of migration 0016 (a damaged workspace opened read-only
    /// at an older schema does not).
    fn has_maintained_totals(&self) -> StoreResult<bool> {
        self.has_table("source_totals")
    }
}

/// [`Store::touch_span_ms`] on any connection (a write transaction's too).
pub(crate) fn touch_span_ms(conn: &Connection) -> StoreResult<(Option<i64>, Option<i64>)> {
    if crate::migrations::table_exists(conn, "touch_time_span")? {
        let kept: Option<(Option<i64>, Option<i64>)> = conn
            .prepare_cached(
                "SELECT first_at_ms, last_at_ms FROM touch_time_span WHERE one = 1 AND exact = 1",
            )?
            .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        if let Some(span) = kept {
            return Ok(span);
        }
    }
    recount_touch_span_ms(conn)
}

/// The touch span from the touch rows: one scan of them (before 0025, one step into each end
/// of the time index).
fn recount_touch_span_ms(conn: &Connection) -> StoreResult<(Option<i64>, Option<i64>)> {
    Ok(conn
        .prepare_cached("SELECT MIN(occurred_at_ms), MAX(occurred_at_ms) FROM touches")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?)
}

/// Makes the kept touch span exact again after deletes took touches at its ends (0025's
/// trigger marks it): one scan of the touch rows, and nothing when no end was deleted.
pub(crate) fn settle_touch_span(tx: &Transaction<'_>) -> StoreResult<()> {
    tx.execute(
        "UPDATE touch_time_span SET
             first_at_ms = (SELECT MIN(occurred_at_ms) FROM touch_rows),
             last_at_ms = (SELECT MAX(occurred_at_ms) FROM touch_rows),
             exact = 1
         WHERE one = 1 AND exact = 0",
        [],
    )?;
    Ok(())
}

/// What one write transaction inserted into the counted tables, added to the totals when it
/// commits (and dropped with it when it rolls back). A transaction touches a handful of sources
/// and currencies, so those lookups are linear scans that allocate only for a new key; the spend
/// days and revenue slots, which an import has hundreds or thousands of, are maps.
#[derive(Debug, Default)]
pub(crate) struct TotalsDelta {
    touches: i64,
    creators: i64,
    campaigns: i64,
    content: i64,
    money: Vec<(MoneyFigure, String, i64, i64)>,
    /// Ad spend rows inserted per (currency, day): rows and sum. A year of daily spend spans
    /// hundreds of days per currency, so this is a map (in key order, the table's own).
    spend_days: BTreeMap<(String, String), (i64, i64)>,
    /// Orders and counted adjustments inserted per (figure, currency, slot): rows and sum, the
    /// currency by its index in `slot_currencies` so counting an order allocates nothing. An
    /// import spans many slots, so this one is a map; the commit writes them in the table's
    /// key order (see [`TotalsDelta::flush`]).
    revenue_slots: HashMap<(MoneyFigure, usize, i64), (i64, i64)>,
    slot_currencies: Vec<String>,
    sources: Vec<SourceDelta>,
    /// The earliest and latest instants of the touches inserted.
    touch_span_ms: Option<(i64, i64)>,
}

#[derive(Debug)]
struct SourceDelta {
    source: String,
    raw_events: i64,
    raw_records: i64,
    last_received_at_ms: Option<i64>,
    unresolved_dead_letters: i64,
    /// Raw events appended per arrival instant (`raw_events_received`): one instant per
    /// import or sync page, but one per event for a writer that stamps each event with its own
    /// arrival (the demo), so it is a map, in instant order so the commit writes in a fixed order.
    received: BTreeMap<i64, i64>,
}

/// The table rows [`TotalsDelta::row_inserted`] counts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CountedRows {
    Touches,
    Creators,
    Campaigns,
    Content,
}

impl TotalsDelta {
    pub(crate) fn row_inserted(&mut self, table: CountedRows) {
        *match table {
            CountedRows::Touches => &mut self.touches,
            CountedRows::Creators => &mut self.creators,
            CountedRows::Campaigns => &mut self.campaigns,
            CountedRows::Content => &mut self.content,
        } += 1;
    }

    /// A touch at `at_ms` was inserted (besides [`TotalsDelta::row_inserted`]).
    pub(crate) fn touch_inserted_at(&mut self, at_ms: i64) {
        self.touch_span_ms = Some(match self.touch_span_ms {
            Some((first, last)) => (first.min(at_ms), last.max(at_ms)),
            None => (at_ms, at_ms),
        });
    }

    /// A row of `amount_minor` in `currency` joined `figure`.
    pub(crate) fn money_inserted(
        &mut self,
        figure: MoneyFigure,
        currency: &str,
        amount_minor: i64,
    ) -> StoreResult<()> {
        let index = match self
            .money
            .iter()
            .position(|(f, c, _, _)| *f == figure && c == currency)
        {
            Some(index) => index,
            None => {
                self.money.push((figure, currency.to_owned(), 0, 0));
                self.money.len() - 1
            }
        };
        let (_, _, rows, sum) = &mut self.money[index];
        *rows += 1;
        *sum = sum
            .checked_add(amount_minor)
            .ok_or_else(|| StoreError::InvalidValue {
                field: "totals",
                detail: format!("the sum of {figure} in {currency} overflows"),
            })?;
        Ok(())
    }

    /// An order (its gross) or a counted adjustment of `amount_minor` in `currency` at
    /// `at_ms` was inserted (besides [`TotalsDelta::money_inserted`]).
    pub(crate) fn revenue_inserted(
        &mut self,
        figure: MoneyFigure,
        currency: &str,
        at_ms: i64,
        amount_minor: i64,
    ) -> StoreResult<()> {
        let index = self.slot_currency(currency);
        let (rows, sum) = self
            .revenue_slots
            .entry((figure, index, slot_of(at_ms)))
            .or_default();
        *rows += 1;
        *sum = sum
            .checked_add(amount_minor)
            .ok_or_else(|| StoreError::InvalidValue {
                field: "totals",
                detail: format!("the sum of {figure} in {currency} at {at_ms} overflows"),
            })?;
        Ok(())
    }

    /// A counted adjustment stored before its order moves from its own instant `from_ms` to
    /// its order's `to_ms`, the order having just been inserted.
    pub(crate) fn revenue_moved(
        &mut self,
        figure: MoneyFigure,
        currency: &str,
        from_ms: i64,
        to_ms: i64,
        amount_minor: i64,
    ) -> StoreResult<()> {
        self.revenue_inserted(figure, currency, to_ms, amount_minor)?;
        let index = self.slot_currency(currency);
        let (rows, sum) = self
            .revenue_slots
            .entry((figure, index, slot_of(from_ms)))
            .or_default();
        *rows -= 1;
        *sum -= amount_minor;
        Ok(())
    }

    /// The index of `currency` in `slot_currencies`, added on first sight.
    fn slot_currency(&mut self, currency: &str) -> usize {
        match self.slot_currencies.iter().position(|c| c == currency) {
            Some(index) => index,
            None => {
                self.slot_currencies.push(currency.to_owned());
                self.slot_currencies.len() - 1
            }
        }
    }

    /// An ad spend row of `amount_minor` in `currency` on `day` was inserted (besides
    /// [`TotalsDelta::money_inserted`], which counts it in the currency's total).
    pub(crate) fn spend_day_inserted(
        &mut self,
        currency: &str,
        day: &str,
        amount_minor: i64,
    ) -> StoreResult<()> {
        let (rows, sum) = self
            .spend_days
            .entry((currency.to_owned(), day.to_owned()))
            .or_default();
        *rows += 1;
        *sum = sum
            .checked_add(amount_minor)
            .ok_or_else(|| StoreError::InvalidValue {
                field: "totals",
                detail: format!("the ad spend in {currency} on {day} overflows"),
            })?;
        Ok(())
    }

    fn source(&mut self, source: &str) -> &mut SourceDelta {
        let index = match self.sources.iter().position(|s| s.source == source) {
            Some(index) => index,
            None => {
                self.sources.push(SourceDelta {
                    source: source.to_owned(),
                    raw_events: 0,
                    raw_records: 0,
                    last_received_at_ms: None,
                    unresolved_dead_letters: 0,
                    received: BTreeMap::new(),
                });
                self.sources.len() - 1
            }
        };
        &mut self.sources[index]
    }

    /// A raw event was appended: a new record's first version, or a new version of a record.
    /// The latest arrival is a maximum, not a sum; merging it at commit is exact because raw
    /// events are never deleted in a `WriteTx` (only erasure deletes them, in its own
    /// transaction).
    pub(crate) fn raw_event_inserted(
        &mut self,
        source: &str,
        received_at_ms: i64,
        new_record: bool,
    ) {
        let delta = self.source(source);
        delta.raw_events += 1;
        delta.raw_records += i64::from(new_record);
        delta.last_received_at_ms = Some(
            delta
                .last_received_at_ms
                .map_or(received_at_ms, |at| at.max(received_at_ms)),
        );
        *delta.received.entry(received_at_ms).or_default() += 1;
    }

    /// An unresolved dead letter was recorded.
    pub(crate) fn dead_letter_inserted(&mut self, source: &str) {
        self.source(source).unresolved_dead_letters += 1;
    }

    /// Adds everything to the totals tables, in `tx`; the delta is empty afterwards.
    pub(crate) fn flush(&mut self, tx: &Transaction<'_>) -> StoreResult<()> {
        for (table, n) in [
            ("touches", self.touches),
            ("creators", self.creators),
            ("campaigns", self.campaigns),
            ("content", self.content),
        ] {
            if n != 0 {
                tx.prepare_cached("UPDATE table_rows SET rows = rows + ?2 WHERE table_name = ?1")?
                    .execute(params![table, n])?;
            }
        }
        if let Some((first, last)) = self.touch_span_ms {
            // Widening keeps a span that is not exact (0025) just as inexact: readers recount it.
            tx.prepare_cached(
                "UPDATE touch_time_span SET
                     first_at_ms = MIN(COALESCE(first_at_ms, ?1), ?1),
                     last_at_ms = MAX(COALESCE(last_at_ms, ?2), ?2)
                 WHERE one = 1",
            )?
            .execute(params![first, last])?;
        }
        for (figure, currency, rows, sum) in &self.money {
            tx.prepare_cached(
                "INSERT INTO money_totals (figure, currency, rows, amount_minor) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (figure, currency) DO UPDATE SET
                     rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor",
            )?
            .execute(params![figure, currency, rows, sum])?;
        }
        // In the table's key order, so that consecutive upserts land on the same or the next
        // leaf page (an orders file touches tens of thousands of slots).
        let mut slots: Vec<(&str, &str, i64, i64, i64)> = self
            .revenue_slots
            .iter()
            .map(|(&(figure, currency, slot), &(rows, sum))| {
                let currency = self.slot_currencies[currency].as_str();
                (figure.as_str(), currency, slot, rows, sum)
            })
            .collect();
        slots.sort_unstable();
        let mut upsert = tx.prepare_cached(
            "INSERT INTO revenue_slots (figure, currency, slot, rows, amount_minor) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (figure, currency, slot) DO UPDATE SET
                 rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor",
        )?;
        for (figure, currency, slot, rows, sum) in slots {
            upsert.execute(params![figure, currency, slot, rows, sum])?;
        }
        for ((currency, day), (rows, sum)) in &self.spend_days {
            tx.prepare_cached(
                "INSERT INTO ad_spend_days (currency, day, rows, amount_minor) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (currency, day) DO UPDATE SET
                     rows = rows + excluded.rows, amount_minor = amount_minor + excluded.amount_minor",
            )?
            .execute(params![currency, day, rows, sum])?;
        }
        for s in &self.sources {
            tx.prepare_cached(
                "INSERT INTO source_totals (source, raw_events, raw_records, last_received_at_ms, unresolved_dead_letters)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (source) DO UPDATE SET
                     raw_events = raw_events + excluded.raw_events,
                     raw_records = raw_records + excluded.raw_records,
                     last_received_at_ms = CASE
                         WHEN excluded.last_received_at_ms IS NULL THEN last_received_at_ms
                         WHEN last_received_at_ms IS NULL THEN excluded.last_received_at_ms
                         ELSE MAX(last_received_at_ms, excluded.last_received_at_ms) END,
                     unresolved_dead_letters = unresolved_dead_letters + excluded.unresolved_dead_letters",
            )?
            .execute(params![
                s.source,
                s.raw_events,
                s.raw_records,
                s.last_received_at_ms,
                s.unresolved_dead_letters
            ])?;
            for (received_at_ms, events) in &s.received {
                tx.prepare_cached(
                    "INSERT INTO raw_events_received (received_at_ms, source, events) VALUES (?1, ?2, ?3)
                     ON CONFLICT (received_at_ms, source) DO UPDATE SET events = events + excluded.events",
                )?
                .execute(params![received_at_ms, s.source, events])?;
            }
        }
        *self = TotalsDelta::default();
        Ok(())
    }
}
