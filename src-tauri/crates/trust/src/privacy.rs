//! Privacy controls: erasing a person by any key, and the retention purge of old raw payloads.
//!
//! What is kept of a person at ingest is decided by `lookback_core::pii::minimize` (e-mails
//! hashed, other personal fields redacted unless the workspace opted in); this module covers
//! the rights a person has over what is stored about them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use lookback_store::{ErasureCounts, ErasureRequest, IdentityKey, IdentityKeyType, Store};
use sha2::{Digest, Sha256};

use crate::{TrustError, TrustResult};

/// The key an erasure request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErasureKey {
    /// A plain e-mail address; normalized and hashed like at ingest.
    Email(String),
    CustomerId(String),
    AnonymousId(String),
    DeviceId(String),
    PersonId(String),
}

impl ErasureKey {
    fn type_name(&self) -> &'static str {
        match self {
            ErasureKey::Email(_) => "email",
            ErasureKey::CustomerId(_) => "customer_id",
            ErasureKey::AnonymousId(_) => "anonymous_id",
            ErasureKey::DeviceId(_) => "device_id",
            ErasureKey::PersonId(_) => "person_id",
        }
    }

    /// The store key to start from, and literal extra terms to hunt for in payloads.
    fn resolve(&self) -> TrustResult<(IdentityKey, Vec<String>, String)> {
        let key_type = self.type_name();
        let (typed, raw) = match self {
            ErasureKey::Email(email) => {
                let normalized =
                    lookback_core::identity::normalize_email(email).ok_or_else(|| {
                        TrustError::InvalidKey {
                            key_type,
                            detail: format!("{email:?} is not an email address"),
                        }
                    })?;
                let hash = lookback_core::identity::email_sha256(&normalized).ok_or_else(|| {
                    TrustError::InvalidKey {
                        key_type,
                        detail: format!("{email:?} is not an email address"),
                    }
                })?;
                let mut extra = vec![normalized.clone()];
                let trimmed = email.trim().to_string();
                if trimmed != normalized {
                    extra.push(trimmed);
                }
                return Ok((
                    IdentityKey::new(IdentityKeyType::EmailSha256, hash),
                    extra,
                    normalized,
                ));
            }
            ErasureKey::CustomerId(v) => (IdentityKeyType::CustomerId, v),
            ErasureKey::AnonymousId(v) => (IdentityKeyType::AnonymousId, v),
            ErasureKey::DeviceId(v) => (IdentityKeyType::DeviceId, v),
            ErasureKey::PersonId(v) => (IdentityKeyType::PersonId, v),
        };
        let value = raw.trim();
        if value.is_empty() {
            return Err(TrustError::InvalidKey {
                key_type,
                detail: "the key is empty".into(),
            });
        }
        Ok((
            IdentityKey::new(typed, value),
            Vec::new(),
            value.to_string(),
        ))
    }
}

/// What `erase` hands back to the person who ran it. `receipt_salt` is shown once and never
/// stored: with it (and the key) anyone can recompute `marker` and find the audit-log entry;
/// without it the entry cannot be tied to anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureReceipt {
    pub counts: ErasureCounts,
    pub marker: String,
    pub receipt_salt: String,
}

/// Erases the person `key` belongs to: resolves their whole identity component, then deletes
/// or anonymizes every record of it (see `Store::erase_person`) and logs the erasure. The
/// input watermark moves, so every view recomputes its run.
pub fn erase(store: &mut Store, key: &ErasureKey, now_ms: i64) -> TrustResult<ErasureReceipt> {
    let (seed, extra_terms, canonical) = key.resolve()?;
    let component = store.identity_component(&seed)?;
    if component.touch_ids.is_empty() && component.order_ids.is_empty() && component.keys.len() == 1
    {
        // Nothing carries the key. Raw payloads or dead letters might still quote it, so hunt
        // there too before saying there is nothing to do.
        let counts_probe = store
            .identity_links()?
            .iter()
            .any(|l| l.a == seed || l.b == seed);
        if !counts_probe && !mentions_anywhere(store, &seed.value, &extra_terms)? {
            return Err(TrustError::PersonNotFound {
                key_type: key.type_name(),
            });
        }
    }
    let salt = random_salt();
    let marker = hex::encode(Sha256::digest(
        format!("{salt}:{}:{canonical}", key.type_name()).as_bytes(),
    ));
    let counts = store.erase_person(&ErasureRequest {
        component: &component,
        extra_terms,
        requested_key_type: key.type_name().to_string(),
        marker: marker.clone(),
        suppression_salt: random_salt(),
        erased_at_ms: now_ms,
    })?;
    Ok(ErasureReceipt {
        counts,
        marker,
        receipt_salt: salt,
    })
}

fn mentions_anywhere(store: &Store, value: &str, extra: &[String]) -> TrustResult<bool> {
    let mut found = false;
    let needles: Vec<&str> = std::iter::once(value)
        .chain(extra.iter().map(String::as_str))
        .collect();
    store.for_each_raw_event(|event| {
        if !found && needles.iter().any(|n| event.payload.contains(n)) {
            found = true;
        }
    })?;
    if !found {
        found = store.dead_letters(true)?.iter().any(|d| {
            needles
                .iter()
                .any(|n| d.payload.contains(n) || d.location.contains(n))
        });
    }
    Ok(found)
}

/// 128 bits from two independently OS-seeded SipHash keys. Good enough for a receipt salt
/// whose only job is to be unguessable; it avoids a dependency on a random-number crate.
fn random_salt() -> String {
    let mut bytes = Vec::with_capacity(16);
    for i in 0..2u8 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u8(i);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        bytes.extend_from_slice(&hasher.finish().to_be_bytes());
    }
    hex::encode(bytes)
}

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeSummary {
    pub retention_days: u32,
    /// Raw events received before this instant had their payloads blanked.
    pub cutoff_ms: i64,
    pub purged: u64,
}

/// Blanks the payloads of raw events older than the workspace's `raw_payload_retention_days`
/// and compacts the file so the old payload bytes are gone. Canonical rows, aggregates and
/// credits are kept. Running it twice purges nothing the second time.
pub fn purge_raw_payloads(store: &mut Store, now_ms: i64) -> TrustResult<PurgeSummary> {
    let retention_days = store
        .raw_payload_retention_days()?
        .ok_or(TrustError::NoRetention)?;
    let cutoff_ms = now_ms - i64::from(retention_days) * 86_400_000;
    let purged = store.purge_raw_payloads_before(cutoff_ms)?;
    if purged > 0 {
        store.compact()?;
    }
    Ok(PurgeSummary {
        retention_days,
        cutoff_ms,
        purged,
    })
}
