//! The import itself: one file, one transaction. Reads the header, checks it, then for each
//! row logs the raw payload, normalizes it and writes the canonical record, or writes a dead
//! letter; registers the `csv` source and commits once at the end. The raw payloads of a
//! touch file go into compressed blocks of thousands of rows (`WriteTx::log_touch`, migration
//! 0021: ~30 bytes a touch instead of a ~160-byte `raw_events` row and index entry); the other
//! kinds, a small share of any workspace, keep one `raw_events` row per payload.
//!
//! Two threads share the work: one reads the rows and does everything that needs nothing but
//! the row (parsing, hiding personal data, the payload, normalizing, a touch's traffic class:
//! [`prepare`]), in batches a few ahead of the other, which holds the transaction and only
//! writes. What a row comes to does not depend on the thread it was prepared on, and the
//! writer takes the rows in the file's order.
//!
//! Architecture Invariant: a file is imported in exactly one [`lookback_store::WriteTx`]. The
//! good rows, the dead letters and the source's `last_success_at_ms` commit together, so a
//! crash at any instant leaves either the whole file or none of it.
//!
//! A touch file with at least as many rows as the touches already stored (estimated from its
//! size: the first import of a history) has the touch table's secondary indexes dropped at the
//! start of that transaction and built once, by sorting, before it commits
//! (`WriteTx::defer_touch_indexes`): the same rows, ~20 % sooner than keeping three random-key
//! indexes row by row.
//!
//! Architecture Invariant: no raw email reaches the store. Emails are replaced by their
//! SHA-256 (or withheld) before a payload is built, and the payload is the only text of a
//! row that is stored.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;

use csv::{ByteRecord, ReaderBuilder};
use lookback_core::traffic::{TrafficClass, TrafficParts};
use lookback_store::{
    InsertOutcome, NewDeadLetter, NewRawEvent, RawEventOutcome, Source, Store, Touch,
    TouchClassifier, TouchVerdict, WriteTx, touch_indexes_worth_deferring,
};

use crate::columns::Columns;
use crate::normalize::{Record, RowContext, SOURCE, WITHHELD, normalize, protect_pii};
use crate::payload::write_payload;
use crate::{ImportKind, IngestError};

/// The version of this crate's row normalization, stored with every raw event. Bump it when
/// a row would normalize differently, so reprocessing can tell old payloads from new.
pub const NORMALIZER_VERSION: i64 = 1;

/// What one touch row of a CSV file is taken to weigh when a file's size estimates its rows.
/// The busy-year benchmark's rows are ~81 bytes; real exports with more columns have more bytes
/// per row, so dividing by this underestimates their rows rather than overestimating them.
const ESTIMATED_BYTES_PER_TOUCH_ROW: u64 = 80;

/// The id, kind and name of the `sources` row every CSV import is recorded under.
pub const CSV_SOURCE_ID: &str = "csv";
const CSV_SOURCE_NAME: &str = "CSV import";

/// What importing one file did. Every data row of the file is counted exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// The file's display name, as used in dead-letter locations (`FILE:LINE`).
    pub file: String,
    /// What the file held.
    pub kind: ImportKind,
    /// Rows whose record was new and is now stored.
    pub imported: u64,
    /// Rows already stored with the same content: nothing changed.
    pub duplicates: u64,
    /// Rows restating a known record with different content, applied to the stored record: a
    /// spend row replaces the stored day, an order or refund row with a `status` applies it.
    /// A restated touch, creator cost or identity link (or an order or refund without a
    /// status) counts as a duplicate: its new version is appended to the raw-event log, and
    /// the canonical row keeps its first version, since the store has no update for them.
    pub updated: u64,
    /// Rows of a person who was erased (`privacy erase`), not stored (see the store's
    /// suppression list).
    pub suppressed: u64,
    /// Rows that could not be used and went to `dead_letters` with their `FILE:LINE`.
    pub rejected: u64,
    /// Whether the file was large enough, against the touches already stored, that the touch
    /// table's secondary indexes were built once at the end of the import rather than kept row
    /// by row (see `lookback_store::touch_indexes_worth_deferring`). The result is the same
    /// either way; only the time differs.
    pub touch_indexes_rebuilt: bool,
}

impl ImportSummary {
    /// All data rows read from the file.
    pub fn rows(&self) -> u64 {
        self.imported + self.duplicates + self.updated + self.suppressed + self.rejected
    }
}

impl fmt::Display for ImportSummary {
    /// `orders.csv (orders): 10 imported, 2 duplicates, 0 updated, 1 rejected`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {} imported, {} duplicates, {} updated, {} rejected",
            self.file, self.kind, self.imported, self.duplicates, self.updated, self.rejected
        )?;
        if self.suppressed > 0 {
            write!(f, ", {} of erased people not stored", self.suppressed)?;
        }
        Ok(())
    }
}

/// Imports the CSV file at `path` as `kind` into `store`, in one transaction.
///
/// The file is RFC 4180 CSV in UTF-8 (a leading byte-order mark is skipped) with a header row;
/// see README "CSV import formats" for each kind's columns. Dead letters are located as `NAME:LINE`, with
/// NAME the file name without its directory and LINE the physical line the row starts on
/// (the header is line 1; a quoted newline inside a field moves the following rows down).
///
/// Returns `Err` only when nothing of the file could be used: it cannot be read, it is empty,
/// or its header lacks a required column (the error names the file and the columns). In that
/// case nothing was written. Bad rows are not errors: they are counted in
/// [`ImportSummary::rejected`] and stored in `dead_letters`. A CLI built on this should print
/// the imported / duplicates / rejected counts and exit non-zero only on `Err`.
pub fn import_csv(
    store: &mut Store,
    kind: ImportKind,
    path: &Path,
    now_ms: i64,
) -> Result<ImportSummary, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let size = file.metadata().ok().map(|m| m.len());
    import_rows(store, kind, file, &name, now_ms, size)
}

/// Like [`import_csv`], reading the CSV text from `reader`; `file` is the name used in
/// dead-letter locations, errors and the summary.
pub fn import_csv_reader<R: Read + Send>(
    store: &mut Store,
    kind: ImportKind,
    reader: R,
    file: &str,
    now_ms: i64,
) -> Result<ImportSummary, IngestError> {
    import_rows(store, kind, reader, file, now_ms, None)
}

/// The import of [`import_csv`] and [`import_csv_reader`]; `size` is the file's size in bytes
/// when known, from which a large touch file is told apart (see
/// [`ImportSummary::touch_indexes_rebuilt`]).
fn import_rows<R: Read + Send>(
    store: &mut Store,
    kind: ImportKind,
    reader: R,
    file: &str,
    now_ms: i64,
    size: Option<u64>,
) -> Result<ImportSummary, IngestError> {
    if kind == ImportKind::Touches {
        // The bulk of any workspace: its rows go all over the touch indexes.
        store.run_as_bulk_load(|store| import_file(store, kind, reader, file, now_ms, size))?
    } else {
        import_file(store, kind, reader, file, now_ms, size)
    }
}

/// [`import_rows`] with the page cache chosen.
fn import_file<R: Read + Send>(
    store: &mut Store,
    kind: ImportKind,
    reader: R,
    file: &str,
    now_ms: i64,
    size: Option<u64>,
) -> Result<ImportSummary, IngestError> {
    let csv_error = |source: csv::Error| IngestError::Csv {
        file: file.to_owned(),
        source,
    };
    let reader = skip_bom(reader).map_err(|e| csv_error(e.into()))?;
    let mut csv = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = ByteRecord::new();
    if !csv.read_byte_record(&mut record).map_err(csv_error)? {
        return Err(IngestError::EmptyFile {
            file: file.to_owned(),
            kind,
        });
    }
    let header: Vec<&str> = record
        .iter()
        .map(std::str::from_utf8)
        .collect::<Result<_, _>>()
        .map_err(|_| IngestError::BadHeader {
            file: file.to_owned(),
            detail: "it is not valid UTF-8".to_owned(),
        })?;
    let mut columns = Columns::resolve(kind, file, &header)?;
    if store.store_raw_pii()? {
        columns.personal.clear();
    }

    // Reads happen before the write transaction, which holds the store exclusively.
    let default_timezone = if kind == ImportKind::Spend {
        store.reporting_timezone()?
    } else {
        String::new()
    };
    let has_source = store
        .sources()?
        .iter()
        .any(|s| s.source_id == CSV_SOURCE_ID);
    // Dead letters this file already left (same place, reason and payload) are not written
    // again, so importing the same file twice changes nothing.
    let known_letters: HashSet<(String, String, String)> = store
        .dead_letters(false)?
        .into_iter()
        .filter(|d| d.source == SOURCE && d.stream == kind.as_str())
        .map(|d| (d.location, d.reason, d.payload))
        .collect();
    let defer_touch_indexes = match size {
        Some(bytes) if kind == ImportKind::Touches => touch_indexes_worth_deferring(
            bytes / ESTIMATED_BYTES_PER_TOUCH_ROW,
            store.totals()?.touches,
        ),
        _ => false,
    };

    let mut summary = ImportSummary {
        file: file.to_owned(),
        kind,
        imported: 0,
        duplicates: 0,
        updated: 0,
        suppressed: 0,
        rejected: 0,
        touch_indexes_rebuilt: defer_touch_indexes,
    };
    let ctx = RowContext {
        columns: &columns,
        default_timezone: &default_timezone,
        now_ms,
    };
    let mut tx = store.begin()?;
    if defer_touch_indexes {
        tx.defer_touch_indexes()?;
    }
    if !has_source {
        tx.upsert_source(&Source {
            source_id: CSV_SOURCE_ID.to_owned(),
            kind: "csv".to_owned(),
            name: CSV_SOURCE_NAME.to_owned(),
            base_url: None,
            account: None,
            credential_ref: None,
            created_at_ms: now_ms,
            last_attempt_at_ms: None,
            last_success_at_ms: None,
            last_error: None,
        })?;
    }
    // A touch file's traffic is classified on the reading thread (nothing of a touch file
    // writes content, so the classifier can read every publication time now).
    let mut classifier = if kind == ImportKind::Touches {
        Some(TouchClassifier::load_detached(&tx)?)
    } else {
        None
    };
    let mut rows = RowWriter {
        tx: &mut tx,
        kind,
        file,
        now_ms,
        known_letters: &known_letters,
        summary: &mut summary,
    };
    // The rows are read, checked, minimized and normalized on a thread of their own, a few
    // batches ahead of this one, which only writes: the two halves of an import take about
    // the same time, and a batch at a time keeps memory flat whatever the file's length.
    std::thread::scope(|scope| {
        let (batches, received) =
            mpsc::sync_channel::<Result<Vec<Prepared>, csv::Error>>(BATCHES_AHEAD);
        let (spent, written) = mpsc::channel::<Vec<Prepared>>();
        let ctx = &ctx;
        scope.spawn(move || {
            let mut record = ByteRecord::new();
            loop {
                let mut batch = match written.try_recv() {
                    Ok(mut batch) => {
                        batch.clear();
                        batch
                    }
                    Err(_) => Vec::with_capacity(BATCH_ROWS),
                };
                let mut ended = false;
                while batch.len() < BATCH_ROWS {
                    match csv.read_byte_record(&mut record) {
                        Ok(true) => {
                            let line = record.position().map_or(0, |p| p.line());
                            batch.push(prepare(ctx, classifier.as_mut(), &record, line));
                        }
                        Ok(false) => {
                            ended = true;
                            break;
                        }
                        Err(e) => {
                            // The rows before the error are written, then the error ends
                            // the import (rolling all of it back).
                            let _ = batches.send(Ok(batch));
                            let _ = batches.send(Err(e));
                            return;
                        }
                    }
                }
                // A closed channel means the writer stopped on an error: nothing more to do.
                if batches.send(Ok(batch)).is_err() || ended {
                    return;
                }
            }
        });
        for batch in received {
            let mut batch = batch.map_err(csv_error)?;
            for row in &mut batch {
                rows.write_prepared(row)?;
            }
            // Back to the reading thread, which frees its rows' strings and refills it, so
            // the writer spends no time on either.
            let _ = spent.send(batch);
        }
        Ok::<(), IngestError>(())
    })?;
    tx.record_sync_success(CSV_SOURCE_ID, now_ms)?;
    tx.commit()?;
    Ok(summary)
}

/// Writes rows into the import's transaction and counts what happened to each.
struct RowWriter<'a, 't> {
    tx: &'a mut WriteTx<'t>,
    kind: ImportKind,
    file: &'a str,
    now_ms: i64,
    known_letters: &'a HashSet<(String, String, String)>,
    summary: &'a mut ImportSummary,
}

/// What one data row comes to before anything of it is written (see [`prepare`]). Nearly
/// every row is a `Write`, so its record stays inline rather than in a box of its own.
#[allow(clippy::large_enum_variant)]
enum Prepared {
    /// A row that cannot be used: it becomes a dead letter at `line` with `reason`.
    Reject {
        line: u64,
        reason: String,
        payload: String,
    },
    /// A normalized row and its minimized payload; a touch with its traffic verdict, from the
    /// row's user agent and verdict read before the payload was minimized. The writer takes
    /// the record of a row of another kind than touches out.
    Write {
        external_id: String,
        record: Option<Record>,
        payload: String,
        verdict: Option<TouchVerdict>,
    },
}

/// Rows handed from the reading thread to the writing one at a time.
const BATCH_ROWS: usize = 1_024;
/// Batches the reading thread may be ahead of the writing one.
const BATCHES_AHEAD: usize = 4;

/// Reads one data row at `line`: checks it, hides its personal data, builds its payload,
/// normalizes it and, for a touch, decides its traffic class with the file's `classifier`.
/// Touches nothing but the row and the classifier, so it runs beside the writer.
fn prepare(
    ctx: &RowContext<'_>,
    classifier: Option<&mut TouchClassifier>,
    record: &ByteRecord,
    line: u64,
) -> Prepared {
    let mut payload = String::with_capacity(256);
    let reject = |reason: String, payload: String| Prepared::Reject {
        line,
        reason,
        payload,
    };
    {
        let payload = &mut payload;
        let columns = ctx.columns;
        let utf8: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
        let Ok(fields) = utf8 else {
            // Keep what can be read, with the email hidden, so the letter shows which row it was.
            let lossy: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            let fields: Vec<&str> = lossy.iter().map(String::as_str).collect();
            let pii = protect_pii(columns, &fields, true);
            let mut hidden: Vec<(usize, &str)> = pii
                .overrides
                .iter()
                .map(|(i, v)| (*i, v.as_str()))
                .collect();
            hidden.extend(columns.email.map(|e| (e, WITHHELD)));
            write_payload(payload, &columns.payload_keys, &fields, &hidden);
            return reject(
                "the row is not valid UTF-8; save the file as UTF-8".to_owned(),
                std::mem::take(payload),
            );
        };
        let misaligned = fields.len() != columns.width;
        let mut pii = protect_pii(columns, &fields, misaligned);
        let overrides: Vec<(usize, &str)> = pii
            .overrides
            .iter()
            .map(|(i, v)| (*i, v.as_str()))
            .collect();
        write_payload(payload, &columns.payload_keys, &fields, &overrides);
        if misaligned {
            let reason = format!(
                "the row has {} fields but the header has {}; check for an unquoted comma or a missing field",
                fields.len(),
                columns.width
            );
            return reject(reason, std::mem::take(payload));
        }
        if let Some(reason) = pii.error.take() {
            return reject(reason, std::mem::take(payload));
        }
        let mut traffic = TrafficParts::default();
        if let crate::columns::KindColumns::Touches(c) = &columns.kind {
            let text = |index: Option<usize>| {
                index
                    .and_then(|i| fields.get(i))
                    .map(|v| v.trim())
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            traffic = TrafficParts {
                agent: text(c.user_agent),
                verdict: text(c.verdict),
                headers: None,
            };
        }
        match normalize(ctx, &fields, &mut pii) {
            Ok(normalized) => {
                let verdict = match (&normalized.record, classifier) {
                    (Record::Touch(touch), Some(classifier)) => {
                        let signals = traffic.signals(classifier.rules());
                        Some(classifier.decide(touch, signals))
                    }
                    _ => None,
                };
                Prepared::Write {
                    external_id: normalized.external_id,
                    record: Some(normalized.record),
                    payload: std::mem::take(payload),
                    verdict,
                }
            }
            Err(reason) => reject(reason, std::mem::take(payload)),
        }
    }
}

impl RowWriter<'_, '_> {
    /// Writes a row [`prepare`] read, or its dead letter.
    fn write_prepared(&mut self, row: &mut Prepared) -> Result<(), IngestError> {
        match row {
            Prepared::Reject {
                line,
                reason,
                payload,
            } => self.reject(*line, std::mem::take(reason), payload),
            Prepared::Write {
                external_id,
                record: Some(Record::Touch(touch)),
                payload,
                verdict,
            } => self.write_touch(external_id, touch, payload, verdict.as_ref()),
            Prepared::Write {
                external_id,
                record,
                payload,
                ..
            } => {
                let record = record.take().expect("each row is written once");
                self.write(external_id, record, payload)
            }
        }
    }

    fn reject(&mut self, line: u64, reason: String, payload: &str) -> Result<(), IngestError> {
        self.summary.rejected += 1;
        let location = format!("{}:{line}", self.file);
        let key = (location, reason, payload.to_owned());
        if self.known_letters.contains(&key) {
            return Ok(());
        }
        let (location, reason, payload) = key;
        self.tx.insert_dead_letter(&NewDeadLetter {
            source: SOURCE.to_owned(),
            stream: self.kind.as_str().to_owned(),
            location,
            reason,
            payload,
            created_at_ms: self.now_ms,
        })?;
        Ok(())
    }

    /// The raw event of the row with `external_id` and `payload`.
    fn event<'e>(&self, external_id: &'e str, payload: &'e str) -> NewRawEvent<'e> {
        NewRawEvent {
            source: SOURCE,
            stream: self.kind.as_str(),
            external_id,
            received_at_ms: self.now_ms,
            payload,
            normalizer_version: NORMALIZER_VERSION,
        }
    }

    /// Writes a touch, new ones with the class of their `verdict` (a touch file's rows all
    /// have one). Touch files are the bulk of what is imported: their payloads go into
    /// compressed blocks (`WriteTx::log_touch`).
    fn write_touch(
        &mut self,
        external_id: &str,
        touch: &Touch,
        payload: &str,
        verdict: Option<&TouchVerdict>,
    ) -> Result<(), IngestError> {
        let class = verdict.map_or(TrafficClass::Human, TouchVerdict::class);
        let outcome = self
            .tx
            .log_touch(touch, &self.event(external_id, payload), class)?;
        if outcome == InsertOutcome::Inserted
            && let Some(verdict) = verdict
        {
            verdict.record(self.tx, &touch.touch_id)?;
        }
        self.count(outcome, false);
        Ok(())
    }

    /// Writes a row of any other kind, with its payload as a `raw_events` row.
    fn write(
        &mut self,
        external_id: &str,
        record: Record,
        payload: &str,
    ) -> Result<(), IngestError> {
        let event = self.event(external_id, payload);
        let raw = self.tx.insert_raw_event(&event)?;
        let raw_event_id = Some(raw.raw_event_id());
        let restated = matches!(raw, RawEventOutcome::NewVersion(_));
        // Whether a known record was restated in a way the canonical row takes up.
        let mut applied = false;
        let inserted = match record {
            Record::Spend(mut spend) => {
                // A spend day is keyed, not identified: a restated day replaces the stored one,
                // and a duplicate payload leaves the row (and its updated_at_ms) alone.
                if self.count_keyed(&raw) {
                    spend.raw_event_id = raw_event_id;
                    self.tx.upsert_ad_spend(&spend)?;
                }
                return Ok(());
            }
            Record::Rate(rate) => {
                // Keyed by pair and day like a spend day: a restated rate replaces the stored one.
                if self.count_keyed(&raw) {
                    self.tx.upsert_fx_rate(&rate)?;
                }
                return Ok(());
            }
            Record::Touch(_) => unreachable!("touches were logged above"),
            Record::Order {
                mut order,
                explicit_status,
            } => {
                order.raw_event_id = raw_event_id;
                let outcome = self.tx.insert_order(&order)?;
                if outcome == InsertOutcome::Duplicate && restated && explicit_status {
                    applied = self
                        .tx
                        .update_order_status(&order.order_id, &order.status)?;
                }
                outcome
            }
            Record::Adjustment {
                mut adjustment,
                explicit_status,
            } => {
                adjustment.raw_event_id = raw_event_id;
                let outcome = self.tx.insert_adjustment(&adjustment)?;
                if outcome == InsertOutcome::Duplicate && restated && explicit_status {
                    applied = self
                        .tx
                        .update_adjustment_status(&adjustment.adjustment_id, &adjustment.status)?;
                }
                outcome
            }
            Record::Cost(mut cost) => {
                cost.raw_event_id = raw_event_id;
                self.tx.insert_creator_cost(&cost)?
            }
            Record::Link(link) => self.tx.insert_identity_link_from(&link, raw_event_id)?,
        };
        self.count(inserted, applied);
        Ok(())
    }

    /// Counts a keyed record (a spend day, a day's rate) by what its raw event was, and says
    /// whether its row is to be written: a new record or a restated one, not a duplicate.
    fn count_keyed(&mut self, raw: &RawEventOutcome) -> bool {
        match raw {
            RawEventOutcome::Duplicate(_) => self.summary.duplicates += 1,
            RawEventOutcome::Inserted(_) => self.summary.imported += 1,
            RawEventOutcome::NewVersion(_) => self.summary.updated += 1,
        }
        !matches!(raw, RawEventOutcome::Duplicate(_))
    }

    /// Counts what writing a row did; `applied` when a known record's restatement changed it.
    fn count(&mut self, inserted: InsertOutcome, applied: bool) {
        match (inserted, applied) {
            (InsertOutcome::Inserted, _) => self.summary.imported += 1,
            (InsertOutcome::Duplicate, true) => self.summary.updated += 1,
            (InsertOutcome::Duplicate, false) => self.summary.duplicates += 1,
            (InsertOutcome::Suppressed, _) => self.summary.suppressed += 1,
        }
    }
}

/// Skips a UTF-8 byte-order mark at the start of `reader`, which spreadsheet programs write
/// and which would otherwise stick to the first column's name.
fn skip_bom<R: Read>(mut reader: R) -> io::Result<io::Chain<io::Cursor<Vec<u8>>, R>> {
    let mut start = Vec::with_capacity(3);
    (&mut reader).take(3).read_to_end(&mut start)?;
    if start == b"\xEF\xBB\xBF" {
        start.clear();
    }
    Ok(io::Cursor::new(start).chain(reader))
}
