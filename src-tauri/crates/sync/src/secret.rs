//! A credential held in memory, and the redaction that keeps it out of every text Lookback
//! writes. `Secret` has no `Display` and a `Debug` that prints nothing of the value, so a
//! `{:?}` in a log line or an error cannot leak it by accident.
//!
//! A secret is one keyring entry. Most platforms need one token; a platform that needs several
//! (Google Ads: the OAuth access token and the developer token) keeps them as one small JSON
//! object of strings, `{"access_token":"…","developer_token":"…"}`, read with
//! [`Secret::field`] and redacted part by part.

use std::fmt;

/// An API key or token. Read with [`Secret::expose`] only where it goes onto the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret, trimming the surrounding whitespace and newline a paste or `echo` adds.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into().trim().to_owned())
    }

    /// The secret's text, for the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parts of a structured secret (a JSON object of strings), if it is one.
    fn parts(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        if !self.0.starts_with('{') {
            return None;
        }
        match serde_json::from_str(&self.0) {
            Ok(serde_json::Value::Object(map)) => Some(map),
            _ => None,
        }
    }

    /// One part of a structured secret (`field("developer_token")`), if the secret is a JSON
    /// object with that field as a non-empty string.
    pub fn field(&self, name: &str) -> Option<String> {
        match self.parts()?.remove(name)? {
            serde_json::Value::String(value) if !value.trim().is_empty() => {
                Some(value.trim().to_owned())
            }
            _ => None,
        }
    }

    /// Replaces every occurrence of the secret in `text` by `[redacted]`. Servers sometimes
    /// echo (parts of) a key in error bodies, so every server text passes through here before
    /// it reaches an error, a dead letter or a log line.
    /// A structured secret's parts are each redacted too, since a server only ever sees (and
    /// may echo) one of them.
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = text.to_owned();
        let mut values = vec![self.0.clone()];
        if let Some(parts) = self.parts() {
            values.extend(parts.values().filter_map(|v| v.as_str().map(str::to_owned)));
        }
        for value in values {
            let value = value.trim();
            if value.len() >= 4 {
                redacted = redacted.replace(value, "[redacted]");
            }
        }
        redacted
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn a_structured_secret_gives_its_fields_and_every_part_is_redacted() {
        let secret =
            Secret::new(r#"{"access_token":"ya29.tokenABC","developer_token":"devTOKEN123"}"#);
        assert_eq!(
            secret.field("access_token").as_deref(),
            Some("ya29.tokenABC")
        );
        assert_eq!(
            secret.field("developer_token").as_deref(),
            Some("devTOKEN123")
        );
        assert_eq!(secret.field("login_customer_id"), None);
        assert_eq!(
            secret.redact("token ya29.tokenABC, developer devTOKEN123"),
            "token [redacted], developer [redacted]"
        );
        let plain = Secret::new("sk_live_123456\n");
        assert_eq!(plain.field("access_token"), None);
        assert_eq!(plain.redact("key sk_live_123456"), "key [redacted]");
    }
}
