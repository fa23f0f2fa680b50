//! A mock of the Google Ads API `googleAds:search` (REST) at the versions Google serves in
//! 2026-12 ([`LIVE_VERSIONS`], `google-ads` 34.0.0 `_VALID_API_VERSIONS`): a sunset version's
//! path is Google's plain 404 page, and a version being turned off ([`GoogleAdsApi::deprecate`])
//! answers 400 `requestError: UNSUPPORTED_VERSION` "Version vNN is deprecated". Bearer OAuth
//! token, the
//! `developer-token` header when the mock is told to require one (400 INVALID_ARGUMENT
//! `DEVELOPER_TOKEN_PARAMETER_MISSING` without it, 401 UNAUTHENTICATED
//! `DEVELOPER_TOKEN_INVALID` for another), `login-customer-id` checked when the customer is
//! reached through a manager, a GAQL query
//! for the customer (currency, time zone), for daily ad-group metrics `BETWEEN` two dates, and
//! `FROM campaign WHERE campaign.advertising_channel_type = 'PERFORMANCE_MAX'` for the daily
//! metrics of Performance Max campaigns — which have no ad groups, so `FROM ad_group` never
//! returns them (their ledger is [`GoogleAdsApi::with_performance_max`]),
//! `pageToken` → `nextPageToken` paging (absent on the last page; a token only works with the
//! query it was issued for; `pageSize` is refused as in v17+), lowerCamelCase JSON, int64 as
//! strings, zero metrics left out (proto3 JSON), no `requestId` on a `search` response (only
//! `searchStream` batches and error details carry one: `SearchGoogleAdsResponse` has no such
//! field), and Google's error bodies: 401
//! UNAUTHENTICATED, 429 RESOURCE_EXHAUSTED with a `retryDelay`, 500 INTERNAL.
//!
//! The page size is [`GoogleAdsApi::page_size`] (Google's is 10,000; the mock uses small
//! pages so that paging is exercised).

use std::sync::Mutex;

use serde_json::{Value, json};

use super::ad_ledger::{AdLedger, day_text, parse_day};
use super::{MockApi, MockRequest, MockResponse};

/// The version Lookback pins (the newest of `google-ads` 34.0.0 `_VALID_API_VERSIONS`).
pub const API_VERSION: &str = "v26";
/// The versions Google serves as of 2026-12 (v21 ended 2026-08-05, v22 2026-10-07).
pub const LIVE_VERSIONS: &[&str] = &["v23", "v24", "v25", "v26"];

#[derive(Debug, Default)]
struct GoogleState {
    ledger: AdLedger,
    /// Daily spend of Performance Max campaigns (the ledger's ad ids are not used).
    performance_max: AdLedger,
    /// Versions being turned off: answered with UNSUPPORTED_VERSION.
    deprecated: Vec<String>,
    /// Versions sunset since the mock started: answered with the 404 page.
    sunset: Vec<String>,
    throttle_next: u32,
    fail_once_at_data_page: Option<u64>,
    overlap: usize,
    data_pages: u64,
}

/// The Google Ads API of one customer.
pub struct GoogleAdsApi {
    pub token: String,
    /// When set, bearer tokens are checked against the tests' OAuth server instead of `token`.
    pub oauth: Option<std::sync::Arc<super::oauth_tokens::IssuedTokens>>,
    pub customer_id: String,
    /// The manager account the token's user reaches the customer through, if any.
    pub login_customer_id: Option<String>,
    /// The developer token every request must carry, if the mock requires one.
    pub developer_token: Option<String>,
    pub currency: String,
    pub time_zone: String,
    pub page_size: usize,
    state: Mutex<GoogleState>,
}

impl GoogleAdsApi {
    pub fn new(
        token: &str,
        customer_id: &str,
        currency: &str,
        time_zone: &str,
        ledger: AdLedger,
    ) -> GoogleAdsApi {
        GoogleAdsApi {
            token: token.to_owned(),
            oauth: None,
            customer_id: customer_id.to_owned(),
            login_customer_id: None,
            developer_token: None,
            currency: currency.to_owned(),
            time_zone: time_zone.to_owned(),
            page_size: 150,
            state: Mutex::new(GoogleState {
                ledger,
                ..GoogleState::default()
            }),
        }
    }

    pub fn through_manager(mut self, login_customer_id: &str) -> GoogleAdsApi {
        self.login_customer_id = Some(login_customer_id.to_owned());
        self
    }

    /// Requires `developer-token: <token>` on every request.
    pub fn requiring_developer_token(mut self, token: &str) -> GoogleAdsApi {
        self.developer_token = Some(token.to_owned());
        self
    }

    /// Accepts only access tokens the tests' OAuth server issued, and answers an expired one
    /// as Google does (see [`super::oauth_tokens::google_token_rejection`]).
    pub fn accepting_oauth_tokens(
        mut self,
        tokens: std::sync::Arc<super::oauth_tokens::IssuedTokens>,
    ) -> GoogleAdsApi {
        self.oauth = Some(tokens);
        self
    }

    pub fn ledger<T>(&self, f: impl FnOnce(&mut AdLedger) -> T) -> T {
        f(&mut self.state.lock().unwrap().ledger)
    }

    /// The customer also runs Performance Max campaigns with this daily spend (campaign ids
    /// from the ledger; its ad ids are not used, as these campaigns have no ad groups).
    pub fn with_performance_max(self, ledger: AdLedger) -> GoogleAdsApi {
        self.state.lock().unwrap().performance_max = ledger;
        self
    }

    pub fn performance_max<T>(&self, f: impl FnOnce(&mut AdLedger) -> T) -> T {
        f(&mut self.state.lock().unwrap().performance_max)
    }

    /// From now on, `version` answers UNSUPPORTED_VERSION, as in its last weeks.
    pub fn deprecate(&self, version: &str) {
        self.state
            .lock()
            .unwrap()
            .deprecated
            .push(version.to_owned());
    }

    /// From now on, `version`'s path is Google's 404 page, as after its sunset.
    pub fn sunset(&self, version: &str) {
        self.state.lock().unwrap().sunset.push(version.to_owned());
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
}

/// Google's error envelope, with a GoogleAdsFailure detail when `ads_error` is given.
pub fn google_error(
    http: u16,
    status: &str,
    message: &str,
    ads_error: Option<Value>,
) -> MockResponse {
    let mut error = json!({"code": http, "message": message, "status": status});
    if let Some(ads_error) = ads_error {
        error["details"] = json!([{
            "@type": format!("type.googleapis.com/google.ads.googleads.{API_VERSION}.errors.GoogleAdsFailure"),
            "errors": [ads_error],
            "requestId": "rq-mock-1"
        }]);
    }
    MockResponse::json(http, &json!({ "error": error }))
}

fn throttled() -> MockResponse {
    google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
        Some(json!({
            "errorCode": {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"},
            "message": "Too many requests. Retry in 1 seconds.",
            "details": {"quotaErrorDetails": {"rateScope": "ACCOUNT", "rateName": "Requests per service per method", "retryDelay": "1s"}}
        })),
    )
}

/// Google's front-end page for a path it does not serve (a sunset or unreleased version): an
/// HTML 404, not a JSON API error, as reported for retired versions in
/// google-marketing-solutions/adios#47 and cohnen/mcp-google-ads#24.
fn not_found_page(path: &str) -> MockResponse {
    let mut response = MockResponse::text(
        404,
        &format!(
            "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n  <p><b>404.</b> <ins>That’s an error.</ins>\n  <p>The requested URL <code>{path}</code> was not found on this server.  <ins>That’s all we know.</ins>\n"
        ),
    );
    response.headers = vec![("content-type".into(), "text/html; charset=UTF-8".into())];
    response
}

/// The dates of `segments.date BETWEEN 'a' AND 'b'`.
fn between(query: &str) -> Option<(i64, i64)> {
    let rest = &query[query.find("BETWEEN '")? + 9..];
    let since = parse_day(&rest[..10])?;
    let rest = &rest[rest.find("AND '")? + 5..];
    let until = parse_day(&rest[..10])?;
    Some((since, until))
}

fn query_tag(query: &str) -> u64 {
    query.bytes().fold(1469598103934665603_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    })
}

impl MockApi for GoogleAdsApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        if let Some(tokens) = &self.oauth {
            if let Some(rejection) = super::oauth_tokens::google_token_rejection(tokens, request) {
                return rejection;
            }
        } else if request.bearer() != Some(self.token.as_str()) {
            return google_error(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                None,
            );
        }
        if let Some(expected) = &self.developer_token {
            match request.header("developer-token") {
                None => {
                    return google_error(
                        400,
                        "INVALID_ARGUMENT",
                        "Request contains an invalid argument.",
                        Some(
                            json!({"errorCode": {"requestError": "DEVELOPER_TOKEN_PARAMETER_MISSING"},
                                    "message": "The developer-token parameter is required for all requests."}),
                        ),
                    );
                }
                Some(token) if token != expected => {
                    return google_error(
                        401,
                        "UNAUTHENTICATED",
                        "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                        Some(
                            json!({"errorCode": {"authenticationError": "DEVELOPER_TOKEN_INVALID"},
                                    "message": "The developer token is not valid."}),
                        ),
                    );
                }
                Some(_) => {}
            }
        }
        // Google's front end answers a version path it does not serve with 404 before it looks
        // at credentials; here the version is checked after the token, which only differs for
        // a request wrong in both.
        let version = request
            .path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        {
            let state = self.state.lock().unwrap();
            if !LIVE_VERSIONS.contains(&version) || state.sunset.iter().any(|v| v == version) {
                return not_found_page(&request.path);
            }
            if state.deprecated.iter().any(|v| v == version) {
                return google_error(
                    400,
                    "INVALID_ARGUMENT",
                    "Request contains an invalid argument.",
                    Some(json!({"errorCode": {"requestError": "UNSUPPORTED_VERSION"},
                                "message": format!("Version {version} is deprecated. Requests to this version will be blocked.")})),
                );
            }
        }
        let expected = format!("/{version}/customers/{}/googleAds:search", self.customer_id);
        if request.method != "POST" || request.path != expected {
            return google_error(
                404,
                "NOT_FOUND",
                "The requested URL was not found on this server.",
                None,
            );
        }
        if request.header("login-customer-id") != self.login_customer_id.as_deref() {
            return google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                Some(
                    json!({"errorCode": {"authorizationError": "USER_PERMISSION_DENIED"},
                            "message": "User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header."}),
                ),
            );
        }
        let body: Value = match serde_json::from_slice(&request.body) {
            Ok(body) => body,
            Err(_) => {
                return google_error(
                    400,
                    "INVALID_ARGUMENT",
                    "Invalid JSON payload received.",
                    None,
                );
            }
        };
        if body.get("pageSize").is_some() {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                Some(
                    json!({"errorCode": {"requestError": "PAGE_SIZE_NOT_SUPPORTED"}, "message": "Setting the page size is not supported."}),
                ),
            );
        }
        let query = body.get("query").and_then(Value::as_str).unwrap_or("");
        let mut state = self.state.lock().unwrap();
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return throttled();
        }
        if query.contains("FROM customer") {
            let customer = json!({"resourceName": format!("customers/{}", self.customer_id), "id": self.customer_id,
                                  "currencyCode": self.currency, "timeZone": self.time_zone});
            return MockResponse::json(
                200,
                &json!({"results": [{"customer": customer}],
                        "fieldMask": "customer.id,customer.currencyCode,customer.timeZone"}),
            );
        }
        let performance_max = query.contains("FROM campaign")
            && query.contains("campaign.advertising_channel_type = 'PERFORMANCE_MAX'");
        let Some((since, until)) = (query.contains("FROM ad_group") || performance_max)
            .then(|| between(query))
            .flatten()
        else {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                Some(
                    json!({"errorCode": {"queryError": "UNEXPECTED_END_OF_QUERY"}, "message": "The mock serves FROM customer, FROM ad_group WHERE segments.date BETWEEN and FROM campaign WHERE campaign.advertising_channel_type = 'PERFORMANCE_MAX' queries"}),
                ),
            );
        };
        let tag = query_tag(query);
        let offset = match body.get("pageToken").and_then(Value::as_str) {
            None => 0,
            Some(token) => match token
                .split_once(':')
                .and_then(|(t, o)| Some((t.parse::<u64>().ok()?, o.parse::<usize>().ok()?)))
            {
                Some((t, offset)) if t == tag => offset,
                _ => {
                    return google_error(
                        400,
                        "INVALID_ARGUMENT",
                        "Request contains an invalid argument.",
                        Some(
                            json!({"errorCode": {"requestError": "INVALID_PAGE_TOKEN"}, "message": "Page token is invalid."}),
                        ),
                    );
                }
            },
        };
        state.data_pages += 1;
        if state.fail_once_at_data_page == Some(state.data_pages) {
            state.fail_once_at_data_page = None;
            state.data_pages -= 1;
            return google_error(500, "INTERNAL", "Internal error encountered.", None);
        }
        let rows = if performance_max {
            state.performance_max.between(since, until)
        } else {
            state.ledger.between(since, until)
        };
        let start = offset.min(rows.len());
        let end = (start + self.page_size).min(rows.len());
        let first = if start > 0 {
            start.saturating_sub(state.overlap)
        } else {
            0
        };
        let results: Vec<Value> = rows[first..end]
            .iter()
            .map(|row| {
                // proto3 JSON leaves zero-valued fields out.
                let mut metrics = serde_json::Map::new();
                for (key, value) in [("clicks", row.clicks), ("costMicros", row.spend_micros), ("impressions", row.impressions)] {
                    if value != 0 {
                        metrics.insert(key.to_owned(), Value::String(value.to_string()));
                    }
                }
                let campaign = format!("customers/{}/campaigns/{}", self.customer_id, row.campaign_id);
                if performance_max {
                    json!({
                        "campaign": {"resourceName": campaign, "id": row.campaign_id, "advertisingChannelType": "PERFORMANCE_MAX"},
                        "metrics": metrics,
                        "segments": {"date": day_text(row.day)},
                    })
                } else {
                    json!({
                        "campaign": {"resourceName": campaign, "id": row.campaign_id},
                        "adGroup": {"resourceName": format!("customers/{}/adGroups/{}", self.customer_id, row.ad_id), "id": row.ad_id},
                        "metrics": metrics,
                        "segments": {"date": day_text(row.day)},
                    })
                }
            })
            .collect();
        let field_mask = if performance_max {
            "campaign.id,campaign.advertisingChannelType,segments.date,metrics.costMicros,metrics.impressions,metrics.clicks"
        } else {
            "campaign.id,adGroup.id,segments.date,metrics.costMicros,metrics.impressions,metrics.clicks"
        };
        let mut response = json!({ "fieldMask": field_mask });
        if !results.is_empty() {
            response["results"] = Value::Array(results);
        }
        if end < rows.len() {
            response["nextPageToken"] = json!(format!("{tag}:{end}"));
        }
        MockResponse::json(200, &response)
    }
}
