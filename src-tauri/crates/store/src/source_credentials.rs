//! What the workspace knows about each source's credential, besides the secret itself (which
//! only the OS keyring holds): whether the platform refused it ("needs reconnecting", with
//! when and why), and the credential's own facts as the platform last reported them (expiry,
//! data-access expiry, scopes, token type). Columns of `sources` since migration 0014.
//!
//! Architecture Invariant: none of these writes touches anything a source brought —
//! checkpoints, raw events, canonical rows and dead letters stay as they are when a credential
//! is refused or replaced, so a reconnected source resumes where it stopped.

use rusqlite::{OptionalExtension, Row, params};

use crate::{Store, StoreResult, WriteTx};

/// The credential facts of one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceCredential {
    pub source_id: String,
    /// The first refusal of the current outage: the platform refused the credential (HTTP
    /// 401/403, Meta 190, a revoked OAuth grant…) and only a new secret fixes it. `None` while
    /// the credential works or was never refused.
    pub needs_reconnect_since_ms: Option<i64>,
    /// The refusal as a person reads it (never a secret).
    pub needs_reconnect_reason: Option<String>,
    /// When the credential's facts below were last read from the platform; `None` if never
    /// (a platform without a token-inspection endpoint, or not inspected yet).
    pub checked_at_ms: Option<i64>,
    /// When the credential expires. `None` with `checked_at_ms` set: it never expires.
    pub expires_at_ms: Option<i64>,
    /// When the credential's access to data expires (Meta's `data_access_expires_at`), if it
    /// does.
    pub data_access_expires_at_ms: Option<i64>,
    /// The permissions granted to the credential (Meta's `scopes`), as the platform names them.
    pub scopes: Vec<String>,
    /// The platform's kind of credential (Meta: `USER`, `SYSTEM_USER`, `PAGE`, `APP`).
    pub token_type: Option<String>,
}

impl SourceCredential {
    /// Whether the platform refused the credential and a new one is needed.
    pub fn needs_reconnect(&self) -> bool {
        self.needs_reconnect_since_ms.is_some()
    }
}

/// A credential's facts as one inspection read them (Meta's `GET /debug_token`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialFacts {
    /// `None`: the credential never expires.
    pub expires_at_ms: Option<i64>,
    /// `None`: data access does not expire.
    pub data_access_expires_at_ms: Option<i64>,
    pub scopes: Vec<String>,
    pub token_type: Option<String>,
}

const COLUMNS: &str = "source_id, needs_reconnect_since_ms, needs_reconnect_reason, credential_checked_at_ms,
     credential_expires_at_ms, credential_data_access_expires_at_ms, credential_scopes, credential_type";

fn credential_row(row: &Row<'_>) -> rusqlite::Result<SourceCredential> {
    let scopes: Option<String> = row.get(6)?;
    Ok(SourceCredential {
        source_id: row.get(0)?,
        needs_reconnect_since_ms: row.get(1)?,
        needs_reconnect_reason: row.get(2)?,
        checked_at_ms: row.get(3)?,
        expires_at_ms: row.get(4)?,
        data_access_expires_at_ms: row.get(5)?,
        scopes: scopes
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        token_type: row.get(7)?,
    })
}

impl Store {
    /// Whether the `sources` table has the credential columns of migration 0014. Only a
    /// damaged workspace opened read-only at an older schema lacks them; it then reads as if
    /// no credential was ever refused or inspected.
    pub(crate) fn has_credential_columns(&self) -> StoreResult<bool> {
        crate::migrations::column_exists(&self.conn, "sources", "needs_reconnect_since_ms")
    }

    /// The credential facts of every registered source, sorted by source id.
    pub fn source_credentials(&self) -> StoreResult<Vec<SourceCredential>> {
        if !self.has_credential_columns()? {
            return Ok(Vec::new());
        }
        let mut statement = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM sources ORDER BY source_id"))?;
        let rows = statement.query_map([], credential_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The credential facts of one source; `None` if there is no such source.
    pub fn source_credential(&self, source_id: &str) -> StoreResult<Option<SourceCredential>> {
        if !self.has_credential_columns()? {
            return Ok(None);
        }
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sources WHERE source_id = ?1"
            ))?
            .query_row(params![source_id], credential_row)
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Records that the platform refused the credential of `source_id` at `at_ms`: the sync
    /// attempt, its error (`message`, the whole sentence a person reads) and the
    /// needs-reconnecting state with the platform's `reason` (neither ever holds a secret).
    /// The outage keeps the instant of its first refusal. Returns whether the source exists.
    pub fn record_credential_refused(
        &mut self,
        source_id: &str,
        at_ms: i64,
        reason: &str,
        message: &str,
    ) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE sources SET last_attempt_at_ms = ?2, last_error = ?4,
                     needs_reconnect_since_ms = COALESCE(needs_reconnect_since_ms, ?2),
                     needs_reconnect_reason = ?3
                 WHERE source_id = ?1",
            )?
            .execute(params![source_id, at_ms, reason, message])?;
        Ok(changed > 0)
    }

    /// Ends a needs-reconnecting outage: a new secret replaced the refused one, or the
    /// platform accepted the credential again. The last error goes with it (it was the
    /// refusal); the last success stays until a sync succeeds.
    pub fn clear_credential_refused(&mut self, source_id: &str) -> StoreResult<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE sources SET needs_reconnect_since_ms = NULL, needs_reconnect_reason = NULL,
                     last_error = CASE WHEN needs_reconnect_since_ms IS NULL THEN last_error END
                 WHERE source_id = ?1",
            )?
            .execute(params![source_id])?;
        Ok(changed > 0)
    }

    /// Stores what an inspection at `at_ms` read about the credential of `source_id`.
    pub fn record_credential_facts(
        &mut self,
        source_id: &str,
        facts: &CredentialFacts,
        at_ms: i64,
    ) -> StoreResult<bool> {
        let scopes = facts.scopes.join(" ");
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE sources SET credential_checked_at_ms = ?2, credential_expires_at_ms = ?3,
                     credential_data_access_expires_at_ms = ?4, credential_scopes = ?5,
                     credential_type = ?6
                 WHERE source_id = ?1",
            )?
            .execute(params![
                source_id,
                at_ms,
                facts.expires_at_ms,
                facts.data_access_expires_at_ms,
                scopes,
                facts.token_type,
            ])?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewRawEvent, Source, SyncCheckpoint};

    fn store_with_source() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        store
            .write(|tx| {
                tx.upsert_source(&Source {
                    source_id: "ads".into(),
                    kind: "meta".into(),
                    name: "ads".into(),
                    base_url: None,
                    account: Some("act_1".into()),
                    credential_ref: Some("meta:ads:1".into()),
                    created_at_ms: 0,
                    last_attempt_at_ms: None,
                    last_success_at_ms: None,
                    last_error: None,
                })?;
                tx.put_checkpoint(&SyncCheckpoint {
                    source_id: "ads".into(),
                    stream: "ads_insights".into(),
                    cursor: "c1".into(),
                    updated_at_ms: 5,
                })?;
                tx.insert_raw_event(&NewRawEvent {
                    source: "ads",
                    stream: "ads_insights",
                    external_id: "row-1",
                    received_at_ms: 5,
                    payload: r#"{"spend":"1.00"}"#,
                    normalizer_version: 1,
                })
                .map(|_| ())
            })
            .unwrap();
        (dir, store)
    }

    #[test]
    fn a_refusal_keeps_its_first_instant_and_a_success_or_reconnect_clears_it() {
        let (_dir, mut store) = store_with_source();
        assert!(
            !store
                .source_credential("ads")
                .unwrap()
                .unwrap()
                .needs_reconnect()
        );
        store
            .write(|tx| {
                tx.record_credential_refused(
                    "ads",
                    100,
                    "Meta error 190/463",
                    "ads: refused (463)",
                )?;
                tx.record_credential_refused("ads", 200, "Meta error 190/460", "ads: refused (460)")
            })
            .unwrap();
        let credential = store.source_credential("ads").unwrap().unwrap();
        assert_eq!(credential.needs_reconnect_since_ms, Some(100), "one outage");
        assert_eq!(
            credential.needs_reconnect_reason.as_deref(),
            Some("Meta error 190/460")
        );
        let source = &store.sources().unwrap()[0];
        assert_eq!(source.last_attempt_at_ms, Some(200));
        assert_eq!(source.last_error.as_deref(), Some("ads: refused (460)"));
        // Nothing the source brought was touched.
        assert_eq!(
            store
                .checkpoint("ads", "ads_insights")
                .unwrap()
                .unwrap()
                .cursor,
            "c1"
        );
        assert_eq!(store.row_count(crate::Table::RawEvents).unwrap(), 1);

        // A reconnect ends the outage and its error; a sync success does too.
        store
            .write(|tx| tx.clear_credential_refused("ads"))
            .unwrap();
        assert!(
            !store
                .source_credential("ads")
                .unwrap()
                .unwrap()
                .needs_reconnect()
        );
        assert_eq!(store.sources().unwrap()[0].last_error, None);
        store
            .write(|tx| {
                tx.record_credential_refused("ads", 300, "HTTP 401", "ads: refused")?;
                tx.record_sync_success("ads", 400)
            })
            .unwrap();
        let credential = store.source_credential("ads").unwrap().unwrap();
        assert_eq!(credential.needs_reconnect_since_ms, None);
        assert_eq!(credential.needs_reconnect_reason, None);
    }

    #[test]
    fn clearing_a_source_that_was_not_refused_keeps_its_sync_error() {
        let (_dir, mut store) = store_with_source();
        store
            .write(|tx| {
                tx.record_sync_failure("ads", 100, "HTTP 500")?;
                tx.clear_credential_refused("ads")
            })
            .unwrap();
        assert_eq!(
            store.sources().unwrap()[0].last_error.as_deref(),
            Some("HTTP 500")
        );
    }

    #[test]
    fn credential_facts_round_trip_and_never_expiring_is_none_with_a_check_time() {
        let (_dir, mut store) = store_with_source();
        let facts = CredentialFacts {
            expires_at_ms: None,
            data_access_expires_at_ms: Some(1_780_000_000_000),
            scopes: vec!["ads_read".into(), "business_management".into()],
            token_type: Some("SYSTEM_USER".into()),
        };
        store
            .write(|tx| tx.record_credential_facts("ads", &facts, 42))
            .unwrap();
        let credential = &store.source_credentials().unwrap()[0];
        assert_eq!(credential.checked_at_ms, Some(42));
        assert_eq!(credential.expires_at_ms, None);
        assert_eq!(
            credential.data_access_expires_at_ms,
            Some(1_780_000_000_000)
        );
        assert_eq!(credential.scopes, ["ads_read", "business_management"]);
        assert_eq!(credential.token_type.as_deref(), Some("SYSTEM_USER"));
    }
}
