//! The suppression list of erased people: what keeps an erased person from coming back with
//! the next sync, webhook or CSV import of a platform that still holds them.
//!
//! `Store::erase_person` adds every key of the erased identity component (and its click ids)
//! as a salted hash (migration 0007). Every write transaction that inserts a touch, an order or
//! an identity link checks its keys against the list, loading it on first use — an empty list
//! costs one query per transaction. A match is handled like the erasure itself:
//! - a touch is not stored, and its raw event's payload is replaced by [`ERASED_PAYLOAD`];
//! - an order is stored without its personal keys (the revenue stays: it is the business's
//!   record), and its raw event's payload is replaced too;
//! - an identity link is not stored.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use crate::{IdentityKeys, StoreResult};

/// The payload a raw event keeps when its record belonged to an erased person.
pub const ERASED_PAYLOAD: &str = r#"{"_erased":true}"#;

/// The workspace setting holding the salt of the list's hashes.
pub(crate) const SALT_SETTING: &str = "erased_key_salt";

/// The key type under which click ids are listed.
pub(crate) const CLICK_ID: &str = "click_id";

/// The salted hash of one key, as the list stores it.
pub(crate) fn key_hash(salt: &str, key_type: &str, value: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [salt, key_type, value] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

/// The loaded list; empty (and saltless) in a workspace where nobody was erased.
#[derive(Debug, Default)]
pub(crate) struct Suppression {
    salt: String,
    hashes: HashSet<String>,
}

impl Suppression {
    pub(crate) fn load(tx: &Transaction<'_>) -> StoreResult<Suppression> {
        let salt: Option<String> = tx
            .prepare_cached("SELECT value FROM workspace_settings WHERE key = ?1")?
            .query_row(params![SALT_SETTING], |row| row.get(0))
            .optional()?;
        let Some(salt) = salt else {
            return Ok(Suppression::default());
        };
        let hashes = tx
            .prepare_cached("SELECT key_hash FROM erased_keys")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(Suppression { salt, hashes })
    }

    fn listed(&self, key_type: &str, value: Option<&str>) -> bool {
        value.is_some_and(|v| self.hashes.contains(&key_hash(&self.salt, key_type, v)))
    }

    /// Whether any of these keys (or the click id) belongs to an erased person.
    pub(crate) fn matches(&self, identity: &IdentityKeys, click_id: Option<&str>) -> bool {
        if self.hashes.is_empty() {
            return false;
        }
        self.listed(CLICK_ID, click_id)
            || [
                ("person_id", identity.person_id.as_deref()),
                ("anonymous_id", identity.anonymous_id.as_deref()),
                ("email_sha256", identity.email_sha256.as_deref()),
                ("customer_id", identity.customer_id.as_deref()),
                ("device_id", identity.device_id.as_deref()),
            ]
            .into_iter()
            .any(|(key_type, value)| self.listed(key_type, value))
    }

    /// Whether this single key belongs to an erased person.
    pub(crate) fn matches_key(&self, key_type: &str, value: &str) -> bool {
        !self.hashes.is_empty() && self.listed(key_type, Some(value))
    }
}
