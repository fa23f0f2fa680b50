//! The clock, read at the edge — by a CLI command or a window command — and passed down as
//! `now_ms`: library code never reads it.

/// The current instant, UTC milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
