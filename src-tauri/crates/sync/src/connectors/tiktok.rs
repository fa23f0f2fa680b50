//! TikTok Marketing API reporting: daily spend per ad of one advertiser (`--account
//! <advertiser id>`), written to `ad_spend` with channel `tiktok_ads`.
//!
//! A run (see [`super::ad_platform`] for the plan every ad connector follows):
//! 1. `GET /advertiser/info/` — the advertiser's currency and zone, copied into every record's
//!    payload under `_lookback`: report rows carry neither, and their days are in that zone.
//! 2. The days, in chunks of at most [`CHUNK_DAYS`] (TikTok's limit for daily reports), each
//!    read with `GET /report/integrated/get/` (`data_level=AUCTION_AD`, dimensions `ad_id` and
//!    `stat_time_day`), paged by `page`/`page_size` (≤ 1000) until `page == total_page`.
//!
//! The credential goes in the `Access-Token` header (not Bearer). **Errors arrive with HTTP
//! 200**: any `code` other than 0 is an error, read here in `check_response` — 40100 (too many
//! requests) is throttling, the access-token codes refuse the credential, 5xxxx codes are
//! retried.
//!
//! Empty metrics come as `"-"`: a `"-"` spend means the ad spent nothing that day and is stored
//! as 0, and `"-"` impressions or clicks as 0 likewise (the row exists, nothing was delivered).
//!
//! Version: every request goes to [`api_root`], the source's base URL at the pinned version of
//! [`crate::api_versions::TIKTOK`] (v1.3).
//!
//! Restatement: every incremental sync re-reads the last 7 days (the default): TikTok
//! finalises spend within a few days; conversions restate longer, but they are not read here.
//!
//! **TikTok Shop GMV Max** campaigns are not in the integrated report: their spend comes only
//! from `GET /gmv_max/report/get/`, which takes exactly one store per request. The second
//! stream, [`GMV_MAX_REPORT`], reads the advertiser again, lists its stores with
//! `GET /gmv_max/store/list/`, then reads each chunk of days for each store (dimensions
//! `campaign_id` and `stat_time_day`, metric `cost`), and writes campaign-level rows (`ad_id`
//! empty: a GMV Max campaign has no ads of its own). An advertiser without a TikTok Shop has
//! no stores, and the stream ends after two requests. Parameters and shapes are those of
//! TikTok's own SDK (`tiktok-business-api-sdk`, `gmv_max_report_get.yml` and
//! `gmv_max_store_list.yml`).

use lookback_core::money::Currency;
use lookback_store::AdSpend;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ad_platform::{
    AccountContext, CONTEXT_KEY, DayChunk, DayScan, SpendCheckpoint, parse_day, spend_minor,
};
use crate::SyncError;
use crate::api_versions::{TIKTOK, versioned_root};
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpRequest, HttpResponse, Normalized, Page, RateLimit,
    RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, type_name};

/// Daily metrics per ad of the auction (non-GMV-Max) campaigns.
pub const AD_REPORT: &str = "ad_report";
/// Daily cost per GMV Max campaign of each TikTok Shop store of the advertiser.
pub const GMV_MAX_REPORT: &str = "gmv_max_report";
/// The API root without its version; every request adds the pinned one (see [`api_root`]).
pub const DEFAULT_BASE_URL: &str = "https://business-api.tiktok.com/open_api";
/// The longest date range of one daily report request.
pub const CHUNK_DAYS: u32 = 30;
/// TikTok's largest `page_size`.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// What TikTok puts in place of an empty metric.
pub const EMPTY_METRIC: &str = "-";
pub const DIMENSIONS: &str = r#"["ad_id","stat_time_day"]"#;
pub const METRICS: &str = r#"["spend","impressions","clicks","campaign_id"]"#;

pub const GMV_MAX_DIMENSIONS: &str = r#"["campaign_id","stat_time_day"]"#;
/// `cost` is GMV Max's name for what the integrated report calls `spend`.
pub const GMV_MAX_METRICS: &str = r#"["cost"]"#;
/// The key under which the store a GMV Max row belongs to is written into its payload: the
/// report's rows do not carry it, and it is part of the row's identity.
pub const STORE_KEY: &str = "_lookback_store_id";

const KNOWN_FIELDS: &[&str] = &["dimensions", "metrics", CONTEXT_KEY, STORE_KEY];

/// A TikTok API `code` (0 is success), as far as the connector treats codes differently.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TikTokCode {
    Ok,
    /// 40100: too many requests.
    TooManyRequests,
    /// 40001 no permission on the advertiser, 40101 invalid partner, 40102 token expired,
    /// 40103 refresh token expired, 40104 token missing, 40105 token wrong or revoked, 40106
    /// invalid core user, 40107 invalid refresh token (the SDK's `tiktok_code.py`): the
    /// source needs reconnecting.
    CredentialRefused(i64),
    /// 5xxxx: TikTok's side failed; retrying helps.
    ServerError(i64),
    Unknown(i64),
}

impl TikTokCode {
    pub fn from_code(code: i64) -> TikTokCode {
        match code {
            0 => TikTokCode::Ok,
            40_100 => TikTokCode::TooManyRequests,
            40_001 | 40_101..=40_107 => TikTokCode::CredentialRefused(code),
            50_000..=59_999 => TikTokCode::ServerError(code),
            other => TikTokCode::Unknown(other),
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum TikTokPosition {
    /// Read the advertiser; then plan the days from the stored checkpoint.
    Advertiser { checkpoint: Option<SpendCheckpoint> },
    /// Page `page` (1-based) of the chunk's report.
    Report {
        account: AccountContext,
        scan: DayScan,
        chunk: DayChunk,
        page: u32,
    },
    /// List the advertiser's TikTok Shop stores (GMV Max stream).
    Stores {
        account: AccountContext,
        scan: DayScan,
    },
    /// Page `page` of the chunk's GMV Max report for `stores[store]`. A chunk is done when its
    /// last store's last page is read.
    GmvMax {
        account: AccountContext,
        scan: DayScan,
        chunk: DayChunk,
        stores: Vec<String>,
        store: usize,
        page: u32,
    },
}

/// The TikTok Marketing API connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct TikTokConnector;

impl Connector for TikTokConnector {
    fn kind(&self) -> &'static str {
        "tiktok"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[AD_REPORT, GMV_MAX_REPORT]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some(DEFAULT_BASE_URL)
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Header("Access-Token")
    }

    fn default_rate_limit(&self) -> RateLimit {
        // The reporting endpoint allows about 10 requests/s per app; stay well under it.
        RateLimit {
            requests_per_second: 5.0,
            burst: 5,
        }
    }

    fn default_restatement_days(&self) -> u32 {
        7
    }

    fn default_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    fn requires_account(&self) -> bool {
        true
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
        Ok(Some(to_text(&TikTokPosition::Advertiser { checkpoint })))
    }

    fn page_request(
        &self,
        context: &SourceContext,
        _: &str,
        position: &str,
    ) -> Result<HttpRequest, SyncError> {
        let advertiser_id = advertiser_id(context)?;
        let page_size = context.page_size.clamp(1, MAX_PAGE_SIZE).to_string();
        let (path, pairs) = match from_text(position).map_err(connector_error)? {
            TikTokPosition::Advertiser { .. } => {
                ("advertiser/info/", advertiser_info_params(&advertiser_id))
            }
            TikTokPosition::Stores { .. } => (
                "gmv_max/store/list/",
                vec![("advertiser_id".to_owned(), advertiser_id)],
            ),
            TikTokPosition::GmvMax {
                chunk,
                stores,
                store,
                page,
                ..
            } => {
                let store_id = stores.get(store).ok_or_else(|| {
                    connector_error(format!("position names store {store} of {}", stores.len()))
                })?;
                (
                    "gmv_max/report/get/",
                    vec![
                        ("advertiser_id".to_owned(), advertiser_id),
                        ("store_ids".to_owned(), json!([store_id]).to_string()),
                        ("dimensions".to_owned(), GMV_MAX_DIMENSIONS.to_owned()),
                        ("metrics".to_owned(), GMV_MAX_METRICS.to_owned()),
                        ("start_date".to_owned(), chunk.since),
                        ("end_date".to_owned(), chunk.until),
                        ("page".to_owned(), page.to_string()),
                        ("page_size".to_owned(), page_size),
                    ],
                )
            }
            TikTokPosition::Report { chunk, page, .. } => (
                "report/integrated/get/",
                vec![
                    ("advertiser_id".to_owned(), advertiser_id),
                    ("service_type".to_owned(), "AUCTION".to_owned()),
                    ("report_type".to_owned(), "BASIC".to_owned()),
                    ("data_level".to_owned(), "AUCTION_AD".to_owned()),
                    ("dimensions".to_owned(), DIMENSIONS.to_owned()),
                    ("metrics".to_owned(), METRICS.to_owned()),
                    ("start_date".to_owned(), chunk.since),
                    ("end_date".to_owned(), chunk.until),
                    ("page".to_owned(), page.to_string()),
                    ("page_size".to_owned(), page_size),
                ],
            ),
        };
        Ok(HttpRequest::get(url_with(
            &format!("{}/{path}", api_root(context)),
            &pairs,
        )?))
    }

    fn check_response(
        &self,
        _: &SourceContext,
        stream: &str,
        response: &HttpResponse,
    ) -> ResponseVerdict {
        if response.status != 200 {
            return default_verdict(response);
        }
        let Ok(body) = response.json() else {
            // Not the envelope: parse_page says so with the body excerpt.
            return ResponseVerdict::Accept;
        };
        let code = body.get("code").and_then(Value::as_i64).unwrap_or(0);
        let message = body.get("message").and_then(Value::as_str).unwrap_or("");
        let request_id = body.get("request_id").and_then(Value::as_str).unwrap_or("");
        let detail = format!("TikTok code {code} in an HTTP 200: {message} (request {request_id})");
        let code = TikTokCode::from_code(code);
        if stream == GMV_MAX_REPORT {
            // The token works (the ad report just used it); an advertiser without a TikTok
            // Shop, or without permission on its store, has no GMV Max report to read. That
            // is said in the summary and does not fail the source.
            match code {
                TikTokCode::CredentialRefused(40_001) | TikTokCode::Unknown(_) => {
                    return ResponseVerdict::StreamUnavailable { detail };
                }
                _ => {}
            }
        }
        match code {
            TikTokCode::Ok => ResponseVerdict::Accept,
            // TikTok sends no Retry-After: the engine's backoff decides.
            TikTokCode::TooManyRequests => ResponseVerdict::Throttled { wait: None, detail },
            TikTokCode::CredentialRefused(_) => ResponseVerdict::Unauthorized { detail },
            TikTokCode::ServerError(_) => ResponseVerdict::Transient { detail },
            _ => ResponseVerdict::Fatal { detail },
        }
    }

    fn parse_page(
        &self,
        context: &SourceContext,
        stream: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        let body: Value = response.json().map_err(|e| e.to_string())?;
        let data = body.get("data").ok_or("the response has no data")?;
        match from_text(position)? {
            TikTokPosition::Advertiser { checkpoint } => {
                let advertiser_id = advertiser_id(context).map_err(|e| e.to_string())?;
                let list = data
                    .get("list")
                    .and_then(Value::as_array)
                    .ok_or("advertiser/info has no data.list")?;
                let advertiser = list
                    .iter()
                    .find(|a| {
                        a.get("advertiser_id").and_then(id_value).as_deref()
                            == Some(advertiser_id.as_str())
                    })
                    .or_else(|| list.first())
                    .ok_or_else(|| {
                        format!("advertiser {advertiser_id} is not visible to this access token")
                    })?;
                let currency = advertiser
                    .get("currency")
                    .and_then(Value::as_str)
                    .ok_or("the advertiser has no currency")?;
                // `timezone` is the zone the reports are in; `display_timezone` its display name.
                let zone = ["timezone", "display_timezone"]
                    .iter()
                    .filter_map(|key| advertiser.get(*key).and_then(Value::as_str))
                    .find(|zone| lookback_core::time::parse_time_zone(zone).is_ok())
                    .ok_or("the advertiser has no IANA timezone")?;
                let account = AccountContext::checked(advertiser_id, currency, zone)?;
                let scan = DayScan::plan(
                    checkpoint.as_ref(),
                    account.today(context.now_ms)?,
                    context.restatement_days,
                )?;
                let (next, checkpoint) = if stream == GMV_MAX_REPORT {
                    let checkpoint = scan.scanning().to_text();
                    (
                        Some(to_text(&TikTokPosition::Stores { account, scan })),
                        checkpoint,
                    )
                } else {
                    first_report(account, scan)?
                };
                Ok(Page {
                    records: Vec::new(),
                    checkpoint,
                    next,
                    pause_before_next: None,
                })
            }
            TikTokPosition::Report {
                account,
                scan,
                chunk,
                page,
            } => {
                let (list, total_page) = report_rows(data)?;
                let records = list
                    .into_iter()
                    .enumerate()
                    .map(|(index, row)| {
                        let dimension = |name: &str| row_dimension(&row, name);
                        let external_id = match (dimension("ad_id"), dimension("stat_time_day")) {
                            (Some(ad), Some(time)) => format!(
                                "{}|{ad}|{}",
                                account.account_id,
                                time.get(..10).unwrap_or(&time)
                            ),
                            // Never drop a row without its key: a positional id takes it to a
                            // dead letter.
                            _ => format!(
                                "(no ad_id/stat_time_day: {}..{} page {page} item {index})",
                                chunk.since, chunk.until
                            ),
                        };
                        RawRecord {
                            external_id,
                            payload: account.attach(row),
                        }
                    })
                    .collect();
                if u64::from(page) < total_page {
                    let checkpoint = scan.checkpoint(&chunk, false)?.to_text();
                    let next = TikTokPosition::Report {
                        account,
                        scan,
                        chunk,
                        page: page + 1,
                    };
                    Ok(Page {
                        records,
                        checkpoint,
                        next: Some(to_text(&next)),
                        pause_before_next: None,
                    })
                } else {
                    let checkpoint = scan.checkpoint(&chunk, true)?.to_text();
                    let (next, _) = first_report(account, scan.after(&chunk)?)?;
                    Ok(Page {
                        records,
                        checkpoint,
                        next,
                        pause_before_next: None,
                    })
                }
            }
            TikTokPosition::Stores { account, scan } => {
                let stores = store_ids(data)?;
                let (next, checkpoint) = first_gmv_max_report(account, scan, stores)?;
                Ok(Page {
                    records: Vec::new(),
                    checkpoint,
                    next,
                    pause_before_next: None,
                })
            }
            TikTokPosition::GmvMax {
                account,
                scan,
                chunk,
                stores,
                store,
                page,
            } => {
                let store_id = stores
                    .get(store)
                    .cloned()
                    .ok_or("the position names a store the run does not have")?;
                let (rows, total_page) = report_rows(data)?;
                let records = rows
                    .into_iter()
                    .enumerate()
                    .map(|(index, row)| {
                        let dimension = |name: &str| row_dimension(&row, name);
                        let external_id =
                            match (dimension("campaign_id"), dimension("stat_time_day")) {
                                (Some(campaign), Some(time)) => format!(
                                    "gmv_max|{}|{store_id}|{campaign}|{}",
                                    account.account_id,
                                    time.get(..10).unwrap_or(&time)
                                ),
                                _ => format!(
                                    "(gmv_max store {store_id}, no campaign_id/stat_time_day: {}..{} page {page} item {index})",
                                    chunk.since, chunk.until
                                ),
                            };
                        let mut payload = account.attach(row);
                        if let Value::Object(map) = &mut payload {
                            map.insert(STORE_KEY.to_owned(), Value::String(store_id.clone()));
                        }
                        RawRecord {
                            external_id,
                            payload,
                        }
                    })
                    .collect();
                let (next, checkpoint) = if u64::from(page) < total_page {
                    let checkpoint = scan.checkpoint(&chunk, false)?.to_text();
                    let next = TikTokPosition::GmvMax {
                        account,
                        scan,
                        chunk,
                        stores,
                        store,
                        page: page + 1,
                    };
                    (Some(to_text(&next)), checkpoint)
                } else if store + 1 < stores.len() {
                    let checkpoint = scan.checkpoint(&chunk, false)?.to_text();
                    let next = TikTokPosition::GmvMax {
                        account,
                        scan,
                        chunk,
                        stores,
                        store: store + 1,
                        page: 1,
                    };
                    (Some(to_text(&next)), checkpoint)
                } else {
                    let checkpoint = scan.checkpoint(&chunk, true)?.to_text();
                    let (next, _) = first_gmv_max_report(account, scan.after(&chunk)?, stores)?;
                    (next, checkpoint)
                };
                Ok(Page {
                    records,
                    checkpoint,
                    next,
                    pause_before_next: None,
                })
            }
        }
    }

    fn normalize(
        &self,
        context: &SourceContext,
        stream: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        let account = AccountContext::from_payload(record)?;
        let currency = Currency::parse(&account.currency)
            .map_err(|e| RecordProblem::new(format!("account currency: {e}")))?;
        let dimensions = section(record, "dimensions")?;
        let metrics = section(record, "metrics")?;
        let time = required(dimensions, "dimensions", "stat_time_day")?;
        // "2024-01-01 00:00:00": the day in the advertiser's zone, written as a midnight.
        let day = time.get(..10).unwrap_or(&time).to_owned();
        parse_day(&day)
            .map_err(|e| RecordProblem::new(format!("field dimensions.stat_time_day: {e}")))?;
        let campaign_id = match dimensions.get("campaign_id") {
            Some(_) => required(dimensions, "dimensions", "campaign_id")?,
            None => required(metrics, "metrics", "campaign_id")?,
        };
        let gmv_max = stream == GMV_MAX_REPORT;
        let (ad_id, spend, impressions, clicks) = if gmv_max {
            // Campaign level: a GMV Max campaign has no ads, and its report has no
            // impressions or clicks of the kind the ad report counts.
            (
                String::new(),
                money_metric(metrics, "cost", currency)?,
                None,
                None,
            )
        } else {
            (
                required(dimensions, "dimensions", "ad_id")?,
                money_metric(metrics, "spend", currency)?,
                count(metrics, "impressions")?,
                count(metrics, "clicks")?,
            )
        };
        let row = AdSpend {
            platform: "tiktok".to_owned(),
            account_id: account.account_id,
            campaign_id,
            ad_id,
            day,
            account_timezone: account.account_timezone,
            channel: "tiktok_ads".to_owned(),
            creator_id: None,
            spend_minor: spend,
            currency: account.currency,
            impressions,
            clicks,
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
        let pairs = advertiser_info_params(&advertiser_id(context)?);
        Ok(HttpRequest::get(url_with(
            &format!("{}/advertiser/info/", api_root(context)),
            &pairs,
        )?))
    }
}

/// The API root every request goes to: the source's base URL at the pinned version.
pub fn api_root(context: &SourceContext) -> String {
    versioned_root(&context.base_url, TIKTOK.version.unwrap_or_default())
}

fn connector_error(detail: String) -> SyncError {
    SyncError::Connector {
        connector: "tiktok",
        detail,
    }
}

fn to_text(position: &TikTokPosition) -> String {
    serde_json::to_string(position).expect("a position serializes")
}

fn from_text(text: &str) -> Result<TikTokPosition, String> {
    serde_json::from_str(text).map_err(|e| format!("bad position {text:?}: {e}"))
}

fn advertiser_id(context: &SourceContext) -> Result<String, SyncError> {
    let raw = context.account.as_deref().map(str::trim).unwrap_or("");
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SyncError::InvalidSource {
            detail: format!(
                "a tiktok source needs --account <advertiser id> (digits), not {raw:?}"
            ),
        });
    }
    Ok(raw.to_owned())
}

fn advertiser_info_params(advertiser_id: &str) -> Vec<(String, String)> {
    vec![
        (
            "advertiser_ids".to_owned(),
            json!([advertiser_id]).to_string(),
        ),
        (
            "fields".to_owned(),
            r#"["advertiser_id","name","currency","timezone","display_timezone"]"#.to_owned(),
        ),
    ]
}

fn url_with(base: &str, pairs: &[(String, String)]) -> Result<String, SyncError> {
    let mut url =
        reqwest::Url::parse(base).map_err(|e| connector_error(format!("base URL: {e}")))?;
    url.query_pairs_mut()
        .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok(url.to_string())
}

/// The first report page of the scan's next chunk and the checkpoint to store now.
fn first_report(
    account: AccountContext,
    scan: DayScan,
) -> Result<(Option<String>, String), String> {
    next_chunk(account, scan, |account, scan, chunk| {
        TikTokPosition::Report {
            account,
            scan,
            chunk,
            page: 1,
        }
    })
}

/// The first GMV Max report page of the scan's next chunk (its first store), and the
/// checkpoint to store now. With no store the stream is caught up at once.
fn first_gmv_max_report(
    account: AccountContext,
    scan: DayScan,
    stores: Vec<String>,
) -> Result<(Option<String>, String), String> {
    if stores.is_empty() {
        return Ok((None, caught_up(&scan)));
    }
    next_chunk(account, scan, |account, scan, chunk| {
        TikTokPosition::GmvMax {
            account,
            scan,
            chunk,
            stores,
            store: 0,
            page: 1,
        }
    })
}

/// The position `first_page` builds for the scan's next chunk, and the checkpoint to store
/// now; with no chunk left, no position and the finished checkpoint.
fn next_chunk(
    account: AccountContext,
    scan: DayScan,
    first_page: impl FnOnce(AccountContext, DayScan, DayChunk) -> TikTokPosition,
) -> Result<(Option<String>, String), String> {
    let Some(chunk) = scan.chunk(CHUNK_DAYS)? else {
        return Ok((None, caught_up(&scan)));
    };
    let checkpoint = scan.scanning().to_text();
    Ok((Some(to_text(&first_page(account, scan, chunk))), checkpoint))
}

/// The checkpoint of a stream that has read every day of the scan.
fn caught_up(scan: &DayScan) -> String {
    SpendCheckpoint::Finished {
        synced_through: scan.until.clone(),
    }
    .to_text()
}

/// The store ids of a `gmv_max/store/list/` answer. Every listed store is read, also one
/// that cannot run GMV Max today (`is_gmv_max_available: false`): it may have run it during
/// the days being read.
fn store_ids(data: &Value) -> Result<Vec<String>, String> {
    let list = match data.get("store_list") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(other) => {
            return Err(format!(
                "data.store_list should be an array, found {}",
                type_name(other)
            ));
        }
    };
    let mut ids = Vec::new();
    for (index, store) in list.iter().enumerate() {
        let id = store
            .get("store_id")
            .and_then(id_value)
            .ok_or_else(|| format!("data.store_list[{index}].store_id is missing"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The rows and `page_info.total_page` of a report page (integrated or GMV Max: both put
/// their rows in `data.list`).
fn report_rows(data: &Value) -> Result<(Vec<Value>, u64), String> {
    let list = match data.get("list") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(rows)) => rows.clone(),
        Some(other) => {
            return Err(format!(
                "data.list should be an array, found {}",
                type_name(other)
            ));
        }
    };
    let total_page = data
        .pointer("/page_info/total_page")
        .and_then(Value::as_u64)
        .ok_or("data.page_info.total_page is missing")?;
    Ok((list, total_page))
}

/// A money metric (`spend`, `cost`) in minor units of the account currency: a decimal string
/// (or number) in major units; `"-"` (nothing delivered) is 0.
fn money_metric(
    metrics: &Map<String, Value>,
    field: &str,
    currency: Currency,
) -> Result<i64, RecordProblem> {
    let name = format!("metrics.{field}");
    match metrics.get(field) {
        Some(Value::String(text)) if text.trim() == EMPTY_METRIC => Ok(0),
        Some(Value::String(text)) => spend_minor(&name, text, currency),
        Some(Value::Number(n)) => spend_minor(&name, &n.to_string(), currency),
        None | Some(Value::Null) => Err(RecordProblem::new(format!(
            "required field {name} is missing"
        ))),
        Some(other) => Err(RecordProblem::new(format!(
            "field {name} should be a string, found {}",
            type_name(other)
        ))),
    }
}

/// A report row's dimension (`dimensions.<name>`) as text, if present and not empty.
fn row_dimension(row: &Value, name: &str) -> Option<String> {
    row.get("dimensions")
        .and_then(|d| d.get(name))
        .and_then(id_value)
}

fn id_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() && text != EMPTY_METRIC => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn section<'a>(
    record: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a Map<String, Value>, RecordProblem> {
    match record.get(name) {
        Some(Value::Object(map)) => Ok(map),
        None | Some(Value::Null) => Err(RecordProblem::new(format!(
            "required field {name} is missing"
        ))),
        Some(other) => Err(RecordProblem::new(format!(
            "field {name} should be an object, found {}",
            type_name(other)
        ))),
    }
}

fn required(map: &Map<String, Value>, section: &str, field: &str) -> Result<String, RecordProblem> {
    match map.get(field) {
        None | Some(Value::Null) => Err(RecordProblem::new(format!(
            "required field {section}.{field} is missing"
        ))),
        Some(value) => id_value(value).ok_or_else(|| {
            RecordProblem::new(format!("field {section}.{field} is empty ({value})"))
        }),
    }
}

/// A count metric: `"-"` (nothing delivered) is 0.
fn count(metrics: &Map<String, Value>, field: &str) -> Result<Option<i64>, RecordProblem> {
    match metrics.get(field) {
        Some(Value::String(text)) if text.trim() == EMPTY_METRIC => Ok(Some(0)),
        _ => super::ad_platform::optional_count(metrics, field)
            .map_err(|p| RecordProblem::new(format!("metrics: {}", p.reason))),
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderMap;

    use super::*;

    fn context() -> SourceContext {
        SourceContext {
            source_id: "tt".into(),
            source_name: "tt".into(),
            base_url: DEFAULT_BASE_URL.into(),
            account: Some("7000000001".into()),
            restatement_days: 7,
            page_size: 1000,
            now_ms: 1_772_323_200_000,
        }
    }

    fn ok(body: Value) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: HeaderMap::new(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn errors_inside_an_http_200_are_read_from_the_code() {
        let verdict = |code: i64| {
            TikTokConnector.check_response(
                &context(),
                AD_REPORT,
                &ok(json!({"code": code, "message": "m", "request_id": "r", "data": {}})),
            )
        };
        assert_eq!(verdict(0), ResponseVerdict::Accept);
        assert!(matches!(
            verdict(40_100),
            ResponseVerdict::Throttled { wait: None, .. }
        ));
        for refused in [40_001, 40_102, 40_103, 40_105, 40_107] {
            assert!(
                matches!(verdict(refused), ResponseVerdict::Unauthorized { .. }),
                "{refused}"
            );
        }
        assert!(matches!(verdict(51_000), ResponseVerdict::Transient { .. }));
        assert!(matches!(verdict(40_002), ResponseVerdict::Fatal { .. }));
    }

    #[test]
    fn a_dash_is_no_spend_and_currency_comes_from_the_advertiser() {
        let account = AccountContext::checked("7000000001".into(), "JPY", "Asia/Tokyo").unwrap();
        let row = |spend: &str| {
            account.attach(json!({"dimensions": {"ad_id": "111", "stat_time_day": "2024-01-01 00:00:00"},
                                  "metrics": {"spend": spend, "impressions": "-", "clicks": "69", "campaign_id": "55"}}))
        };
        let normalized = TikTokConnector
            .normalize(&context(), AD_REPORT, &row("-"))
            .unwrap();
        let [CanonicalRow::AdSpend(spend)] = normalized.rows.as_slice() else {
            panic!("{normalized:?}")
        };
        assert_eq!(
            (spend.spend_minor, spend.impressions, spend.clicks),
            (0, Some(0), Some(69))
        );
        assert_eq!(
            (
                spend.day.as_str(),
                spend.currency.as_str(),
                spend.account_timezone.as_str()
            ),
            ("2024-01-01", "JPY", "Asia/Tokyo")
        );
        let normalized = TikTokConnector
            .normalize(&context(), AD_REPORT, &row("1200.00"))
            .unwrap();
        let [CanonicalRow::AdSpend(spend)] = normalized.rows.as_slice() else {
            panic!("{normalized:?}")
        };
        assert_eq!(spend.spend_minor, 1200);
    }

    #[test]
    fn report_requests_never_span_more_than_thirty_days() {
        let account = AccountContext::checked("7000000001".into(), "USD", "UTC").unwrap();
        let scan = DayScan::plan(None, parse_day("2026-02-28").unwrap(), 7).unwrap();
        let (mut next, _) = first_report(account, scan).unwrap();
        let mut chunks = 0;
        while let Some(position) = next {
            let TikTokPosition::Report {
                account,
                scan,
                chunk,
                ..
            } = from_text(&position).unwrap()
            else {
                panic!()
            };
            assert!(chunk.days().unwrap() <= 30, "{chunk:?}");
            chunks += 1;
            next = first_report(account, scan.after(&chunk).unwrap())
                .unwrap()
                .0;
        }
        assert_eq!(chunks, 13);
    }
}
