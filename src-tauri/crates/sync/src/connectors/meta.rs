//! Meta Marketing API insights: daily, ad-level spend of one ad account (`--account act_123`),
//! written to `ad_spend` with channel `paid_social`.
//!
//! A run (see [`super::ad_platform`] for the plan every ad connector follows):
//! 1. `GET act_{id}?fields=currency,timezone_name` — the account's currency and zone, copied
//!    into every record's payload under `_lookback`, because insights rows carry neither.
//! 2. The days to read, in chunks of [`CHUNK_DAYS`]. A chunk of at most [`SYNC_MAX_DAYS`] days
//!    (an incremental sync's restatement window) is read synchronously with
//!    `GET act_{id}/insights`; a longer one (a first sync's backfill) through Meta's async report
//!    jobs, which Meta asks for on large queries: `POST act_{id}/insights` → `report_run_id`,
//!    poll `GET {report_run_id}` until `async_status` is "Job Completed" at 100 %, then page
//!    `GET {report_run_id}/insights`. A failed job is asked again for half its range (down to
//!    synchronous requests, which halve themselves too when refused).
//! 3. Paging follows `paging.next` — stripped of the `access_token` Meta embeds in it (the
//!    engine adds the credential itself, after recording the URL) and only on the API's own
//!    origin — or, failing that, `paging.cursors.after`.
//!
//! Every insights request (synchronous or an async job) carries `filtering` on
//! `ad.effective_status IN` every status ([`AD_EFFECTIVE_STATUSES`]): Meta's ad-level insights
//! leave deleted and archived ads out unless asked, and their spend was real.
//!
//! Version: every URL is built on [`api_root`], the source's base URL at the pinned version of
//! [`crate::api_versions::META`]. Meta answers a retired version with code 2635 ("You are
//! calling a deprecated version of the Ads API"), which stops the stream with the
//! [`crate::SyncError::ApiVersionRetired`] message.
//!
//! Every incremental sync re-reads the last 28 days (Meta's attribution windows restate
//! them); a restated day replaces its row. The primary key of a row is
//! (`date_start`, `account_id`, `ad_id`), which is the raw event's external id.
//!
//! Throttling: Meta answers HTTP 400 with error codes 4, 17, 32, 613 or the 80000 series
//! (subcode 2446079) when a rate limit is hit — the wait comes from
//! `x-business-use-case-usage.estimated_time_to_regain_access` (minutes) when it says. When any
//! usage header reports [`USAGE_PAUSE_PERCENT`] % or more, the page is accepted and the next
//! request waits.
//!
//! Too much at once: a synchronous insights request that times out (codes 4/100 with subcodes
//! 1504022/1504018) or is refused with "Please reduce the amount of data you're asking for"
//! (code 1) is asked again for the first half of its days, recursively down to single days;
//! the rest of the run then reads chunks of that size (the days already committed are never
//! read twice, the checkpoint moves past each half as it completes). A single day that still
//! fails is retried with backoff and then dead-lettered like any failing request. Other
//! requests (the account, report jobs) are retried on a timeout.

use std::time::Duration;

use lookback_core::money::Currency;
use lookback_store::AdSpend;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ad_platform::{
    AccountContext, CONTEXT_KEY, DayChunk, DayScan, SpendCheckpoint, id_text, optional_count,
    parse_day, spend_minor,
};
use crate::SyncError;
use crate::api_versions::{META, retired_error, versioned_root};
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpMethod, HttpRequest, HttpResponse, Normalized, Page,
    RateLimit, RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, required_str};

/// The only stream: ad-level daily insights.
pub const ADS_INSIGHTS: &str = "ads_insights";
/// The Graph API host. Every request goes to its pinned version,
/// [`crate::api_versions::META`], whatever version a stored base URL names (see [`api_root`]).
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// Days per chunk of the scan (one request, or one async job).
pub const CHUNK_DAYS: u32 = 90;
/// The longest chunk read with a synchronous GET; longer ones go through an async job.
pub const SYNC_MAX_DAYS: i64 = 31;
/// The fields of an insights row the connector asks for.
pub const INSIGHT_FIELDS: &str =
    "account_id,campaign_id,adset_id,ad_id,spend,impressions,clicks,date_start,date_stop";
/// Rows per insights page when the user did not choose, and the most Lookback asks for.
pub const DEFAULT_PAGE_SIZE: u32 = 500;
pub const MAX_PAGE_SIZE: u32 = 5000;
/// A usage header at or above this percentage makes the next request wait.
pub const USAGE_PAUSE_PERCENT: f64 = 90.0;
/// The wait when usage is high and Meta did not say how long until it recovers.
pub const DEFAULT_USAGE_PAUSE: Duration = Duration::from_secs(30);
/// Polls of one async job before the run gives it up (about an hour at the longest interval).
pub const MAX_JOB_POLLS: u32 = 150;

/// Every `effective_status` an ad can have (`facebook-business` 26.0.3, `Ad.EffectiveStatus`).
/// Insights filtered on all of them include deleted and archived ads, which Meta leaves out of
/// ad-level insights by default: without this filter a backfill under-reports spend.
pub const AD_EFFECTIVE_STATUSES: &[&str] = &[
    "ACTIVE",
    "ADSET_PAUSED",
    "ARCHIVED",
    "CAMPAIGN_PAUSED",
    "DELETED",
    "DISAPPROVED",
    "IN_PROCESS",
    "PAUSED",
    "PENDING_BILLING_INFO",
    "PENDING_REVIEW",
    "PREAPPROVED",
    "WITH_ISSUES",
];
/// Meta's error code for a request to a version it no longer serves: "(#2635) You are calling
/// a deprecated version of the Ads API".
const DEPRECATED_VERSION_CODE: i64 = 2635;

const KNOWN_FIELDS: &[&str] = &[
    "account_id",
    "campaign_id",
    "adset_id",
    "ad_id",
    "spend",
    "impressions",
    "clicks",
    "date_start",
    "date_stop",
    "account_currency",
    CONTEXT_KEY,
];

/// Error subcodes of codes 4/100 that mean "the query timed out" (ask for fewer days).
const TIMEOUT_SUBCODES: &[i64] = &[1_504_022, 1_504_018];
/// The start of Meta's message for a query too large to answer (code 1): "Please reduce the
/// amount of data you're asking for, then retry your request".
const REDUCE_DATA_MESSAGE: &str = "reduce the amount of data";
/// The subcode of the 80000-series "too many calls from this ad account" errors.
const AD_ACCOUNT_THROTTLE_SUBCODE: i64 = 2_446_079;

/// `async_status` of a report job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsyncJobStatus {
    NotStarted,
    Started,
    Running,
    Completed,
    Failed,
    Skipped,
    Unknown(String),
}

impl AsyncJobStatus {
    pub fn parse(text: &str) -> AsyncJobStatus {
        match text {
            "Job Not Started" => AsyncJobStatus::NotStarted,
            "Job Started" => AsyncJobStatus::Started,
            "Job Running" => AsyncJobStatus::Running,
            "Job Completed" => AsyncJobStatus::Completed,
            "Job Failed" => AsyncJobStatus::Failed,
            "Job Skipped" => AsyncJobStatus::Skipped,
            other => AsyncJobStatus::Unknown(other.to_owned()),
        }
    }
}

/// Where a run is. Everything a later step needs (the account context, the scan) travels in
/// the position, so the connector stays stateless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum MetaPosition {
    /// Read the account; then plan the days from the stored checkpoint.
    Account { checkpoint: Option<SpendCheckpoint> },
    /// A synchronous insights page of the chunk; `next: None` is its first page.
    Insights {
        account: AccountContext,
        scan: DayScan,
        chunk: DayChunk,
        next: Option<NextPage>,
        /// Days per chunk for the rest of the run: [`CHUNK_DAYS`], or less once Meta said a
        /// range was too much (see [`MetaConnector::smaller_position`]).
        #[serde(default = "default_chunk_days")]
        chunk_days: u32,
    },
    /// Submit an async report job for the chunk.
    StartJob {
        account: AccountContext,
        scan: DayScan,
        chunk: DayChunk,
    },
    PollJob {
        account: AccountContext,
        scan: DayScan,
        chunk: DayChunk,
        report_run_id: String,
        polls: u32,
    },
    JobResults {
        account: AccountContext,
        scan: DayScan,
        chunk: DayChunk,
        report_run_id: String,
        next: Option<NextPage>,
    },
}

/// How to fetch the page after this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum NextPage {
    /// Meta's `paging.next`, on the API's origin, without the token Meta embeds in it.
    Url(String),
    /// `paging.cursors.after`, for our own URL.
    After(String),
}

/// The Meta Marketing API insights connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetaConnector;

impl Connector for MetaConnector {
    fn kind(&self) -> &'static str {
        "meta"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[ADS_INSIGHTS]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some(DEFAULT_BASE_URL)
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::QueryParameter("access_token")
    }

    fn default_rate_limit(&self) -> RateLimit {
        // Insights calls are the expensive kind in Meta's ad-account quota; a steady trickle
        // keeps the usage headers low, and Meta's own signals slow us further when they rise.
        RateLimit {
            requests_per_second: 2.0,
            burst: 4,
        }
    }

    fn default_restatement_days(&self) -> u32 {
        28
    }

    fn default_page_size(&self) -> u32 {
        DEFAULT_PAGE_SIZE
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
        Ok(Some(to_text(&MetaPosition::Account { checkpoint })))
    }

    fn page_request(
        &self,
        context: &SourceContext,
        _: &str,
        position: &str,
    ) -> Result<HttpRequest, SyncError> {
        let account_path = format!("{}/act_{}", api_root(context), account_id(context)?);
        let limit = context.page_size.clamp(1, MAX_PAGE_SIZE).to_string();
        let request = match from_text(position).map_err(connector_error)? {
            MetaPosition::Account { .. } => HttpRequest::get(url_with(
                &account_path,
                &[("fields", "currency,timezone_name")],
            )?),
            MetaPosition::Insights {
                next: Some(NextPage::Url(url)),
                ..
            }
            | MetaPosition::JobResults {
                next: Some(NextPage::Url(url)),
                ..
            } => HttpRequest::get(url),
            MetaPosition::Insights { chunk, next, .. } => {
                let mut pairs = insight_params(&chunk);
                pairs.push(("limit".to_owned(), limit));
                if let Some(NextPage::After(after)) = next {
                    pairs.push(("after".to_owned(), after));
                }
                HttpRequest::get(url_with_owned(&format!("{account_path}/insights"), &pairs)?)
            }
            MetaPosition::StartJob { chunk, .. } => {
                let body = insight_params(&chunk)
                    .iter()
                    .fold(
                        reqwest::Url::parse("http://form.invalid/").expect("static URL"),
                        |mut url, (k, v)| {
                            url.query_pairs_mut().append_pair(k, v);
                            url
                        },
                    )
                    .query()
                    .unwrap_or("")
                    .to_owned();
                HttpRequest {
                    method: HttpMethod::Post,
                    url: format!("{account_path}/insights"),
                    headers: Vec::new(),
                    body: Some(body),
                    content_type: Some("application/x-www-form-urlencoded"),
                }
            }
            MetaPosition::PollJob { report_run_id, .. } => HttpRequest::get(url_with(
                &format!("{}/{}", api_root(context), path_segment(&report_run_id)?),
                &[("fields", "id,async_status,async_percent_completion")],
            )?),
            MetaPosition::JobResults {
                report_run_id,
                next,
                ..
            } => {
                let mut pairs = vec![("limit".to_owned(), limit)];
                if let Some(NextPage::After(after)) = next {
                    pairs.push(("after".to_owned(), after));
                }
                HttpRequest::get(url_with_owned(
                    &format!(
                        "{}/{}/insights",
                        api_root(context),
                        path_segment(&report_run_id)?
                    ),
                    &pairs,
                )?)
            }
        };
        Ok(request)
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
            return default_verdict(response);
        };
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        let subcode = error
            .get("error_subcode")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let detail = format!(
            "HTTP {}, Meta error {code}/{subcode}: {message}",
            response.status
        );
        match code {
            // OAuthException 190, whatever the subcode (460 password changed, 463 expired, 467
            // invalid, …): the token must be replaced — the source needs reconnecting.
            190 => ResponseVerdict::Unauthorized {
                detail: format!("{detail} ({})", super::meta_token::token_problem(subcode)),
            },
            // A session key that no longer works; no permission on the ad account.
            102 | 10 | 200..=299 => ResponseVerdict::Unauthorized { detail },
            // The pinned version is retired: one clear error instead of a generic failure.
            DEPRECATED_VERSION_CODE => ResponseVerdict::Fatal {
                detail: format!("{} ({detail})", retired_error(&META)),
            },
            4 | 100 if TIMEOUT_SUBCODES.contains(&subcode) => ResponseVerdict::TooLarge {
                detail: format!("{detail} (query timed out)"),
            },
            1 if message.to_ascii_lowercase().contains(REDUCE_DATA_MESSAGE) => {
                ResponseVerdict::TooLarge { detail }
            }
            4 | 17 | 32 | 613 | 80_000..=80_099 => ResponseVerdict::Throttled {
                wait: regain_access_wait(response),
                detail,
            },
            _ if subcode == AD_ACCOUNT_THROTTLE_SUBCODE => ResponseVerdict::Throttled {
                wait: regain_access_wait(response),
                detail,
            },
            // Meta marks temporary failures (code 1 "unknown error", 2 "service unavailable").
            _ if error.get("is_transient").and_then(Value::as_bool) == Some(true)
                || matches!(code, 1 | 2) =>
            {
                ResponseVerdict::Transient { detail }
            }
            _ if response.status == 401 || response.status == 403 => {
                ResponseVerdict::Unauthorized { detail }
            }
            _ if response.status >= 500 || response.status == 408 => {
                ResponseVerdict::Transient { detail }
            }
            _ => ResponseVerdict::Fatal { detail },
        }
    }

    fn parse_page(
        &self,
        context: &SourceContext,
        _: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        let pause_before_next = usage_pause(response);
        let body: Value = response.json().map_err(|e| e.to_string())?;
        let mut page = match from_text(position)? {
            MetaPosition::Account { checkpoint } => {
                let currency = body
                    .get("currency")
                    .and_then(Value::as_str)
                    .ok_or("the ad account has no currency")?;
                let zone = body
                    .get("timezone_name")
                    .and_then(Value::as_str)
                    .ok_or("the ad account has no timezone_name")?;
                let account_id = account_id(context).map_err(|e| e.to_string())?;
                let account = AccountContext::checked(account_id, currency, zone)?;
                let scan = DayScan::plan(
                    checkpoint.as_ref(),
                    account.today(context.now_ms)?,
                    context.restatement_days,
                )?;
                let (next, checkpoint) = first_step_of_chunk(account, scan, CHUNK_DAYS)?;
                Page {
                    records: Vec::new(),
                    checkpoint,
                    next,
                    pause_before_next: None,
                }
            }
            MetaPosition::StartJob {
                account,
                scan,
                chunk,
            } => {
                let report_run_id = body
                    .get("report_run_id")
                    .and_then(id_value)
                    .ok_or("the job submission returned no report_run_id")?;
                let checkpoint = scan.scanning().to_text();
                let next = MetaPosition::PollJob {
                    account,
                    scan,
                    chunk,
                    report_run_id,
                    polls: 0,
                };
                Page {
                    records: Vec::new(),
                    checkpoint,
                    next: Some(to_text(&next)),
                    pause_before_next: Some(Duration::from_secs(1)),
                }
            }
            MetaPosition::PollJob {
                account,
                scan,
                chunk,
                report_run_id,
                polls,
            } => {
                let status = AsyncJobStatus::parse(
                    body.get("async_status")
                        .and_then(Value::as_str)
                        .unwrap_or(""),
                );
                let percent = body
                    .get("async_percent_completion")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                let checkpoint = scan.scanning().to_text();
                match status {
                    // Meta documents that "Completed" can precede 100 %; the results are only
                    // whole at 100.
                    AsyncJobStatus::Completed if percent >= 100.0 => {
                        let next = MetaPosition::JobResults {
                            account,
                            scan,
                            chunk,
                            report_run_id,
                            next: None,
                        };
                        Page {
                            records: Vec::new(),
                            checkpoint,
                            next: Some(to_text(&next)),
                            pause_before_next: None,
                        }
                    }
                    AsyncJobStatus::Failed | AsyncJobStatus::Skipped => {
                        // Meta fails jobs it cannot finish, typically too much data: ask again
                        // for the first half of the range (a synchronous request once it is
                        // short enough, which halves itself in turn), and read the rest of the
                        // scan in chunks of that size — the rule for a refused synchronous range.
                        let days = chunk.days()?;
                        if days <= 1 {
                            return Err(format!(
                                "Meta report job {report_run_id} for {}..{} ended with {status:?}; the next sync submits it again",
                                chunk.since, chunk.until
                            ));
                        }
                        let (next, checkpoint) = first_step_of_chunk(
                            account,
                            scan,
                            u32::try_from((days + 1) / 2).unwrap_or(u32::MAX),
                        )?;
                        Page {
                            records: Vec::new(),
                            checkpoint,
                            next,
                            pause_before_next: None,
                        }
                    }
                    _ if polls >= MAX_JOB_POLLS => {
                        return Err(format!(
                            "Meta report job {report_run_id} for {}..{} was still {status:?} at {percent}% after {polls} polls",
                            chunk.since, chunk.until
                        ));
                    }
                    // Still running (or a status this connector does not know yet): poll again,
                    // less often the longer the job takes.
                    _ => {
                        let wait = Duration::from_secs((1u64 << polls.min(5)).min(30));
                        let next = MetaPosition::PollJob {
                            account,
                            scan,
                            chunk,
                            report_run_id,
                            polls: polls + 1,
                        };
                        Page {
                            records: Vec::new(),
                            checkpoint,
                            next: Some(to_text(&next)),
                            pause_before_next: Some(wait),
                        }
                    }
                }
            }
            MetaPosition::Insights {
                account,
                scan,
                chunk,
                chunk_days,
                ..
            } => {
                let (records, next_page) =
                    insight_rows(context, &account, &chunk, &body, position)?;
                match next_page {
                    Some(page) => {
                        let next = MetaPosition::Insights {
                            account,
                            scan: scan.clone(),
                            chunk: chunk.clone(),
                            next: Some(page),
                            chunk_days,
                        };
                        Page {
                            records,
                            checkpoint: scan.checkpoint(&chunk, false)?.to_text(),
                            next: Some(to_text(&next)),
                            pause_before_next: None,
                        }
                    }
                    None => chunk_done(account, &scan, &chunk, records, chunk_days)?,
                }
            }
            MetaPosition::JobResults {
                account,
                scan,
                chunk,
                report_run_id,
                ..
            } => {
                let (records, next_page) =
                    insight_rows(context, &account, &chunk, &body, position)?;
                match next_page {
                    Some(page) => {
                        let checkpoint = scan.checkpoint(&chunk, false)?.to_text();
                        let next = MetaPosition::JobResults {
                            account,
                            scan,
                            chunk,
                            report_run_id,
                            next: Some(page),
                        };
                        Page {
                            records,
                            checkpoint,
                            next: Some(to_text(&next)),
                            pause_before_next: None,
                        }
                    }
                    None => chunk_done(account, &scan, &chunk, records, CHUNK_DAYS)?,
                }
            }
        };
        // A usage header near its limit slows the next request down, whatever step this was.
        if let Some(pause) = pause_before_next {
            page.pause_before_next = Some(page.pause_before_next.map_or(pause, |p| p.max(pause)));
        }
        Ok(page)
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
        let day = required_str(record, "date_start")?;
        parse_day(day).map_err(|e| RecordProblem::new(format!("field date_start: {e}")))?;
        if let Some(stop) = record.get("date_stop").and_then(Value::as_str)
            && stop != day
        {
            return Err(RecordProblem::new(format!(
                "the row covers {day}..{stop}, not one day; it was not requested with time_increment=1"
            )));
        }
        let spend = spend_minor("spend", required_str(record, "spend")?, currency)?;
        let account_id = match record.get("account_id") {
            None | Some(Value::Null) => account.account_id.clone(),
            Some(_) => id_text(record, "account_id")?,
        };
        let row = AdSpend {
            platform: "meta".to_owned(),
            account_id,
            campaign_id: id_text(record, "campaign_id")?,
            ad_id: id_text(record, "ad_id")?,
            day: day.to_owned(),
            account_timezone: account.account_timezone,
            channel: "paid_social".to_owned(),
            creator_id: None,
            spend_minor: spend,
            currency: account.currency,
            impressions: optional_count(record, "impressions")?,
            clicks: optional_count(record, "clicks")?,
            source: context.source_id.clone(),
            raw_event_id: None,
            updated_at_ms: context.now_ms,
        };
        Ok(Normalized {
            rows: vec![CanonicalRow::AdSpend(row)],
            unknown_fields: count_unknown(record, KNOWN_FIELDS),
        })
    }

    fn smaller_position(&self, _: &SourceContext, _: &str, position: &str) -> Option<String> {
        first_half(position)
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        let url = url_with(
            &format!("{}/act_{}", api_root(context), account_id(context)?),
            &[("fields", "currency,timezone_name")],
        )?;
        Ok(HttpRequest::get(url))
    }
}

fn default_chunk_days() -> u32 {
    CHUNK_DAYS
}

/// The first half (rounded up) of a synchronous insights request's days, as a fresh request
/// whose size the rest of the run keeps; `None` for a single day or any other step.
fn first_half(position: &str) -> Option<String> {
    let MetaPosition::Insights {
        account,
        scan,
        chunk,
        ..
    } = from_text(position).ok()?
    else {
        return None;
    };
    let days = chunk.days().ok()?;
    if days <= 1 {
        return None;
    }
    let half = u32::try_from((days + 1) / 2).ok()?;
    // The chunk starts at `scan.resume_from`, so the scan's next chunk of `half` days is the
    // first half of this one.
    let half_chunk = scan.chunk(half).ok()??;
    Some(to_text(&MetaPosition::Insights {
        account,
        scan,
        chunk: half_chunk,
        next: None,
        chunk_days: half,
    }))
}

fn connector_error(detail: String) -> SyncError {
    SyncError::Connector {
        connector: "meta",
        detail,
    }
}

fn to_text(position: &MetaPosition) -> String {
    serde_json::to_string(position).expect("a position serializes")
}

fn from_text(text: &str) -> Result<MetaPosition, String> {
    serde_json::from_str(text).map_err(|e| format!("bad position {text:?}: {e}"))
}

/// The numeric ad account id of `--account` (`act_123` or `123`).
fn account_id(context: &SourceContext) -> Result<String, SyncError> {
    let raw = context.account.as_deref().map(str::trim).unwrap_or("");
    let id = raw.strip_prefix("act_").unwrap_or(raw);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SyncError::InvalidSource {
            detail: format!(
                "a meta source needs --account act_<digits> (the ad account id), not {raw:?}"
            ),
        });
    }
    Ok(id.to_owned())
}

/// An id that is safe to put into a URL path as it is.
fn path_segment(id: &str) -> Result<&str, SyncError> {
    if !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(id)
    } else {
        Err(connector_error(format!(
            "report_run_id {id:?} is not a plain id"
        )))
    }
}

/// An id Meta may send as a string or a number.
fn id_value(value: &Value) -> Option<String> {
    match value {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn url_with(base: &str, pairs: &[(&str, &str)]) -> Result<String, SyncError> {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    url_with_owned(base, &owned)
}

fn url_with_owned(base: &str, pairs: &[(String, String)]) -> Result<String, SyncError> {
    let mut url =
        reqwest::Url::parse(base).map_err(|e| connector_error(format!("base URL: {e}")))?;
    url.query_pairs_mut()
        .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok(url.to_string())
}

/// The API root every request goes to: the source's base URL at the pinned version.
pub fn api_root(context: &SourceContext) -> String {
    versioned_root(&context.base_url, META.version.unwrap_or_default())
}

/// The insights parameters of a chunk: ad level, one row per day, ads of every status.
fn insight_params(chunk: &DayChunk) -> Vec<(String, String)> {
    let every_status = json!([{
        "field": "ad.effective_status",
        "operator": "IN",
        "value": AD_EFFECTIVE_STATUSES,
    }]);
    vec![
        ("level".to_owned(), "ad".to_owned()),
        ("time_increment".to_owned(), "1".to_owned()),
        (
            "time_range".to_owned(),
            json!({"since": chunk.since, "until": chunk.until}).to_string(),
        ),
        ("fields".to_owned(), INSIGHT_FIELDS.to_owned()),
        ("filtering".to_owned(), every_status.to_string()),
    ]
}

/// The first request of the scan's next chunk of at most `chunk_days` days (sync GET or async
/// job by its length) and the checkpoint to store now; no next request when the scan is done.
fn first_step_of_chunk(
    account: AccountContext,
    scan: DayScan,
    chunk_days: u32,
) -> Result<(Option<String>, String), String> {
    let Some(chunk) = scan.chunk(chunk_days)? else {
        return Ok((
            None,
            SpendCheckpoint::Finished {
                synced_through: scan.until.clone(),
            }
            .to_text(),
        ));
    };
    let checkpoint = scan.scanning().to_text();
    let next = if chunk.days()? <= SYNC_MAX_DAYS {
        MetaPosition::Insights {
            account,
            scan,
            chunk,
            next: None,
            chunk_days,
        }
    } else {
        MetaPosition::StartJob {
            account,
            scan,
            chunk,
        }
    };
    Ok((Some(to_text(&next)), checkpoint))
}

/// The page that ends a chunk: its records, the checkpoint past the chunk, the next chunk (of
/// at most `chunk_days` days).
fn chunk_done(
    account: AccountContext,
    scan: &DayScan,
    chunk: &DayChunk,
    records: Vec<RawRecord>,
    chunk_days: u32,
) -> Result<Page, String> {
    let checkpoint = scan.checkpoint(chunk, true)?.to_text();
    let (next, _) = first_step_of_chunk(account, scan.after(chunk)?, chunk_days)?;
    Ok(Page {
        records,
        checkpoint,
        next,
        pause_before_next: None,
    })
}

/// The rows of an insights page (with the account context attached) and how to get the next
/// page, if there is one.
fn insight_rows(
    context: &SourceContext,
    account: &AccountContext,
    chunk: &DayChunk,
    body: &Value,
    position: &str,
) -> Result<(Vec<RawRecord>, Option<NextPage>), String> {
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or("the page has no data array")?;
    let records = data
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let field = |name: &str| row.get(name).and_then(id_value);
            let external_id = match (
                field("date_start"),
                field("account_id").or_else(|| Some(account.account_id.clone())),
                field("ad_id"),
            ) {
                (Some(day), Some(account_id), Some(ad)) => format!("{day}|{account_id}|{ad}"),
                // Never drop a row without its key: a positional id takes it to a dead letter.
                _ => format!(
                    "(no date_start/ad_id: {}..{} item {index} of page {})",
                    chunk.since,
                    chunk.until,
                    short_hash(position)
                ),
            };
            RawRecord {
                external_id,
                payload: account.attach(row.clone()),
            }
        })
        .collect();
    let paging = body.get("paging");
    let next = paging
        .and_then(|p| p.get("next"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    let after = paging
        .and_then(|p| p.pointer("/cursors/after"))
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty());
    let next_page = match next {
        None => None,
        // Meta's own next URL, on the API's origin and without the token it embeds; a next URL
        // elsewhere is not followed (the credential would go with it): the cursor is used on
        // our own URL instead.
        Some(next) => match same_origin_without_token(context, next) {
            Some(url) => Some(NextPage::Url(url)),
            None => Some(NextPage::After(
                after
                    .ok_or(
                        "paging.next points outside the API and there is no paging.cursors.after",
                    )?
                    .to_owned(),
            )),
        },
    };
    Ok((records, next_page))
}

/// `next` with Meta's embedded `access_token` removed, if it is on the same origin as the
/// configured API root.
fn same_origin_without_token(context: &SourceContext, next: &str) -> Option<String> {
    let base = reqwest::Url::parse(&context.base_url).ok()?;
    let mut url = reqwest::Url::parse(next).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "access_token" && k != "appsecret_proof")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    if !kept.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(kept.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    }
    Some(url.to_string())
}

fn short_hash(text: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..6])
}

/// A number Meta may send as a JSON number or a numeric string.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The headers' JSON values, when present and readable.
fn header_json(response: &HttpResponse, name: &str) -> Option<Value> {
    serde_json::from_str(response.header(name)?).ok()
}

/// The objects of `x-business-use-case-usage`: `{"<business id>": [{type, call_count, ...}]}`.
fn business_use_cases(response: &HttpResponse) -> Vec<Value> {
    match header_json(response, "x-business-use-case-usage") {
        Some(Value::Object(map)) => map
            .into_values()
            .flat_map(|v| v.as_array().cloned().unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    }
}

/// How long Meta says to wait before the quota recovers: the largest
/// `estimated_time_to_regain_access` (minutes) or `reset_time_duration` (seconds), if any is
/// above zero.
fn regain_access_wait(response: &HttpResponse) -> Option<Duration> {
    let minutes = business_use_cases(response)
        .iter()
        .filter_map(|case| case.get("estimated_time_to_regain_access").and_then(number))
        .fold(0.0_f64, f64::max);
    let seconds = header_json(response, "x-ad-account-usage")
        .and_then(|usage| usage.get("reset_time_duration").and_then(number))
        .unwrap_or(0.0);
    let wait = (minutes * 60.0).max(seconds);
    (wait.is_finite() && wait > 0.0).then(|| Duration::from_secs_f64(wait))
}

/// The highest usage percentage any of Meta's usage headers reports.
fn usage_percent(response: &HttpResponse) -> f64 {
    let mut highest = 0.0_f64;
    let mut take = |value: Option<&Value>| {
        if let Some(pct) = value.and_then(number) {
            highest = highest.max(pct);
        }
    };
    for case in business_use_cases(response) {
        for key in ["call_count", "total_cputime", "total_time"] {
            take(case.get(key));
        }
    }
    if let Some(app) = header_json(response, "x-app-usage") {
        for key in ["call_count", "total_cputime", "total_time"] {
            take(app.get(key));
        }
    }
    if let Some(account) = header_json(response, "x-ad-account-usage") {
        take(account.get("acc_id_util_pct"));
    }
    if let Some(insights) = header_json(response, "x-fb-ads-insights-throttle") {
        take(insights.get("app_id_util_pct"));
        take(insights.get("acc_id_util_pct"));
    }
    highest
}

/// The pause before the next request when usage is at or above [`USAGE_PAUSE_PERCENT`].
fn usage_pause(response: &HttpResponse) -> Option<Duration> {
    (usage_percent(response) >= USAGE_PAUSE_PERCENT)
        .then(|| regain_access_wait(response).unwrap_or(DEFAULT_USAGE_PAUSE))
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::*;

    fn context() -> SourceContext {
        SourceContext {
            source_id: "meta".into(),
            source_name: "meta".into(),
            base_url: DEFAULT_BASE_URL.into(),
            account: Some("act_123".into()),
            restatement_days: 28,
            page_size: 500,
            now_ms: 1_772_323_200_000,
        }
    }

    fn response(status: u16, headers: &[(&'static str, &str)], body: Value) -> HttpResponse {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        HttpResponse {
            status,
            headers: map,
            body: body.to_string().into_bytes(),
        }
    }

    fn error(code: i64, subcode: i64) -> Value {
        json!({"error": {"message": "(#80000) There have been too many calls", "type": "OAuthException", "code": code, "error_subcode": subcode, "fbtrace_id": "x"}})
    }

    #[test]
    fn rate_limit_codes_are_throttled_with_metas_wait_and_timeouts_ask_for_less() {
        let usage = r#"{"111":[{"type":"ads_insights","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":3}]}"#;
        let verdict = MetaConnector.check_response(
            &context(),
            ADS_INSIGHTS,
            &response(
                400,
                &[("x-business-use-case-usage", usage)],
                error(80_000, 2_446_079),
            ),
        );
        assert!(
            matches!(verdict, ResponseVerdict::Throttled { wait: Some(w), .. } if w == Duration::from_secs(180)),
            "{verdict:?}"
        );
        for code in [4, 17, 613, 80_004] {
            let verdict = MetaConnector.check_response(
                &context(),
                ADS_INSIGHTS,
                &response(400, &[], error(code, 0)),
            );
            assert!(
                matches!(verdict, ResponseVerdict::Throttled { wait: None, .. }),
                "{code}: {verdict:?}"
            );
        }
        let verdict = MetaConnector.check_response(
            &context(),
            ADS_INSIGHTS,
            &response(400, &[], error(100, 1_504_022)),
        );
        assert!(
            matches!(verdict, ResponseVerdict::TooLarge { .. }),
            "{verdict:?}"
        );
        let reduce = json!({"error": {"message": "Please reduce the amount of data you're asking for, then retry your request", "type": "OAuthException", "code": 1, "error_subcode": 99, "fbtrace_id": "x"}});
        let verdict =
            MetaConnector.check_response(&context(), ADS_INSIGHTS, &response(500, &[], reduce));
        assert!(
            matches!(verdict, ResponseVerdict::TooLarge { .. }),
            "{verdict:?}"
        );
        // Error 190 means "reconnect" whatever its subcode, and says what happened.
        for (subcode, words) in [
            (460, "the password changed"),
            (463, "the token expired"),
            (467, "the token is invalid"),
            (0, "the token is invalid or was revoked"),
        ] {
            let verdict = MetaConnector.check_response(
                &context(),
                ADS_INSIGHTS,
                &response(400, &[], error(190, subcode)),
            );
            assert!(
                matches!(&verdict, ResponseVerdict::Unauthorized { detail } if detail.contains(words)),
                "{subcode}: {verdict:?}"
            );
        }
        let verdict = MetaConnector.check_response(
            &context(),
            ADS_INSIGHTS,
            &response(400, &[], error(100, 0)),
        );
        assert!(
            matches!(verdict, ResponseVerdict::Fatal { .. }),
            "{verdict:?}"
        );
    }

    #[test]
    fn every_insights_request_asks_for_ads_of_every_status_and_the_pinned_version() {
        let account = AccountContext::checked("123".into(), "USD", "UTC").unwrap();
        let scan = DayScan {
            since: "2026-01-01".into(),
            until: "2026-01-10".into(),
            resume_from: "2026-01-01".into(),
        };
        let chunk = scan.chunk(10).unwrap().unwrap();
        let sync = to_text(&MetaPosition::Insights {
            account: account.clone(),
            scan: scan.clone(),
            chunk: chunk.clone(),
            next: None,
            chunk_days: CHUNK_DAYS,
        });
        let job = to_text(&MetaPosition::StartJob {
            account,
            scan,
            chunk,
        });
        // A base URL naming an older version still asks for the pinned one.
        let old_base = SourceContext {
            base_url: "https://graph.facebook.com/v23.0".into(),
            ..context()
        };
        for position in [sync, job] {
            let request = MetaConnector
                .page_request(&old_base, ADS_INSIGHTS, &position)
                .unwrap();
            assert!(
                request
                    .url
                    .starts_with("https://graph.facebook.com/v26.0/act_123/insights"),
                "{}",
                request.url
            );
            let query = request.body.clone().unwrap_or_else(|| {
                reqwest::Url::parse(&request.url)
                    .unwrap()
                    .query()
                    .unwrap()
                    .to_owned()
            });
            let filtering: Value = reqwest::Url::parse(&format!("http://x/?{query}"))
                .unwrap()
                .query_pairs()
                .find(|(k, _)| k == "filtering")
                .map(|(_, v)| serde_json::from_str(&v).unwrap())
                .expect("a filtering parameter");
            assert_eq!(filtering[0]["field"], "ad.effective_status");
            assert_eq!(filtering[0]["operator"], "IN");
            let statuses = filtering[0]["value"].as_array().unwrap();
            for status in ["ACTIVE", "PAUSED", "DELETED", "ARCHIVED"] {
                assert!(statuses.iter().any(|s| s == status), "{status}");
            }
        }
    }

    #[test]
    fn a_row_without_the_optional_fields_still_lands() {
        // Every insights field is optional in `facebook-business` (AdsInsights): without
        // account_id the account of the request is the row's; without counts they are unknown.
        let account = AccountContext::checked("123".into(), "USD", "UTC").unwrap();
        let row = account.attach(
            json!({"campaign_id": "2385", "ad_id": "2386", "date_start": "2026-02-01", "spend": "1.5"}),
        );
        let normalized = MetaConnector
            .normalize(&context(), ADS_INSIGHTS, &row)
            .unwrap();
        let [CanonicalRow::AdSpend(spend)] = normalized.rows.as_slice() else {
            panic!("{normalized:?}")
        };
        assert_eq!(
            (
                spend.account_id.as_str(),
                spend.spend_minor,
                spend.impressions,
                spend.clicks
            ),
            ("123", 150, None, None)
        );
        // Without spend there is no amount to store: a dead letter that names the field.
        let no_spend = account
            .attach(json!({"campaign_id": "2385", "ad_id": "2386", "date_start": "2026-02-01"}));
        let problem = MetaConnector
            .normalize(&context(), ADS_INSIGHTS, &no_spend)
            .unwrap_err();
        assert!(problem.reason.contains("spend"), "{}", problem.reason);
    }

    #[test]
    fn a_retired_version_is_one_clear_error() {
        let body = json!({"error": {"message": "(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version: v26.0.", "type": "OAuthException", "code": 2635, "fbtrace_id": "x"}});
        let verdict =
            MetaConnector.check_response(&context(), ADS_INSIGHTS, &response(400, &[], body));
        let ResponseVerdict::Fatal { detail } = verdict else {
            panic!("{verdict:?}")
        };
        assert!(
            detail.starts_with("Meta retired API version v26.0; this Lookback needs an update"),
            "{detail}"
        );
    }

    #[test]
    fn a_range_too_large_is_halved_down_to_single_days() {
        let account = AccountContext::checked("123".into(), "USD", "UTC").unwrap();
        let scan = DayScan {
            since: "2026-01-01".into(),
            until: "2026-01-29".into(),
            resume_from: "2026-01-01".into(),
        };
        let chunk = scan.chunk(29).unwrap().unwrap();
        let mut position = to_text(&MetaPosition::Insights {
            account,
            scan,
            chunk,
            next: Some(NextPage::After("MDpj100".into())),
            chunk_days: CHUNK_DAYS,
        });
        let mut seen = Vec::new();
        while let Some(smaller) =
            MetaConnector.smaller_position(&context(), ADS_INSIGHTS, &position)
        {
            let MetaPosition::Insights {
                chunk,
                next,
                chunk_days,
                ..
            } = from_text(&smaller).unwrap()
            else {
                panic!("{smaller}")
            };
            assert_eq!(next, None, "a smaller range starts at its first page");
            assert_eq!(chunk.days().unwrap(), i64::from(chunk_days));
            seen.push((chunk.since.clone(), chunk.until.clone()));
            position = smaller;
        }
        assert_eq!(
            seen,
            [
                ("2026-01-01", "2026-01-15"),
                ("2026-01-01", "2026-01-08"),
                ("2026-01-01", "2026-01-04"),
                ("2026-01-01", "2026-01-02"),
                ("2026-01-01", "2026-01-01"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn high_usage_pauses_the_next_request() {
        let quiet = response(
            200,
            &[(
                "x-app-usage",
                r#"{"call_count":10,"total_cputime":5,"total_time":5}"#,
            )],
            json!({}),
        );
        assert_eq!(usage_pause(&quiet), None);
        let busy = response(
            200,
            &[(
                "x-ad-account-usage",
                r#"{"acc_id_util_pct":95.5,"reset_time_duration":40}"#,
            )],
            json!({}),
        );
        assert_eq!(usage_pause(&busy), Some(Duration::from_secs(40)));
        let busy_no_time = response(
            200,
            &[(
                "x-fb-ads-insights-throttle",
                r#"{"app_id_util_pct":91,"acc_id_util_pct":3}"#,
            )],
            json!({}),
        );
        assert_eq!(usage_pause(&busy_no_time), Some(DEFAULT_USAGE_PAUSE));
    }

    #[test]
    fn the_token_meta_embeds_in_paging_next_is_dropped_and_other_hosts_are_refused() {
        let next = "https://graph.facebook.com/v26.0/act_123/insights?access_token=SECRET&limit=500&after=QVFI";
        let kept = same_origin_without_token(&context(), next).unwrap();
        assert!(
            !kept.contains("SECRET") && kept.contains("after=QVFI"),
            "{kept}"
        );
        assert_eq!(
            same_origin_without_token(&context(), "https://evil.example/act_123/insights?after=x"),
            None
        );
    }

    #[test]
    fn a_row_becomes_a_day_of_spend_in_the_accounts_zone_and_currency() {
        let account = AccountContext::checked("123".into(), "USD", "America/Los_Angeles").unwrap();
        let row = account.attach(json!({"account_id":"123","campaign_id":"2385","adset_id":"9","ad_id":"2386","date_start":"2025-03-14","date_stop":"2025-03-14","impressions":"361324","clicks":"812","spend":"5339.5"}));
        let normalized = MetaConnector
            .normalize(&context(), ADS_INSIGHTS, &row)
            .unwrap();
        let [CanonicalRow::AdSpend(spend)] = normalized.rows.as_slice() else {
            panic!("{normalized:?}")
        };
        assert_eq!(spend.spend_minor, 533_950);
        assert_eq!(
            (
                spend.currency.as_str(),
                spend.account_timezone.as_str(),
                spend.day.as_str()
            ),
            ("USD", "America/Los_Angeles", "2025-03-14")
        );
        assert_eq!(
            (spend.impressions, spend.clicks, spend.channel.as_str()),
            (Some(361_324), Some(812), "paid_social")
        );
        assert_eq!(normalized.unknown_fields, 0);
        let weekly = account.attach(json!({"campaign_id":"1","ad_id":"2","date_start":"2025-03-14","date_stop":"2025-03-20","spend":"1"}));
        assert!(
            MetaConnector
                .normalize(&context(), ADS_INSIGHTS, &weekly)
                .unwrap_err()
                .reason
                .contains("not one day")
        );
    }
}
