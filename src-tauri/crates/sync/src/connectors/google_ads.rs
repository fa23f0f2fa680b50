//! Google Ads API (GAQL `googleAds:search`): daily spend per ad group of one customer, plus
//! the campaign-level spend of its Performance Max campaigns (`--account 1234567890`, or
//! `--account 1112223333/1234567890` to act through manager account 1112223333, sent as
//! `login-customer-id`), written to `ad_spend` with channel `paid_search` and the ad group id
//! in `ad_id` (the finest level this stream reads; empty for a Performance Max campaign).
//!
//! A run (see [`super::ad_platform`] for the plan every ad connector follows):
//! 1. `SELECT customer.id, customer.currency_code, customer.time_zone FROM customer` — the
//!    account's currency and zone, copied into every record's payload under `_lookback`: the
//!    ad-group rows do not repeat them, and `segments.date` is a day in that zone.
//! 2. The days, in chunks of [`CHUNK_DAYS`], each two queries paged by `pageToken` →
//!    `nextPageToken` (absent on the last page; the page size is fixed by Google at 10,000 rows
//!    and must not be sent): `FROM ad_group WHERE segments.date BETWEEN …`, then `FROM campaign
//!    WHERE campaign.advertising_channel_type = 'PERFORMANCE_MAX' AND segments.date BETWEEN …`.
//!    Performance Max campaigns have asset groups, not ad groups, so `FROM ad_group` never sees
//!    their spend, and the campaign query sees nothing but them: nothing is counted twice. A
//!    chunk is done (and checkpointed) only after both.
//!
//! Version: every request goes to [`api_root`], the source's base URL at the pinned version of
//! [`crate::api_versions::GOOGLE_ADS`]. A version Google no longer serves answers 400 with
//! `requestError: UNSUPPORTED_VERSION` ("Version vNN is deprecated") while it is being turned
//! off and a plain 404 page afterwards; both stop the stream with the
//! [`crate::SyncError::ApiVersionRetired`] message.
//!
//! JSON keys are lowerCamelCase and int64 values are strings (`"costMicros":"1061083620"`);
//! proto3 JSON leaves out fields at their default, so a missing metric is 0. `costMicros` is
//! converted to minor units with one half-to-even rounding (`micros_to_minor`).
//!
//! Restatement: every incremental sync re-reads the last 14 days (the default; invalid-click
//! credits and late conversions change recent days, and spend settles within two weeks).
//!
//! Throttling: HTTP 429 `RESOURCE_EXHAUSTED` (also `RESOURCE_TEMPORARILY_EXHAUSTED` in the
//! details) carries a `retryDelay` ("30s") that is honoured.
//!
//! Credentials: every request carries an OAuth access token (`Authorization: Bearer`), got
//! from the user's own OAuth client (a Google Cloud "Desktop" client: `client_id`,
//! `client_secret`) and the `refresh_token` that `lookback source connect` obtains through the
//! browser (see [`crate::auth::google_installed_app`]). Access tokens live about an hour and
//! only in memory: the transport renews one five minutes before it expires, and once more when
//! Google answers 401 `UNAUTHENTICATED` (`OAUTH_TOKEN_EXPIRED`), which this connector reports
//! as [`ResponseVerdict::TokenExpired`]; an `invalid_grant` from the token endpoint (consent
//! revoked, refresh token expired) stops the source as unauthorized. The `developer-token`
//! header is sent only when the user gave one: Google made it optional and ignores it, and a
//! future API version will reject it. The keyring entry is one JSON object,
//! `{"client_id","client_secret","refresh_token"[,"developer_token"]}`; a bare access token
//! (one line, optionally the developer token on a second) still works until it expires. See
//! [`GoogleAdsConnector::prepare_secret`] for what `source add` accepts. `login-customer-id`
//! is not a secret: it comes from `--account manager/customer`.

use std::time::Duration;

use lookback_core::money::{Currency, micros_to_minor};
use lookback_store::AdSpend;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ad_platform::{
    AccountContext, CONTEXT_KEY, DayChunk, DayScan, SpendCheckpoint, parse_day,
};
use crate::SyncError;
use crate::api_versions::{GOOGLE_ADS, retired_error, versioned_root};
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpMethod, HttpRequest, HttpResponse, Normalized, Page,
    RateLimit, RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, type_name};
use crate::secret::Secret;

/// The only stream: daily metrics per ad group, and per Performance Max campaign.
pub const AD_GROUP_SPEND: &str = "ad_group_spend";
/// The API host. Every request goes to its pinned version,
/// [`crate::api_versions::GOOGLE_ADS`], whatever version a stored base URL names.
pub const DEFAULT_BASE_URL: &str = "https://googleads.googleapis.com";
/// `campaign.advertising_channel_type` of a Performance Max campaign.
pub const PERFORMANCE_MAX: &str = "PERFORMANCE_MAX";
/// Days per query.
pub const CHUNK_DAYS: u32 = 90;
/// Google's fixed page size of `search` (informational: it is never sent).
pub const PAGE_SIZE: u32 = 10_000;

/// The secret's field holding the OAuth access token.
pub const ACCESS_TOKEN: &str = "access_token";
/// The secret's field holding the developer token, sent as the `developer-token` header.
pub const DEVELOPER_TOKEN: &str = "developer_token";
/// Every field the keyring entry of a Google Ads source may hold.
pub const SECRET_FIELDS: &[&str] = &[
    crate::auth::CLIENT_ID,
    crate::auth::CLIENT_SECRET,
    crate::auth::REFRESH_TOKEN,
    DEVELOPER_TOKEN,
    ACCESS_TOKEN,
];

/// The customer query of the first request of a run.
pub const CUSTOMER_QUERY: &str =
    "SELECT customer.id, customer.currency_code, customer.time_zone FROM customer LIMIT 1";

const KNOWN_FIELDS: &[&str] = &[
    "campaign",
    "adGroup",
    "segments",
    "metrics",
    "customer",
    CONTEXT_KEY,
];

/// The `status` of a Google API error (google.rpc.Code names).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GoogleErrorStatus {
    Unauthenticated,
    PermissionDenied,
    ResourceExhausted,
    InvalidArgument,
    Internal,
    Unavailable,
    DeadlineExceeded,
    Unknown(String),
}

impl GoogleErrorStatus {
    pub fn parse(text: &str) -> GoogleErrorStatus {
        match text {
            "UNAUTHENTICATED" => GoogleErrorStatus::Unauthenticated,
            "PERMISSION_DENIED" => GoogleErrorStatus::PermissionDenied,
            "RESOURCE_EXHAUSTED" => GoogleErrorStatus::ResourceExhausted,
            "INVALID_ARGUMENT" => GoogleErrorStatus::InvalidArgument,
            "INTERNAL" => GoogleErrorStatus::Internal,
            "UNAVAILABLE" => GoogleErrorStatus::Unavailable,
            "DEADLINE_EXCEEDED" => GoogleErrorStatus::DeadlineExceeded,
            other => GoogleErrorStatus::Unknown(other.to_owned()),
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum GooglePosition {
    /// Read the customer; then plan the days from the stored checkpoint.
    Customer { checkpoint: Option<SpendCheckpoint> },
    /// A page of one of the chunk's queries; no token on its first page.
    Report {
        account: AccountContext,
        scan: DayScan,
        chunk: DayChunk,
        page_token: Option<String>,
        #[serde(default)]
        level: ReportLevel,
    },
}

/// Which of a chunk's two queries a report position is at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ReportLevel {
    /// `FROM ad_group`: every campaign type with ad groups.
    #[default]
    AdGroup,
    /// `FROM campaign` for Performance Max campaigns, which have no ad groups.
    PerformanceMax,
}

/// The Google Ads connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct GoogleAdsConnector;

impl Connector for GoogleAdsConnector {
    fn kind(&self) -> &'static str {
        "google_ads"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[AD_GROUP_SPEND]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some(DEFAULT_BASE_URL)
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::BearerWithSecretHeaders {
            bearer: ACCESS_TOKEN,
            headers: &[(DEVELOPER_TOKEN, "developer-token")],
        }
    }

    fn default_rate_limit(&self) -> RateLimit {
        // Basic access allows 15,000 operations a day and each page is one; a couple of
        // requests per second never gets near the per-customer QPS limits.
        RateLimit {
            requests_per_second: 2.0,
            burst: 4,
        }
    }

    fn default_restatement_days(&self) -> u32 {
        14
    }

    fn default_page_size(&self) -> u32 {
        PAGE_SIZE
    }

    fn requires_account(&self) -> bool {
        true
    }

    /// 2: Performance Max campaign days (no ad group) are campaign-level spend.
    fn normalizer_version(&self) -> i64 {
        2
    }

    fn start_position(
        &self,
        _: &SourceContext,
        _: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        let checkpoint = checkpoint
            .map(SpendCheckpoint::parse)
            .transpose()
            .map_err(connector_error)?;
        Ok(Some(to_text(&GooglePosition::Customer { checkpoint })))
    }

    fn page_request(
        &self,
        context: &SourceContext,
        _: &str,
        position: &str,
    ) -> Result<HttpRequest, SyncError> {
        let body = match from_text(position).map_err(connector_error)? {
            GooglePosition::Customer { .. } => json!({"query": CUSTOMER_QUERY}),
            GooglePosition::Report {
                chunk,
                page_token,
                level,
                ..
            } => {
                let mut body = json!({"query": report_query(&chunk, level)});
                if let Some(token) = page_token {
                    body["pageToken"] = Value::String(token);
                }
                body
            }
        };
        search_request(context, body.to_string())
    }

    fn check_response(
        &self,
        _: &SourceContext,
        _: &str,
        response: &HttpResponse,
    ) -> ResponseVerdict {
        if (200..300).contains(&response.status) {
            return ResponseVerdict::Accept;
        }
        let Some(error) = response
            .json()
            .ok()
            .and_then(|body| body.get("error").cloned())
        else {
            // A whole version path that is gone (sunset, or never released) is Google's plain
            // 404 page, not an API error: the pinned version is not served.
            if response.status == 404 {
                return ResponseVerdict::Fatal {
                    detail: format!(
                        "{} (HTTP 404 for the {} path)",
                        retired_error(&GOOGLE_ADS),
                        GOOGLE_ADS.version.unwrap_or_default()
                    ),
                };
            }
            return default_verdict(response);
        };
        let status =
            GoogleErrorStatus::parse(error.get("status").and_then(Value::as_str).unwrap_or(""));
        let message = error.get("message").and_then(Value::as_str).unwrap_or("");
        // The Google Ads failure inside the details says what exactly went wrong.
        let specific: Vec<String> = error
            .get("details")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|detail| detail.get("errors").and_then(Value::as_array))
            .flatten()
            .filter_map(|e| e.get("message").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let detail = if specific.is_empty() {
            format!("HTTP {} {status:?}: {message}", response.status)
        } else {
            format!(
                "HTTP {} {status:?}: {message} ({})",
                response.status,
                specific.join("; ")
            )
        };
        // Google is turning the pinned version off: no retry helps, a newer Lookback does.
        if error.to_string().contains("UNSUPPORTED_VERSION") {
            return ResponseVerdict::Fatal {
                detail: format!("{} ({detail})", retired_error(&GOOGLE_ADS)),
            };
        }
        // The credential lacks a part Google wants: no retry helps, a new secret does.
        if error
            .to_string()
            .contains("DEVELOPER_TOKEN_PARAMETER_MISSING")
        {
            return ResponseVerdict::Unauthorized {
                detail: format!(
                    "{detail}; this account needs a developer token: add the source again with developer_token beside the OAuth client in the secret"
                ),
            };
        }
        let exhausted = response.status == 429
            || status == GoogleErrorStatus::ResourceExhausted
            || error.to_string().contains("RESOURCE_TEMPORARILY_EXHAUSTED");
        match status {
            _ if exhausted => ResponseVerdict::Throttled {
                wait: retry_delay(&error).or_else(|| response.retry_after()),
                detail,
            },
            // An expired (or otherwise refused) access token: a source with an OAuth grant
            // gets a new one and asks once more. A bad developer token is not the token's fault.
            GoogleErrorStatus::Unauthenticated
                if !error.to_string().contains("DEVELOPER_TOKEN") =>
            {
                ResponseVerdict::TokenExpired { detail }
            }
            GoogleErrorStatus::Unauthenticated | GoogleErrorStatus::PermissionDenied => {
                ResponseVerdict::Unauthorized { detail }
            }
            GoogleErrorStatus::Internal
            | GoogleErrorStatus::Unavailable
            | GoogleErrorStatus::DeadlineExceeded => ResponseVerdict::Transient { detail },
            _ => match default_verdict(response) {
                ResponseVerdict::Accept => ResponseVerdict::Accept,
                ResponseVerdict::Unauthorized { .. } => ResponseVerdict::Unauthorized { detail },
                ResponseVerdict::Transient { .. } => ResponseVerdict::Transient { detail },
                ResponseVerdict::Throttled { wait, .. } => {
                    ResponseVerdict::Throttled { wait, detail }
                }
                _ => ResponseVerdict::Fatal { detail },
            },
        }
    }

    fn parse_page(
        &self,
        context: &SourceContext,
        _: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        let body: Value = response.json().map_err(|e| e.to_string())?;
        // An empty result leaves `results` out entirely (proto3 JSON).
        let results = match body.get("results") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(rows)) => rows.clone(),
            Some(other) => {
                return Err(format!(
                    "results should be an array, found {}",
                    type_name(other)
                ));
            }
        };
        let next_token = body
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        match from_text(position)? {
            GooglePosition::Customer { checkpoint } => {
                let customer = results
                    .first()
                    .and_then(|row| row.get("customer"))
                    .ok_or("the customer query returned no customer")?;
                let text = |key: &str| {
                    customer
                        .get(key)
                        .and_then(Value::as_str)
                        .ok_or(format!("the customer has no {key}"))
                };
                let (customer_id, _) = account_ids(context).map_err(|e| e.to_string())?;
                let account =
                    AccountContext::checked(customer_id, text("currencyCode")?, text("timeZone")?)?;
                let scan = DayScan::plan(
                    checkpoint.as_ref(),
                    account.today(context.now_ms)?,
                    context.restatement_days,
                )?;
                let (next, checkpoint) = first_query(account, scan)?;
                Ok(Page {
                    records: Vec::new(),
                    checkpoint,
                    next,
                    pause_before_next: None,
                })
            }
            GooglePosition::Report {
                account,
                scan,
                chunk,
                page_token,
                level,
            } => {
                let records = results
                    .into_iter()
                    .enumerate()
                    .map(|(index, row)| {
                        let key = |pointer: &str| row.pointer(pointer).and_then(id_value);
                        // An ad group's day, or a Performance Max campaign's day: ids of two
                        // kinds, kept apart in the key.
                        let spend_key = match level {
                            ReportLevel::AdGroup => key("/adGroup/id"),
                            ReportLevel::PerformanceMax => {
                                key("/campaign/id").map(|id| format!("campaign:{id}"))
                            }
                        };
                        let external_id = match (spend_key, key("/segments/date")) {
                            (Some(spend_key), Some(day)) => {
                                format!("{}|{spend_key}|{day}", account.account_id)
                            }
                            // Never drop a row without its key: a positional id takes it to a
                            // dead letter.
                            _ => format!(
                                "(no {}/segments.date: {}..{} page {} item {index})",
                                match level {
                                    ReportLevel::AdGroup => "adGroup.id",
                                    ReportLevel::PerformanceMax => "campaign.id",
                                },
                                chunk.since,
                                chunk.until,
                                page_token.as_deref().unwrap_or("first")
                            ),
                        };
                        RawRecord {
                            external_id,
                            payload: account.attach(row),
                        }
                    })
                    .collect();
                match next_token {
                    Some(token) => {
                        if page_token.as_deref() == Some(token.as_str()) {
                            return Err("nextPageToken did not advance".to_owned());
                        }
                        let checkpoint = scan.checkpoint(&chunk, false)?.to_text();
                        let next = GooglePosition::Report {
                            account,
                            scan,
                            chunk,
                            page_token: Some(token),
                            level,
                        };
                        Ok(Page {
                            records,
                            checkpoint,
                            next: Some(to_text(&next)),
                            pause_before_next: None,
                        })
                    }
                    // The ad groups of the chunk are read: its Performance Max campaigns next,
                    // and the chunk is not done until they are.
                    None if level == ReportLevel::AdGroup => {
                        let checkpoint = scan.checkpoint(&chunk, false)?.to_text();
                        let next = GooglePosition::Report {
                            account,
                            scan,
                            chunk,
                            page_token: None,
                            level: ReportLevel::PerformanceMax,
                        };
                        Ok(Page {
                            records,
                            checkpoint,
                            next: Some(to_text(&next)),
                            pause_before_next: None,
                        })
                    }
                    None => {
                        let checkpoint = scan.checkpoint(&chunk, true)?.to_text();
                        let (next, _) = first_query(account, scan.after(&chunk)?)?;
                        Ok(Page {
                            records,
                            checkpoint,
                            next,
                            pause_before_next: None,
                        })
                    }
                }
            }
        }
    }

    fn normalize(
        &self,
        context: &SourceContext,
        _: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        let account = AccountContext::from_payload(record)?;
        let currency = Currency::parse(&account.currency)
            .map_err(|e| RecordProblem::new(format!("account currency: {e}")))?;
        let day = required_nested(record, "segments", "date")?;
        parse_day(&day).map_err(|e| RecordProblem::new(format!("field segments.date: {e}")))?;
        let cost_micros = metric(record, "costMicros")?;
        // A Performance Max campaign has no ad group: its day is the campaign's, `ad_id` empty.
        let performance_max = record
            .get("campaign")
            .and_then(|c| c.get("advertisingChannelType"))
            .and_then(Value::as_str)
            == Some(PERFORMANCE_MAX);
        let ad_id = match record.get("adGroup") {
            None | Some(Value::Null) if performance_max => String::new(),
            _ => required_nested(record, "adGroup", "id")?,
        };
        let row = AdSpend {
            platform: "google_ads".to_owned(),
            account_id: account.account_id,
            campaign_id: required_nested(record, "campaign", "id")?,
            ad_id,
            day,
            account_timezone: account.account_timezone,
            channel: "paid_search".to_owned(),
            creator_id: None,
            spend_minor: micros_to_minor(cost_micros, currency),
            currency: account.currency,
            impressions: Some(metric(record, "impressions")?),
            clicks: Some(metric(record, "clicks")?),
            source: context.source_id.clone(),
            raw_event_id: None,
            updated_at_ms: context.now_ms,
        };
        Ok(Normalized {
            rows: vec![CanonicalRow::AdSpend(row)],
            unknown_fields: count_unknown(record, KNOWN_FIELDS),
        })
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        search_request(context, json!({"query": CUSTOMER_QUERY}).to_string())
    }

    /// The secret `source add` read, as the keyring keeps it. Accepted forms:
    /// - the OAuth client, as a JSON object `{"client_id":…,"client_secret":…,
    ///   "refresh_token":…,"developer_token":…}` or as `name=value` lines with those names;
    ///   `refresh_token` may be left out and obtained later by `lookback source connect`, and
    ///   `developer_token` is optional;
    /// - an access token alone (one line), optionally with the developer token on a second
    ///   line, or `{"access_token":…,"developer_token":…}`: it works until it expires (an hour).
    fn prepare_secret(&self, secret: Secret) -> Result<Secret, String> {
        let Some(fields) = crate::auth::secret_fields("google_ads", &secret, SECRET_FIELDS)? else {
            let lines: Vec<&str> = secret
                .expose()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            return match lines.as_slice() {
                [access] => Ok(Secret::new(*access)),
                [access, developer] => Ok(Secret::new(
                    json!({ ACCESS_TOKEN: access, DEVELOPER_TOKEN: developer }).to_string(),
                )),
                _ => Err(format!(
                    "the google_ads secret has {} lines without '='; give client_id=…, client_secret=… and refresh_token=… lines (or a JSON object), or an access token alone",
                    lines.len()
                )),
            };
        };
        let has = |name: &str| fields.contains_key(name);
        let client = has(crate::auth::CLIENT_ID) || has(crate::auth::CLIENT_SECRET);
        if client && !(has(crate::auth::CLIENT_ID) && has(crate::auth::CLIENT_SECRET)) {
            return Err(
                "the google_ads secret needs both client_id and client_secret (the OAuth client of your Google Cloud project)"
                    .to_owned(),
            );
        }
        if client && has(ACCESS_TOKEN) {
            return Err(format!(
                "the google_ads secret has both an OAuth client and an {ACCESS_TOKEN}; leave the access token out, Lookback gets its own"
            ));
        }
        if !client && has(crate::auth::REFRESH_TOKEN) {
            return Err(
                "the google_ads secret has a refresh_token but no client_id and client_secret it was issued to"
                    .to_owned(),
            );
        }
        if !client && !has(ACCESS_TOKEN) {
            return Err(format!(
                "the google_ads secret has neither client_id and client_secret nor an {ACCESS_TOKEN}"
            ));
        }
        if !client && fields.len() == 1 {
            return Ok(Secret::new(fields[ACCESS_TOKEN].as_str()));
        }
        Ok(crate::auth::secret_from_fields(&fields))
    }

    /// With an OAuth client in the keyring, access tokens come from the refresh token at
    /// Google's token endpoint (or the source's `oauth_token_url`); without one, the stored
    /// access token is sent as it is.
    fn token_grant(
        &self,
        context: &SourceContext,
        secret: &Secret,
        settings: &crate::auth::SourceSettings,
    ) -> Result<Option<crate::auth::TokenGrant>, String> {
        let Some(client_id) = secret.field(crate::auth::CLIENT_ID) else {
            return Ok(None);
        };
        let client_secret = secret.field(crate::auth::CLIENT_SECRET).ok_or_else(|| {
            "the keyring entry has a client_id but no client_secret; add the source again"
                .to_owned()
        })?;
        let refresh_token = secret.field(crate::auth::REFRESH_TOKEN).ok_or_else(|| {
            format!(
                "the source is not connected to a Google account yet: Connect Google account on the Sources screen, or run `lookback source connect {}`",
                context.source_name
            )
        })?;
        Ok(Some(crate::auth::TokenGrant {
            token_url: crate::auth::endpoint(
                settings,
                crate::auth::TOKEN_URL_SETTING,
                crate::auth::google_installed_app::GOOGLE_TOKEN_URL,
            ),
            client_id,
            client_secret: Secret::new(client_secret),
            kind: crate::auth::GrantKind::RefreshToken(Secret::new(refresh_token)),
        }))
    }
}

fn connector_error(detail: String) -> SyncError {
    SyncError::Connector {
        connector: "google_ads",
        detail,
    }
}

fn to_text(position: &GooglePosition) -> String {
    serde_json::to_string(position).expect("a position serializes")
}

fn from_text(text: &str) -> Result<GooglePosition, String> {
    serde_json::from_str(text).map_err(|e| format!("bad position {text:?}: {e}"))
}

/// (customer id, login customer id) from `--account`: `customer` or `manager/customer`,
/// dashes allowed (`123-456-7890`) as the Google Ads UI shows them.
fn account_ids(context: &SourceContext) -> Result<(String, Option<String>), SyncError> {
    let raw = context.account.as_deref().map(str::trim).unwrap_or("");
    let digits = |text: &str| -> Option<String> {
        let cleaned: String = text.trim().chars().filter(|c| *c != '-').collect();
        (!cleaned.is_empty() && cleaned.bytes().all(|b| b.is_ascii_digit())).then_some(cleaned)
    };
    let parsed = match raw.split_once('/') {
        Some((manager, customer)) => digits(customer).zip(digits(manager).map(Some)),
        None => digits(raw).map(|customer| (customer, None)),
    };
    parsed.ok_or_else(|| SyncError::InvalidSource {
        detail: format!("a google_ads source needs --account <customer id> or <manager id>/<customer id>, not {raw:?}"),
    })
}

/// The API root every request goes to: the source's base URL at the pinned version.
pub fn api_root(context: &SourceContext) -> String {
    versioned_root(&context.base_url, GOOGLE_ADS.version.unwrap_or_default())
}

/// A `googleAds:search` POST of `body` for the source's customer.
fn search_request(context: &SourceContext, body: String) -> Result<HttpRequest, SyncError> {
    let (customer_id, login_customer_id) = account_ids(context)?;
    let mut request = HttpRequest {
        method: HttpMethod::Post,
        url: format!(
            "{}/customers/{customer_id}/googleAds:search",
            api_root(context)
        ),
        headers: Vec::new(),
        body: Some(body),
        content_type: Some("application/json"),
    };
    if let Some(login) = login_customer_id {
        request = request.with_header("login-customer-id", login);
    }
    Ok(request)
}

/// The GAQL query of a chunk of days at one level.
fn report_query(chunk: &DayChunk, level: ReportLevel) -> String {
    match level {
        ReportLevel::AdGroup => format!(
            "SELECT campaign.id, ad_group.id, segments.date, metrics.cost_micros, metrics.impressions, metrics.clicks \
             FROM ad_group WHERE segments.date BETWEEN '{}' AND '{}' ORDER BY segments.date",
            chunk.since, chunk.until
        ),
        ReportLevel::PerformanceMax => format!(
            "SELECT campaign.id, campaign.advertising_channel_type, segments.date, metrics.cost_micros, metrics.impressions, metrics.clicks \
             FROM campaign WHERE campaign.advertising_channel_type = '{PERFORMANCE_MAX}' \
             AND segments.date BETWEEN '{}' AND '{}' ORDER BY segments.date",
            chunk.since, chunk.until
        ),
    }
}

/// The first query of the scan's next chunk and the checkpoint to store now.
fn first_query(account: AccountContext, scan: DayScan) -> Result<(Option<String>, String), String> {
    let Some(chunk) = scan.chunk(CHUNK_DAYS)? else {
        return Ok((
            None,
            SpendCheckpoint::Finished {
                synced_through: scan.until.clone(),
            }
            .to_text(),
        ));
    };
    let checkpoint = scan.scanning().to_text();
    Ok((
        Some(to_text(&GooglePosition::Report {
            account,
            scan,
            chunk,
            page_token: None,
            level: ReportLevel::AdGroup,
        })),
        checkpoint,
    ))
}

/// An int64 Google sends as a string (or, from older clients, a number).
fn id_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `record[outer][inner]` as text, required.
fn required_nested(
    record: &Map<String, Value>,
    outer: &str,
    inner: &str,
) -> Result<String, RecordProblem> {
    let value = record.get(outer).and_then(|o| o.get(inner));
    match value {
        None | Some(Value::Null) => Err(RecordProblem::new(format!(
            "required field {outer}.{inner} is missing"
        ))),
        Some(value) => id_value(value).ok_or_else(|| {
            RecordProblem::new(format!(
                "field {outer}.{inner} should be a string, found {}",
                type_name(value)
            ))
        }),
    }
}

/// `metrics.<name>`: an int64 string; absent means 0, as proto3 JSON leaves zeros out.
fn metric(record: &Map<String, Value>, name: &str) -> Result<i64, RecordProblem> {
    let value = record.get("metrics").and_then(|m| m.get(name));
    match value {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(text)) => {
            text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                RecordProblem::new(format!(
                    "field metrics.{name} should be a whole non-negative number, found {text:?}"
                ))
            })
        }
        Some(Value::Number(n)) => n.as_i64().filter(|n| *n >= 0).ok_or_else(|| {
            RecordProblem::new(format!(
                "field metrics.{name} should be a whole non-negative number, found {n}"
            ))
        }),
        Some(other) => Err(RecordProblem::new(format!(
            "field metrics.{name} should be a string, found {}",
            type_name(other)
        ))),
    }
}

/// The largest `retryDelay` anywhere in the error ("30s", "1.5s"), if any.
fn retry_delay(error: &Value) -> Option<Duration> {
    fn walk(value: &Value, found: &mut Option<Duration>) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if key == "retryDelay"
                        && let Some(seconds) = inner
                            .as_str()
                            .and_then(|t| t.trim().strip_suffix('s'))
                            .and_then(|t| t.parse::<f64>().ok())
                        && seconds.is_finite()
                        && seconds >= 0.0
                    {
                        let delay = Duration::from_secs_f64(seconds);
                        *found = Some(found.map_or(delay, |f| f.max(delay)));
                    }
                    walk(inner, found);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, found)),
            _ => {}
        }
    }
    let mut found = None;
    walk(error, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderMap;

    use super::*;

    fn context(account: &str) -> SourceContext {
        SourceContext {
            source_id: "gads".into(),
            source_name: "gads".into(),
            base_url: DEFAULT_BASE_URL.into(),
            account: Some(account.into()),
            restatement_days: 14,
            page_size: PAGE_SIZE,
            now_ms: 1_772_323_200_000,
        }
    }

    fn response(status: u16, body: Value) -> HttpResponse {
        HttpResponse {
            status,
            headers: HeaderMap::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn resource_exhausted_is_throttled_for_the_retry_delay_google_gives() {
        let body = json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
                         "errors": [{"errorCode": {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}, "message": "Too many requests. Retry in 7 seconds.",
                                     "details": {"quotaErrorDetails": {"rateScope": "ACCOUNT", "rateName": "Requests per service per method", "retryDelay": "7s"}}}]}]}});
        let verdict =
            GoogleAdsConnector.check_response(&context("1"), AD_GROUP_SPEND, &response(429, body));
        assert!(
            matches!(&verdict, ResponseVerdict::Throttled { wait: Some(w), detail } if *w == Duration::from_secs(7) && detail.contains("Retry in 7")),
            "{verdict:?}"
        );
        let denied = json!({"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}});
        assert!(matches!(
            GoogleAdsConnector.check_response(
                &context("1"),
                AD_GROUP_SPEND,
                &response(403, denied)
            ),
            ResponseVerdict::Unauthorized { .. }
        ));
        let bad = json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}});
        assert!(matches!(
            GoogleAdsConnector.check_response(&context("1"), AD_GROUP_SPEND, &response(400, bad)),
            ResponseVerdict::Fatal { .. }
        ));
    }

    #[test]
    fn the_secret_holds_the_access_and_developer_tokens_in_any_of_its_forms() {
        let prepare = |text: &str| GoogleAdsConnector.prepare_secret(Secret::new(text));
        let both = prepare("ya29.access\ndev-token-123\n").unwrap();
        assert_eq!(both.field(ACCESS_TOKEN).as_deref(), Some("ya29.access"));
        assert_eq!(
            both.field(DEVELOPER_TOKEN).as_deref(),
            Some("dev-token-123")
        );
        let json =
            prepare(r#"{"developer_token":"dev-token-123","access_token":"ya29.access"}"#).unwrap();
        assert_eq!(json, both);
        assert_eq!(prepare("ya29.access").unwrap().expose(), "ya29.access");
        for bad in [
            "a\nb\nc",
            r#"{"access_token":"ya29.access","refresh_token":"r"}"#,
            r#"{"developer_token":"dev-token-123"}"#,
            r#"{"client_id":"id.apps.googleusercontent.com","access_token":"ya29.access"}"#,
            "client_id=id.apps.googleusercontent.com\nrefresh_token=1//rt",
            r#"{"access_token":7}"#,
            "{not json",
        ] {
            let error = prepare(bad).unwrap_err();
            assert!(
                !error.contains("ya29") && !error.contains("dev-token"),
                "{error}"
            );
        }
        assert!(matches!(
            GoogleAdsConnector.auth_scheme(),
            AuthScheme::BearerWithSecretHeaders {
                bearer: ACCESS_TOKEN,
                headers: [(DEVELOPER_TOKEN, "developer-token")]
            }
        ));
        let missing = response(
            400,
            json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT",
                   "details": [{"errors": [{"errorCode": {"requestError": "DEVELOPER_TOKEN_PARAMETER_MISSING"},
                                            "message": "The developer-token parameter is required for all requests."}]}]}}),
        );
        assert!(matches!(
            GoogleAdsConnector.check_response(&context("123"), AD_GROUP_SPEND, &missing),
            ResponseVerdict::Unauthorized { detail } if detail.contains("developer token")
        ));
    }

    #[test]
    fn a_retired_version_is_one_clear_error_in_both_of_its_shapes() {
        // While Google turns a version off (google-ads RequestErrorEnum.UNSUPPORTED_VERSION).
        let deprecated = json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
                         "errors": [{"errorCode": {"requestError": "UNSUPPORTED_VERSION"}, "message": "Version v26 is deprecated. Requests to this version will be blocked."}],
                         "requestId": "x"}]}});
        // After the sunset: the front end's plain 404 page for the whole version path.
        let gone = HttpResponse {
            status: 404,
            headers: HeaderMap::new(),
            body: b"<!DOCTYPE html><html lang=en><title>Error 404 (Not Found)!!1</title><p>The requested URL <code>/v26/customers/1/googleAds:search</code> was not found on this server.".to_vec(),
        };
        for answer in [response(400, deprecated), gone] {
            let verdict = GoogleAdsConnector.check_response(&context("1"), AD_GROUP_SPEND, &answer);
            let ResponseVerdict::Fatal { detail } = &verdict else {
                panic!("{verdict:?}")
            };
            assert!(
                detail.starts_with(
                    "Google Ads retired API version v26; this Lookback needs an update"
                ),
                "{detail}"
            );
        }
    }

    #[test]
    fn a_chunk_reads_its_ad_groups_then_its_performance_max_campaigns_at_the_pinned_version() {
        let ctx = SourceContext {
            base_url: "https://googleads.googleapis.com/v21".into(),
            ..context("123")
        };
        let account = AccountContext::checked("123".into(), "EUR", "Europe/Berlin").unwrap();
        let scan = DayScan {
            since: "2026-01-01".into(),
            until: "2026-01-10".into(),
            resume_from: "2026-01-01".into(),
        };
        let chunk = scan.chunk(CHUNK_DAYS).unwrap().unwrap();
        let position = to_text(&GooglePosition::Report {
            account,
            scan,
            chunk,
            page_token: None,
            level: ReportLevel::AdGroup,
        });
        let request = GoogleAdsConnector
            .page_request(&ctx, AD_GROUP_SPEND, &position)
            .unwrap();
        assert!(
            request
                .url
                .starts_with("https://googleads.googleapis.com/v26/"),
            "{}",
            request.url
        );
        assert!(request.body.as_deref().unwrap().contains("FROM ad_group"));
        let page = GoogleAdsConnector
            .parse_page(&ctx, AD_GROUP_SPEND, &position, &response(200, json!({})))
            .unwrap();
        assert!(
            page.checkpoint.contains("scanning"),
            "the chunk is not done after its ad groups: {}",
            page.checkpoint
        );
        let next = page.next.expect("the Performance Max query");
        let request = GoogleAdsConnector
            .page_request(&ctx, AD_GROUP_SPEND, &next)
            .unwrap();
        let query = request.body.unwrap();
        assert!(
            query.contains(
                "FROM campaign WHERE campaign.advertising_channel_type = 'PERFORMANCE_MAX'"
            ) && query.contains("BETWEEN '2026-01-01' AND '2026-01-10'"),
            "{query}"
        );
        let done = GoogleAdsConnector
            .parse_page(&ctx, AD_GROUP_SPEND, &next, &response(200, json!({})))
            .unwrap();
        assert!(done.checkpoint.contains("finished"), "{}", done.checkpoint);
        assert_eq!(done.next, None);
    }

    #[test]
    fn a_performance_max_campaign_day_is_campaign_level_spend() {
        let account = AccountContext::checked("123".into(), "EUR", "Europe/Berlin").unwrap();
        let row = account.attach(json!({"campaign": {"resourceName": "customers/123/campaigns/900", "id": "900", "advertisingChannelType": "PERFORMANCE_MAX"},
            "metrics": {"costMicros": "2500000"}, "segments": {"date": "2026-01-02"}}));
        let normalized = GoogleAdsConnector
            .normalize(&context("123"), AD_GROUP_SPEND, &row)
            .unwrap();
        let [CanonicalRow::AdSpend(spend)] = normalized.rows.as_slice() else {
            panic!("{normalized:?}")
        };
        assert_eq!(
            (
                spend.campaign_id.as_str(),
                spend.ad_id.as_str(),
                spend.spend_minor
            ),
            ("900", "", 250)
        );
        assert_eq!((spend.impressions, spend.clicks), (Some(0), Some(0)));
        // Any other campaign without an ad group is a record to look at, not campaign spend.
        let search = account.attach(
            json!({"campaign": {"id": "901", "advertisingChannelType": "SEARCH"},
            "metrics": {"costMicros": "1"}, "segments": {"date": "2026-01-02"}}),
        );
        let problem = GoogleAdsConnector
            .normalize(&context("123"), AD_GROUP_SPEND, &search)
            .unwrap_err();
        assert!(problem.reason.contains("adGroup.id"), "{}", problem.reason);
    }

    #[test]
    fn an_oauth_client_secret_becomes_a_refresh_grant_and_an_expired_token_asks_for_a_new_one() {
        let prepare = |text: &str| GoogleAdsConnector.prepare_secret(Secret::new(text));
        let lines = prepare(
            "client_id=123-abc.apps.googleusercontent.com\nclient_secret=GOCSPX-secret\nrefresh_token=1//0g-refresh\n",
        )
        .unwrap();
        let json = prepare(
            r#"{"client_id":"123-abc.apps.googleusercontent.com","client_secret":"GOCSPX-secret","refresh_token":"1//0g-refresh"}"#,
        )
        .unwrap();
        assert_eq!(lines, json);
        let settings = crate::auth::SourceSettings::new();
        let grant = GoogleAdsConnector
            .token_grant(&context("1"), &json, &settings)
            .unwrap()
            .unwrap();
        assert_eq!(grant.token_url, "https://oauth2.googleapis.com/token");
        assert_eq!(grant.client_id, "123-abc.apps.googleusercontent.com");
        assert_eq!(
            grant.kind,
            crate::auth::GrantKind::RefreshToken(Secret::new("1//0g-refresh"))
        );
        // Registered with its client only: usable once `source connect` added a refresh token.
        let unconnected = prepare(
            r#"{"client_id":"123-abc.apps.googleusercontent.com","client_secret":"GOCSPX-secret"}"#,
        )
        .unwrap();
        let error = GoogleAdsConnector
            .token_grant(&context("1"), &unconnected, &settings)
            .unwrap_err();
        assert!(error.contains("lookback source connect gads"), "{error}");
        // A bare access token is sent as it is.
        assert_eq!(
            GoogleAdsConnector.token_grant(&context("1"), &Secret::new("ya29.a"), &settings),
            Ok(None)
        );
        // The body Google sends for an expired access token (google-ads 34.0.0:
        // AuthenticationErrorEnum.OAUTH_TOKEN_EXPIRED).
        let expired = response(
            401,
            json!({"error": {"code": 401, "status": "UNAUTHENTICATED",
                   "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                   "details": [{"errors": [{"errorCode": {"authenticationError": "OAUTH_TOKEN_EXPIRED"},
                                            "message": "Oauth token in the header has expired."}]}]}}),
        );
        assert!(matches!(
            GoogleAdsConnector.check_response(&context("1"), AD_GROUP_SPEND, &expired),
            ResponseVerdict::TokenExpired { detail } if detail.contains("has expired")
        ));
    }

    #[test]
    fn a_manager_account_becomes_the_login_customer_id_header() {
        let request = GoogleAdsConnector
            .test_request(&context("111-222-3333/123-456-7890"))
            .unwrap();
        assert!(
            request
                .url
                .ends_with("/customers/1234567890/googleAds:search"),
            "{}",
            request.url
        );
        assert_eq!(
            request.headers,
            vec![("login-customer-id".to_owned(), "1112223333".to_owned())]
        );
        assert!(GoogleAdsConnector.test_request(&context("abc")).is_err());
    }

    #[test]
    fn cost_micros_round_half_even_and_missing_metrics_are_zero() {
        let account = AccountContext::checked("123".into(), "EUR", "Europe/Berlin").unwrap();
        let row = account.attach(json!({"campaign": {"resourceName": "customers/123/campaigns/456", "id": "456"},
            "adGroup": {"resourceName": "customers/123/adGroups/789", "id": "789"},
            "metrics": {"costMicros": "1061085000", "impressions": "9020"}, "segments": {"date": "2024-06-01"}}));
        let normalized = GoogleAdsConnector
            .normalize(&context("123"), AD_GROUP_SPEND, &row)
            .unwrap();
        let [CanonicalRow::AdSpend(spend)] = normalized.rows.as_slice() else {
            panic!("{normalized:?}")
        };
        // 1061.085 EUR: half a cent, rounded to the even neighbour.
        assert_eq!(spend.spend_minor, 106_108);
        assert_eq!((spend.impressions, spend.clicks), (Some(9020), Some(0)));
        assert_eq!(
            (
                spend.ad_id.as_str(),
                spend.campaign_id.as_str(),
                spend.account_timezone.as_str()
            ),
            ("789", "456", "Europe/Berlin")
        );
        assert_eq!(spend.channel, "paid_search");
    }
}
