//! A mock of the Shopify Admin REST orders endpoint (api-notes.md): `X-Shopify-Access-Token`
//! (401 with Shopify's `errors` body otherwise), `limit` ≤ 250 (400 above), `status`,
//! `updated_at_min`, keyset paging (newest id first: `Order.all` declares no sort, and a
//! connector must not rely on one) through the `Link` header's
//! `page_info`, and the rule that a `page_info` request may carry only `limit` and `fields`
//! (400 otherwise). Money is decimal strings, ids integers, timestamps in the shop's offset
//! (-05:00). Scripted misbehaviour: 429 with and without `Retry-After`, a nearly full
//! leaky bucket in `X-Shopify-Shop-Api-Call-Limit`, a request that fails once with 500, pages
//! that repeat the previous page's last order, and refunds that arrive after a sync and bump the
//! order's `updated_at`.
//!
//! Versions: `/admin/api/{version}/` at the versions Shopify supports in 2026-12 (2026-01 to
//! 2026-10; `@shopify/shopify-api` 13.1.0 `ApiVersion` names up to 2026-07). An older
//! `YYYY-MM` falls forward to the oldest supported version, and every answer says which version
//! served it in `X-Shopify-API-Version` (the SDK's `ShopifyHeader.ApiVersion`); anything else
//! is 404. [`ShopifyApi::oldest_supported`] moves the support window.
//!
//! Money as Shopify books it (`@shopify/shopify-api` 2026-04 `Order`, `Refund`,
//! `Transaction`): `total_price` in the shop currency (USD), `total_price_set` with
//! `shop_money` and `presentment_money`, and refund transactions whose `amount` is in the
//! **presentment** currency (the REST `Transaction` has no `amount_set`). Orders can be paid in
//! another currency ([`ShopifyApi::add_multi_currency_order`]), voided or expired
//! ([`ShopifyApi::set_financial_status`]), or have `email` and `customer` withheld by
//! protected-customer-data rules ([`ShopifyApi::withhold_customer_data`]).

use std::sync::Mutex;

use serde_json::{Value, json};

use super::generic::rfc3339;
use super::{MockApi, MockRequest, MockResponse};

pub const MAX_LIMIT: usize = 250;
/// The shop's UTC offset in seconds (-05:00, as in Shopify's docs).
const SHOP_OFFSET_S: i64 = -5 * 3600;
/// 2026-01-01T00:00:00Z: order i is created i minutes later.
const EPOCH_2026: i64 = 1_767_225_600;
/// The stable versions Shopify supports as of 2026-12, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2026-01", "2026-04", "2026-07", "2026-10"];

/// An instant in Unix seconds as the shop writes it: `2026-01-01T07:00:00-05:00`.
pub fn shop_time(unix_s: i64) -> String {
    let local = rfc3339(unix_s + SHOP_OFFSET_S);
    format!("{}-05:00", local.trim_end_matches('Z'))
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` into Unix ms (enough for what clients send).
pub fn parse_iso_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once('T').or_else(|| text.split_once(' '))?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (clock, offset_s) = if let Some(clock) = rest.strip_suffix('Z') {
        (clock, 0)
    } else {
        let at = rest.rfind(['+', '-'])?;
        let (clock, offset) = rest.split_at(at);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (h, mi) = offset[1..]
            .split_once(':')
            .unwrap_or((&offset[1..3], &offset[3..]));
        (
            clock,
            sign * (h.parse::<i64>().ok()? * 3600 + mi.parse::<i64>().ok()? * 60),
        )
    };
    let mut c = clock.split(':');
    let (h, mi) = (
        c.next()?.parse::<i64>().ok()?,
        c.next()?.parse::<i64>().ok()?,
    );
    let seconds: f64 = c.next().unwrap_or("0").parse().ok()?;
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 - offset_s) * 1000 + (seconds * 1000.0).round() as i64)
}

#[derive(Debug, Default)]
struct ShopifyState {
    /// Orders with their `updated_at` in Unix seconds (the sort key).
    orders: Vec<(i64, Value)>,
    throttle_next: u32,
    throttle_without_retry_after_next: u32,
    fail_once_at_request: Option<u64>,
    requests: u64,
    /// Every page after the first repeats the previous page's last order.
    repeat_last: bool,
    /// The `used` half of `X-Shopify-Shop-Api-Call-Limit: used/40`.
    call_limit_used: u32,
    next_id: u64,
    /// The oldest supported version, when the test moved it past [`SUPPORTED_VERSIONS`]' first.
    oldest_supported: Option<String>,
}

/// The Shopify orders API of one shop.
pub struct ShopifyApi {
    pub token: String,
    /// When set, access tokens are checked against the tests' OAuth server instead of `token`.
    pub oauth: Option<std::sync::Arc<super::oauth_tokens::IssuedTokens>>,
    state: Mutex<ShopifyState>,
}

impl ShopifyApi {
    /// A shop with `count` orders. Order i: created at minute i of 2026, total `(10+i%90).95`
    /// USD, a customer, an e-mail; every third carries `lb_click` in its landing page, every
    /// fifth a `click_id` note attribute; every seventh already has a refund.
    pub fn new(token: &str, count: usize) -> ShopifyApi {
        let api = ShopifyApi {
            token: token.to_owned(),
            oauth: None,
            state: Mutex::new(ShopifyState {
                call_limit_used: 1,
                ..Default::default()
            }),
        };
        for i in 0..count {
            let id = api.add_order(
                EPOCH_2026 + 60 * i as i64,
                &format!("{}.95", 10 + i % 90),
                i,
            );
            if i % 7 == 6 {
                api.add_refund(id, "5.00", EPOCH_2026 + 60 * i as i64 + 3600);
            }
        }
        api
    }

    /// Accepts only access tokens the tests' OAuth server issued (and not yet expired), as a
    /// shop does with a Dev Dashboard app's client-credentials tokens.
    pub fn accepting_oauth_tokens(
        mut self,
        tokens: std::sync::Arc<super::oauth_tokens::IssuedTokens>,
    ) -> ShopifyApi {
        self.oauth = Some(tokens);
        self
    }

    /// Adds an order created at `created` (Unix s) and returns its id.
    pub fn add_order(&self, created: i64, total: &str, i: usize) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let id = 5_000_000_000 + state.next_id;
        let landing = if i.is_multiple_of(3) {
            format!("/products/mug?utm_source=ig&lb_click=clk_{i}")
        } else {
            "/".to_owned()
        };
        let notes = if i.is_multiple_of(5) {
            json!([{"name": "click_id", "value": format!("note_clk_{i}")}])
        } else {
            json!([])
        };
        let order = json!({
            "id": id, "admin_graphql_api_id": format!("gid://shopify/Order/{id}"), "name": format!("#{}", 1000 + state.next_id),
            "order_number": 1000 + state.next_id, "number": state.next_id, "created_at": shop_time(created),
            "processed_at": shop_time(created), "updated_at": shop_time(created), "cancelled_at": null, "cancel_reason": null,
            "currency": "USD", "presentment_currency": "USD", "total_price": total, "subtotal_price": total, "total_tax": "0.00",
            "total_price_set": {"shop_money": {"amount": total, "currency_code": "USD"},
                                "presentment_money": {"amount": total, "currency_code": "USD"}},
            "financial_status": "paid", "fulfillment_status": null, "test": false, "confirmed": true,
            "email": format!("buyer{}@example.com", i % 50), "contact_email": format!("buyer{}@example.com", i % 50),
            "landing_site": landing, "referring_site": "https://instagram.com/", "note_attributes": notes,
            "customer": {"id": 7_000_000 + (i % 50) as u64, "email": format!("buyer{}@example.com", i % 50), "first_name": "Buyer"},
            "line_items": [{"id": id * 10, "title": "Mug", "quantity": 1, "price": total}],
            "refunds": []
        });
        state.orders.push((created, order));
        id
    }

    /// Adds an order of the USD shop paid in `presentment_currency`: `shop_total` USD, which
    /// was `presentment_total` for the customer. Returns its id.
    pub fn add_multi_currency_order(
        &self,
        created: i64,
        shop_total: &str,
        presentment_currency: &str,
        presentment_total: &str,
    ) -> u64 {
        let id = self.add_order(created, shop_total, 1);
        let mut state = self.state.lock().unwrap();
        let (_, order) = state
            .orders
            .iter_mut()
            .find(|(_, o)| o["id"] == id)
            .expect("just added");
        order["presentment_currency"] = json!(presentment_currency);
        order["total_price_set"]["presentment_money"] =
            json!({"amount": presentment_total, "currency_code": presentment_currency});
        id
    }

    /// Sets an order's `financial_status` (`voided`, `expired`, ...) at `at` (Unix s).
    pub fn set_financial_status(&self, id: u64, status: &str, at: i64) {
        self.update(id, at, |order| order["financial_status"] = json!(status));
    }

    /// Protected-customer-data rules: the order's `email`, `contact_email` and `customer` come
    /// back null.
    pub fn withhold_customer_data(&self, id: u64) {
        let mut state = self.state.lock().unwrap();
        let (_, order) = state
            .orders
            .iter_mut()
            .find(|(_, o)| o["id"] == id)
            .expect("known order");
        for field in ["email", "contact_email", "customer"] {
            order[field] = Value::Null;
        }
    }

    fn update(&self, id: u64, at: i64, change: impl FnOnce(&mut Value)) {
        let mut state = self.state.lock().unwrap();
        let (updated, order) = state
            .orders
            .iter_mut()
            .find(|(_, o)| o["id"] == id)
            .expect("known order");
        *updated = at;
        order["updated_at"] = json!(shop_time(at));
        change(order);
    }

    /// From now on the oldest version Shopify supports is `version`: older ones fall forward.
    pub fn oldest_supported(&self, version: &str) {
        self.state.lock().unwrap().oldest_supported = Some(version.to_owned());
    }

    /// Refunds `amount` of order `id` at `at` (Unix s): a refund with one successful refund
    /// transaction is embedded, and the order's `updated_at` and `financial_status` change.
    /// The transaction is in the order's presentment currency, as Shopify's are.
    pub fn add_refund(&self, id: u64, amount: &str, at: i64) {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let refund_id = 9_000_000_000 + state.next_id;
        let (updated, order) = state
            .orders
            .iter_mut()
            .find(|(_, o)| o["id"] == id)
            .expect("known order");
        *updated = at;
        order["updated_at"] = json!(shop_time(at));
        order["financial_status"] = json!("partially_refunded");
        let currency = order["presentment_currency"].clone();
        order["refunds"].as_array_mut().unwrap().push(json!({
            "id": refund_id, "order_id": id, "created_at": shop_time(at), "processed_at": shop_time(at), "note": "late refund",
            "refund_line_items": [],
            "transactions": [{"id": refund_id + 1, "order_id": id, "kind": "refund", "status": "success", "amount": amount,
                              "currency": currency, "gateway": "shopify_payments", "created_at": shop_time(at), "processed_at": shop_time(at)}]
        }));
    }

    /// The id of the n-th order.
    pub fn order_id(&self, n: usize) -> u64 {
        self.state.lock().unwrap().orders[n].1["id"]
            .as_u64()
            .unwrap()
    }

    pub fn throttle_next(&self, requests: u32) {
        self.state.lock().unwrap().throttle_next = requests;
    }

    pub fn throttle_without_retry_after_next(&self, requests: u32) {
        self.state.lock().unwrap().throttle_without_retry_after_next = requests;
    }

    pub fn fail_once_at_request(&self, request: u64) {
        self.state.lock().unwrap().fail_once_at_request = Some(request);
    }

    pub fn repeat_last(&self, repeat: bool) {
        self.state.lock().unwrap().repeat_last = repeat;
    }

    pub fn call_limit_used(&self, used: u32) {
        self.state.lock().unwrap().call_limit_used = used;
    }
}

/// `YYYY-MM` with a quarter's month, or `unstable`.
fn is_version(text: &str) -> bool {
    text == "unstable"
        || (text.len() == 7
            && text[..4].bytes().all(|b| b.is_ascii_digit())
            && &text[4..5] == "-"
            && matches!(&text[5..], "01" | "04" | "07" | "10"))
}

fn errors(status: u16, errors: Value) -> MockResponse {
    MockResponse::json(status, &json!({ "errors": errors }))
}

/// A `page_info` token: the query it continues and the (updated_at, id) key it resumes after.
fn encode_token(min_ms: Option<i64>, after: (i64, u64)) -> String {
    format!(
        "m{}_u{}_i{}",
        min_ms.map_or("x".to_owned(), |m| m.to_string()),
        after.0,
        after.1
    )
}

fn decode_token(token: &str) -> Option<(Option<i64>, (i64, u64))> {
    let mut parts = token.split('_');
    let min = parts.next()?.strip_prefix('m')?;
    let min = if min == "x" {
        None
    } else {
        Some(min.parse().ok()?)
    };
    let updated = parts.next()?.strip_prefix('u')?.parse().ok()?;
    let id = parts.next()?.strip_prefix('i')?.parse().ok()?;
    Some((min, (updated, id)))
}

impl MockApi for ShopifyApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        let token = request.header("x-shopify-access-token");
        let accepted = match (&self.oauth, token) {
            (Some(tokens), Some(token)) => {
                tokens.check(token) == super::oauth_tokens::TokenCheck::Valid
            }
            (None, Some(token)) => token == self.token,
            (_, None) => false,
        };
        if !accepted {
            return errors(
                401,
                json!(
                    "[API] Invalid API key or access token (unrecognized login or wrong password)"
                ),
            );
        }
        let version = request
            .path
            .strip_prefix("/admin/api/")
            .and_then(|rest| rest.strip_suffix("/orders.json"))
            .filter(|v| is_version(v));
        let (Some(version), "GET") = (version, request.method.as_str()) else {
            return errors(404, json!("Not Found"));
        };
        let mut state = self.state.lock().unwrap();
        // A version out of support is served by the oldest supported one.
        let oldest = state
            .oldest_supported
            .clone()
            .unwrap_or_else(|| SUPPORTED_VERSIONS[0].to_owned());
        let served = if version < oldest.as_str() {
            oldest
        } else {
            version.to_owned()
        };
        state.requests += 1;
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return errors(429, json!("Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."))
                .with_header("Retry-After", "1.0")
                .with_header("X-Shopify-Shop-Api-Call-Limit", "40/40");
        }
        if state.throttle_without_retry_after_next > 0 {
            state.throttle_without_retry_after_next -= 1;
            return errors(429, json!("Exceeded 2 calls per second for api client."));
        }
        if state.fail_once_at_request == Some(state.requests) {
            state.fail_once_at_request = None;
            return errors(500, json!("Internal Server Error"));
        }
        let limit = match request.query("limit").map(str::parse::<usize>) {
            None => 50,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => return errors(400, json!({"limit": ["must be between 1 and 250"]})),
        };
        let (min_ms, after) = match request.query("page_info") {
            Some(token) => {
                // Shopify: with page_info, only limit and fields may be sent.
                if let Some((name, _)) = request
                    .query_pairs
                    .iter()
                    .find(|(k, _)| !matches!(k.as_str(), "limit" | "fields" | "page_info"))
                {
                    return errors(
                        400,
                        json!({"page_info": [format!("Invalid value; {name} cannot be passed with page_info")]}),
                    );
                }
                match decode_token(token) {
                    Some((min, after)) => (min, Some(after)),
                    None => return errors(400, json!({"page_info": ["Invalid value."]})),
                }
            }
            None => {
                let min = match request.query("updated_at_min") {
                    None => None,
                    Some(text) => match parse_iso_ms(text) {
                        Some(ms) => Some(ms),
                        None => {
                            return errors(
                                400,
                                json!({"updated_at_min": ["must be an ISO 8601 time"]}),
                            );
                        }
                    },
                };
                match request.query("status") {
                    None | Some("any" | "open" | "closed" | "cancelled") => {}
                    Some(other) => {
                        return errors(
                            400,
                            json!({"status": [format!("{other} is not a valid status")]}),
                        );
                    }
                }
                (min, None)
            }
        };
        // Keyset order: newest id first, whatever `updated_at` is, so a connector that assumed
        // pages in `updated_at` order would skip orders after a resume.
        let mut matching: Vec<(i64, u64, &Value)> = state
            .orders
            .iter()
            .filter(|(updated, _)| min_ms.is_none_or(|m| updated * 1000 >= m))
            .map(|(updated, order)| (*updated, order["id"].as_u64().unwrap(), order))
            .collect();
        matching.sort_by_key(|(_, id, _)| std::cmp::Reverse(*id));
        let start = after.map_or(0, |(_, key_id)| {
            matching
                .iter()
                .position(|(_, id, _)| *id < key_id)
                .unwrap_or(matching.len())
        });
        let end = (start + limit).min(matching.len());
        let first = if state.repeat_last && start > 0 {
            start - 1
        } else {
            start
        };
        let page: Vec<Value> = matching[first..end]
            .iter()
            .map(|(_, _, o)| (*o).clone())
            .collect();
        let base = format!(
            "http://{}{}",
            request.header("host").unwrap_or("127.0.0.1"),
            request.path
        );
        let mut links = Vec::new();
        if after.is_some() {
            links.push(format!(
                "<{base}?limit={limit}&page_info=prev_{start}>; rel=\"previous\""
            ));
        }
        if end < matching.len() {
            let (u, id, _) = matching[end - 1];
            links.push(format!(
                "<{base}?limit={limit}&page_info={}>; rel=\"next\"",
                encode_token(min_ms, (u, id))
            ));
        }
        let mut response = MockResponse::json(200, &json!({ "orders": page }))
            .with_header(
                "X-Shopify-Shop-Api-Call-Limit",
                &format!("{}/40", state.call_limit_used),
            )
            .with_header("X-Shopify-API-Version", &served);
        if !links.is_empty() {
            response = response.with_header("Link", &links.join(", "));
        }
        response
    }
}
