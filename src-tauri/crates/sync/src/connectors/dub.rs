//! Dub (creator and affiliate short links): clicks become `creator_link` touches, leads become
//! identity links, sales become orders that carry their click id.
//!
//! Three streams, one endpoint: `GET /events?event=clicks|leads|sales&start=…&end=…
//! &timezone=UTC&page=N&limit=100&sortOrder=asc` with a Bearer key. The answer is a bare JSON
//! array with no has-more flag, so a page shorter than `limit` ends the scan. Without `start`
//! Dub answers only the last 24 hours, so `start` is always sent: a first sync reads
//! [`FIRST_SYNC_DAYS`] back.
//!
//! Checkpoint (JSON): a run scans a fixed window `[start, end]` (`end` = the run's clock) in
//! ascending time order; while it runs the checkpoint is `{"phase":"scanning","start_ms",
//! "end_ms","page"}` (the next page), so a killed run resumes the same window. Events are
//! immutable and late ones can only land inside the window, which shifts later pages right:
//! duplicates, never gaps. A finished run leaves `{"phase":"finished","watermark_ms":end}` and
//! the next run starts an hour before it (plus the restatement window) for events Dub records
//! late.
//!
//! Mapping decisions:
//! - A click's id is what Dub stores in the visitor's `dub_id` cookie, so it is both the
//!   touch's `click_id` and its `anonymous_id`: a lead later links that browser to a customer.
//! - The link is the content (`content_id` = link id, a `Content` row of kind `link`); the
//!   creator is the link's `partnerId` (Dub Partners), else its `tenantId`, else none — a link
//!   with neither is still a touch, attributed to the channel.
//! - A lead is not a marketing touch: it becomes identity links (anonymous click id ↔ customer
//!   id ↔ e-mail hash), plus the click's touch in case the click is older than the window.
//! - A sale's idempotency key is `sale.invoiceId` (the event id when a sale has none; Dub sends
//!   `null` or `""` then); it becomes an order with `click_id` = the click, and the same
//!   identity links.
//! - Money: Dub converts every sale to USD at the exchange rate of the day it records it and
//!   stores `sale.amount` in **USD cents** (Dub's `trackSaleRequestSchema`: "Sales will be
//!   automatically converted and stored as USD"). Older answers carry no `sale.currency` at all
//!   (the SDKs mark it optional), so a sale without one is booked in USD. A sale that does name
//!   its currency is booked in it: Dub leaves a sale unconverted when it has no rate for the
//!   currency, and its Shopify integration records the shop's currency as is.
//! - One sale, one order, whether it arrives by webhook or by poll. A webhook's `data` has no
//!   event id, so its record is keyed by the envelope's `evt_…` id, never by the polled
//!   `eventId`. With an `invoiceId` both copies share the key. Without one, the order names
//!   aliases computed from what both copies carry — Dub's customer id, the click id, the amount —
//!   and the time, on two staggered grids of [`SALE_MATCH_CELL_MS`] (see [`sale_match_aliases`]);
//!   the alias machinery of the store folds the second copy into the first order stored. A lead
//!   needs nothing of the kind: its rows are the click's touch and identity links, both keyed by
//!   what they link, so its two copies write them once.
//! - The customer id is `customer.externalId` (the merchant's own id — Shopify's customer id
//!   when the store is connected), else Dub's `customer.id`. The events API answers a deleted
//!   customer with the placeholder e-mail `deleted@customer.com`, which would join every
//!   deleted customer into one person; it is not used as an identity key.

use lookback_core::money::Currency;
use lookback_core::time::{days_to_ms, format_instant_ms, parse_instant_ms};
use lookback_store::{
    Content, IdentityKey, IdentityKeyType, IdentityKeys, IdentityLink, Order, OrderAlias, Touch,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::SyncError;
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpRequest, HttpResponse, Normalized, Page, RateLimit,
    RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, optional_str, required_i64, required_str, type_name};

pub const CLICKS: &str = "clicks";
pub const LEADS: &str = "leads";
pub const SALES: &str = "sales";
/// Dub's largest `limit`.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// How far back a first sync reads (Dub keeps a year of events on paid plans).
pub const FIRST_SYNC_DAYS: u32 = 365;
/// How far before the last window's end the next run starts: Dub may record an event a little
/// after it happened.
const OVERLAP_MS: i64 = 60 * 60 * 1000;
/// The channel of a touch through a creator's Dub link.
pub const CHANNEL: &str = "creator_link";
/// The currency of a sale that names none: Dub stores every sale in USD cents.
pub const DEFAULT_SALE_CURRENCY: &str = "USD";
/// The e-mail Dub's events API shows for a deleted customer (`getEvents` in dubinc/dub).
const DELETED_CUSTOMER_EMAIL: &str = "deleted@customer.com";
/// The time grid on which the webhook copy and the polled copy of one invoice-less sale are
/// matched. Dub records the sale (the polled `timestamp`) and prepares its `sale.created`
/// webhook (the envelope's `createdAt`, kept by Dub's retries) in the same request, so the
/// two differ by seconds; ten-minute cells on two grids offset by five minutes put copies up to
/// five minutes apart into a shared cell for certain, and never copies more than ten minutes
/// apart. Two genuinely different sales by the same customer through the same click for the
/// same amount within those minutes would be taken for one — rare, and Dub's own `invoiceId`
/// is there to tell them apart.
pub const SALE_MATCH_CELL_MS: i64 = 10 * 60 * 1000;
/// The prefix of the aliases of [`sale_match_aliases`].
pub const SALE_MATCH_ALIAS_PREFIX: &str = "dub-sale-match:";

/// Top-level fields of an event (after e-mail hashing); others count as schema drift. Besides
/// the nested objects, `/events` still sends the deprecated flat copies of their fields (the
/// SDKs' `ClickEvent`, `LeadEvent`, `SaleEvent`: `click_id`, `invoice_id`, `saleAmount`, …), and
/// a webhook's `data` adds `partner` (Dub's `saleWebhookEventSchema`).
const EVENT_FIELDS: &[&str] = &[
    "event",
    "timestamp",
    "eventId",
    "eventName",
    "click",
    "link",
    "customer",
    "sale",
    "metadata",
    "partner",
    "saleAmount",
    "invoice_id",
    "payment_processor",
    "click_id",
    "link_id",
    "domain",
    "key",
    "url",
    "continent",
    "country",
    "city",
    "device",
    "browser",
    "os",
    "qr",
    "ip",
];

/// The `event` field of a Dub event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DubEventKind {
    Click,
    Lead,
    Sale,
    Unknown(String),
}

impl DubEventKind {
    pub fn parse(text: &str) -> DubEventKind {
        match text {
            "click" => DubEventKind::Click,
            "lead" => DubEventKind::Lead,
            "sale" => DubEventKind::Sale,
            other => DubEventKind::Unknown(other.to_owned()),
        }
    }
}

/// A stream's scan (times in UTC ms).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum DubCursor {
    Scanning {
        start_ms: i64,
        end_ms: i64,
        page: u32,
    },
    Finished {
        watermark_ms: i64,
    },
}

/// The Dub connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct DubConnector;

impl Connector for DubConnector {
    fn kind(&self) -> &'static str {
        "dub"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[CLICKS, LEADS, SALES]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://api.dub.co")
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Bearer
    }

    fn default_rate_limit(&self) -> RateLimit {
        // Dub's analytics endpoints allow a few requests per second on paid plans; 429 tells
        // us when a plan allows fewer.
        RateLimit {
            requests_per_second: 2.0,
            burst: 5,
        }
    }

    fn start_position(
        &self,
        context: &SourceContext,
        _: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        let now = context.now_ms;
        let cursor = match checkpoint {
            None => DubCursor::Scanning {
                start_ms: now - days_to_ms(FIRST_SYNC_DAYS),
                end_ms: now,
                page: 1,
            },
            Some(text) => match serde_json::from_str::<DubCursor>(text) {
                Ok(scanning @ DubCursor::Scanning { .. }) => scanning,
                Ok(DubCursor::Finished { watermark_ms }) => DubCursor::Scanning {
                    start_ms: watermark_ms - OVERLAP_MS - days_to_ms(context.restatement_days),
                    end_ms: now.max(watermark_ms),
                    page: 1,
                },
                Err(e) => {
                    return Err(SyncError::Connector {
                        connector: "dub",
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
        let DubCursor::Scanning {
            start_ms,
            end_ms,
            page,
        } = from_text(position)?
        else {
            return Err(SyncError::Connector {
                connector: "dub",
                detail: "a finished cursor is not a position".to_owned(),
            });
        };
        let time = |ms| {
            format_instant_ms(ms).map_err(|e| SyncError::Connector {
                connector: "dub",
                detail: e.to_string(),
            })
        };
        let mut url =
            reqwest::Url::parse(&format!("{}/events", context.base_url)).map_err(|e| {
                SyncError::Connector {
                    connector: "dub",
                    detail: format!("base URL: {e}"),
                }
            })?;
        url.query_pairs_mut()
            .append_pair("event", stream)
            .append_pair("start", &time(start_ms)?)
            .append_pair("end", &time(end_ms)?)
            .append_pair("timezone", "UTC")
            .append_pair("page", &page.to_string())
            .append_pair("limit", &page_size(context).to_string())
            .append_pair("sortOrder", "asc");
        Ok(HttpRequest::get(url.to_string()))
    }

    fn check_response(
        &self,
        _: &SourceContext,
        _: &str,
        response: &HttpResponse,
    ) -> ResponseVerdict {
        // Dub's errors: {"error":{"code":"rate_limit_exceeded","message":"…","doc_url":"…"}}.
        let error = response.json().ok().and_then(|b| b.get("error").cloned());
        let code = error
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let message = error
            .as_ref()
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| response.body_excerpt());
        match (response.status, code.as_str()) {
            (429, _) | (_, "rate_limit_exceeded") => ResponseVerdict::Throttled {
                wait: response.retry_after(),
                detail: format!("HTTP {}: {message}", response.status),
            },
            (401 | 403, _) | (_, "unauthorized" | "forbidden") => ResponseVerdict::Unauthorized {
                detail: format!("HTTP {} {code}: {message}", response.status),
            },
            (400..=499, _) => ResponseVerdict::Fatal {
                detail: format!("HTTP {} {code}: {message}", response.status),
            },
            _ => default_verdict(response),
        }
    }

    fn parse_page(
        &self,
        context: &SourceContext,
        stream: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        let DubCursor::Scanning {
            start_ms,
            end_ms,
            page,
        } = from_text(position).map_err(|e| e.to_string())?
        else {
            return Err("a finished cursor is not a position".to_owned());
        };
        let events: Vec<Value> = serde_json::from_slice(&response.body)
            .map_err(|e| format!("expected a JSON array of events: {e}"))?;
        let full = events.len() >= page_size(context) as usize;
        let records = events
            .into_iter()
            .enumerate()
            .map(|(index, payload)| {
                let external_id = external_id(stream, &payload).unwrap_or_else(|| {
                    format!("(no id: {stream} page {page} item {index} of {start_ms}..{end_ms})")
                });
                RawRecord {
                    external_id,
                    payload,
                }
            })
            .collect();
        // No has-more flag: only a short page proves the end.
        let (checkpoint, next) = if full {
            let scanning = to_text(&DubCursor::Scanning {
                start_ms,
                end_ms,
                page: page + 1,
            });
            (scanning.clone(), Some(scanning))
        } else {
            (
                to_text(&DubCursor::Finished {
                    watermark_ms: end_ms,
                }),
                None,
            )
        };
        // The quota is spent: wait a second rather than spend the next request on a 429.
        let pause =
            (response.header("x-ratelimit-remaining").map(str::trim) == Some("0")).then(|| {
                response
                    .retry_after()
                    .unwrap_or(std::time::Duration::from_secs(1))
            });
        Ok(Page {
            records,
            checkpoint,
            next,
            pause_before_next: pause,
        })
    }

    fn normalize(
        &self,
        context: &SourceContext,
        stream: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        let kind = DubEventKind::parse(optional_str(record, "event")?.unwrap_or(match stream {
            CLICKS => "click",
            LEADS => "lead",
            _ => "sale",
        }));
        let click = sub_object(record, "click")?;
        let link = sub_object(record, "link")?;
        let mut rows = Vec::new();
        let touch = click_touch(context, record, click, link)?;
        let click_id = touch.as_ref().map(|t| t.touch_id.clone());
        if let Some(link) = link {
            rows.push(CanonicalRow::Content(link_content(link)?));
        }
        match kind {
            DubEventKind::Click => {
                let touch =
                    touch.ok_or_else(|| RecordProblem::new("a click event needs click.id"))?;
                rows.push(CanonicalRow::Touch(touch));
            }
            DubEventKind::Lead => {
                let at = event_time(record)?;
                rows.extend(touch.map(CanonicalRow::Touch));
                let links = identity_links(
                    context,
                    click_id.as_deref(),
                    sub_object(record, "customer")?,
                    at,
                )?;
                if links.is_empty() {
                    return Err(RecordProblem::new(
                        "a lead needs a click id or customer keys to link; it has neither",
                    ));
                }
                rows.extend(links);
            }
            DubEventKind::Sale => {
                let at = event_time(record)?;
                let sale = sub_object(record, "sale")?
                    .ok_or_else(|| RecordProblem::new("required field sale is missing"))?;
                let amount = required_i64(sale, "amount")
                    .map_err(|p| RecordProblem::new(format!("sale.{}", p.reason)))?;
                if amount < 0 {
                    return Err(RecordProblem::new(format!(
                        "sale.amount is negative ({amount})"
                    )));
                }
                // No currency: Dub's USD cents (see the module docs).
                let currency = Currency::parse(
                    optional_str(sale, "currency")
                        .map_err(|p| RecordProblem::new(format!("sale.{}", p.reason)))?
                        .unwrap_or(DEFAULT_SALE_CURRENCY),
                )
                .map_err(|e| RecordProblem::new(format!("sale.currency: {e}")))?;
                let order_id = external_id(SALES, payload)
                    .ok_or_else(|| RecordProblem::new("a sale needs sale.invoiceId or eventId"))?;
                let customer = sub_object(record, "customer")?;
                let invoice_id = optional_str(sale, "invoiceId")
                    .map_err(|p| RecordProblem::new(format!("sale.{}", p.reason)))?
                    .filter(|id| !id.is_empty());
                let match_aliases = if invoice_id.is_none() {
                    let dub_customer = customer
                        .map(|c| optional_str(c, "id"))
                        .transpose()
                        .map_err(|p| RecordProblem::new(format!("customer.{}", p.reason)))?
                        .flatten();
                    sale_match_aliases(dub_customer, click_id.as_deref(), amount, at)
                } else {
                    Vec::new()
                };
                let identity = IdentityKeys {
                    person_id: None,
                    anonymous_id: click_id.clone(),
                    email_sha256: customer.and_then(email_hash),
                    customer_id: customer.and_then(customer_id),
                    device_id: None,
                };
                rows.extend(touch.map(CanonicalRow::Touch));
                rows.push(CanonicalRow::Order(Order {
                    order_id: order_id.clone(),
                    source: context.source_id.clone(),
                    occurred_at_ms: at,
                    gross_minor: amount,
                    currency: currency.code().to_owned(),
                    status: "paid".to_owned(),
                    click_id: click_id.clone(),
                    identity,
                    raw_event_id: None,
                }));
                rows.extend(match_aliases.into_iter().map(|alias| {
                    CanonicalRow::OrderAlias(OrderAlias {
                        order_id: order_id.clone(),
                        alias,
                        source: context.source_id.clone(),
                        created_at_ms: at,
                    })
                }));
                rows.extend(identity_links(context, click_id.as_deref(), customer, at)?);
            }
            DubEventKind::Unknown(other) => {
                return Err(RecordProblem::new(format!(
                    "event {other:?} is not one of click, lead, sale"
                )));
            }
        }
        Ok(Normalized {
            rows,
            unknown_fields: count_unknown(record, EVENT_FIELDS),
        })
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        let start = format_instant_ms(context.now_ms - days_to_ms(1)).map_err(|e| {
            SyncError::Connector {
                connector: "dub",
                detail: e.to_string(),
            }
        })?;
        let mut url =
            reqwest::Url::parse(&format!("{}/events", context.base_url)).map_err(|e| {
                SyncError::Connector {
                    connector: "dub",
                    detail: format!("base URL: {e}"),
                }
            })?;
        url.query_pairs_mut()
            .append_pair("event", CLICKS)
            .append_pair("start", &start)
            .append_pair("limit", "1");
        Ok(HttpRequest::get(url.to_string()))
    }
}

fn page_size(context: &SourceContext) -> u32 {
    context.page_size.clamp(1, MAX_PAGE_SIZE)
}

fn to_text(cursor: &DubCursor) -> String {
    serde_json::to_string(cursor).expect("a cursor serializes")
}

fn from_text(text: &str) -> Result<DubCursor, SyncError> {
    serde_json::from_str(text).map_err(|e| SyncError::Connector {
        connector: "dub",
        detail: format!("bad position {text:?}: {e}"),
    })
}

/// The platform's own id of an event: the click id for clicks, `sale.invoiceId` for sales (Dub's
/// documented idempotency key), the event id otherwise.
fn external_id(stream: &str, payload: &Value) -> Option<String> {
    let text = |pointer: &str| {
        payload
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match stream {
        CLICKS => text("/click/id"),
        SALES => text("/sale/invoiceId").or_else(|| text("/eventId")),
        _ => text("/eventId").or_else(|| {
            // Older lead events have no eventId: the click and the customer identify them.
            Some(format!("{}|{}", text("/click/id")?, text("/customer/id")?))
        }),
    }
}

fn sub_object<'a>(
    record: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be an object, found {}",
            type_name(other)
        ))),
    }
}

fn event_time(record: &Map<String, Value>) -> Result<i64, RecordProblem> {
    parse_instant_ms(required_str(record, "timestamp")?)
        .map_err(|e| RecordProblem::new(format!("field timestamp: {e}")))
}

/// The creator of a link: the Dub Partners partner, else the workspace's tenant id for it.
fn link_creator(link: &Map<String, Value>) -> Option<String> {
    ["partnerId", "tenantId"].iter().find_map(|key| {
        link.get(*key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    })
}

/// The touch of the event's click, if it has one.
fn click_touch(
    context: &SourceContext,
    record: &Map<String, Value>,
    click: Option<&Map<String, Value>>,
    link: Option<&Map<String, Value>>,
) -> Result<Option<Touch>, RecordProblem> {
    let Some(click) = click else { return Ok(None) };
    let Some(id) =
        optional_str(click, "id").map_err(|p| RecordProblem::new(format!("click.{}", p.reason)))?
    else {
        return Ok(None);
    };
    let at_text = optional_str(click, "timestamp")?
        .map(Ok)
        .unwrap_or_else(|| required_str(record, "timestamp"))?;
    let occurred_at_ms = parse_instant_ms(at_text)
        .map_err(|e| RecordProblem::new(format!("click.timestamp: {e}")))?;
    Ok(Some(Touch {
        touch_id: id.to_owned(),
        source: context.source_id.clone(),
        occurred_at_ms,
        channel: CHANNEL.to_owned(),
        touch_type: "click".to_owned(),
        creator_id: link.and_then(link_creator),
        campaign_id: None,
        ad_id: None,
        content_id: link
            .and_then(|l| l.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        click_id: Some(id.to_owned()),
        identity: IdentityKeys {
            anonymous_id: Some(id.to_owned()),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }))
}

/// The tracked link as content.
fn link_content(link: &Map<String, Value>) -> Result<Content, RecordProblem> {
    let id =
        required_str(link, "id").map_err(|p| RecordProblem::new(format!("link.{}", p.reason)))?;
    let title = match (
        optional_str(link, "shortLink")?,
        optional_str(link, "domain")?,
        optional_str(link, "key")?,
    ) {
        (Some(short), _, _) => short.to_owned(),
        (None, Some(domain), Some(key)) => format!("{domain}/{key}"),
        _ => id.to_owned(),
    };
    let published_at_ms = optional_str(link, "createdAt")?.and_then(|t| parse_instant_ms(t).ok());
    Ok(Content {
        content_id: id.to_owned(),
        creator_id: link_creator(link),
        kind: "link".to_owned(),
        title,
        url: optional_str(link, "url")?.map(str::to_owned),
        published_at_ms,
    })
}

fn email_hash(customer: &Map<String, Value>) -> Option<String> {
    let deleted = lookback_core::identity::email_sha256(DELETED_CUSTOMER_EMAIL);
    customer
        .get("email_sha256")
        .and_then(Value::as_str)
        .filter(|h| *h != lookback_core::pii::WITHHELD && Some(*h) != deleted.as_deref())
        .map(str::to_owned)
}

/// The aliases under which both copies of one invoice-less sale (webhook and poll) name their
/// order: a hash of Dub's customer id, the click id, the amount and the sale's cell on each of
/// two grids of [`SALE_MATCH_CELL_MS`], the second offset by half a cell. Copies less than half
/// a cell apart share a cell on at least one grid (a cell boundary of one grid lies between
/// them only if none of the other does), so they share an alias. Hashed, so the alias table
/// holds no customer id. None when the sale has neither a customer nor a click: the amount and
/// the time alone would match strangers.
pub fn sale_match_aliases(
    dub_customer_id: Option<&str>,
    click_id: Option<&str>,
    amount_minor: i64,
    at_ms: i64,
) -> Vec<String> {
    if dub_customer_id.is_none() && click_id.is_none() {
        return Vec::new();
    }
    [0, SALE_MATCH_CELL_MS / 2]
        .iter()
        .enumerate()
        .map(|(grid, offset)| {
            let cell = (at_ms + offset).div_euclid(SALE_MATCH_CELL_MS);
            let key = format!(
                "{}\u{1f}{}\u{1f}{amount_minor}\u{1f}{grid}\u{1f}{cell}",
                dub_customer_id.unwrap_or(""),
                click_id.unwrap_or(""),
            );
            let digest = hex::encode(Sha256::digest(key.as_bytes()));
            format!("{SALE_MATCH_ALIAS_PREFIX}{}", &digest[..32])
        })
        .collect()
}

fn customer_id(customer: &Map<String, Value>) -> Option<String> {
    ["externalId", "id"].iter().find_map(|key| {
        customer
            .get(*key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    })
}

/// Links the click's browser to the customer's keys (a star around the click id, or around
/// the e-mail hash when there is no click).
fn identity_links(
    context: &SourceContext,
    click_id: Option<&str>,
    customer: Option<&Map<String, Value>>,
    at_ms: i64,
) -> Result<Vec<CanonicalRow>, RecordProblem> {
    let mut keys = Vec::new();
    if let Some(click) = click_id {
        keys.push(IdentityKey::new(IdentityKeyType::AnonymousId, click));
    }
    if let Some(customer) = customer {
        if let Some(hash) = email_hash(customer) {
            keys.push(IdentityKey::new(IdentityKeyType::EmailSha256, hash));
        }
        if let Some(id) = customer_id(customer) {
            keys.push(IdentityKey::new(IdentityKeyType::CustomerId, id));
        }
    }
    let Some((hub, rest)) = keys.split_first() else {
        return Ok(Vec::new());
    };
    Ok(rest
        .iter()
        .filter(|key| *key != hub)
        .map(|key| {
            CanonicalRow::IdentityLink(IdentityLink {
                a: hub.clone(),
                b: key.clone(),
                source: context.source_id.clone(),
                created_at_ms: at_ms,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> SourceContext {
        SourceContext {
            source_id: "dub".into(),
            source_name: "dub".into(),
            base_url: "https://api.dub.co".into(),
            account: None,
            restatement_days: 0,
            page_size: 100,
            now_ms: 1_772_323_200_000,
        }
    }

    #[test]
    fn the_first_request_always_sends_start_and_the_documented_paging() {
        let ctx = context();
        let first = DubConnector
            .start_position(&ctx, CLICKS, None)
            .unwrap()
            .unwrap();
        let url = DubConnector.page_request(&ctx, CLICKS, &first).unwrap().url;
        assert!(
            url.contains("event=clicks") && url.contains("start=2025-03-01T00%3A00%3A00.000Z"),
            "{url}"
        );
        assert!(
            url.contains("page=1")
                && url.contains("limit=100")
                && url.contains("sortOrder=asc")
                && url.contains("timezone=UTC")
        );
    }

    #[test]
    fn a_short_page_ends_the_scan_and_a_full_page_asks_for_the_next() {
        let ctx = SourceContext {
            page_size: 2,
            ..context()
        };
        let position = DubConnector
            .start_position(&ctx, CLICKS, None)
            .unwrap()
            .unwrap();
        let page = |body: &str| HttpResponse {
            status: 200,
            headers: Default::default(),
            body: body.as_bytes().to_vec(),
        };
        let full = DubConnector
            .parse_page(
                &ctx,
                CLICKS,
                &position,
                &page(r#"[{"click":{"id":"a"}},{"click":{"id":"b"}}]"#),
            )
            .unwrap();
        assert!(full.next.unwrap().contains("\"page\":2"));
        let short = DubConnector
            .parse_page(&ctx, CLICKS, &position, &page(r#"[{"click":{"id":"a"}}]"#))
            .unwrap();
        assert!(short.next.is_none() && short.checkpoint.contains("finished"));
        assert!(
            DubConnector
                .parse_page(&ctx, CLICKS, &position, &page(r#"{"data":[]}"#))
                .is_err()
        );
    }

    #[test]
    fn a_sale_is_an_order_keyed_by_invoice_with_its_click_and_customer() {
        let sale = json!({"event": "sale", "timestamp": "2026-02-01T10:00:00.000Z", "eventId": "evt_1", "eventName": "Purchase",
            "sale": {"amount": 4900, "currency": "usd", "invoiceId": "in_1", "paymentProcessor": "stripe"},
            "customer": {"id": "cus_d1", "externalId": "ext_1", "email_sha256": "abc"},
            "click": {"id": "clk_1", "timestamp": "2026-01-30T09:00:00.000Z"},
            "link": {"id": "link_1", "domain": "dub.sh", "key": "ann", "url": "https://shop.example/", "partnerId": "pn_ann"}});
        let rows = DubConnector
            .normalize(&context(), SALES, &sale)
            .unwrap()
            .rows;
        let order = rows
            .iter()
            .find_map(|r| match r {
                CanonicalRow::Order(o) => Some(o),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (
                order.order_id.as_str(),
                order.gross_minor,
                order.currency.as_str()
            ),
            ("in_1", 4900, "USD")
        );
        assert_eq!(order.click_id.as_deref(), Some("clk_1"));
        assert_eq!(order.identity.customer_id.as_deref(), Some("ext_1"));
        let touch = rows
            .iter()
            .find_map(|r| match r {
                CanonicalRow::Touch(t) => Some(t),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (touch.creator_id.as_deref(), touch.content_id.as_deref()),
            (Some("pn_ann"), Some("link_1"))
        );
        assert_eq!(
            rows.iter()
                .filter(|r| matches!(r, CanonicalRow::IdentityLink(_)))
                .count(),
            2
        );
    }
    fn order_of(rows: &[CanonicalRow]) -> &Order {
        rows.iter()
            .find_map(|r| match r {
                CanonicalRow::Order(o) => Some(o),
                _ => None,
            })
            .expect("an order")
    }

    fn aliases_of(rows: &[CanonicalRow]) -> Vec<String> {
        rows.iter()
            .filter_map(|r| match r {
                CanonicalRow::OrderAlias(a) => Some(a.alias.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_sale_without_a_currency_is_usd_cents_and_one_that_names_its_currency_keeps_it() {
        let sale = |sale: Value| {
            json!({"event": "sale", "timestamp": "2026-02-01T10:00:00.000Z", "eventId": "evt_1",
                   "sale": sale, "click": {"id": "clk_1"}, "customer": {"id": "cus_d1"}})
        };
        let booked = |payload: Value| {
            let rows = DubConnector
                .normalize(&context(), SALES, &payload)
                .unwrap()
                .rows;
            let order = order_of(&rows);
            (order.gross_minor, order.currency.clone())
        };
        assert_eq!(
            booked(sale(
                json!({"amount": 4900, "invoiceId": "in_1", "paymentProcessor": "stripe"})
            )),
            (4900, "USD".to_owned())
        );
        assert_eq!(
            booked(sale(
                json!({"amount": 4900, "invoiceId": "in_1", "paymentProcessor": "stripe", "currency": null})
            )),
            (4900, "USD".to_owned())
        );
        assert_eq!(
            booked(sale(
                json!({"amount": 1580, "invoiceId": "in_1", "paymentProcessor": "shopify", "currency": "jpy"})
            )),
            (1580, "JPY".to_owned())
        );
        let problem = DubConnector
            .normalize(
                &context(),
                SALES,
                &sale(json!({"amount": 10, "invoiceId": null, "currency": "dollars"})),
            )
            .unwrap_err();
        assert!(
            problem.reason.contains("sale.currency"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn a_sale_with_no_invoice_and_no_customer_is_keyed_by_its_event_and_matched_by_click() {
        for invoice in [json!(null), json!("")] {
            let payload = json!({"event": "sale", "timestamp": "2026-02-01T10:00:00.000Z", "eventId": "evt_7",
                                 "sale": {"amount": 1200, "invoiceId": invoice, "paymentProcessor": "custom"},
                                 "click": {"id": "clk_7", "timestamp": "2026-02-01T09:00:00.000Z"}, "customer": null});
            let rows = DubConnector
                .normalize(&context(), SALES, &payload)
                .unwrap()
                .rows;
            let order = order_of(&rows);
            assert_eq!(order.order_id, "evt_7");
            assert_eq!(order.click_id.as_deref(), Some("clk_7"));
            assert_eq!(
                (
                    order.identity.customer_id.as_deref(),
                    order.identity.email_sha256.as_deref()
                ),
                (None, None)
            );
            assert_eq!(
                aliases_of(&rows),
                sale_match_aliases(None, Some("clk_7"), 1200, 1_769_940_000_000)
            );
        }
        // With an invoice id, the invoice is the match: no time-based aliases.
        let invoiced = json!({"event": "sale", "timestamp": "2026-02-01T10:00:00.000Z", "eventId": "evt_8",
                              "sale": {"amount": 1200, "invoiceId": "in_8", "paymentProcessor": "stripe"},
                              "click": {"id": "clk_8"}, "customer": {"id": "cus_8"}});
        let rows = DubConnector
            .normalize(&context(), SALES, &invoiced)
            .unwrap()
            .rows;
        assert!(aliases_of(&rows).is_empty());
    }

    #[test]
    fn copies_of_a_sale_minutes_apart_share_an_alias_and_other_sales_do_not() {
        let base = 1_769_940_000_000 + 299_000; // just before a cell boundary of the first grid
        let shares = |a: &[String], b: &[String]| a.iter().any(|x| b.contains(x));
        let at = |ms| sale_match_aliases(Some("cus_1"), Some("clk_1"), 2800, ms);
        for delta_s in [0, 1, 2, 30, 119, 299] {
            assert!(
                shares(&at(base), &at(base + delta_s * 1000)),
                "{delta_s} s apart"
            );
            assert!(
                shares(&at(base), &at(base - delta_s * 1000)),
                "{delta_s} s before"
            );
        }
        assert!(!shares(&at(base), &at(base + 11 * 60_000)), "11 min apart");
        assert!(!shares(
            &at(base),
            &sale_match_aliases(Some("cus_1"), Some("clk_1"), 2801, base)
        ));
        assert!(!shares(
            &at(base),
            &sale_match_aliases(Some("cus_2"), Some("clk_1"), 2800, base)
        ));
        assert!(!shares(
            &at(base),
            &sale_match_aliases(Some("cus_1"), Some("clk_2"), 2800, base)
        ));
        assert!(sale_match_aliases(None, None, 2800, base).is_empty());
        assert!(
            at(base).iter().all(|a| !a.contains("cus_1")),
            "aliases hold no customer id"
        );
    }

    #[test]
    fn the_deleted_customer_placeholder_email_is_no_identity_key() {
        let mut lead = json!({"event": "lead", "timestamp": "2026-02-01T10:00:00.000Z", "eventId": "evt_l",
                              "click": {"id": "clk_9"},
                              "customer": {"id": "cus_gone", "name": "Deleted Customer", "email": "deleted@customer.com",
                                           "externalId": "cus_gone", "createdAt": "1970-01-01T00:00:00.000Z"}});
        lookback_core::pii::minimize(&mut lead, false);
        let rows = DubConnector
            .normalize(&context(), LEADS, &lead)
            .unwrap()
            .rows;
        let keys: Vec<_> = rows
            .iter()
            .filter_map(|r| match r {
                CanonicalRow::IdentityLink(l) => Some(l.b.key_type),
                _ => None,
            })
            .collect();
        assert_eq!(keys, vec![IdentityKeyType::CustomerId]);
    }
}
