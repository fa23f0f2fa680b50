//! A credential held in memory, and the redaction that keeps it out of every text Lookback
//! writes. `Secret` has no `Display` and a `Debug` that prints nothing of the value, so a
//! `{:?}` in a log line or an error cannot leak it by accident.

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

    /// Replaces every occurrence of the secret in `text` by `[redacted]`. Servers sometimes
    /// echo (parts of) a key in error bodies, so every server text passes through here before
    /// it reaches an error, a dead letter or a log line.
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
