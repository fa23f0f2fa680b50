//! The dictionaries of a touch's channel, source and touch type (migration 0024): each distinct
//! name is stored once in a small table, and a touch row (`touch_rows`) holds its integer id.
//! The `touches` view reads the names back for readers that want them; writers get ids here,
//! and readers of every touch map ids to names in memory with [`names_by_id`].

use std::collections::HashMap;

use rusqlite::{Connection, Transaction};

/// A kind of name a touch row keeps as an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TouchName {
    Channel,
    Source,
    TouchType,
}

impl TouchName {
    /// The dictionary table and its id column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            TouchName::Channel => ("touch_channels", "channel_id"),
            TouchName::Source => ("touch_sources", "source_id"),
            TouchName::TouchType => ("touch_types", "touch_type_id"),
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The ids a write transaction has looked up or added, by kind and name, so each name costs one
/// lookup per transaction, not one per touch (the import asks three times per touch, hence a
/// fast non-cryptographic hash).
#[derive(Debug, Default)]
pub(crate) struct TouchNameIds {
    known: [rustc_hash::FxHashMap<String, i64>; 3],
}

impl TouchNameIds {
    /// The id of `name`, added to its dictionary if it is new.
    pub(crate) fn id(
        &mut self,
        tx: &Transaction<'_>,
        kind: TouchName,
        name: &str,
    ) -> rusqlite::Result<i64> {
        if let Some(id) = self.known[kind.index()].get(name) {
            return Ok(*id);
        }
        let (table, id_column) = kind.table();
        tx.prepare_cached(&format!(
            "INSERT INTO {table} (name) VALUES (?1) ON CONFLICT (name) DO NOTHING"
        ))?
        .execute([name])?;
        let id: i64 = tx
            .prepare_cached(&format!("SELECT {id_column} FROM {table} WHERE name = ?1"))?
            .query_row([name], |row| row.get(0))?;
        self.known[kind.index()].insert(name.to_owned(), id);
        Ok(id)
    }
}

/// Every name of `kind` by its id.
pub(crate) fn names_by_id(
    conn: &Connection,
    kind: TouchName,
) -> rusqlite::Result<HashMap<i64, String>> {
    let (table, id_column) = kind.table();
    conn.prepare_cached(&format!("SELECT {id_column}, name FROM {table}"))?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}
