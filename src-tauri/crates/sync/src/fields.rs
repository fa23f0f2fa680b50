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

#[cfg(test)]
mod tests {
    use super::*;
    use lookback_store::{NewDeadLetter, Store};
    use serde_json::json;

    /// Data health counts a dead letter as schema drift by its reason
    /// (`lookback_store::SCHEMA_PROBLEM_REASON`); every missing- or wrong-type reason written
    /// here must be counted, and a bad value must not be.
    #[test]
    fn missing_and_mistyped_field_reasons_count_as_schema_drift() {
        let record = json!({"id": 7, "name": "", "amount": 1.5, "flag": true});
        let record = object(&record).unwrap();
        let drift = [
            required_str(record, "missing").unwrap_err(),
            required_str(record, "name").unwrap_err(),
            required_str(record, "id").unwrap_err(),
            optional_str(record, "flag").unwrap_err(),
            required_i64(record, "absent").unwrap_err(),
            required_i64(record, "amount").unwrap_err(),
            required_i64(record, "flag").unwrap_err(),
            object(&json!([1])).unwrap_err(),
            // Connectors prefix nested fields' reasons.
            RecordProblem::new(format!(
                "affiliate.{}",
                required_str(record, "email").unwrap_err().reason
            )),
        ];
        let not_drift = [
            RecordProblem::new("field currency: unknown currency \"XXX\""),
            RecordProblem::new("event_type \"purchase\" is not one of click, conversion, refund"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(dir.path().join("w.lookback")).unwrap();
        store
            .write(|tx| {
                for problem in drift.iter().chain(&not_drift) {
                    tx.insert_dead_letter(&NewDeadLetter {
                        source: "shop".into(),
                        stream: "events".into(),
                        location: "page 1".into(),
                        reason: problem.reason.clone(),
                        payload: "{}".into(),
                        created_at_ms: 1_000,
                    })?;
                }
                Ok::<_, lookback_store::StoreError>(())
            })
            .unwrap();
        assert_eq!(
            store.schema_dead_letter_counts(0).unwrap(),
            vec![("shop".to_owned(), drift.len() as u64)]
        );
    }
}
