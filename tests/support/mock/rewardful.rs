//! A mock of Rewardful's REST API (api-notes.md): `GET /v1/referrals` and `/v1/commissions`,
//! HTTP Basic with the API secret as user name and an empty password (401 otherwise), `page` and
//! `limit` ≤ 100 (400 above), `updated_since` / `updated_until`, the envelope
//! `{"pagination":{current_page,next_page,previous_page,total_pages,total_count},"data":[…]}`,
//! 429 with `Retry-After`, a request that fails once with 500, pages that repeat the previous
//! page's last record, and commissions whose state changes after a sync (pending → paid,
//! voided), which bumps their `updated_at`.

use std::sync::Mutex;

use base64::Engine;
use serde_json::{Value, json};

use super::generic::rfc3339;
use super::shopify::parse_iso_ms;
use super::{MockApi, MockRequest, MockResponse};

pub const MAX_LIMIT: usize = 100;
/// 2026-01-01T00:00:00Z: referral i is created i minutes later.
const EPOCH_2026: i64 = 1_767_225_600;

#[derive(Debug, Default)]
struct RewardfulState {
    referrals: Vec<Value>,
    commissions: Vec<Value>,
    throttle_next: u32,
    fail_once_at_request: Option<u64>,
    requests: u64,
    repeat_last: bool,
}

/// The Rewardful API of one account.
pub struct RewardfulApi {
    pub secret: String,
    state: Mutex<RewardfulState>,
}

fn affiliate(n: usize) -> Value {
    json!({"id": format!("aff-{n:04}"), "first_name": format!("Creator{n}"), "last_name": "Lee",
           "email": format!("creator{n}@example.com"), "created_at": "2025-11-01T00:00:00.000Z"})
}

impl RewardfulApi {
    /// `referrals` referrals of 3 affiliates; every second converts (a customer with an e-mail and
    /// a Stripe customer id) and earns a pending commission of `(5 + i % 20) * 100` cents.
    pub fn new(secret: &str, referrals: usize) -> RewardfulApi {
        let api = RewardfulApi {
            secret: secret.to_owned(),
            state: Mutex::new(RewardfulState::default()),
        };
        {
            let mut state = api.state.lock().unwrap();
            for i in 0..referrals {
                let at = rfc3339(EPOCH_2026 + 60 * i as i64);
                let converted = i % 2 == 0;
                let customer = if converted {
                    json!({"id": format!("rw-cus-{i}"), "platform": "stripe", "platform_id": format!("cus_{i:05}"),
                           "email": format!("buyer{i}@example.com"), "name": "A Buyer"})
                } else {
                    Value::Null
                };
                state.referrals.push(json!({
                    "id": format!("ref-{i:05}"), "link": {"id": format!("lnk-{}", i % 3), "url": "https://shop.example/?via=c", "token": "c"},
                    "customer": customer, "affiliate": affiliate(i % 3), "visits": 1 + i % 4,
                    "conversion_state": if converted { "conversion" } else { "visitor" },
                    "deactivated_at": null, "expires_at": "2026-06-01T00:00:00.000Z", "created_at": at, "updated_at": at,
                    "became_lead_at": if converted { json!(at) } else { Value::Null },
                    "became_conversion_at": if converted { json!(at) } else { Value::Null },
                    "stripe_account_id": "acct_1", "stripe_customer_id": if converted { json!(format!("cus_{i:05}")) } else { Value::Null }
                }));
                if converted {
                    state.commissions.push(json!({
                        "id": format!("com-{i:05}"), "amount": (5 + i % 20) * 100, "currency": "USD", "state": "pending",
                        "due_at": "2026-04-01T00:00:00.000Z", "paid_at": null, "voided_at": null, "created_at": at, "updated_at": at,
                        "campaign": {"id": "camp-1", "name": "Default"},
                        "sale": {"id": format!("sale-{i}"), "currency": "USD", "charged_at": at, "stripe_charge_id": format!("ch_{i}"),
                                 "sale_amount_cents": (5 + i % 20) * 1000, "refund_amount_cents": 0,
                                 "referral": {"id": format!("ref-{i:05}"), "customer": {"email": format!("buyer{i}@example.com")}}},
                        "affiliate": affiliate(i % 3)
                    }));
                }
            }
        }
        api
    }

    /// Changes a commission's state at `at` (Unix s), bumping `updated_at` as Rewardful does.
    pub fn set_commission_state(&self, id: &str, new_state: &str, at: i64) {
        let mut state = self.state.lock().unwrap();
        let commission = state
            .commissions
            .iter_mut()
            .find(|c| c["id"] == id)
            .expect("known commission");
        commission["state"] = json!(new_state);
        commission["updated_at"] = json!(rfc3339(at));
        match new_state {
            "paid" => commission["paid_at"] = json!(rfc3339(at)),
            "voided" => commission["voided_at"] = json!(rfc3339(at)),
            _ => {}
        }
    }

    /// Adds a commission in state `state` for affiliate `n`, created at `at` (Unix s).
    pub fn add_commission(&self, id: &str, amount: i64, state_text: &str, n: usize, at: i64) {
        self.state.lock().unwrap().commissions.push(json!({
            "id": id, "amount": amount, "currency": "USD", "state": state_text, "due_at": null, "paid_at": null,
            "voided_at": if state_text == "voided" { json!(rfc3339(at)) } else { Value::Null },
            "created_at": rfc3339(at), "updated_at": rfc3339(at), "campaign": {"id": "camp-1", "name": "Default"},
            "sale": null, "affiliate": affiliate(n)
        }));
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

    /// (referrals, commissions) the API holds.
    pub fn counts(&self) -> (usize, usize) {
        let state = self.state.lock().unwrap();
        (state.referrals.len(), state.commissions.len())
    }

    /// Whether the request carries `Basic base64(secret + ":")`.
    fn authorized(&self, request: &MockRequest) -> bool {
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", self.secret));
        request
            .header("authorization")
            .and_then(|h| h.strip_prefix("Basic "))
            == Some(expected.as_str())
    }
}

fn error(status: u16, message: &str) -> MockResponse {
    MockResponse::json(status, &json!({ "error": message }))
}

impl MockApi for RewardfulApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        if !self.authorized(request) {
            return error(401, "Invalid API Secret.");
        }
        let mut state = self.state.lock().unwrap();
        state.requests += 1;
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return error(429, "Rate limit exceeded.").with_header("Retry-After", "1");
        }
        if state.fail_once_at_request == Some(state.requests) {
            state.fail_once_at_request = None;
            return error(500, "Something went wrong.");
        }
        let records = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/v1/referrals") => &state.referrals,
            ("GET", "/v1/commissions") => &state.commissions,
            _ => return error(404, "Not found."),
        };
        let limit = match request.query("limit").map(str::parse::<usize>) {
            None => 25,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => return error(400, "limit must be between 1 and 100"),
        };
        let page = match request.query("page").map(str::parse::<usize>) {
            None => 1,
            Some(Ok(n)) if n >= 1 => n,
            Some(_) => return error(400, "page must be a positive integer"),
        };
        let bound = |name: &str| match request.query(name) {
            None => Ok(None),
            Some(text) => parse_iso_ms(text)
                .map(Some)
                .ok_or_else(|| error(400, &format!("{name} is not an ISO 8601 time"))),
        };
        let (since, until) = match (bound("updated_since"), bound("updated_until")) {
            (Ok(since), Ok(until)) => (since, until),
            (Err(response), _) | (_, Err(response)) => return response,
        };
        let matching: Vec<&Value> = records
            .iter()
            .filter(|r| {
                let updated = parse_iso_ms(r["updated_at"].as_str().unwrap()).unwrap();
                since.is_none_or(|s| updated >= s) && until.is_none_or(|u| updated <= u)
            })
            .collect();
        let total = matching.len();
        let total_pages = total.div_ceil(limit).max(1);
        let from = ((page - 1) * limit).min(total);
        let to = (from + limit).min(total);
        let first = if state.repeat_last && from > 0 {
            from - 1
        } else {
            from
        };
        let data: Vec<Value> = matching[first..to].iter().map(|r| (*r).clone()).collect();
        let next_page = if page < total_pages {
            json!(page + 1)
        } else {
            Value::Null
        };
        let previous_page = if page > 1 {
            json!(page - 1)
        } else {
            Value::Null
        };
        MockResponse::json(
            200,
            &json!({
                "pagination": {"previous_page": previous_page, "current_page": page, "next_page": next_page,
                               "count": data.len(), "limit": limit, "total_pages": total_pages, "total_count": total},
                "data": data
            }),
        )
    }
}
