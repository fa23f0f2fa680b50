//! Stripe: charges become orders, refunds refund adjustments, disputes chargebacks.
//!
//! Paging follows Stripe's list API: `limit` ≤ 100, newest first, `starting_after=<last id>`.
//! A first sync therefore runs newest-first, so recent revenue shows early.
//!
//! Checkpoint (JSON): while a run is under way it is
//! `{"run_started":S,"created_gt":G,"starting_after":"ch_…"}` — the id of the last committed
//! object of the newest-first scan — so a killed run resumes the same scan right after that
//! page. Objects created after the run started sit *above* the scan and are not missed: when the
//! scan reaches its end the checkpoint becomes `{"watermark":S}` (the time the run started), and
//! the next run reads everything created after `S − restatement window`.
//!
//! Refunds and disputes change old objects without changing `created` (a dispute is won, a
//! refund succeeds). The restatement window (default 30 days) re-reads recent objects every
//! sync; unchanged ones are duplicates and cost nothing but the request. Charges are filtered
//! on the server (`created[gt]`); refunds are cut off on the client (the scan stops after a
//! page entirely older than the window), which works against every Stripe-compatible server,
//! including the `localstripe` emulator that filters charges only.
//!
//! Disputes are re-read until their status is final. A dispute resolves 30–90 days after it
//! opens (an appeal takes longer), so a 30-day window would never see most outcomes and a won
//! dispute would keep counting as a chargeback. Two reads cover it, chosen for their cost:
//! - the dispute list is read over [`DISPUTE_WINDOW_DAYS`] (120) days, filtered on the server
//!   (`created[gt]`): most disputes are decided within that window, and one request reads 100
//!   of them, so an account with many disputes pays `disputes in 120 days / 100` requests;
//! - a dispute older than that whose status was not final when last read is read again by id
//!   (`GET /v1/disputes/{id}`) until it is: these are few (appeals, slow networks), so one
//!   request each is cheaper than widening the list window for all of them. Their ids (with
//!   `created`) travel in the checkpoint (`open_disputes`), so nothing else has to remember
//!   them and a killed run resumes the re-reads where it stopped.
//!
//! Amounts are converted from Stripe's currency exponents to Lookback's (ISO 4217) by
//! [`currency`]; ISK is the one that differs.

pub mod currency;

use lookback_core::money::Currency;
use lookback_store::{AdjustmentKind, IdentityKeys, Order, OrderAdjustment, OrderAlias};
use serde_json::{Map, Value};

use crate::SyncError;
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpRequest, HttpResponse, Normalized, Page, RateLimit,
    RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, optional_str, required_i64, required_str, type_name};

pub const CHARGES: &str = "charges";
pub const REFUNDS: &str = "refunds";
pub const DISPUTES: &str = "disputes";
/// Stripe's largest `limit`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// The API version every request pins with `Stripe-Version` (set once, in
/// [`crate::api_versions`]). The normalizer also reads objects delivered by webhooks in the
/// *endpoint's* version, which may be newer, and reads them to the same rows. It stays before
/// `2025-03-31.basil`: from basil on a charge no longer carries `invoice`, and the polled
/// charge is where the invoice alias of an order (Dub's `invoiceId`) comes from.
pub const STRIPE_VERSION: &str = crate::api_versions::STRIPE_VERSION;
/// Days of disputes every sync lists again; older undecided disputes are read by id.
pub const DISPUTE_WINDOW_DAYS: u32 = 120;

const CHARGE_FIELDS: &[&str] = &[
    "id",
    "object",
    "amount",
    "amount_captured",
    "amount_refunded",
    "application",
    "application_fee",
    "application_fee_amount",
    "authorization_code",
    "balance_transaction",
    "billing_details",
    "calculated_statement_descriptor",
    "captured",
    "created",
    "currency",
    "customer",
    "description",
    "destination",
    "dispute",
    "disputed",
    "failure_balance_transaction",
    "failure_code",
    "failure_message",
    "fraud_details",
    "invoice",
    "level3",
    "livemode",
    "metadata",
    "on_behalf_of",
    "order",
    "outcome",
    "paid",
    "payment_intent",
    "payment_method",
    "payment_method_details",
    "presentment_details",
    "radar_options",
    "receipt_email",
    "receipt_email_sha256",
    "receipt_number",
    "receipt_url",
    "refunded",
    "refunds",
    "review",
    "shipping",
    "source",
    "source_transfer",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "status",
    "transfer",
    "transfer_data",
    "transfer_group",
];
const REFUND_FIELDS: &[&str] = &[
    "id",
    "object",
    "amount",
    "balance_transaction",
    "charge",
    "created",
    "currency",
    "customer",
    "customer_account",
    "description",
    "destination_details",
    "failure_balance_transaction",
    "failure_reason",
    "instructions_email",
    "instructions_email_sha256",
    "metadata",
    "next_action",
    "payment_intent",
    "payment_method",
    "pending_reason",
    "presentment_details",
    "reason",
    "receipt_number",
    "source_transfer_reversal",
    "status",
    "transfer_reversal",
];
const DISPUTE_FIELDS: &[&str] = &[
    "id",
    "object",
    "amount",
    "balance_transaction",
    "balance_transactions",
    "charge",
    "created",
    "currency",
    "enhanced_eligibility_types",
    "evidence",
    "evidence_details",
    "intended_submission_method",
    "is_charge_refundable",
    "livemode",
    "metadata",
    "network_reason_code",
    "payment_intent",
    "payment_method_details",
    "reason",
    "status",
];
/// Metadata keys a store may put its click id under, in order of preference.
const CLICK_ID_KEYS: &[&str] = &["lookback_click_id", "click_id", "clickid", "click"];

/// A charge's `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChargeStatus {
    Succeeded,
    Pending,
    Failed,
    Unknown(String),
}

impl ChargeStatus {
    pub fn parse(text: &str) -> ChargeStatus {
        match text {
            "succeeded" => ChargeStatus::Succeeded,
            "pending" => ChargeStatus::Pending,
            "failed" => ChargeStatus::Failed,
            other => ChargeStatus::Unknown(other.to_owned()),
        }
    }
}

/// A dispute's `status`: the ten values of `stripe` 16.1.0 `_dispute.py` (`Dispute.status`).
/// A value Stripe adds later is kept as `Unknown`, counted as an open chargeback (the money is
/// held while Stripe has not said otherwise) and read again until it becomes a known final one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisputeStatus {
    /// An inquiry (no money moved yet) waiting for the merchant's answer.
    WarningNeedsResponse,
    /// An inquiry the issuer is reviewing.
    WarningUnderReview,
    /// An inquiry closed without becoming a chargeback.
    WarningClosed,
    /// A chargeback waiting for evidence.
    NeedsResponse,
    /// A chargeback whose evidence the issuer is reviewing.
    UnderReview,
    /// Decided for the merchant: the money came back.
    Won,
    /// Decided for the cardholder: the money is gone.
    Lost,
    /// Stopped before it became a chargeback (e.g. resolved through a network's prevention
    /// programme): it never took money as a dispute.
    Prevented,
    /// A lost dispute the merchant may appeal (pre-arbitration), waiting for an answer.
    AppealNeedsResponse,
    /// An appeal under review.
    AppealUnderReview,
    /// A status this version of Lookback does not know.
    Unknown(String),
}

impl DisputeStatus {
    pub fn parse(text: &str) -> DisputeStatus {
        match text {
            "warning_needs_response" => DisputeStatus::WarningNeedsResponse,
            "warning_under_review" => DisputeStatus::WarningUnderReview,
            "warning_closed" => DisputeStatus::WarningClosed,
            "needs_response" => DisputeStatus::NeedsResponse,
            "under_review" => DisputeStatus::UnderReview,
            "won" => DisputeStatus::Won,
            "lost" => DisputeStatus::Lost,
            "prevented" => DisputeStatus::Prevented,
            "appeal_needs_response" => DisputeStatus::AppealNeedsResponse,
            "appeal_under_review" => DisputeStatus::AppealUnderReview,
            other => DisputeStatus::Unknown(other.to_owned()),
        }
    }

    /// Whether the dispute is decided, so it need not be read again by id. A decided dispute
    /// can still be appealed (`appeal_*`); that change is seen while the dispute is inside the
    /// list window or through a `charge.dispute.updated` webhook, but decided disputes are not
    /// re-read by id for ever, which would cost one request per dispute per sync without end.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DisputeStatus::Won
                | DisputeStatus::Lost
                | DisputeStatus::WarningClosed
                | DisputeStatus::Prevented
        )
    }

    /// The chargeback status the store counts (`lookback_store::COUNTED_ADJUSTMENT`): `lost`
    /// counts; `won` does not; an inquiry closed without a chargeback and a prevented dispute
    /// never took money and are `prevented`, which does not count either; everything still
    /// undecided (appeals included) is `open` — counted, and the order is disputed.
    pub fn chargeback_status(&self) -> &'static str {
        match self {
            DisputeStatus::Won => "won",
            DisputeStatus::WarningClosed | DisputeStatus::Prevented => "prevented",
            DisputeStatus::Lost => "lost",
            _ => "open",
        }
    }
}

/// A dispute whose status was not final when it was last read: its id and `created` (Unix s).
type OpenDispute = (String, i64);

/// Where a stream's scan is, and what a run that finished leaves behind. Untagged, so the
/// variants are told apart by their fields (`reread`, `run_started`, `watermark`); the dispute
/// lists are left out when empty, so the charges and refunds checkpoints keep their shape.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum StripeCursor {
    /// Disputes only, after the list scan: reading undecided disputes older than the list
    /// window by id, the first of `reread` next.
    Rereading {
        run_started: i64,
        reread: Vec<OpenDispute>,
        /// Undecided disputes found so far in this run (the list scan's and the re-reads').
        #[serde(default)]
        open_disputes: Vec<OpenDispute>,
    },
    /// A run under way: its start, its lower bound, and the last committed object.
    Scanning {
        run_started: i64,
        created_gt: Option<i64>,
        starting_after: Option<String>,
        /// Disputes: undecided disputes the scan has found so far.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        open_disputes: Vec<OpenDispute>,
        /// Disputes: undecided disputes older than the window, read by id after the scan.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reread_after: Vec<OpenDispute>,
    },
    /// The last run reached the end of its scan; it had started at `watermark` (Unix s).
    Finished {
        watermark: i64,
        /// Disputes: the ones that were undecided when this run read them (always written for
        /// disputes, empty or not). A disputes checkpoint without it was written before
        /// disputes were followed: the next run lists every dispute once, so the undecided
        /// ones it stored long ago are found and followed too.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        open_disputes: Option<Vec<OpenDispute>>,
    },
}

/// The Stripe connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct StripeConnector;

impl Connector for StripeConnector {
    fn kind(&self) -> &'static str {
        "stripe"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[CHARGES, REFUNDS, DISPUTES]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://api.stripe.com")
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::Bearer
    }

    fn default_rate_limit(&self) -> RateLimit {
        // Stripe allows ~100 read requests/s live and 25/s in test mode; stay under both.
        RateLimit {
            requests_per_second: 20.0,
            burst: 20,
        }
    }

    fn default_restatement_days(&self) -> u32 {
        30
    }

    fn default_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    /// 2: gross is `amount_captured`, amounts follow Stripe's currency exponents, `prevented`
    /// and closed inquiries are `prevented` chargebacks, released authorizations are no refund.
    fn normalizer_version(&self) -> i64 {
        2
    }

    fn start_position(
        &self,
        context: &SourceContext,
        stream: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        let now_s = context.now_ms.div_euclid(1000);
        let cursor = match checkpoint {
            None => StripeCursor::Scanning {
                run_started: now_s,
                created_gt: None,
                starting_after: None,
                open_disputes: Vec::new(),
                reread_after: Vec::new(),
            },
            Some(text) => match serde_json::from_str::<StripeCursor>(text) {
                Ok(resumed @ (StripeCursor::Scanning { .. } | StripeCursor::Rereading { .. })) => {
                    resumed
                }
                Ok(StripeCursor::Finished {
                    watermark,
                    open_disputes: None,
                }) if stream == DISPUTES => StripeCursor::Scanning {
                    run_started: now_s.max(watermark),
                    created_gt: None,
                    starting_after: None,
                    open_disputes: Vec::new(),
                    reread_after: Vec::new(),
                },
                Ok(StripeCursor::Finished {
                    watermark,
                    open_disputes,
                }) => {
                    let window_days = if stream == DISPUTES {
                        context.restatement_days.max(DISPUTE_WINDOW_DAYS)
                    } else {
                        context.restatement_days
                    };
                    let created_gt = watermark - i64::from(window_days) * 86_400 - 1;
                    // Undecided disputes inside the window are listed again anyway; the older
                    // ones are read by id once the list scan is done.
                    let reread_after = open_disputes
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|(_, created)| *created <= created_gt)
                        .collect();
                    StripeCursor::Scanning {
                        run_started: now_s.max(watermark),
                        created_gt: Some(created_gt),
                        starting_after: None,
                        open_disputes: Vec::new(),
                        reread_after,
                    }
                }
                Err(e) => {
                    return Err(SyncError::Connector {
                        connector: "stripe",
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
        let mut url =
            reqwest::Url::parse(&format!("{}/v1/{stream}", context.base_url)).map_err(|e| {
                SyncError::Connector {
                    connector: "stripe",
                    detail: format!("base URL: {e}"),
                }
            })?;
        match from_text(position)? {
            StripeCursor::Scanning {
                created_gt,
                starting_after,
                ..
            } => {
                let mut query = url.query_pairs_mut();
                query.append_pair(
                    "limit",
                    &context.page_size.clamp(1, MAX_PAGE_SIZE).to_string(),
                );
                if let Some(after) = &starting_after {
                    query.append_pair("starting_after", after);
                }
                // Refunds are not filtered on the server: localstripe refuses the parameter
                // there (see the module documentation). Its disputes endpoint does not exist.
                if stream != REFUNDS
                    && let Some(gt) = created_gt
                {
                    query.append_pair("created[gt]", &gt.to_string());
                }
            }
            StripeCursor::Rereading { reread, .. } => {
                let Some((id, _)) = reread.first() else {
                    return Err(SyncError::Connector {
                        connector: "stripe",
                        detail: "no dispute left to re-read".to_owned(),
                    });
                };
                url.path_segments_mut()
                    .map_err(|()| SyncError::Connector {
                        connector: "stripe",
                        detail: "the base URL cannot take a path".to_owned(),
                    })?
                    .push(id);
            }
            StripeCursor::Finished { .. } => {
                return Err(SyncError::Connector {
                    connector: "stripe",
                    detail: "a finished cursor is not a position".to_owned(),
                });
            }
        }
        Ok(HttpRequest::get(url.to_string()).with_header("Stripe-Version", STRIPE_VERSION))
    }

    fn check_response(
        &self,
        _: &SourceContext,
        stream: &str,
        response: &HttpResponse,
    ) -> ResponseVerdict {
        let should_retry = response.header("stripe-should-retry");
        let message = || {
            response
                .json()
                .ok()
                .and_then(|body| {
                    body.pointer("/error/message")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| response.body_excerpt())
        };
        // A dispute re-read by id that Stripe no longer has (`resource_missing`): nothing is
        // left to wait for, and `parse_page` drops it from the re-reads.
        let missing_dispute = || {
            response
                .json()
                .ok()
                .and_then(|body| {
                    body.pointer("/error/code")
                        .and_then(Value::as_str)
                        .map(|code| code == "resource_missing")
                })
                .unwrap_or(false)
        };
        if response.status == 404 && stream == DISPUTES && missing_dispute() {
            return ResponseVerdict::Accept;
        }
        match (response.status, should_retry) {
            (429, Some("false")) => ResponseVerdict::Fatal {
                detail: format!("HTTP 429, Stripe says not to retry: {}", message()),
            },
            (429, _) => ResponseVerdict::Throttled {
                wait: response.retry_after(),
                detail: format!("HTTP 429: {}", message()),
            },
            (404, _) => ResponseVerdict::StreamUnavailable {
                detail: format!("HTTP 404 on the list endpoint: {}", message()),
            },
            (401 | 403, _) => ResponseVerdict::Unauthorized {
                detail: format!("HTTP {}", response.status),
            },
            (400..=499, Some("true")) => ResponseVerdict::Transient {
                detail: format!("HTTP {}: {}", response.status, message()),
            },
            (500..=599, Some("false")) => ResponseVerdict::Fatal {
                detail: format!(
                    "HTTP {}, Stripe says not to retry: {}",
                    response.status,
                    message()
                ),
            },
            (400..=499, _) => ResponseVerdict::Fatal {
                detail: format!("HTTP {}: {}", response.status, message()),
            },
            _ => default_verdict(response),
        }
    }

    fn parse_page(
        &self,
        _: &SourceContext,
        stream: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        match from_text(position).map_err(|e| e.to_string())? {
            StripeCursor::Scanning {
                run_started,
                created_gt,
                open_disputes,
                reread_after,
                ..
            } => parse_list_page(
                stream,
                position,
                response,
                ListScan {
                    run_started,
                    created_gt,
                    open_disputes,
                    reread_after,
                },
            ),
            StripeCursor::Rereading {
                run_started,
                reread,
                open_disputes,
            } => parse_reread(response, run_started, reread, open_disputes),
            StripeCursor::Finished { .. } => Err("a finished cursor is not a position".to_owned()),
        }
    }

    fn normalize(
        &self,
        context: &SourceContext,
        stream: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        match stream {
            CHARGES => normalize_charge(context, record),
            REFUNDS => normalize_adjustment(context, record, AdjustmentKind::Refund),
            DISPUTES => normalize_adjustment(context, record, AdjustmentKind::Chargeback),
            other => Err(RecordProblem::new(format!(
                "unknown Stripe stream {other:?}"
            ))),
        }
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        Ok(
            HttpRequest::get(format!("{}/v1/charges?limit=1", context.base_url))
                .with_header("Stripe-Version", STRIPE_VERSION),
        )
    }
}

fn to_text(cursor: &StripeCursor) -> String {
    serde_json::to_string(cursor).expect("a cursor serializes")
}

fn from_text(text: &str) -> Result<StripeCursor, SyncError> {
    serde_json::from_str(text).map_err(|e| SyncError::Connector {
        connector: "stripe",
        detail: format!("bad position {text:?}: {e}"),
    })
}

/// The state of a list scan that `parse_list_page` carries into the next position.
struct ListScan {
    run_started: i64,
    created_gt: Option<i64>,
    open_disputes: Vec<OpenDispute>,
    reread_after: Vec<OpenDispute>,
}

/// A page of a list endpoint: its records, and the next position (the next page, the
/// re-reads of old undecided disputes, or the end of the run).
fn parse_list_page(
    stream: &str,
    position: &str,
    response: &HttpResponse,
    scan: ListScan,
) -> Result<Page, String> {
    #[derive(serde::Deserialize)]
    struct List {
        data: Vec<Value>,
        has_more: bool,
    }
    let ListScan {
        run_started,
        created_gt,
        mut open_disputes,
        reread_after,
    } = scan;
    let list: List = serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
    let last_id = list
        .data
        .last()
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    // The client-side cutoff of refunds (and of disputes from a server that ignores
    // `created[gt]`): a page whose every object is older than the window ends the scan
    // (newest-first means everything after it is older still).
    let all_older = created_gt.is_some_and(|gt| {
        stream != CHARGES
            && !list.data.is_empty()
            && list.data.iter().all(|o| {
                o.get("created")
                    .and_then(Value::as_i64)
                    .is_some_and(|c| c <= gt)
            })
    });
    let more = list.has_more && last_id.is_some() && !all_older;
    if stream == DISPUTES {
        for dispute in &list.data {
            note_if_undecided(dispute, &mut open_disputes);
        }
    }
    let records = list
        .data
        .into_iter()
        .enumerate()
        .map(|(index, payload)| {
            let external_id = match payload.get("id") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                _ => format!("(no id: item {index} after {position})"),
            };
            RawRecord {
                external_id,
                payload,
            }
        })
        .collect();
    let next = if more {
        Some(StripeCursor::Scanning {
            run_started,
            created_gt,
            starting_after: last_id,
            open_disputes,
            reread_after,
        })
    } else {
        // A dispute the list just read again needs no second read by id.
        let reread: Vec<OpenDispute> = reread_after
            .into_iter()
            .filter(|(id, _)| !open_disputes.iter().any(|(open, _)| open == id))
            .collect();
        if reread.is_empty() {
            let open_disputes = (stream == DISPUTES).then_some(open_disputes);
            return Ok(finished_page(records, run_started, open_disputes));
        }
        Some(StripeCursor::Rereading {
            run_started,
            reread,
            open_disputes,
        })
    };
    let next = next.map(|cursor| to_text(&cursor));
    Ok(Page {
        records,
        checkpoint: next.clone().unwrap_or_default(),
        next,
        pause_before_next: None,
    })
}

/// The answer to `GET /v1/disputes/{id}` of the first of `reread`: the dispute as a record
/// (or nothing, when Stripe no longer has it), then the next re-read or the end of the run.
fn parse_reread(
    response: &HttpResponse,
    run_started: i64,
    mut reread: Vec<OpenDispute>,
    mut open_disputes: Vec<OpenDispute>,
) -> Result<Page, String> {
    if reread.is_empty() {
        return Err("no dispute left to re-read".to_owned());
    }
    let (asked, _) = reread.remove(0);
    let mut records = Vec::new();
    if response.status != 404 {
        let dispute: Value = serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
        note_if_undecided(&dispute, &mut open_disputes);
        let external_id = match dispute.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => asked,
        };
        records.push(RawRecord {
            external_id,
            payload: dispute,
        });
    }
    if reread.is_empty() {
        return Ok(finished_page(records, run_started, Some(open_disputes)));
    }
    let next = to_text(&StripeCursor::Rereading {
        run_started,
        reread,
        open_disputes,
    });
    Ok(Page {
        records,
        checkpoint: next.clone(),
        next: Some(next),
        pause_before_next: None,
    })
}

/// The last page of a run: its checkpoint is the finished cursor.
fn finished_page(
    records: Vec<RawRecord>,
    run_started: i64,
    open_disputes: Option<Vec<OpenDispute>>,
) -> Page {
    Page {
        records,
        checkpoint: to_text(&StripeCursor::Finished {
            watermark: run_started,
            open_disputes,
        }),
        next: None,
        pause_before_next: None,
    }
}

/// Adds a dispute whose status is not final to `open` (once). A dispute without an id,
/// `created` or status is not followed: it becomes a dead letter, and there is nothing to
/// wait for.
fn note_if_undecided(dispute: &Value, open: &mut Vec<OpenDispute>) {
    let (Some(id), Some(created), Some(status)) = (
        dispute.get("id").and_then(Value::as_str),
        dispute.get("created").and_then(Value::as_i64),
        dispute.get("status").and_then(Value::as_str),
    ) else {
        return;
    };
    if !DisputeStatus::parse(status).is_final() && !open.iter().any(|(known, _)| known == id) {
        open.push((id.to_owned(), created));
    }
}

/// The amount in `amount_field` (Stripe's integer minor units, converted to Lookback's by
/// [`currency::to_lookback_minor`]), the currency code and `created` (as UTC ms) of a Stripe
/// object.
fn money_and_time(
    record: &Map<String, Value>,
    amount_field: &str,
) -> Result<(i64, String, i64), RecordProblem> {
    let amount = required_i64(record, amount_field)?;
    if amount < 0 {
        return Err(RecordProblem::new(format!(
            "field {amount_field} is negative ({amount})"
        )));
    }
    let currency = Currency::parse(required_str(record, "currency")?)
        .map_err(|e| RecordProblem::new(format!("field currency: {e}")))?;
    let minor = currency::to_lookback_minor(amount_field, amount, currency)?;
    let created = required_i64(record, "created")?;
    let created_ms = created
        .checked_mul(1000)
        .ok_or_else(|| RecordProblem::new(format!("field created is out of range ({created})")))?;
    Ok((minor, currency.code().to_owned(), created_ms))
}

/// An id field that Stripe may expand into an object: the id either way.
fn id_field(record: &Map<String, Value>, field: &str) -> Result<Option<String>, RecordProblem> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(Value::Object(expanded)) => Ok(expanded
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)),
        Some(other) => Err(RecordProblem::new(format!(
            "field {field} should be an id, found {}",
            type_name(other)
        ))),
    }
}

fn normalize_charge(
    context: &SourceContext,
    record: &Map<String, Value>,
) -> Result<Normalized, RecordProblem> {
    let charge_id = required_str(record, "id")?;
    let not_an_order = || {
        Ok(Normalized {
            rows: Vec::new(),
            unknown_fields: count_unknown(record, CHARGE_FIELDS),
        })
    };
    let status = match ChargeStatus::parse(required_str(record, "status")?) {
        // A failed charge took no money: it stays in raw_events, and is not an order.
        ChargeStatus::Failed => return not_an_order(),
        ChargeStatus::Succeeded => "paid".to_owned(),
        ChargeStatus::Pending => "pending".to_owned(),
        ChargeStatus::Unknown(other) => other,
    };
    let captured = match record.get("captured") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(captured)) => Some(*captured),
        Some(other) => {
            return Err(RecordProblem::new(format!(
                "field captured should be true or false, found {}",
                type_name(other)
            )));
        }
    };
    // An authorization not captured yet (`succeeded` with `captured: false`) took no money:
    // it becomes an order when a later version of the charge says it was captured.
    if captured == Some(false) {
        return not_an_order();
    }
    // The gross is what was captured (`amount_captured`, less than `amount` after a partial
    // capture). An object without it (localstripe; API versions before the field existed,
    // where a partial capture was a refund of the rest) took `amount` once `captured` is true.
    // Not verified against a live account: whether Stripe today also lists the released rest
    // of a partial capture as a Refund in `/v1/refunds` (it counts it in `amount_refunded`);
    // if it does, that refund would be subtracted a second time.
    let gross_field = match record.get("amount_captured") {
        None | Some(Value::Null) if captured == Some(true) => "amount",
        _ => "amount_captured",
    };
    let (amount, currency, occurred_at_ms) = money_and_time(record, gross_field)?;
    let metadata = match record.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            return Err(RecordProblem::new(format!(
                "field metadata should be an object, found {}",
                type_name(other)
            )));
        }
    };
    let click_id = metadata.and_then(|m| {
        CLICK_ID_KEYS.iter().find_map(|key| {
            m.get(*key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        })
    });
    let email_sha256 = record
        .get("billing_details")
        .and_then(|b| b.get("email_sha256"))
        .and_then(Value::as_str)
        .or_else(|| record.get("receipt_email_sha256").and_then(Value::as_str))
        .filter(|h| *h != lookback_core::pii::WITHHELD)
        .map(str::to_owned);
    let person_id = metadata
        .and_then(|m| m.get("person_id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let order = Order {
        order_id: charge_id.to_owned(),
        source: context.source_id.clone(),
        occurred_at_ms,
        gross_minor: amount,
        currency,
        status,
        click_id,
        identity: IdentityKeys {
            person_id,
            anonymous_id: None,
            email_sha256,
            customer_id: id_field(record, "customer")?,
            device_id: None,
        },
        raw_event_id: None,
    };
    // The other ids this sale is known by: Dub's sale events carry the invoice (or payment
    // intent) as `invoiceId`, and a shop puts its own order id in the metadata.
    let mut aliases = Vec::new();
    for other in [
        id_field(record, "payment_intent")?,
        id_field(record, "invoice")?,
        metadata
            .and_then(|m| m.get("order_id"))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    {
        aliases.push(CanonicalRow::OrderAlias(OrderAlias {
            order_id: order.order_id.clone(),
            alias: other,
            source: context.source_id.clone(),
            created_at_ms: context.now_ms,
        }));
    }
    let mut rows = vec![CanonicalRow::Order(order)];
    rows.extend(aliases);
    Ok(Normalized {
        rows,
        unknown_fields: count_unknown(record, CHARGE_FIELDS),
    })
}

fn normalize_adjustment(
    context: &SourceContext,
    record: &Map<String, Value>,
    kind: AdjustmentKind,
) -> Result<Normalized, RecordProblem> {
    let id = required_str(record, "id")?;
    // Stripe refunds an authorization that expired uncaptured with this reason: no money was
    // taken, so none comes back (the charge is no order either). It stays in raw_events.
    if kind == AdjustmentKind::Refund
        && optional_str(record, "reason")? == Some("expired_uncaptured_charge")
    {
        return Ok(Normalized {
            rows: Vec::new(),
            unknown_fields: count_unknown(record, REFUND_FIELDS),
        });
    }
    let (amount, currency, occurred_at_ms) = money_and_time(record, "amount")?;
    // The SDK types `charge` as optional: a refund of a payment made another way (or an
    // object expanded differently) may name only its payment intent, which the charge's
    // order carries as an alias, so the store books it on that order.
    let order_id = match id_field(record, "charge")? {
        Some(charge) => charge,
        None => id_field(record, "payment_intent")?.ok_or_else(|| {
            RecordProblem::new(format!(
                "the {kind} has neither a charge nor a payment_intent, so there is no order to book it against"
            ))
        })?,
    };
    let status_text = optional_str(record, "status")?;
    let (status, known) = match kind {
        AdjustmentKind::Refund => (
            match status_text.unwrap_or("succeeded") {
                "requires_action" => "pending".to_owned(),
                other => other.to_owned(),
            },
            REFUND_FIELDS,
        ),
        AdjustmentKind::Chargeback => (
            DisputeStatus::parse(required_str(record, "status")?)
                .chargeback_status()
                .to_owned(),
            DISPUTE_FIELDS,
        ),
    };
    let adjustment = OrderAdjustment {
        adjustment_id: id.to_owned(),
        order_id,
        source: context.source_id.clone(),
        kind,
        occurred_at_ms,
        amount_minor: amount,
        currency,
        status,
        raw_event_id: None,
    };
    Ok(Normalized {
        rows: vec![CanonicalRow::Adjustment(adjustment)],
        unknown_fields: count_unknown(record, known),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> SourceContext {
        SourceContext {
            source_id: "shop".to_owned(),
            source_name: "shop".to_owned(),
            base_url: "http://stripe.invalid".to_owned(),
            account: None,
            restatement_days: 30,
            page_size: 100,
            now_ms: 1_772_323_200_000,
        }
    }

    fn rows(stream: &str, payload: Value) -> Result<Vec<CanonicalRow>, RecordProblem> {
        StripeConnector
            .normalize(&context(), stream, &payload)
            .map(|n| n.rows)
    }

    fn order_of(payload: Value) -> Order {
        match rows(CHARGES, payload).unwrap().into_iter().next() {
            Some(CanonicalRow::Order(order)) => order,
            other => panic!("no order: {other:?}"),
        }
    }

    fn adjustment_of(stream: &str, payload: Value) -> OrderAdjustment {
        match rows(stream, payload).unwrap().into_iter().next() {
            Some(CanonicalRow::Adjustment(adjustment)) => adjustment,
            other => panic!("no adjustment: {other:?}"),
        }
    }

    fn charge() -> Value {
        json!({"id": "ch_1", "object": "charge", "amount": 1_000, "amount_captured": 1_000,
               "captured": true, "created": 1_772_000_000, "currency": "usd", "status": "succeeded",
               "customer": "cus_1", "payment_intent": "pi_1", "invoice": "in_1",
               "metadata": {"click_id": "clk_1"}, "billing_details": {"email": null},
               "receipt_email": null})
    }

    fn dispute(status: &str) -> Value {
        json!({"id": "dp_1", "object": "dispute", "amount": 1_000, "charge": "ch_1",
               "created": 1_772_000_000, "currency": "usd", "status": status,
               "payment_intent": null, "reason": "fraudulent"})
    }

    #[test]
    fn the_gross_is_what_was_captured() {
        let mut partial = charge();
        partial["amount_captured"] = json!(600);
        assert_eq!(
            order_of(partial).gross_minor,
            600,
            "a partial capture took less"
        );
        let mut uncaptured = charge();
        uncaptured["captured"] = json!(false);
        uncaptured["amount_captured"] = json!(0);
        assert_eq!(
            rows(CHARGES, uncaptured).unwrap(),
            Vec::new(),
            "an authorization took no money yet"
        );
        // localstripe and versions before `amount_captured`: `captured: true` took `amount`.
        let mut older = charge();
        older.as_object_mut().unwrap().remove("amount_captured");
        assert_eq!(order_of(older.clone()).gross_minor, 1_000);
        older["amount_captured"] = Value::Null;
        assert_eq!(order_of(older.clone()).gross_minor, 1_000);
        // Neither field: nothing says what was taken, so the record is a dead letter.
        older.as_object_mut().unwrap().remove("captured");
        let problem = rows(CHARGES, older).unwrap_err();
        assert!(problem.reason.contains("amount_captured"), "{problem:?}");
        let mut wrong = charge();
        wrong["captured"] = json!("yes");
        assert!(
            rows(CHARGES, wrong)
                .unwrap_err()
                .reason
                .contains("captured")
        );
    }

    #[test]
    fn nullable_charge_fields_may_be_null_or_absent() {
        // `customer`, `payment_intent`, `receipt_email`, `billing_details.email` are
        // Optional in `_charge.py`; `invoice` is gone from basil on.
        for absent in [false, true] {
            let mut payload = charge();
            let fields = payload.as_object_mut().unwrap();
            for field in ["customer", "payment_intent", "invoice", "receipt_email"] {
                if absent {
                    fields.remove(field);
                } else {
                    fields.insert(field.to_owned(), Value::Null);
                }
            }
            fields.insert("metadata".to_owned(), json!({}));
            let all = rows(CHARGES, payload).unwrap();
            assert_eq!(all.len(), 1, "an order and no alias: {all:?}");
            let CanonicalRow::Order(order) = &all[0] else {
                panic!("{all:?}")
            };
            assert_eq!(order.gross_minor, 1_000);
            assert_eq!(order.identity.customer_id, None);
            assert_eq!(order.click_id, None);
        }
        // With them, the payment intent, the invoice and the shop's order id are aliases.
        let mut payload = charge();
        payload["metadata"]["order_id"] = json!("shop-1");
        let aliases: Vec<String> = rows(CHARGES, payload)
            .unwrap()
            .into_iter()
            .filter_map(|row| match row {
                CanonicalRow::OrderAlias(alias) => Some(alias.alias),
                _ => None,
            })
            .collect();
        assert_eq!(aliases, ["pi_1", "in_1", "shop-1"]);
    }

    #[test]
    fn amounts_follow_stripes_currency_exponents() {
        let mut isk = charge();
        isk["currency"] = json!("isk");
        isk["amount"] = json!(50_000);
        isk["amount_captured"] = json!(50_000);
        let order = order_of(isk);
        assert_eq!((order.gross_minor, order.currency.as_str()), (500, "ISK"));
        let mut refund = json!({"id": "re_1", "object": "refund", "amount": 10_000, "charge": "ch_1",
                                "created": 1_772_000_100, "currency": "isk", "status": "succeeded"});
        assert_eq!(adjustment_of(REFUNDS, refund.clone()).amount_minor, 100);
        refund["amount"] = json!(150);
        assert_eq!(
            adjustment_of(REFUNDS, refund).amount_minor,
            2,
            "1.50 króna rounds half-even to 2"
        );
        let mut chargeback = dispute("needs_response");
        chargeback["currency"] = json!("isk");
        chargeback["amount"] = json!(50_000);
        assert_eq!(adjustment_of(DISPUTES, chargeback).amount_minor, 500);
        let mut jpy = charge();
        jpy["currency"] = json!("jpy");
        jpy["amount"] = json!(5_000);
        jpy["amount_captured"] = json!(5_000);
        assert_eq!(order_of(jpy).gross_minor, 5_000);
        let mut kwd = charge();
        kwd["currency"] = json!("kwd");
        kwd["amount"] = json!(5_120);
        kwd["amount_captured"] = json!(5_120);
        assert_eq!(order_of(kwd).gross_minor, 5_120);
        // VUV is zero-decimal in Stripe and ISO alike.
        let mut vuv = charge();
        vuv["currency"] = json!("vuv");
        vuv["amount"] = json!(1_000);
        vuv["amount_captured"] = json!(1_000);
        assert_eq!(order_of(vuv).gross_minor, 1_000);
        // A currency Lookback's table does not know is a dead letter naming the field.
        let mut unknown = charge();
        unknown["currency"] = json!("xts");
        assert!(
            rows(CHARGES, unknown)
                .unwrap_err()
                .reason
                .contains("currency")
        );
    }

    #[test]
    fn every_dispute_status_of_the_sdk_is_known_and_mapped() {
        let expected = [
            ("warning_needs_response", "open", false),
            ("warning_under_review", "open", false),
            ("warning_closed", "prevented", true),
            ("needs_response", "open", false),
            ("under_review", "open", false),
            ("won", "won", true),
            ("lost", "lost", true),
            ("prevented", "prevented", true),
            ("appeal_needs_response", "open", false),
            ("appeal_under_review", "open", false),
        ];
        for (text, stored, is_final) in expected {
            let status = DisputeStatus::parse(text);
            assert!(!matches!(status, DisputeStatus::Unknown(_)), "{text}");
            assert_eq!(
                (status.chargeback_status(), status.is_final()),
                (stored, is_final),
                "{text}"
            );
            assert_eq!(adjustment_of(DISPUTES, dispute(text)).status, stored);
        }
        // A status Stripe adds later is recorded (the raw payload keeps it), counted as open
        // and followed until it is final; it is not a dead letter.
        let later = DisputeStatus::parse("escalated_to_arbitration");
        assert_eq!(
            later,
            DisputeStatus::Unknown("escalated_to_arbitration".to_owned())
        );
        assert!(!later.is_final());
        assert_eq!(
            adjustment_of(DISPUTES, dispute("escalated_to_arbitration")).status,
            "open"
        );
    }

    #[test]
    fn nullable_refund_fields_and_released_authorizations() {
        let refund = json!({"id": "re_1", "object": "refund", "amount": 300, "charge": "ch_1",
                            "created": 1_772_000_100, "currency": "usd", "status": null,
                            "metadata": null, "reason": null, "payment_intent": null});
        assert_eq!(adjustment_of(REFUNDS, refund.clone()).status, "succeeded");
        // `Refund.charge` is Optional: a refund without one has no order to reduce.
        let mut orphan = refund.clone();
        orphan["charge"] = Value::Null;
        assert!(rows(REFUNDS, orphan).unwrap_err().reason.contains("charge"));
        // An authorization that expired uncaptured is "refunded" by Stripe; no money moved.
        let mut released = refund;
        released["reason"] = json!("expired_uncaptured_charge");
        assert_eq!(rows(REFUNDS, released).unwrap(), Vec::new());
    }

    #[test]
    fn the_dispute_checkpoint_carries_undecided_disputes_to_the_next_run() {
        let connector = StripeConnector;
        let context = context();
        let now_s = context.now_ms / 1000;
        let old = now_s - 200 * 86_400;
        let recent = now_s - 10 * 86_400;
        let finished = format!(
            r#"{{"watermark":{now_s},"open_disputes":[["dp_old",{old}],["dp_recent",{recent}]]}}"#
        );
        let start = connector
            .start_position(&context, DISPUTES, Some(&finished))
            .unwrap()
            .unwrap();
        let gt = now_s - 120 * 86_400 - 1;
        assert_eq!(
            from_text(&start).unwrap(),
            StripeCursor::Scanning {
                run_started: now_s,
                created_gt: Some(gt),
                starting_after: None,
                open_disputes: Vec::new(),
                reread_after: vec![("dp_old".to_owned(), old)],
            },
            "the recent one is listed again; the old one is read by id"
        );
        let request = connector.page_request(&context, DISPUTES, &start).unwrap();
        assert!(
            request.url.contains(&format!("created%5Bgt%5D={gt}")),
            "{}",
            request.url
        );
        // The list answers with the recent dispute still open: then the old one by id.
        let list = HttpResponse {
            status: 200,
            headers: Default::default(),
            body: json!({"object": "list", "has_more": false, "data": [
                {"id": "dp_recent", "created": recent, "status": "under_review"}]})
            .to_string()
            .into_bytes(),
        };
        let page = connector
            .parse_page(&context, DISPUTES, &start, &list)
            .unwrap();
        let next = page.next.expect("the re-read follows");
        assert_eq!(page.checkpoint, next, "a killed run resumes the re-reads");
        let request = connector.page_request(&context, DISPUTES, &next).unwrap();
        assert_eq!(request.url, "http://stripe.invalid/v1/disputes/dp_old");
        let by_id = HttpResponse {
            status: 200,
            headers: Default::default(),
            body: json!({"id": "dp_old", "created": old, "status": "won"})
                .to_string()
                .into_bytes(),
        };
        let page = connector
            .parse_page(&context, DISPUTES, &next, &by_id)
            .unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.next, None);
        assert_eq!(
            page.checkpoint,
            format!(r#"{{"watermark":{now_s},"open_disputes":[["dp_recent",{recent}]]}}"#),
            "the won dispute is no longer followed"
        );
        // A disputes checkpoint from before disputes were followed lists every dispute once.
        let legacy = format!(r#"{{"watermark":{now_s}}}"#);
        let start = connector
            .start_position(&context, DISPUTES, Some(&legacy))
            .unwrap()
            .unwrap();
        assert!(
            matches!(
                from_text(&start).unwrap(),
                StripeCursor::Scanning {
                    created_gt: None,
                    ..
                }
            ),
            "{start}"
        );
        // A charges checkpoint keeps its old shape, and old checkpoints still read.
        let charges = connector
            .start_position(
                &context,
                CHARGES,
                Some(&format!(r#"{{"watermark":{now_s}}}"#)),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            charges,
            format!(
                r#"{{"run_started":{now_s},"created_gt":{},"starting_after":null}}"#,
                now_s - 30 * 86_400 - 1
            )
        );
    }

    #[test]
    fn a_dispute_stripe_no_longer_has_is_dropped_from_the_re_reads() {
        let connector = StripeConnector;
        let context = context();
        let missing = HttpResponse {
            status: 404,
            headers: Default::default(),
            body:
                json!({"error": {"code": "resource_missing", "message": "No such dispute: 'dp_x'",
                                   "type": "invalid_request_error"}})
                .to_string()
                .into_bytes(),
        };
        assert_eq!(
            connector.check_response(&context, DISPUTES, &missing),
            ResponseVerdict::Accept
        );
        let position = r#"{"run_started":5,"reread":[["dp_x",1]],"open_disputes":[]}"#;
        let page = connector
            .parse_page(&context, DISPUTES, position, &missing)
            .unwrap();
        assert!(page.records.is_empty());
        assert_eq!(page.checkpoint, r#"{"watermark":5,"open_disputes":[]}"#);
        // A list endpoint that does not exist (localstripe) is still an unavailable stream.
        let no_route = HttpResponse {
            status: 404,
            headers: Default::default(),
            body: b"404: Not Found".to_vec(),
        };
        assert!(matches!(
            connector.check_response(&context, DISPUTES, &no_route),
            ResponseVerdict::StreamUnavailable { .. }
        ));
    }
}
