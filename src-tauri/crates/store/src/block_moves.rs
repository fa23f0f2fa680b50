//! Moving the touch payloads of a workspace imported before migration 0021 from `raw_events`
//! rows into compressed blocks (issue 12): the part of `lookback compact` that gives an old
//! workspace the layout a new import writes. A row costs ~140 bytes per touch with its index
//! entry; a block slot ~30.
//!
//! What moves is exactly what [`WriteTx::log_touch`](crate::WriteTx::log_touch) would have put
//! in blocks: every version of a record of the CSV touch stream ([`BLOCKED_SOURCE`],
//! [`BLOCKED_STREAM`]) whose touch row points at one of its rows (`touches.raw_event_id`) and has
//! the record's external id as its touch id. A record whose touch another source stored first
//! keeps its rows, as the writer keeps giving it rows.
//!
//! The pass walks the touch table by rowid, [`BLOCK_SLOTS`] touches per transaction, behind a
//! cursor in `workspace_settings` that migration 0023 set up (to the largest touch rowid of a
//! workspace that had touch rows pointing at raw events). Each transaction reads the batch's
//! records with every version, writes them as blocks grouped by arrival instant and normalizer
//! version (versions chained as the writer chains them), points the touches at their latest
//! slot, deletes the rows, keeps the totals of 0016/0017 and the dictionary counts of 0015
//! exact, and moves the cursor: a kill at any instant leaves a valid workspace with some
//! records in blocks and the rest in rows, and the next run goes on from the cursor.
//!
//! Arrival order is kept for readers: slots of one arrival are in the order of their records'
//! rows, and [`ArrivalMerge`](crate::raw_blocks::ArrivalMerge) reads blocks by arrival, so
//! blocks that a move adds after newer imports are still read in the order they arrived. While
//! a move is stopped halfway, the events of one import are read with its unmoved rows before
//! its moved slots (rows come first at one instant); the finished move restores the order.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, TransactionBehavior, params};

use crate::raw_blocks::{BLOCK_SLOTS, Block, Slot, next_block_id, pointer, write_block};
use crate::raw_payloads::{
    PayloadDecoder, STORED_HASH_COLUMNS, STORED_PAYLOAD_COLUMNS, StoredPayload, VACUUM_SETTING,
    payload_sha256, put_setting, setting_i64, stored_hash,
};
use crate::{Store, StoreResult};

/// The source and stream of the CSV import of touches: the only records kept in blocks.
pub(crate) const BLOCKED_SOURCE: &str = "csv";
pub(crate) const BLOCKED_STREAM: &str = "touches";

/// The largest touch rowid the move has finished with.
pub(crate) const MOVE_CURSOR_SETTING: &str = "touch_rows_to_blocks_cursor";
/// The largest touch rowid when the move was scheduled (migration 0023): touches above it were
/// written with blocks already.
pub(crate) const MOVE_END_SETTING: &str = "touch_rows_to_blocks_end";

/// A version of a moved record: its record's index in the batch and its own among the record's.
type Member = (usize, usize);

/// What a block groups: an arrival instant and a normalizer version.
type BlockKey = (i64, i64);

/// One stored version of a record being moved.
struct MovingVersion {
    raw_event_id: i64,
    received_at_ms: i64,
    normalizer_version: i64,
    payload: String,
    /// The hash the row keeps: of what arrived, also when purge blanked the payload since.
    sha256: [u8; 32],
    without_dictionary: bool,
}

impl Store {
    /// How many touches the move of touch payloads into blocks has still to visit (0 when none
    /// is pending; cheap: two settings).
    pub(crate) fn touch_rows_to_move(&self) -> StoreResult<u64> {
        let cursor = setting_i64(&self.conn, MOVE_CURSOR_SETTING)?;
        let end = setting_i64(&self.conn, MOVE_END_SETTING)?;
        Ok(u64::try_from(end - cursor).unwrap_or(0))
    }

    /// Moves the touch payloads of the touches with rowids in (cursor, cursor + one batch] into
    /// blocks, in one transaction that moves the cursor too (and marks the file for `VACUUM`
    /// when something moved). Returns how many raw events moved.
    pub(crate) fn move_touch_rows_batch(&mut self) -> StoreResult<u64> {
        // Deleting a raw_events row makes SQLite's foreign-key check scan every table that
        // refers to raw events (none indexes its raw_event_id): a scan of the whole touch table
        // per row moved. The rows moved are referred to only by their touch (the CSV import
        // writes touch records for touches alone), which the batch points at its slot before
        // the row goes, so the check is off for the batch and back on after it, committed or
        // not. It can only be switched outside a transaction.
        let enforced: bool = self
            .conn
            .pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
        self.conn.pragma_update(None, "foreign_keys", false)?;
        let moved = self.move_touch_rows_batch_unchecked();
        self.conn.pragma_update(None, "foreign_keys", enforced)?;
        moved
    }

    /// [`Store::move_touch_rows_batch`] with the foreign-key check already off.
    fn move_touch_rows_batch_unchecked(&mut self) -> StoreResult<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let cursor = setting_i64(&tx, MOVE_CURSOR_SETTING)?;
        let end = setting_i64(&tx, MOVE_END_SETTING)?;
        let next = (cursor + BLOCK_SLOTS as i64).min(end);
        let touches: Vec<(i64, String)> = tx
            .prepare_cached(
                "SELECT t.rowid, t.touch_id FROM touches t JOIN raw_events r ON r.raw_event_id = t.raw_event_id
                 WHERE t.rowid > ?1 AND t.rowid <= ?2
                   AND r.source = ?3 AND r.stream = ?4 AND r.external_id = t.touch_id
                 ORDER BY t.rowid",
            )?
            .query_map(
                params![cursor, next, BLOCKED_SOURCE, BLOCKED_STREAM],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?
            .collect::<Result<_, _>>()?;
        let records = read_versions(&tx, &touches)?;
        let moved = write_moved(&tx, &touches, &records)?;
        put_setting(&tx, MOVE_CURSOR_SETTING, next)?;
        if moved > 0 {
            put_setting(&tx, VACUUM_SETTING, 1)?;
        }
        tx.commit()?;
        Ok(moved)
    }
}

/// Every version of each touch's record, oldest first.
fn read_versions(
    conn: &Connection,
    touches: &[(i64, String)],
) -> StoreResult<Vec<Vec<MovingVersion>>> {
    let mut decoder = PayloadDecoder::default();
    let mut statement = conn.prepare_cached(&format!(
        "SELECT raw_event_id, received_at_ms, normalizer_version, {STORED_HASH_COLUMNS},
                {STORED_PAYLOAD_COLUMNS}
         FROM raw_events WHERE external_id = ?1 AND source = ?2 AND stream = ?3
         ORDER BY raw_event_id"
    ))?;
    let mut records = Vec::with_capacity(touches.len());
    for (_, touch_id) in touches {
        let mut versions = Vec::new();
        let mut rows = statement.query(params![touch_id, BLOCKED_SOURCE, BLOCKED_STREAM])?;
        while let Some(row) = rows.next()? {
            let raw_event_id: i64 = row.get(0)?;
            let stored = StoredPayload::from_row(row, 5)?;
            let without_dictionary = stored.dictionary_id().is_none();
            versions.push(MovingVersion {
                raw_event_id,
                received_at_ms: row.get(1)?,
                normalizer_version: row.get(2)?,
                sha256: stored_hash(row, 3)?,
                payload: decoder.decode(conn, raw_event_id, stored)?,
                without_dictionary,
            });
        }
        records.push(versions);
    }
    Ok(records)
}

/// Writes the versions of `records` (one per touch of `touches`) as blocks, points each touch
/// at its latest slot, deletes the rows and keeps the counts exact. Returns how many raw events
/// moved.
fn write_moved(
    conn: &Connection,
    touches: &[(i64, String)],
    records: &[Vec<MovingVersion>],
) -> StoreResult<u64> {
    // The versions grouped into blocks by arrival and normalizer version, each group in the
    // order its rows were written; the groups in the order of their first row.
    let mut groups: BTreeMap<BlockKey, Vec<Member>> = BTreeMap::new();
    for (record, versions) in records.iter().enumerate() {
        for (version, v) in versions.iter().enumerate() {
            groups
                .entry((v.received_at_ms, v.normalizer_version))
                .or_default()
                .push((record, version));
        }
    }
    let mut ordered: Vec<(BlockKey, Vec<Member>)> = groups.into_iter().collect();
    for (_, members) in &mut ordered {
        members.sort_by_key(|&(r, v)| records[r][v].raw_event_id);
    }
    ordered.sort_by_key(|(_, members)| records[members[0].0][members[0].1].raw_event_id);

    // Each version's slot, known before any frame is encoded, so a slot can name the slot of
    // the version before it wherever that landed.
    let mut block_id = next_block_id(conn)?;
    let mut at: HashMap<Member, i64> = HashMap::new();
    let mut blocks: Vec<(i64, BlockKey, &[Member])> = Vec::new();
    for (key, members) in &ordered {
        for chunk in members.chunks(BLOCK_SLOTS) {
            for (slot, member) in chunk.iter().enumerate() {
                at.insert(*member, pointer(block_id, slot));
            }
            blocks.push((block_id, *key, chunk));
            block_id += 1;
        }
    }

    let mut per_arrival: BTreeMap<i64, i64> = BTreeMap::new();
    for (block_id, (received_at_ms, normalizer_version), members) in blocks {
        let slots = members
            .iter()
            .map(|&(record, version)| {
                let v = &records[record][version];
                Slot {
                    external_id: touches[record].1.clone(),
                    payload: v.payload.clone(),
                    previous: version.checked_sub(1).map(|before| at[&(record, before)]),
                    blanked_from: (payload_sha256(&v.payload) != v.sha256).then_some(v.sha256),
                    deleted: false,
                }
            })
            .collect::<Vec<_>>();
        *per_arrival.entry(received_at_ms).or_default() += slots.len() as i64;
        write_block(
            conn,
            &Block {
                block_id,
                source: BLOCKED_SOURCE.to_owned(),
                stream: BLOCKED_STREAM.to_owned(),
                received_at_ms,
                normalizer_version,
                slots,
            },
        )?;
    }

    // The blocks count for the events before the rows stop counting (the delete triggers of
    // 0016 and 0017 take each row out): an arrival's count never passes through 0, so the
    // source's latest arrival is not re-read.
    let events: i64 = per_arrival.values().sum();
    let moved_records = records.iter().filter(|v| !v.is_empty()).count() as i64;
    conn.prepare_cached(
        "UPDATE source_totals SET raw_events = raw_events + ?2, raw_records = raw_records + ?3
         WHERE source = ?1",
    )?
    .execute(params![BLOCKED_SOURCE, events, moved_records])?;
    for (received_at_ms, count) in &per_arrival {
        conn.prepare_cached(
            "UPDATE raw_events_received SET events = events + ?3 WHERE received_at_ms = ?2 AND source = ?1",
        )?
        .execute(params![BLOCKED_SOURCE, received_at_ms, count])?;
    }
    let mut without_dictionary = 0;
    for (record, versions) in records.iter().enumerate() {
        let Some(latest) = versions.len().checked_sub(1) else {
            continue;
        };
        conn.prepare_cached(
            "UPDATE touch_rows SET raw_event_id = NULL, raw_slot = ?2 WHERE rowid = ?1",
        )?
        .execute(params![touches[record].0, at[&(record, latest)]])?;
        for v in versions {
            conn.prepare_cached("DELETE FROM raw_events WHERE raw_event_id = ?1")?
                .execute(params![v.raw_event_id])?;
            without_dictionary += i64::from(v.without_dictionary);
        }
    }
    conn.prepare_cached(
        "UPDATE raw_payload_streams SET rows_without_dictionary = MAX(0, rows_without_dictionary - ?3)
         WHERE source = ?1 AND stream = ?2",
    )?
    .execute(params![BLOCKED_SOURCE, BLOCKED_STREAM, without_dictionary])?;
    Ok(events as u64)
}
