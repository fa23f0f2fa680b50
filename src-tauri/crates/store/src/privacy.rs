//! The privacy controls of issue #7 that need SQL: resolving a person's identity component,
//! erasing it, the privacy settings, purging old raw payloads, and the erasure audit log.
//!
//! Architecture Invariant: erasure is the one documented exception to "raw_events is
//! append-only". It deletes the raw events of the erased records (a redacted row would keep its
//! external id, which can itself be a customer id), deletes the person's touches and identity
//! links, strips every personal key from their orders (the order itself, its amount and its
//! refunds stay: revenue is the business's record, not the person's), deletes dead letters that
//! quote them and the attribution runs that credited them, drops the payload dictionaries that
//! quote them (after re-encoding their rows without), empties the slots of raw-event blocks
//! that hold their records (every version; see `raw_blocks`), and bumps the input version so every
//! view recomputes. It runs with `secure_delete` on and ends with a checkpoint and `VACUUM`, so
//! no old page in the file or its `-wal` still holds the person's bytes.

use std::collections::{BTreeSet, VecDeque};

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::raw_blocks::{blank_blocks_before, erase_blocked};
use crate::raw_payloads::{
    BLANK_PAYLOADS_BEFORE_SQL, drop_dictionaries_quoting, for_each_payload, quotes_any,
};
use crate::settings::bump_input_version;
use crate::suppression::{CLICK_ID, SALT_SETTING, key_hash};
use crate::touch_generations::click_lookup;
use crate::{IdentityKey, IdentityKeyType, Store, StoreError, StoreResult};

/// The payload a purged raw event keeps: valid JSON that says what happened to it.
pub const PURGED_PAYLOAD: &str = r#"{"_purged":true}"#;

const STORE_RAW_PII: &str = "store_raw_pii";
const RAW_PAYLOAD_RETENTION_DAYS: &str = "raw_payload_retention_days";

/// Every identity key column of touches and orders, i.e. every [`IdentityKeyType`].
const KEY_TYPES: [IdentityKeyType; 5] = [
    IdentityKeyType::PersonId,
    IdentityKeyType::AnonymousId,
    IdentityKeyType::EmailSha256,
    IdentityKeyType::CustomerId,
    IdentityKeyType::DeviceId,
];

/// Everything the store knows to belong to one person: the union of keys over touches, orders
/// and identity links, reached transitively from one key, and the records carrying them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonComponent {
    pub keys: BTreeSet<IdentityKey>,
    /// Click ids of the person's touches and orders; an order carrying a click id is joined
    /// deterministically to the touch with it, so those records are the person's too.
    pub click_ids: BTreeSet<String>,
    pub touch_ids: BTreeSet<String>,
    pub order_ids: BTreeSet<String>,
}

/// One erasure to carry out.
#[derive(Debug, Clone)]
pub struct ErasureRequest<'a> {
    pub component: &'a PersonComponent,
    /// Extra literal strings to hunt for in raw payloads and dead letters besides the keys,
    /// e.g. the plain email the person gave (stored payloads may predate hashing).
    pub extra_terms: Vec<String>,
    /// The kind of key the request named (`email`, `customer_id`, ...), for the audit log.
    pub requested_key_type: String,
    /// The irreversible marker of the audit log (see migration 0005).
    pub marker: String,
    /// A fresh random salt for the suppression list's hashes, used if the workspace has none
    /// yet (see migration 0007).
    pub suppression_salt: String,
    pub erased_at_ms: i64,
}

/// What an erasure removed; this, not the person, is what the audit log keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasureCounts {
    pub keys_resolved: u64,
    pub touches_deleted: u64,
    pub orders_anonymized: u64,
    pub identity_links_deleted: u64,
    pub raw_events_deleted: u64,
    pub dead_letters_deleted: u64,
    pub runs_deleted: u64,
}

/// One row of the erasure audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRecord {
    pub erasure_id: i64,
    pub erased_at_ms: i64,
    pub requested_key_type: String,
    pub marker: String,
    pub counts: ErasureCounts,
}

impl Store {
    /// Resolves the identity component of `seed`: a breadth-first walk over touches, orders
    /// and identity links sharing any key or click id. Shared keys (one device used by two
    /// people) join components, exactly as the attribution's identity graph does.
    pub fn identity_component(&self, seed: &IdentityKey) -> StoreResult<PersonComponent> {
        let mut component = PersonComponent::default();
        let mut keys: VecDeque<IdentityKey> = VecDeque::from([seed.clone()]);
        let mut clicks: VecDeque<String> = VecDeque::new();
        component.keys.insert(seed.clone());
        let record_columns =
            "touch_id, click_id, person_id, anonymous_id, email_sha256, customer_id, device_id";
        let order_columns =
            "order_id, click_id, person_id, anonymous_id, email_sha256, customer_id, device_id";
        loop {
            let (filter, value) = if let Some(key) = keys.pop_front() {
                (format!("{} = ?1", key.key_type.as_str()), key.value)
            } else if let Some(click) = clicks.pop_front() {
                ("click_id = ?1".to_string(), click)
            } else {
                break;
            };
            for (table, columns, is_touch) in [
                ("touch_rows", record_columns, true),
                ("orders", order_columns, false),
            ] {
                // A touch's click id is looked up in each generation of `touches_by_click`.
                let filter = if is_touch && filter.starts_with("click_id") {
                    format!("{} AND {filter}", click_lookup(""))
                } else {
                    filter.clone()
                };
                let mut statement = self
                    .conn
                    .prepare_cached(&format!("SELECT {columns} FROM {table} WHERE {filter}"))?;
                let mut rows = statement.query(params![value])?;
                while let Some(row) = rows.next()? {
                    let id: String = row.get(0)?;
                    if is_touch {
                        component.touch_ids.insert(id);
                    } else {
                        component.order_ids.insert(id);
                    }
                    if let Some(click) = row.get::<_, Option<String>>(1)?
                        && component.click_ids.insert(click.clone())
                    {
                        clicks.push_back(click);
                    }
                    for (index, key_type) in KEY_TYPES.iter().enumerate() {
                        if let Some(v) = row.get::<_, Option<String>>(2 + index)? {
                            let key = IdentityKey::new(*key_type, v);
                            if component.keys.insert(key.clone()) {
                                keys.push_back(key);
                            }
                        }
                    }
                }
            }
            if filter.starts_with("click_id") {
                continue;
            }
            let key_type = filter.split(' ').next().unwrap_or_default().to_string();
            let mut statement = self.conn.prepare_cached(
                "SELECT key_type_b, key_b FROM identity_links WHERE key_type_a = ?1 AND key_a = ?2
                 UNION SELECT key_type_a, key_a FROM identity_links WHERE key_type_b = ?1 AND key_b = ?2",
            )?;
            let linked = statement
                .query_map(params![key_type, value], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (other_type, other_value) in linked {
                let Some(other_type) = IdentityKeyType::parse(&other_type) else {
                    continue;
                };
                let key = IdentityKey::new(other_type, other_value);
                if component.keys.insert(key.clone()) {
                    keys.push_back(key);
                }
            }
        }
        Ok(component)
    }

    /// Erases a person (see the module notes for exactly what happens), records the erasure
    /// in `erasure_log`, and compacts the file so the bytes are gone, not just unlinked.
    pub fn erase_person(&mut self, request: &ErasureRequest<'_>) -> StoreResult<ErasureCounts> {
        self.ensure_writable()?;
        let component = request.component;
        // Zero the content of every deleted cell as it is freed, so nothing survives in free
        // pages; VACUUM below then rebuilds the file without them.
        self.conn.pragma_update(None, "secure_delete", true)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS erase_touch (id TEXT PRIMARY KEY);
             CREATE TEMP TABLE IF NOT EXISTS erase_order (id TEXT PRIMARY KEY);
             CREATE TEMP TABLE IF NOT EXISTS erase_term (term TEXT PRIMARY KEY, loose INTEGER NOT NULL);
             CREATE TEMP TABLE IF NOT EXISTS erase_raw (id INTEGER PRIMARY KEY);
             DELETE FROM erase_touch; DELETE FROM erase_order; DELETE FROM erase_term; DELETE FROM erase_raw;",
        )?;
        for id in &component.touch_ids {
            tx.execute(
                "INSERT OR IGNORE INTO erase_touch (id) VALUES (?1)",
                params![id],
            )?;
        }
        for id in &component.order_ids {
            tx.execute(
                "INSERT OR IGNORE INTO erase_order (id) VALUES (?1)",
                params![id],
            )?;
        }
        let terms: Vec<(String, bool)> = component
            .keys
            .iter()
            .map(|k| k.value.clone())
            .chain(component.click_ids.iter().cloned())
            .chain(request.extra_terms.iter().cloned())
            .filter(|t| !t.is_empty())
            .map(|term| {
                // Long or email-like terms are specific enough to match anywhere (a CSV line in
                // a dead letter is not JSON); short ids only match as a whole JSON string, so
                // erasing customer "42" does not delete every payload containing the digits 42.
                let loose = term.len() >= 16 || term.contains('@');
                (term, loose)
            })
            .collect();
        for (term, loose) in &terms {
            tx.execute(
                "INSERT OR IGNORE INTO erase_term (term, loose) VALUES (?1, ?2)",
                params![term, loose],
            )?;
        }
        let matches_term = |column: &str| {
            format!(
                "EXISTS (SELECT 1 FROM temp.erase_term WHERE instr({column}, CASE WHEN loose THEN term ELSE '\"' || term || '\"' END) > 0)"
            )
        };
        tx.execute_batch(
            "INSERT OR IGNORE INTO temp.erase_raw (id)
               SELECT raw_event_id FROM touches WHERE raw_event_id IS NOT NULL AND touch_id IN (SELECT id FROM temp.erase_touch)
               UNION SELECT raw_event_id FROM orders WHERE raw_event_id IS NOT NULL AND order_id IN (SELECT id FROM temp.erase_order)
               UNION SELECT raw_event_id FROM order_adjustments WHERE raw_event_id IS NOT NULL AND order_id IN (SELECT id FROM temp.erase_order)
               UNION SELECT raw_event_id FROM raw_events WHERE external_id IN (SELECT id FROM temp.erase_touch)
                     OR external_id IN (SELECT id FROM temp.erase_order)
                     OR external_id IN (SELECT adjustment_id FROM order_adjustments WHERE order_id IN (SELECT id FROM temp.erase_order));",
        )?;
        // Payloads are compressed, so SQL cannot search them: every payload is decoded and
        // searched here, by the same rule as `matches_term`.
        let mut quoting = Vec::new();
        for_each_payload(&tx, |raw_event_id, payload| {
            if quotes_any(payload.as_bytes(), &terms) {
                quoting.push(raw_event_id);
            }
            Ok(())
        })?;
        for raw_event_id in quoting {
            tx.execute(
                "INSERT OR IGNORE INTO temp.erase_raw (id) VALUES (?1)",
                params![raw_event_id],
            )?;
        }
        // Rows that stay (orders, refunds, spend, costs) lose their pointer to a deleted raw
        // event rather than block its deletion.
        for table in [
            "orders",
            "order_adjustments",
            "ad_spend",
            "creator_costs",
            "touch_rows",
        ] {
            tx.execute(
                &format!("UPDATE {table} SET raw_event_id = NULL WHERE raw_event_id IN (SELECT id FROM temp.erase_raw)"),
                [],
            )?;
        }
        let runs_deleted = tx.execute(
            "DELETE FROM attribution_runs WHERE run_id IN (
                 SELECT run_id FROM run_orders WHERE order_id IN (SELECT id FROM temp.erase_order)
                 UNION SELECT run_id FROM credits WHERE touch_id IN (SELECT id FROM temp.erase_touch))",
            [],
        )?;
        // Cached journeys are derived data that may hold the person's keys; all of it goes.
        tx.execute("DELETE FROM journey_cache", [])?;
        let touches_deleted = tx.execute(
            "DELETE FROM touch_rows WHERE touch_id IN (SELECT id FROM temp.erase_touch)",
            [],
        )?;
        crate::totals::settle_touch_span(&tx)?;
        let orders_anonymized = tx.execute(
            "UPDATE orders SET click_id = NULL, person_id = NULL, anonymous_id = NULL, email_sha256 = NULL,
                               customer_id = NULL, device_id = NULL
             WHERE order_id IN (SELECT id FROM temp.erase_order)",
            [],
        )?;
        let mut identity_links_deleted = 0;
        for key in &component.keys {
            identity_links_deleted += tx.execute(
                "DELETE FROM identity_links WHERE (key_type_a = ?1 AND key_a = ?2) OR (key_type_b = ?1 AND key_b = ?2)",
                params![key.key_type.as_str(), key.value],
            )?;
        }
        let raw_events_deleted = tx.execute(
            "DELETE FROM raw_events WHERE raw_event_id IN (SELECT id FROM temp.erase_raw)",
            [],
        )? as u64
            + erase_blocked(&tx, &terms)?;
        // A dictionary trained on the person's payloads may quote them too.
        drop_dictionaries_quoting(&tx, &terms)?;
        let dead_letters_deleted = tx.execute(
            &format!(
                "DELETE FROM dead_letters WHERE {} OR {}",
                matches_term("payload"),
                matches_term("location")
            ),
            [],
        )?;
        let counts = ErasureCounts {
            keys_resolved: component.keys.len() as u64,
            touches_deleted: touches_deleted as u64,
            orders_anonymized: orders_anonymized as u64,
            identity_links_deleted: identity_links_deleted as u64,
            raw_events_deleted,
            dead_letters_deleted: dead_letters_deleted as u64,
            runs_deleted: runs_deleted as u64,
        };
        tx.execute(
            "INSERT INTO erasure_log (erased_at_ms, requested_key_type, marker, keys_resolved, touches_deleted,
                 orders_anonymized, identity_links_deleted, raw_events_deleted, dead_letters_deleted, runs_deleted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                request.erased_at_ms,
                request.requested_key_type,
                request.marker,
                counts.keys_resolved as i64,
                counts.touches_deleted as i64,
                counts.orders_anonymized as i64,
                counts.identity_links_deleted as i64,
                counts.raw_events_deleted as i64,
                counts.dead_letters_deleted as i64,
                counts.runs_deleted as i64,
            ],
        )?;
        // The suppression list: the person's keys and click ids, salted, so a later sync or
        // import of a platform that still holds them does not bring them back.
        tx.execute(
            "INSERT OR IGNORE INTO workspace_settings (key, value) VALUES (?1, ?2)",
            params![SALT_SETTING, request.suppression_salt],
        )?;
        let salt: String = tx.query_row(
            "SELECT value FROM workspace_settings WHERE key = ?1",
            params![SALT_SETTING],
            |row| row.get(0),
        )?;
        let listed = component
            .keys
            .iter()
            .map(|k| (k.key_type.as_str(), k.value.as_str()))
            .chain(component.click_ids.iter().map(|c| (CLICK_ID, c.as_str())));
        for (key_type, value) in listed {
            tx.execute(
                "INSERT OR IGNORE INTO erased_keys (key_hash, erased_at_ms) VALUES (?1, ?2)",
                params![key_hash(&salt, key_type, value), request.erased_at_ms],
            )?;
        }
        tx.execute_batch("DELETE FROM temp.erase_touch; DELETE FROM temp.erase_order; DELETE FROM temp.erase_term; DELETE FROM temp.erase_raw;")?;
        // Touches and orders changed, so the watermark must move and every cached run of the
        // old inputs is skipped on the next view.
        bump_input_version(&tx)?;
        tx.commit()?;
        self.compact()?;
        Ok(counts)
    }

    /// Folds the WAL into the file, rebuilds the file without free pages (`VACUUM`) and
    /// truncates the WAL, so deleted data survives neither in the file nor beside it. The file
    /// keeps its page size (see `WORKSPACE_PAGE_SIZE`).
    pub fn compact(&mut self) -> StoreResult<()> {
        self.ensure_writable()?;
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        self.conn.execute_batch("VACUUM;")?;
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    /// The erasure audit log, oldest first.
    pub fn erasures(&self) -> StoreResult<Vec<ErasureRecord>> {
        let mut statement = self.conn.prepare(
            "SELECT erasure_id, erased_at_ms, requested_key_type, marker, keys_resolved, touches_deleted,
                    orders_anonymized, identity_links_deleted, raw_events_deleted, dead_letters_deleted, runs_deleted
             FROM erasure_log ORDER BY erasure_id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(ErasureRecord {
                erasure_id: row.get(0)?,
                erased_at_ms: row.get(1)?,
                requested_key_type: row.get(2)?,
                marker: row.get(3)?,
                counts: ErasureCounts {
                    keys_resolved: row.get::<_, i64>(4)? as u64,
                    touches_deleted: row.get::<_, i64>(5)? as u64,
                    orders_anonymized: row.get::<_, i64>(6)? as u64,
                    identity_links_deleted: row.get::<_, i64>(7)? as u64,
                    raw_events_deleted: row.get::<_, i64>(8)? as u64,
                    dead_letters_deleted: row.get::<_, i64>(9)? as u64,
                    runs_deleted: row.get::<_, i64>(10)? as u64,
                },
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Whether the workspace opted in to keeping PII fields of raw payloads (default: no).
    pub fn store_raw_pii(&self) -> StoreResult<bool> {
        Ok(self.privacy_setting(STORE_RAW_PII)?.as_deref() == Some("true"))
    }

    pub fn set_store_raw_pii(&mut self, enabled: bool) -> StoreResult<()> {
        self.put_privacy_setting(STORE_RAW_PII, if enabled { "true" } else { "false" })
    }

    /// Days raw payloads are kept before `purge_raw_payloads_before` may blank them; `None`
    /// when the workspace keeps them forever (the default).
    pub fn raw_payload_retention_days(&self) -> StoreResult<Option<u32>> {
        match self.privacy_setting(RAW_PAYLOAD_RETENTION_DAYS)? {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| StoreError::InvalidValue {
                    field: "raw_payload_retention_days",
                    detail: format!("stored value {text:?} cannot be read"),
                }),
        }
    }

    pub fn set_raw_payload_retention_days(&mut self, days: Option<u32>) -> StoreResult<()> {
        self.ensure_writable()?;
        match days {
            Some(0) => Err(StoreError::InvalidValue {
                field: "raw_payload_retention_days",
                detail: "retention must be at least one day".into(),
            }),
            Some(days) => self.put_privacy_setting(RAW_PAYLOAD_RETENTION_DAYS, &days.to_string()),
            None => {
                self.conn.execute(
                    "DELETE FROM workspace_settings WHERE key = ?1",
                    params![RAW_PAYLOAD_RETENTION_DAYS],
                )?;
                Ok(())
            }
        }
    }

    /// Blanks the payload of every raw event received before `cutoff_ms` (to
    /// [`PURGED_PAYLOAD`]) and returns how many were blanked. Canonical rows, aggregates and
    /// credits are untouched. The payload hash is kept on purpose: a re-delivery of the same
    /// record is still recognized as a duplicate instead of re-storing the payload.
    pub fn purge_raw_payloads_before(&mut self, cutoff_ms: i64) -> StoreResult<u64> {
        self.ensure_writable()?;
        self.conn.pragma_update(None, "secure_delete", true)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            BLANK_PAYLOADS_BEFORE_SQL,
            params![PURGED_PAYLOAD, cutoff_ms],
        )? as u64
            + blank_blocks_before(&tx, PURGED_PAYLOAD, cutoff_ms)?;
        tx.commit()?;
        Ok(changed)
    }

    fn privacy_setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM workspace_settings WHERE key = ?1",
                params![key],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn put_privacy_setting(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.ensure_writable()?;
        self.conn.execute(
            "INSERT INTO workspace_settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
