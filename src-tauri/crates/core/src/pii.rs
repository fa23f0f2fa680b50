//! Data minimization of raw payloads: what of a person may be kept in `raw_events`.
//!
//! Every ingest path (API sync, webhooks, CSV import) runs a payload through [`minimize`]
//! before it is normalized or stored, so no path can forget it and a payload re-read from
//! `raw_events` normalizes exactly as it did the first time:
//! - e-mail addresses are always replaced by their SHA-256 (`email` → `email_sha256`);
//! - names, phones, IP addresses, user agents and postal addresses are replaced by
//!   [`REDACTED`] unless the workspace opted in to keeping them (`store_raw_pii`).
//!
//! Redaction replaces values and keeps keys, so a payload's shape — and schema-drift checks
//! over its field names — is unchanged.

use serde_json::{Map, Value};

use crate::identity::email_sha256;

/// What replaces a redacted value: a string, so the payload keeps its shape.
pub const REDACTED: &str = "[redacted]";

/// What replaces a value under an e-mail key that is not an address: it may still be personal
/// data, so it is not kept, not even in a dead letter.
pub const WITHHELD: &str = "(withheld: not a valid email address)";

/// Keys of a person's name (compared lowercase); personal wherever they appear, except inside
/// a creator's own object (see [`CREATOR_CONTAINERS`]).
const NAME_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "full_name",
    "firstname",
    "lastname",
    "given_name",
    "family_name",
    "customer_name",
];

/// The other keys whose values are personal wherever they appear (compared lowercase).
const CONTACT_KEYS: &[&str] = &[
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
    // A user agent under the names trackers and forwarded request headers use (Dub's click
    // `ua`, a `User-Agent` header), and the headers that carry the visitor's IP.
    "ua",
    "user-agent",
    "x-forwarded-for",
    "x-real-ip",
    "cf-connecting-ip",
    "true-client-ip",
    "forwarded",
    "street",
    "zip",
    "postal_code",
];

/// Keys whose values are names only inside these objects: they describe a buyer, so a bare
/// `name` there is a person's name. Elsewhere `name` is a campaign's, product's or note
/// attribute's name, which normalizers need.
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

/// Objects that describe the creator or affiliate the team works with. Their names are the
/// display names the team sees in every view (a business contact, not a buyer), so names are
/// kept inside them; phones, IPs and addresses are still redacted.
const CREATOR_CONTAINERS: &[&str] = &["affiliate", "creator", "partner"];

/// Whether a field of this (lowercase) name holds personal data wherever it appears: names,
/// phones, IPs, user agents, postal addresses (`address*`). E-mails are hashed, not redacted.
pub fn is_pii_key(lowercase_key: &str) -> bool {
    NAME_KEYS.contains(&lowercase_key)
        || CONTACT_KEYS.contains(&lowercase_key)
        || lowercase_key.starts_with("address")
}

/// Hashes e-mails (always) and redacts the other personal fields unless `keep_raw_pii`, in
/// place. Returns how many e-mail values were hashed.
pub fn minimize(payload: &mut Value, keep_raw_pii: bool) -> usize {
    let hashed = hash_emails(payload);
    if !keep_raw_pii {
        redact_personal_fields(payload);
    }
    hashed
}

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
            let digest = email_sha256(&address).unwrap_or_else(|| WITHHELD.to_owned());
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

/// Where in the payload a value sits, for deciding whether a bare `name` is a person's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    Other,
    Person,
    Creator,
}

/// Replaces, at any depth, the value of every personal field by [`REDACTED`] (see
/// [`is_pii_key`]; a bare `name` inside a buyer object too). An object or array under a
/// personal key (a whole address) is redacted leaf by leaf, keeping its shape. `null` stays
/// `null`.
pub fn redact_personal_fields(payload: &mut Value) {
    redact_in(payload, Container::Other);
}

fn redact_in(value: &mut Value, container: Container) {
    match value {
        Value::Object(map) => {
            for (key, nested) in map.iter_mut() {
                let lower = key.to_ascii_lowercase();
                let personal = match container {
                    Container::Creator => {
                        is_pii_key(&lower) && !NAME_KEYS.contains(&lower.as_str())
                    }
                    Container::Person => is_pii_key(&lower) || lower == "name",
                    Container::Other => is_pii_key(&lower),
                };
                if personal {
                    redact_all(nested);
                } else if nested.is_object() || nested.is_array() {
                    let inner = if PERSON_CONTAINERS.contains(&lower.as_str()) {
                        Container::Person
                    } else if CREATOR_CONTAINERS.contains(&lower.as_str()) {
                        Container::Creator
                    } else {
                        Container::Other
                    };
                    redact_in(nested, inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_in(item, container)),
        _ => {}
    }
}

fn redact_all(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(redact_all),
        Value::Array(items) => items.iter_mut().for_each(redact_all),
        Value::Null => {}
        other => *other = Value::String(REDACTED.to_owned()),
    }
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
            json!(email_sha256("ann@example.com").unwrap())
        );
        assert_eq!(payload["receipt_email_sha256"], json!(WITHHELD));
        assert_eq!(payload["email_opt_in"], json!(true));
    }

    fn shop_order() -> Value {
        json!({
            "id": "o1", "name": "#1001", "browser_ip": "203.0.113.9", "email": "ann@example.com",
            "client_details": {"user_agent": "Mozilla/5.0 (X11; Linux x86_64)"},
            "customer": {"id": 7, "first_name": "Ann", "last_name": "Lee", "name": "Ann Lee", "phone": "+1 555 0100"},
            "shipping_address": {"address1": "1 Main St", "zip": "90210", "name": "Ann Lee", "country": "US"},
            "billing_address": {"address": {"street": "2 Side St", "city": "Springfield"}},
            "line_items": [{"name": "T-shirt", "price": "10.00"}],
            "note_attributes": [{"name": "lb_click", "value": "clk_1"}],
            "campaign": {"name": "Spring"},
            "affiliate": {"id": "aff_1", "first_name": "Cara", "last_name": "Ng", "phone": "+44 20 7946 0000"},
            "phone": null
        })
    }

    #[test]
    fn personal_fields_are_redacted_at_any_depth_and_business_names_kept() {
        let mut out = shop_order();
        minimize(&mut out, false);
        let text = out.to_string();
        for personal in [
            "203.0.113.9",
            "Mozilla",
            "Ann",
            "Lee",
            "555",
            "Main St",
            "Side St",
            "Springfield",
            "90210",
            "ann@example.com",
            "7946",
        ] {
            assert!(!text.contains(personal), "{personal} survived: {text}");
        }
        assert_eq!(out["name"], "#1001");
        assert_eq!(out["line_items"][0]["name"], "T-shirt");
        assert_eq!(out["note_attributes"][0]["name"], "lb_click");
        assert_eq!(out["campaign"]["name"], "Spring");
        assert_eq!(out["customer"]["id"], 7);
        assert_eq!(out["customer"]["first_name"], REDACTED);
        assert_eq!(out["shipping_address"]["country"], "US");
        assert_eq!(
            out["affiliate"]["first_name"], "Cara",
            "a creator's display name is kept"
        );
        assert_eq!(
            out["email_sha256"],
            json!(email_sha256("ann@example.com").unwrap())
        );
        assert!(out["phone"].is_null());
    }

    #[test]
    fn opting_in_keeps_everything_but_the_email_address() {
        let mut out = shop_order();
        minimize(&mut out, true);
        assert_eq!(out["customer"]["first_name"], "Ann");
        assert_eq!(out["browser_ip"], "203.0.113.9");
        assert!(!out.to_string().contains("ann@example.com"));
    }

    #[test]
    fn address_keys_match_by_prefix() {
        assert!(is_pii_key("address1") && is_pii_key("address_line_2") && is_pii_key("zip"));
        assert!(!is_pii_key("name") && !is_pii_key("campaign_id") && !is_pii_key("ad_id"));
    }
}
