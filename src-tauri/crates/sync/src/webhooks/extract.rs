//! Turning a verified delivery into the record a poll of the same platform would have stored:
//! its event id (the delivery's idempotency key), stream, external id and payload. Storing the
//! record in the polled shape is what lets the connector's own `normalize` read it, so a pushed
//! sale and a polled sale land in the same canonical rows, and a poll that later reads the
//! same object finds it as a duplicate in `raw_events`.
//!
//! Pure: no clock, no IO. The payload is minimized here (`lookback_core::pii::minimize`:
//! e-mails hashed, other personal fields redacted unless the workspace keeps them) before
//! anything is stored.

use lookback_core::traffic::TrafficParts;
use serde_json::{Map, Value};

use super::verify::Scheme;
use crate::connectors::{dub, generic, stripe};

/// The stream of a Stripe event type this normalizer does not turn into rows (it is kept in
/// `raw_events` all the same).
pub const OTHER_EVENTS: &str = "events";

/// A verified delivery, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedEvent {
    pub event_id: String,
    pub stream: String,
    pub external_id: String,
    pub payload: Value,
}

/// A verified delivery that cannot be read at all (not JSON, no event id). It becomes a dead
/// letter at once; `reason` says what a person can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub reason: String,
}

/// Extracts the event of a delivery. `query` holds the postback's parameters (without the
/// token) and is ignored by the other schemes; `keep_raw_pii` is the workspace's
/// `store_raw_pii` setting.
pub fn extract(
    scheme: Scheme,
    body: &[u8],
    query: &[(String, String)],
    content_type: Option<&str>,
    keep_raw_pii: bool,
) -> Result<ExtractedEvent, Unreadable> {
    extract_with_traffic(scheme, body, query, content_type, keep_raw_pii).map(|(event, _)| event)
}

/// [`extract`], also answering what the payload said about its request (user agent, verdict,
/// headers) as it arrived, before minimizing redacted it: what classifies a touch it becomes.
pub fn extract_with_traffic(
    scheme: Scheme,
    body: &[u8],
    query: &[(String, String)],
    content_type: Option<&str>,
    keep_raw_pii: bool,
) -> Result<(ExtractedEvent, TrafficParts), Unreadable> {
    let mut extracted = match scheme {
        Scheme::Stripe => stripe_event(parse_json(body)?),
        Scheme::Dub => dub_event(parse_json(body)?),
        Scheme::Generic => generic_event(parse_json(body)?),
        Scheme::Postback => postback_event(body, query, content_type),
    }?;
    let traffic = TrafficParts::of_payload(&extracted.payload);
    lookback_core::pii::minimize(&mut extracted.payload, keep_raw_pii);
    Ok((extracted, traffic))
}

fn parse_json(body: &[u8]) -> Result<Value, Unreadable> {
    serde_json::from_slice(body).map_err(|e| Unreadable {
        reason: format!("the body is not JSON ({e})"),
    })
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn required_event_id(value: &Value, pointer: &str) -> Result<String, Unreadable> {
    text(value, pointer).ok_or_else(|| Unreadable {
        reason: format!(
            "the event has no {} (a string), so it cannot be deduplicated",
            pointer.trim_start_matches('/')
        ),
    })
}

/// A Stripe event `{"id":"evt_…","type":"charge.succeeded","data":{"object":{…}}}`: charges,
/// refunds and disputes are stored as their object in the polled stream; other types are kept
/// whole under [`OTHER_EVENTS`]. The object comes in the webhook endpoint's API version
/// (`api_version`), which may be newer than the one polls pin; the connector's normalizer reads
/// both to the same rows, so the version is not looked at here.
fn stripe_event(event: Value) -> Result<ExtractedEvent, Unreadable> {
    let event_id = required_event_id(&event, "/id")?;
    let event_type = text(&event, "/type").unwrap_or_default();
    let stream = if event_type.starts_with("charge.dispute.") {
        Some(stripe::DISPUTES)
    } else if event_type.starts_with("charge.refund.") || event_type.starts_with("refund.") {
        Some(stripe::REFUNDS)
    } else if event_type.starts_with("charge.") {
        Some(stripe::CHARGES)
    } else {
        None
    };
    match (stream, event.pointer("/data/object")) {
        (Some(stream), Some(object @ Value::Object(_))) => {
            let external_id =
                text(object, "/id").unwrap_or_else(|| format!("(no id: event {event_id})"));
            Ok(ExtractedEvent {
                event_id,
                stream: stream.to_owned(),
                external_id,
                payload: object.clone(),
            })
        }
        // A charge event without its object: stored whole in the stream, where normalization
        // turns it into a dead letter with the field that is missing.
        (Some(stream), _) => Ok(ExtractedEvent {
            event_id: event_id.clone(),
            stream: stream.to_owned(),
            external_id: event_id,
            payload: event,
        }),
        (None, _) => Ok(ExtractedEvent {
            event_id: event_id.clone(),
            stream: OTHER_EVENTS.to_owned(),
            external_id: event_id,
            payload: event,
        }),
    }
}

/// A Dub webhook `{"id":"evt_…","event":"sale.created","createdAt":"…","data":{…}}`, rewritten
/// into the shape of an event of Dub's `/events` API (`event`, `timestamp`, `eventId` beside
/// `click`, `link`, `customer`, `sale`). Dub's `data` carries no event id and no timestamp
/// (dubinc/dub `saleWebhookEventSchema`, `leadWebhookEventSchema`), so the envelope's id and
/// `createdAt` stand in for them. The envelope id is not the `eventId` a poll reads for the same
/// event: a sale with an `invoiceId` shares that key with its polled copy; one without is
/// matched to it by the connector's normalization (`dub::sale_match_aliases`).
fn dub_event(event: Value) -> Result<ExtractedEvent, Unreadable> {
    let event_id = required_event_id(&event, "/id")?;
    let event_name = text(&event, "/event");
    let (stream, kind) = match event_name.as_deref() {
        Some("sale.created") => (dub::SALES, "sale"),
        Some("lead.created") => (dub::LEADS, "lead"),
        Some("link.clicked") => (dub::CLICKS, "click"),
        Some(other) => (OTHER_EVENTS, other.split('.').next().unwrap_or("unknown")),
        None => (dub::SALES, "(missing)"),
    };
    let mut record = match event.get("data") {
        Some(Value::Object(data)) => data.clone(),
        _ => Map::new(),
    };
    record.insert("event".to_owned(), Value::String(kind.to_owned()));
    record.insert("eventId".to_owned(), Value::String(event_id.clone()));
    if !record.contains_key("timestamp")
        && let Some(created) = event.get("createdAt")
    {
        record.insert("timestamp".to_owned(), created.clone());
    }
    let record = Value::Object(record);
    // The ids Dub's connector uses, so a poll of the same event is a duplicate.
    let external_id = match stream {
        dub::CLICKS => text(&record, "/click/id"),
        dub::SALES => text(&record, "/sale/invoiceId"),
        _ => None,
    }
    .unwrap_or_else(|| event_id.clone());
    Ok(ExtractedEvent {
        event_id,
        stream: stream.to_owned(),
        external_id,
        payload: record,
    })
}

/// A generic event: the body is one event of Lookback's generic API contract (README).
fn generic_event(event: Value) -> Result<ExtractedEvent, Unreadable> {
    let event_id = required_event_id(&event, "/event_id")?;
    Ok(ExtractedEvent {
        event_id: event_id.clone(),
        stream: generic::EVENTS.to_owned(),
        external_id: event_id,
        payload: event,
    })
}

/// An S2S postback: the parameters (query string of a GET, form or JSON body of a POST) are
/// the fields of a generic event (`event_id`, `event_type`, `occurred_at`, `amount`,
/// `currency`, `click_id`, `creator_id`, …).
fn postback_event(
    body: &[u8],
    query: &[(String, String)],
    content_type: Option<&str>,
) -> Result<ExtractedEvent, Unreadable> {
    let mut record = Map::new();
    for (key, value) in query {
        record.insert(key.clone(), Value::String(value.clone()));
    }
    if !body.is_empty() {
        if content_type.is_some_and(|c| c.starts_with("application/json")) {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(fields)) => record.extend(fields),
                _ => {
                    return Err(Unreadable {
                        reason: "the postback body is not a JSON object".to_owned(),
                    });
                }
            }
        } else {
            let text = std::str::from_utf8(body).map_err(|_| Unreadable {
                reason: "the postback body is not UTF-8".to_owned(),
            })?;
            for (key, value) in form_pairs(text) {
                if key != "token" {
                    record.insert(key, Value::String(value));
                }
            }
        }
    }
    let record = Value::Object(record);
    let event_id = required_event_id(&record, "/event_id")?;
    Ok(ExtractedEvent {
        event_id: event_id.clone(),
        stream: generic::EVENTS.to_owned(),
        external_id: event_id,
        payload: record,
    })
}

/// Percent-decoded `key=value` pairs of a query string or form body.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    match reqwest::Url::parse(&format!("http://form.invalid/?{text}")) {
        Ok(url) => url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stripe_charge_event_is_stored_as_the_polled_charge() {
        let body = json!({"id":"evt_1","type":"charge.succeeded","data":{"object":{"id":"ch_1","receipt_email":"a@b.co",
                          "billing_details":{"name":"Ann Lee","phone":"+1 555 0100"}}}});
        let e = extract(
            Scheme::Stripe,
            body.to_string().as_bytes(),
            &[],
            None,
            false,
        )
        .unwrap();
        let kept = extract(Scheme::Stripe, body.to_string().as_bytes(), &[], None, true).unwrap();
        assert!(
            !e.payload.to_string().contains("Ann Lee") && !e.payload.to_string().contains("555")
        );
        assert!(
            kept.payload.to_string().contains("Ann Lee"),
            "a workspace that opted in keeps names"
        );
        assert!(
            !kept.payload.to_string().contains("a@b.co"),
            "e-mails are hashed either way"
        );
        assert_eq!(
            (
                e.event_id.as_str(),
                e.stream.as_str(),
                e.external_id.as_str()
            ),
            ("evt_1", "charges", "ch_1")
        );
        assert!(!e.payload.to_string().contains("a@b.co"));
    }

    #[test]
    fn stripe_refund_and_dispute_events_of_a_current_version_go_to_their_streams() {
        for (event_type, object, stream) in [
            (
                "refund.created",
                json!({"id": "re_1", "object": "refund"}),
                "refunds",
            ),
            (
                "charge.refund.updated",
                json!({"id": "re_1", "object": "refund"}),
                "refunds",
            ),
            (
                "charge.refunded",
                json!({"id": "ch_1", "object": "charge"}),
                "charges",
            ),
            (
                "charge.captured",
                json!({"id": "ch_1", "object": "charge"}),
                "charges",
            ),
            (
                "charge.dispute.closed",
                json!({"id": "dp_1", "object": "dispute", "status": "prevented"}),
                "disputes",
            ),
            (
                "charge.dispute.funds_reinstated",
                json!({"id": "dp_1", "object": "dispute", "status": "won"}),
                "disputes",
            ),
        ] {
            let body = json!({"id": "evt_1", "object": "event", "api_version": "2026-10-28.endive",
                              "type": event_type, "data": {"object": object}});
            let e = extract(
                Scheme::Stripe,
                body.to_string().as_bytes(),
                &[],
                None,
                false,
            )
            .unwrap();
            assert_eq!(e.stream, stream, "{event_type}");
            assert_eq!(
                e.payload, object,
                "{event_type}: the object, as a poll stores it"
            );
        }
    }

    #[test]
    fn a_dub_sale_takes_the_events_api_shape() {
        let body = json!({"id":"evt_9","event":"sale.created","createdAt":"2026-03-01T00:00:00Z",
                          "data":{"sale":{"amount":1200,"currency":"usd","invoiceId":"in_1"}}});
        let e = extract(Scheme::Dub, body.to_string().as_bytes(), &[], None, false).unwrap();
        assert_eq!(
            (e.stream.as_str(), e.external_id.as_str()),
            ("sales", "in_1")
        );
        assert_eq!(e.payload["event"], json!("sale"));
        assert_eq!(e.payload["timestamp"], json!("2026-03-01T00:00:00Z"));
    }

    #[test]
    fn a_dub_sale_without_an_invoice_is_keyed_by_the_envelope_id() {
        let body = json!({"id":"evt_10","event":"sale.created","createdAt":"2026-03-01T00:00:02.000Z",
                          "data":{"eventName":"Purchase","customer":{"id":"cus_1"},"click":{"id":"clk_1"},
                                  "sale":{"amount":1200,"currency":"usd","invoiceId":null,"paymentProcessor":"stripe"},
                                  "partner":null,"metadata":null}});
        let e = extract(Scheme::Dub, body.to_string().as_bytes(), &[], None, false).unwrap();
        assert_eq!(
            (
                e.event_id.as_str(),
                e.stream.as_str(),
                e.external_id.as_str()
            ),
            ("evt_10", "sales", "evt_10")
        );
        assert_eq!(e.payload["eventId"], json!("evt_10"));
        assert_eq!(e.payload["timestamp"], json!("2026-03-01T00:00:02.000Z"));
    }

    #[test]
    fn unreadable_bodies_and_postbacks() {
        assert!(extract(Scheme::Generic, b"not json", &[], None, false).is_err());
        assert!(extract(Scheme::Generic, b"{\"x\":1}", &[], None, false).is_err());
        let q = vec![
            ("event_id".to_owned(), "pb1".to_owned()),
            ("amount".to_owned(), "12.50".to_owned()),
        ];
        let e = extract(Scheme::Postback, b"", &q, None, false).unwrap();
        assert_eq!(e.event_id, "pb1");
        assert_eq!(e.payload["amount"], json!("12.50"));
        let e = extract(
            Scheme::Postback,
            b"event_id=pb2&token=t&currency=USD",
            &[],
            Some("application/x-www-form-urlencoded"),
            false,
        )
        .unwrap();
        assert_eq!(e.event_id, "pb2");
        assert!(e.payload.get("token").is_none());
    }
}
