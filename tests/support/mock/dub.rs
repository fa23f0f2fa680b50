//! A mock of Dub's events API (api-notes.md): `GET /events?event=clicks|leads|sales&start=&end=
//! &timezone=&page=&limit=&sortOrder=` with a Bearer key (401 with Dub's error body otherwise),
//! `limit` ≤ 1000, the last 24 hours when `start` is missing, a **bare JSON array** with no
//! has-more flag, 429 `rate_limit_exceeded` with `X-RateLimit-*` and `Retry-After`, a request
//! that fails once with 500, pages that repeat the previous page's last event, and events that
//! arrive between syncs.
//!
//! Events are shaped as the official SDKs parse them (npm `dub` 0.73.5,
//! `src/models/operations/listevents.ts`: `ClickEvent`, `LeadEvent`, `SaleEvent`, with every
//! required field of their `link`, `click` and `customer`, and the deprecated flat fields
//! `click_id`, `link_id`, `invoice_id`, `saleAmount`, … that `/events` still sends). A sale is
//! `sale{amount, invoiceId, paymentProcessor}` in USD cents **with no currency** (`currency` is
//! optional in the SDK and absent from older answers; Dub stores sales converted to USD), and
//! `invoiceId` is `null` for a sale tracked without one. [`webhook_of`] turns an event into the
//! `sale.created` / `lead.created` webhook Dub sends for it (dubinc/dub
//! `apps/web/lib/webhook/schemas.ts` and `transform.ts`): the envelope
//! `{id: "evt_…", event, createdAt, data}`, where `data` has no event id and no timestamp, and a
//! webhook sale names its currency (`"usd"` once converted).

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

/// Link `n % 4` of partner `pn_{n % 2}`, as `ListEventsResponseBodyLink` requires it.
fn link(n: usize) -> Value {
    let key = format!("creator{}", n % 4);
    let mut link = json!({"id": format!("link_{}", n % 4), "domain": "dub.sh", "key": key, "url": "https://shop.example/mug",
           "trackConversion": true, "externalId": null, "tenantId": null, "programId": "prog_1",
           "partnerId": format!("pn_{}", n % 2), "archived": false, "expiresAt": null, "expiredUrl": null,
           "disabledAt": null, "password": null, "proxy": false, "title": null, "description": null, "image": null,
           "video": null, "rewrite": false, "doIndex": false, "ios": null, "android": null, "geo": null,
           "publicStats": false, "tags": [], "folderId": null, "comments": null});
    // The rest of the link in a second object: one `json!` of every field exceeds the macro's
    // recursion limit.
    let rest = json!({"shortLink": format!("https://dub.sh/{key}"), "qrCode": format!("https://api.dub.co/qr?url=https://dub.sh/{key}?qr=1"),
           "utm_source": null, "utm_medium": null, "utm_campaign": null, "utm_term": null, "utm_content": null,
           "testVariants": null, "testStartedAt": null, "testCompletedAt": null, "userId": "user_1",
           "workspaceId": "ws_1", "clicks": 0, "leads": 0, "conversions": 0, "sales": 0, "saleAmount": 0,
           "lastClicked": null, "createdAt": "2025-12-01T00:00:00.000Z", "updatedAt": "2025-12-01T00:00:00.000Z",
           "tagId": null, "projectId": "ws_1", "webhookIds": []});
    if let (Some(link), Value::Object(rest)) = (link.as_object_mut(), rest) {
        link.extend(rest);
    }
    link
}

/// Click `clk_{i:05}` at `at` (Unix s), as `ListEventsResponseBodyClick` requires it.
fn click(i: usize, at: i64) -> Value {
    json!({"id": format!("clk_{i:05}"), "timestamp": rfc3339(at), "url": "https://dub.sh/creator", "country": "US",
           "city": "San Jose", "region": "US-CA", "continent": "NA", "device": "Mobile", "browser": "Safari",
           "os": "iOS", "referer": "instagram.com", "refererUrl": "https://instagram.com/", "qr": false,
           "ip": "63.141.56.109"})
}

/// Customer `i` (`ResponseBodyCustomer`: `id`, `externalId` and `createdAt` are required).
fn customer(i: usize) -> Value {
    json!({"id": format!("cus_dub_{i}"), "externalId": format!("ext_{i}"), "name": "A Buyer",
           "email": format!("buyer{i}@example.com"), "country": "US", "createdAt": "2026-01-15T00:00:00.000Z"})
}

/// The deprecated flat fields every event still carries (`click_id`, `link_id`, …).
fn deprecated_fields(event: &mut Value, i: usize) {
    let (link, click) = (link(i), click(i, 0));
    for (name, value) in [
        ("click_id", click["id"].clone()),
        ("link_id", link["id"].clone()),
        ("domain", link["domain"].clone()),
        ("key", link["key"].clone()),
        ("url", link["url"].clone()),
        ("continent", click["continent"].clone()),
        ("country", click["country"].clone()),
        ("city", click["city"].clone()),
        ("device", click["device"].clone()),
        ("browser", click["browser"].clone()),
        ("os", click["os"].clone()),
        ("qr", json!(0)),
        ("ip", click["ip"].clone()),
    ] {
        event[name] = value;
    }
}

/// The `ClickEvent` of click `i` at `at` (Unix s).
pub fn click_event(i: usize, at: i64) -> Value {
    let mut event =
        json!({"event": "click", "timestamp": rfc3339(at), "click": click(i, at), "link": link(i)});
    deprecated_fields(&mut event, i);
    event
}

/// The `LeadEvent` of click `i` (at `clicked`) recorded at `at` (Unix s).
pub fn lead_event(i: usize, clicked: i64, at: i64) -> Value {
    let mut event = json!({"event": "lead", "timestamp": rfc3339(at), "eventId": format!("evt_lead_{i}"),
                           "eventName": "Sign up", "click": click(i, clicked), "link": link(i), "customer": customer(i)});
    deprecated_fields(&mut event, i);
    event
}

/// The `SaleEvent` of click `i` (at `clicked`) recorded at `at` (Unix s): `amount` USD cents, no
/// currency, `invoiceId` `null` when there is none (the deprecated `invoice_id` is then `""`).
pub fn sale_event(i: usize, clicked: i64, at: i64, amount: i64, invoice_id: Option<&str>) -> Value {
    let mut event = json!({"event": "sale", "timestamp": rfc3339(at), "eventId": format!("evt_sale_{i}"),
        "eventName": "Purchase", "sale": {"amount": amount, "invoiceId": invoice_id, "paymentProcessor": "stripe"},
        "click": click(i, clicked), "link": link(i), "customer": customer(i), "saleAmount": amount,
        "invoice_id": invoice_id.unwrap_or(""), "payment_processor": "stripe"});
    deprecated_fields(&mut event, i);
    event
}

/// The webhook Dub sends for a polled `lead` or `sale` event, delivered at `created_at` (Unix
/// s) with envelope id `id`: `data` holds `eventName`, `customer`, `click`, `link`, `sale`
/// (with its currency), `partner` and `metadata` — no event id, no timestamp, no deprecated
/// fields.
pub fn webhook_of(event: &Value, id: &str, created_at: i64) -> Value {
    let kind = event["event"].as_str().expect("an event");
    let mut data = json!({"eventName": event["eventName"], "customer": event["customer"], "click": event["click"],
                          "link": event["link"], "partner": null, "metadata": null});
    if kind == "sale" {
        data["sale"] = json!({"amount": event["sale"]["amount"], "currency": "usd",
                              "paymentProcessor": event["sale"]["paymentProcessor"], "invoiceId": event["sale"]["invoiceId"]});
    }
    json!({"id": id, "event": format!("{kind}.created"), "createdAt": rfc3339(created_at), "data": data})
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
        state.clicks.push(click_event(i, at));
        if i.is_multiple_of(4) {
            state.leads.push(lead_event(i, at, at + 120));
        }
        if i.is_multiple_of(8) {
            state.sales.push(sale_event(
                i,
                at,
                at + 600,
                (20 + i as i64 % 30) * 100,
                Some(&format!("in_{i:05}")),
            ));
        }
    }

    /// Adds an event of `stream` (`clicks`, `leads`, `sales`) as it is.
    pub fn push_event(&self, stream: &str, event: Value) {
        let mut state = self.state.lock().unwrap();
        match stream {
            "clicks" => state.clicks.push(event),
            "leads" => state.leads.push(event),
            "sales" => state.sales.push(event),
            other => panic!("no stream {other}"),
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
