//! Privacy controls: redacting PII fields out of raw payloads, erasing a person by any key,
//! and the retention purge of old raw payloads.
//!
//! E-mail addresses are hashed at ingest by lookback-sync (`pii::hash_emails`); this module
//! covers the rest of the PII in payloads (names, phones, IPs, user agents, addresses) and the
//! rights a person has over what is stored about them.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use lookback_store::{ErasureCounts, ErasureRequest, IdentityKey, IdentityKeyType, Store};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{TrustError, TrustResult};

/// What replaces a redacted value: a string, so the payload's shape (and any normalizer that
/// only checks a field's presence) is kept.
pub const REDACTED: &str = "[redacted]";

/// Keys whose values are PII wherever they appear.
const PII_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "full_name",
    "firstname",
    "lastname",
    "given_name",
    "family_name",
    "phone",
    "phone_number",
    "mobile",
    "telephone",
    "ip",
    "ip_address",
    "browser_ip",
    "client_ip",
    "remote_ip",
    "user_agent",
    "useragent",
    "client_user_agent",
];

/// Objects that describe a person, inside which a bare `name` is that person's name. Outside
/// them `name` is a campaign's, product's or creator's name, which normalizers need, so it is
/// kept: redacting it would make reprocessing from raw events lose campaign names.
const PERSON_CONTAINERS: &[&str] = &[
    "customer",
    "billing_address",
    "shipping_address",
    "billing_details",
    "shipping",
    "shipping_details",
    "customer_details",
    "buyer",
    "contact",
    "user",
    "default_address",
    "address",
    "addresses",
];

fn is_pii_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    PII_KEYS.contains(&key.as_str())
        || key.starts_with("address")
        || key == "street"
        || key == "zip"
        || key == "postal_code"
}

/// Returns `payload` with every PII field's value replaced by [`REDACTED`], at any depth:
/// names (`first_name`, `last_name`, and `name` inside a customer/address object), phones, IPs
/// (`ip`, `browser_ip`, ...), full user agents and address fields (`address*`, `street`, `zip`,
/// `postal_code`). `null` stays `null`. A pure function, so the ingest path can call it on
/// every payload before `insert_raw_event` unless the workspace opted in to raw PII
/// (`Store::store_raw_pii`). E-mails are not touched here: sync hashes them first.
pub fn redact_payload(payload: Value) -> Value {
    redact(payload, false)
}

fn redact(value: Value, in_person: bool) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, nested) in map {
                let lower = key.to_ascii_lowercase();
                let pii = is_pii_key(&lower) || (in_person && lower == "name");
                let redacted = if pii && !nested.is_null() {
                    if nested.is_object() || nested.is_array() {
                        // A whole address object: redact inside it, keeping its shape.
                        redact_all(nested)
                    } else {
                        Value::String(REDACTED.to_string())
                    }
                } else {
                    redact(nested, PERSON_CONTAINERS.contains(&lower.as_str()))
                };
                out.insert(key, redacted);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| redact(v, in_person)).collect())
        }
        other => other,
    }
}

fn redact_all(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, redact_all(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(redact_all).collect()),
        Value::Null => Value::Null,
        _ => Value::String(REDACTED.to_string()),
    }
}

/// The hook for the raw-event insert path: the payload text to store, redacted unless the
/// workspace opted in. Text that is not JSON is returned unchanged (a CSV line is stored as
/// the import read it; its columns are already canonical and e-mails hashed).
pub fn payload_to_store(payload: &str, store_raw_pii: bool) -> String {
    if store_raw_pii {
        return payload.to_string();
    }
    match serde_json::from_str::<Value>(payload) {
        Ok(value) => redact_payload(value).to_string(),
        Err(_) => payload.to_string(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pii_fields_are_redacted_at_any_depth_and_business_names_kept() {
        let payload = json!({
            "id": "o1", "name": "#1001", "browser_ip": "203.0.113.9",
            "client_details": {"user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
            "customer": {"id": 7, "first_name": "Ann", "last_name": "Lee", "name": "Ann Lee", "phone": "+1 555 0100"},
            "shipping_address": {"address1": "1 Main St", "zip": "90210", "name": "Ann Lee", "country": "US"},
            "line_items": [{"name": "T-shirt", "price": "10.00"}],
            "campaign": {"name": "Spring"},
            "phone": null
        });
        let out = redact_payload(payload);
        let text = out.to_string();
        for secret in [
            "203.0.113.9",
            "Mozilla",
            "Ann",
            "Lee",
            "555",
            "Main St",
            "90210",
        ] {
            assert!(!text.contains(secret), "{secret} survived: {text}");
        }
        assert_eq!(out["name"], "#1001");
        assert_eq!(out["line_items"][0]["name"], "T-shirt");
        assert_eq!(out["campaign"]["name"], "Spring");
        assert_eq!(out["customer"]["id"], 7);
        assert_eq!(out["shipping_address"]["country"], "US");
        assert!(out["phone"].is_null());
    }

    #[test]
    fn opting_in_keeps_the_payload_verbatim() {
        let raw = r#"{"first_name":"Ann"}"#;
        assert_eq!(payload_to_store(raw, true), raw);
        assert_eq!(
            payload_to_store(raw, false),
            r#"{"first_name":"[redacted]"}"#
        );
        assert_eq!(payload_to_store("a,b,c", false), "a,b,c");
    }
}
