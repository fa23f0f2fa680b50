//! Lookback's generic attribution API (contract in README, "The generic attribution API"): one stream, `events`,
//! paged by an opaque cursor. Clicks become touches, conversions orders, refunds refund
//! adjustments.
//!
//! Checkpoint: the server's `next_cursor` after the last committed page. Events are immutable
//! and a refund is a new event, so there is no restatement window: resuming from the cursor
//! sees everything that arrived since.

use lookback_core::money::{Currency, parse_major_decimal};
use lookback_core::time::parse_instant_ms;
use lookback_store::{AdjustmentKind, IdentityKeys, Order, OrderAdjustment, Touch};
use serde_json::{Map, Value};

use crate::SyncError;
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpRequest, HttpResponse, Normalized, Page, RateLimit,
    RawRecord, RecordProblem, SourceContext,
};
use crate::fields::{count_unknown, object, optional_str, owned, required_str};

/// The only stream of the generic API.
pub const EVENTS: &str = "events";
/// The largest `limit` the contract allows.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Every field of an event the contract defines (after e-mail hashing: `email` arrives as
/// `email_sha256`). Anything else is counted as schema drift and kept in the raw payload.
const KNOWN_FIELDS: &[&str] = &[
    "event_id",
    "event_type",
    "occurred_at",
    "creator_id",
    "content_id",
    "campaign_id",
    "ad_id",
    "channel",
    "touch_type",
    "click_id",
    "person_id",
    "anonymous_id",
    "email_sha256",
    "customer_id",
    "device_id",
    "amount",
    "currency",
    "order_id",
    "status",
    "raw",
];

/// The type of a generic event. A value the contract does not know is kept as `Unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GenericEventType {
    Click,
    Conversion,
    Refund,
    Unknown(String),
}

impl GenericEventType {
    pub fn parse(text: &str) -> GenericEventType {
        match text {
            "click" => GenericEventType::Click,
            "conversion" => GenericEventType::Conversion,
            "refund" => GenericEventType::Refund,
            other => GenericEventType::Unknown(other.to_owned()),
        }
    }
}

/// The generic API connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenericConnector;

impl Connector for GenericConnector {
    fn kind(&self) -> &'static str {
        "generic"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[EVENTS]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        None
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Bearer
    }

    fn default_rate_limit(&self) -> RateLimit {
        // The contract promises at least 20 requests/s; a server that wants fewer says 429.
        RateLimit {
            requests_per_second: 20.0,
            burst: 20,
        }
    }

    fn default_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    fn start_position(
        &self,
        _: &SourceContext,
        _: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        Ok(Some(checkpoint.unwrap_or("").to_owned()))
    }

    fn page_request(
        &self,
        context: &SourceContext,
        _: &str,
        position: &str,
    ) -> Result<HttpRequest, SyncError> {
        let mut url =
            reqwest::Url::parse(&format!("{}/v1/events", context.base_url)).map_err(|e| {
                SyncError::Connector {
                    connector: "generic",
                    detail: format!("base URL: {e}"),
                }
            })?;
        {
            let mut query = url.query_pairs_mut();
            if !position.is_empty() {
                query.append_pair("since", position);
            }
            query.append_pair("limit", &context.page_size.min(MAX_PAGE_SIZE).to_string());
        }
        Ok(HttpRequest::get(url.to_string()))
    }

    fn parse_page(
        &self,
        _: &SourceContext,
        _: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            data: Vec<Value>,
            next_cursor: Option<String>,
            has_more: bool,
        }
        let envelope: Envelope =
            serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
        let records = envelope
            .data
            .into_iter()
            .enumerate()
            .map(|(index, payload)| {
                // A record without a usable id still reaches the writer (and a dead letter): its
                // position on the page stands in as the id so it is never dropped silently.
                let external_id = match payload.get("event_id") {
                    Some(Value::String(id)) if !id.is_empty() => id.clone(),
                    _ => format!("(no event_id: page after {position:?}, item {index})"),
                };
                RawRecord {
                    external_id,
                    payload,
                }
            })
            .collect();
        let checkpoint = envelope
            .next_cursor
            .clone()
            .unwrap_or_else(|| position.to_owned());
        if envelope.has_more
            && envelope
                .next_cursor
                .as_deref()
                .is_none_or(|c| c == position)
        {
            return Err(
                "has_more is true but next_cursor is missing or did not advance".to_owned(),
            );
        }
        Ok(Page {
            records,
            checkpoint,
            next: if envelope.has_more {
                envelope.next_cursor
            } else {
                None
            },
            pause_before_next: None,
        })
    }

    fn normalize(
        &self,
        context: &SourceContext,
        _: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        let event_id = required_str(record, "event_id")?;
        let event_type = GenericEventType::parse(required_str(record, "event_type")?);
        let occurred_at_ms = parse_instant_ms(required_str(record, "occurred_at")?)
            .map_err(|e| RecordProblem::new(format!("field occurred_at: {e}")))?;
        let identity = identity_keys(record)?;
        let source = context.source_id.clone();
        let row = match event_type {
            GenericEventType::Click => {
                let creator_id = owned(optional_str(record, "creator_id")?);
                let channel = optional_str(record, "channel")?.unwrap_or(if creator_id.is_some() {
                    "creator"
                } else {
                    "referral"
                });
                CanonicalRow::Touch(Touch {
                    touch_id: event_id.to_owned(),
                    source,
                    occurred_at_ms,
                    channel: channel.to_owned(),
                    touch_type: optional_str(record, "touch_type")?
                        .unwrap_or("click")
                        .to_owned(),
                    creator_id,
                    campaign_id: owned(optional_str(record, "campaign_id")?),
                    ad_id: owned(optional_str(record, "ad_id")?),
                    content_id: owned(optional_str(record, "content_id")?),
                    click_id: owned(optional_str(record, "click_id")?),
                    identity,
                    raw_event_id: None,
                })
            }
            GenericEventType::Conversion => {
                let (amount_minor, currency) = amount(record)?;
                CanonicalRow::Order(Order {
                    order_id: optional_str(record, "order_id")?
                        .unwrap_or(event_id)
                        .to_owned(),
                    source,
                    occurred_at_ms,
                    gross_minor: amount_minor,
                    currency,
                    status: optional_str(record, "status")?.unwrap_or("paid").to_owned(),
                    click_id: owned(optional_str(record, "click_id")?),
                    identity,
                    raw_event_id: None,
                })
            }
            GenericEventType::Refund => {
                let (amount_minor, currency) = amount(record)?;
                CanonicalRow::Adjustment(OrderAdjustment {
                    adjustment_id: event_id.to_owned(),
                    order_id: required_str(record, "order_id")?.to_owned(),
                    source,
                    kind: AdjustmentKind::Refund,
                    occurred_at_ms,
                    amount_minor,
                    currency,
                    status: optional_str(record, "status")?
                        .unwrap_or("succeeded")
                        .to_owned(),
                    raw_event_id: None,
                })
            }
            GenericEventType::Unknown(other) => {
                return Err(RecordProblem::new(format!(
                    "event_type {other:?} is not one of click, conversion, refund"
                )));
            }
        };
        Ok(Normalized {
            rows: vec![row],
            unknown_fields: count_unknown(record, KNOWN_FIELDS),
        })
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        Ok(HttpRequest::get(format!(
            "{}/v1/events?limit=1",
            context.base_url
        )))
    }
}

/// `amount` (decimal string, major units) and `currency` (ISO 4217) of a conversion or refund.
fn amount(record: &Map<String, Value>) -> Result<(i64, String), RecordProblem> {
    let currency_text = required_str(record, "currency")?;
    let currency = Currency::parse(currency_text)
        .map_err(|e| RecordProblem::new(format!("field currency: {e}")))?;
    let amount_text = required_str(record, "amount")?;
    let minor = parse_major_decimal(amount_text, currency)
        .map_err(|e| RecordProblem::new(format!("field amount: {e}")))?;
    Ok((minor, currency.code().to_owned()))
}

/// The person keys of an event; the e-mail arrives hashed (see `crate::pii`).
fn identity_keys(record: &Map<String, Value>) -> Result<IdentityKeys, RecordProblem> {
    let email_sha256 =
        optional_str(record, "email_sha256")?.filter(|h| *h != lookback_core::pii::WITHHELD);
    Ok(IdentityKeys {
        person_id: owned(optional_str(record, "person_id")?),
        anonymous_id: owned(optional_str(record, "anonymous_id")?),
        email_sha256: owned(email_sha256),
        customer_id: owned(optional_str(record, "customer_id")?),
        device_id: owned(optional_str(record, "device_id")?),
    })
}
