//! Writes to the canonical tables, always inside one [`WriteTx`]: a sync page, its raw events,
//! the canonical rows normalized from them and the checkpoint commit together or not at all.
//!
//! Every statement goes through `prepare_cached`, so an import of a million rows parses each
//! statement once. Idempotency lives here, on the source's own ids: inserting a touch, order,
//! adjustment, creator cost or identity link that exists is a reported no-op, never a second row.
//! Every row inserted into a table the workspace totals count is told to the transaction's
//! `TotalsDelta`, which commit adds to the totals (see `totals`).

use lookback_core::traffic::TrafficClass;
use rusqlite::{
    CachedStatement, Connection, OptionalExtension, Transaction, TransactionBehavior, params,
};

use crate::raw_blocks::BlockWriter;
use crate::raw_payloads::{PayloadEncoder, blank_payload, stored_hash};
use crate::read::COUNTED_ADJUSTMENT;
use crate::records::{check_currency, check_day};
use crate::settings::bump_input_version;
use crate::suppression::{ERASED_PAYLOAD, Suppression};
use crate::totals::{CountedRows, TotalsDelta};
use crate::touch_generations::NextTouchRow;
use crate::touch_names::{TouchName, TouchNameIds};
use crate::traffic_totals::TrafficTotalsDelta;
use crate::{
    AdSpend, AdjustmentKind, Campaign, Content, Creator, CreatorCost, FxRate, IdentityKeys,
    IdentityLink, InsertOutcome, MoneyFigure, NewDeadLetter, NewRawEvent, Order, OrderAdjustment,
    RawEventOutcome, Source, Store, StoreError, StoreResult, SyncCheckpoint, Touch, payload_sha256,
};

/// The latest stored version of one raw record: its id and hash (`STORED_HASH_COLUMNS`), found
/// through `raw_events_by_external_id`.
pub(crate) const LATEST_RAW_VERSION_SQL: &str =
    "SELECT raw_event_id, payload_hash, payload_sha256 FROM raw_events
     WHERE external_id = ?3 AND source = ?1 AND stream = ?2
     ORDER BY raw_event_id DESC LIMIT 1";

/// What a touch's `email_hash` column stores for the e-mail hash `hash` (migration 0024): its
/// 32 bytes when it is 64 lowercase hex digits — every hash the import and the identity rules
/// make — so the generated `email_sha256` column reads it back as the same text; any other
/// value as the text it is.
pub(crate) fn stored_email_hash(hash: &str) -> rusqlite::types::Value {
    let lowercase_hex = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    match hex::decode(hash) {
        Ok(bytes) if lowercase_hex => rusqlite::types::Value::Blob(bytes),
        _ => rusqlite::types::Value::Text(hash.to_owned()),
    }
}

/// The insert of one touch row (the statement the CSV import runs once per new touch), at the
/// rowid and generation [`NextTouchRow`] gives it; its program builds no temporary table (see
/// `index_plans`).
pub(crate) const INSERT_TOUCH_ROW_SQL: &str = "INSERT INTO touch_rows (touch_id, source_id, occurred_at_ms, channel_id, touch_type_id, creator_id,
                        campaign_id, ad_id, content_id, click_id, person_id, anonymous_id, email_hash,
                        customer_id, device_id, raw_event_id, raw_slot, traffic_class, rowid, generation)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
 ON CONFLICT (touch_id) DO NOTHING";

/// The touch table's secondary indexes, each as its last migration (0001, 0029) created it (the text is what
/// `sqlite_master` keeps, so a rebuilt index is indistinguishable from the original; a store
/// test compares them). [`WriteTx::defer_touch_indexes`] drops and rebuilds them.
const TOUCH_SECONDARY_INDEXES: [(&str, &str); 2] = [
    (
        "touches_by_click",
        "CREATE INDEX touches_by_click ON \"touch_rows\" (generation, click_id) WHERE click_id IS NOT NULL",
    ),
    (
        "touches_by_creator",
        "CREATE INDEX touches_by_creator ON \"touch_rows\" (creator_id) WHERE creator_id IS NOT NULL",
    ),
];

/// Whether a load expected to add `expected_new` touches to a table of `existing` ones is
/// faster with the touch table's secondary indexes built once at its end than kept row by row.
///
/// Measured on the 4M busy-year touches (README, Benchmarks): one 4M-row file into an empty
/// workspace imports in ~51 s with the indexes built at the end against ~63 s row by row. But
/// the rebuild sorts *every* touch, old and new (dropping and rebuilding the three over 4M
/// touches takes ~7 s), so for monthly files into a growing table it only paid while a file
/// was about as large as the table already was, and cost up to three times the import's time
/// once the table was ten times the file. Hence: at least as many new rows as stored ones,
/// and at least 50,000 of them (below that either way takes well under a second).
pub fn touch_indexes_worth_deferring(expected_new: u64, existing: u64) -> bool {
    const SMALLEST_BULK_LOAD: u64 = 50_000;
    expected_new >= SMALLEST_BULK_LOAD && expected_new >= existing
}

/// An open write transaction. Dropping it without [`WriteTx::commit`] rolls everything back,
/// which is what makes a crash or an early `?` harmless.
pub struct WriteTx<'s> {
    /// The touch insert, prepared on the first touch and kept for the transaction: the import
    /// runs it once per new touch, and finding it in the connection's statement cache each time
    /// (hashing its text, then putting it back) was ~5 % of the writing thread. Declared before
    /// `tx` so that it is dropped first.
    touch_insert: Option<CachedStatement<'s>>,
    /// The connection `tx` is on, for statements kept across calls like `touch_insert`.
    conn: &'s Connection,
    pub(crate) tx: Transaction<'s>,
    /// Whether a row the attribution reads (touches, orders, adjustments, identity links, fx
    /// rates) changed. If so, commit bumps the input version that `input_watermark` reports.
    inputs_changed: bool,
    /// The suppression list of erased people, loaded by the first insert that needs it.
    suppression: Option<Suppression>,
    /// What this transaction inserted into the counted tables, added to the workspace totals at
    /// commit (see `totals`; updates and deletes are counted by triggers).
    pub(crate) totals: TotalsDelta,
    /// Compresses raw payloads, with each stream's dictionary loaded on first use.
    payloads: PayloadEncoder,
    /// The block of raw touch payloads being filled (see `raw_blocks`), written at commit.
    pub(crate) blocks: BlockWriter,
    /// Whether the touch table's secondary indexes were dropped for this transaction and are
    /// built again at commit ([`WriteTx::defer_touch_indexes`]).
    touch_indexes_deferred: bool,
    /// The ids of the channels, sources and touch types this transaction wrote (see
    /// `touch_names`).
    touch_names: TouchNameIds,
    /// The rowid and generation of the next touch this transaction inserts (see
    /// `touch_generations`).
    next_touch: NextTouchRow,
    /// The touches this transaction inserted per source and channel, added to the traffic
    /// totals at commit (see `traffic_totals`).
    traffic_totals: TrafficTotalsDelta,
}

impl Store {
    /// Starts a write transaction. `IMMEDIATE` takes the write lock now, so a long batch never
    /// fails halfway with `SQLITE_BUSY` when it upgrades from reading to writing.
    pub fn begin(&mut self) -> StoreResult<WriteTx<'_>> {
        self.ensure_writable()?;
        // `&mut self` already makes this the store's only transaction, which is what
        // `transaction_with_behavior` checks; this form leaves the connection shared with
        // the statements the transaction keeps (`touch_insert`).
        let conn = &self.conn;
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        Ok(WriteTx {
            touch_insert: None,
            conn,
            tx,
            inputs_changed: false,
            suppression: None,
            totals: TotalsDelta::default(),
            payloads: PayloadEncoder::default(),
            blocks: BlockWriter::default(),
            touch_indexes_deferred: false,
            touch_names: TouchNameIds::default(),
            next_touch: NextTouchRow::default(),
            traffic_totals: TrafficTotalsDelta::default(),
        })
    }

    /// Runs `work` in one write transaction and commits if it returns `Ok`; on `Err` nothing
    /// it wrote is kept.
    pub fn write<T, E>(
        &mut self,
        work: impl FnOnce(&mut WriteTx<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut tx = self.begin()?;
        let value = work(&mut tx)?;
        tx.commit()?;
        Ok(value)
    }
}

fn outcome(changed: usize) -> InsertOutcome {
    if changed == 0 {
        InsertOutcome::Duplicate
    } else {
        InsertOutcome::Inserted
    }
}

impl WriteTx<'_> {
    /// The suppression list of erased people (loaded once per transaction).
    fn suppression(&mut self) -> StoreResult<&Suppression> {
        if self.suppression.is_none() {
            self.suppression = Some(Suppression::load(&self.tx)?);
        }
        Ok(self.suppression.get_or_insert_with(Suppression::default))
    }

    /// Notes that a row attribution reads changed, so commit moves the input watermark.
    pub(crate) fn mark_inputs_changed(&mut self, changed: bool) {
        self.inputs_changed |= changed;
    }

    /// Replaces the payload of a raw event whose record belonged to an erased person.
    fn erase_raw_payload(&mut self, raw_event_id: Option<i64>) -> StoreResult<()> {
        if let Some(raw_event_id) = raw_event_id {
            blank_payload(&self.tx, raw_event_id, ERASED_PAYLOAD)?;
        }
        Ok(())
    }

    /// For a load that adds many touches at once (see [`touch_indexes_worth_deferring`]):
    /// drops the touch table's three secondary indexes now and builds them again, by sorting
    /// every row once, when this transaction commits. Nothing else changes: the primary key
    /// that finds duplicates stays, and since dropping and rebuilding are part of this
    /// transaction, a rollback or a crash leaves the indexes as they were and other
    /// connections never see the table without them. Queries inside this transaction that
    /// would use them scan instead, which is why only a load calls this.
    pub fn defer_touch_indexes(&mut self) -> StoreResult<()> {
        if !self.touch_indexes_deferred {
            for (name, _) in TOUCH_SECONDARY_INDEXES {
                self.tx.execute_batch(&format!("DROP INDEX {name}"))?;
            }
            self.touch_indexes_deferred = true;
        }
        Ok(())
    }

    /// Commits everything written through this transaction, with the totals of what it
    /// inserted.
    pub fn commit(mut self) -> StoreResult<()> {
        self.touch_insert = None;
        self.blocks.flush(&self.tx)?;
        if self.touch_indexes_deferred {
            for (_, create) in TOUCH_SECONDARY_INDEXES {
                self.tx.execute_batch(create)?;
            }
            self.touch_indexes_deferred = false;
        }
        self.totals.flush(&self.tx)?;
        self.traffic_totals.flush(&self.tx)?;
        if self.inputs_changed {
            bump_input_version(&self.tx)?;
            self.inputs_changed = false;
        }
        self.payloads.flush_counts(&self.tx)?;
        self.tx.commit()?;
        Ok(())
    }

    /// Inserts a source, or updates its descriptive fields if it exists. Sync state
    /// (last attempt, success, error) of an existing source is kept.
    pub fn upsert_source(&mut self, source: &Source) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sources (source_id, kind, name, base_url, account, credential_ref, created_at_ms,
                                      last_attempt_at_ms, last_success_at_ms, last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (source_id) DO UPDATE SET
                     kind = excluded.kind, name = excluded.name, base_url = excluded.base_url,
                     account = excluded.account, credential_ref = excluded.credential_ref",
            )?
            .execute(params![
                source.source_id,
                source.kind,
                source.name,
                source.base_url,
                source.account,
                source.credential_ref,
                source.created_at_ms,
                source.last_attempt_at_ms,
                source.last_success_at_ms,
                source.last_error,
            ])?;
        Ok(())
    }

    /// Records that a sync of `source_id` started at `at_ms`.
    pub fn record_sync_attempt(&mut self, source_id: &str, at_ms: i64) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached("UPDATE sources SET last_attempt_at_ms = ?2 WHERE source_id = ?1")?
            .execute(params![source_id, at_ms])?;
        Ok(changed > 0)
    }

    /// Records a successful sync at `at_ms` and clears the last error, and the needs-reconnecting
    /// state with it: the platform accepted the credential again.
    pub fn record_sync_success(&mut self, source_id: &str, at_ms: i64) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE sources SET last_attempt_at_ms = ?2, last_success_at_ms = ?2, last_error = NULL,
                     needs_reconnect_since_ms = NULL, needs_reconnect_reason = NULL
                 WHERE source_id = ?1",
            )?
            .execute(params![source_id, at_ms])?;
        Ok(changed > 0)
    }

    /// Records a failed sync at `at_ms` with a message a person can act on (never a secret).
    pub fn record_sync_failure(
        &mut self,
        source_id: &str,
        at_ms: i64,
        error: &str,
    ) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE sources SET last_attempt_at_ms = ?2, last_error = ?3 WHERE source_id = ?1",
            )?
            .execute(params![source_id, at_ms, error])?;
        Ok(changed > 0)
    }

    /// Sets where a stream's sync stopped. Call it in the transaction that writes the page.
    pub fn put_checkpoint(&mut self, checkpoint: &SyncCheckpoint) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sync_checkpoints (source_id, stream, cursor, updated_at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (source_id, stream) DO UPDATE SET cursor = excluded.cursor, updated_at_ms = excluded.updated_at_ms",
            )?
            .execute(params![checkpoint.source_id, checkpoint.stream, checkpoint.cursor, checkpoint.updated_at_ms])?;
        Ok(())
    }

    /// Appends a raw record to the log, deduplicating against its latest stored version:
    /// the same payload is `Duplicate`, a different one is `NewVersion`, an unseen
    /// (source, stream, external_id) is `Inserted`. The payload's SHA-256 is computed here.
    pub fn insert_raw_event(&mut self, event: &NewRawEvent<'_>) -> StoreResult<RawEventOutcome> {
        let sha = payload_sha256(event.payload);
        self.insert_raw_event_with_sha256(event, &sha)
    }

    /// [`WriteTx::insert_raw_event`] with the payload's SHA-256 (as [`payload_sha256`] returns
    /// it) computed by the caller. The sync engine hashes on its fetcher task so the writer,
    /// which holds the write lock, does not spend its time there. A wrong `sha` breaks
    /// deduplication, so it must come from [`payload_sha256`]. The payload is stored
    /// compressed (see `raw_payloads`).
    pub fn insert_raw_event_with_sha256(
        &mut self,
        event: &NewRawEvent<'_>,
        sha: &[u8; 32],
    ) -> StoreResult<RawEventOutcome> {
        debug_assert_eq!(
            sha,
            &payload_sha256(event.payload),
            "the precomputed SHA-256 must be the payload's"
        );
        self.raw_event_row_written();
        // The latest version, of either layout (see `raw_payloads`). External ids are nearly
        // unique, so the index on them alone finds the few rows to check source and stream on.
        let latest: Option<(i64, [u8; 32])> = self
            .tx
            .prepare_cached(LATEST_RAW_VERSION_SQL)?
            .query_row(
                params![event.source, event.stream, event.external_id],
                |row| Ok((row.get(0)?, stored_hash(row, 1)?)),
            )
            .optional()?;
        if let Some((id, latest_sha)) = &latest
            && latest_sha == sha
        {
            return Ok(RawEventOutcome::Duplicate(*id));
        }
        let encoded = self
            .payloads
            .encode(&self.tx, event.source, event.stream, event.payload)?;
        self.tx
            .prepare_cached(
                "INSERT INTO raw_events (source, stream, external_id, received_at_ms, payload, payload_sha256,
                                         normalizer_version, payload_zstd, payload_hash, dictionary_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, '', ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                event.source,
                event.stream,
                event.external_id,
                event.received_at_ms,
                encoded.text,
                event.normalizer_version,
                encoded.zstd,
                sha.as_slice(),
                encoded.dictionary_id,
            ])?;
        let id = self.tx.last_insert_rowid();
        self.totals
            .raw_event_inserted(event.source, event.received_at_ms, latest.is_none());
        self.payloads.note_written(
            &self.tx,
            event.source,
            event.stream,
            id,
            event.received_at_ms,
        )?;
        Ok(if latest.is_some() {
            RawEventOutcome::NewVersion(id)
        } else {
            RawEventOutcome::Inserted(id)
        })
    }

    /// Records something that could not be used; returns its id.
    pub fn insert_dead_letter(&mut self, letter: &NewDeadLetter) -> StoreResult<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO dead_letters (source, stream, location, reason, payload, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                letter.source,
                letter.stream,
                letter.location,
                letter.reason,
                letter.payload,
                letter.created_at_ms,
            ])?;
        self.totals.dead_letter_inserted(&letter.source);
        Ok(self.tx.last_insert_rowid())
    }

    /// Marks a dead letter resolved at `at_ms`; the row stays as history. Returns false if
    /// there is no such unresolved dead letter.
    pub fn resolve_dead_letter(&mut self, dead_letter_id: i64, at_ms: i64) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE dead_letters SET resolved_at_ms = ?2 WHERE dead_letter_id = ?1 AND resolved_at_ms IS NULL",
            )?
            .execute(params![dead_letter_id, at_ms])?;
        Ok(changed > 0)
    }

    /// Inserts a creator or replaces its fields: creators are descriptions that a source
    /// restates, not events.
    pub fn upsert_creator(&mut self, creator: &Creator) -> StoreResult<()> {
        let known = self.exists(
            "SELECT 1 FROM creators WHERE creator_id = ?1",
            &creator.creator_id,
        )?;
        self.tx
            .prepare_cached(
                "INSERT INTO creators (creator_id, display_name, handle, platform, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (creator_id) DO UPDATE SET display_name = excluded.display_name, handle = excluded.handle,
                     platform = excluded.platform, created_at_ms = excluded.created_at_ms",
            )?
            .execute(params![
                creator.creator_id,
                creator.display_name,
                creator.handle,
                creator.platform,
                creator.created_at_ms,
            ])?;
        if !known {
            self.totals.row_inserted(CountedRows::Creators);
        }
        Ok(())
    }

    /// Inserts a campaign or replaces its fields.
    pub fn upsert_campaign(&mut self, campaign: &Campaign) -> StoreResult<()> {
        let known = self.exists(
            "SELECT 1 FROM campaigns WHERE campaign_id = ?1",
            &campaign.campaign_id,
        )?;
        self.tx
            .prepare_cached(
                "INSERT INTO campaigns (campaign_id, platform, account_id, name, channel, creator_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (campaign_id) DO UPDATE SET platform = excluded.platform, account_id = excluded.account_id,
                     name = excluded.name, channel = excluded.channel, creator_id = excluded.creator_id",
            )?
            .execute(params![
                campaign.campaign_id,
                campaign.platform,
                campaign.account_id,
                campaign.name,
                campaign.channel,
                campaign.creator_id,
            ])?;
        if !known {
            self.totals.row_inserted(CountedRows::Campaigns);
        }
        Ok(())
    }

    /// Inserts a content item or replaces its fields.
    pub fn upsert_content(&mut self, content: &Content) -> StoreResult<()> {
        let known = self.exists(
            "SELECT 1 FROM content WHERE content_id = ?1",
            &content.content_id,
        )?;
        self.tx
            .prepare_cached(
                "INSERT INTO content (content_id, creator_id, kind, title, url, published_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (content_id) DO UPDATE SET creator_id = excluded.creator_id, kind = excluded.kind,
                     title = excluded.title, url = excluded.url, published_at_ms = excluded.published_at_ms",
            )?
            .execute(params![
                content.content_id,
                content.creator_id,
                content.kind,
                content.title,
                content.url,
                content.published_at_ms,
            ])?;
        if !known {
            self.totals.row_inserted(CountedRows::Content);
        }
        Ok(())
    }

    /// Inserts a touch; a touch whose id is stored already is a `Duplicate` and changes nothing.
    pub fn insert_touch(&mut self, touch: &Touch) -> StoreResult<InsertOutcome> {
        self.insert_touch_as(touch, TrafficClass::Human)
    }

    /// [`WriteTx::insert_touch`] for a touch whose traffic class was decided before it was
    /// written (see `TouchVerdict`): a new touch's row is inserted with `class`.
    pub(crate) fn insert_touch_as(
        &mut self,
        touch: &Touch,
        class: TrafficClass,
    ) -> StoreResult<InsertOutcome> {
        if self.is_suppressed(touch)? {
            self.erase_raw_payload(touch.raw_event_id)?;
            return Ok(InsertOutcome::Suppressed);
        }
        let changed = self.insert_touch_row(touch, None, class)?;
        self.inputs_changed |= changed > 0;
        if changed > 0 {
            self.totals.row_inserted(CountedRows::Touches);
        }
        Ok(outcome(changed))
    }

    /// Whether `touch` belongs to an erased person (see `suppression`).
    pub(crate) fn is_suppressed(&mut self, touch: &Touch) -> StoreResult<bool> {
        Ok(self
            .suppression()?
            .matches(&touch.identity, touch.click_id.as_deref()))
    }

    /// Inserts the row of `touch`, of traffic class `class`, unless its id is stored;
    /// `raw_slot` points at its payload's block slot when the payload is in a block (see
    /// `raw_blocks`). Returns how many rows were inserted.
    pub(crate) fn insert_touch_row(
        &mut self,
        touch: &Touch,
        raw_slot: Option<i64>,
        class: TrafficClass,
    ) -> StoreResult<usize> {
        let id = &touch.identity;
        let source_id = self
            .touch_names
            .id(&self.tx, TouchName::Source, &touch.source)?;
        let channel_id = self
            .touch_names
            .id(&self.tx, TouchName::Channel, &touch.channel)?;
        let touch_type_id =
            self.touch_names
                .id(&self.tx, TouchName::TouchType, &touch.touch_type)?;
        let (rowid, generation) = self.next_touch.peek(&self.tx)?;
        if self.touch_insert.is_none() {
            self.touch_insert = Some(self.conn.prepare_cached(INSERT_TOUCH_ROW_SQL)?);
        }
        let inserted = self
            .touch_insert
            .as_mut()
            .expect("prepared above")
            .execute(params![
                touch.touch_id,
                source_id,
                touch.occurred_at_ms,
                channel_id,
                touch_type_id,
                touch.creator_id,
                touch.campaign_id,
                touch.ad_id,
                touch.content_id,
                touch.click_id,
                id.person_id,
                id.anonymous_id,
                id.email_sha256.as_deref().map(stored_email_hash),
                id.customer_id,
                id.device_id,
                touch.raw_event_id,
                raw_slot,
                class.code(),
                rowid,
                generation,
            ])?;
        if inserted > 0 {
            self.next_touch.taken();
            self.totals.touch_inserted_at(touch.occurred_at_ms);
            self.traffic_totals
                .touch_inserted(source_id, channel_id, class.code());
        }
        Ok(inserted)
    }

    /// Inserts an order; an order whose id is stored already is a `Duplicate`.
    pub fn insert_order(&mut self, order: &Order) -> StoreResult<InsertOutcome> {
        check_currency("order currency", &order.currency)?;
        let anonymized;
        let order = if self
            .suppression()?
            .matches(&order.identity, order.click_id.as_deref())
        {
            // An erased person's order: the revenue is kept, the person is not.
            self.erase_raw_payload(order.raw_event_id)?;
            anonymized = Order {
                click_id: None,
                identity: IdentityKeys::default(),
                ..order.clone()
            };
            &anonymized
        } else {
            order
        };
        // Another report of a sale stored under another id (see `order_aliases`).
        let canonical = self.canonical_order_id(&order.order_id)?;
        if canonical != order.order_id {
            self.fill_order_keys(&canonical, order)?;
            return Ok(InsertOutcome::Duplicate);
        }
        let id = &order.identity;
        let changed = self
            .tx
            .prepare_cached(
                "INSERT INTO orders (order_id, source, occurred_at_ms, gross_minor, currency, status, click_id, person_id,
                                     anonymous_id, email_sha256, customer_id, device_id, raw_event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (order_id) DO NOTHING",
            )?
            .execute(params![
                order.order_id,
                order.source,
                order.occurred_at_ms,
                order.gross_minor,
                order.currency,
                order.status,
                order.click_id,
                id.person_id,
                id.anonymous_id,
                id.email_sha256,
                id.customer_id,
                id.device_id,
                order.raw_event_id,
            ])?;
        self.inputs_changed |= changed > 0;
        if changed > 0 {
            self.totals.money_inserted(
                MoneyFigure::OrderGross,
                &order.currency,
                order.gross_minor,
            )?;
            self.totals.revenue_inserted(
                MoneyFigure::OrderGross,
                &order.currency,
                order.occurred_at_ms,
                order.gross_minor,
            )?;
            self.move_earlier_adjustments(&order.order_id, order.occurred_at_ms)?;
        } else {
            // The same order again: a later report may know its click or buyer.
            self.fill_order_keys(&order.order_id, order)?;
        }
        Ok(outcome(changed))
    }

    /// Changes an order's status (e.g. `paid` to `cancelled`). Returns false if there is no
    /// such order.
    pub fn update_order_status(&mut self, order_id: &str, status: &str) -> StoreResult<bool> {
        let order_id = &self.canonical_order_id(order_id)?;
        let changed = self
            .tx
            .prepare_cached("UPDATE orders SET status = ?2 WHERE order_id = ?1 AND status <> ?2")?
            .execute(params![order_id, status])?;
        self.inputs_changed |= changed > 0;
        Ok(changed > 0 || self.exists("SELECT 1 FROM orders WHERE order_id = ?1", order_id)?)
    }

    /// Applies a later report of an order by the source that stored it: its status, gross and
    /// currency are the source's newest word (a Shopify order voided after it was authorized
    /// took no money; a Stripe charge captured in several parts grew). A report of the same
    /// order id by another source changes nothing: across platforms the first stored amount
    /// stays, and the reconciliation shows any difference. Returns whether anything changed.
    pub fn restate_order(&mut self, order: &Order) -> StoreResult<bool> {
        check_currency("order currency", &order.currency)?;
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE orders SET status = ?3, gross_minor = ?4, currency = ?5
                 WHERE order_id = ?1 AND source = ?2
                   AND (status <> ?3 OR gross_minor <> ?4 OR currency <> ?5)",
            )?
            .execute(params![
                order.order_id,
                order.source,
                order.status,
                order.gross_minor,
                order.currency,
            ])?;
        self.inputs_changed |= changed > 0;
        Ok(changed > 0)
    }

    /// Inserts a refund or chargeback; one whose id is stored already is a `Duplicate`.
    pub fn insert_adjustment(
        &mut self,
        adjustment: &OrderAdjustment,
    ) -> StoreResult<InsertOutcome> {
        check_currency("adjustment currency", &adjustment.currency)?;
        // A refund of a sale stored under another of its ids lands on that order.
        let canonical = self.canonical_order_id(&adjustment.order_id)?;
        let relinked;
        let adjustment = if canonical == adjustment.order_id {
            adjustment
        } else {
            relinked = OrderAdjustment {
                order_id: canonical,
                ..adjustment.clone()
            };
            &relinked
        };
        let changed = self
            .tx
            .prepare_cached(
                "INSERT INTO order_adjustments (adjustment_id, order_id, source, kind, occurred_at_ms, amount_minor,
                                                currency, status, raw_event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (adjustment_id) DO NOTHING",
            )?
            .execute(params![
                adjustment.adjustment_id,
                adjustment.order_id,
                adjustment.source,
                adjustment.kind,
                adjustment.occurred_at_ms,
                adjustment.amount_minor,
                adjustment.currency,
                adjustment.status,
                adjustment.raw_event_id,
            ])?;
        self.inputs_changed |= changed > 0;
        if changed > 0 && self.counts_against_revenue(adjustment)? {
            let figure = match adjustment.kind {
                AdjustmentKind::Refund => MoneyFigure::Refunds,
                AdjustmentKind::Chargeback => MoneyFigure::Chargebacks,
            };
            self.totals
                .money_inserted(figure, &adjustment.currency, adjustment.amount_minor)?;
            // Counted at its order's instant, or its own while the order is not stored.
            let at_ms = self
                .tx
                .prepare_cached("SELECT occurred_at_ms FROM orders WHERE order_id = ?1")?
                .query_row(params![adjustment.order_id], |row| row.get(0))
                .optional()?
                .unwrap_or(adjustment.occurred_at_ms);
            self.totals.revenue_inserted(
                figure,
                &adjustment.currency,
                at_ms,
                adjustment.amount_minor,
            )?;
        }
        Ok(outcome(changed))
    }

    /// The counted refunds and chargebacks of order `order_id` stored before it (each counted
    /// at its own instant until now) move onto the order's instant `at_ms` (migration 0018).
    fn move_earlier_adjustments(&mut self, order_id: &str, at_ms: i64) -> StoreResult<()> {
        let earlier: Vec<(AdjustmentKind, String, i64, i64)> = self
            .tx
            .prepare_cached(&format!(
                "SELECT kind, currency, occurred_at_ms, amount_minor FROM order_adjustments
                 WHERE order_id = ?1 AND {COUNTED_ADJUSTMENT}"
            ))?
            .query_map(params![order_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        for (kind, currency, own_ms, amount) in earlier {
            let figure = match kind {
                AdjustmentKind::Refund => MoneyFigure::Refunds,
                AdjustmentKind::Chargeback => MoneyFigure::Chargebacks,
            };
            self.totals
                .revenue_moved(figure, &currency, own_ms, at_ms, amount)?;
        }
        Ok(())
    }

    /// Whether `adjustment` takes money off revenue, by the one predicate
    /// [`COUNTED_ADJUSTMENT`] (asked of SQLite, so it is not written a second time in Rust).
    fn counts_against_revenue(&self, adjustment: &OrderAdjustment) -> StoreResult<bool> {
        Ok(self
            .tx
            .prepare_cached(&format!(
                "SELECT {COUNTED_ADJUSTMENT} FROM (SELECT ?1 AS kind, ?2 AS status)"
            ))?
            .query_row(params![adjustment.kind, adjustment.status], |row| {
                row.get(0)
            })?)
    }

    /// Changes an adjustment's status, e.g. a chargeback from `open` to `won` or `lost`.
    /// Returns false if there is no such adjustment.
    pub fn update_adjustment_status(
        &mut self,
        adjustment_id: &str,
        status: &str,
    ) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached("UPDATE order_adjustments SET status = ?2 WHERE adjustment_id = ?1 AND status <> ?2")?
            .execute(params![adjustment_id, status])?;
        self.inputs_changed |= changed > 0;
        Ok(changed > 0
            || self.exists(
                "SELECT 1 FROM order_adjustments WHERE adjustment_id = ?1",
                adjustment_id,
            )?)
    }

    /// Writes one day of ad spend. A restated day replaces the stored row (same platform,
    /// account, campaign, ad and day); it is never added to it.
    pub fn upsert_ad_spend(&mut self, spend: &AdSpend) -> StoreResult<()> {
        check_currency("ad spend currency", &spend.currency)?;
        check_day("ad spend day", &spend.day)?;
        let values = params![
            spend.platform,
            spend.account_id,
            spend.campaign_id,
            spend.ad_id,
            spend.day,
            spend.account_timezone,
            spend.channel,
            spend.creator_id,
            spend.spend_minor,
            spend.currency,
            spend.impressions,
            spend.clicks,
            spend.source,
            spend.raw_event_id,
            spend.updated_at_ms,
        ];
        // The insert first, the update only when the day is stored: a new day, which is most of
        // any import, costs one descent of the key. A new day is counted here, a restated one by
        // the update trigger of migration 0016; an upsert's DO UPDATE would carry that trigger
        // into every insert (see `totals`), DO NOTHING carries none.
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO ad_spend (platform, account_id, campaign_id, ad_id, day, account_timezone, channel,
                                       creator_id, spend_minor, currency, impressions, clicks, source, raw_event_id,
                                       updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (platform, account_id, campaign_id, ad_id, day) DO NOTHING",
            )?
            .execute(values)?;
        if inserted == 1 {
            self.totals
                .money_inserted(MoneyFigure::AdSpend, &spend.currency, spend.spend_minor)?;
            self.totals
                .spend_day_inserted(&spend.currency, &spend.day, spend.spend_minor)?;
        } else {
            self.tx
                .prepare_cached(
                    "UPDATE ad_spend SET account_timezone = ?6, channel = ?7, creator_id = ?8, spend_minor = ?9,
                         currency = ?10, impressions = ?11, clicks = ?12, source = ?13, raw_event_id = ?14,
                         updated_at_ms = ?15
                     WHERE platform = ?1 AND account_id = ?2 AND campaign_id = ?3 AND ad_id = ?4 AND day = ?5",
                )?
                .execute(values)?;
        }
        Ok(())
    }

    /// Inserts a creator cost; one whose id is stored already is a `Duplicate`.
    pub fn insert_creator_cost(&mut self, cost: &CreatorCost) -> StoreResult<InsertOutcome> {
        check_currency("creator cost currency", &cost.currency)?;
        check_day("creator cost day", &cost.day)?;
        let changed = self
            .tx
            .prepare_cached(
                "INSERT INTO creator_costs (cost_id, creator_id, day, kind, amount_minor, currency, source, raw_event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (cost_id) DO NOTHING",
            )?
            .execute(params![
                cost.cost_id,
                cost.creator_id,
                cost.day,
                cost.kind,
                cost.amount_minor,
                cost.currency,
                cost.source,
                cost.raw_event_id,
            ])?;
        if changed > 0 {
            self.totals.money_inserted(
                MoneyFigure::CreatorCosts,
                &cost.currency,
                cost.amount_minor,
            )?;
        }
        Ok(outcome(changed))
    }

    /// Removes the creator cost `cost_id` reported by `source` (a commission voided after it was
    /// stored as a cost). Returns whether a row went.
    pub fn remove_creator_cost(&mut self, cost_id: &str, source: &str) -> StoreResult<bool> {
        let removed = self
            .tx
            .prepare_cached("DELETE FROM creator_costs WHERE cost_id = ?1 AND source = ?2")?
            .execute(params![cost_id, source])?;
        Ok(removed > 0)
    }

    /// Inserts an identity link, ordering its two keys so that a link reported the other way
    /// round is recognized as the same link (`Duplicate`). Linking a key to itself is refused.
    pub fn insert_identity_link(&mut self, link: &IdentityLink) -> StoreResult<InsertOutcome> {
        self.insert_identity_link_from(link, None)
    }

    /// [`WriteTx::insert_identity_link`] for a link read from raw event `raw_event_id`, whose
    /// payload is replaced if the link belongs to an erased person.
    pub fn insert_identity_link_from(
        &mut self,
        link: &IdentityLink,
        raw_event_id: Option<i64>,
    ) -> StoreResult<InsertOutcome> {
        let (a, b) = if link.a <= link.b {
            (&link.a, &link.b)
        } else {
            (&link.b, &link.a)
        };
        if a == b {
            return Err(StoreError::InvalidValue {
                field: "identity link",
                detail: format!(
                    "a key cannot be linked to itself ({} {})",
                    a.key_type, a.value
                ),
            });
        }
        let suppression = self.suppression()?;
        if suppression.matches_key(a.key_type.as_str(), &a.value)
            || suppression.matches_key(b.key_type.as_str(), &b.value)
        {
            self.erase_raw_payload(raw_event_id)?;
            return Ok(InsertOutcome::Suppressed);
        }
        let changed = self
            .tx
            .prepare_cached(
                "INSERT INTO identity_links (key_type_a, key_a, key_type_b, key_b, source, created_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![a.key_type, a.value, b.key_type, b.value, link.source, link.created_at_ms])?;
        self.inputs_changed |= changed > 0;
        Ok(outcome(changed))
    }

    /// Writes the rate of one currency pair on one day; a restated rate replaces the old one.
    pub fn upsert_fx_rate(&mut self, rate: &FxRate) -> StoreResult<()> {
        check_day("fx day", &rate.day)?;
        check_currency("fx from_currency", &rate.from_currency)?;
        check_currency("fx to_currency", &rate.to_currency)?;
        let changed = self
            .tx
            .prepare_cached(
                "INSERT INTO fx_rates (day, from_currency, to_currency, rate, source) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (day, from_currency, to_currency) DO UPDATE SET rate = excluded.rate, source = excluded.source
                 WHERE rate <> excluded.rate OR source <> excluded.source",
            )?
            .execute(params![rate.day, rate.from_currency, rate.to_currency, rate.rate, rate.source])?;
        self.inputs_changed |= changed > 0;
        Ok(())
    }

    fn exists(&self, sql: &str, id: &str) -> StoreResult<bool> {
        Ok(self.tx.prepare_cached(sql)?.exists(params![id])?)
    }
}
