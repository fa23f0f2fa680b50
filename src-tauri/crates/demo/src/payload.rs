//! A minimal JSON object writer for raw-event payloads. Fields come out in the order they are
//! added, whatever features of serde_json another crate turns on, so payload bytes (and their
//! hashes) are stable.

pub(crate) struct JsonObject {
    text: String,
}

impl JsonObject {
    pub(crate) fn new() -> Self {
        JsonObject {
            text: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) {
        if self.text.len() > 1 {
            self.text.push(',');
        }
        self.push_string(key);
        self.text.push(':');
    }

    fn push_string(&mut self, value: &str) {
        // serde_json's string escaping is fixed by the JSON spec; reuse it rather than
        // re-implementing it.
        self.text
            .push_str(&serde_json::to_string(value).expect("a str always serializes"));
    }

    pub(crate) fn text(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        self.push_string(value);
        self
    }

    pub(crate) fn opt_text(self, key: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.text(key, value),
            None => self.null(key),
        }
    }

    pub(crate) fn int(mut self, key: &str, value: i64) -> Self {
        self.key(key);
        self.text.push_str(&value.to_string());
        self
    }

    pub(crate) fn null(mut self, key: &str) -> Self {
        self.key(key);
        self.text.push_str("null");
        self
    }

    pub(crate) fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json_in_insertion_order() {
        let text = JsonObject::new()
            .text("b", "say \"hi\"")
            .int("a", -3)
            .opt_text("c", None)
            .finish();
        assert_eq!(text, r#"{"b":"say \"hi\"","a":-3,"c":null}"#);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["a"], -3);
    }
}
