//! Instants and calendar days: parsing RFC 3339 timestamps to UTC milliseconds, IANA zones, and
//! the day/week/month buckets of the reporting zone.
//!
//! Architecture Invariant: an instant is an `i64` of UTC milliseconds since the Unix epoch
//! (`*_at_ms`). A calendar day only exists relative to a zone, so every function that produces
//! or consumes a day takes the zone explicitly. Nothing here reads the clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDateTime, NaiveTime, TimeZone, Utc};

pub use chrono::NaiveDate;
pub use chrono_tz::Tz;

use crate::error::{CoreError, Result};

/// Milliseconds in one day of 24 hours (not a calendar day, which can be 23 or 25 hours).
pub const DAY_MS: i64 = 86_400_000;

/// `days` whole 24-hour days in milliseconds.
pub fn days_to_ms(days: u32) -> i64 {
    i64::from(days) * DAY_MS
}

/// Parses an ISO-8601 / RFC 3339 instant with a UTC offset into UTC milliseconds.
///
/// Accepted: `2024-03-01T12:00:00Z`, `2024-03-01T12:00:00.123+02:00`, `2024-03-01 12:00:00Z`
/// (space instead of `T`), `2024-03-01T12:00:00+0200` (offset without colon),
/// `2024-03-01T12:00Z` (no seconds). Sub-millisecond digits are truncated toward the past.
///
/// Refused with a reason that names the value: a date without a time ("has no time of day"),
/// a time without an offset ("has no UTC offset"), and anything else that is not a timestamp.
/// Guessing a zone for a bare local time is exactly how a day's revenue ends up on the wrong day.
pub fn parse_instant_ms(s: &str) -> Result<i64> {
    let trimmed = s.trim();
    let invalid = |reason: &'static str| CoreError::InvalidInstant {
        value: s.to_owned(),
        reason,
    };
    if let Ok(parsed) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(parsed.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M%#z",
    ] {
        if let Ok(parsed) = DateTime::parse_from_str(trimmed, format) {
            return Ok(parsed.timestamp_millis());
        }
    }
    if NaiveDate::parse_from_str(trimmed, "%Y-%m-%d").is_ok() {
        return Err(invalid(
            "has no time of day; an instant needs a time and a UTC offset, e.g. 2024-03-01T12:00:00Z",
        ));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if NaiveDateTime::parse_from_str(trimmed, format).is_ok() {
            return Err(invalid(
                "has no UTC offset; add Z or an offset such as +02:00",
            ));
        }
    }
    Err(invalid(
        "not an RFC 3339 timestamp such as 2024-03-01T12:00:00Z",
    ))
}

/// Formats UTC milliseconds as RFC 3339 in UTC with milliseconds: `2024-03-01T12:00:00.000Z`.
pub fn format_instant_ms(at_ms: i64) -> Result<String> {
    let at = utc(at_ms)?;
    Ok(at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Parses an IANA zone name such as `"Europe/Berlin"`, `"America/New_York"` or `"UTC"`.
///
/// Names are case-sensitive, as in the tz database; an unknown name is
/// [`CoreError::UnknownTimeZone`] naming it.
pub fn parse_time_zone(name: &str) -> Result<Tz> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| CoreError::UnknownTimeZone {
            name: name.to_owned(),
        })
}

fn utc(at_ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(at_ms).ok_or(CoreError::InstantOutOfRange { at_ms })
}

/// The calendar day on which the instant `at_ms` falls in zone `tz`.
pub fn day_in_zone(at_ms: i64, tz: Tz) -> Result<NaiveDate> {
    Ok(utc(at_ms)?.with_timezone(&tz).date_naive())
}

/// The first instant of `day` in zone `tz`, in UTC milliseconds.
///
/// Usually that is local midnight. Where a daylight-saving change makes midnight ambiguous, it is
/// the earlier of the two midnights. Where midnight does not exist (a zone that springs forward
/// at 00:00, or Samoa skipping 30 December 2011 entirely), it is the earliest instant whose local
/// time is at or after that midnight — the moment the clocks jumped — so consecutive days always
/// tile the timeline without gaps or overlaps.
pub fn day_start_ms(day: NaiveDate, tz: Tz) -> Result<i64> {
    let midnight = day.and_time(NaiveTime::MIN);
    let out_of_range = || CoreError::InvalidInstant {
        value: day.to_string(),
        reason: "is outside the supported calendar range",
    };
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(at) => Ok(at.timestamp_millis()),
        LocalResult::Ambiguous(earliest, _) => Ok(earliest.timestamp_millis()),
        LocalResult::None => {
            // Midnight falls in a gap. Step forward a minute at a time to the first local time that
            // exists (gaps are at most a day long), then narrow down to the exact second of the
            // transition, since historic zones switched at odd seconds.
            let mut probe = midnight;
            for _ in 0..=(26 * 60) {
                probe += Duration::minutes(1);
                let found = match tz.from_local_datetime(&probe) {
                    LocalResult::Single(at) => Some(at),
                    LocalResult::Ambiguous(earliest, _) => Some(earliest),
                    LocalResult::None => None,
                };
                if let Some(found) = found {
                    let mut start = found.timestamp_millis();
                    // Any earlier instant whose local time is still ≥ midnight belongs to the day.
                    for _ in 0..60 {
                        let earlier = start - 1000;
                        let local = utc(earlier)?.with_timezone(&tz).naive_local();
                        if local >= midnight {
                            start = earlier
                        } else {
                            break;
                        }
                    }
                    return Ok(start);
                }
            }
            Err(out_of_range())
        }
    }
}

/// The half-open instant range `[start, end)` of `day` in zone `tz`, in UTC milliseconds.
/// It is 24 hours long on most days and 23 or 25 on daylight-saving changes.
pub fn day_range_ms(day: NaiveDate, tz: Tz) -> Result<(i64, i64)> {
    let next = day.succ_opt().ok_or(CoreError::InvalidInstant {
        value: day.to_string(),
        reason: "is the last supported day",
    })?;
    Ok((day_start_ms(day, tz)?, day_start_ms(next, tz)?))
}

/// The size of a reporting bucket.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TimeBucket {
    /// One calendar day, keyed `2024-03-01`.
    Day,
    /// One ISO week (Monday to Sunday), keyed `2024-W09` with the ISO week-numbering year, so
    /// Monday 30 December 2024 is in `2025-W01`.
    Week,
    /// One calendar month, keyed `2024-03`.
    Month,
}

impl TimeBucket {
    /// The name used on the CLI and in stored settings: `day`, `week` or `month`.
    pub fn as_str(&self) -> &'static str {
        match self {
            TimeBucket::Day => "day",
            TimeBucket::Week => "week",
            TimeBucket::Month => "month",
        }
    }

    /// Parses `day`, `week` or `month` (case-insensitive).
    pub fn parse(name: &str) -> Result<TimeBucket> {
        match name.trim().to_ascii_lowercase().as_str() {
            "day" => Ok(TimeBucket::Day),
            "week" => Ok(TimeBucket::Week),
            "month" => Ok(TimeBucket::Month),
            _ => Err(CoreError::UnknownBucket {
                name: name.to_owned(),
            }),
        }
    }

    /// The first day of the bucket containing `day`: the day itself, its ISO Monday, or the
    /// first of its month.
    pub fn start(&self, day: NaiveDate) -> NaiveDate {
        match self {
            TimeBucket::Day => day,
            TimeBucket::Week => {
                day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
            }
            TimeBucket::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The key of the bucket containing `day`; keys sort in time order as strings.
    pub fn key(&self, day: NaiveDate) -> String {
        match self {
            TimeBucket::Day => day.format("%Y-%m-%d").to_string(),
            TimeBucket::Week => {
                let week = day.iso_week();
                format!("{:04}-W{:02}", week.year(), week.week())
            }
            TimeBucket::Month => format!("{:04}-{:02}", day.year(), day.month()),
        }
    }
}

impl fmt::Display for TimeBucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimeBucket {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<TimeBucket> {
        TimeBucket::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn instants_parse_with_offsets() {
        // 2024-03-01T12:00:00Z = 1709294400 s.
        assert_eq!(
            parse_instant_ms("2024-03-01T12:00:00Z").unwrap(),
            1_709_294_400_000
        );
        assert_eq!(
            parse_instant_ms("2024-03-01T14:00:00+02:00").unwrap(),
            1_709_294_400_000
        );
        assert_eq!(
            parse_instant_ms("2024-03-01T07:00:00-05:00").unwrap(),
            1_709_294_400_000
        );
        assert_eq!(
            parse_instant_ms("2024-03-01T14:00:00+0200").unwrap(),
            1_709_294_400_000
        );
        assert_eq!(
            parse_instant_ms("2024-03-01 12:00:00Z").unwrap(),
            1_709_294_400_000
        );
        assert_eq!(
            parse_instant_ms("2024-03-01T12:00Z").unwrap(),
            1_709_294_400_000
        );
        assert_eq!(
            parse_instant_ms("2024-03-01T12:00:00.123Z").unwrap(),
            1_709_294_400_123
        );
        assert_eq!(
            parse_instant_ms("2024-03-01T12:00:00.1239999Z").unwrap(),
            1_709_294_400_123
        );
        assert_eq!(
            parse_instant_ms(" 2024-03-01t12:00:00z ").unwrap(),
            1_709_294_400_000
        );
        assert_eq!(parse_instant_ms("1969-12-31T23:59:59.999Z").unwrap(), -1);
    }

    #[test]
    fn instants_without_offset_or_time_are_refused_by_name() {
        let err = parse_instant_ms("2024-03-01").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid instant \"2024-03-01\": has no time of day"),
            "{err}"
        );
        let err = parse_instant_ms("2024-03-01T12:00:00").unwrap_err();
        assert!(err.to_string().contains("has no UTC offset"), "{err}");
        let err = parse_instant_ms("yesterday").unwrap_err();
        assert!(err.to_string().contains("\"yesterday\""), "{err}");
        assert!(parse_instant_ms("2024-02-30T12:00:00Z").is_err());
        assert!(parse_instant_ms("").is_err());
    }

    #[test]
    fn format_instant_round_trips() {
        assert_eq!(
            format_instant_ms(1_709_294_400_123).unwrap(),
            "2024-03-01T12:00:00.123Z"
        );
        assert_eq!(
            parse_instant_ms(&format_instant_ms(-1).unwrap()).unwrap(),
            -1
        );
        assert!(matches!(
            format_instant_ms(i64::MAX),
            Err(CoreError::InstantOutOfRange { .. })
        ));
    }

    #[test]
    fn zones_parse_and_name_bad_values() {
        assert_eq!(
            parse_time_zone("Europe/Berlin").unwrap(),
            Tz::Europe__Berlin
        );
        assert_eq!(parse_time_zone("UTC").unwrap(), Tz::UTC);
        let err = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(err.to_string().contains("\"Mars/Olympus\""), "{err}");
    }

    #[test]
    fn days_depend_on_the_zone() {
        // 2024-03-01T23:30:00Z is still 1 March in New York but already 2 March in Berlin.
        let at = parse_instant_ms("2024-03-01T23:30:00Z").unwrap();
        assert_eq!(
            day_in_zone(at, Tz::America__New_York).unwrap(),
            date(2024, 3, 1)
        );
        assert_eq!(
            day_in_zone(at, Tz::Europe__Berlin).unwrap(),
            date(2024, 3, 2)
        );
        assert_eq!(day_in_zone(at, Tz::UTC).unwrap(), date(2024, 3, 1));
        assert!(matches!(
            day_in_zone(i64::MIN, Tz::UTC),
            Err(CoreError::InstantOutOfRange { .. })
        ));
    }

    #[test]
    fn day_starts_follow_daylight_saving() {
        let berlin = Tz::Europe__Berlin;
        assert_eq!(
            day_start_ms(date(2024, 3, 1), berlin).unwrap(),
            parse_instant_ms("2024-02-29T23:00:00Z").unwrap()
        );
        // 31 March 2024 in Berlin has 23 hours, 27 October 2024 has 25.
        let (start, end) = day_range_ms(date(2024, 3, 31), berlin).unwrap();
        assert_eq!(end - start, 23 * 3_600_000);
        let (start, end) = day_range_ms(date(2024, 10, 27), berlin).unwrap();
        assert_eq!(end - start, 25 * 3_600_000);
        // Santiago springs forward at midnight: 8 September 2024 starts at 01:00 local (-03:00).
        let santiago = Tz::America__Santiago;
        assert_eq!(
            day_start_ms(date(2024, 9, 8), santiago).unwrap(),
            parse_instant_ms("2024-09-08T01:00:00-03:00").unwrap()
        );
        // Samoa skipped 30 December 2011: it starts (and ends) when 31 December starts.
        let apia = Tz::Pacific__Apia;
        let skipped = day_range_ms(date(2011, 12, 30), apia).unwrap();
        assert_eq!(skipped.0, skipped.1);
        assert_eq!(
            skipped.0,
            parse_instant_ms("2011-12-31T00:00:00+14:00").unwrap()
        );
        // Every instant of a day maps back to that day.
        let (start, end) = day_range_ms(date(2024, 9, 8), santiago).unwrap();
        assert_eq!(day_in_zone(start, santiago).unwrap(), date(2024, 9, 8));
        assert_eq!(day_in_zone(end - 1, santiago).unwrap(), date(2024, 9, 8));
        assert_eq!(day_in_zone(start - 1, santiago).unwrap(), date(2024, 9, 7));
    }

    #[test]
    fn bucket_keys() {
        let monday = date(2024, 12, 30);
        assert_eq!(TimeBucket::Week.key(monday), "2025-W01");
        assert_eq!(TimeBucket::Week.key(date(2025, 1, 5)), "2025-W01");
        assert_eq!(TimeBucket::Week.key(date(2024, 12, 29)), "2024-W52");
        assert_eq!(TimeBucket::Week.start(date(2025, 1, 5)), monday);
        assert_eq!(TimeBucket::Week.start(monday), monday);
        assert_eq!(TimeBucket::Month.key(date(2024, 3, 31)), "2024-03");
        assert_eq!(TimeBucket::Month.start(date(2024, 3, 31)), date(2024, 3, 1));
        assert_eq!(TimeBucket::Day.key(date(2024, 3, 1)), "2024-03-01");
        assert_eq!(TimeBucket::parse("Week").unwrap(), TimeBucket::Week);
        assert!(matches!(
            TimeBucket::parse("year"),
            Err(CoreError::UnknownBucket { .. })
        ));
        assert_eq!(days_to_ms(30), 2_592_000_000);
    }
}
