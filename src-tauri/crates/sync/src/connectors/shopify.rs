//! Shopify Admin REST API: orders become orders, the refund transactions embedded in each
//! order become refund adjustments.
//!
//! One stream, `orders`: `GET /admin/api/{version}/orders.json?status=any&updated_at_min=…
//! &limit=250`, authenticated with `X-Shopify-Access-Token`. No sort order is asked for:
//! `@shopify/shopify-api`'s `Order.all` declares no `order` parameter (its Customer, GiftCard
//! and TenderTransaction lists do), so nothing here relies on the order pages come in. Refunds are read
//! from the `refunds` array embedded in every order, so a refund costs no extra request: a late
//! refund bumps the order's `updated_at`, the order is read again, it is stored as a new raw
//! version, and its new refund transaction is inserted once (the old ones are duplicates).
//!
//! Paging follows the `Link` header (`<…page_info=abc>; rel="next"`). Shopify refuses (400) a
//! `page_info` request that carries any filter besides `limit` and `fields`, so the connector
//! keeps only the `page_info` token from the link and rebuilds the URL as `limit` + `page_info`.
//!
//! Checkpoint (JSON): while a run is under way it is `{"phase":"scanning",
//! "updated_at_min":…,"page_info":…,"max_updated_ms":…}`. A `page_info` token may expire, so
//! a killed run does not resume from it: it starts the interrupted scan's query again, from
//! the same `updated_at_min`. The pages already committed come back as duplicates (an
//! unchanged payload costs the engine a hash comparison), and since the bound is the scan's
//! own, no order is skipped whatever order Shopify pages in. A finished run leaves `{"phase":"finished","watermark_ms":…}`, the newest
//! `updated_at` it saw (the shop's clock, not ours), and the next run reads from five minutes
//! before it (plus the restatement window, 0 by default) to cover orders committed late.
//!
//! `--account` is the shop: `my-shop`, `my-shop.myshopify.com` or a full base URL. An explicit
//! `--base-url` wins (tests, a proxy).
//!
//! Money, as Shopify books it:
//! - An order's `total_price` is in the **shop currency** (`currency`); the customer may have
//!   paid in another (`presentment_currency`, and `*_set.presentment_money`).
//! - A refund transaction's `amount` is in the **presentment** currency (its `currency`; the
//!   REST transaction has no `amount_set`, and `in_shop_currency=true` exists only on the
//!   refunds and transactions endpoints, not on `orders.json`). A refund is booked in the shop
//!   currency, like the order it reduces: a presentment amount is converted at the order's own
//!   rate, `total_price_set.shop_money / total_price_set.presentment_money`, rounded half to
//!   even once. Booked in the presentment currency it would never reduce the shop's net revenue.
//! - A `voided` or `expired` order took no money (its authorization was released or lapsed):
//!   it is stored with its status and a gross of 0.
//! - Protected-customer-data rules can leave `email` and `customer` null: the order is stored
//!   without those identity keys.
//! - Without the `read_all_orders` scope Shopify only shows the last 60 days of orders.
//!
//! Version: every path names the pinned version ([`crate::api_versions::SHOPIFY`]). Shopify
//! answers a version it no longer supports from the oldest one it does ("falling forward") and
//! says so in `X-Shopify-API-Version`. Such a page is still read, but each of its orders carries
//! the version that served it under `_lookback.api_version_served`, and counts one field of
//! schema drift, which the Sources screen shows: the pin needs moving before fields change.
//!
//! Credentials: a Dev Dashboard app's client id and secret (`{"client_id","client_secret"}`
//! in the keyring; shops created since 2026 can only make these), exchanged by the
//! client-credentials grant at `POST {shop}/admin/oauth/access_token` for an access token that
//! lives 24 hours, is kept in memory only, renewed five minutes before it expires and once
//! more on a 401 ([`ResponseVerdict::TokenExpired`]); or a legacy custom app's static
//! `shpat_…` token, sent as it is. Both go out as `X-Shopify-Access-Token`.

use std::time::Duration;

use lookback_core::money::{Currency, parse_major_decimal};
use lookback_core::time::{format_instant_ms, parse_instant_ms};
use lookback_store::{AdjustmentKind, IdentityKeys, Order, OrderAdjustment};
use serde_json::{Map, Value};

use crate::SyncError;
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpRequest, HttpResponse, Normalized, Page, RateLimit,
    RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, optional_str, required_str, type_name};
use crate::secret::Secret;

pub const ORDERS: &str = "orders";
/// Shopify's largest `limit`.
pub const MAX_PAGE_SIZE: u32 = 250;
/// The Admin API version the normalizer was written against (Shopify keeps each for a year).
pub const API_VERSION: &str = crate::api_versions::SHOPIFY_VERSION;
/// The key under which a page's orders record the version that served them, when Shopify fell
/// forward from [`API_VERSION`].
pub const CONTEXT_KEY: &str = "_lookback";
/// The field of [`CONTEXT_KEY`] naming the version that served a fallen-forward order.
pub const SERVED_VERSION: &str = "api_version_served";
/// The default base URL; `{shop}` is replaced by `--account`.
const SHOP_URL_TEMPLATE: &str = "https://{shop}.myshopify.com";
/// How far before the last watermark an incremental run starts re-reading: orders committed
/// with an `updated_at` slightly older than one already seen must not fall between two runs.
const OVERLAP_MS: i64 = 5 * 60 * 1000;
/// Slow down once the leaky bucket is this full (Shopify answers 429 when it is full).
const CALL_LIMIT_SLOW_DOWN: f64 = 0.8;

/// Keys of `note_attributes` under which stores put a click id, in order of preference.
const CLICK_ID_ATTRIBUTES: &[&str] = &["lb_click", "lookback_click_id", "click_id", "clickid"];
/// Query parameters of `landing_site` that carry a click id, in order of preference.
const CLICK_ID_PARAMETERS: &[&str] = &["lb_click", "lookback_click_id", "click_id"];

/// Every top-level field of a REST order (after e-mail hashing). Anything else is schema drift.
const ORDER_FIELDS: &[&str] = &[
    "id",
    "admin_graphql_api_id",
    "app_id",
    "browser_ip",
    "buyer_accepts_marketing",
    "cancel_reason",
    "cancelled_at",
    "cart_token",
    "checkout_id",
    "checkout_token",
    "client_details",
    "closed_at",
    "company",
    "confirmation_number",
    "confirmed",
    "contact_email_sha256",
    "created_at",
    "currency",
    "current_subtotal_price",
    "current_subtotal_price_set",
    "current_total_additional_fees_set",
    "current_total_discounts",
    "current_total_discounts_set",
    "current_total_duties_set",
    "current_total_price",
    "current_total_price_set",
    "current_total_tax",
    "current_total_tax_set",
    "customer_locale",
    "device_id",
    "discount_codes",
    "duties_included",
    "email_sha256",
    "estimated_taxes",
    "financial_status",
    "fulfillment_status",
    "landing_site",
    "landing_site_ref",
    "location_id",
    "merchant_business_entity_id",
    "merchant_of_record_app_id",
    "name",
    "note",
    "note_attributes",
    "number",
    "order_number",
    "order_status_url",
    "original_total_additional_fees_set",
    "original_total_duties_set",
    "payment_gateway_names",
    "phone",
    "po_number",
    "presentment_currency",
    "processed_at",
    "reference",
    "referring_site",
    "source_identifier",
    "source_name",
    "source_url",
    "subtotal_price",
    "subtotal_price_set",
    "tags",
    "tax_exempt",
    "tax_lines",
    "taxes_included",
    "test",
    "token",
    "total_cash_rounding_payment_adjustment_set",
    "total_cash_rounding_refund_adjustment_set",
    "total_discounts",
    "total_discounts_set",
    "total_line_items_price",
    "total_line_items_price_set",
    "total_outstanding",
    "total_price",
    "total_price_set",
    "total_shipping_price_set",
    "total_tax",
    "total_tax_set",
    "total_tip_received",
    "total_weight",
    "updated_at",
    "user_id",
    CONTEXT_KEY,
    "billing_address",
    "customer",
    "discount_applications",
    "fulfillments",
    "line_items",
    "payment_terms",
    "refunds",
    "shipping_address",
    "shipping_lines",
];

/// An order's `financial_status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinancialStatus {
    Pending,
    Authorized,
    PartiallyPaid,
    Paid,
    PartiallyRefunded,
    Refunded,
    Voided,
    Expired,
    Unknown(String),
}

impl FinancialStatus {
    pub fn parse(text: &str) -> FinancialStatus {
        match text {
            "pending" => FinancialStatus::Pending,
            "authorized" => FinancialStatus::Authorized,
            "partially_paid" => FinancialStatus::PartiallyPaid,
            "paid" => FinancialStatus::Paid,
            "partially_refunded" => FinancialStatus::PartiallyRefunded,
            "refunded" => FinancialStatus::Refunded,
            "voided" => FinancialStatus::Voided,
            "expired" => FinancialStatus::Expired,
            other => FinancialStatus::Unknown(other.to_owned()),
        }
    }

    /// Whether the order took money: a voided authorization was released and an expired one
    /// lapsed, so neither counts as revenue.
    pub fn took_money(&self) -> bool {
        !matches!(self, FinancialStatus::Voided | FinancialStatus::Expired)
    }

    /// The order status Lookback stores. Refunds are adjustments booked against the gross, so
    /// a (partially) refunded order is still `paid`: its refunds reduce its net revenue.
    pub fn order_status(&self) -> String {
        match self {
            FinancialStatus::Paid
            | FinancialStatus::PartiallyRefunded
            | FinancialStatus::Refunded => "paid".to_owned(),
            FinancialStatus::Pending | FinancialStatus::Authorized => "pending".to_owned(),
            FinancialStatus::PartiallyPaid => "partially_paid".to_owned(),
            FinancialStatus::Voided => "voided".to_owned(),
            FinancialStatus::Expired => "expired".to_owned(),
            FinancialStatus::Unknown(other) => other.clone(),
        }
    }
}

/// A transaction's `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionStatus {
    Success,
    Pending,
    Failure,
    Error,
    Unknown(String),
}

impl TransactionStatus {
    pub fn parse(text: &str) -> TransactionStatus {
        match text {
            "success" => TransactionStatus::Success,
            "pending" => TransactionStatus::Pending,
            "failure" => TransactionStatus::Failure,
            "error" => TransactionStatus::Error,
            other => TransactionStatus::Unknown(other.to_owned()),
        }
    }

    /// The adjustment status the store understands: only `failed` is not counted.
    pub fn adjustment_status(&self) -> String {
        match self {
            TransactionStatus::Success => "succeeded".to_owned(),
            TransactionStatus::Pending => "pending".to_owned(),
            TransactionStatus::Failure | TransactionStatus::Error => "failed".to_owned(),
            TransactionStatus::Unknown(other) => other.clone(),
        }
    }
}

/// Where a stream's scan is, and what a finished run leaves behind. Times are UTC ms.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum ShopifyCursor {
    Scanning {
        /// The lower `updated_at` bound of this run's query (`None`: the whole history).
        updated_at_min: Option<i64>,
        /// The next page's token, from the previous response's `Link` header.
        page_info: Option<String>,
        /// The newest `updated_at` committed so far (this run or before).
        max_updated_ms: Option<i64>,
    },
    Finished {
        watermark_ms: Option<i64>,
    },
}

/// The Shopify orders connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShopifyConnector;

impl ShopifyConnector {
    /// The shop's API root: an explicit `--base-url`, else `--account` as a URL, a
    /// `*.myshopify.com` host or a bare shop name.
    fn shop_base(context: &SourceContext) -> Result<String, SyncError> {
        if !context.base_url.contains("{shop}") {
            return Ok(context.base_url.clone());
        }
        let account = context
            .account
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| SyncError::Connector {
                connector: "shopify",
                detail: "a shopify source needs --account (the shop name)".to_owned(),
            })?;
        if account.starts_with("http://") || account.starts_with("https://") {
            return Ok(account.trim_end_matches('/').to_owned());
        }
        let shop = account
            .trim_end_matches('/')
            .trim_end_matches(".myshopify.com");
        if shop.is_empty() || !shop.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(SyncError::Connector {
                connector: "shopify",
                detail: format!("--account {account:?} is not a shop name"),
            });
        }
        Ok(SHOP_URL_TEMPLATE.replace("{shop}", shop))
    }

    fn orders_url(context: &SourceContext) -> Result<reqwest::Url, SyncError> {
        reqwest::Url::parse(&format!(
            "{}/admin/api/{API_VERSION}/orders.json",
            Self::shop_base(context)?
        ))
        .map_err(|e| SyncError::Connector {
            connector: "shopify",
            detail: format!("base URL: {e}"),
        })
    }
}

impl Connector for ShopifyConnector {
    fn kind(&self) -> &'static str {
        "shopify"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[ORDERS]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some(SHOP_URL_TEMPLATE)
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Header("X-Shopify-Access-Token")
    }

    fn default_rate_limit(&self) -> RateLimit {
        // The REST leaky bucket holds 40 calls and drains 2/s on standard plans.
        RateLimit {
            requests_per_second: 2.0,
            burst: 40,
        }
    }

    fn default_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    fn requires_account(&self) -> bool {
        true
    }

    /// 2: refunds booked in the shop currency, voided and expired orders with a gross of 0.
    fn normalizer_version(&self) -> i64 {
        2
    }

    fn start_position(
        &self,
        context: &SourceContext,
        _: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        let cursor = match checkpoint {
            None => ShopifyCursor::Scanning {
                updated_at_min: None,
                page_info: None,
                max_updated_ms: None,
            },
            Some(text) => match serde_json::from_str::<ShopifyCursor>(text) {
                // A killed run: the interrupted scan again from its own lower bound (page_info
                // tokens expire, and the pages are in no order the connector may rely on).
                Ok(ShopifyCursor::Scanning {
                    updated_at_min,
                    max_updated_ms,
                    ..
                }) => ShopifyCursor::Scanning {
                    updated_at_min,
                    page_info: None,
                    max_updated_ms,
                },
                Ok(ShopifyCursor::Finished { watermark_ms }) => ShopifyCursor::Scanning {
                    updated_at_min: watermark_ms.map(|w| {
                        w - OVERLAP_MS - lookback_core::time::days_to_ms(context.restatement_days)
                    }),
                    page_info: None,
                    max_updated_ms: watermark_ms,
                },
                Err(e) => {
                    return Err(SyncError::Connector {
                        connector: "shopify",
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
        _: &str,
        position: &str,
    ) -> Result<HttpRequest, SyncError> {
        let ShopifyCursor::Scanning {
            updated_at_min,
            page_info,
            ..
        } = from_text(position)?
        else {
            return Err(SyncError::Connector {
                connector: "shopify",
                detail: "a finished cursor is not a position".to_owned(),
            });
        };
        let mut url = Self::orders_url(context)?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair(
                "limit",
                &context.page_size.clamp(1, MAX_PAGE_SIZE).to_string(),
            );
            match &page_info {
                // With page_info Shopify allows only limit and fields; the filters live in the token.
                Some(token) => {
                    query.append_pair("page_info", token);
                }
                None => {
                    query.append_pair("status", "any");
                    if let Some(min) = updated_at_min {
                        let text = format_instant_ms(min).map_err(|e| SyncError::Connector {
                            connector: "shopify",
                            detail: e.to_string(),
                        })?;
                        query.append_pair("updated_at_min", &text);
                    }
                }
            }
        }
        Ok(HttpRequest::get(url.to_string()))
    }

    fn check_response(
        &self,
        _: &SourceContext,
        _: &str,
        response: &HttpResponse,
    ) -> ResponseVerdict {
        // Shopify's error body is {"errors": "..."} or {"errors": {"field": ["..."]}}.
        let message = || {
            response
                .json()
                .ok()
                .and_then(|body| {
                    body.get("errors").map(|e| {
                        e.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| e.to_string())
                    })
                })
                .unwrap_or_else(|| response.body_excerpt())
        };
        match response.status {
            // A client-credentials token that expired early or was revoked gets one renewal;
            // for a static token the engine makes this Unauthorized.
            401 => ResponseVerdict::TokenExpired {
                detail: format!("HTTP 401: {}", message()),
            },
            403 => ResponseVerdict::Unauthorized {
                detail: format!("HTTP {}: {}", response.status, message()),
            },
            // Retry-After is sometimes missing; the engine then backs off on its own.
            429 => ResponseVerdict::Throttled {
                wait: response.retry_after(),
                detail: format!("HTTP 429: {}", message()),
            },
            402 => ResponseVerdict::Fatal {
                detail: format!("HTTP 402: the shop is frozen or unpaid: {}", message()),
            },
            404 => ResponseVerdict::Fatal {
                detail: format!(
                    "HTTP 404: no such shop or API version {API_VERSION}: {}",
                    message()
                ),
            },
            400..=499 => ResponseVerdict::Fatal {
                detail: format!("HTTP {}: {}", response.status, message()),
            },
            _ => default_verdict(response),
        }
    }

    fn parse_page(
        &self,
        _: &SourceContext,
        _: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        #[derive(serde::Deserialize)]
        struct Orders {
            orders: Vec<Value>,
        }
        let ShopifyCursor::Scanning {
            updated_at_min,
            page_info,
            max_updated_ms,
        } = from_text(position).map_err(|e| e.to_string())?
        else {
            return Err("a finished cursor is not a position".to_owned());
        };
        let list: Orders = serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
        // Shopify fell forward from the pinned version: keep the page, mark its orders.
        let served = response
            .header("x-shopify-api-version")
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != API_VERSION)
            .map(str::to_owned);
        let mut max_updated = max_updated_ms;
        for order in &list.orders {
            if let Some(at) = order
                .get("updated_at")
                .and_then(Value::as_str)
                .and_then(|t| parse_instant_ms(t).ok())
            {
                max_updated = Some(max_updated.map_or(at, |m| m.max(at)));
            }
        }
        let records = list
            .orders
            .into_iter()
            .enumerate()
            .map(|(index, payload)| {
                let external_id = match payload.get("id") {
                    Some(Value::Number(id)) => id.to_string(),
                    Some(Value::String(id)) if !id.is_empty() => id.clone(),
                    _ => format!(
                        "(no id: item {index} of page {})",
                        page_info.as_deref().unwrap_or("1")
                    ),
                };
                let payload = match (&served, payload) {
                    (Some(version), Value::Object(mut order)) => {
                        order.insert(
                            CONTEXT_KEY.to_owned(),
                            serde_json::json!({ SERVED_VERSION: version }),
                        );
                        Value::Object(order)
                    }
                    (_, payload) => payload,
                };
                RawRecord {
                    external_id,
                    payload,
                }
            })
            .collect();
        let next_token = response.header("link").and_then(next_page_info);
        if next_token.is_some() && next_token == page_info {
            return Err("the Link header's next page_info did not advance".to_owned());
        }
        let (checkpoint, next) = match next_token {
            Some(token) => {
                let scanning = ShopifyCursor::Scanning {
                    updated_at_min,
                    page_info: Some(token),
                    max_updated_ms: max_updated,
                };
                (to_text(&scanning), Some(to_text(&scanning)))
            }
            None => (
                to_text(&ShopifyCursor::Finished {
                    watermark_ms: max_updated,
                }),
                None,
            ),
        };
        Ok(Page {
            records,
            checkpoint,
            next,
            pause_before_next: call_limit_pause(response),
        })
    }

    fn normalize(
        &self,
        context: &SourceContext,
        _: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        let order_id = id_text(record, "id")?
            .ok_or_else(|| RecordProblem::new("required field id is missing"))?;
        let occurred_at_ms = match optional_str(record, "processed_at")? {
            Some(processed) => instant(processed, "processed_at")?,
            None => instant(required_str(record, "created_at")?, "created_at")?,
        };
        let currency = Currency::parse(required_str(record, "currency")?)
            .map_err(|e| RecordProblem::new(format!("field currency: {e}")))?;
        let total_minor = parse_major_decimal(required_str(record, "total_price")?, currency)
            .map_err(|e| RecordProblem::new(format!("field total_price: {e}")))?;
        let financial_status =
            FinancialStatus::parse(optional_str(record, "financial_status")?.unwrap_or("pending"));
        let status = if optional_str(record, "cancelled_at")?.is_some() {
            "cancelled".to_owned()
        } else {
            financial_status.order_status()
        };
        let gross_minor = if financial_status.took_money() {
            total_minor
        } else {
            0
        };
        let customer = match record.get("customer") {
            None | Some(Value::Null) => None,
            Some(Value::Object(customer)) => Some(customer),
            Some(other) => {
                return Err(RecordProblem::new(format!(
                    "field customer should be an object, found {}",
                    type_name(other)
                )));
            }
        };
        let email_sha256 = ["email_sha256", "contact_email_sha256"]
            .iter()
            .find_map(|key| record.get(*key).and_then(Value::as_str))
            .or_else(|| {
                customer
                    .and_then(|c| c.get("email_sha256"))
                    .and_then(Value::as_str)
            })
            .filter(|h| *h != lookback_core::pii::WITHHELD)
            .map(str::to_owned);
        let customer_id = match customer {
            Some(customer) => id_text(customer, "id")
                .map_err(|p| RecordProblem::new(format!("customer.{}", p.reason)))?,
            None => None,
        };
        let mut rows = vec![CanonicalRow::Order(Order {
            order_id: order_id.clone(),
            source: context.source_id.clone(),
            occurred_at_ms,
            gross_minor,
            currency: currency.code().to_owned(),
            status,
            click_id: click_id(record)?,
            identity: IdentityKeys {
                person_id: None,
                anonymous_id: None,
                email_sha256,
                customer_id,
                device_id: None,
            },
            raw_event_id: None,
        })];
        rows.extend(refund_adjustments(context, record, &order_id, currency)?);
        // An order served by another version than the pinned one is schema drift in waiting.
        let fallen_forward = record
            .get(CONTEXT_KEY)
            .and_then(|c| c.get(SERVED_VERSION))
            .is_some();
        Ok(Normalized {
            rows,
            unknown_fields: count_unknown(record, ORDER_FIELDS) + u32::from(fallen_forward),
        })
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        let mut url = Self::orders_url(context)?;
        url.query_pairs_mut()
            .append_pair("limit", "1")
            .append_pair("status", "any");
        Ok(HttpRequest::get(url.to_string()))
    }

    /// A legacy static token (one line, `shpat_…`) as it is, or a Dev Dashboard app's
    /// `client_id` and `client_secret` (a JSON object or `name=value` lines) as the JSON object
    /// the keyring keeps.
    fn prepare_secret(&self, secret: Secret) -> Result<Secret, String> {
        match crate::auth::secret_fields("shopify", &secret, CLIENT_FIELDS)? {
            None if secret.expose().lines().count() == 1 => Ok(secret),
            None => Err(
                "the shopify secret is several lines; give an access token alone, or client_id=… and client_secret=… lines"
                    .to_owned(),
            ),
            Some(fields) if fields.len() == CLIENT_FIELDS.len() => {
                Ok(crate::auth::secret_from_fields(&fields))
            }
            Some(_) => Err("the shopify secret needs both client_id and client_secret".to_owned()),
        }
    }

    /// With a Dev Dashboard app's client in the keyring, tokens come from the
    /// client-credentials grant at the shop's `/admin/oauth/access_token` (or the source's
    /// `oauth_token_url`); a static token is sent as it is.
    fn token_grant(
        &self,
        context: &SourceContext,
        secret: &Secret,
        settings: &crate::auth::SourceSettings,
    ) -> Result<Option<crate::auth::TokenGrant>, String> {
        let (Some(client_id), Some(client_secret)) = (
            secret.field(crate::auth::CLIENT_ID),
            secret.field(crate::auth::CLIENT_SECRET),
        ) else {
            return Ok(None);
        };
        let default_url = format!(
            "{}/admin/oauth/access_token",
            Self::shop_base(context).map_err(|e| e.to_string())?
        );
        Ok(Some(crate::auth::TokenGrant {
            token_url: crate::auth::endpoint(
                settings,
                crate::auth::TOKEN_URL_SETTING,
                &default_url,
            ),
            client_id,
            client_secret: Secret::new(client_secret),
            kind: crate::auth::GrantKind::ClientCredentials,
        }))
    }
}

/// The keyring fields of a Dev Dashboard app's credential.
const CLIENT_FIELDS: &[&str] = &[crate::auth::CLIENT_ID, crate::auth::CLIENT_SECRET];

fn to_text(cursor: &ShopifyCursor) -> String {
    serde_json::to_string(cursor).expect("a cursor serializes")
}

fn from_text(text: &str) -> Result<ShopifyCursor, SyncError> {
    serde_json::from_str(text).map_err(|e| SyncError::Connector {
        connector: "shopify",
        detail: format!("bad position {text:?}: {e}"),
    })
}

/// The `page_info` of the `rel="next"` link of a `Link` header, if any.
pub fn next_page_info(link_header: &str) -> Option<String> {
    link_header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        if !params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
        {
            return None;
        }
        let url = reqwest::Url::parse(target.trim().trim_start_matches('<').trim_end_matches('>'))
            .ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "page_info")
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    })
}

/// How long to pause when `X-Shopify-Shop-Api-Call-Limit: used/size` says the leaky bucket is
/// nearly full: long enough for it to drain below the slow-down mark. The bucket drains at
/// size/20 per second (40 → 2/s, 80 → 4/s), whatever the plan.
fn call_limit_pause(response: &HttpResponse) -> Option<Duration> {
    let (used, size) = response
        .header("x-shopify-shop-api-call-limit")?
        .split_once('/')?;
    let used: f64 = used.trim().parse().ok()?;
    let size: f64 = size.trim().parse().ok()?;
    if size <= 0.0 || used < size * CALL_LIMIT_SLOW_DOWN {
        return None;
    }
    let drain_per_second = size / 20.0;
    let excess = used - size * CALL_LIMIT_SLOW_DOWN + 1.0;
    Some(Duration::from_secs_f64(excess / drain_per_second))
}

fn instant(text: &str, field: &str) -> Result<i64, RecordProblem> {
    parse_instant_ms(text).map_err(|e| RecordProblem::new(format!("field {field}: {e}")))
}

/// A Shopify id (an integer, or its string form) as text.
fn id_text(record: &Map<String, Value>, field: &str) -> Result<Option<String>, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be an integer id, found {}",
            type_name(other)
        ))),
    }
}

/// The click id a store attached to the order: a note attribute first (set on purpose by the
/// storefront), then a parameter of the landing page URL.
fn click_id(record: &Map<String, Value>) -> Result<Option<String>, RecordProblem> {
    if let Some(attributes) = record.get("note_attributes").and_then(Value::as_array) {
        for key in CLICK_ID_ATTRIBUTES {
            let found = attributes.iter().find_map(|a| {
                (a.get("name").and_then(Value::as_str) == Some(key))
                    .then(|| a.get("value").and_then(Value::as_str))
                    .flatten()
            });
            if let Some(value) = found.map(str::trim).filter(|v| !v.is_empty()) {
                return Ok(Some(value.to_owned()));
            }
        }
    }
    let Some(landing) = optional_str(record, "landing_site")? else {
        return Ok(None);
    };
    // landing_site is usually a path ("/products/x?lb_click=…"); a base makes it parseable.
    let Ok(url) = reqwest::Url::parse("https://shop.invalid/").and_then(|base| base.join(landing))
    else {
        return Ok(None);
    };
    Ok(CLICK_ID_PARAMETERS.iter().find_map(|key| {
        url.query_pairs()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.into_owned())
    }))
}

/// One refund adjustment per refund transaction (`kind` "refund") embedded in the order. The
/// transaction id is the adjustment id, so a transaction that goes from pending to success
/// updates its status, and a refund read again with its order is not counted twice.
fn refund_adjustments(
    context: &SourceContext,
    record: &Map<String, Value>,
    order_id: &str,
    shop_currency: Currency,
) -> Result<Vec<CanonicalRow>, RecordProblem> {
    let presentment_currency = match optional_str(record, "presentment_currency")? {
        Some(code) => Currency::parse(code)
            .map_err(|e| RecordProblem::new(format!("field presentment_currency: {e}")))?,
        None => shop_currency,
    };
    let refunds = match record.get("refunds") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(refunds)) => refunds,
        Some(other) => {
            return Err(RecordProblem::new(format!(
                "field refunds should be an array, found {}",
                type_name(other)
            )));
        }
    };
    let mut rows = Vec::new();
    for (r, refund) in refunds.iter().enumerate() {
        let refund = refund
            .as_object()
            .ok_or_else(|| RecordProblem::new(format!("refunds[{r}] is not an object")))?;
        let refund_at = optional_str(refund, "created_at")?;
        let Some(Value::Array(transactions)) = refund.get("transactions") else {
            continue;
        };
        for (t, transaction) in transactions.iter().enumerate() {
            let where_ = format!("refunds[{r}].transactions[{t}]");
            let transaction = transaction
                .as_object()
                .ok_or_else(|| RecordProblem::new(format!("{where_} is not an object")))?;
            if optional_str(transaction, "kind")? != Some("refund") {
                continue;
            }
            let in_transaction =
                |p: RecordProblem| RecordProblem::new(format!("{where_}: {}", p.reason));
            let id = id_text(transaction, "id")
                .map_err(in_transaction)?
                .ok_or_else(|| {
                    RecordProblem::new(format!("{where_}: required field id is missing"))
                })?;
            // A transaction without a currency is in the presentment currency, as its amount is.
            let currency = match optional_str(transaction, "currency").map_err(in_transaction)? {
                Some(code) => Currency::parse(code)
                    .map_err(|e| RecordProblem::new(format!("{where_}.currency: {e}")))?,
                None => presentment_currency,
            };
            let amount = parse_major_decimal(
                required_str(transaction, "amount").map_err(in_transaction)?,
                currency,
            )
            .map_err(|e| RecordProblem::new(format!("{where_}.amount: {e}")))?;
            let amount = if currency == shop_currency {
                amount
            } else {
                in_shop_currency(record, amount, currency, shop_currency, &where_)?
            };
            let at = optional_str(transaction, "processed_at")?
                .or(optional_str(transaction, "created_at")?)
                .or(refund_at)
                .ok_or_else(|| {
                    RecordProblem::new(format!("{where_}: no processed_at or created_at"))
                })?;
            let status =
                TransactionStatus::parse(optional_str(transaction, "status")?.unwrap_or("success"))
                    .adjustment_status();
            rows.push(CanonicalRow::Adjustment(OrderAdjustment {
                adjustment_id: id,
                order_id: order_id.to_owned(),
                source: context.source_id.clone(),
                kind: AdjustmentKind::Refund,
                occurred_at_ms: instant(at, &format!("{where_}.processed_at"))?,
                amount_minor: amount,
                currency: shop_currency.code().to_owned(),
                status,
                raw_event_id: None,
            }));
        }
    }
    Ok(rows)
}

/// `amount` (minor units of `currency`, the order's presentment currency) in minor units of the
/// shop currency, at the order's own rate: `total_price_set.shop_money.amount /
/// total_price_set.presentment_money.amount`, rounded half to even once.
fn in_shop_currency(
    record: &Map<String, Value>,
    amount: i64,
    currency: Currency,
    shop_currency: Currency,
    where_: &str,
) -> Result<i64, RecordProblem> {
    let money = |side: &str, expected: Currency| -> Result<i64, RecordProblem> {
        let field = format!("total_price_set.{side}");
        let money = record
            .get("total_price_set")
            .and_then(|set| set.get(side))
            .and_then(Value::as_object)
            .ok_or_else(|| {
                RecordProblem::new(format!(
                    "{where_}.amount is in {} but the order's shop currency is {}, and field {field} (the order's rate) is missing",
                    currency.code(),
                    shop_currency.code()
                ))
            })?;
        let code = money
            .get("currency_code")
            .and_then(Value::as_str)
            .unwrap_or(expected.code());
        if code != expected.code() {
            return Err(RecordProblem::new(format!(
                "{where_}.amount is in {} but field {field}.currency_code is {code}",
                expected.code()
            )));
        }
        let text = money
            .get("amount")
            .and_then(Value::as_str)
            .ok_or_else(|| RecordProblem::new(format!("field {field}.amount is missing")))?;
        parse_major_decimal(text, expected)
            .map_err(|e| RecordProblem::new(format!("field {field}.amount: {e}")))
    };
    let shop_total = money("shop_money", shop_currency)?;
    let presentment_total = money("presentment_money", currency)?;
    if presentment_total == 0 {
        return Err(RecordProblem::new(format!(
            "{where_}.amount is in {} and field total_price_set.presentment_money.amount is 0, so the order gives no rate to the shop currency {}",
            currency.code(),
            shop_currency.code()
        )));
    }
    let converted = div_round_half_even(
        i128::from(amount) * i128::from(shop_total),
        i128::from(presentment_total),
    );
    i64::try_from(converted)
        .map_err(|_| RecordProblem::new(format!("{where_}.amount is out of range")))
}

/// `numerator / denominator` (denominator > 0, numerator ≥ 0) rounded half to even.
fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal if quotient % 2 == 1 => quotient + 1,
        _ => quotient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> SourceContext {
        SourceContext {
            source_id: "shop".into(),
            source_name: "shop".into(),
            base_url: SHOP_URL_TEMPLATE.into(),
            account: Some("lookback-demo".into()),
            restatement_days: 0,
            page_size: 250,
            now_ms: 1_772_323_200_000,
        }
    }

    #[test]
    fn a_dev_dashboard_client_is_a_client_credentials_grant_at_the_shop_and_a_static_token_is_not()
    {
        let settings = crate::auth::SourceSettings::new();
        let client = ShopifyConnector
            .prepare_secret(Secret::new(
                "client_id=abc123\nclient_secret=shpss_secret\n",
            ))
            .unwrap();
        let grant = ShopifyConnector
            .token_grant(&context(), &client, &settings)
            .unwrap()
            .unwrap();
        // shopify.dev, "Using the client credentials grant": POST to the shop's
        // /admin/oauth/access_token with grant_type=client_credentials.
        assert_eq!(
            grant.token_url,
            "https://lookback-demo.myshopify.com/admin/oauth/access_token"
        );
        assert_eq!(grant.kind, crate::auth::GrantKind::ClientCredentials);
        let legacy = ShopifyConnector
            .prepare_secret(Secret::new("shpat_0123456789abcdef\n"))
            .unwrap();
        assert_eq!(legacy.expose(), "shpat_0123456789abcdef");
        assert_eq!(
            ShopifyConnector.token_grant(&context(), &legacy, &settings),
            Ok(None)
        );
        let half = ShopifyConnector
            .prepare_secret(Secret::new(r#"{"client_id":"abc123"}"#))
            .unwrap_err();
        assert!(half.contains("client_secret"), "{half}");
    }

    #[test]
    fn link_header_next_token_is_found_and_previous_is_ignored() {
        let header = r#"<https://s.myshopify.com/admin/api/2026-07/orders.json?limit=250&page_info=prev1>; rel="previous", <https://s.myshopify.com/admin/api/2026-07/orders.json?limit=250&page_info=abc>; rel="next""#;
        assert_eq!(next_page_info(header).as_deref(), Some("abc"));
        assert_eq!(
            next_page_info(r#"<https://x/o.json?page_info=p>; rel="previous""#),
            None
        );
    }

    #[test]
    fn page_info_requests_carry_no_filter_and_account_picks_the_shop() {
        let ctx = context();
        let position = to_text(&ShopifyCursor::Scanning {
            updated_at_min: Some(0),
            page_info: Some("tok".into()),
            max_updated_ms: None,
        });
        let request = ShopifyConnector
            .page_request(&ctx, ORDERS, &position)
            .unwrap();
        assert_eq!(
            request.url,
            format!(
                "https://lookback-demo.myshopify.com/admin/api/{API_VERSION}/orders.json?limit=250&page_info=tok"
            )
        );
        let first = ShopifyConnector
            .start_position(&ctx, ORDERS, None)
            .unwrap()
            .unwrap();
        let request = ShopifyConnector.page_request(&ctx, ORDERS, &first).unwrap();
        assert!(request.url.contains("status=any") && !request.url.contains("updated_at_min"));
    }

    #[test]
    fn a_refunded_order_normalizes_to_an_order_and_its_successful_refund_transactions() {
        let order = json!({
            "id": 450789469, "created_at": "2008-01-10T11:00:00-05:00", "currency": "USD", "total_price": "409.94",
            "financial_status": "partially_refunded", "email_sha256": "ab", "customer": {"id": 207119551},
            "landing_site": "/products/x?utm_source=ig&lb_click=clk_9", "note_attributes": [],
            "refunds": [{"id": 509562969, "created_at": "2008-01-11T11:00:00-05:00", "transactions": [
                {"id": 1, "kind": "refund", "status": "success", "amount": "41.94", "currency": "USD"},
                {"id": 2, "kind": "refund", "status": "failure", "amount": "5.00", "currency": "USD"},
                {"id": 3, "kind": "sale", "status": "success", "amount": "5.00", "currency": "USD"}
            ]}]
        });
        let rows = ShopifyConnector
            .normalize(&context(), ORDERS, &order)
            .unwrap()
            .rows;
        let CanonicalRow::Order(o) = &rows[0] else {
            panic!("order first")
        };
        assert_eq!(
            (o.gross_minor, o.status.as_str(), o.click_id.as_deref()),
            (40994, "paid", Some("clk_9"))
        );
        assert_eq!(o.occurred_at_ms, 1_199_980_800_000);
        assert_eq!(o.identity.customer_id.as_deref(), Some("207119551"));
        let adjustments: Vec<_> = rows[1..]
            .iter()
            .map(|r| match r {
                CanonicalRow::Adjustment(a) => {
                    (a.adjustment_id.as_str(), a.amount_minor, a.status.as_str())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            adjustments,
            vec![("1", 4194, "succeeded"), ("2", 500, "failed")]
        );
    }

    /// An order of a USD shop paid in EUR (shape of `@shopify/shopify-api` 2026-04 `Order`).
    fn multi_currency_order(transaction: Value) -> Value {
        json!({
            "id": 820982911946154508_u64, "created_at": "2026-02-01T10:00:00-05:00", "currency": "USD",
            "presentment_currency": "EUR", "total_price": "110.00", "financial_status": "partially_refunded",
            "total_price_set": {"shop_money": {"amount": "110.00", "currency_code": "USD"},
                                "presentment_money": {"amount": "100.00", "currency_code": "EUR"}},
            "refunds": [{"id": 929361462, "created_at": "2026-02-03T10:00:00-05:00", "transactions": [transaction]}]
        })
    }

    fn refunds(order: &Value) -> Vec<(i64, String)> {
        ShopifyConnector
            .normalize(&context(), ORDERS, order)
            .unwrap()
            .rows
            .iter()
            .filter_map(|row| match row {
                CanonicalRow::Adjustment(a) => Some((a.amount_minor, a.currency.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_refund_in_the_customers_currency_is_booked_in_the_shop_currency_at_the_orders_rate() {
        let order = multi_currency_order(
            json!({"id": 1, "kind": "refund", "status": "success", "amount": "25.00", "currency": "EUR"}),
        );
        // 25.00 EUR × 110.00 / 100.00 = 27.50 USD.
        assert_eq!(refunds(&order), vec![(2750, "USD".to_owned())]);
        // The transaction's currency is optional in the schema: its amount is then the
        // presentment currency's.
        let order = multi_currency_order(
            json!({"id": 1, "kind": "refund", "status": "success", "amount": "0.05"}),
        );
        // 5 cents × 1.1 = 5.5 cents: half to even, 6.
        assert_eq!(refunds(&order), vec![(6, "USD".to_owned())]);
        // Without the order's rate the order is a dead letter that says which field is missing.
        let mut order = multi_currency_order(
            json!({"id": 1, "kind": "refund", "status": "success", "amount": "25.00", "currency": "EUR"}),
        );
        order.as_object_mut().unwrap().remove("total_price_set");
        let problem = ShopifyConnector
            .normalize(&context(), ORDERS, &order)
            .unwrap_err();
        assert!(
            problem.reason.contains("total_price_set.shop_money")
                && problem.reason.contains("refunds[0].transactions[0]"),
            "{}",
            problem.reason
        );
        // A single-currency order needs no rate: total_price_set may be absent.
        let mut order = multi_currency_order(
            json!({"id": 1, "kind": "refund", "status": "success", "amount": "25.00", "currency": "USD"}),
        );
        let fields = order.as_object_mut().unwrap();
        fields.remove("total_price_set");
        fields.remove("presentment_currency");
        assert_eq!(refunds(&order), vec![(2500, "USD".to_owned())]);
    }

    #[test]
    fn voided_and_expired_orders_took_no_money() {
        for status in ["voided", "expired"] {
            let order = json!({"id": 7, "created_at": "2026-02-01T10:00:00-05:00", "currency": "USD",
                               "total_price": "49.00", "financial_status": status});
            let rows = ShopifyConnector
                .normalize(&context(), ORDERS, &order)
                .unwrap()
                .rows;
            let [CanonicalRow::Order(o)] = rows.as_slice() else {
                panic!("{rows:?}")
            };
            assert_eq!((o.gross_minor, o.status.as_str()), (0, status));
        }
        // financial_status is optional in the schema: absent, the order is pending, and its
        // total is its gross until Shopify says otherwise.
        let order = json!({"id": 8, "created_at": "2026-02-01T10:00:00-05:00", "currency": "USD", "total_price": "49.00"});
        let rows = ShopifyConnector
            .normalize(&context(), ORDERS, &order)
            .unwrap()
            .rows;
        let [CanonicalRow::Order(o)] = rows.as_slice() else {
            panic!("{rows:?}")
        };
        assert_eq!((o.gross_minor, o.status.as_str()), (4900, "pending"));
    }

    #[test]
    fn an_order_without_email_or_customer_under_protected_data_rules_is_still_an_order() {
        let order = json!({"id": 9, "created_at": "2026-02-01T10:00:00-05:00", "currency": "USD",
                           "total_price": "12.00", "financial_status": "paid", "email": null, "customer": null,
                           "contact_email": null});
        let normalized = ShopifyConnector
            .normalize(&context(), ORDERS, &order)
            .unwrap();
        let [CanonicalRow::Order(o)] = normalized.rows.as_slice() else {
            panic!("{normalized:?}")
        };
        assert_eq!(o.gross_minor, 1200);
        assert_eq!(
            (
                o.identity.email_sha256.as_deref(),
                o.identity.customer_id.as_deref()
            ),
            (None, None)
        );
    }

    #[test]
    fn a_page_served_by_another_version_marks_its_orders_as_drift() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-shopify-api-version", "2026-10".parse().unwrap());
        let response = HttpResponse {
            status: 200,
            headers,
            body: json!({"orders": [{"id": 1, "created_at": "2026-02-01T10:00:00-05:00", "updated_at": "2026-02-01T10:00:00-05:00",
                                     "currency": "USD", "total_price": "1.00", "financial_status": "paid"}]})
            .to_string()
            .into_bytes(),
        };
        let position = ShopifyConnector
            .start_position(&context(), ORDERS, None)
            .unwrap()
            .unwrap();
        let page = ShopifyConnector
            .parse_page(&context(), ORDERS, &position, &response)
            .unwrap();
        let payload = &page.records[0].payload;
        assert_eq!(payload[CONTEXT_KEY][SERVED_VERSION], "2026-10");
        let normalized = ShopifyConnector
            .normalize(&context(), ORDERS, payload)
            .unwrap();
        assert_eq!(normalized.unknown_fields, 1);
        // The pinned version itself is not drift, and leaves the payload as Shopify sent it.
        let mut same = response.clone();
        same.headers
            .insert("x-shopify-api-version", API_VERSION.parse().unwrap());
        let page = ShopifyConnector
            .parse_page(&context(), ORDERS, &position, &same)
            .unwrap();
        assert!(page.records[0].payload.get(CONTEXT_KEY).is_none());
    }

    #[test]
    fn a_nearly_full_bucket_pauses_and_a_half_full_one_does_not() {
        let response = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("x-shopify-shop-api-call-limit", value.parse().unwrap());
            HttpResponse {
                status: 200,
                headers,
                body: Vec::new(),
            }
        };
        assert_eq!(call_limit_pause(&response("20/40")), None);
        assert_eq!(
            call_limit_pause(&response("34/40")),
            Some(Duration::from_millis(1500))
        );
    }
}
