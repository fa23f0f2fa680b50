//! Stripe: charges become orders, refunds refund adjustments, disputes chargebacks.
//!
//! Paging follows Stripe's list API: `limit` ≤ 100, newest first, `starting_after=<last id>`.
//! A first sync therefore runs newest-first, so recent revenue shows early.
//!
//! Checkpoint (JSON): while a run is under way it is
//! `{"run_started":S,"created_gt":G,"starting_after":"ch_…"}` — the id of the last committed
//! object of the newest-first scan — so a killed run resumes the same scan right after that
//! page. Objects created after the run started sit *above* the scan and are not missed: when the
//! scan reaches its end the checkpoint becomes `{"watermark":S}` (the time the run started), and
//! the next run reads everything created after `S − restatement window`.
//!
//! Refunds and disputes change old objects without changing `created` (a dispute is won, a
//! refund succeeds). The restatement window (default 30 days) re-reads recent objects every
//! sync; unchanged ones are duplicates and cost nothing but the request. Charges are filtered
//! on the server (`created[gt]`); refunds and disputes are cut off on the client (the scan stops
//! after a page entirely older than the window), which works against every Stripe-compatible
//! server, including the `localstripe` emulator that filters charges only.

use lookback_core::money::Currency;
use lookback_store::{AdjustmentKind, IdentityKeys, Order, OrderAdjustment, OrderAlias};
use serde_json::{Map, Value};

use crate::SyncError;
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpRequest, HttpResponse, Normalized, Page, RateLimit,
    RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, optional_str, required_i64, required_str, type_name};

pub const CHARGES: &str = "charges";
pub const REFUNDS: &str = "refunds";
pub const DISPUTES: &str = "disputes";
/// Stripe's largest `limit`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The API version the normalizer was written against.
pub const STRIPE_VERSION: &str = crate::api_versions::STRIPE_VERSION;

const CHARGE_FIELDS: &[&str] = &[
    "id",
    "object",
    "amount",
    "amount_captured",
    "amount_refunded",
    "application",
    "application_fee",
    "application_fee_amount",
    "balance_transaction",
    "billing_details",
    "calculated_statement_descriptor",
    "captured",
    "created",
    "currency",
    "customer",
    "description",
    "destination",
    "dispute",
    "disputed",
    "failure_balance_transaction",
    "failure_code",
    "failure_message",
    "fraud_details",
    "invoice",
    "livemode",
    "metadata",
    "on_behalf_of",
    "order",
    "outcome",
    "paid",
    "payment_intent",
    "payment_method",
    "payment_method_details",
    "radar_options",
    "receipt_email",
    "receipt_email_sha256",
    "receipt_number",
    "receipt_url",
    "refunded",
    "refunds",
    "review",
    "shipping",
    "source",
    "source_transfer",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "status",
    "transfer_data",
    "transfer_group",
];
const REFUND_FIELDS: &[&str] = &[
    "id",
    "object",
    "amount",
    "balance_transaction",
    "charge",
    "created",
    "currency",
    "description",
    "destination_details",
    "failure_balance_transaction",
    "failure_reason",
    "instructions_email_sha256",
    "metadata",
    "next_action",
    "payment_intent",
    "reason",
    "receipt_number",
    "source_transfer_reversal",
    "status",
    "transfer_reversal",
];
const DISPUTE_FIELDS: &[&str] = &[
    "id",
    "object",
    "amount",
    "balance_transaction",
    "balance_transactions",
    "charge",
    "created",
    "currency",
    "evidence",
    "evidence_details",
    "is_charge_refundable",
    "livemode",
    "metadata",
    "network_reason_code",
    "payment_intent",
    "payment_method_details",
    "reason",
    "status",
];
/// Metadata keys a store may put its click id under, in order of preference.
const CLICK_ID_KEYS: &[&str] = &["lookback_click_id", "click_id", "clickid", "click"];

/// A charge's `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChargeStatus {
    Succeeded,
    Pending,
    Failed,
    Unknown(String),
}

impl ChargeStatus {
    pub fn parse(text: &str) -> ChargeStatus {
        match text {
            "succeeded" => ChargeStatus::Succeeded,
            "pending" => ChargeStatus::Pending,
            "failed" => ChargeStatus::Failed,
            other => ChargeStatus::Unknown(other.to_owned()),
        }
    }
}

/// A dispute's `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisputeStatus {
    WarningNeedsResponse,
    WarningUnderReview,
    WarningClosed,
    NeedsResponse,
    UnderReview,
    Won,
    Lost,
    Unknown(String),
}

impl DisputeStatus {
    pub fn parse(text: &str) -> DisputeStatus {
        match text {
            "warning_needs_response" => DisputeStatus::WarningNeedsResponse,
            "warning_under_review" => DisputeStatus::WarningUnderReview,
            "warning_closed" => DisputeStatus::WarningClosed,
            "needs_response" => DisputeStatus::NeedsResponse,
            "under_review" => DisputeStatus::UnderReview,
            "won" => DisputeStatus::Won,
            "lost" => DisputeStatus::Lost,
            other => DisputeStatus::Unknown(other.to_owned()),
        }
    }

    /// The chargeback status the store counts: `lost` counts, `won` does not, everything still
    /// undecided is `open` (counted, and the order is disputed). An inquiry closed without a
    /// chargeback pulled no money, so it is `won`.
    pub fn chargeback_status(&self) -> &'static str {
        match self {
            DisputeStatus::Won | DisputeStatus::WarningClosed => "won",
            DisputeStatus::Lost => "lost",
            _ => "open",
        }
    }
}

/// Where a stream's scan is, and what a run that finished leaves behind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum StripeCursor {
    /// A run under way: its start, its lower bound, and the last committed object.
    Scanning {
        run_started: i64,
        created_gt: Option<i64>,
        starting_after: Option<String>,
    },
    /// The last run reached the end of its scan; it had started at `watermark` (Unix s).
    Finished { watermark: i64 },
}

/// The Stripe connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct StripeConnector;

impl Connector for StripeConnector {
    fn kind(&self) -> &'static str {
        "stripe"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[CHARGES, REFUNDS, DISPUTES]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://api.stripe.com")
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Bearer
    }

    fn default_rate_limit(&self) -> RateLimit {
        // Stripe allows ~100 read requests/s live and 25/s in test mode; stay under both.
        RateLimit {
            requests_per_second: 20.0,
            burst: 20,
        }
    }

    fn default_restatement_days(&self) -> u32 {
        30
    }

    fn default_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    fn start_position(
        &self,
        context: &SourceContext,
        _: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        let now_s = context.now_ms.div_euclid(1000);
        let cursor = match checkpoint {
            None => StripeCursor::Scanning {
                run_started: now_s,
                created_gt: None,
                starting_after: None,
            },
            Some(text) => match serde_json::from_str::<StripeCursor>(text) {
                Ok(scanning @ StripeCursor::Scanning { .. }) => scanning,
                Ok(StripeCursor::Finished { watermark }) => StripeCursor::Scanning {
                    run_started: now_s.max(watermark),
                    created_gt: Some(watermark - i64::from(context.restatement_days) * 86_400 - 1),
                    starting_after: None,
                },
                Err(e) => {
                    return Err(SyncError::Connector {
                        connector: "stripe",
                        detail: format!("unreadable checkpoint {text:?}: {e}"),
                    });
                }
            },
        };
        Ok(Some(to_text(&cursor)))
    }

    fn page_request(
        &self,
        context: &SourceContext,
        stream: &str,
        position: &str,
    ) -> Result<HttpRequest, SyncError> {
        let StripeCursor::Scanning {
            created_gt,
            starting_after,
            ..
        } = from_text(position)?
        else {
            return Err(SyncError::Connector {
                connector: "stripe",
                detail: "a finished cursor is not a position".to_owned(),
            });
        };
        let mut url =
            reqwest::Url::parse(&format!("{}/v1/{stream}", context.base_url)).map_err(|e| {
                SyncError::Connector {
                    connector: "stripe",
                    detail: format!("base URL: {e}"),
                }
            })?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair(
                "limit",
                &context.page_size.clamp(1, MAX_PAGE_SIZE).to_string(),
            );
            if let Some(after) = &starting_after {
                query.append_pair("starting_after", after);
            }
            if stream == CHARGES
                && let Some(gt) = created_gt
            {
                query.append_pair("created[gt]", &gt.to_string());
            }
        }
        Ok(HttpRequest::get(url.to_string()).with_header("Stripe-Version", STRIPE_VERSION))
    }

    fn check_response(
        &self,
        _: &SourceContext,
        _: &str,
        response: &HttpResponse,
    ) -> ResponseVerdict {
        let should_retry = response.header("stripe-should-retry");
        let message = || {
            response
                .json()
                .ok()
                .and_then(|body| {
                    body.pointer("/error/message")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| response.body_excerpt())
        };
        match (response.status, should_retry) {
            (429, Some("false")) => ResponseVerdict::Fatal {
                detail: format!("HTTP 429, Stripe says not to retry: {}", message()),
            },
            (429, _) => ResponseVerdict::Throttled {
                wait: response.retry_after(),
                detail: format!("HTTP 429: {}", message()),
            },
            (404, _) => ResponseVerdict::StreamUnavailable {
                detail: format!("HTTP 404 on the list endpoint: {}", message()),
            },
            (401 | 403, _) => ResponseVerdict::Unauthorized {
                detail: format!("HTTP {}", response.status),
            },
            (400..=499, Some("true")) => ResponseVerdict::Transient {
                detail: format!("HTTP {}: {}", response.status, message()),
            },
            (500..=599, Some("false")) => ResponseVerdict::Fatal {
                detail: format!(
                    "HTTP {}, Stripe says not to retry: {}",
                    response.status,
                    message()
                ),
            },
            (400..=499, _) => ResponseVerdict::Fatal {
                detail: format!("HTTP {}: {}", response.status, message()),
            },
            _ => default_verdict(response),
        }
    }

    fn parse_page(
        &self,
        _: &SourceContext,
        stream: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        #[derive(serde::Deserialize)]
        struct List {
            data: Vec<Value>,
            has_more: bool,
        }
        let StripeCursor::Scanning {
            run_started,
            created_gt,
            ..
        } = from_text(position).map_err(|e| e.to_string())?
        else {
            return Err("a finished cursor is not a position".to_owned());
        };
        let list: List = serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
        let last_id = list
            .data
            .last()
            .and_then(|o| o.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        // The client-side cutoff of refunds and disputes: a page whose every object is older
        // than the window ends the scan (newest-first means everything after it is older still).
        let all_older = created_gt.is_some_and(|gt| {
            stream != CHARGES
                && !list.data.is_empty()
                && list.data.iter().all(|o| {
                    o.get("created")
                        .and_then(Value::as_i64)
                        .is_some_and(|c| c <= gt)
                })
        });
        let more = list.has_more && last_id.is_some() && !all_older;
        let records = list
            .data
            .into_iter()
            .enumerate()
            .map(|(index, payload)| {
                let external_id = match payload.get("id") {
                    Some(Value::String(id)) if !id.is_empty() => id.clone(),
                    _ => format!("(no id: item {index} after {position})"),
                };
                RawRecord {
                    external_id,
                    payload,
                }
            })
            .collect();
        let (checkpoint, next) = if more {
            let scanning = to_text(&StripeCursor::Scanning {
                run_started,
                created_gt,
                starting_after: last_id,
            });
            (scanning.clone(), Some(scanning))
        } else {
            (
                to_text(&StripeCursor::Finished {
                    watermark: run_started,
                }),
                None,
            )
        };
        Ok(Page {
            records,
            checkpoint,
            next,
            pause_before_next: None,
        })
    }

    fn normalize(
        &self,
        context: &SourceContext,
        stream: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        match stream {
            CHARGES => normalize_charge(context, record),
            REFUNDS => normalize_adjustment(context, record, AdjustmentKind::Refund),
            DISPUTES => normalize_adjustment(context, record, AdjustmentKind::Chargeback),
            other => Err(RecordProblem::new(format!(
                "unknown Stripe stream {other:?}"
            ))),
        }
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        Ok(
            HttpRequest::get(format!("{}/v1/charges?limit=1", context.base_url))
                .with_header("Stripe-Version", STRIPE_VERSION),
        )
    }
}

fn to_text(cursor: &StripeCursor) -> String {
    serde_json::to_string(cursor).expect("a cursor serializes")
}

fn from_text(text: &str) -> Result<StripeCursor, SyncError> {
    serde_json::from_str(text).map_err(|e| SyncError::Connector {
        connector: "stripe",
        detail: format!("bad position {text:?}: {e}"),
    })
}

/// `amount` (integer minor units), `currency` and `created` of a Stripe object.
fn money_and_time(record: &Map<String, Value>) -> Result<(i64, String, i64), RecordProblem> {
    let amount = required_i64(record, "amount")?;
    if amount < 0 {
        return Err(RecordProblem::new(format!(
            "field amount is negative ({amount})"
        )));
    }
    let currency = Currency::parse(required_str(record, "currency")?)
        .map_err(|e| RecordProblem::new(format!("field currency: {e}")))?;
    let created = required_i64(record, "created")?;
    Ok((amount, currency.code().to_owned(), created * 1000))
}

/// An id field that Stripe may expand into an object: the id either way.
fn id_field(record: &Map<String, Value>, field: &str) -> Result<Option<String>, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(Value::Object(expanded)) => Ok(expanded
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be an id, found {}",
            type_name(other)
        ))),
    }
}

fn normalize_charge(
    context: &SourceContext,
    record: &Map<String, Value>,
) -> Result<Normalized, RecordProblem> {
    let charge_id = required_str(record, "id")?;
    let (amount, currency, occurred_at_ms) = money_and_time(record)?;
    let status = match ChargeStatus::parse(required_str(record, "status")?) {
        // A failed charge took no money: it stays in raw_events, and is not an order.
        ChargeStatus::Failed => {
            return Ok(Normalized {
                rows: Vec::new(),
                unknown_fields: count_unknown(record, CHARGE_FIELDS),
            });
        }
        ChargeStatus::Succeeded => "paid".to_owned(),
        ChargeStatus::Pending => "pending".to_owned(),
        ChargeStatus::Unknown(other) => other,
    };
    let metadata = match record.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            return Err(RecordProblem::new(format!(
                "field metadata should be an object, found {}",
                type_name(other)
            )));
        }
    };
    let click_id = metadata.and_then(|m| {
        CLICK_ID_KEYS.iter().find_map(|key| {
            m.get(*key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
    });
    let email_sha256 = record
        .get("billing_details")
        .and_then(|b| b.get("email_sha256"))
        .and_then(Value::as_str)
        .or_else(|| record.get("receipt_email_sha256").and_then(Value::as_str))
        .filter(|h| *h != lookback_core::pii::WITHHELD)
        .map(str::to_owned);
    let person_id = metadata
        .and_then(|m| m.get("person_id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let order = Order {
        order_id: charge_id.to_owned(),
        source: context.source_id.clone(),
        occurred_at_ms,
        gross_minor: amount,
        currency,
        status,
        click_id,
        identity: IdentityKeys {
            person_id,
            anonymous_id: None,
            email_sha256,
            customer_id: id_field(record, "customer")?,
            device_id: None,
        },
        raw_event_id: None,
    };
    // The other ids this sale is known by: Dub's sale events carry the invoice (or payment
    // intent) as `invoiceId`, and a shop puts its own order id in the metadata.
    let mut aliases = Vec::new();
    for other in [
        id_field(record, "payment_intent")?,
        id_field(record, "invoice")?,
        metadata
            .and_then(|m| m.get("order_id"))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    {
        aliases.push(CanonicalRow::OrderAlias(OrderAlias {
            order_id: order.order_id.clone(),
            alias: other,
            source: context.source_id.clone(),
            created_at_ms: context.now_ms,
        }));
    }
    let mut rows = vec![CanonicalRow::Order(order)];
    rows.extend(aliases);
    Ok(Normalized {
        rows,
        unknown_fields: count_unknown(record, CHARGE_FIELDS),
    })
}

fn normalize_adjustment(
    context: &SourceContext,
    record: &Map<String, Value>,
    kind: AdjustmentKind,
) -> Result<Normalized, RecordProblem> {
    let id = required_str(record, "id")?;
    let (amount, currency, occurred_at_ms) = money_and_time(record)?;
    let Some(charge) = id_field(record, "charge")? else {
        return Err(RecordProblem::new(format!(
            "the {kind} has no charge, so there is no order to book it against"
        )));
    };
    let status_text = optional_str(record, "status")?;
    let (status, known) = match kind {
        AdjustmentKind::Refund => (
            match status_text.unwrap_or("succeeded") {
                "requires_action" => "pending".to_owned(),
                other => other.to_owned(),
            },
            REFUND_FIELDS,
        ),
        AdjustmentKind::Chargeback => (
            DisputeStatus::parse(required_str(record, "status")?)
                .chargeback_status()
                .to_owned(),
            DISPUTE_FIELDS,
        ),
    };
    let adjustment = OrderAdjustment {
        adjustment_id: id.to_owned(),
        order_id: charge,
        source: context.source_id.clone(),
        kind,
        occurred_at_ms,
        amount_minor: amount,
        currency,
        status,
        raw_event_id: None,
    };
    Ok(Normalized {
        rows: vec![CanonicalRow::Adjustment(adjustment)],
        unknown_fields: count_unknown(record, known),
    })
}
