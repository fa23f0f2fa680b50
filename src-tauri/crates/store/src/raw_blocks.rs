//! Raw payloads of bulk touch imports kept in compressed blocks (migration 0021). A
//! `raw_events` row costs ~140 bytes per touch and its index ~19 more; thousands of payloads of
//! one stream compressed together cost ~30 (the 4M busy-year touches: 29.7), because
//! neighbouring rows of a CSV share their keys and most of their values. This module is the only code that knows a block's frame.
//!
//! Who writes blocks: [`WriteTx::log_touch`], which the CSV import of touches calls for each
//! row, and `lookback compact`, which moves the rows of touches imported before 0021 into
//! blocks (`block_moves`). Sync pages, webhooks and the other CSV kinds write `raw_events` rows as before
//! (their volume is small, and their records are read back one at a time). A record's versions
//! are all in blocks or all in rows: a touch stored with a row (an import before 0021, or a
//! touch id another source stored first) keeps getting rows.
//!
//! A block holds up to [`BLOCK_SLOTS`] consecutive raw events of one source and stream that
//! arrived at one instant in one write transaction. Its frame, before zstd (level 3, no
//! dictionary: at thousands of payloads per frame the frame is its own dictionary; with zstd's
//! content checksum, so a damaged frame is an error, never a wrong payload), is the
//! slots one after another, each:
//!
//! ```text
//! flags: u8            1 = a previous version follows, 2 = blanked (original SHA-256 follows),
//!                      4 = deleted by erasure (external id and payload empty)
//! external id: u32 little-endian length, then the bytes
//! payload:     u32 little-endian length, then the bytes (UTF-8, byte for byte as it arrived,
//!              or the placeholder purge left)
//! previous:    i64 little-endian pointer to the version before this one   (flag 1)
//! original:    32 bytes, the SHA-256 of the payload as it arrived          (flag 2)
//! ```
//!
//! A pointer to a slot is `block_id * 65536 + slot` (`touches.raw_slot`); a blocked raw
//! event's [`RawEvent::raw_event_id`] is that pointer negated, so it can never name a row.
//!
//! Architecture Invariants:
//! - A slot is never moved or reused: erasure empties a slot, purge blanks its payload, and both
//!   rewrite the whole frame in their transaction, so every pointer stays valid.
//! - The write transaction buffers the block being filled and writes it when it is full (after
//!   compressing it on a thread of its own while the writer goes on) and at commit; a
//!   transaction dropped without commit leaves no block.
//! - Every blocked event is counted in the workspace totals (0016) and the arrival counts
//!   (0017) exactly as a row is: the writer counts what it appends, erasure takes out what it
//!   deletes, and [`Store::recount_totals`] counts blocks by decoding them.
//! - Deduplication compares against the latest version, as for rows: the SHA-256 of the payload
//!   in the slot the touch row points at (derived from the block, not stored on the row since
//!   migration 0023), and a payload with another hash is appended as a new version whose slot
//!   names the one before it.
//!
//! Measured on the 4M-touch busy-year import (README, Benchmarks): 187 bytes per touch for the
//! whole workspace against 302 with a row per payload, and one 4M-row file imported at 119k
//! rows/s against 77k.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::mpsc;

use lookback_core::traffic::TrafficClass;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::raw_payloads::{payload_sha256, quotes_any};
use crate::totals::CountedRows;
use crate::write::LATEST_RAW_VERSION_SQL;
use crate::{InsertOutcome, NewRawEvent, RawEvent, Store, StoreError, StoreResult, Touch, WriteTx};

/// Raw events per block. Measured on the 4M busy-year touches (`examples/block_sizes`, the first
/// 1M payloads, 243 bytes each): blocks of 1,024 take 31.0 bytes per event, of 4,096 29.7, of
/// 8,192 29.7, of 16,384 29.6; a 16 KiB dictionary trained on 1,000 payloads changes them by
/// under 3% (30.2, 29.9, 29.9, 29.8), so blocks use none. 8,192 keeps the frame a writer
/// buffers and a reader decodes to about 2 MB.
pub(crate) const BLOCK_SLOTS: usize = 8_192;

/// zstd's level, as for rows (`raw_payloads`).
const LEVEL: i32 = 3;

/// `raw_slot` = block id times this plus the slot.
const SLOTS_PER_BLOCK_ID: i64 = 65_536;

const HAS_PREVIOUS: u8 = 1;
const BLANKED: u8 = 2;
const DELETED: u8 = 4;

/// The pointer `touches.raw_slot` stores for slot `slot` of block `block_id`.
pub(crate) fn pointer(block_id: i64, slot: usize) -> i64 {
    block_id * SLOTS_PER_BLOCK_ID + slot as i64
}

/// The block and slot a pointer names.
fn split_pointer(pointer: i64) -> (i64, usize) {
    (
        pointer.div_euclid(SLOTS_PER_BLOCK_ID),
        pointer.rem_euclid(SLOTS_PER_BLOCK_ID) as usize,
    )
}

/// One slot of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) external_id: String,
    pub(crate) payload: String,
    pub(crate) previous: Option<i64>,
    /// The SHA-256 of what arrived, kept when purge blanked the payload.
    pub(crate) blanked_from: Option<[u8; 32]>,
    pub(crate) deleted: bool,
}

impl Slot {
    /// The SHA-256 of the payload as it arrived.
    fn sha256(&self) -> [u8; 32] {
        self.blanked_from
            .unwrap_or_else(|| Sha256::digest(self.payload.as_bytes()).into())
    }
}

/// A block with its frame decoded.
pub(crate) struct Block {
    pub(crate) block_id: i64,
    pub(crate) source: String,
    pub(crate) stream: String,
    pub(crate) received_at_ms: i64,
    pub(crate) normalizer_version: i64,
    pub(crate) slots: Vec<Slot>,
}

impl Block {
    fn events(&self) -> i64 {
        self.slots.iter().filter(|s| !s.deleted).count() as i64
    }

    fn raw_event(&self, slot: usize) -> RawEvent {
        let s = &self.slots[slot];
        RawEvent {
            raw_event_id: -pointer(self.block_id, slot),
            source: self.source.clone(),
            stream: self.stream.clone(),
            external_id: s.external_id.clone(),
            received_at_ms: self.received_at_ms,
            payload: s.payload.clone(),
            payload_sha256: s.sha256(),
            normalizer_version: self.normalizer_version,
        }
    }

    /// Its events in slot order (deleted slots skipped).
    fn raw_events(&self) -> impl Iterator<Item = RawEvent> + '_ {
        (0..self.slots.len())
            .filter(|&i| !self.slots[i].deleted)
            .map(|i| self.raw_event(i))
    }
}

fn encode_frame(slots: &[Slot]) -> Vec<u8> {
    let size: usize = slots
        .iter()
        .map(|s| 9 + s.external_id.len() + s.payload.len() + 8 + 32)
        .sum();
    let mut frame = Vec::with_capacity(size);
    for slot in slots {
        let mut flags = 0;
        if slot.previous.is_some() {
            flags |= HAS_PREVIOUS;
        }
        if slot.blanked_from.is_some() {
            flags |= BLANKED;
        }
        if slot.deleted {
            flags |= DELETED;
        }
        frame.push(flags);
        for text in [&slot.external_id, &slot.payload] {
            frame.extend_from_slice(&(text.len() as u32).to_le_bytes());
            frame.extend_from_slice(text.as_bytes());
        }
        if let Some(previous) = slot.previous {
            frame.extend_from_slice(&previous.to_le_bytes());
        }
        if let Some(sha) = &slot.blanked_from {
            frame.extend_from_slice(sha);
        }
    }
    frame
}

/// Reads a frame front to back.
struct FrameReader<'f> {
    frame: &'f [u8],
    at: usize,
}

impl<'f> FrameReader<'f> {
    fn take(&mut self, n: usize) -> Result<&'f [u8], String> {
        let bytes = self
            .frame
            .get(self.at..self.at + n)
            .ok_or_else(|| format!("the frame ends inside a slot at byte {}", self.at))?;
        self.at += n;
        Ok(bytes)
    }

    fn text(&mut self) -> Result<String, String> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize;
        String::from_utf8(self.take(len)?.to_vec())
            .map_err(|_| format!("a slot ending at byte {} is not UTF-8", self.at))
    }
}

fn decode_frame(frame: &[u8]) -> Result<Vec<Slot>, String> {
    let mut slots = Vec::new();
    let mut reader = FrameReader { frame, at: 0 };
    while reader.at < frame.len() {
        let flags = reader.take(1)?[0];
        let external_id = reader.text()?;
        let payload = reader.text()?;
        let previous = if flags & HAS_PREVIOUS != 0 {
            Some(i64::from_le_bytes(
                reader.take(8)?.try_into().expect("8 bytes"),
            ))
        } else {
            None
        };
        let blanked_from = if flags & BLANKED != 0 {
            Some(reader.take(32)?.try_into().expect("32 bytes"))
        } else {
            None
        };
        slots.push(Slot {
            external_id,
            payload,
            previous,
            blanked_from,
            deleted: flags & DELETED != 0,
        });
    }
    Ok(slots)
}

fn undecodable(block_id: i64, detail: String) -> StoreError {
    StoreError::UndecodablePayload {
        raw_event_id: -pointer(block_id, 0),
        detail: format!("raw event block {block_id}: {detail}"),
    }
}

/// The columns [`block_from_row`] reads, in its order.
const BLOCK_COLUMNS: &str =
    "block_id, source, stream, received_at_ms, normalizer_version, frame_zstd";

fn block_from_row(row: &rusqlite::Row<'_>) -> StoreResult<Block> {
    let block_id: i64 = row.get(0)?;
    let compressed: Vec<u8> = row.get(5)?;
    let frame = zstd::stream::decode_all(compressed.as_slice())
        .map_err(|e| undecodable(block_id, e.to_string()))?;
    Ok(Block {
        block_id,
        source: row.get(1)?,
        stream: row.get(2)?,
        received_at_ms: row.get(3)?,
        normalizer_version: row.get(4)?,
        slots: decode_frame(&frame).map_err(|detail| undecodable(block_id, detail))?,
    })
}

fn read_block(conn: &Connection, block_id: i64) -> StoreResult<Block> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {BLOCK_COLUMNS} FROM raw_event_blocks WHERE block_id = ?1"
    ))?;
    let mut rows = statement.query(params![block_id])?;
    match rows.next()? {
        Some(row) => block_from_row(row),
        None => Err(undecodable(block_id, "the block is missing".into())),
    }
}

/// The id a new block gets: one above every block's.
pub(crate) fn next_block_id(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(block_id), 0) + 1 FROM raw_event_blocks",
        [],
        |row| row.get(0),
    )?)
}

/// Writes `block` (a new one, or a rewrite of its frame).
pub(crate) fn write_block(conn: &Connection, block: &Block) -> StoreResult<()> {
    write_compressed(conn, &compress_block(block)?)
}

/// A block ready to be written: its frame compressed, its slots gone.
struct CompressedBlock {
    block_id: i64,
    source: String,
    stream: String,
    received_at_ms: i64,
    normalizer_version: i64,
    slots: i64,
    events: i64,
    frame_zstd: Vec<u8>,
}

fn compress_block(block: &Block) -> StoreResult<CompressedBlock> {
    // With zstd's checksum (4 bytes a block), a flipped bit anywhere in a frame is an error
    // when it is read, never a wrong payload: SQLite checks its pages' structure, not the bytes
    // of a value.
    let mut compressor = zstd::bulk::Compressor::new(LEVEL).map_err(StoreError::Compression)?;
    compressor
        .set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
        .map_err(StoreError::Compression)?;
    let frame_zstd = compressor
        .compress(&encode_frame(&block.slots))
        .map_err(StoreError::Compression)?;
    Ok(CompressedBlock {
        block_id: block.block_id,
        source: block.source.clone(),
        stream: block.stream.clone(),
        received_at_ms: block.received_at_ms,
        normalizer_version: block.normalizer_version,
        slots: block.slots.len() as i64,
        events: block.events(),
        frame_zstd,
    })
}

fn write_compressed(conn: &Connection, block: &CompressedBlock) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO raw_event_blocks (block_id, source, stream, received_at_ms, normalizer_version, slots, events,
                                       frame_zstd)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (block_id) DO UPDATE SET slots = excluded.slots, events = excluded.events,
                                              frame_zstd = excluded.frame_zstd",
    )?
    .execute(params![
        block.block_id,
        block.source,
        block.stream,
        block.received_at_ms,
        block.normalizer_version,
        block.slots,
        block.events,
        block.frame_zstd,
    ])?;
    Ok(())
}

/// Compresses the full blocks of a load on a thread of its own, so the writer, which holds the
/// write lock, goes on inserting meanwhile. At most [`BLOCKS_IN_FLIGHT`] wait or are being
/// compressed, which keeps memory flat; the writer writes each one back when it is done.
struct BackgroundCompressor {
    blocks: mpsc::SyncSender<Block>,
    /// Each compressed block, with the slots it was made of handed back.
    done: mpsc::Receiver<(StoreResult<CompressedBlock>, Vec<Slot>)>,
    /// Blocks handed over and not written yet.
    in_flight: usize,
    /// Slots of compressed blocks, whose strings [`BlockWriter::new_slot`] fills again: a load
    /// then allocates no strings per payload once the first blocks are back, and the strings
    /// are freed by the thread that allocated them (the C allocator locks on every free from
    /// another thread). At most [`BLOCKS_IN_FLIGHT`] blocks' worth.
    spare_slots: Vec<Slot>,
}

/// Full blocks that may wait for or be in compression at once (each ~2 MB before it).
const BLOCKS_IN_FLIGHT: usize = 2;

impl BackgroundCompressor {
    fn start() -> BackgroundCompressor {
        let (blocks, to_compress) = mpsc::sync_channel::<Block>(BLOCKS_IN_FLIGHT - 1);
        let (finished, done) = mpsc::channel();
        // The thread ends when the writer drops its end: at commit, or with a transaction
        // dropped without one (whose blocks are then never written).
        std::thread::spawn(move || {
            for block in to_compress {
                let compressed = compress_block(&block);
                if finished.send((compressed, block.slots)).is_err() {
                    return;
                }
            }
        });
        BackgroundCompressor {
            blocks,
            done,
            in_flight: 0,
            spare_slots: Vec::new(),
        }
    }

    /// Hands `block` over, writing first what is done (and, while [`BLOCKS_IN_FLIGHT`] are
    /// out, waiting for the oldest).
    fn compress(&mut self, conn: &Connection, block: Block) -> StoreResult<()> {
        self.write_done(conn, BLOCKS_IN_FLIGHT - 1)?;
        self.blocks.send(block).map_err(|_| {
            StoreError::Compression(std::io::Error::other("the compressor stopped"))
        })?;
        self.in_flight += 1;
        Ok(())
    }

    /// Writes the blocks compressed so far, waiting until at most `left` are still out.
    fn write_done(&mut self, conn: &Connection, left: usize) -> StoreResult<()> {
        while self.in_flight > 0 {
            let (compressed, slots) = if self.in_flight > left {
                self.done.recv().map_err(|_| {
                    StoreError::Compression(std::io::Error::other("the compressor stopped"))
                })?
            } else {
                match self.done.try_recv() {
                    Ok(compressed) => compressed,
                    Err(_) => return Ok(()),
                }
            };
            self.in_flight -= 1;
            self.spare_slots.extend(slots);
            write_compressed(conn, &compressed?)?;
        }
        Ok(())
    }
}

/// The ids of the blocks matching `filter`, by id (the order they were written).
fn block_ids(
    conn: &Connection,
    filter: &str,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<i64>> {
    Ok(conn
        .prepare(&format!(
            "SELECT block_id FROM raw_event_blocks WHERE {filter} ORDER BY block_id"
        ))?
        .query_map(params, |row| row.get(0))?
        .collect::<Result<_, _>>()?)
}

/// The block a write transaction is filling, written when full and at commit.
#[derive(Default)]
pub(crate) struct BlockWriter {
    open: Option<Block>,
    /// The id the next block gets; read from the table when the first block opens.
    next_block_id: Option<i64>,
    /// The stored block read last for deduplication: a re-import meets its touches in the
    /// order they were first imported, so consecutive look-ups mostly land in one block.
    /// Nothing in a write transaction rewrites a stored frame, so it cannot go stale.
    last_read: Option<Block>,
    /// Touches whose record [`WriteTx::log_touch`] looked up among the `raw_events` rows one
    /// by one in this transaction (see [`WriteTx::may_have_raw_rows`]).
    rows_probed: u32,
    /// The source and stream of which this transaction found no `raw_events` rows at all, so
    /// their touches skip that look-up; forgotten when the transaction writes a raw event row.
    streams_without_rows: Option<(String, String)>,
    /// Whether the last touch logged was stored already: a re-import meets its touches in
    /// runs, so while it lasts the look-up goes first rather than an insert that would not
    /// happen.
    in_stored_run: bool,
    /// Compresses the full blocks of this transaction, once it has filled one.
    compressor: Option<BackgroundCompressor>,
}

/// How many touches of a transaction look their record up among the `raw_events` rows one at a
/// time before the transaction asks once whether their stream has any rows (a scan of the
/// rows, ~40 ms for 250,000 of them, which a load of millions of touches repays many times and
/// a small file need not pay).
const ROW_PROBES_BEFORE_SCAN: u32 = 20_000;

impl BlockWriter {
    /// The pointer the next slot appended for `event` gets: that of the open block of this
    /// source, stream, arrival and normalizer version, opening one (after writing a full or
    /// different one) when there is none.
    fn reserve(&mut self, conn: &Connection, event: &NewRawEvent<'_>) -> StoreResult<i64> {
        let fits = self.open.as_ref().is_some_and(|b| {
            b.slots.len() < BLOCK_SLOTS
                && b.source == event.source
                && b.stream == event.stream
                && b.received_at_ms == event.received_at_ms
                && b.normalizer_version == event.normalizer_version
        });
        if !fits {
            match self.open.take() {
                Some(full) if full.slots.len() == BLOCK_SLOTS => self
                    .compressor
                    .get_or_insert_with(BackgroundCompressor::start)
                    .compress(conn, full)?,
                open => {
                    self.open = open;
                    self.flush(conn)?;
                }
            }
            let block_id = match self.next_block_id {
                Some(id) => id,
                None => next_block_id(conn)?,
            };
            self.next_block_id = Some(block_id + 1);
            self.open = Some(Block {
                block_id,
                source: event.source.to_owned(),
                stream: event.stream.to_owned(),
                received_at_ms: event.received_at_ms,
                normalizer_version: event.normalizer_version,
                slots: Vec::with_capacity(BLOCK_SLOTS),
            });
        }
        let block = self.open.as_ref().expect("opened above");
        Ok(pointer(block.block_id, block.slots.len()))
    }

    /// The slot of `event`, whose last version is at `previous`: a spare one filled again
    /// when a compressed block handed its slots back, else a new one.
    fn new_slot(&mut self, event: &NewRawEvent<'_>, previous: Option<i64>) -> Slot {
        match self.compressor.as_mut().and_then(|c| c.spare_slots.pop()) {
            Some(mut slot) => {
                slot.external_id.clear();
                slot.external_id.push_str(event.external_id);
                slot.payload.clear();
                slot.payload.push_str(event.payload);
                slot.previous = previous;
                slot.blanked_from = None;
                slot.deleted = false;
                slot
            }
            None => Slot {
                external_id: event.external_id.to_owned(),
                payload: event.payload.to_owned(),
                previous,
                blanked_from: None,
                deleted: false,
            },
        }
    }

    /// Appends `slot` to the block [`BlockWriter::reserve`] picks for `event`; returns its
    /// pointer.
    fn append(
        &mut self,
        conn: &Connection,
        event: &NewRawEvent<'_>,
        slot: Slot,
    ) -> StoreResult<i64> {
        let at = self.reserve(conn, event)?;
        self.open.as_mut().expect("reserved above").slots.push(slot);
        Ok(at)
    }

    /// The SHA-256 of the payload as it arrived at slot `at` (the open block's or a stored
    /// one's): what deduplication compares a new payload against.
    fn sha256_at(&mut self, conn: &Connection, at: i64) -> StoreResult<[u8; 32]> {
        let (block_id, slot) = split_pointer(at);
        let block = match &self.open {
            Some(open) if open.block_id == block_id => open,
            _ => {
                if self
                    .last_read
                    .as_ref()
                    .is_none_or(|b| b.block_id != block_id)
                {
                    // The block may be one of this transaction's, still in compression.
                    if let Some(compressor) = self.compressor.as_mut() {
                        compressor.write_done(conn, 0)?;
                    }
                    self.last_read = Some(read_block(conn, block_id)?);
                }
                self.last_read.as_ref().expect("read above")
            }
        };
        block
            .slots
            .get(slot)
            .map(Slot::sha256)
            .ok_or_else(|| undecodable(block_id, format!("it has no slot {slot}")))
    }

    /// Writes the open block, if any, and every block still in compression.
    pub(crate) fn flush(&mut self, conn: &Connection) -> StoreResult<()> {
        if let Some(compressor) = self.compressor.as_mut() {
            compressor.write_done(conn, 0)?;
        }
        match self.open.take() {
            // A block reserved for a slot that went unused (the touch was stored already)
            // is not written, and its id goes to the next block.
            Some(block) if block.slots.is_empty() => self.next_block_id = Some(block.block_id),
            Some(block) => write_block(conn, &block)?,
            None => {}
        }
        Ok(())
    }
}

impl WriteTx<'_> {
    /// Logs the raw payload `event` of `touch` (whose `touch_id` is the event's external id)
    /// and inserts the touch: the bulk path of the CSV import of touches. The payload goes
    /// into a block (see the module notes) and the touch row points at it; a touch whose
    /// latest payload has the same SHA-256 is a `Duplicate` that writes nothing; one with
    /// another payload is a `Duplicate` touch whose payload is appended as a new version. A
    /// touch whose record is stored as `raw_events` rows goes through
    /// [`WriteTx::insert_raw_event`] and [`WriteTx::insert_touch`] as before. A touch of an
    /// erased person is `Suppressed` before anything of it is written: no payload is kept.
    /// A new touch's row is inserted with the traffic class `class` (see
    /// [`crate::TouchVerdict`]); a touch stored already keeps its own.
    pub fn log_touch(
        &mut self,
        touch: &Touch,
        event: &NewRawEvent<'_>,
        class: TrafficClass,
    ) -> StoreResult<InsertOutcome> {
        debug_assert_eq!(touch.touch_id, event.external_id);
        // A touch new to the workspace, the bulk of any load: its row goes in first, pointing
        // at the slot its payload is about to take, so that finding it new costs the insert's
        // own key look-up and nothing more. A touch stored already leaves the insert without
        // effect and takes the path below, as do erased people's touches and records whose
        // versions may be rows.
        if !self.blocks.in_stored_run
            && !self.is_suppressed(touch)?
            && !self.may_have_raw_rows(event)?
        {
            let at = self.blocks.reserve(&self.tx, event)?;
            if self.insert_touch_row(touch, Some(at), class)? == 1 {
                let slot = self.blocks.new_slot(event, None);
                let appended = self.blocks.append(&self.tx, event, slot)?;
                debug_assert_eq!(appended, at, "the slot reserved for the row");
                self.totals
                    .raw_event_inserted(event.source, event.received_at_ms, true);
                self.mark_inputs_changed(true);
                self.totals.row_inserted(CountedRows::Touches);
                return Ok(InsertOutcome::Inserted);
            }
        }
        let stored: Option<Option<i64>> = self
            .tx
            .prepare_cached("SELECT raw_slot FROM touches WHERE touch_id = ?1")?
            .query_row(params![touch.touch_id], |row| row.get(0))
            .optional()?;
        self.blocks.in_stored_run = stored.is_some();
        match stored {
            Some(Some(latest)) => {
                if self.blocks.sha256_at(&self.tx, latest)? == payload_sha256(event.payload) {
                    return Ok(InsertOutcome::Duplicate);
                }
                let slot = self.blocks.new_slot(event, Some(latest));
                let at = self.blocks.append(&self.tx, event, slot)?;
                self.tx
                    .prepare_cached("UPDATE touch_rows SET raw_slot = ?2 WHERE touch_id = ?1")?
                    .execute(params![touch.touch_id, at])?;
                self.totals
                    .raw_event_inserted(event.source, event.received_at_ms, false);
                Ok(InsertOutcome::Duplicate)
            }
            Some(None) => self.log_touch_as_row(touch, event, class),
            None => {
                let has_rows = self
                    .tx
                    .prepare_cached(LATEST_RAW_VERSION_SQL)?
                    .exists(params![event.source, event.stream, event.external_id])?;
                if has_rows {
                    return self.log_touch_as_row(touch, event, class);
                }
                if self.is_suppressed(touch)? {
                    return Ok(InsertOutcome::Suppressed);
                }
                let slot = self.blocks.new_slot(event, None);
                let at = self.blocks.append(&self.tx, event, slot)?;
                self.totals
                    .raw_event_inserted(event.source, event.received_at_ms, true);
                let changed = self.insert_touch_row(touch, Some(at), class)?;
                debug_assert_eq!(changed, 1, "the touch was looked up above");
                self.mark_inputs_changed(true);
                self.totals.row_inserted(CountedRows::Touches);
                Ok(InsertOutcome::Inserted)
            }
        }
    }

    /// Whether the record of `event` may have versions stored as `raw_events` rows (a touch
    /// imported before migration 0021 and since removed, or one whose versions went to rows),
    /// in which case [`WriteTx::log_touch`] keeps them there. The first
    /// [`ROW_PROBES_BEFORE_SCAN`] touches of a transaction ask the rows' index one by one; then
    /// the transaction asks once whether the stream has any rows, and a load into a stream with
    /// none asks no more.
    fn may_have_raw_rows(&mut self, event: &NewRawEvent<'_>) -> StoreResult<bool> {
        if self
            .blocks
            .streams_without_rows
            .as_ref()
            .is_some_and(|(source, stream)| source == event.source && stream == event.stream)
        {
            return Ok(false);
        }
        self.blocks.rows_probed += 1;
        if self.blocks.rows_probed == ROW_PROBES_BEFORE_SCAN {
            let any: bool = self.tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM raw_events WHERE source = ?1 AND stream = ?2)",
                params![event.source, event.stream],
                |row| row.get(0),
            )?;
            if !any {
                self.blocks.streams_without_rows =
                    Some((event.source.to_owned(), event.stream.to_owned()));
                return Ok(false);
            }
        }
        Ok(self
            .tx
            .prepare_cached(LATEST_RAW_VERSION_SQL)?
            .exists(params![event.source, event.stream, event.external_id])?)
    }

    /// Notes that this transaction wrote a `raw_events` row, so no stream is known to be
    /// without them any more (see [`WriteTx::may_have_raw_rows`]).
    pub(crate) fn raw_event_row_written(&mut self) {
        self.blocks.streams_without_rows = None;
        self.blocks.rows_probed = 0;
    }

    /// [`WriteTx::log_touch`] for a record kept as `raw_events` rows.
    fn log_touch_as_row(
        &mut self,
        touch: &Touch,
        event: &NewRawEvent<'_>,
        class: TrafficClass,
    ) -> StoreResult<InsertOutcome> {
        let raw = self.insert_raw_event(event)?;
        let touch = Touch {
            raw_event_id: Some(raw.raw_event_id()),
            ..touch.clone()
        };
        self.insert_touch_as(&touch, class)
    }
}

/// Every stored version of the blocked record (`source`, `stream`, `external_id`), oldest
/// first; empty when its versions are rows or it has none.
pub(crate) fn blocked_versions(
    conn: &Connection,
    source: &str,
    stream: &str,
    external_id: &str,
) -> StoreResult<Vec<RawEvent>> {
    let latest: Option<i64> = conn
        .prepare_cached("SELECT raw_slot FROM touches WHERE touch_id = ?1")?
        .query_row(params![external_id], |row| row.get(0))
        .optional()?
        .flatten();
    let mut versions = Vec::new();
    let mut next = latest;
    let mut block: Option<Block> = None;
    while let Some(at) = next {
        let (block_id, slot) = split_pointer(at);
        if block.as_ref().is_none_or(|b| b.block_id != block_id) {
            block = Some(read_block(conn, block_id)?);
        }
        let block = block.as_ref().expect("read above");
        if block.source != source || block.stream != stream {
            break;
        }
        let Some(found) = block.slots.get(slot).filter(|s| !s.deleted) else {
            break;
        };
        versions.push(block.raw_event(slot));
        next = found.previous;
    }
    versions.reverse();
    Ok(versions)
}

/// Blocked events merged into the rows' stream by arrival: `next_rows` is handed each row in
/// turn by the caller, and the blocked events that arrived before it are emitted first.
pub(crate) struct ArrivalMerge {
    ids: std::vec::IntoIter<i64>,
    pending: std::collections::VecDeque<RawEvent>,
}

impl ArrivalMerge {
    pub(crate) fn new(conn: &Connection) -> StoreResult<ArrivalMerge> {
        // By arrival: `lookback compact` adds blocks of old arrivals after newer ones
        // (`block_moves`); among blocks of one instant, in the order they were written.
        let ids: Vec<i64> = conn
            .prepare("SELECT block_id FROM raw_event_blocks ORDER BY received_at_ms, block_id")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ArrivalMerge {
            ids: ids.into_iter(),
            pending: Default::default(),
        })
    }

    /// Emits every blocked event that arrived before `before_ms` (all of them when `None`).
    pub(crate) fn emit_before(
        &mut self,
        conn: &Connection,
        before_ms: Option<i64>,
        each: &mut impl FnMut(RawEvent),
    ) -> StoreResult<()> {
        loop {
            if self.pending.is_empty() {
                let Some(id) = self.ids.next() else {
                    return Ok(());
                };
                self.pending.extend(read_block(conn, id)?.raw_events());
                continue;
            }
            let first = self.pending.front().expect("not empty");
            if before_ms.is_some_and(|before| first.received_at_ms >= before) {
                return Ok(());
            }
            each(self.pending.pop_front().expect("not empty"));
        }
    }
}

/// What the blocks of one source hold, counted by decoding them (for
/// [`Store::recount_totals`]).
#[derive(Debug, Default)]
pub(crate) struct BlockedCounts {
    pub(crate) events: u64,
    /// Distinct (stream, external id) records among them: the slots that start a chain.
    pub(crate) records: u64,
    pub(crate) last_received_at_ms: Option<i64>,
}

/// Erasure's part in blocks (inside its transaction): every version of a blocked record that
/// belongs to an erased touch (`temp.erase_touch`) or whose payload quotes one of `terms`
/// (any version) is deleted, its slot emptied and its block rewritten; the touch rows of
/// records that lose their versions but stay (a payload quoted the person, the touch is not
/// theirs) lose their pointer. Returns how many raw events went. The totals of 0016 and the
/// arrivals of 0017 lose them as the delete triggers do for rows.
pub(crate) fn erase_blocked(conn: &Connection, terms: &[(String, bool)]) -> StoreResult<u64> {
    let erased_touches: HashSet<String> = conn
        .prepare("SELECT id FROM temp.erase_touch")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let ids = block_ids(conn, "1", [])?;
    // Pass 1: which records go.
    let mut doomed: HashSet<(String, String, String)> = HashSet::new();
    for &block_id in &ids {
        let block = read_block(conn, block_id)?;
        for slot in block.slots.iter().filter(|s| !s.deleted) {
            if erased_touches.contains(&slot.external_id)
                || quotes_any(slot.external_id.as_bytes(), terms)
                || quotes_any(slot.payload.as_bytes(), terms)
            {
                doomed.insert((
                    block.source.clone(),
                    block.stream.clone(),
                    slot.external_id.clone(),
                ));
            }
        }
    }
    if doomed.is_empty() {
        return Ok(0);
    }
    // Pass 2: empty every slot of those records.
    let mut deleted = 0u64;
    let mut per_arrival: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for &block_id in &ids {
        let mut block = read_block(conn, block_id)?;
        let mut changed = 0;
        for slot in block.slots.iter_mut().filter(|s| !s.deleted) {
            let key = (
                block.source.clone(),
                block.stream.clone(),
                slot.external_id.clone(),
            );
            if doomed.contains(&key) {
                *slot = Slot {
                    external_id: String::new(),
                    payload: String::new(),
                    previous: None,
                    blanked_from: None,
                    deleted: true,
                };
                changed += 1;
            }
        }
        if changed > 0 {
            write_block(conn, &block)?;
            deleted += changed as u64;
            *per_arrival
                .entry((block.source.clone(), block.received_at_ms))
                .or_default() += changed;
        }
    }
    let mut records_per_source: HashMap<&str, i64> = HashMap::new();
    for (source, _, external_id) in &doomed {
        *records_per_source.entry(source.as_str()).or_default() += 1;
        conn.prepare_cached(
            "UPDATE touch_rows SET raw_slot = NULL WHERE touch_id = ?1 AND raw_slot IS NOT NULL",
        )?
        .execute(params![external_id])?;
    }
    for ((source, received_at_ms), events) in &per_arrival {
        conn.prepare_cached(
            "UPDATE source_totals SET raw_events = raw_events - ?2 WHERE source = ?1",
        )?
        .execute(params![source, events])?;
        conn.prepare_cached(
            "UPDATE raw_events_received SET events = events - ?3 WHERE received_at_ms = ?2 AND source = ?1",
        )?
        .execute(params![source, received_at_ms, events])?;
        // As 0017's delete trigger: the source's latest arrival, if it just emptied.
        conn.prepare_cached(
            "UPDATE source_totals SET last_received_at_ms =
                 (SELECT MAX(received_at_ms) FROM raw_events_received WHERE source = ?1 AND events > 0)
             WHERE source = ?1 AND last_received_at_ms <= ?2
               AND NOT EXISTS (SELECT 1 FROM raw_events_received
                                WHERE received_at_ms = ?2 AND source = ?1 AND events > 0)",
        )?
        .execute(params![source, received_at_ms])?;
    }
    for (source, records) in records_per_source {
        conn.prepare_cached(
            "UPDATE source_totals SET raw_records = raw_records - ?2 WHERE source = ?1",
        )?
        .execute(params![source, records])?;
    }
    Ok(deleted)
}

/// Retention purge's part in blocks: every payload of a block that arrived before `cutoff_ms`
/// becomes `placeholder`, keeping the SHA-256 of what arrived; returns how many were blanked
/// (payloads blanked already, or equal to the placeholder, are left alone).
pub(crate) fn blank_blocks_before(
    conn: &Connection,
    placeholder: &str,
    cutoff_ms: i64,
) -> StoreResult<u64> {
    let mut blanked = 0;
    for block_id in block_ids(conn, "received_at_ms < ?1", params![cutoff_ms])? {
        let mut block = read_block(conn, block_id)?;
        let mut changed = 0;
        for slot in block.slots.iter_mut().filter(|s| !s.deleted) {
            if slot.blanked_from.is_none() && slot.payload != placeholder {
                slot.blanked_from = Some(slot.sha256());
                slot.payload = placeholder.to_owned();
                changed += 1;
            }
        }
        if changed > 0 {
            write_block(conn, &block)?;
            blanked += changed;
        }
    }
    Ok(blanked)
}

impl Store {
    /// Raw events kept in blocks (0021) per source, counted by decoding every block: what
    /// [`Store::recount_totals`] adds to the rows' counts.
    pub(crate) fn recount_blocked_events(&self) -> StoreResult<BTreeMap<String, BlockedCounts>> {
        let mut counts: BTreeMap<String, BlockedCounts> = BTreeMap::new();
        if !self.has_blocks()? {
            return Ok(counts);
        }
        for block_id in block_ids(&self.conn, "1", [])? {
            let block = read_block(&self.conn, block_id)?;
            for slot in block.slots.iter().filter(|s| !s.deleted) {
                let entry = counts.entry(block.source.clone()).or_default();
                entry.events += 1;
                // A record's first version is the one slot of its chain that names no previous
                // one (erasure empties whole chains), so counting them counts records without
                // holding every external id in memory.
                if slot.previous.is_none() {
                    entry.records += 1;
                }
                entry.last_received_at_ms =
                    entry.last_received_at_ms.max(Some(block.received_at_ms));
            }
        }
        Ok(counts)
    }

    /// Whether the file has the table of 0021 (a read-only store may be older).
    pub(crate) fn has_blocks(&self) -> StoreResult<bool> {
        crate::migrations::table_exists(&self.conn, "raw_event_blocks")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back_every_kind_of_slot() {
        let slots = vec![
            Slot {
                external_id: "t1".into(),
                payload: r#"{"touch_id":"t1","é":"ü"}"#.into(),
                previous: None,
                blanked_from: None,
                deleted: false,
            },
            Slot {
                external_id: "t1".into(),
                payload: String::new(),
                previous: Some(pointer(3, 0)),
                blanked_from: Some([7; 32]),
                deleted: false,
            },
            Slot {
                external_id: String::new(),
                payload: String::new(),
                previous: None,
                blanked_from: None,
                deleted: true,
            },
        ];
        assert_eq!(decode_frame(&encode_frame(&slots)).unwrap(), slots);
        let frame = encode_frame(&slots);
        assert!(decode_frame(&frame[..frame.len() - 1]).is_err());
        assert_eq!(split_pointer(pointer(12, 8_191)), (12, 8_191));
    }
}
