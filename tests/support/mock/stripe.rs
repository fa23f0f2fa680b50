//! A mock of Stripe's API for charges, refunds and disputes (api-notes.md): Bearer or
//! Basic secret key (401 with Stripe's error body otherwise), `limit` 1–100 (400 otherwise),
//! newest first, `starting_after`, `created[gt|gte|lt|lte]`, retrieval by id
//! (`GET /v1/disputes/{id}`, 404 `resource_missing` for an unknown id), 429 with Stripe's
//! `rate_limit` error and `Stripe-Should-Retry`, a scripted 500, and objects that change after
//! they were created (a late refund bumps the charge's `amount_refunded`, a dispute is won or
//! lost, an authorization is captured).
//!
//! The objects are shaped as `stripe` 16.1.0 declares them (`_charge.py` `Charge`,
//! `_refund.py` `Refund`, `_dispute.py` `Dispute`, with their attribute names and nullability)
//! and answered in the API version the request names in `Stripe-Version`: from
//! `2025-03-31.basil` on, a charge has no `invoice` (the SDK's `Charge` no longer declares it;
//! an invoice is reached through the payment intent), which is also how a webhook endpoint on a
//! current version receives it ([`StripeApi::object_as_of`]). Amounts are in Stripe's minor
//! units of the object's currency (ISK two-decimal, JPY zero-decimal: docs.stripe.com/currencies).

use std::sync::Mutex;

use base64::Engine;
use serde_json::{Value, json};

use super::{MockApi, MockRequest, MockResponse};

/// The first API version whose charges carry no `invoice`.
pub const BASIL: &str = "2025-03-31.basil";
/// A current API version (`stripe` 16.1.0 `_api_version.py` `CURRENT`).
pub const CURRENT_VERSION: &str = "2026-10-28.endive";

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

/// Whether API version `version` (`YYYY-MM-DD[.name]`) is `since` or later: the date decides.
fn version_at_least(version: &str, since: &str) -> bool {
    version.get(..10).unwrap_or(version) >= since.get(..10).unwrap_or(since)
}

/// `object` as Stripe renders it in API version `version`.
fn render(object: &Value, version: &str) -> Value {
    let mut rendered = object.clone();
    if rendered["object"] == "charge"
        && version_at_least(version, BASIL)
        && let Some(fields) = rendered.as_object_mut()
    {
        fields.remove("invoice");
    }
    rendered
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

    /// Adds a USD charge and returns its id. `status` is succeeded, pending or failed.
    pub fn add_charge(
        &self,
        amount: i64,
        created: i64,
        status: &str,
        email: Option<&str>,
        click_id: Option<&str>,
    ) -> String {
        self.insert_charge("usd", amount, created, status, true, email, click_id)
    }

    /// Adds a captured, succeeded charge in `currency` (lowercase, as Stripe writes it), its
    /// `amount` in Stripe's minor units of that currency.
    pub fn add_charge_in(&self, currency: &str, amount: i64, created: i64) -> String {
        self.insert_charge(currency, amount, created, "succeeded", true, None, None)
    }

    /// Adds an authorization that is not captured yet: `succeeded`, `paid`, `captured: false`,
    /// `amount_captured: 0` (the SDK's `Charge.captured` / `amount_captured`).
    pub fn add_uncaptured_charge(&self, amount: i64, created: i64) -> String {
        self.insert_charge("usd", amount, created, "succeeded", false, None, None)
    }

    /// Captures `amount` of an uncaptured charge (at most its `amount`, as
    /// `ChargeCaptureParams.amount` says); `created` does not change.
    pub fn capture_charge(&self, charge_id: &str, amount: i64) {
        let mut state = self.state.lock().unwrap();
        let charge = state
            .charges
            .iter_mut()
            .find(|c| c["id"] == charge_id)
            .expect("known charge");
        assert!(amount <= charge["amount"].as_i64().unwrap());
        charge["captured"] = json!(true);
        charge["amount_captured"] = json!(amount);
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_charge(
        &self,
        currency: &str,
        amount: i64,
        created: i64,
        status: &str,
        captured: bool,
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
        // A pending charge (a debit still in flight) is captured; a failed one took nothing.
        let amount_captured = if captured && status != "failed" {
            amount
        } else {
            0
        };
        let failed = status == "failed";
        // Two halves: one `json!` of every field exceeds the macro's recursion limit.
        let mut charge = json!({
            "id": id, "object": "charge", "amount": amount, "amount_captured": amount_captured,
            "amount_refunded": 0, "application": null, "application_fee": null,
            "application_fee_amount": null, "balance_transaction": format!("txn_{id}"),
            "billing_details": {"address": null, "email": email, "name": "A Customer", "phone": null},
            "calculated_statement_descriptor": "LOOKBACK SHOP", "captured": captured,
            "created": created, "currency": currency, "customer": "cus_42", "description": null,
            "disputed": false, "failure_balance_transaction": null,
            "failure_code": if failed { json!("card_declined") } else { Value::Null },
            "failure_message": if failed { json!("Your card was declined.") } else { Value::Null },
            "fraud_details": {}, "invoice": null, "livemode": false, "metadata": metadata
        });
        let rest = json!({
            "on_behalf_of": null, "outcome": null, "paid": status == "succeeded",
            "payment_intent": format!("pi_{id}"), "payment_method": format!("pm_{id}"),
            "payment_method_details": null, "receipt_email": email, "receipt_number": null,
            "receipt_url": null, "refunded": false, "review": null, "shipping": null,
            "source_transfer": null, "statement_descriptor": null,
            "statement_descriptor_suffix": null, "status": status, "transfer_data": null,
            "transfer_group": null
        });
        if let (Some(fields), Value::Object(more)) = (charge.as_object_mut(), rest) {
            fields.extend(more);
        }
        state.charges.push(charge);
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

    /// Refunds part of a charge: a new refund object in the charge's currency, and the
    /// charge's `amount_refunded` and `refunded` change without its `created` changing.
    pub fn add_refund(&self, charge_id: &str, amount: i64, created: i64) -> String {
        self.insert_refund(charge_id, amount, created, "requested_by_customer")
    }

    /// A refund with Stripe's own `reason` (e.g. `expired_uncaptured_charge`, which Stripe
    /// creates when an authorization expires uncaptured: `_refund.py` `Refund.reason`).
    pub fn insert_refund(
        &self,
        charge_id: &str,
        amount: i64,
        created: i64,
        reason: &str,
    ) -> String {
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
        let currency = charge["currency"].clone();
        let payment_intent = charge["payment_intent"].clone();
        state.refunds.push(json!({
            "id": id, "object": "refund", "amount": amount, "balance_transaction": format!("txn_{id}"),
            "charge": charge_id, "created": created, "currency": currency, "description": null,
            "destination_details": null, "metadata": {}, "payment_intent": payment_intent,
            "reason": reason, "receipt_number": null, "source_transfer_reversal": null,
            "status": "succeeded", "transfer_reversal": null
        }));
        id
    }

    /// Opens a dispute (`needs_response`) on a charge, in the charge's currency.
    pub fn add_dispute(&self, charge_id: &str, amount: i64, created: i64) -> String {
        let mut state = self.state.lock().unwrap();
        let id = Self::id(&mut state, "dp");
        let charge = state
            .charges
            .iter_mut()
            .find(|c| c["id"] == charge_id)
            .expect("known charge");
        charge["disputed"] = json!(true);
        let currency = charge["currency"].clone();
        let payment_intent = charge["payment_intent"].clone();
        // `Dispute.Evidence` and `Dispute.EvidenceDetails` of `_dispute.py`: nothing submitted.
        let evidence = json!({
            "access_activity_log": null, "appeal": null, "billing_address": null,
            "cancellation_policy": null, "cancellation_policy_disclosure": null,
            "cancellation_rebuttal": null, "customer_communication": null,
            "customer_email_address": null, "customer_name": null, "customer_purchase_ip": null,
            "customer_signature": null, "duplicate_charge_documentation": null,
            "duplicate_charge_explanation": null, "duplicate_charge_id": null,
            "enhanced_evidence": {}, "product_description": null, "receipt": null,
            "refund_policy": null, "refund_policy_disclosure": null,
            "refund_refusal_explanation": null, "service_date": null,
            "service_documentation": null, "shipping_address": null, "shipping_carrier": null,
            "shipping_date": null, "shipping_documentation": null,
            "shipping_tracking_number": null, "uncategorized_file": null,
            "uncategorized_text": null
        });
        state.disputes.push(json!({
            "id": id, "object": "dispute", "amount": amount, "balance_transactions": [],
            "charge": charge_id, "created": created, "currency": currency,
            "enhanced_eligibility_types": [], "evidence": evidence,
            "evidence_details": {"due_by": created + 14 * 86_400, "enhanced_eligibility": {},
                                 "has_evidence": false, "past_due": false, "submission_count": 0,
                                 "submission_method": null},
            "is_charge_refundable": false, "livemode": false, "metadata": {},
            "network_reason_code": "10.4", "payment_intent": payment_intent,
            "payment_method_details": null, "reason": "fraudulent", "status": "needs_response"
        }));
        id
    }

    /// Changes a dispute's status (`Dispute.status`: won, lost, prevented, appeal_…) without
    /// changing `created`.
    pub fn set_dispute_status(&self, dispute_id: &str, status: &str) {
        let mut state = self.state.lock().unwrap();
        let dispute = state
            .disputes
            .iter_mut()
            .find(|d| d["id"] == dispute_id)
            .expect("known dispute");
        dispute["status"] = json!(status);
    }

    /// A stored charge, refund or dispute as Stripe renders it in API `version`: what a
    /// webhook endpoint on that version receives as the event's `data.object`.
    pub fn object_as_of(&self, id: &str, version: &str) -> Value {
        let state = self.state.lock().unwrap();
        let object = state
            .charges
            .iter()
            .chain(&state.refunds)
            .chain(&state.disputes)
            .find(|o| o["id"] == id)
            .expect("known object");
        render(object, version)
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
        // Without the header Stripe answers in the account's default version; this account's
        // is a current one.
        let version = request
            .header("stripe-version")
            .unwrap_or(CURRENT_VERSION)
            .to_owned();
        let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
        let (objects, kind) = match segments.get(..2) {
            Some(["v1", "charges"]) => (&state.charges, "charge"),
            Some(["v1", "refunds"]) => (&state.refunds, "refund"),
            Some(["v1", "disputes"]) => (&state.disputes, "dispute"),
            _ => {
                return stripe_error(
                    404,
                    &format!("Unrecognized request URL (GET: {})", request.path),
                    None,
                );
            }
        };
        match segments.as_slice() {
            [_, _] => {}
            [_, _, id] => {
                return match objects.iter().find(|o| o["id"] == *id) {
                    Some(object) => MockResponse::json(200, &render(object, &version)),
                    None => stripe_error(
                        404,
                        &format!("No such {kind}: '{id}'"),
                        Some("resource_missing"),
                    ),
                };
            }
            _ => {
                return stripe_error(
                    404,
                    &format!("Unrecognized request URL (GET: {})", request.path),
                    None,
                );
            }
        }
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
        let data: Vec<Value> = listed[start..end]
            .iter()
            .map(|v| render(v, &version))
            .collect();
        MockResponse::json(
            200,
            &json!({"object": "list", "url": request.path, "has_more": end < listed.len(), "data": data}),
        )
    }
}
