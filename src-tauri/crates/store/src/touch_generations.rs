//! Touch generations (migration 0029): which part of the click-id index a touch's click id is
//! in, and how readers by click id look in every part.
//!
//! A touch row's `generation` is its rowid shifted right by [`GENERATION_BITS`] (0 for rows
//! written before 0029). `touches_by_click` is in (generation, click id) order, so the click ids
//! of a new file go into the newest generation's part of the index and leave the older parts'
//! pages alone; one B-tree in click-id order had every file rewrite nearly all of them.
//!
//! The price is on the readers: a look-up by click id is a seek per generation
//! ([`click_lookup`], over the generations `touch_generations` lists), and the walk of every
//! click id in click-id order ([`for_each_click_in_order`]) merges the generations' walks. (The
//! attribution engine merges the orders' click ids with that walk rather than look each up.)
//! [`NextTouchRow`] gives the touch insert its rowid and generation, and lists a new generation.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rusqlite::{Connection, Row, params};

use crate::StoreResult;

/// A generation holds 2^20 (1,048,576) rowids: a busy year of 10M touches has ten, and the
/// newest one's part of the index stays small next to the whole.
pub(crate) const GENERATION_BITS: u32 = 20;

/// The condition that sends a look-up by click id of the touch rows aliased `alias` to each
/// generation's part of `touches_by_click`: put it before the click-id equality.
pub(crate) fn click_lookup(alias: &str) -> String {
    format!("{alias}generation IN (SELECT generation FROM touch_generations)")
}

/// Every generation written so far, oldest first.
pub(crate) fn generations(conn: &Connection) -> StoreResult<Vec<i64>> {
    let mut statement =
        conn.prepare_cached("SELECT generation FROM touch_generations ORDER BY generation")?;
    let rows = statement.query_map([], |row| row.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One generation's touches with a click id, in (click id, rowid) order: a walk of its part of
/// `touches_by_click`.
pub(crate) const TOUCH_CLICKS_OF_GENERATION_SQL: &str = "SELECT click_id, rowid FROM touch_rows
     WHERE generation = ?1 AND click_id IS NOT NULL ORDER BY click_id, rowid";

/// Calls `each` with every touch's click id and rowid in (click id, rowid) order, so touches
/// sharing a click id come one after another whatever generation each is in: one walk per
/// generation ([`TOUCH_CLICKS_OF_GENERATION_SQL`]), merged here through a heap of each walk's
/// next row. (SQLite merges a compound SELECT of the walks too, but pairwise, so each row passed
/// through up to one comparison per generation: 1.45 s against 0.54 s for one index's walk over
/// the 10M busy year's 3.5M click ids.) Each walk's click-id buffer is reused, not reallocated.
pub(crate) fn for_each_click_in_order(
    conn: &Connection,
    mut each: impl FnMut(&str, i64),
) -> StoreResult<()> {
    let generations = generations(conn)?;
    let mut statements = generations
        .iter()
        .map(|_| conn.prepare(TOUCH_CLICKS_OF_GENERATION_SQL))
        .collect::<Result<Vec<_>, _>>()?;
    let mut walks = statements
        .iter_mut()
        .zip(&generations)
        .map(|(statement, generation)| statement.query(params![generation]))
        .collect::<Result<Vec<_>, _>>()?;
    let mut next = BinaryHeap::with_capacity(walks.len());
    for (walk, rows) in walks.iter_mut().enumerate() {
        if let Some(row) = rows.next()? {
            next.push(Reverse((
                click_of(row)?.to_owned(),
                row.get::<_, i64>(1)?,
                walk,
            )));
        }
    }
    while let Some(Reverse((mut click, rowid, walk))) = next.pop() {
        each(&click, rowid);
        if let Some(row) = walks[walk].next()? {
            click.clear();
            click.push_str(click_of(row)?);
            next.push(Reverse((click, row.get(1)?, walk)));
        }
    }
    Ok(())
}

/// The click id of a walk's row, borrowed from SQLite's buffer.
fn click_of<'r>(row: &'r Row<'_>) -> StoreResult<&'r str> {
    Ok(row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)
}

/// The rowid and generation of the next touch a write transaction inserts: one past the largest
/// rowid (what SQLite would choose), read at the transaction's first touch and counted on from
/// there, so that the generation is known before the row is written.
#[derive(Debug, Default)]
pub(crate) struct NextTouchRow {
    /// The next rowid, once read.
    rowid: Option<i64>,
    /// The generation this transaction has made sure is listed.
    listed: Option<i64>,
}

impl NextTouchRow {
    /// The rowid and generation for the next touch; lists the generation if it is new.
    pub(crate) fn peek(&mut self, conn: &Connection) -> StoreResult<(i64, i64)> {
        let rowid = match self.rowid {
            Some(rowid) => rowid,
            None => {
                // An aggregate without GROUP BY gives one row, NULL on an empty table.
                let last: Option<i64> =
                    conn.query_row("SELECT MAX(rowid) FROM touch_rows", [], |row| row.get(0))?;
                let next = last.unwrap_or(0) + 1;
                self.rowid = Some(next);
                next
            }
        };
        let generation = rowid >> GENERATION_BITS;
        if self.listed != Some(generation) {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO touch_generations (generation) VALUES (?1)",
            )?
            .execute(params![generation])?;
            self.listed = Some(generation);
        }
        Ok((rowid, generation))
    }

    /// The rowid [`NextTouchRow::peek`] gave was used.
    pub(crate) fn taken(&mut self) {
        if let Some(rowid) = self.rowid.as_mut() {
            *rowid += 1;
        }
    }
}
