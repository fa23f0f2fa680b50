//! The raw payload of a CSV row: a JSON object of every column, built into a reused buffer.
//!
//! Keys are the header names, trimmed and lowercased, in sorted order, so the same data with
//! its columns in another order hashes alike and re-imports as a duplicate. Values are the
//! field text verbatim. PII never reaches the payload: the caller passes *overrides* that
//! replace an email column's value with its SHA-256 (and the `email` key is written as
//! `email_sha256`), see [`crate::columns::Columns`].

/// Writes `{"key":"value",...}` into `out` (cleared first). `keys` holds each column's key as an
/// already-escaped JSON string literal and its index, in output order; a field the record lacks
/// is written as `""`; `overrides` replace the value of the named column indices.
pub(crate) fn write_payload(
    out: &mut String,
    keys: &[(String, usize)],
    fields: &[&str],
    overrides: &[(usize, &str)],
) {
    out.clear();
    out.push('{');
    for (n, (key, index)) in keys.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push(':');
        let value = overrides
            .iter()
            .find(|(column, _)| column == index)
            .map(|(_, value)| *value)
            .unwrap_or_else(|| fields.get(*index).copied().unwrap_or(""));
        push_json_string(out, value);
    }
    out.push('}');
}

/// Appends `s` as a JSON string literal: quotes, backslashes and control characters escaped,
/// everything else (including non-ASCII) verbatim, which JSON allows.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\nd\u{1}é,");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é,""#);
    }

    #[test]
    fn payload_uses_overrides_and_fills_missing_fields() {
        let keys = vec![
            ("\"a\"".to_owned(), 1),
            ("\"b\"".to_owned(), 0),
            ("\"c\"".to_owned(), 2),
        ];
        let mut out = String::from("stale");
        write_payload(&mut out, &keys, &["x", "y"], &[(0, "hidden")]);
        assert_eq!(out, r#"{"a":"y","b":"hidden","c":""}"#);
    }
}
