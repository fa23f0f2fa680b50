//! Non-secret per-source settings (`source_settings`, migration 0013): key/value pairs that a
//! connector reads besides the columns of `sources`, such as the OAuth endpoints of a source
//! with an OAuth grant. Secrets never go here; they stay in the OS keyring.

use std::collections::BTreeMap;

use rusqlite::params;

use crate::write::WriteTx;
use crate::{Store, StoreResult};

impl Store {
    /// Every setting of a source, by key (empty when it has none).
    pub fn source_settings(&self, source_id: &str) -> StoreResult<BTreeMap<String, String>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT key, value FROM source_settings WHERE source_id = ?1")?;
        let rows = statement.query_map(params![source_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl WriteTx<'_> {
    /// Sets one setting of a registered source, replacing its previous value.
    pub fn set_source_setting(
        &mut self,
        source_id: &str,
        key: &str,
        value: &str,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO source_settings (source_id, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source_id, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![source_id, key, value])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Source, Store};

    #[test]
    fn settings_round_trip_and_leave_with_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        let source = Source {
            source_id: "gads".into(),
            kind: "google_ads".into(),
            name: "gads".into(),
            base_url: None,
            account: Some("1234567890".into()),
            credential_ref: None,
            created_at_ms: 0,
            last_attempt_at_ms: None,
            last_success_at_ms: None,
            last_error: None,
        };
        store
            .write(|tx| {
                tx.upsert_source(&source)?;
                tx.set_source_setting("gads", "oauth_token_url", "http://127.0.0.1:1/token")?;
                tx.set_source_setting("gads", "oauth_token_url", "http://127.0.0.1:2/token")
            })
            .unwrap();
        let settings = store.source_settings("gads").unwrap();
        assert_eq!(settings.len(), 1);
        assert_eq!(settings["oauth_token_url"], "http://127.0.0.1:2/token");
        store
            .write(|tx| tx.delete_source("gads").map(|_| ()))
            .unwrap();
        assert!(store.source_settings("gads").unwrap().is_empty());
    }
}
