//! A mock of Lookback's generic attribution API (contract in README): `GET /v1/events?since=&limit=`
//! with Bearer auth, an opaque cursor, `limit` ≤ 1000 (400 above), 429 + `Retry-After`, and
//! scripted misbehaviour: throttling, a page that fails once with 500, pages that repeat the
//! previous page's last records, events that arrive between syncs, and slow pages.
//!
//! The first `generated` events are produced on the fly from their index (the benchmark serves
//! a million without holding them); events appended later are kept as JSON values.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::{MockApi, MockRequest, MockResponse};

/// The contract's largest `limit`.
pub const MAX_LIMIT: usize = 1000;
/// 2026-01-01T00:00:00Z: the first generated event's time; event i is i seconds later.
const EPOCH_2026: i64 = 1_767_225_600;

/// The mock's scripted state.
#[derive(Debug, Default)]
struct GenericState {
    appended: Vec<Value>,
    /// Answer this many upcoming requests with 429 + `Retry-After: 1`.
    throttle_next: u32,
    /// Fail the request for this 1-based page number once with a 500.
    fail_once_at_page: Option<u64>,
    /// Answer every request with 500 (a broken server).
    fail_always: bool,
    /// Every page but the first repeats this many records of the previous page.
    overlap: usize,
    page_delay: Duration,
    pages_served: u64,
}

/// The generic API with `generated` deterministic events, then whatever is appended.
pub struct GenericApi {
    pub token: String,
    pub generated: usize,
    state: Mutex<GenericState>,
}

impl GenericApi {
    pub fn new(token: &str, generated: usize) -> GenericApi {
        GenericApi {
            token: token.to_owned(),
            generated,
            state: Mutex::new(GenericState::default()),
        }
    }

    /// Events arriving at the platform after a sync (a late refund, new clicks).
    pub fn append(&self, events: Vec<Value>) {
        self.state.lock().unwrap().appended.extend(events);
    }

    pub fn throttle_next(&self, requests: u32) {
        self.state.lock().unwrap().throttle_next = requests;
    }

    pub fn fail_once_at_page(&self, page: u64) {
        self.state.lock().unwrap().fail_once_at_page = Some(page);
    }

    pub fn fail_always(&self, fail: bool) {
        self.state.lock().unwrap().fail_always = fail;
    }

    pub fn overlap(&self, records: usize) {
        self.state.lock().unwrap().overlap = records;
    }

    pub fn page_delay(&self, delay: Duration) {
        self.state.lock().unwrap().page_delay = delay;
    }

    /// How many events the API holds now.
    pub fn len(&self) -> usize {
        self.generated + self.state.lock().unwrap().appended.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Event `index` as JSON text.
    fn event_text(&self, state: &GenericState, index: usize) -> String {
        if index < self.generated {
            generated_event(index)
        } else {
            state.appended[index - self.generated].to_string()
        }
    }
}

/// The RFC 3339 UTC time of an instant in Unix seconds.
pub fn rfc3339(unix_s: i64) -> String {
    let days = unix_s.div_euclid(86_400);
    let secs = unix_s.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Generated event `i`: 7 clicks, 2 conversions (each on the click before it) and 1 refund
/// (of the conversion two before it) in every 10.
pub fn generated_event(i: usize) -> String {
    let at = rfc3339(EPOCH_2026 + i as i64);
    match i % 10 {
        0..=6 => format!(
            r#"{{"event_id":"e{i}","event_type":"click","occurred_at":"{at}","creator_id":"cr{}","content_id":"ct{}","campaign_id":"cp{}","channel":"creator","click_id":"clk{i}","anonymous_id":"anon{}"}}"#,
            i % 50,
            i % 200,
            i % 20,
            i % 5000
        ),
        7 | 8 => format!(
            r#"{{"event_id":"e{i}","event_type":"conversion","occurred_at":"{at}","click_id":"clk{}","order_id":"o{i}","amount":"{}.{:02}","currency":"USD","email":"person{}@example.com","customer_id":"cus{}"}}"#,
            i - 1,
            10 + i % 90,
            i % 100,
            i % 1000,
            i % 1000
        ),
        _ => format!(
            r#"{{"event_id":"e{i}","event_type":"refund","occurred_at":"{at}","order_id":"o{}","amount":"1.00","currency":"USD"}}"#,
            i - 2
        ),
    }
}

/// The 429 body and headers of the contract.
pub fn throttled() -> MockResponse {
    MockResponse::json(
        429,
        &json!({"error": {"code": "rate_limited", "message": "Too many requests"}}),
    )
    .with_header("Retry-After", "1")
}

impl MockApi for GenericApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        if request.bearer() != Some(self.token.as_str()) {
            return MockResponse::json(
                401,
                &json!({"error": {"code": "unauthorized", "message": "invalid or missing bearer token"}}),
            );
        }
        if request.method != "GET" || request.path != "/v1/events" {
            return MockResponse::json(
                404,
                &json!({"error": {"code": "not_found", "message": "no such endpoint"}}),
            );
        }
        let mut state = self.state.lock().unwrap();
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return throttled();
        }
        if state.fail_always {
            return MockResponse::json(
                500,
                &json!({"error": {"code": "internal", "message": "the server is broken"}}),
            );
        }
        let limit = match request.query("limit").map(str::parse::<usize>) {
            None => 100,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return MockResponse::json(
                    400,
                    &json!({"error": {"code": "invalid_limit", "message": "limit must be 1..1000"}}),
                );
            }
        };
        let offset = match request.query("since") {
            None | Some("") => 0,
            Some(cursor) => match cursor
                .strip_prefix("o")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(offset) => offset,
                None => {
                    return MockResponse::json(
                        400,
                        &json!({"error": {"code": "invalid_cursor", "message": "unknown cursor"}}),
                    );
                }
            },
        };
        state.pages_served += 1;
        if state.fail_once_at_page == Some(state.pages_served) {
            state.fail_once_at_page = None;
            state.pages_served -= 1;
            return MockResponse::json(
                500,
                &json!({"error": {"code": "internal", "message": "temporary failure"}}),
            );
        }
        let total = self.generated + state.appended.len();
        let start = offset.min(total);
        let end = (start + limit).min(total);
        // Duplicates across pages: a page repeats the tail of the page before it.
        let first = if start > 0 {
            start.saturating_sub(state.overlap)
        } else {
            0
        };
        let mut body = String::with_capacity((end - first) * 260 + 64);
        body.push_str(r#"{"data":["#);
        for index in first..end {
            if index > first {
                body.push(',');
            }
            body.push_str(&self.event_text(&state, index));
        }
        body.push_str(&format!(
            r#"],"next_cursor":"o{end}","has_more":{}}}"#,
            end < total
        ));
        MockResponse::raw_json(200, body.into_bytes()).with_delay(state.page_delay)
    }
}
