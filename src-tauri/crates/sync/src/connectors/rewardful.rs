//! Rewardful (affiliate programs on Stripe): commissions become creator costs, referrals become
//! affiliate touches and identity links.
//!
//! Two streams, HTTP Basic with the API secret as user name, paged by `page` and `limit` (≤ 100)
//! inside the envelope `{"pagination":{"current_page","next_page","total_pages","total_count"},
//! "data":[…]}`, both sorted by creation date, newest first (developers.rewardful.com, "List
//! referrals" and "List commissions"):
//! - `GET /v1/referrals?expand[]=affiliate&updated_since=…&updated_until=…`: without the
//!   expansion a referral carries no affiliate, and its touch would have no creator.
//! - `GET /v1/commissions?expand[]=sale`: commissions accept only `affiliate_id`, `state`,
//!   `page`, `limit` and `expand` — there is no time filter — and the affiliate is at
//!   `sale.affiliate`, which exists only when the sale is expanded.
//!
//! Checkpoints (JSON): a run scans a fixed list; while it runs the checkpoint is
//! `{"phase":"scanning",…,"page":N}` so a killed run resumes at the next page, and a finished
//! run leaves `{"phase":"finished","watermark_ms":until}`.
//! - Referrals scan the window `(since, until]` (`until` = the run's clock); the next run reads
//!   from five minutes before the watermark (plus the restatement window). A referral updated
//!   while the scan runs leaves the window, which shifts every later record one page left and
//!   would skip one of them; the connector notices because `total_count` changes, and re-reads
//!   the window from page 1 (at most [`MAX_RESCANS`] times; re-read records are duplicates).
//! - Commissions cannot be filtered, so every run reads them all again from page 1: that is how
//!   a state change (pending → due → paid, or voided) of an old commission is seen. It stays
//!   cheap because the engine skips a record whose payload equals its stored version, and the
//!   connector drops from each payload the live counters of the objects Rewardful embeds in it
//!   (an affiliate's `visitors`, `leads`, `conversions`, …; see [`VOLATILE_FIELDS`]), which
//!   change with every visit to the affiliate's link and would otherwise make every commission
//!   a new version on every run. A commission created while the scan runs lands on page 1 and
//!   pushes the others right (re-read as duplicates, none skipped); one deleted pulls them left,
//!   so a smaller `total_count` re-reads from page 1 as for referrals.
//!
//! Mapping decisions:
//! - A commission is a creator cost of kind `commission`: id = the commission id, creator =
//!   `sale.affiliate.id`, amount in cents, day = the UTC day it was created. `pending`, `due` and
//!   `paid` are costs (owed or paid); a state change is a new raw version and leaves the cost
//!   as it is. A `voided` commission is not a cost: it stays in `raw_events`, writes no cost
//!   row, and removes the one it wrote while it was pending or due (every run re-reads every
//!   commission, so a later void is seen).
//! - A referral (a visitor Rewardful tracked through an affiliate link; its id is what the
//!   `rewardful_referral` cookie and Stripe's metadata carry) is a touch of channel `affiliate`
//!   with the referral id as click id and anonymous id, the affiliate as creator and the link as
//!   content; once it converts, identity links join the referral id to the customer's e-mail
//!   hash and Stripe customer id (so Stripe charges resolve to the affiliate's touch).
//! - The affiliate of either becomes a `Creator` (platform `rewardful`).

use lookback_core::money::Currency;
use lookback_core::time::{days_to_ms, format_instant_ms, parse_instant_ms};
use lookback_store::{
    Creator, CreatorCost, CreatorCostKind, IdentityKey, IdentityKeyType, IdentityKeys,
    IdentityLink, Touch,
};
use serde_json::{Map, Value};

use crate::SyncError;
use crate::connector::{
    AuthScheme, CanonicalRow, Connector, HttpRequest, HttpResponse, Normalized, Page, RateLimit,
    RawRecord, RecordProblem, ResponseVerdict, SourceContext, default_verdict,
};
use crate::fields::{count_unknown, object, optional_str, required_i64, required_str, type_name};

pub const REFERRALS: &str = "referrals";
pub const COMMISSIONS: &str = "commissions";
/// Rewardful's largest `limit`.
pub const MAX_PAGE_SIZE: u32 = 100;
/// How many times one run re-reads its window after `total_count` changed under it.
pub const MAX_RESCANS: u32 = 3;
const OVERLAP_MS: i64 = 5 * 60 * 1000;
/// The channel of a touch through an affiliate's referral link.
pub const CHANNEL: &str = "affiliate";

/// The top-level fields of a commission ("The commission object"); others count as schema drift.
const COMMISSION_FIELDS: &[&str] = &[
    "id",
    "amount",
    "currency",
    "state",
    "due_at",
    "paid_at",
    "voided_at",
    "created_at",
    "updated_at",
    "campaign",
    "sale",
];
/// Live counters and touch times of the objects Rewardful embeds in a commission or referral
/// (the affiliate, its links, the sale's referral and link, the campaign). They describe those
/// objects as they are now, not the record, and change with every visit, so they are dropped
/// from the stored payload of the record that embeds them: otherwise every re-read would store
/// a new version of every record. The record's own fields, `updated_at` included, are kept.
pub const VOLATILE_FIELDS: &[&str] = &[
    "visitors",
    "leads",
    "conversions",
    "visits",
    "sign_in_count",
    "updated_at",
    "affiliates",
];
const REFERRAL_FIELDS: &[&str] = &[
    "id",
    "link",
    "customer",
    "affiliate",
    "visits",
    "conversion_state",
    "deactivated_at",
    "expires_at",
    "created_at",
    "updated_at",
    "became_lead_at",
    "became_conversion_at",
    "stripe_account_id",
    "stripe_customer_id",
    "campaign",
];

/// A commission's `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommissionState {
    Pending,
    Due,
    Paid,
    Voided,
    Unknown(String),
}

impl CommissionState {
    pub fn parse(text: &str) -> CommissionState {
        match text {
            "pending" => CommissionState::Pending,
            "due" => CommissionState::Due,
            "paid" => CommissionState::Paid,
            "voided" => CommissionState::Voided,
            other => CommissionState::Unknown(other.to_owned()),
        }
    }
}

/// A stream's scan (times in UTC ms).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum RewardfulCursor {
    Scanning {
        since_ms: Option<i64>,
        until_ms: i64,
        page: u32,
        /// `total_count` of the window when the scan began; a change means records moved.
        total_count: Option<u64>,
        rescans: u32,
    },
    Finished {
        watermark_ms: i64,
    },
}

/// The Rewardful connector.
#[derive(Debug, Clone, Copy, Default)]
pub struct RewardfulConnector;

impl Connector for RewardfulConnector {
    fn kind(&self) -> &'static str {
        "rewardful"
    }

    fn streams(&self) -> &'static [&'static str] {
        &[REFERRALS, COMMISSIONS]
    }

    fn default_base_url(&self) -> Option<&'static str> {
        Some("https://api.getrewardful.com")
    }

    fn auth_scheme(&self) -> AuthScheme {
        AuthScheme::BasicUsername
    }

    fn default_rate_limit(&self) -> RateLimit {
        // Rewardful does not publish a limit; a modest pace, and 429 slows us further.
        RateLimit {
            requests_per_second: 2.0,
            burst: 5,
        }
    }

    fn default_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
    }

    fn start_position(
        &self,
        context: &SourceContext,
        stream: &str,
        checkpoint: Option<&str>,
    ) -> Result<Option<String>, SyncError> {
        let cursor = match checkpoint {
            None => RewardfulCursor::Scanning {
                since_ms: None,
                until_ms: context.now_ms,
                page: 1,
                total_count: None,
                rescans: 0,
            },
            Some(text) => match serde_json::from_str::<RewardfulCursor>(text) {
                Ok(scanning @ RewardfulCursor::Scanning { .. }) => scanning,
                // Commissions have no time filter: every run reads the whole list again.
                Ok(RewardfulCursor::Finished { watermark_ms }) => RewardfulCursor::Scanning {
                    since_ms: (stream != COMMISSIONS)
                        .then(|| watermark_ms - OVERLAP_MS - days_to_ms(context.restatement_days)),
                    until_ms: context.now_ms.max(watermark_ms),
                    page: 1,
                    total_count: None,
                    rescans: 0,
                },
                Err(e) => {
                    return Err(SyncError::Connector {
                        connector: "rewardful",
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
        let RewardfulCursor::Scanning {
            since_ms,
            until_ms,
            page,
            ..
        } = from_text(position)?
        else {
            return Err(SyncError::Connector {
                connector: "rewardful",
                detail: "a finished cursor is not a position".to_owned(),
            });
        };
        let time = |ms| {
            format_instant_ms(ms).map_err(|e| SyncError::Connector {
                connector: "rewardful",
                detail: e.to_string(),
            })
        };
        let mut url =
            reqwest::Url::parse(&format!("{}/v1/{stream}", context.base_url)).map_err(|e| {
                SyncError::Connector {
                    connector: "rewardful",
                    detail: format!("base URL: {e}"),
                }
            })?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("page", &page.to_string());
            query.append_pair(
                "limit",
                &context.page_size.clamp(1, MAX_PAGE_SIZE).to_string(),
            );
            if stream == COMMISSIONS {
                // The affiliate of a commission is `sale.affiliate`, sent only on expansion;
                // commissions take no time filter (one would be ignored).
                query.append_pair("expand[]", "sale");
            } else {
                query.append_pair("expand[]", "affiliate");
                if let Some(since) = since_ms {
                    query.append_pair("updated_since", &time(since)?);
                }
                query.append_pair("updated_until", &time(until_ms)?);
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
        // Rewardful's errors: {"error": "…"} (sometimes {"errors": [...]}).
        let message = || {
            response
                .json()
                .ok()
                .and_then(|b| {
                    b.get("error").or_else(|| b.get("errors")).map(|e| {
                        e.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| e.to_string())
                    })
                })
                .unwrap_or_else(|| response.body_excerpt())
        };
        match response.status {
            401 | 403 => ResponseVerdict::Unauthorized {
                detail: format!("HTTP {}: {}", response.status, message()),
            },
            429 => ResponseVerdict::Throttled {
                wait: response.retry_after(),
                detail: format!("HTTP 429: {}", message()),
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
        stream: &str,
        position: &str,
        response: &HttpResponse,
    ) -> Result<Page, String> {
        #[derive(serde::Deserialize)]
        struct Pagination {
            next_page: Option<u32>,
            total_count: Option<u64>,
        }
        #[derive(serde::Deserialize)]
        struct Envelope {
            pagination: Pagination,
            data: Vec<Value>,
        }
        let RewardfulCursor::Scanning {
            since_ms,
            until_ms,
            page,
            total_count,
            rescans,
        } = from_text(position).map_err(|e| e.to_string())?
        else {
            return Err("a finished cursor is not a position".to_owned());
        };
        let envelope: Envelope =
            serde_json::from_slice(&response.body).map_err(|e| e.to_string())?;
        let records = envelope
            .data
            .into_iter()
            .enumerate()
            .map(|(index, mut payload)| {
                drop_volatile_fields(&mut payload);
                let external_id = match payload.get("id") {
                    Some(Value::String(id)) if !id.is_empty() => id.clone(),
                    _ => format!("(no id: {stream} page {page} item {index})"),
                };
                RawRecord {
                    external_id,
                    payload,
                }
            })
            .collect();
        // Referrals: any change of the window's size means records left it (see the module
        // docs). Commissions: only fewer records shift pages left; new ones arrive on page 1.
        let moved = match (total_count, envelope.pagination.total_count) {
            (Some(before), Some(now)) if stream == COMMISSIONS => now < before,
            (Some(before), Some(now)) => now != before,
            _ => false,
        };
        let scanning = |page, total_count, rescans| RewardfulCursor::Scanning {
            since_ms,
            until_ms,
            page,
            total_count,
            rescans,
        };
        let next_cursor = if moved && rescans < MAX_RESCANS {
            // Records left the window mid-scan: later pages shifted left, so read it again.
            Some(scanning(1, None, rescans + 1))
        } else {
            match envelope.pagination.next_page {
                Some(next) if next > page => Some(scanning(
                    next,
                    total_count.or(envelope.pagination.total_count),
                    rescans,
                )),
                Some(next) => {
                    return Err(format!(
                        "pagination.next_page {next} does not come after page {page}"
                    ));
                }
                None => None,
            }
        };
        Ok(match next_cursor {
            Some(cursor) => Page {
                records,
                checkpoint: to_text(&cursor),
                next: Some(to_text(&cursor)),
                pause_before_next: None,
            },
            None => Page {
                records,
                checkpoint: to_text(&RewardfulCursor::Finished {
                    watermark_ms: until_ms,
                }),
                next: None,
                pause_before_next: None,
            },
        })
    }

    fn normalize(
        &self,
        context: &SourceContext,
        stream: &str,
        payload: &Value,
    ) -> Result<Normalized, RecordProblem> {
        let record = object(payload)?;
        match stream {
            COMMISSIONS => normalize_commission(context, record),
            REFERRALS => normalize_referral(context, record),
            other => Err(RecordProblem::new(format!(
                "unknown Rewardful stream {other:?}"
            ))),
        }
    }

    fn test_request(&self, context: &SourceContext) -> Result<HttpRequest, SyncError> {
        Ok(HttpRequest::get(format!(
            "{}/v1/commissions?page=1&limit=1",
            context.base_url
        )))
    }
}

fn to_text(cursor: &RewardfulCursor) -> String {
    serde_json::to_string(cursor).expect("a cursor serializes")
}

fn from_text(text: &str) -> Result<RewardfulCursor, SyncError> {
    serde_json::from_str(text).map_err(|e| SyncError::Connector {
        connector: "rewardful",
        detail: format!("bad position {text:?}: {e}"),
    })
}

/// Removes [`VOLATILE_FIELDS`] from every object nested in `payload` (not from the record's own
/// top-level fields).
fn drop_volatile_fields(payload: &mut Value) {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.retain(|key, _| !VOLATILE_FIELDS.contains(&key.as_str()));
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if let Value::Object(record) = payload {
        record.values_mut().for_each(strip);
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

fn instant(record: &Map<String, Value>, field: &str) -> Result<i64, RecordProblem> {
    parse_instant_ms(required_str(record, field)?)
        .map_err(|e| RecordProblem::new(format!("field {field}: {e}")))
}

/// The affiliate as a creator: its id, and its name when Rewardful sent one.
fn affiliate_creator(affiliate: &Map<String, Value>) -> Result<Creator, RecordProblem> {
    let id = required_str(affiliate, "id")
        .map_err(|p| RecordProblem::new(format!("affiliate.{}", p.reason)))?;
    let name = [
        optional_str(affiliate, "first_name")?,
        optional_str(affiliate, "last_name")?,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    Ok(Creator {
        creator_id: id.to_owned(),
        display_name: if name.is_empty() { id.to_owned() } else { name },
        handle: None,
        platform: Some("rewardful".to_owned()),
        created_at_ms: optional_str(affiliate, "created_at")?
            .and_then(|t| parse_instant_ms(t).ok()),
    })
}

fn normalize_commission(
    context: &SourceContext,
    record: &Map<String, Value>,
) -> Result<Normalized, RecordProblem> {
    let id = required_str(record, "id")?;
    let unknown_fields = count_unknown(record, COMMISSION_FIELDS);
    // A commission names its affiliate only inside its sale, and the sale only when the list
    // was asked with expand[]=sale.
    let sale = sub_object(record, "sale")?.ok_or_else(|| {
        RecordProblem::new(
            "required field sale is missing (the affiliate is sale.affiliate; list with expand[]=sale)",
        )
    })?;
    let affiliate = sub_object(sale, "affiliate")
        .map_err(|p| RecordProblem::new(format!("sale.{}", p.reason)))?
        .ok_or_else(|| RecordProblem::new("required field sale.affiliate is missing"))?;
    let creator = affiliate_creator(affiliate)?;
    if CommissionState::parse(required_str(record, "state")?) == CommissionState::Voided {
        // Not a cost, and no longer one if it was stored as one before it was voided; the raw
        // event keeps it.
        return Ok(Normalized {
            rows: vec![
                CanonicalRow::Creator(creator),
                CanonicalRow::VoidedCreatorCost {
                    cost_id: id.to_owned(),
                    source: context.source_id.clone(),
                },
            ],
            unknown_fields,
        });
    }
    let amount = required_i64(record, "amount")?;
    if amount < 0 {
        return Err(RecordProblem::new(format!(
            "field amount is negative ({amount})"
        )));
    }
    let currency = Currency::parse(required_str(record, "currency")?)
        .map_err(|e| RecordProblem::new(format!("field currency: {e}")))?;
    let created = format_instant_ms(instant(record, "created_at")?)
        .map_err(|e| RecordProblem::new(format!("field created_at: {e}")))?;
    let cost = CreatorCost {
        cost_id: id.to_owned(),
        creator_id: creator.creator_id.clone(),
        day: created[..10].to_owned(),
        kind: CreatorCostKind::Commission,
        amount_minor: amount,
        currency: currency.code().to_owned(),
        source: context.source_id.clone(),
        raw_event_id: None,
    };
    Ok(Normalized {
        rows: vec![
            CanonicalRow::Creator(creator),
            CanonicalRow::CreatorCost(cost),
        ],
        unknown_fields,
    })
}

fn normalize_referral(
    context: &SourceContext,
    record: &Map<String, Value>,
) -> Result<Normalized, RecordProblem> {
    let id = required_str(record, "id")?;
    let created_at_ms = instant(record, "created_at")?;
    let affiliate = sub_object(record, "affiliate")?
        .map(affiliate_creator)
        .transpose()?;
    let customer = sub_object(record, "customer")?;
    let email_sha256 = customer
        .and_then(|c| c.get("email_sha256"))
        .and_then(Value::as_str)
        .filter(|h| *h != lookback_core::pii::WITHHELD)
        .map(str::to_owned);
    // The Stripe customer id, which is what the Stripe connector stores as customer_id.
    let customer_id = optional_str(record, "stripe_customer_id")?
        .or(customer
            .and_then(|c| c.get("platform_id"))
            .and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let mut rows = Vec::new();
    rows.push(CanonicalRow::Touch(Touch {
        touch_id: id.to_owned(),
        source: context.source_id.clone(),
        occurred_at_ms: created_at_ms,
        channel: CHANNEL.to_owned(),
        touch_type: "click".to_owned(),
        creator_id: affiliate.as_ref().map(|a| a.creator_id.clone()),
        campaign_id: None,
        ad_id: None,
        content_id: sub_object(record, "link")?
            .and_then(|l| l.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        click_id: Some(id.to_owned()),
        identity: IdentityKeys {
            anonymous_id: Some(id.to_owned()),
            ..IdentityKeys::default()
        },
        raw_event_id: None,
    }));
    let link_at = optional_str(record, "became_lead_at")?
        .and_then(|t| parse_instant_ms(t).ok())
        .unwrap_or(created_at_ms);
    let visitor = IdentityKey::new(IdentityKeyType::AnonymousId, id);
    for key in [
        email_sha256.map(|h| IdentityKey::new(IdentityKeyType::EmailSha256, h)),
        customer_id.map(|c| IdentityKey::new(IdentityKeyType::CustomerId, c)),
    ]
    .into_iter()
    .flatten()
    {
        rows.push(CanonicalRow::IdentityLink(IdentityLink {
            a: visitor.clone(),
            b: key,
            source: context.source_id.clone(),
            created_at_ms: link_at,
        }));
    }
    rows.extend(affiliate.map(CanonicalRow::Creator));
    Ok(Normalized {
        rows,
        unknown_fields: count_unknown(record, REFERRAL_FIELDS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> SourceContext {
        SourceContext {
            source_id: "rw".into(),
            source_name: "rw".into(),
            base_url: "https://api.getrewardful.com".into(),
            account: None,
            restatement_days: 0,
            page_size: 100,
            now_ms: 1_772_323_200_000,
        }
    }

    fn page(body: Value) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: Default::default(),
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn a_voided_commission_is_no_cost_and_a_pending_one_is() {
        let commission = |state: &str| {
            json!({"id": "c1", "amount": 1500, "currency": "USD", "state": state,
            "created_at": "2026-02-03T23:30:00.000Z", "sale": {"id": "s1", "affiliate": {"id": "aff_1", "first_name": "Ann", "last_name": "Lee"}}})
        };
        let rows = RewardfulConnector
            .normalize(&context(), COMMISSIONS, &commission("pending"))
            .unwrap()
            .rows;
        let cost = rows
            .iter()
            .find_map(|r| match r {
                CanonicalRow::CreatorCost(c) => Some(c),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (
                cost.day.as_str(),
                cost.amount_minor,
                cost.creator_id.as_str()
            ),
            ("2026-02-03", 1500, "aff_1")
        );
        let voided = RewardfulConnector
            .normalize(&context(), COMMISSIONS, &commission("voided"))
            .unwrap()
            .rows;
        assert!(
            !voided
                .iter()
                .any(|r| matches!(r, CanonicalRow::CreatorCost(_)))
        );
    }

    #[test]
    fn a_commission_without_its_expanded_sale_is_a_dead_letter_naming_the_field() {
        let bare = json!({"id": "c1", "amount": 1500, "currency": "USD", "state": "due",
                          "created_at": "2026-02-03T23:30:00.000Z"});
        let problem = RewardfulConnector
            .normalize(&context(), COMMISSIONS, &bare)
            .unwrap_err();
        assert!(problem.reason.contains("sale"), "{}", problem.reason);
        let no_affiliate = json!({"id": "c1", "amount": 1500, "currency": "USD", "state": "due",
                                  "created_at": "2026-02-03T23:30:00.000Z", "sale": {"id": "s1", "affiliate": null}});
        let problem = RewardfulConnector
            .normalize(&context(), COMMISSIONS, &no_affiliate)
            .unwrap_err();
        assert!(
            problem.reason.contains("sale.affiliate"),
            "{}",
            problem.reason
        );
    }

    #[test]
    fn commissions_expand_the_sale_and_are_read_whole_every_run_referrals_expand_the_affiliate() {
        let ctx = context();
        let finished = r#"{"phase":"finished","watermark_ms":1772000000000}"#;
        let url = |stream| {
            let position = RewardfulConnector
                .start_position(&ctx, stream, Some(finished))
                .unwrap()
                .unwrap();
            RewardfulConnector
                .page_request(&ctx, stream, &position)
                .unwrap()
                .url
        };
        let commissions = url(COMMISSIONS);
        assert!(
            commissions.contains("expand%5B%5D=sale") && commissions.contains("page=1"),
            "{commissions}"
        );
        assert!(
            !commissions.contains("updated_"),
            "commissions take no time filter: {commissions}"
        );
        let referrals = url(REFERRALS);
        assert!(
            referrals.contains("expand%5B%5D=affiliate") && referrals.contains("updated_since="),
            "{referrals}"
        );
    }

    #[test]
    fn live_counters_of_embedded_objects_are_not_stored_but_the_records_own_fields_are() {
        let ctx = context();
        let position = RewardfulConnector
            .start_position(&ctx, COMMISSIONS, None)
            .unwrap()
            .unwrap();
        let body = |visitors: u64| {
            page(
                json!({"pagination": {"current_page": 1, "next_page": null, "total_pages": 1, "total_count": 1},
                "data": [{"id": "c1", "updated_at": "2026-02-03T23:30:00.000Z", "state": "due",
                          "sale": {"id": "s1", "updated_at": "2026-02-04T00:00:00.000Z",
                                   "affiliate": {"id": "aff_1", "visitors": visitors, "sign_in_count": visitors,
                                                 "updated_at": format!("2026-03-01T00:00:{:02}.000Z", visitors % 60)},
                                   "referral": {"id": "r1", "visits": visitors, "link": {"id": "l1", "visitors": visitors}}}}]}),
            )
        };
        let stored = |visitors| {
            RewardfulConnector
                .parse_page(&ctx, COMMISSIONS, &position, &body(visitors))
                .unwrap()
                .records[0]
                .payload
                .clone()
        };
        assert_eq!(
            stored(3),
            stored(40),
            "a visit changes no stored commission"
        );
        let payload = stored(3);
        assert_eq!(payload["updated_at"], json!("2026-02-03T23:30:00.000Z"));
        assert_eq!(payload["sale"]["affiliate"]["id"], json!("aff_1"));
        assert_eq!(payload["sale"]["referral"]["link"], json!({"id": "l1"}));
    }

    #[test]
    fn a_total_count_that_changes_mid_scan_restarts_the_window_once_per_change() {
        let ctx = context();
        let first = RewardfulConnector
            .start_position(&ctx, COMMISSIONS, None)
            .unwrap()
            .unwrap();
        let p1 = RewardfulConnector
            .parse_page(&ctx, COMMISSIONS, &first, &page(json!({"pagination": {"current_page": 1, "next_page": 2, "total_pages": 3, "total_count": 250}, "data": []})))
            .unwrap();
        let second = p1.next.unwrap();
        let p2 = RewardfulConnector
            .parse_page(&ctx, COMMISSIONS, &second, &page(json!({"pagination": {"current_page": 2, "next_page": 3, "total_pages": 3, "total_count": 249}, "data": []})))
            .unwrap();
        let restarted: Value = serde_json::from_str(&p2.next.unwrap()).unwrap();
        assert_eq!(
            (restarted["page"].as_u64(), restarted["rescans"].as_u64()),
            (Some(1), Some(1))
        );
        // A new commission lands on page 1 (newest first) and only pushes the rest right.
        let p2 = RewardfulConnector
            .parse_page(&ctx, COMMISSIONS, &second, &page(json!({"pagination": {"current_page": 2, "next_page": 3, "total_pages": 3, "total_count": 251}, "data": []})))
            .unwrap();
        let next: Value = serde_json::from_str(&p2.next.unwrap()).unwrap();
        assert_eq!(
            (next["page"].as_u64(), next["rescans"].as_u64()),
            (Some(3), Some(0))
        );
    }
}
