//! A mock of Rewardful's REST API (api-notes.md; developers.rewardful.com "List referrals",
//! "List commissions", "The commission object"): `GET /v1/referrals` and `/v1/commissions`, HTTP
//! Basic with the API secret as user name and an empty password (401 otherwise), `page` and
//! `limit` ≤ 100 (400 above), the envelope
//! `{"pagination":{previous_page,current_page,next_page,count,limit,total_pages,total_count},
//! "data":[…]}`, 429 with `Retry-After`, a request that fails once with 500, pages that repeat
//! the previous page's last record, and commissions whose state changes after a sync (pending →
//! paid, voided), which bumps their `updated_at`.
//!
//! As the real API (checked against the docs pages named above):
//! - both lists are sorted by creation date, **newest first**;
//! - referrals filter by `updated_since` / `updated_until`; their `affiliate` is present only
//!   with `expand[]=affiliate` ("Expandable objects: affiliate");
//! - commissions accept only `affiliate_id, state, page, limit, expand`: any other parameter
//!   (`updated_since` included) is ignored, so every request reads the whole list; a commission
//!   has **no top-level affiliate** — the affiliate is at `sale.affiliate`, and `sale` (with its
//!   `referral` and `affiliate`) is present only with `expand[]=sale`;
//! - an embedded affiliate carries live counters (`visitors`, `leads`, `conversions`,
//!   `sign_in_count`, `updated_at`) that change whenever the affiliate's link is visited
//!   ([`RewardfulApi::visit_affiliates`]), although the commission itself did not change.

use std::sync::Mutex;

use base64::Engine;
use serde_json::{Value, json};

use super::generic::rfc3339;
use super::shopify::parse_iso_ms;
use super::{MockApi, MockRequest, MockResponse};

pub const MAX_LIMIT: usize = 100;
/// 2026-01-01T00:00:00Z: referral i is created i minutes later.
const EPOCH_2026: i64 = 1_767_225_600;
/// The three affiliates of the mock account.
const AFFILIATES: usize = 3;

/// A stored referral or commission: its own fields, and the affiliate it belongs to (rendered
/// into the answer only when the request expands it).
#[derive(Debug, Clone)]
struct Stored {
    fields: Value,
    affiliate: usize,
}

#[derive(Debug, Default)]
struct RewardfulState {
    referrals: Vec<Stored>,
    commissions: Vec<Stored>,
    /// Visits of each affiliate's links so far (the live counters of an embedded affiliate).
    visits: [u64; AFFILIATES],
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

/// Affiliate `n` as Rewardful embeds it (`sale.affiliate`, an expanded referral's `affiliate`),
/// with its live counters after `visits` visits.
fn affiliate(n: usize, visits: u64) -> Value {
    json!({"id": format!("aff-{n:04}"), "created_at": "2025-11-01T00:00:00.000Z",
           "updated_at": rfc3339(EPOCH_2026 + visits as i64), "first_name": format!("Creator{n}"), "last_name": "Lee",
           "email": format!("creator{n}@example.com"), "paypal_email": "", "confirmed_at": "2025-11-01T00:00:00.000Z",
           "receive_new_commission_notifications": true, "sign_in_count": visits / 10,
           "visitors": 100 + visits, "leads": 10 + visits / 4, "conversions": 5 + visits / 8})
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
                let link = json!({"id": format!("lnk-{}", i % 3), "url": "https://shop.example/?via=c", "token": "c",
                                  "visitors": 197, "leads": 196, "conversions": 156});
                let referral = json!({
                    "id": format!("ref-{i:05}"), "link": link.clone(), "customer": customer,
                    "visits": 1 + i % 4,
                    "conversion_state": if converted { "conversion" } else { "visitor" },
                    "deactivated_at": null, "expires_at": "2026-06-01T00:00:00.000Z", "created_at": at, "updated_at": at,
                    "became_lead_at": if converted { json!(at) } else { Value::Null },
                    "became_conversion_at": if converted { json!(at) } else { Value::Null },
                    "stripe_account_id": "acct_1", "stripe_customer_id": if converted { json!(format!("cus_{i:05}")) } else { Value::Null }
                });
                state.referrals.push(Stored {
                    fields: referral.clone(),
                    affiliate: i % AFFILIATES,
                });
                if converted {
                    // The commission object of the docs: the sale (with its referral) only on
                    // expansion, the affiliate inside the sale.
                    let mut sale_referral = referral.clone();
                    sale_referral["customer"] = json!({"platform": "stripe", "id": format!("cus_{i:05}"),
                                                        "name": "A Buyer", "email": format!("buyer{i}@example.com")});
                    state.commissions.push(Stored {
                        fields: json!({
                            "id": format!("com-{i:05}"), "created_at": at, "updated_at": at,
                            "amount": (5 + i % 20) * 100, "currency": "USD", "state": "pending",
                            "due_at": "2026-04-01T00:00:00.000Z", "paid_at": null, "voided_at": null,
                            "campaign": {"id": "camp-1", "created_at": "2025-10-01T00:00:00.000Z",
                                         "updated_at": "2025-10-01T00:00:00.000Z", "name": "Default"},
                            "sale": {"id": format!("sale-{i}"), "currency": "USD", "charged_at": at,
                                     "stripe_account_id": "acct_1", "stripe_charge_id": format!("ch_{i}"),
                                     "invoiced_at": at, "created_at": at, "updated_at": at,
                                     "charge_amount_cents": (5 + i % 20) * 1000, "refund_amount_cents": 0,
                                     "tax_amount_cents": 0, "sale_amount_cents": (5 + i % 20) * 1000,
                                     "referral": sale_referral}
                        }),
                        affiliate: i % AFFILIATES,
                    });
                }
            }
        }
        api
    }

    /// Changes a commission's state at `at` (Unix s), bumping `updated_at` as Rewardful does.
    pub fn set_commission_state(&self, id: &str, new_state: &str, at: i64) {
        let mut state = self.state.lock().unwrap();
        let commission = &mut state
            .commissions
            .iter_mut()
            .find(|c| c.fields["id"] == id)
            .expect("known commission")
            .fields;
        commission["state"] = json!(new_state);
        commission["updated_at"] = json!(rfc3339(at));
        match new_state {
            "paid" => commission["paid_at"] = json!(rfc3339(at)),
            "voided" => commission["voided_at"] = json!(rfc3339(at)),
            _ => {}
        }
    }

    /// Adds a commission in state `state` for affiliate `n`, created at `at` (Unix s), on a sale
    /// without a referral (e.g. a coupon-code sale).
    pub fn add_commission(&self, id: &str, amount: i64, state_text: &str, n: usize, at: i64) {
        self.state.lock().unwrap().commissions.push(Stored {
            fields: json!({
                "id": id, "created_at": rfc3339(at), "updated_at": rfc3339(at), "amount": amount, "currency": "USD",
                "state": state_text, "due_at": null, "paid_at": null,
                "voided_at": if state_text == "voided" { json!(rfc3339(at)) } else { Value::Null },
                "campaign": {"id": "camp-1", "created_at": "2025-10-01T00:00:00.000Z",
                             "updated_at": "2025-10-01T00:00:00.000Z", "name": "Default"},
                "sale": {"id": format!("sale-{id}"), "currency": "USD", "charged_at": rfc3339(at),
                         "stripe_account_id": "acct_1", "stripe_charge_id": format!("ch_{id}"),
                         "invoiced_at": rfc3339(at), "created_at": rfc3339(at), "updated_at": rfc3339(at),
                         "charge_amount_cents": amount * 10, "refund_amount_cents": 0, "tax_amount_cents": 0,
                         "sale_amount_cents": amount * 10, "referral": null}
            }),
            affiliate: n % AFFILIATES,
        });
    }

    /// Deletes a commission (`DELETE /v1/commissions/:id` in the real API).
    pub fn delete_commission(&self, id: &str) {
        self.state
            .lock()
            .unwrap()
            .commissions
            .retain(|c| c.fields["id"] != id);
    }

    /// Visitors arrive through every affiliate's links: the affiliates' live counters (and so
    /// every embedded copy of them) change, while no referral or commission does.
    pub fn visit_affiliates(&self, visits: u64) {
        for count in self.state.lock().unwrap().visits.iter_mut() {
            *count += visits;
        }
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

/// The objects a request expands (`expand[]=sale`, `expand=sale`, several `expand[]`).
fn expansions(request: &MockRequest) -> Vec<&str> {
    request
        .query_pairs
        .iter()
        .filter(|(k, _)| k == "expand" || k == "expand[]")
        .map(|(_, v)| v.as_str())
        .collect()
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
        let commissions = match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/v1/referrals") => false,
            ("GET", "/v1/commissions") => true,
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
            // Commissions have no time filter: the parameter is ignored, as any unknown one.
            _ if commissions => Ok(None),
            None => Ok(None),
            Some(text) => parse_iso_ms(text)
                .map(Some)
                .ok_or_else(|| error(400, &format!("{name} is not an ISO 8601 time"))),
        };
        let (since, until) = match (bound("updated_since"), bound("updated_until")) {
            (Ok(since), Ok(until)) => (since, until),
            (Err(response), _) | (_, Err(response)) => return response,
        };
        let records = if commissions {
            &state.commissions
        } else {
            &state.referrals
        };
        let mut matching: Vec<&Stored> = records
            .iter()
            .filter(|r| {
                let updated = parse_iso_ms(r.fields["updated_at"].as_str().unwrap()).unwrap();
                since.is_none_or(|s| updated >= s) && until.is_none_or(|u| updated <= u)
            })
            .collect();
        // Newest first by creation ("sorted by creation date, with the most recent … first");
        // the later of two stored at the same instant first.
        matching.reverse();
        matching.sort_by_key(|r| {
            std::cmp::Reverse(parse_iso_ms(r.fields["created_at"].as_str().unwrap()).unwrap())
        });
        let total = matching.len();
        let total_pages = total.div_ceil(limit).max(1);
        let from = ((page - 1) * limit).min(total);
        let to = (from + limit).min(total);
        let first = if state.repeat_last && from > 0 {
            from - 1
        } else {
            from
        };
        let expand = expansions(request);
        let render = |stored: &Stored| {
            let mut fields = stored.fields.clone();
            let affiliate = affiliate(stored.affiliate, state.visits[stored.affiliate]);
            if commissions {
                if let Some(sale) = fields.get_mut("sale").filter(|_| expand.contains(&"sale")) {
                    sale["affiliate"] = affiliate;
                } else if let Some(object) = fields.as_object_mut() {
                    object.remove("sale");
                }
            } else if expand.contains(&"affiliate") {
                fields["affiliate"] = affiliate;
            }
            fields
        };
        let data: Vec<Value> = matching[first..to].iter().map(|r| render(r)).collect();
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
