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
//! click id in click-id order ([`touch_clicks_sql`]) merges the generations' sorted runs.
//! [`NextTouchRow`] gives the touch insert its rowid and generation, and lists a new generation.

use rusqlite::{Connection, OptionalExtension, params};

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

/// Every touch's click id and rowid in click-id order (touches sharing one adjacent, by rowid):
/// one sorted run of `touches_by_click` per generation, merged by SQLite (a compound SELECT
/// whose arms are each in the ORDER BY's order is merged, not sorted).
pub(crate) fn touch_clicks_sql(generations: &[i64]) -> String {
    let arms: Vec<String> = generations
        .iter()
        .map(|generation| {
            format!(
                "SELECT click_id, rowid FROM touch_rows WHERE generation = {generation} AND click_id IS NOT NULL"
            )
        })
        .collect();
    format!("{} ORDER BY 1, 2", arms.join(" UNION ALL "))
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
                let last: Option<i64> = conn
                    .query_row("SELECT MAX(rowid) FROM touch_rows", [], |row| row.get(0))
                    .optional()?
                    .flatten();
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
