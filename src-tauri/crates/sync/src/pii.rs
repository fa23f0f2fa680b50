//! Hashing e-mail addresses out of raw payloads before anything is stored. DESIGN §3: raw PII
//! is not stored by default. The engine runs [`hash_emails`] on every record of every
//! connector, so no connector can forget it, and normalizers read the hashes it leaves.

use serde_json::{Map, Value};

/// What replaces a value under an e-mail key that is not an address: it may still be personal
/// data, so it is not kept, not even in a dead letter.
pub const WITHHELD: &str = "(withheld: not a valid email address)";

/// Whether a JSON key holds an e-mail address: `email` or `*_email` (`receipt_email`).
fn is_email_key(key: &str) -> bool {
    key == "email" || key.ends_with("_email")
}

/// Replaces, at any depth, every string under an e-mail key (`email`, `receipt_email`, ...) by
/// a key `<key>_sha256` holding the SHA-256 of the normalized address (or [`WITHHELD`]).
/// `null` e-mails are left as they are. Returns how many values were hashed.
pub fn hash_emails(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => hash_emails_in_object(map),
        Value::Array(items) => items.iter_mut().map(hash_emails).sum(),
        _ => 0,
    }
}

fn hash_emails_in_object(map: &mut Map<String, Value>) -> usize {
    let mut hashed = 0;
    let email_keys: Vec<String> = map
        .iter()
        .filter(|(key, value)| is_email_key(key) && value.is_string())
        .map(|(key, _)| key.clone())
        .collect();
    for key in email_keys {
        if let Some(Value::String(address)) = map.remove(&key) {
            let digest = lookback_core::identity::email_sha256(&address)
                .unwrap_or_else(|| WITHHELD.to_owned());
            map.insert(format!("{key}_sha256"), Value::String(digest));
            hashed += 1;
        }
    }
    for nested in map.values_mut() {
        if nested.is_object() || nested.is_array() {
            hashed += hash_emails(nested);
        }
    }
    hashed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_at_any_depth_become_hashes_and_the_address_is_gone() {
        let mut payload = json!({"email": " Ann@Example.com ", "billing_details": {"email": "bob@x.io"},
                                 "receipt_email": "nope", "other": null, "email_opt_in": true});
        assert_eq!(hash_emails(&mut payload), 3);
        let text = payload.to_string();
        assert!(!text.contains("Ann@") && !text.contains("bob@x.io") && !text.contains("nope"));
        assert_eq!(
            payload["email_sha256"],
            json!(lookback_core::identity::email_sha256("ann@example.com").unwrap())
        );
        assert_eq!(payload["receipt_email_sha256"], json!(WITHHELD));
        assert_eq!(payload["email_opt_in"], json!(true));
    }
}
