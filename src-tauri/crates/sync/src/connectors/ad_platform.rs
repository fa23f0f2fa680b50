//! What the ad-platform connectors (Meta, Google Ads, TikTok) share: the days a run reads, in
//! the ad account's own time zone; the checkpoint that remembers them; the account context
//! copied into every stored payload; and reading spend amounts and counts the way all three
//! platforms send them (decimal or integer strings).
//!
//! The shape of every ad-platform run:
//! 1. A first request reads the account (currency, time zone). The account's "today" is
//!    `now_ms` seen in that zone, because the platforms report days in the account's zone.
//! 2. The days to read are planned from the checkpoint: a first sync reads the last
//!    [`BACKFILL_DAYS`]; an incremental sync reads from `synced_through − restatement_days` to
//!    today, because the platforms keep changing recent days (attribution windows, invalid
//!    clicks refunded) — a restated day replaces its stored row, it is never added to it.
//! 3. The days are read in chunks (the platforms cap a request's range, and a chunk is the
//!    unit a killed run resumes from): the checkpoint says which chunk the run is at, so a
//!    resumed run re-reads at most one chunk, whose records are then duplicates.
//! 4. When the last chunk is read the checkpoint becomes `synced_through = until`.

use lookback_core::CoreError;
use lookback_core::money::{Currency, micros_to_minor, parse_major_decimal};
use lookback_core::time::{NaiveDate, Tz, day_in_zone, parse_time_zone};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::connector::RecordProblem;
use crate::fields::type_name;

/// Days a first sync reads, today included. A year covers every lookback window Lookback
/// offers with room for comparisons; older spend can be imported from a CSV.
pub const BACKFILL_DAYS: u32 = 365;

/// The key under which a connector copies the account context into each record's payload, so
/// `normalize` stays a pure function of the stored payload and a replay gives the same rows.
pub const CONTEXT_KEY: &str = "_lookback";

/// What a connector knows about the ad account after the first request of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountContext {
    /// The platform's account id as the rows carry it (no `act_` prefix, no dashes).
    pub account_id: String,
    /// ISO 4217 code of the account currency: every amount of the account is in it.
    pub currency: String,
    /// IANA name of the account's zone: every `day` of the account is a day in it.
    pub account_timezone: String,
}

impl AccountContext {
    /// The account context after checking that the currency and zone are ones Lookback knows,
    /// so a bad value stops the run at its first request instead of dead-lettering every row.
    pub fn checked(
        account_id: String,
        currency: &str,
        account_timezone: &str,
    ) -> Result<AccountContext, String> {
        let currency =
            Currency::parse(currency).map_err(|e| format!("the account currency: {e}"))?;
        parse_time_zone(account_timezone).map_err(|e| format!("the account time zone: {e}"))?;
        Ok(AccountContext {
            account_id,
            currency: currency.code().to_owned(),
            account_timezone: account_timezone.trim().to_owned(),
        })
    }

    pub fn zone(&self) -> Result<Tz, String> {
        parse_time_zone(&self.account_timezone).map_err(|e| e.to_string())
    }

    /// The account's calendar day at `now_ms`.
    pub fn today(&self, now_ms: i64) -> Result<NaiveDate, String> {
        day_in_zone(now_ms, self.zone()?).map_err(|e| e.to_string())
    }

    /// `record` with this context added under [`CONTEXT_KEY`].
    pub fn attach(&self, mut record: Value) -> Value {
        if let Value::Object(map) = &mut record {
            map.insert(
                CONTEXT_KEY.to_owned(),
                serde_json::to_value(self).expect("the context serializes"),
            );
        }
        record
    }

    /// The context a connector attached to a stored payload.
    pub fn from_payload(record: &Map<String, Value>) -> Result<AccountContext, RecordProblem> {
        let value = record.get(CONTEXT_KEY).ok_or_else(|| {
            RecordProblem::new(format!(
                "the payload has no {CONTEXT_KEY} account context (currency, time zone)"
            ))
        })?;
        serde_json::from_value(value.clone())
            .map_err(|e| RecordProblem::new(format!("field {CONTEXT_KEY}: {e}")))
    }
}

/// A stream's checkpoint. Days are `YYYY-MM-DD` in the account's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpendCheckpoint {
    /// A run is under way over `since..=until`; every day before `resume_from` is committed.
    Scanning {
        since: String,
        until: String,
        resume_from: String,
    },
    /// The last run read everything up to and including `synced_through` (its "today").
    Finished { synced_through: String },
}

impl SpendCheckpoint {
    pub fn parse(text: &str) -> Result<SpendCheckpoint, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable checkpoint {text:?}: {e}"))
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a checkpoint serializes")
    }
}

/// The days one run reads, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayScan {
    pub since: String,
    pub until: String,
    /// The first day not yet committed: the start of the chunk being read.
    pub resume_from: String,
}

impl DayScan {
    /// Plans this run's days from the stored checkpoint and the account's today.
    pub fn plan(
        checkpoint: Option<&SpendCheckpoint>,
        today: NaiveDate,
        restatement_days: u32,
    ) -> Result<DayScan, String> {
        let (since, until, resume_from) = match checkpoint {
            None => {
                let since = add_days(today, -(i64::from(BACKFILL_DAYS) - 1))?;
                (since, today, since)
            }
            Some(SpendCheckpoint::Finished { synced_through }) => {
                // The days the last run read as "recent" may have changed since: re-read from
                // `restatement_days` before the last day it read (that day itself was partial).
                let last = parse_day(synced_through)?;
                let since = add_days(last, -i64::from(restatement_days))?.min(today);
                (since, today, since)
            }
            // A killed run resumes its own scan (its `until` included: the next run re-reads
            // from there anyway).
            Some(SpendCheckpoint::Scanning {
                since,
                until,
                resume_from,
            }) => (
                parse_day(since)?,
                parse_day(until)?,
                parse_day(resume_from)?,
            ),
        };
        Ok(DayScan {
            since: format_day(since),
            until: format_day(until),
            resume_from: format_day(resume_from),
        })
    }

    /// The next chunk to read, from `resume_from`, at most `max_days` long; `None` when done.
    pub fn chunk(&self, max_days: u32) -> Result<Option<DayChunk>, String> {
        let from = parse_day(&self.resume_from)?;
        let until = parse_day(&self.until)?;
        if from > until {
            return Ok(None);
        }
        let to = add_days(from, i64::from(max_days.max(1)) - 1)?.min(until);
        Ok(Some(DayChunk {
            since: format_day(from),
            until: format_day(to),
        }))
    }

    /// The scan after `chunk` was read completely.
    pub fn after(&self, chunk: &DayChunk) -> Result<DayScan, String> {
        Ok(DayScan {
            resume_from: format_day(add_days(parse_day(&chunk.until)?, 1)?),
            ..self.clone()
        })
    }

    /// The checkpoint that goes with a page of `chunk`: mid-chunk the chunk is re-read on
    /// resume; after its last page the scan moves past it, or finishes.
    pub fn checkpoint(
        &self,
        chunk: &DayChunk,
        chunk_done: bool,
    ) -> Result<SpendCheckpoint, String> {
        if !chunk_done {
            return Ok(self.scanning());
        }
        let after = self.after(chunk)?;
        if after.chunk(1)?.is_none() {
            return Ok(SpendCheckpoint::Finished {
                synced_through: self.until.clone(),
            });
        }
        Ok(after.scanning())
    }

    pub fn scanning(&self) -> SpendCheckpoint {
        SpendCheckpoint::Scanning {
            since: self.since.clone(),
            until: self.until.clone(),
            resume_from: self.resume_from.clone(),
        }
    }
}

/// A range of days read by one request (or one report job).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayChunk {
    pub since: String,
    pub until: String,
}

impl DayChunk {
    /// How many days the chunk spans, both ends included.
    pub fn days(&self) -> Result<i64, String> {
        Ok(day_number(parse_day(&self.until)?) - day_number(parse_day(&self.since)?) + 1)
    }
}

pub fn parse_day(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| format!("day {text:?} is not YYYY-MM-DD: {e}"))
}

pub fn format_day(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// 1970-01-01 counted from 0001-01-01 (day 1), chrono's "days from CE".
const EPOCH_DAYS_FROM_CE: i64 = 719_163;

fn day_number(day: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
    day.signed_duration_since(epoch).num_days()
}

/// `day` moved by `days` (negative: earlier).
pub fn add_days(day: NaiveDate, days: i64) -> Result<NaiveDate, String> {
    i32::try_from(day_number(day) + days + EPOCH_DAYS_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| format!("{day} moved by {days} days is out of range"))
}

/// A spend decimal string in major units → minor units of `currency`.
///
/// Rounding rule: the platforms send at most the currency's decimals in practice ("14.35",
/// "5339.5"); should one send more ("0.125" USD), the amount is rounded half to even once, to
/// the minor unit, through micros — the same rule as Google's `costMicros`. More than six
/// decimals is not an amount any ad platform documents, and becomes a dead letter.
pub fn spend_minor(field: &str, text: &str, currency: Currency) -> Result<i64, RecordProblem> {
    match parse_major_decimal(text, currency) {
        Ok(minor) => Ok(minor),
        Err(CoreError::TooManyDecimalPlaces { .. }) => {
            let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
            if fraction.len() > 6 {
                return Err(RecordProblem::new(format!(
                    "field {field} {text:?} has more than six decimal places"
                )));
            }
            let micros_text = format!("{whole}{fraction:0<6}");
            let micros: i64 = micros_text
                .parse()
                .map_err(|_| RecordProblem::new(format!("field {field} {text:?} is too large")))?;
            Ok(micros_to_minor(micros, currency))
        }
        Err(e) => Err(RecordProblem::new(format!("field {field}: {e}"))),
    }
}

/// A count sent as an integer string (`"361324"`). Absent or null is `None`; a number (the
/// platform changed its encoding) is accepted, since the meaning is not in doubt.
pub fn optional_count(
    record: &Map<String, Value>,
    field: &str,
) -> Result<Option<i64>, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| {
                RecordProblem::new(format!(
                    "field {field} should be a whole non-negative number, found {text:?}"
                ))
            }),
        Some(Value::Number(n)) => n.as_i64().filter(|n| *n >= 0).map(Some).ok_or_else(|| {
            RecordProblem::new(format!(
                "field {field} should be a whole non-negative number, found {n}"
            ))
        }),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be a string, found {}",
            type_name(other)
        ))),
    }
}

/// An id that should be a string but that some platform versions send as a number.
pub fn id_text(record: &Map<String, Value>, field: &str) -> Result<String, RecordProblem> {
    match record.get(field) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        None | Some(Value::Null) => Err(RecordProblem::new(format!(
            "required field {field} is missing"
        ))),
        Some(Value::String(_)) => Err(RecordProblem::new(format!(
            "required field {field} is empty"
        ))),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be a string, found {}",
            type_name(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        parse_day(text).unwrap()
    }

    #[test]
    fn first_sync_reads_the_backfill_and_incremental_reruns_the_restatement_window() {
        let first = DayScan::plan(None, day("2026-02-28"), 28).unwrap();
        assert_eq!(
            (first.since.as_str(), first.until.as_str()),
            ("2025-03-01", "2026-02-28")
        );
        let finished = SpendCheckpoint::Finished {
            synced_through: "2026-02-28".into(),
        };
        let next = DayScan::plan(Some(&finished), day("2026-03-02"), 28).unwrap();
        assert_eq!(
            (
                next.since.as_str(),
                next.until.as_str(),
                next.resume_from.as_str()
            ),
            ("2026-01-31", "2026-03-02", "2026-01-31")
        );
    }

    #[test]
    fn chunks_tile_the_scan_and_the_last_one_finishes_it() {
        let scan = DayScan {
            since: "2026-01-01".into(),
            until: "2026-02-15".into(),
            resume_from: "2026-01-01".into(),
        };
        let first = scan.chunk(30).unwrap().unwrap();
        assert_eq!(
            first,
            DayChunk {
                since: "2026-01-01".into(),
                until: "2026-01-30".into()
            }
        );
        assert_eq!(first.days().unwrap(), 30);
        assert_eq!(scan.checkpoint(&first, false).unwrap(), scan.scanning());
        let after = scan.after(&first).unwrap();
        let second = after.chunk(30).unwrap().unwrap();
        assert_eq!(
            second,
            DayChunk {
                since: "2026-01-31".into(),
                until: "2026-02-15".into()
            }
        );
        assert_eq!(
            after.checkpoint(&second, true).unwrap(),
            SpendCheckpoint::Finished {
                synced_through: "2026-02-15".into()
            }
        );
        assert!(after.after(&second).unwrap().chunk(30).unwrap().is_none());
    }

    #[test]
    fn spend_with_more_decimals_than_the_currency_rounds_half_even_once() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(spend_minor("spend", "5339.5", usd).unwrap(), 533_950);
        assert_eq!(spend_minor("spend", "0.125", usd).unwrap(), 12);
        assert_eq!(spend_minor("spend", "0.135", usd).unwrap(), 14);
        assert_eq!(spend_minor("spend", "1200.00", jpy).unwrap(), 1200);
        assert_eq!(spend_minor("spend", "1200.5", jpy).unwrap(), 1200);
        assert!(spend_minor("spend", "1.0000001", usd).is_err());
        assert!(spend_minor("spend", "-1.00", usd).is_err());
    }
}
