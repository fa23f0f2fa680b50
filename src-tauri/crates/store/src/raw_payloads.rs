//! How raw payloads are stored (migration 0015): hashes as 32 bytes, payloads compressed with
//! zstd, with a dictionary per source and stream trained from that stream's own payloads once
//! [`TRAINING_ROWS`] of them exist. This module is the only code that knows the layout:
//! [`StoredPayload`] and [`PayloadDecoder`] turn a row of either layout back into the exact
//! bytes that arrived, [`PayloadEncoder`] writes the compact one, and
//! [`Store::compact_raw_events`] converts rows of the old layout.
//!
//! Measured on the demo workspace (touches of the web pixel, 236 bytes of JSON on average):
//! zstd alone makes a payload 172 bytes, with a 16 KiB dictionary trained on 1,000 of them 51
//! bytes, at about 1 µs per payload either way. Small JSON records share their keys and most
//! values with their neighbours, not with themselves, which is what a dictionary captures.
//!
//! Architecture Invariants:
//! - Every reader returns the same bytes for a row of either layout; the SHA-256 of those bytes
//!   is the row's hash, except for rows purge or erasure blanked, which keep the hash of what
//!   arrived so a re-delivery is still recognized as a duplicate.
//! - A dictionary is never changed once written (a trigger refuses it), so a row compressed with
//!   it decodes for ever. Erasure deletes a dictionary that quotes an erased person only after
//!   re-encoding every row that used it.
//! - Converting old rows happens in short transactions that each move a persisted cursor, so a
//!   kill at any instant leaves a valid workspace with mixed rows, and the next run resumes.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use zstd::bulk::{Compressor, Decompressor};
use zstd::zstd_safe::CParameter;

use crate::{ERASED_PAYLOAD, PURGED_PAYLOAD, Store, StoreError, StoreResult};

/// zstd's compression level. Levels 1 and 3 give the same sizes on these small records (within
/// 1%); 3 is zstd's default.
const LEVEL: i32 = 3;

/// The largest dictionary trained. 4, 16 and 64 KiB dictionaries compress the demo's streams
/// to within 3% of each other; 16 KiB is the middle and costs little to load.
const DICTIONARY_MAX_BYTES: usize = 16 * 1024;

/// How many payloads of a stream a dictionary is trained on, and how many must exist before
/// one is. Training on 1,000 takes 20 to 80 ms and compresses as well as training on 10,000.
pub(crate) const TRAINING_ROWS: usize = 1_000;

/// The training samples of one stream are capped at this many bytes (large API payloads).
const TRAINING_MAX_BYTES: usize = 8 << 20;

/// Rows converted per transaction by [`Store::compact_raw_events`]: short enough that a sync
/// waiting for the write lock waits milliseconds, long enough that commits do not dominate.
const COMPACTION_BATCH_ROWS: i64 = 2_000;

const CURSOR_SETTING: &str = "raw_events_compaction_cursor";
const END_SETTING: &str = "raw_events_compaction_end";
pub(crate) const VACUUM_SETTING: &str = "raw_events_vacuum_pending";
/// The largest dictionary id when the current pass began: those streams are done at its end.
const DICTIONARIES_SETTING: &str = "raw_events_compaction_dictionaries";

/// The SHA-256 of a raw payload, as `raw_events.payload_hash` stores it.
pub fn payload_sha256(payload: &str) -> [u8; 32] {
    Sha256::digest(payload.as_bytes()).into()
}

/// The columns [`StoredPayload::from_row`] reads, in its order.
pub(crate) const STORED_PAYLOAD_COLUMNS: &str = "payload, payload_zstd, dictionary_id";

/// [`STORED_PAYLOAD_COLUMNS`] of the table aliased `alias` in a join.
pub(crate) fn qualified_payload_columns(alias: &str) -> String {
    STORED_PAYLOAD_COLUMNS
        .split(", ")
        .map(|column| format!("{alias}.{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns [`stored_hash`] reads, in its order.
pub(crate) const STORED_HASH_COLUMNS: &str = "payload_hash, payload_sha256";

/// A payload as one row stores it, either layout.
pub(crate) struct StoredPayload {
    text: String,
    zstd: Option<Vec<u8>>,
    dictionary_id: Option<i64>,
}

impl StoredPayload {
    /// Reads [`STORED_PAYLOAD_COLUMNS`] starting at column `first`.
    pub(crate) fn from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<StoredPayload> {
        Ok(StoredPayload {
            text: row.get(first)?,
            zstd: row.get(first + 1)?,
            dictionary_id: row.get(first + 2)?,
        })
    }

    /// The dictionary it was compressed with, if any.
    pub(crate) fn dictionary_id(&self) -> Option<i64> {
        self.dictionary_id
    }
}

/// Reads [`STORED_HASH_COLUMNS`] starting at column `first`: the 32 bytes of the compact layout
/// or the 64 hex digits of the old one.
pub(crate) fn stored_hash(row: &Row<'_>, first: usize) -> rusqlite::Result<[u8; 32]> {
    let bytes: Option<Vec<u8>> = row.get(first)?;
    let hex_text: String = row.get(first + 1)?;
    let decoded = match bytes {
        Some(bytes) => bytes.try_into().ok(),
        None => hex::decode(&hex_text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok()),
    };
    decoded.ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            first,
            rusqlite::types::Type::Blob,
            "a raw event's payload hash is neither 32 bytes nor 64 hex digits".into(),
        )
    })
}

/// Decodes stored payloads, loading each dictionary the first time a row needs it.
#[derive(Default)]
pub(crate) struct PayloadDecoder {
    plain: Option<Decompressor<'static>>,
    with_dictionary: HashMap<i64, Decompressor<'static>>,
}

impl PayloadDecoder {
    /// The payload's text, byte for byte as it arrived (or the placeholder purge or erasure
    /// left). `conn` is where the row's dictionary is read from.
    pub(crate) fn decode(
        &mut self,
        conn: &Connection,
        raw_event_id: i64,
        stored: StoredPayload,
    ) -> StoreResult<String> {
        let Some(compressed) = stored.zstd else {
            return Ok(stored.text);
        };
        let undecodable = |detail: String| StoreError::UndecodablePayload {
            raw_event_id,
            detail,
        };
        let decompressor = match stored.dictionary_id {
            None => match &mut self.plain {
                Some(plain) => plain,
                plain => plain.insert(Decompressor::new().map_err(|e| undecodable(e.to_string()))?),
            },
            Some(id) => match self.with_dictionary.entry(id) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => {
                    let dictionary = load_dictionary(conn, id)?
                        .ok_or_else(|| undecodable(format!("dictionary {id} is missing")))?;
                    entry.insert(
                        Decompressor::with_dictionary(&dictionary)
                            .map_err(|e| undecodable(e.to_string()))?,
                    )
                }
            },
        };
        let size = zstd::zstd_safe::get_frame_content_size(&compressed)
            .ok()
            .flatten()
            .ok_or_else(|| undecodable("the zstd frame does not say its size".into()))?;
        let bytes = decompressor
            .decompress(&compressed, size as usize)
            .map_err(|e| undecodable(e.to_string()))?;
        String::from_utf8(bytes).map_err(|_| undecodable("the payload is not UTF-8".into()))
    }
}

fn load_dictionary(conn: &Connection, dictionary_id: i64) -> StoreResult<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT dictionary FROM raw_payload_dictionaries WHERE dictionary_id = ?1")?
        .query_row(params![dictionary_id], |row| row.get(0))
        .optional()?)
}

/// A payload ready for the columns of the compact layout.
pub(crate) struct EncodedPayload {
    /// The text itself when compressing does not make it smaller, else ''.
    pub(crate) text: String,
    pub(crate) zstd: Option<Vec<u8>>,
    pub(crate) dictionary_id: Option<i64>,
}

/// What the encoder knows about one stream within a transaction.
struct StreamEncoding {
    dictionary: Option<(i64, Compressor<'static>)>,
    /// Rows this transaction wrote without a dictionary: the training set once there are
    /// [`TRAINING_ROWS`] of them, and the count added to `raw_payload_streams` at commit.
    undictionaried: Vec<i64>,
    /// zstd could not train a dictionary from this transaction's rows; it is not tried again
    /// in this transaction.
    training_failed: bool,
}

/// Compresses payloads for one write transaction: per stream with its dictionary if it has one,
/// and trains the stream's dictionary as soon as the transaction has written [`TRAINING_ROWS`]
/// of its payloads without one (a bulk import or the demo), re-encoding those rows with it.
/// Streams that grow a page at a time get theirs from [`Store::compact_raw_events`].
#[derive(Default)]
pub(crate) struct PayloadEncoder {
    plain: Option<Compressor<'static>>,
    streams: HashMap<(String, String), StreamEncoding>,
}

fn compressor(dictionary: Option<&[u8]>) -> StoreResult<Compressor<'static>> {
    let failed = StoreError::Compression;
    let mut compressor = match dictionary {
        Some(dictionary) => Compressor::with_dictionary(LEVEL, dictionary),
        None => Compressor::new(LEVEL),
    }
    .map_err(failed)?;
    // The row says which dictionary it used, and SQLite checks its pages: the frame needs
    // neither a dictionary id nor a checksum. The content size lets a reader allocate once.
    for parameter in [
        CParameter::DictIdFlag(false),
        CParameter::ChecksumFlag(false),
        CParameter::ContentSizeFlag(true),
    ] {
        compressor.set_parameter(parameter).map_err(failed)?;
    }
    Ok(compressor)
}

/// Compresses `payload` with `compressor`, or keeps the text when that is not smaller. The
/// placeholders of purge and erasure are always kept as text, so blanking a payload that is
/// already blank finds nothing to do.
fn encode_with(
    compressor: &mut Compressor<'static>,
    payload: &str,
    dictionary_id: Option<i64>,
) -> StoreResult<EncodedPayload> {
    if payload == PURGED_PAYLOAD || payload == ERASED_PAYLOAD {
        return Ok(EncodedPayload {
            text: payload.to_owned(),
            zstd: None,
            dictionary_id: None,
        });
    }
    let compressed = compressor
        .compress(payload.as_bytes())
        .map_err(StoreError::Compression)?;
    Ok(if compressed.len() < payload.len() {
        EncodedPayload {
            text: String::new(),
            zstd: Some(compressed),
            dictionary_id,
        }
    } else {
        EncodedPayload {
            text: payload.to_owned(),
            zstd: None,
            dictionary_id: None,
        }
    })
}

impl PayloadEncoder {
    fn stream(
        &mut self,
        conn: &Connection,
        source: &str,
        stream: &str,
    ) -> StoreResult<&mut StreamEncoding> {
        let key = (source.to_owned(), stream.to_owned());
        if !self.streams.contains_key(&key) {
            let dictionary = conn
                .prepare_cached(
                    "SELECT dictionary_id, dictionary FROM raw_payload_dictionaries WHERE source = ?1 AND stream = ?2",
                )?
                .query_row(params![source, stream], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
                })
                .optional()?;
            let dictionary = match dictionary {
                Some((id, bytes)) => Some((id, compressor(Some(&bytes))?)),
                None => None,
            };
            self.streams.insert(
                key.clone(),
                StreamEncoding {
                    dictionary,
                    undictionaried: Vec::new(),
                    training_failed: false,
                },
            );
        }
        Ok(self.streams.get_mut(&key).expect("inserted above"))
    }

    /// Encodes one payload of `source`/`stream`.
    pub(crate) fn encode(
        &mut self,
        conn: &Connection,
        source: &str,
        stream: &str,
        payload: &str,
    ) -> StoreResult<EncodedPayload> {
        let encoding = self.stream(conn, source, stream)?;
        if let Some((id, compressor)) = &mut encoding.dictionary {
            return encode_with(compressor, payload, Some(*id));
        }
        let plain = match &mut self.plain {
            Some(plain) => plain,
            plain => plain.insert(compressor(None)?),
        };
        encode_with(plain, payload, None)
    }

    /// Notes that row `raw_event_id` of `source`/`stream` was written. The
    /// `TRAINING_ROWS`-th row of a stream without a dictionary trains one from the rows this
    /// transaction wrote, and re-encodes them with it.
    pub(crate) fn note_written(
        &mut self,
        conn: &Connection,
        source: &str,
        stream: &str,
        raw_event_id: i64,
        now_ms: i64,
    ) -> StoreResult<()> {
        let encoding = self.stream(conn, source, stream)?;
        // A stream with a dictionary encodes every row with it, or keeps the text when even
        // that does not make it smaller: either way there is nothing left to do for the row.
        // Without one, even a row kept as text counts: small rows gain the most from one.
        if encoding.dictionary.is_some() {
            return Ok(());
        }
        encoding.undictionaried.push(raw_event_id);
        if encoding.training_failed || encoding.undictionaried.len() < TRAINING_ROWS {
            return Ok(());
        }
        let ids = encoding.undictionaried.clone();
        let mut decoder = PayloadDecoder::default();
        let mut samples = Samples::default();
        for &id in &ids {
            samples.add(&read_payload(conn, &mut decoder, id)?);
        }
        let Some(dictionary) = samples.train() else {
            encoding.training_failed = true;
            return Ok(());
        };
        let dictionary_id =
            insert_dictionary(conn, source, stream, &dictionary, ids.len(), now_ms)?;
        let mut with_dictionary = compressor(Some(&dictionary))?;
        for id in ids {
            let payload = read_payload(conn, &mut decoder, id)?;
            let encoded = encode_with(&mut with_dictionary, &payload, Some(dictionary_id))?;
            update_payload(conn, id, &encoded)?;
        }
        encoding.undictionaried.clear();
        encoding.dictionary = Some((dictionary_id, with_dictionary));
        Ok(())
    }

    /// Adds the rows this transaction wrote without a dictionary to `raw_payload_streams`.
    /// Called once, just before the transaction commits.
    pub(crate) fn flush_counts(&mut self, conn: &Connection) -> StoreResult<()> {
        for ((source, stream), encoding) in &mut self.streams {
            if encoding.undictionaried.is_empty() {
                continue;
            }
            add_undictionaried(conn, source, stream, encoding.undictionaried.len() as i64)?;
            encoding.undictionaried.clear();
        }
        Ok(())
    }
}

/// The stored payload of row `raw_event_id`.
fn read_stored(conn: &Connection, raw_event_id: i64) -> StoreResult<StoredPayload> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {STORED_PAYLOAD_COLUMNS} FROM raw_events WHERE raw_event_id = ?1"
        ))?
        .query_row(params![raw_event_id], |row| StoredPayload::from_row(row, 0))?)
}

/// The payload of row `raw_event_id`, decoded.
fn read_payload(
    conn: &Connection,
    decoder: &mut PayloadDecoder,
    raw_event_id: i64,
) -> StoreResult<String> {
    let stored = read_stored(conn, raw_event_id)?;
    decoder.decode(conn, raw_event_id, stored)
}

fn add_undictionaried(conn: &Connection, source: &str, stream: &str, rows: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO raw_payload_streams (source, stream, rows_without_dictionary) VALUES (?1, ?2, ?3)
         ON CONFLICT (source, stream) DO UPDATE SET rows_without_dictionary = rows_without_dictionary + excluded.rows_without_dictionary",
    )?
    .execute(params![source, stream, rows])?;
    Ok(())
}

/// Training samples of one stream, concatenated as zstd's trainer takes them.
#[derive(Default)]
struct Samples {
    bytes: Vec<u8>,
    sizes: Vec<usize>,
}

impl Samples {
    /// Adds one payload unless the samples are full; returns whether there is room for more.
    fn add(&mut self, payload: &str) -> bool {
        if self.is_full() {
            return false;
        }
        self.bytes.extend_from_slice(payload.as_bytes());
        self.sizes.push(payload.len());
        !self.is_full()
    }

    fn is_full(&self) -> bool {
        self.sizes.len() >= TRAINING_ROWS || self.bytes.len() >= TRAINING_MAX_BYTES
    }

    /// A dictionary, or `None` when zstd cannot train one from these samples (too few, or too
    /// alike): the stream then stays compressed without one.
    fn train(&self) -> Option<Vec<u8>> {
        zstd::dict::from_continuous(&self.bytes, &self.sizes, DICTIONARY_MAX_BYTES).ok()
    }
}

fn insert_dictionary(
    conn: &Connection,
    source: &str,
    stream: &str,
    dictionary: &[u8],
    sample_rows: usize,
    now_ms: i64,
) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO raw_payload_dictionaries (source, stream, trained_at_ms, sample_rows, dictionary)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![source, stream, now_ms, sample_rows as i64, dictionary])?;
    Ok(conn.last_insert_rowid())
}

/// Writes `encoded` as the payload of row `raw_event_id`, whose hash is already in the compact
/// layout.
fn update_payload(
    conn: &Connection,
    raw_event_id: i64,
    encoded: &EncodedPayload,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE raw_events SET payload = ?2, payload_zstd = ?3, dictionary_id = ?4 WHERE raw_event_id = ?1",
    )?
    .execute(params![
        raw_event_id,
        encoded.text,
        encoded.zstd,
        encoded.dictionary_id
    ])?;
    Ok(())
}

/// Replaces the payload of row `raw_event_id` by `placeholder` (purge and erasure), in either
/// layout; the hash stays.
pub(crate) fn blank_payload(
    conn: &Connection,
    raw_event_id: i64,
    placeholder: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE raw_events SET payload = ?2, payload_zstd = NULL, dictionary_id = NULL WHERE raw_event_id = ?1",
    )?
    .execute(params![raw_event_id, placeholder])?;
    Ok(())
}

/// The SQL that blanks every payload received before `?2` to the placeholder `?1`, in either
/// layout, leaving rows that already hold it alone; the hash stays.
pub(crate) const BLANK_PAYLOADS_BEFORE_SQL: &str =
    "UPDATE raw_events SET payload = ?1, payload_zstd = NULL, dictionary_id = NULL
     WHERE received_at_ms < ?2 AND (payload <> ?1 OR payload_zstd IS NOT NULL)";

/// Whether `haystack` holds one of `terms`: loose terms anywhere, the others only as a whole
/// JSON string (in quotes), as erasure matches them.
pub(crate) fn quotes_any(haystack: &[u8], terms: &[(String, bool)]) -> bool {
    terms.iter().any(|(term, loose)| {
        let needle = if *loose {
            term.as_bytes().to_vec()
        } else {
            format!("\"{term}\"").into_bytes()
        };
        !needle.is_empty()
            && haystack
                .windows(needle.len())
                .any(|w| w == needle.as_slice())
    })
}

/// Calls `each` with the id and payload of every raw event, in id order, reading through
/// `conn` (a transaction, for erasure).
pub(crate) fn for_each_payload(
    conn: &Connection,
    mut each: impl FnMut(i64, &str) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut decoder = PayloadDecoder::default();
    let mut statement = conn.prepare(&format!(
        "SELECT raw_event_id, {STORED_PAYLOAD_COLUMNS} FROM raw_events ORDER BY raw_event_id"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let payload = decoder.decode(conn, id, StoredPayload::from_row(row, 1)?)?;
        each(id, &payload)?;
    }
    Ok(())
}

/// Deletes every dictionary whose bytes quote one of `terms` (a trained dictionary is made of
/// its samples' most common fragments, so it can hold an erased person's id), after re-encoding
/// the rows that used it without one. Returns how many went. Runs inside erasure's transaction.
pub(crate) fn drop_dictionaries_quoting(
    conn: &Connection,
    terms: &[(String, bool)],
) -> StoreResult<u64> {
    let dictionaries: Vec<(i64, String, String, Vec<u8>)> = conn
        .prepare("SELECT dictionary_id, source, stream, dictionary FROM raw_payload_dictionaries")?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut dropped = 0;
    for (dictionary_id, source, stream, bytes) in dictionaries {
        if !quotes_any(&bytes, terms) {
            continue;
        }
        let ids: Vec<i64> = conn
            .prepare("SELECT raw_event_id FROM raw_events WHERE dictionary_id = ?1")?
            .query_map(params![dictionary_id], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut decoder = PayloadDecoder::default();
        let mut plain = compressor(None)?;
        for &id in &ids {
            let payload = read_payload(conn, &mut decoder, id)?;
            update_payload(conn, id, &encode_with(&mut plain, &payload, None)?)?;
        }
        conn.execute(
            "DELETE FROM raw_payload_dictionaries WHERE dictionary_id = ?1",
            params![dictionary_id],
        )?;
        add_undictionaried(conn, &source, &stream, ids.len() as i64)?;
        dropped += 1;
    }
    Ok(dropped)
}

/// What [`Store::compact_raw_events`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionSummary {
    /// Touch payloads moved from `raw_events` rows into blocks (see `block_moves`).
    pub events_moved_to_blocks: u64,
    /// Rows of the old layout converted, or re-encoded with a newly trained dictionary.
    pub rows_converted: u64,
    pub dictionaries_trained: u64,
    /// Whether the file was rebuilt (`VACUUM`) to give the freed space back.
    pub vacuumed: bool,
    /// The file's size (page count × page size) before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Stopped by the caller between two steps; a later run goes on from there.
    pub cancelled: bool,
}

impl CompactionSummary {
    /// Nothing was left to do: every row was compact and the space already reclaimed.
    pub fn was_already_compact(&self) -> bool {
        !self.cancelled
            && self.events_moved_to_blocks == 0
            && self.rows_converted == 0
            && self.dictionaries_trained == 0
            && !self.vacuumed
    }
}

/// A row of a compaction batch that needs converting or re-encoding.
struct PendingRow {
    raw_event_id: i64,
    key: (String, String),
    stored: StoredPayload,
    /// The old layout's hash (64 hex digits); `None` for a compact row being re-encoded.
    old_hash: Option<String>,
}

impl Store {
    /// Whether [`Store::compact_raw_events`] has anything to do: rows of the old layout, a
    /// stream ready for its dictionary or with rows to re-encode, or space to reclaim. Cheap:
    /// reads settings and `raw_payload_streams`, never `raw_events`.
    pub fn raw_events_need_compaction(&self) -> StoreResult<bool> {
        Ok(self.touch_rows_to_move()? > 0
            || self.compaction_pass_pending()?
            || !self.trainable_streams()?.is_empty()
            || self.streams_to_reencode()?
            || self.setting_i64(VACUUM_SETTING)? > 0)
    }

    /// About how many raw events [`Store::compact_raw_events`] would convert: while a
    /// conversion pass is pending (a workspace from before the compact layout), the rows it has
    /// still to visit; otherwise those not encoded with their stream's dictionary, in streams
    /// that have one or have enough rows to train one (a stream too small for a dictionary
    /// stays as it is). Cheap, like [`Store::raw_events_need_compaction`]; the window offers
    /// compaction when this is large.
    pub fn raw_events_to_compact(&self) -> StoreResult<u64> {
        let to_move = self.touch_rows_to_move()?;
        if self.compaction_pass_pending()? {
            let left = self.setting_i64(END_SETTING)? - self.setting_i64(CURSOR_SETTING)?;
            return Ok(to_move + u64::try_from(left).unwrap_or(0));
        }
        let rows: i64 = self.conn.prepare_cached(
            "SELECT COALESCE(SUM(s.rows_without_dictionary), 0) FROM raw_payload_streams s
             WHERE s.rows_without_dictionary >= ?1
                OR EXISTS (SELECT 1 FROM raw_payload_dictionaries d WHERE d.source = s.source AND d.stream = s.stream)",
        )?
        .query_row(params![TRAINING_ROWS as i64], |row| row.get(0))?;
        Ok(to_move + u64::try_from(rows).unwrap_or(0))
    }

    /// Converts the raw-event log to the compact layout: moves the touch payloads of a workspace
    /// imported before blocks existed into blocks (see `block_moves`), trains the dictionary of every stream
    /// that has [`TRAINING_ROWS`] payloads and none yet, converts rows of the old layout and
    /// re-encodes rows written before their stream had a dictionary, in batches of one short
    /// transaction each, then gives the freed space back with `VACUUM`.
    ///
    /// `progress(done, total)` is called after every batch (row ids of the pass); `cancelled`
    /// is asked between batches and, when true, the run stops there. Safe to kill at any
    /// instant: every batch commits with the cursor that says how far the pass got, the file
    /// is a valid workspace with mixed rows meanwhile, and the next run resumes. `VACUUM` (a
    /// full rebuild; incremental vacuum would need `auto_vacuum`, which only a rebuild can turn
    /// on, and would leave the half-empty pages the conversion leaves) is all-or-nothing: a
    /// kill during it leaves the file as it was, still marked for the next run to vacuum.
    /// Idempotent: a second run finds nothing to do ([`CompactionSummary::was_already_compact`]).
    pub fn compact_raw_events(
        &mut self,
        now_ms: i64,
        mut progress: impl FnMut(u64, u64),
        cancelled: &dyn Fn() -> bool,
    ) -> StoreResult<CompactionSummary> {
        self.ensure_writable()?;
        let mut summary = CompactionSummary {
            bytes_before: self.file_bytes()?,
            ..CompactionSummary::default()
        };
        // Touch payloads move into blocks first, so the conversion below does not compress rows
        // that are about to go. Progress counts the touches the move visits, then the rows the
        // conversion visits, on one scale.
        let to_move = self.touch_rows_to_move()?;
        let pass_left = |store: &Store| -> StoreResult<u64> {
            let left = store.setting_i64(END_SETTING)? - store.setting_i64(CURSOR_SETTING)?;
            Ok(u64::try_from(left).unwrap_or(0))
        };
        let mut moved_so_far = 0;
        while self.touch_rows_to_move()? > 0 {
            if cancelled() {
                summary.cancelled = true;
                summary.bytes_after = self.file_bytes()?;
                return Ok(summary);
            }
            summary.events_moved_to_blocks += self.move_touch_rows_batch()?;
            moved_so_far = to_move - self.touch_rows_to_move()?;
            progress(moved_so_far, to_move + pass_left(self)?);
        }
        summary.dictionaries_trained = self.train_dictionaries(now_ms)?;
        if summary.dictionaries_trained > 0
            || (!self.compaction_pass_pending()? && self.streams_to_reencode()?)
        {
            // A stream with a new dictionary has rows anywhere in the table: a pass over all
            // of them starts (again).
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (max_id, max_dictionary): (i64, i64) = tx.query_row(
                "SELECT (SELECT COALESCE(MAX(raw_event_id), 0) FROM raw_events),
                        (SELECT COALESCE(MAX(dictionary_id), 0) FROM raw_payload_dictionaries)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            put_setting(&tx, CURSOR_SETTING, 0)?;
            put_setting(&tx, END_SETTING, max_id)?;
            put_setting(&tx, DICTIONARIES_SETTING, max_dictionary)?;
            tx.commit()?;
        }
        let start = self.setting_i64(CURSOR_SETTING)?;
        let end = self.setting_i64(END_SETTING)?;
        let total = (end - start).max(0) as u64;
        let mut cursor = start;
        while cursor < end {
            if cancelled() {
                summary.cancelled = true;
                summary.bytes_after = self.file_bytes()?;
                return Ok(summary);
            }
            let (next, converted) = self.compact_batch(cursor, end)?;
            summary.rows_converted += converted;
            cursor = next;
            progress(moved_so_far + (cursor - start) as u64, moved_so_far + total);
        }
        if self.setting_i64(VACUUM_SETTING)? > 0 {
            if cancelled() {
                summary.cancelled = true;
                summary.bytes_after = self.file_bytes()?;
                return Ok(summary);
            }
            self.compact()?;
            self.conn.execute(
                "DELETE FROM workspace_settings WHERE key = ?1",
                params![VACUUM_SETTING],
            )?;
            summary.vacuumed = true;
        }
        summary.bytes_after = self.file_bytes()?;
        Ok(summary)
    }

    /// Converts the rows with ids in (`cursor`, `end`] that need it, one batch at most, in one
    /// transaction that also moves the persisted cursor. Returns the new cursor and how many
    /// rows changed. The transaction that reaches `end` also clears the re-encoding counts of
    /// the streams whose dictionary existed when the pass began: all their rows are done.
    fn compact_batch(&mut self, cursor: i64, end: i64) -> StoreResult<(i64, u64)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let dictionaries: HashMap<(String, String), (i64, Vec<u8>)> = tx
            .prepare_cached(
                "SELECT source, stream, dictionary_id, dictionary FROM raw_payload_dictionaries",
            )?
            .query_map([], |row| {
                Ok(((row.get(0)?, row.get(1)?), (row.get(2)?, row.get(3)?)))
            })?
            .collect::<Result<_, _>>()?;
        let mut pending = Vec::new();
        let mut next = end;
        {
            let mut statement = tx.prepare_cached(&format!(
                "SELECT raw_event_id, source, stream, {STORED_PAYLOAD_COLUMNS},
                        CASE WHEN payload_hash IS NULL THEN payload_sha256 END
                 FROM raw_events WHERE raw_event_id > ?1 AND raw_event_id <= ?2
                 ORDER BY raw_event_id LIMIT ?3"
            ))?;
            let mut rows = statement.query(params![cursor, end, COMPACTION_BATCH_ROWS])?;
            let mut seen = 0;
            while let Some(row) = rows.next()? {
                seen += 1;
                let raw_event_id: i64 = row.get(0)?;
                if seen == COMPACTION_BATCH_ROWS {
                    next = raw_event_id;
                }
                let row = PendingRow {
                    raw_event_id,
                    key: (row.get(1)?, row.get(2)?),
                    stored: StoredPayload::from_row(row, 3)?,
                    old_hash: row.get(6)?,
                };
                // Written without a dictionary although its stream has one now (a placeholder
                // or a payload that even the dictionary cannot shrink is looked at again, and
                // stays as it is).
                let reencode =
                    row.stored.dictionary_id.is_none() && dictionaries.contains_key(&row.key);
                if row.old_hash.is_some() || reencode {
                    pending.push(row);
                }
            }
        }
        let mut decoder = PayloadDecoder::default();
        let mut plain = compressor(None)?;
        let mut with_dictionary: HashMap<i64, Compressor<'static>> = HashMap::new();
        let converted = pending.len() as u64;
        for row in pending {
            let id = row.raw_event_id;
            let payload = decoder.decode(&tx, id, row.stored)?;
            let encoded = match dictionaries.get(&row.key) {
                Some((dictionary_id, bytes)) => {
                    let compressor = match with_dictionary.entry(*dictionary_id) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(compressor(Some(bytes))?)
                        }
                    };
                    encode_with(compressor, &payload, Some(*dictionary_id))?
                }
                None => encode_with(&mut plain, &payload, None)?,
            };
            if let Some(old_hash) = &row.old_hash {
                // The hash moves from 64 hex digits to its 32 bytes unchanged: a purged or
                // erased row keeps the hash of what arrived. A damaged hex hash (which no
                // version of Lookback wrote) is recomputed from the payload.
                let hash: [u8; 32] = hex::decode(old_hash)
                    .ok()
                    .and_then(|bytes| bytes.try_into().ok())
                    .unwrap_or_else(|| payload_sha256(&payload));
                tx.prepare_cached(
                    "UPDATE raw_events SET payload_hash = ?2, payload_sha256 = '' WHERE raw_event_id = ?1",
                )?
                .execute(params![id, hash.as_slice()])?;
            }
            update_payload(&tx, id, &encoded)?;
        }
        put_setting(&tx, CURSOR_SETTING, next)?;
        if converted > 0 {
            put_setting(&tx, VACUUM_SETTING, 1)?;
        }
        if next >= end {
            tx.execute(
                "UPDATE raw_payload_streams SET rows_without_dictionary = 0
                 WHERE (source, stream) IN (SELECT source, stream FROM raw_payload_dictionaries
                                            WHERE dictionary_id <= ?1)",
                params![setting_i64(&tx, DICTIONARIES_SETTING)?],
            )?;
        }
        tx.commit()?;
        Ok((next, converted))
    }

    /// Trains the dictionary of every stream that has enough payloads and none yet, from its
    /// first payloads, each in its own transaction. Returns how many were trained. A stream
    /// zstd cannot train on (too few rows left after erasures, or rows too alike) has its count
    /// reset, so it is tried again only after as many new rows.
    fn train_dictionaries(&mut self, now_ms: i64) -> StoreResult<u64> {
        let streams = self.trainable_streams()?;
        if streams.is_empty() {
            return Ok(0);
        }
        let mut samples: BTreeMap<(String, String), Samples> = streams
            .into_iter()
            .map(|key| (key, Samples::default()))
            .collect();
        let mut open = samples.len();
        {
            let mut decoder = PayloadDecoder::default();
            let mut statement = self.conn.prepare(&format!(
                "SELECT raw_event_id, source, stream, {STORED_PAYLOAD_COLUMNS} FROM raw_events ORDER BY raw_event_id"
            ))?;
            let mut rows = statement.query([])?;
            while open > 0
                && let Some(row) = rows.next()?
            {
                let key: (String, String) = (row.get(1)?, row.get(2)?);
                let Some(stream_samples) = samples.get_mut(&key) else {
                    continue;
                };
                if stream_samples.is_full() {
                    continue;
                }
                let id: i64 = row.get(0)?;
                let payload = decoder.decode(&self.conn, id, StoredPayload::from_row(row, 3)?)?;
                if !stream_samples.add(&payload) {
                    open -= 1;
                }
            }
        }
        let mut trained = 0;
        for ((source, stream), stream_samples) in samples {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            // A bulk write in another process may have trained one since the samples were read.
            let trained_meanwhile: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM raw_payload_dictionaries WHERE source = ?1 AND stream = ?2)",
                params![source, stream],
                |row| row.get(0),
            )?;
            if trained_meanwhile {
                continue;
            }
            match stream_samples
                .is_full()
                .then(|| stream_samples.train())
                .flatten()
            {
                Some(dictionary) => {
                    insert_dictionary(
                        &tx,
                        &source,
                        &stream,
                        &dictionary,
                        stream_samples.sizes.len(),
                        now_ms,
                    )?;
                    trained += 1;
                }
                None => {
                    tx.execute(
                        "UPDATE raw_payload_streams SET rows_without_dictionary = 0 WHERE source = ?1 AND stream = ?2",
                        params![source, stream],
                    )?;
                }
            }
            tx.commit()?;
        }
        Ok(trained)
    }

    /// Streams with at least [`TRAINING_ROWS`] rows written without a dictionary and no
    /// dictionary yet.
    fn trainable_streams(&self) -> StoreResult<Vec<(String, String)>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.source, s.stream FROM raw_payload_streams s
             WHERE s.rows_without_dictionary >= ?1
               AND NOT EXISTS (SELECT 1 FROM raw_payload_dictionaries d WHERE d.source = s.source AND d.stream = s.stream)
             ORDER BY s.source, s.stream",
        )?;
        let rows = statement.query_map(params![TRAINING_ROWS as i64], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether a stream with a dictionary still has rows written without it.
    fn streams_to_reencode(&self) -> StoreResult<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM raw_payload_streams s JOIN raw_payload_dictionaries d
                                ON d.source = s.source AND d.stream = s.stream
                            WHERE s.rows_without_dictionary > 0)",
            [],
            |row| row.get(0),
        )?)
    }

    /// Whether a conversion pass stopped before its end.
    fn compaction_pass_pending(&self) -> StoreResult<bool> {
        Ok(self.setting_i64(CURSOR_SETTING)? < self.setting_i64(END_SETTING)?)
    }

    fn setting_i64(&self, key: &str) -> StoreResult<i64> {
        setting_i64(&self.conn, key)
    }

    /// The file's size as SQLite sees it: pages × page size (the WAL not included).
    pub fn file_bytes(&self) -> StoreResult<u64> {
        let pages: i64 = self
            .conn
            .pragma_query_value(None, "page_count", |row| row.get(0))?;
        Ok((pages * self.page_size()?) as u64)
    }

    /// The file's page size in bytes: 16 KiB for a workspace made by this version, 4 KiB for
    /// one made before it (see `WORKSPACE_PAGE_SIZE`).
    pub fn page_size(&self) -> StoreResult<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "page_size", |row| row.get(0))?)
    }
}

/// An integer compaction keeps in `workspace_settings`; 0 when absent.
pub(crate) fn setting_i64(conn: &Connection, key: &str) -> StoreResult<i64> {
    let text: Option<String> = conn
        .query_row(
            "SELECT value FROM workspace_settings WHERE key = ?1",
            params![key],
            |row| row.get(0),
        )
        .optional()?;
    match text {
        None => Ok(0),
        Some(text) => text.parse().map_err(|_| StoreError::InvalidValue {
            field: "raw-event compaction state",
            detail: format!("{key} holds {text:?}, not a number"),
        }),
    }
}

pub(crate) fn put_setting(conn: &Connection, key: &str, value: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO workspace_settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value.to_string()])?;
    Ok(())
}
