//! A mock of Stripe's list API for charges, refunds and disputes (api-notes.md): Bearer or
//! Basic secret key (401 with Stripe's error body otherwise), `limit` 1–100 (400 otherwise),
//! newest first, `starting_after`, `created[gt|gte|lt|lte]`, 429 with Stripe's `rate_limit`
//! error and `Stripe-Should-Retry`, a scripted 500, and objects that change after they were
//! created (a late refund bumps the charge's `amount_refunded`, a dispute is lost).

use std::sync::Mutex;

use base64::Engine;
use serde_json::{Value, json};

use super::{MockApi, MockRequest, MockResponse};

#[derive(Debug, Default)]
struct StripeState {
    /// Objects per list endpoint in creation order.
    charges: Vec<Value>,
    refunds: Vec<Value>,
    disputes: Vec<Value>,
    throttle_next: u32,
    fail_once_at_request: Option<u64>,
    requests: u64,
    next_id: u64,
}

/// The Stripe mock.
pub struct StripeApi {
    pub secret_key: String,
    state: Mutex<StripeState>,
}

fn stripe_error(status: u16, message: &str, code: Option<&str>) -> MockResponse {
    let mut error = json!({"message": message, "type": "invalid_request_error"});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    MockResponse::json(status, &json!({"error": error}))
}

impl StripeApi {
    pub fn new(secret_key: &str) -> StripeApi {
        StripeApi {
            secret_key: secret_key.to_owned(),
            state: Mutex::new(StripeState::default()),
        }
    }

    fn id(state: &mut StripeState, prefix: &str) -> String {
        state.next_id += 1;
        format!("{prefix}_{:08}", state.next_id)
    }

    /// Adds a charge and returns its id. `status` is succeeded, pending or failed.
    pub fn add_charge(
        &self,
        amount: i64,
        created: i64,
        status: &str,
        email: Option<&str>,
        click_id: Option<&str>,
    ) -> String {
        let mut state = self.state.lock().unwrap();
        let id = Self::id(&mut state, "ch");
        let mut metadata = json!({});
        if let Some(click) = click_id {
            metadata["click_id"] = json!(click);
            metadata["order_id"] = json!(format!("shop-{id}"));
        }
        state.charges.push(json!({
            "id": id, "object": "charge", "amount": amount, "amount_captured": amount, "amount_refunded": 0,
            "balance_transaction": format!("txn_{id}"), "captured": true, "created": created, "currency": "usd",
            "customer": "cus_42", "description": null, "disputed": false, "livemode": false, "metadata": metadata,
            "paid": status == "succeeded", "payment_intent": format!("pi_{id}"), "refunded": false,
            "billing_details": {"address": null, "email": email, "name": "A Customer", "phone": null},
            "receipt_email": email, "status": status
        }));
        id
    }

    /// Sets a field of a stored charge (e.g. its `invoice`), as Stripe shows it on the charge.
    pub fn set_charge_field(&self, charge_id: &str, field: &str, value: serde_json::Value) {
        let mut state = self.state.lock().unwrap();
        let charge = state
            .charges
            .iter_mut()
            .find(|c| c["id"] == charge_id)
            .expect("known charge");
        charge[field] = value;
    }

    /// Refunds part of a charge: a new refund object, and the charge's `amount_refunded` and
    /// `refunded` change without its `created` changing.
    pub fn add_refund(&self, charge_id: &str, amount: i64, created: i64) -> String {
        let mut state = self.state.lock().unwrap();
        let id = Self::id(&mut state, "re");
        let charge = state
            .charges
            .iter_mut()
            .find(|c| c["id"] == charge_id)
            .expect("known charge");
        let refunded = charge["amount_refunded"].as_i64().unwrap() + amount;
        charge["amount_refunded"] = json!(refunded);
        charge["refunded"] = json!(refunded >= charge["amount"].as_i64().unwrap());
        state.refunds.push(json!({
            "id": id, "object": "refund", "amount": amount, "charge": charge_id, "created": created,
            "currency": "usd", "metadata": {}, "reason": "requested_by_customer", "status": "succeeded",
            "payment_intent": format!("pi_{charge_id}")
        }));
        id
    }

    /// Opens a dispute on a charge.
    pub fn add_dispute(&self, charge_id: &str, amount: i64, created: i64) -> String {
        let mut state = self.state.lock().unwrap();
        let id = Self::id(&mut state, "dp");
        let charge = state
            .charges
            .iter_mut()
            .find(|c| c["id"] == charge_id)
            .expect("known charge");
        charge["disputed"] = json!(true);
        state.disputes.push(json!({
            "id": id, "object": "dispute", "amount": amount, "charge": charge_id, "created": created,
            "currency": "usd", "reason": "fraudulent", "status": "needs_response", "is_charge_refundable": false,
            "livemode": false, "metadata": {}
        }));
        id
    }

    /// Changes a dispute's status (it is won or lost) without changing `created`.
    pub fn set_dispute_status(&self, dispute_id: &str, status: &str) {
        let mut state = self.state.lock().unwrap();
        let dispute = state
            .disputes
            .iter_mut()
            .find(|d| d["id"] == dispute_id)
            .expect("known dispute");
        dispute["status"] = json!(status);
    }

    /// Adds a field Stripe might add tomorrow to every charge (schema drift).
    pub fn add_field_to_charges(&self, field: &str, value: Value) {
        for charge in &mut self.state.lock().unwrap().charges {
            charge[field] = value.clone();
        }
    }

    pub fn throttle_next(&self, requests: u32) {
        self.state.lock().unwrap().throttle_next = requests;
    }

    /// Fails the n-th request from now (1 = the next one) once with a 500.
    pub fn fail_once_at_request(&self, n: u64) {
        let mut state = self.state.lock().unwrap();
        state.fail_once_at_request = Some(state.requests + n);
    }

    fn authorized(&self, request: &MockRequest) -> bool {
        if request.bearer() == Some(self.secret_key.as_str()) {
            return true;
        }
        let basic = request
            .header("authorization")
            .and_then(|h| h.strip_prefix("Basic "));
        let decoded = basic.and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
        decoded.is_some_and(|d| {
            String::from_utf8_lossy(&d).split(':').next() == Some(self.secret_key.as_str())
        })
    }
}

impl MockApi for StripeApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        if !self.authorized(request) {
            // Stripe masks the key in its message: only the last four characters show.
            let shown = request.bearer().map(|k| {
                format!(
                    "{}****{}",
                    &k[..k.len().min(8)],
                    &k[k.len().saturating_sub(4)..]
                )
            });
            return stripe_error(
                401,
                &format!("Invalid API Key provided: {}", shown.unwrap_or_default()),
                None,
            );
        }
        let mut state = self.state.lock().unwrap();
        state.requests += 1;
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return stripe_error(429, "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.", Some("rate_limit"))
                .with_header("Stripe-Should-Retry", "true");
        }
        if state.fail_once_at_request == Some(state.requests) {
            state.fail_once_at_request = None;
            return stripe_error(500, "An unknown error occurred", None)
                .with_header("Stripe-Should-Retry", "true");
        }
        let objects = match request.path.as_str() {
            "/v1/charges" => &state.charges,
            "/v1/refunds" => &state.refunds,
            "/v1/disputes" => &state.disputes,
            _ => {
                return stripe_error(
                    404,
                    &format!("Unrecognized request URL (GET: {})", request.path),
                    None,
                );
            }
        };
        let limit = match request.query("limit").map(str::parse::<usize>) {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            Some(_) => {
                return stripe_error(
                    400,
                    "Invalid integer: limit must be between 1 and 100",
                    None,
                );
            }
        };
        let bound = |op: &str| {
            request
                .query(&format!("created[{op}]"))
                .and_then(|v| v.parse::<i64>().ok())
        };
        let (gt, gte, lt, lte) = (bound("gt"), bound("gte"), bound("lt"), bound("lte"));
        // Newest first: by created descending, later-created objects first on ties.
        let mut listed: Vec<&Value> = objects
            .iter()
            .filter(|o| {
                let c = o["created"].as_i64().unwrap();
                gt.is_none_or(|b| c > b)
                    && gte.is_none_or(|b| c >= b)
                    && lt.is_none_or(|b| c < b)
                    && lte.is_none_or(|b| c <= b)
            })
            .collect();
        listed.reverse();
        listed.sort_by_key(|o| std::cmp::Reverse(o["created"].as_i64().unwrap()));
        let start = match request.query("starting_after") {
            None => 0,
            Some(after) => match listed.iter().position(|o| o["id"] == after) {
                Some(index) => index + 1,
                None => {
                    return stripe_error(
                        400,
                        &format!("No such object: '{after}'"),
                        Some("resource_missing"),
                    );
                }
            },
        };
        let end = (start + limit).min(listed.len());
        let data: Vec<Value> = listed[start..end].iter().map(|v| (*v).clone()).collect();
        MockResponse::json(
            200,
            &json!({"object": "list", "url": request.path, "has_more": end < listed.len(), "data": data}),
        )
    }
}
