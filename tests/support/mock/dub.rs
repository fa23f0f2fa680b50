//! A mock of Dub's events API (api-notes.md): `GET /events?event=clicks|leads|sales&start=&end=
//! &timezone=&page=&limit=&sortOrder=` with a Bearer key (401 with Dub's error body otherwise),
//! `limit` ≤ 1000, the last 24 hours when `start` is missing, a **bare JSON array** with no
//! has-more flag, 429 `rate_limit_exceeded` with `X-RateLimit-*` and `Retry-After`, a request
//! that fails once with 500, pages that repeat the previous page's last event, and events that
//! arrive between syncs.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::generic::rfc3339;
use super::shopify::parse_iso_ms;
use super::{MockApi, MockRequest, MockResponse};

pub const MAX_LIMIT: usize = 1000;
/// 2026-02-01T00:00:00Z: click i happens i minutes later.
const EPOCH: i64 = 1_769_904_000;

#[derive(Debug, Default)]
struct DubState {
    clicks: Vec<Value>,
    leads: Vec<Value>,
    sales: Vec<Value>,
    throttle_next: u32,
    fail_once_at_request: Option<u64>,
    requests: u64,
    repeat_last: bool,
    /// The server's clock (Unix s), for requests without `start`.
    now_s: i64,
}

/// The Dub events API of one workspace.
pub struct DubApi {
    pub key: String,
    state: Mutex<DubState>,
}

fn dub_error(status: u16, code: &str, message: &str) -> MockResponse {
    MockResponse::json(
        status,
        &json!({"error": {"code": code, "message": message, "doc_url": format!("https://dub.co/docs/api-reference/errors#{code}")}}),
    )
}

impl DubApi {
    /// `clicks` clicks on 4 links of 2 partners; every 4th click becomes a lead and every 8th a
    /// sale of `(20 + i % 30) * 100` cents.
    pub fn new(key: &str, clicks: usize, now_s: i64) -> DubApi {
        let api = DubApi {
            key: key.to_owned(),
            state: Mutex::new(DubState {
                now_s,
                ..Default::default()
            }),
        };
        for i in 0..clicks {
            api.add_click_journey(i, EPOCH + 60 * i as i64);
        }
        api
    }

    /// Click `i` at `at` (Unix s), with its lead and sale when `i` says so.
    pub fn add_click_journey(&self, i: usize, at: i64) {
        let mut state = self.state.lock().unwrap();
        let link = json!({"id": format!("link_{}", i % 4), "domain": "dub.sh", "key": format!("creator{}", i % 4),
                          "url": "https://shop.example/mug", "shortLink": format!("https://dub.sh/creator{}", i % 4),
                          "partnerId": format!("pn_{}", i % 2), "createdAt": "2025-12-01T00:00:00.000Z"});
        let click = json!({"id": format!("clk_{i:05}"), "timestamp": rfc3339(at), "country": "US", "device": "Mobile",
                           "browser": "Safari", "url": "https://dub.sh/creator", "referer": "instagram.com"});
        state.clicks.push(
            json!({"event": "click", "timestamp": rfc3339(at), "click": click, "link": link}),
        );
        let customer = json!({"id": format!("cus_dub_{i}"), "externalId": format!("ext_{i}"), "name": "A Buyer",
                              "email": format!("buyer{i}@example.com"), "country": "US"});
        if i.is_multiple_of(4) {
            state.leads.push(json!({"event": "lead", "timestamp": rfc3339(at + 120), "eventId": format!("evt_lead_{i}"),
                                    "eventName": "Sign up", "click": click, "link": link, "customer": customer}));
        }
        if i.is_multiple_of(8) {
            state.sales.push(json!({"event": "sale", "timestamp": rfc3339(at + 600), "eventId": format!("evt_sale_{i}"),
                "eventName": "Purchase", "sale": {"amount": (20 + i % 30) * 100, "currency": "usd", "invoiceId": format!("in_{i:05}"),
                "paymentProcessor": "stripe"}, "click": click, "link": link, "customer": customer}));
        }
    }

    pub fn set_now(&self, now_s: i64) {
        self.state.lock().unwrap().now_s = now_s;
    }

    pub fn throttle_next(&self, requests: u32) {
        self.state.lock().unwrap().throttle_next = requests;
    }

    pub fn fail_once_at_request(&self, request: u64) {
        self.state.lock().unwrap().fail_once_at_request = Some(request);
    }

    pub fn repeat_last(&self, repeat: bool) {
        self.state.lock().unwrap().repeat_last = repeat;
    }

    /// (clicks, leads, sales) the API holds.
    pub fn counts(&self) -> (usize, usize, usize) {
        let state = self.state.lock().unwrap();
        (state.clicks.len(), state.leads.len(), state.sales.len())
    }
}

impl MockApi for DubApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        if request.bearer() != Some(self.key.as_str()) {
            return dub_error(401, "unauthorized", "Unauthorized: Invalid API key.");
        }
        if request.method != "GET" || request.path != "/events" {
            return dub_error(404, "not_found", "The requested resource was not found.");
        }
        let mut state = self.state.lock().unwrap();
        state.requests += 1;
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return dub_error(429, "rate_limit_exceeded", "Too many requests.")
                .with_header("X-RateLimit-Limit", "60")
                .with_header("X-RateLimit-Remaining", "0")
                .with_header("X-RateLimit-Reset", &(state.now_s + 1).to_string())
                .with_header("Retry-After", "1");
        }
        if state.fail_once_at_request == Some(state.requests) {
            state.fail_once_at_request = None;
            return dub_error(
                500,
                "internal_server_error",
                "An internal server error occurred.",
            );
        }
        let events = match request.query("event").unwrap_or("clicks") {
            "clicks" => &state.clicks,
            "leads" => &state.leads,
            "sales" => &state.sales,
            other => return dub_error(400, "bad_request", &format!("Invalid event type: {other}")),
        };
        let limit = match request.query("limit").map(str::parse::<usize>) {
            None => 100,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return dub_error(
                    422,
                    "unprocessable_entity",
                    "limit: Number must be less than or equal to 1000",
                );
            }
        };
        let page = match request.query("page").map(str::parse::<usize>) {
            None => 1,
            Some(Ok(n)) if n >= 1 => n,
            Some(_) => {
                return dub_error(
                    422,
                    "unprocessable_entity",
                    "page: Number must be greater than 0",
                );
            }
        };
        let time = |name: &str, default: i64| match request.query(name) {
            None => Ok(default),
            Some(text) => parse_iso_ms(text).ok_or_else(|| {
                dub_error(
                    422,
                    "unprocessable_entity",
                    &format!("{name}: Invalid date"),
                )
            }),
        };
        // Without start Dub answers the last 24 hours only.
        let start = match time("start", (state.now_s - 86_400) * 1000) {
            Ok(ms) => ms,
            Err(response) => return response,
        };
        let end = match time("end", state.now_s * 1000) {
            Ok(ms) => ms,
            Err(response) => return response,
        };
        let mut matching: Vec<&Value> = events
            .iter()
            .filter(|e| {
                parse_iso_ms(e["timestamp"].as_str().unwrap())
                    .is_some_and(|t| t >= start && t <= end)
            })
            .collect();
        matching.sort_by_key(|e| parse_iso_ms(e["timestamp"].as_str().unwrap()));
        if request.query("sortOrder") == Some("desc") {
            matching.reverse();
        }
        let from = ((page - 1) * limit).min(matching.len());
        let to = (from + limit).min(matching.len());
        let first = if state.repeat_last && from > 0 {
            from - 1
        } else {
            from
        };
        // A repeated event makes a page one longer; the last page is still short unless it
        // lacked exactly one event, and then the client asks once more and gets `[]`.
        let body: Vec<Value> = matching[first..to].iter().map(|e| (*e).clone()).collect();
        MockResponse::json(200, &Value::Array(body))
            .with_header("X-RateLimit-Limit", "60")
            .with_header("X-RateLimit-Remaining", "59")
    }
}
