//! A mock of the Meta Marketing API as far as insights sync needs it, serving the versions Meta
//! serves in 2026-12 ([`LIVE_VERSIONS`]: v25.0, v26.0, v27.0 — Meta's version table; v26.0 is
//! `facebook-business` 26.0.3's `API_VERSION`) and answering any other with Meta's `(#2635) You
//! are calling a deprecated version of the Ads API`:
//! `GET act_{id}` (currency, timezone_name), synchronous `GET act_{id}/insights`, async report
//! jobs (`POST act_{id}/insights` → `report_run_id`, `GET {id}` → `async_status`,
//! `GET {id}/insights`), cursor paging whose `paging.next` is a full URL that embeds the
//! `access_token` (as Meta's does), numbers and ids as strings, and Meta's error bodies: code
//! 190 for a bad token, 400 + code 80000/subcode 2446079 with `x-business-use-case-usage` when
//! throttled, 100/1504018 for a query timeout, 500 + code 1 "Please reduce the amount of data
//! you're asking for" for a query too large.
//!
//! Like Meta, ad-level insights leave out ads whose `effective_status` is `DELETED` or
//! `ARCHIVED` unless the request's `filtering` asks for them (`[{"field":"ad.effective_status",
//! "operator":"IN","value":[…]}]`, statuses from `facebook-business` `Ad.EffectiveStatus`); with
//! a filter, only ads of the listed statuses are served. [`MetaApi::set_ad_status`] deletes or
//! archives an ad.
//!
//! `GET debug_token?input_token=…` answers what Meta says about a token (see [`TokenFacts`]);
//! [`MetaApi::refuse_token`] makes Meta refuse the token with error 190 and a subcode, and
//! [`MetaApi::accept_new_token`] stands for the user making a new one.
//!
//! Scripted misbehaviour: throttling, a data page failing once with 500, a usage header at
//! 95 %, duplicated rows across pages, a failing report job, synchronous ranges longer than N
//! days refused (as a timeout or as "reduce the amount of data"), and restated days (through
//! [`MetaApi::ledger`]).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::ad_ledger::{AdLedger, LedgerRow, day_text, parse_day};
use super::{MockApi, MockRequest, MockResponse, parse_query};

/// The version Lookback pins (`facebook-business` 26.0.3 `apiconfig.API_VERSION`).
pub const API_VERSION: &str = "v26.0";
/// The versions Meta serves as of 2026-12 (v24.0 expired 2026-11-10, v23.0 2026-06-09).
pub const LIVE_VERSIONS: &[&str] = &["v25.0", "v26.0", "v27.0"];
/// The statuses Meta's ad-level insights include when no `filtering` names others.
const DEFAULT_STATUSES: &[&str] = &[
    "ACTIVE",
    "ADSET_PAUSED",
    "CAMPAIGN_PAUSED",
    "DISAPPROVED",
    "IN_PROCESS",
    "PAUSED",
    "PENDING_BILLING_INFO",
    "PENDING_REVIEW",
    "PREAPPROVED",
    "WITH_ISSUES",
];
pub const MAX_LIMIT: usize = 5000;

/// How the mock refuses a synchronous insights range that is too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooMuchData {
    /// 500, code 1: "Please reduce the amount of data you're asking for, then retry your request".
    ReduceData,
    /// 400, code 100, subcode 1504018: "Your request timed out…".
    Timeout,
}

/// A submitted report job.
#[derive(Debug, Clone)]
struct ReportJob {
    since: i64,
    until: i64,
    /// The `effective_status` values the job's `filtering` asked for (`None`: Meta's default).
    statuses: Option<Vec<String>>,
    polls: u32,
    failed: bool,
}

/// What `debug_token` answers about the accepted token. The shape follows Meta's System User
/// example (WhatsApp docs, "Permissions" → "Checking for granted permissions"):
/// `data.{app_id, type, application, data_access_expires_at, expires_at, is_valid, issued_at,
/// scopes, granular_scopes, user_id}`, instants in Unix seconds, 0 = never.
#[derive(Debug, Clone)]
pub struct TokenFacts {
    /// `USER`, `SYSTEM_USER`, …
    pub token_type: String,
    /// Unix seconds; 0 = never.
    pub expires_at: i64,
    /// Unix seconds; 0 = never.
    pub data_access_expires_at: i64,
    pub scopes: Vec<String>,
}

impl Default for TokenFacts {
    /// A System User token with `ads_read`: never expires.
    fn default() -> Self {
        TokenFacts {
            token_type: "SYSTEM_USER".to_owned(),
            expires_at: 0,
            data_access_expires_at: 0,
            scopes: vec!["ads_read".to_owned(), "business_management".to_owned()],
        }
    }
}

/// Meta's words for the error-190 subcodes the mock sends (Meta's "Handle errors" guide).
fn token_error_message(subcode: i64) -> &'static str {
    match subcode {
        460 => {
            "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."
        }
        463 => {
            "Error validating access token: Session has expired on Saturday, 28-Feb-26 10:00:00 PST. The current time is Saturday, 28-Feb-26 12:00:00 PST."
        }
        _ => {
            "Error validating access token: The user has not authorized application 634974688087057."
        }
    }
}

#[derive(Debug, Default)]
struct MetaState {
    ledger: AdLedger,
    /// What `debug_token` says about the accepted token.
    token_facts: TokenFacts,
    /// Meta refuses the accepted token with error 190 and this subcode (expired, revoked…).
    token_refused: Option<i64>,
    /// A token made since the mock started, accepted instead of `MetaApi::token`.
    new_token: Option<String>,
    /// `debug_token` requests answered.
    token_inspections: u64,
    jobs: HashMap<String, ReportJob>,
    /// Answer this many upcoming requests with the 80000 throttling error.
    throttle_next: u32,
    /// Answer this many upcoming data requests with a query timeout (code 100/1504018).
    timeout_next: u32,
    /// Fail this 1-based data page (sync or job results) once with a 500.
    fail_once_at_data_page: Option<u64>,
    /// Send `x-ad-account-usage` at 95 % on this 1-based data page.
    high_usage_at_data_page: Option<u64>,
    /// The next submitted job fails.
    fail_next_job: bool,
    /// Polls a job answers "Job Running" before it completes.
    polls_before_complete: u32,
    /// Every page but the first repeats this many rows of the page before.
    overlap: usize,
    /// Synchronous insights ranges longer than this many days are refused, and how.
    max_sync_days: Option<(i64, TooMuchData)>,
    /// Synchronous insights requests refused for their length so far.
    refused_ranges: u64,
    data_pages: u64,
    next_job: u64,
    /// `effective_status` per ad id; an ad not listed is `ACTIVE`.
    ad_status: HashMap<String, String>,
    /// Versions retired since the mock started (on top of those not in [`LIVE_VERSIONS`]).
    retired: Vec<String>,
    /// The version path of every request, in order.
    versions_seen: Vec<String>,
}

/// The Meta API of one ad account.
pub struct MetaApi {
    pub token: String,
    /// The ad account id without `act_`.
    pub account_id: String,
    pub currency: String,
    pub timezone_name: String,
    state: Mutex<MetaState>,
}

impl MetaApi {
    pub fn new(
        token: &str,
        account_id: &str,
        currency: &str,
        timezone_name: &str,
        ledger: AdLedger,
    ) -> MetaApi {
        MetaApi {
            token: token.to_owned(),
            account_id: account_id.to_owned(),
            currency: currency.to_owned(),
            timezone_name: timezone_name.to_owned(),
            state: Mutex::new(MetaState {
                ledger,
                polls_before_complete: 1,
                ..MetaState::default()
            }),
        }
    }

    /// Reads or changes the truth (restate days, add days).
    pub fn ledger<T>(&self, f: impl FnOnce(&mut AdLedger) -> T) -> T {
        f(&mut self.state.lock().unwrap().ledger)
    }

    pub fn throttle_next(&self, requests: u32) {
        self.state.lock().unwrap().throttle_next = requests;
    }

    pub fn timeout_next(&self, requests: u32) {
        self.state.lock().unwrap().timeout_next = requests;
    }

    pub fn fail_once_at_data_page(&self, page: u64) {
        self.state.lock().unwrap().fail_once_at_data_page = Some(page);
    }

    pub fn high_usage_at_data_page(&self, page: u64) {
        self.state.lock().unwrap().high_usage_at_data_page = Some(page);
    }

    pub fn fail_next_job(&self) {
        self.state.lock().unwrap().fail_next_job = true;
    }

    pub fn overlap(&self, rows: usize) {
        self.state.lock().unwrap().overlap = rows;
    }

    /// How many polls a job answers "Job Running" (at 50 %) before it completes.
    pub fn polls_before_complete(&self, polls: u32) {
        self.state.lock().unwrap().polls_before_complete = polls;
    }

    /// Refuses synchronous insights ranges longer than `days` days (0: every range) as `how`
    /// says, as Meta does when a query would take too long.
    pub fn refuse_ranges_longer_than(&self, days: i64, how: TooMuchData) {
        self.state.lock().unwrap().max_sync_days = Some((days, how));
    }

    /// Synchronous insights requests refused for their length so far.
    pub fn refused_ranges(&self) -> u64 {
        self.state.lock().unwrap().refused_ranges
    }

    /// Report jobs submitted so far.
    pub fn jobs_submitted(&self) -> u64 {
        self.state.lock().unwrap().next_job
    }

    /// What `debug_token` says about the token from now on.
    pub fn token_facts(&self, facts: TokenFacts) {
        self.state.lock().unwrap().token_facts = facts;
    }

    /// From now on Meta refuses the token with error 190 and `subcode` (460 password changed,
    /// 463 expired, 467 invalid).
    pub fn refuse_token(&self, subcode: i64) {
        self.state.lock().unwrap().token_refused = Some(subcode);
    }

    /// The user made a new token: it is accepted (and the refused one no longer is).
    pub fn accept_new_token(&self, token: &str) {
        let mut state = self.state.lock().unwrap();
        state.new_token = Some(token.to_owned());
        state.token_refused = None;
    }

    /// `debug_token` requests answered so far.
    pub fn token_inspections(&self) -> u64 {
        self.state.lock().unwrap().token_inspections
    }

    /// Sets an ad's `effective_status` (`DELETED`, `ARCHIVED`, `PAUSED`, ...).
    pub fn set_ad_status(&self, ad_id: &str, status: &str) {
        self.state
            .lock()
            .unwrap()
            .ad_status
            .insert(ad_id.to_owned(), status.to_owned());
    }

    /// From now on, answers `version` with code 2635, as Meta does once a version expires.
    pub fn retire_version(&self, version: &str) {
        self.state.lock().unwrap().retired.push(version.to_owned());
    }

    /// The version path segment of every request so far.
    pub fn versions_seen(&self) -> Vec<String> {
        self.state.lock().unwrap().versions_seen.clone()
    }
}

/// The `effective_status` values of a request's `filtering` (`None` when it has no filter on
/// `ad.effective_status`), or Meta's error for a `filtering` that is not a JSON array of
/// `{field, operator, value}`.
fn status_filter(params: &[(String, String)]) -> Result<Option<Vec<String>>, MockResponse> {
    let Some((_, text)) = params.iter().find(|(k, _)| k == "filtering") else {
        return Ok(None);
    };
    let invalid = || {
        meta_error(
            400,
            100,
            None,
            "(#100) filtering must be a JSON array of {field, operator, value}",
        )
    };
    let Ok(Value::Array(filters)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid());
    };
    let mut statuses = None;
    for filter in &filters {
        let (Some(field), Some(operator)) = (
            filter.get("field").and_then(Value::as_str),
            filter.get("operator").and_then(Value::as_str),
        ) else {
            return Err(invalid());
        };
        if field == "ad.effective_status" {
            let values = filter.get("value").and_then(Value::as_array);
            match (operator, values) {
                ("IN", Some(values)) => {
                    statuses = Some(
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    );
                }
                _ => return Err(invalid()),
            }
        }
    }
    Ok(statuses)
}

/// Meta's error envelope.
pub fn meta_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> MockResponse {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGh123"});
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    MockResponse::json(status, &json!({ "error": error }))
}

fn throttled() -> MockResponse {
    meta_error(400, 80_000, Some(2_446_079), "(#80000) There have been too many calls from this ad-account. Wait a bit and try again.")
        .with_header(
            "x-business-use-case-usage",
            r#"{"1234567":[{"type":"ads_insights","call_count":100,"total_cputime":40,"total_time":60,"estimated_time_to_regain_access":1}]}"#,
        )
}

fn row_json(account_id: &str, row: &LedgerRow) -> Value {
    let cents = row.spend_minor(2);
    let day = day_text(row.day);
    // Meta trims trailing zeros ("5339.5"): imitate it.
    let mut spend = format!("{}.{:02}", cents / 100, cents % 100);
    while spend.ends_with('0') && spend.contains('.') {
        spend.pop();
    }
    if spend.ends_with('.') {
        spend.pop();
    }
    json!({
        "account_id": account_id,
        "campaign_id": row.campaign_id,
        "adset_id": format!("as{}", row.campaign_id),
        "ad_id": row.ad_id,
        "spend": spend,
        "impressions": row.impressions.to_string(),
        "clicks": row.clicks.to_string(),
        "date_start": day,
        "date_stop": day,
    })
}

impl MetaApi {
    /// The (since, until) of a `time_range` parameter.
    fn time_range(params: &[(String, String)]) -> Result<(i64, i64), MockResponse> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if get("level") != Some("ad") || get("time_increment") != Some("1") {
            return Err(meta_error(
                400,
                100,
                None,
                "(#100) this mock serves level=ad&time_increment=1 only",
            ));
        }
        let fields = get("fields").unwrap_or("");
        if !["spend", "ad_id", "date_start", "campaign_id"]
            .iter()
            .all(|f| fields.split(',').any(|x| x == *f))
        {
            return Err(meta_error(
                400,
                100,
                None,
                "(#100) fields must include spend, ad_id, campaign_id, date_start",
            ));
        }
        let range: Value = get("time_range")
            .and_then(|t| serde_json::from_str(t).ok())
            .ok_or_else(|| {
                meta_error(
                    400,
                    100,
                    None,
                    "(#100) time_range must be JSON {\"since\":..,\"until\":..}",
                )
            })?;
        let day = |key: &str| range.get(key).and_then(Value::as_str).and_then(parse_day);
        match (day("since"), day("until")) {
            (Some(since), Some(until)) if since <= until => Ok((since, until)),
            _ => Err(meta_error(
                400,
                100,
                None,
                "(#100) time_range since/until must be dates, since <= until",
            )),
        }
    }

    /// One page of rows of `since..=until` starting at the `after` cursor.
    fn data_page(
        &self,
        state: &mut MetaState,
        request: &MockRequest,
        since: i64,
        until: i64,
        statuses: Option<&[String]>,
    ) -> MockResponse {
        state.data_pages += 1;
        let page_number = state.data_pages;
        if state.fail_once_at_data_page == Some(page_number) {
            state.fail_once_at_data_page = None;
            state.data_pages -= 1;
            return meta_error(
                500,
                2,
                None,
                "An unexpected error has occurred. Please retry your request later.",
            );
        }
        let limit = match request.query("limit").map(str::parse::<usize>) {
            None => 25,
            Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
            Some(_) => {
                return meta_error(
                    400,
                    100,
                    None,
                    "(#100) The parameter limit must be between 1 and 5000",
                );
            }
        };
        let offset = match request.query("after") {
            None => 0,
            Some(cursor) => match cursor
                .strip_prefix("MDpj")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(offset) => offset,
                None => return meta_error(400, 100, None, "(#100) Invalid cursor"),
            },
        };
        let ad_status = &state.ad_status;
        let included = |ad: &str| {
            let status = ad_status.get(ad).map_or("ACTIVE", String::as_str);
            match statuses {
                Some(wanted) => wanted.iter().any(|s| s == status),
                None => DEFAULT_STATUSES.contains(&status),
            }
        };
        let rows: Vec<_> = state
            .ledger
            .between(since, until)
            .into_iter()
            .filter(|row| included(&row.ad_id))
            .collect();
        let start = offset.min(rows.len());
        let end = (start + limit).min(rows.len());
        let first = if start > 0 {
            start.saturating_sub(state.overlap)
        } else {
            0
        };
        let data: Vec<Value> = rows[first..end]
            .iter()
            .map(|r| row_json(&self.account_id, r))
            .collect();
        let mut paging =
            json!({"cursors": {"before": format!("MDpj{first}"), "after": format!("MDpj{end}")}});
        if end < rows.len() {
            // Meta's next link repeats every parameter, the access token included.
            let host = request.header("host").unwrap_or("127.0.0.1");
            let mut pairs: Vec<(String, String)> = request
                .query_pairs
                .iter()
                .filter(|(k, _)| k != "after")
                .cloned()
                .collect();
            pairs.push(("after".to_owned(), format!("MDpj{end}")));
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            paging["next"] = json!(format!("http://{host}{}?{}", request.path, query.join("&")));
        }
        let mut response = MockResponse::json(200, &json!({"data": data, "paging": paging}))
            .with_header(
                "x-app-usage",
                r#"{"call_count":3,"total_cputime":1,"total_time":2}"#,
            );
        if state.high_usage_at_data_page == Some(page_number) {
            state.high_usage_at_data_page = None;
            response = response.with_header("x-ad-account-usage", r#"{"acc_id_util_pct":95.2,"reset_time_duration":1,"ads_api_access_tier":"standard_access"}"#);
        }
        response
    }
}

/// Percent-encodes a query component.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The `debug_token` answer about the inspected token: the accepted token's facts, or
/// `is_valid: false` with Meta's error for any other.
fn debug_token(facts: &TokenFacts, inspects_accepted_token: bool) -> MockResponse {
    let mut data = json!({
        "app_id": "634974688087057", "type": facts.token_type, "application": "Lookback test app",
        "data_access_expires_at": facts.data_access_expires_at, "expires_at": facts.expires_at,
        "is_valid": inspects_accepted_token, "issued_at": 1_767_225_600,
        "scopes": facts.scopes,
        "granular_scopes": facts.scopes.iter().map(|s| json!({"scope": s})).collect::<Vec<_>>(),
        "user_id": "104169029247128",
    });
    if !inspects_accepted_token {
        data["error"] = json!({"code": 190, "message": token_error_message(467), "subcode": 467});
    }
    MockResponse::json(200, &json!({ "data": data }))
}

impl MockApi for MetaApi {
    fn handle(&self, request: &MockRequest) -> MockResponse {
        let (version, path) = request
            .path
            .trim_start_matches('/')
            .split_once('/')
            .map_or((request.path.trim_start_matches('/'), ""), |(v, rest)| {
                (v, rest)
            });
        let path = format!("/{path}");
        let path = path.as_str();
        {
            let mut state = self.state.lock().unwrap();
            state.versions_seen.push(version.to_owned());
            if !LIVE_VERSIONS.contains(&version) || state.retired.iter().any(|r| r == version) {
                return meta_error(
                    400,
                    2635,
                    None,
                    // The message as api-notes.md records it.
                    "(#2635) You are calling a deprecated version of the Ads API.",
                );
            }
        }
        // The token arrives as a query parameter (or in a POST body form), as Meta accepts it.
        let body_params = parse_query(&String::from_utf8_lossy(&request.body));
        let token = request.query("access_token").or_else(|| {
            body_params
                .iter()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.as_str())
        });
        let mut state = self.state.lock().unwrap();
        let accepted = state
            .new_token
            .clone()
            .unwrap_or_else(|| self.token.clone());
        if token != Some(accepted.as_str()) {
            return meta_error(
                400,
                190,
                None,
                "Invalid OAuth access token - Cannot parse access token",
            );
        }
        if let Some(subcode) = state.token_refused {
            return meta_error(400, 190, Some(subcode), token_error_message(subcode));
        }
        // Token inspection is not an ad-account call: it neither counts against nor is
        // refused by the ad account's throttling.
        if request.method == "GET" && path == "/debug_token" {
            state.token_inspections += 1;
            return debug_token(
                &state.token_facts,
                request.query("input_token") == Some(accepted.as_str()),
            );
        }
        if state.throttle_next > 0 {
            state.throttle_next -= 1;
            return throttled();
        }
        let account = format!("/act_{}", self.account_id);
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", [act]) if format!("/{act}") == account => MockResponse::json(
                200,
                &json!({"id": format!("act_{}", self.account_id), "currency": self.currency, "timezone_name": self.timezone_name}),
            ),
            ("GET", [act, "insights"]) if format!("/{act}") == account => {
                if state.timeout_next > 0 {
                    state.timeout_next -= 1;
                    return meta_error(
                        400,
                        100,
                        Some(1_504_018),
                        "Your request timed out. Please retry the request with a smaller date range.",
                    );
                }
                let statuses = match status_filter(&request.query_pairs) {
                    Ok(statuses) => statuses,
                    Err(response) => return response,
                };
                match MetaApi::time_range(&request.query_pairs) {
                    Ok((since, until)) => match state.max_sync_days {
                        Some((max, how)) if until - since + 1 > max => {
                            state.refused_ranges += 1;
                            match how {
                                TooMuchData::ReduceData => meta_error(
                                    500,
                                    1,
                                    Some(99),
                                    "Please reduce the amount of data you're asking for, then retry your request",
                                ),
                                TooMuchData::Timeout => meta_error(
                                    400,
                                    100,
                                    Some(1_504_018),
                                    "Your request timed out. Please retry the request with a smaller date range.",
                                ),
                            }
                        }
                        _ => self.data_page(&mut state, request, since, until, statuses.as_deref()),
                    },
                    Err(response) => response,
                }
            }
            ("POST", [act, "insights"]) if format!("/{act}") == account => {
                let mut params = request.query_pairs.clone();
                params.extend(body_params.iter().cloned());
                let statuses = match status_filter(&params) {
                    Ok(statuses) => statuses,
                    Err(response) => return response,
                };
                match MetaApi::time_range(&params) {
                    Ok((since, until)) => {
                        state.next_job += 1;
                        let id = format!("60000{}", state.next_job);
                        let failed = std::mem::take(&mut state.fail_next_job);
                        state.jobs.insert(
                            id.clone(),
                            ReportJob {
                                since,
                                until,
                                statuses,
                                polls: 0,
                                failed,
                            },
                        );
                        MockResponse::json(200, &json!({"report_run_id": id}))
                    }
                    Err(response) => response,
                }
            }
            ("GET", [job_id]) if state.jobs.contains_key(*job_id) => {
                let polls_before_complete = state.polls_before_complete;
                let job = state.jobs.get_mut(*job_id).expect("checked above");
                job.polls += 1;
                let (status, percent) = if job.failed {
                    ("Job Failed", 0)
                } else if job.polls <= polls_before_complete {
                    ("Job Running", 50)
                } else {
                    ("Job Completed", 100)
                };
                MockResponse::json(
                    200,
                    &json!({"id": job_id, "async_status": status, "async_percent_completion": percent}),
                )
            }
            ("GET", [job_id, "insights"]) if state.jobs.contains_key(*job_id) => {
                let job = state.jobs[*job_id].clone();
                if job.failed || job.polls <= state.polls_before_complete {
                    return meta_error(400, 100, None, "(#100) The report is not ready");
                }
                self.data_page(
                    &mut state,
                    request,
                    job.since,
                    job.until,
                    job.statuses.as_deref(),
                )
            }
            _ => meta_error(
                400,
                100,
                Some(33),
                "Unsupported get request. Object does not exist or cannot be loaded.",
            ),
        }
    }
}
