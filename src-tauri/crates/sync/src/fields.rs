//! Reading fields out of a JSON record with reasons a person can act on: which field, what was
//! expected, what came. Normalizers use these so that every connector's dead letters read alike.

use serde_json::{Map, Value};

use crate::connector::RecordProblem;

/// The JSON type of a value, in words.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The record as an object, or why not.
pub fn object(value: &Value) -> Result<&Map<String, Value>, RecordProblem> {
    value.as_object().ok_or_else(|| {
        RecordProblem::new(format!("the record is {}, not an object", type_name(value)))
    })
}

/// A required, non-empty string field.
pub fn required_str<'a>(
    record: &'a Map<String, Value>,
    field: &str,
) -> Result<&'a str, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Err(RecordProblem::new(format!(
            "required field {field} is missing"
        ))),
        Some(Value::String(text)) if text.trim().is_empty() => Err(RecordProblem::new(format!(
            "required field {field} is empty"
        ))),
        Some(Value::String(text)) => Ok(text),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be a string, found {}",
            type_name(other)
        ))),
    }
}

/// An optional string field: absent, null and "" are `None`; another type is a problem.
pub fn optional_str<'a>(
    record: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be a string, found {}",
            type_name(other)
        ))),
    }
}

/// A required integer field (JSON number without fraction).
pub fn required_i64(record: &Map<String, Value>, field: &str) -> Result<i64, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Err(RecordProblem::new(format!(
            "required field {field} is missing"
        ))),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            RecordProblem::new(format!("field {field} should be a whole number, found {n}"))
        }),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be a number, found {}",
            type_name(other)
        ))),
    }
}

/// How many top-level keys of `record` are not in `known`: the schema-drift count.
pub fn count_unknown(record: &Map<String, Value>, known: &[&str]) -> u32 {
    record
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .count() as u32
}

/// An optional string, owned.
pub fn owned(value: Option<&str>) -> Option<String> {
    value.map(str::to_owned)
}
