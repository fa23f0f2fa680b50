//! A mock of the TikTok Marketing API (`/open_api/v1.3`): `Access-Token` header auth (a Bearer
//! header is not accepted), `GET /advertiser/info/` (currency, timezone) and
//! `GET /report/integrated/get/` for daily ad-level AUCTION reports with JSON-encoded
//! `dimensions`/`metrics`, at most 30 days per request and `page_size` ≤ 1000, paged by
//! `page` until `page == total_page`. Like TikTok, **every error arrives with HTTP 200** and a
//! `code` other than 0: 40105 for a bad token, 40100 when throttled, 40002 for bad
//! parameters. Empty metrics are `"-"`.
//!
//! TikTok Shop **GMV Max** campaigns are served only by `GET /gmv_max/store/list/` and
//! `GET /gmv_max/report/get/` (never by the integrated report), with the parameters of TikTok's
//! own SDK (`tiktok-business-api-sdk` `gmv_max_report_get.yml`): exactly one id in the
//! JSON-encoded `store_ids`, at most 3 `dimensions`, `metrics` with `cost`, `page_size` ≤ 1000.
//! A store's campaigns are a ledger of their own ([`TikTokApi::add_gmv_max_store`]); rows are
//! per (campaign, day). The 30-day range limit of the integrated report is assumed for it too.
//!
//! Scripted misbehaviour: throttling, a data page failing once with an HTTP 500, duplicated
//! rows across pages, restated days (through [`TikTokApi::ledger`]).

use std::sync::Mutex;

use serde_json::{Value, json};

use super::ad_ledger::{AdLedger, LedgerRow, day_text, parse_day};
use super::{MockApi, MockRequest, MockResponse};

pub const PREFIX: &str = "/open_api/v1.3";
pub const MAX_PAGE_SIZE: usize = 1000;
/// The longest range of one daily report, both ends included.
pub const MAX_DAYS: i64 = 30;

#[derive(Debug, Default)]
struct TikTokState {
    ledger: AdLedger,
    throttle_next: u32,
    fail_once_at_data_page: Option<u64>,
    overlap: usize,
    data_pages: u64,
    requests: u64,
    /// (store id, daily cost per GMV Max campaign: the ledger's "ads" are its campaigns).
    gmv_max_stores: Vec<(String, AdLedger)>,
}

/// The TikTok API of one advertiser.
pub struct TikTokApi {
    pub token: String,
    pub advertiser_id: String,
    pub currency: String,
    pub timezone: String,
    /// Exponent of the currency (JPY: 0), for the spend strings.
    pub exponent: u32,
    state: Mutex<TikTokState>,
}

impl TikTokApi {
    pub fn new(
        token: &str,
        advertiser_id: &str,
        currency: &str,
        timezone: &str,
        exponent: u32,
        ledger: AdLedger,
    ) -> TikTokApi {
        TikTokApi {
            token: token.to_owned(),
            advertiser_id: advertiser_id.to_owned(),
            currency: currency.to_owned(),
            timezone: timezone.to_owned(),
            exponent,
            state: Mutex::new(TikTokState {
                ledger,
                ..TikTokState::default()
            }),
        }
    }

    pub fn ledger<T>(&self, f: impl FnOnce(&mut AdLedger) -> T) -> T {
        f(&mut self.state.lock().unwrap().ledger)
    }

    /// Adds a TikTok Shop store whose GMV Max campaigns spent what `ledger` says (one row per
    /// campaign and day; the ledger's ad ids are ignored).
    pub fn add_gmv_max_store(&self, store_id: &str, ledger: AdLedger) {
        self.state
            .lock()
            .unwrap()
            .gmv_max_stores
            .push((store_id.to_owned(), ledger));
    }

    /// Σ GMV Max cost (minor units) and row count over every store in `since..=until`.
    pub fn gmv_max_truth(&self, since: &str, until: &str) -> (i64, usize) {
        let state = self.state.lock().unwrap();
        state
            .gmv_max_stores
            .iter()
            .map(|(_, ledger)| ledger.truth(since, until, self.exponent))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    }

    pub fn throttle_next(&self, requests: u32) {
        self.state.lock().unwrap().throttle_next = requests;
    }

    pub fn fail_once_at_data_page(&self, page: u64) {
        self.state.lock().unwrap().fail_once_at_data_page = Some(page);
    }

    pub fn overlap(&self, rows: usize) {
        self.state.lock().unwrap().overlap = rows;
    }

    /// Whether a ledger row is served with `"-"` metrics: a day the ad did not deliver.
    pub fn is_empty_row(row: &LedgerRow) -> bool {
        (row.day + row.ad_id.len() as i64) % 13 == 0
    }

    /// Σ spend (minor units) and row count of `since..=until` as TikTok serves them: rows
    /// served with `"-"` spend nothing.
    pub fn truth(&self, since: &str, until: &str) -> (i64, usize) {
        let state = self.state.lock().unwrap();
        let rows = state
            .ledger
            .between(parse_day(since).unwrap(), parse_day(until).unwrap());
        (
            rows.iter()
                .filter(|r| !TikTokApi::is_empty_row(r))
                .map(|r| r.spend_minor(self.exponent))
                .sum(),
            rows.len(),
        )
    }
}

/// TikTok's envelope, always with HTTP 200.
pub fn envelope(code: i64, message: &str, data: Value) -> MockResponse {
    MockResponse::json(
        200,
        &json!({"code": code, "message": message, "request_id": "20260301000000MOCK", "data": data}),
    )
}

/// A spend amount as TikTok writes it: always two decimals, whatever the currency ("1200.00"
/// yen).
fn money_text(minor: i64, exponent: u32) -> String {
    let unit = 10_i64.pow(exponent);
    let fraction = if exponent == 0 {
        0
    } else {
        (minor % unit) * 100 / unit
    };
    format!("{}.{fraction:02}", minor / unit)
}

fn row_json(row: &LedgerRow, exponent: u32) -> Value {
    let day = format!("{} 00:00:00", day_text(row.day));
    if TikTokApi::is_empty_row(row) {
        return json!({"dimensions": {"ad_id": row.ad_id, "stat_time_day": day},
                      "metrics": {"spend": "-", "impressions": "-", "clicks": "-", "campaign_id": row.campaign_id}});
    }
    json!({
        "dimensions": {"ad_id": row.ad_id, "stat_time_day": day},
        "metrics": {"spend": money_text(row.spend_minor(exponent), exponent), "impressions": row.impressions.to_string(),
                    "clicks": row.clicks.to_string(), "campaign_id": row.campaign_id},
    })
}

impl MockApi for TikTokApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        if request.header("access-token") != Some(self.token.as_str()) {
            return envelope(
                40_105,
                "Access token is incorrect or has been revoked.",
                json!({}),
            );
        }
        let mut state = self.state.lock().unwrap();
        state.requests += 1;
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return envelope(
                40_100,
                "Too many requests. Please retry in some time.",
                json!({}),
            );
        }
        let path = request.path.strip_prefix(PREFIX).unwrap_or("");
        match (request.method.as_str(), path) {
            ("GET", "/advertiser/info/") => {
                let ids: Vec<String> = request
                    .query("advertiser_ids")
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or_default();
                if !ids.contains(&self.advertiser_id) {
                    return envelope(40_001, "No permission to operate advertiser.", json!({}));
                }
                envelope(
                    0,
                    "OK",
                    json!({"list": [{"advertiser_id": self.advertiser_id, "name": "Mock shop", "currency": self.currency,
                                                    "timezone": self.timezone, "display_timezone": self.timezone}]}),
                )
            }
            ("GET", "/report/integrated/get/") => self.report(&mut state, request),
            ("GET", "/gmv_max/store/list/") => {
                if request.query("advertiser_id") != Some(self.advertiser_id.as_str()) {
                    return envelope(40_001, "No permission to operate advertiser.", json!({}));
                }
                let stores: Vec<Value> = state
                    .gmv_max_stores
                    .iter()
                    .map(|(id, _)| json!({"store_id": id, "store_name": format!("Shop {id}"), "store_code": format!("SC{id}"),
                                          "is_gmv_max_available": true, "is_owner_bc": true, "store_role": "AD_PROMOTION",
                                          "store_status": "ACTIVE", "targeting_region_codes": ["JP"]}))
                    .collect();
                envelope(0, "OK", json!({"store_list": stores}))
            }
            ("GET", "/gmv_max/report/get/") => self.gmv_max_report(&mut state, request),
            _ => MockResponse::json(404, &json!({"code": 40_400, "message": "Not found"})),
        }
    }
}

impl TikTokApi {
    fn report(&self, state: &mut TikTokState, request: &MockRequest) -> MockResponse {
        let bad = |message: &str| envelope(40_002, message, json!({}));
        let q = |name: &str| request.query(name).unwrap_or("");
        if q("advertiser_id") != self.advertiser_id {
            return envelope(40_001, "No permission to operate advertiser.", json!({}));
        }
        if (q("service_type"), q("report_type"), q("data_level"))
            != ("AUCTION", "BASIC", "AUCTION_AD")
        {
            return bad(
                "service_type, report_type or data_level: the mock serves AUCTION / BASIC / AUCTION_AD",
            );
        }
        let dimensions: Option<Vec<String>> = serde_json::from_str(q("dimensions")).ok();
        if dimensions.as_deref() != Some(&["ad_id".to_owned(), "stat_time_day".to_owned()][..]) {
            return bad("dimensions: must be a JSON array [\"ad_id\",\"stat_time_day\"]");
        }
        let metrics: Vec<String> = match serde_json::from_str(q("metrics")) {
            Ok(metrics) => metrics,
            Err(_) => return bad("metrics: must be a JSON array"),
        };
        if !metrics.iter().any(|m| m == "spend") {
            return bad("metrics: spend is missing");
        }
        let ReportRange {
            since,
            until,
            page,
            page_size,
        } = match report_range(request) {
            Ok(range) => range,
            Err(message) => return bad(message),
        };
        state.data_pages += 1;
        if state.fail_once_at_data_page == Some(state.data_pages) {
            state.fail_once_at_data_page = None;
            state.data_pages -= 1;
            return MockResponse::text(
                500,
                "upstream connect error or disconnect/reset before headers",
            );
        }
        let rows = state.ledger.between(since, until);
        let total_page = rows.len().div_ceil(page_size);
        let start = ((page - 1) * page_size).min(rows.len());
        let end = (start + page_size).min(rows.len());
        let first = if start > 0 {
            start.saturating_sub(state.overlap)
        } else {
            0
        };
        let list: Vec<Value> = rows[first..end]
            .iter()
            .map(|r| row_json(r, self.exponent))
            .collect();
        envelope(
            0,
            "OK",
            json!({"list": list, "page_info": {"page": page, "page_size": page_size, "total_number": rows.len(), "total_page": total_page}}),
        )
    }
}

impl TikTokApi {
    fn gmv_max_report(&self, state: &mut TikTokState, request: &MockRequest) -> MockResponse {
        let bad = |message: &str| envelope(40_002, message, json!({}));
        let q = |name: &str| request.query(name).unwrap_or("");
        if q("advertiser_id") != self.advertiser_id {
            return envelope(40_001, "No permission to operate advertiser.", json!({}));
        }
        let store_ids: Vec<String> = match serde_json::from_str(q("store_ids")) {
            Ok(ids) => ids,
            Err(_) => return bad("store_ids: must be a JSON array of strings"),
        };
        if store_ids.len() != 1 {
            return bad("store_ids: exactly one store id per request");
        }
        let dimensions: Vec<String> = match serde_json::from_str(q("dimensions")) {
            Ok(dimensions) => dimensions,
            Err(_) => return bad("dimensions: must be a JSON array"),
        };
        if dimensions.len() > 3
            || !dimensions.iter().any(|d| d == "stat_time_day")
            || !dimensions.iter().any(|d| d == "campaign_id")
        {
            return bad("dimensions: the mock serves campaign_id and stat_time_day (at most 3)");
        }
        let metrics: Vec<String> = match serde_json::from_str(q("metrics")) {
            Ok(metrics) => metrics,
            Err(_) => return bad("metrics: must be a JSON array"),
        };
        if !metrics.iter().any(|m| m == "cost") {
            return bad("metrics: cost is missing");
        }
        let ReportRange {
            since,
            until,
            page,
            page_size,
        } = match report_range(request) {
            Ok(range) => range,
            Err(message) => return bad(message),
        };
        let Some((_, ledger)) = state
            .gmv_max_stores
            .iter()
            .find(|(id, _)| *id == store_ids[0])
        else {
            return bad("store_ids: the store is not bound to this advertiser");
        };
        let rows = ledger.between(since, until);
        let total_page = rows.len().div_ceil(page_size);
        let start = ((page - 1) * page_size).min(rows.len());
        let end = (start + page_size).min(rows.len());
        let list: Vec<Value> = rows[start..end]
            .iter()
            .map(|row| {
                json!({
                    "dimensions": {"campaign_id": row.campaign_id, "stat_time_day": format!("{} 00:00:00", day_text(row.day))},
                    "metrics": {"cost": money_text(row.spend_minor(self.exponent), self.exponent)},
                })
            })
            .collect();
        envelope(
            0,
            "OK",
            json!({"list": list, "page_info": {"page": page, "page_size": page_size, "total_number": rows.len(), "total_page": total_page}}),
        )
    }
}

/// The days and the page a report request asks for, as both reports take them.
struct ReportRange {
    since: i64,
    until: i64,
    page: usize,
    page_size: usize,
}

/// Reads `start_date`, `end_date` (at most [`MAX_DAYS`] apart), `page` and `page_size`
/// (1–1000), or TikTok's message for the first one that is wrong.
fn report_range(request: &MockRequest) -> Result<ReportRange, &'static str> {
    let q = |name: &str| request.query(name).unwrap_or("");
    let (Some(since), Some(until)) = (parse_day(q("start_date")), parse_day(q("end_date"))) else {
        return Err("start_date and end_date: must be YYYY-MM-DD");
    };
    if until < since || until - since + 1 > MAX_DAYS {
        return Err("The time span between start_date and end_date cannot exceed 30 days.");
    }
    let page_size = match q("page_size").parse::<usize>() {
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
        _ => return Err("page_size: must be between 1 and 1000"),
    };
    let page = match q("page").parse::<usize>() {
        Ok(n) if n >= 1 => n,
        _ => return Err("page: must be at least 1"),
    };
    Ok(ReportRange {
        since,
        until,
        page,
        page_size,
    })
}
