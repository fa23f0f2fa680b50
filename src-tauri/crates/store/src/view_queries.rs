//! Read queries behind the ROAS, CAC, model-comparison and creator-revenue views and the
//! event-level CSV exports: a run's credits keyed by a touch dimension (creator, campaign,
//! channel, content, platform), ad spend and creator costs in a day range, the credits of
//! customers' first orders with the value of their next 30/60/90 days, and row-by-row streams of
//! credits, orders, touches and spend.
//!
//! Every query that reads a run's orders takes the same [`RunOrderFilter`] as the credits report
//! (order time range, settled only), so the parts of every view add up to the same totals.
//!
//! Streams hand each row to a callback borrowing the row's text, and stop at the callback's
//! first error, so an export of a million credits never holds more than one row and a full disk
//! ends it at once.

use rusqlite::{OptionalExtension, Row, params};

use crate::runs::credit_touch_join;
use crate::{
    COUNTED_ADJUSTMENT, CreatorCost, CreditBasis, CreditGrouping, JoinKind, RunOrderFilter, Store,
    StoreError, StoreResult,
};

/// Campaign and creator platforms, for mapping (campaign, creator) totals to platforms.
struct PlatformMap {
    campaigns: std::collections::HashMap<String, String>,
    creators: std::collections::HashMap<String, String>,
}

impl PlatformMap {
    /// The platform of a touch with this (campaign, creator) key: its campaign's, else its
    /// creator's — [`ViewDimension::Platform`]'s SQL in Rust.
    fn of_pair(&self, pair: &str) -> Option<String> {
        let (campaign, creator) = crate::reports::split_campaign_creator_key(pair);
        campaign
            .and_then(|c| self.campaigns.get(c))
            .or_else(|| creator.and_then(|c| self.creators.get(c)))
            .cloned()
    }
}

/// The touch attribute a view groups credits by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewDimension {
    /// The touch's creator id.
    Creator,
    /// The touch's campaign id.
    Campaign,
    /// The touch's channel.
    Channel,
    /// The touch's content id (post, story, video, link).
    Content,
    /// The platform of the touch's campaign, else of the touch's creator. Touches have no
    /// platform column; these are the two places a platform is recorded about them.
    Platform,
}

impl ViewDimension {
    /// The key expression over `touches t LEFT JOIN campaigns cp LEFT JOIN creators cr`. Empty
    /// strings are NULL: to a reader both mean "nothing recorded".
    fn key_sql(self) -> &'static str {
        match self {
            ViewDimension::Creator => "NULLIF(t.creator_id, '')",
            ViewDimension::Campaign => "NULLIF(t.campaign_id, '')",
            ViewDimension::Channel => "NULLIF(t.channel, '')",
            ViewDimension::Content => "NULLIF(t.content_id, '')",
            ViewDimension::Platform => "COALESCE(NULLIF(cp.platform, ''), NULLIF(cr.platform, ''))",
        }
    }

    /// The joins the key needs beyond `touches t`; only the platform looks further.
    fn joins_sql(self) -> &'static str {
        match self {
            ViewDimension::Platform => {
                "LEFT JOIN campaigns cp ON cp.campaign_id = t.campaign_id
                 LEFT JOIN creators cr ON cr.creator_id = t.creator_id"
            }
            _ => "",
        }
    }
}

/// The customer an order belongs to, for "is this a customer's first order": the shop's
/// customer id, else the email hash, else the person id; an order with none of them is its own
/// one-order customer (nothing says it is a repeat, so it counts as new). Each key type is
/// prefixed so that an email hash can never equal a customer id by accident. The identity graph
/// is deliberately not consulted: a customer is what the shop calls a customer.
pub const CUSTOMER_KEY_SQL: &str = "CASE
        WHEN customer_id <> '' THEN 'customer_id:' || customer_id
        WHEN email_sha256 <> '' THEN 'email_sha256:' || email_sha256
        WHEN person_id <> '' THEN 'person_id:' || person_id
        ELSE 'order:' || order_id END";

/// A run's credits of one key (and, when asked, one order instant), summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewCreditGroup {
    /// The key; `None` when the touch has no value for the dimension.
    pub key: Option<String>,
    /// The credit's instant under the filter's basis (the order's, or the touch's under
    /// accrual), when grouped by it (for bucketing in the reporting zone).
    pub order_at_ms: Option<i64>,
    /// Σ share_ppb: conversions in billionths.
    pub share_ppb: i128,
    /// Σ revenue_minor, reporting currency.
    pub revenue_minor: i64,
    /// The part of `revenue_minor` on provisional orders.
    pub provisional_revenue_minor: i64,
}

/// A run's credits of one key and one day (the order's, or the touch's under the accrual basis),
/// summed from the run's stored totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewCreditBucket {
    /// The key; `None` when the touch has no value for the dimension.
    pub key: Option<String>,
    /// The day as the run's reporting zone had it: the instant range `[start, end)`.
    pub day_start_ms: i64,
    pub day_end_ms: i64,
    /// Σ share_ppb: conversions in billionths.
    pub share_ppb: i128,
    /// Σ revenue_minor, reporting currency.
    pub revenue_minor: i64,
    /// The part of `revenue_minor` on provisional orders.
    pub provisional_revenue_minor: i64,
}

/// Ad spend of one (platform, campaign, channel, creator, day, currency), ads summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSpend {
    pub platform: String,
    pub campaign_id: String,
    pub channel: String,
    /// The spend row's creator, else its campaign's (creator/whitelisted ads).
    pub creator_id: Option<String>,
    /// `YYYY-MM-DD` in the ad account's zone, as the platform reported it.
    pub day: String,
    pub spend_minor: i64,
    /// The ad account's currency.
    pub currency: String,
}

/// One credit of a customer's first order, with what that customer's orders in the run were
/// worth within each window after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomerCredit {
    pub key: Option<String>,
    pub first_order_id: String,
    pub first_order_at_ms: i64,
    pub share_ppb: i64,
    /// Net revenue (reporting currency) of the customer's orders placed in
    /// `[first order, first order + windows_days[i])`, first order included, as the run
    /// converted them (orders without an fx rate are left out; settled only when filtered so).
    pub value_minor: [i64; 3],
}

/// The credits of one order to one creator's touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorOrderCredit {
    pub order_id: String,
    pub occurred_at_ms: i64,
    /// The order's gross in its own currency.
    pub gross_minor: i64,
    pub currency: String,
    /// The order's net in the reporting currency (as the run converted it).
    pub net_minor: i64,
    pub provisional: bool,
    /// Σ share_ppb of the creator's touches in this order.
    pub share_ppb: i64,
    /// Σ credited revenue of those touches, reporting currency.
    pub revenue_minor: i64,
}

/// One credit as the event-level export writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportCredit<'r> {
    pub order_id: &'r str,
    pub order_at_ms: i64,
    pub touch_id: &'r str,
    pub touch_at_ms: i64,
    pub channel: &'r str,
    pub creator_id: Option<&'r str>,
    pub campaign_id: Option<&'r str>,
    pub content_id: Option<&'r str>,
    pub share_ppb: i64,
    pub revenue_minor: i64,
    pub join_kind: &'r str,
    pub confidence_ppm: i64,
    pub provisional: bool,
}

/// One order as the event-level export writes it, with its counted adjustments and, when a
/// run is given, what the run made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOrder<'r> {
    pub order_id: &'r str,
    pub source: &'r str,
    pub occurred_at_ms: i64,
    pub status: &'r str,
    pub gross_minor: i64,
    pub currency: &'r str,
    /// Counted refunds and chargebacks booked in the order's currency.
    pub refunds_minor: i64,
    pub chargebacks_minor: i64,
    /// The run's outcome (`attributed`, `unattributed`, `missing_fx`), if the run saw the order.
    pub outcome: Option<&'r str>,
    /// The run's net revenue: reporting currency, or the order's for `missing_fx`.
    pub net_minor: Option<i64>,
    pub provisional: Option<bool>,
    pub join_kind: Option<&'r str>,
    pub click_id: Option<&'r str>,
    pub customer_id: Option<&'r str>,
    pub email_sha256: Option<&'r str>,
    pub person_id: Option<&'r str>,
    pub anonymous_id: Option<&'r str>,
    pub device_id: Option<&'r str>,
}

/// One touch as the event-level export writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportTouch<'r> {
    pub touch_id: &'r str,
    pub source: &'r str,
    pub occurred_at_ms: i64,
    pub channel: &'r str,
    pub touch_type: &'r str,
    pub creator_id: Option<&'r str>,
    pub campaign_id: Option<&'r str>,
    pub ad_id: Option<&'r str>,
    pub content_id: Option<&'r str>,
    pub click_id: Option<&'r str>,
    pub customer_id: Option<&'r str>,
    pub email_sha256: Option<&'r str>,
    pub person_id: Option<&'r str>,
    pub anonymous_id: Option<&'r str>,
    pub device_id: Option<&'r str>,
}

/// One ad spend row as the event-level export writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportSpend<'r> {
    pub day: &'r str,
    pub account_timezone: &'r str,
    pub platform: &'r str,
    pub account_id: &'r str,
    pub campaign_id: &'r str,
    pub ad_id: &'r str,
    pub channel: &'r str,
    pub creator_id: Option<&'r str>,
    pub spend_minor: i64,
    pub currency: &'r str,
    pub impressions: Option<i64>,
    pub clicks: Option<i64>,
    pub source: &'r str,
}

fn text<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(row.get_ref(index)?.as_str_or_null()?)
}

fn text_or_empty<'r>(row: &'r Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    Ok(text(row, index)?.unwrap_or(""))
}

/// The touches of the event-level export, in time order: a sort of the rows, which the export
/// reads whole anyway (0025 dropped the time index, 16 bytes a touch, for this one reader).
pub(crate) const EXPORT_TOUCHES_SQL: &str =
    "SELECT touch_id, source, occurred_at_ms, channel, touch_type, creator_id, campaign_id, ad_id,
            content_id, click_id, customer_id, email_sha256, person_id, anonymous_id, device_id
     FROM touches
     WHERE (?1 IS NULL OR occurred_at_ms >= ?1) AND (?2 IS NULL OR occurred_at_ms < ?2)
     ORDER BY occurred_at_ms, touch_id";

/// Whether a touch names a creator (`touches_by_creator`).
pub(crate) const CREATOR_HAS_TOUCHES_SQL: &str =
    "SELECT 1 FROM touches WHERE creator_id = ?1 LIMIT 1";

/// The spend rows of the event-level export, by day (`ad_spend_by_day` gives the order).
pub(crate) const EXPORT_SPEND_SQL: &str =
    "SELECT day, account_timezone, platform, account_id, campaign_id, ad_id, channel, creator_id,
            spend_minor, currency, impressions, clicks, source
     FROM ad_spend
     WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2)
     ORDER BY day, platform, account_id, campaign_id, ad_id";

impl Store {
    /// Calls `each` with a run's credits over the orders `filter` selects, summed by the key of
    /// `dimension` — and by the credit's instant too when `by_order_time` (the order's, or the
    /// touch's under the accrual basis; so the caller can bucket by day in the reporting zone,
    /// which SQLite cannot compute). Sorted by key, then instant.
    pub fn for_each_view_credit_group(
        &self,
        run_id: i64,
        dimension: ViewDimension,
        filter: &RunOrderFilter,
        by_order_time: bool,
        mut each: impl FnMut(ViewCreditGroup),
    ) -> StoreResult<()> {
        let at = filter.basis.time_sql();
        let (time_select, time_group) = if by_order_time {
            (at, format!(", {at}"))
        } else {
            ("NULL", String::new())
        };
        let sql = format!(
            "SELECT {key} AS k, {time_select}, SUM(c.share_ppb), SUM(c.revenue_minor),
                    SUM(CASE WHEN ro.provisional = 1 THEN c.revenue_minor ELSE 0 END)
             FROM credits c
             JOIN run_orders ro ON ro.run_id = c.run_id AND ro.order_id = c.order_id
             JOIN orders o ON o.order_id = c.order_id
             JOIN touches t ON {credit_touch}
             {joins}
             WHERE c.run_id = ?1 AND {credit_filter}
             GROUP BY k{time_group} ORDER BY k{time_group}",
            credit_touch = credit_touch_join(&self.conn)?,
            key = dimension.key_sql(),
            joins = dimension.joins_sql(),
            credit_filter = filter.basis.filter_sql(),
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params![
            run_id,
            filter.from_at_ms,
            filter.until_at_ms,
            filter.settled_only
        ])?;
        while let Some(row) = rows.next()? {
            each(ViewCreditGroup {
                key: row.get(0)?,
                order_at_ms: row.get(1)?,
                share_ppb: i128::from(row.get::<_, i64>(2)?),
                revenue_minor: row.get(3)?,
                provisional_revenue_minor: row.get(4)?,
            });
        }
        Ok(())
    }

    /// [`Store::for_each_view_credit_group`]'s sums read from the run's stored credit totals
    /// (migration 0003; by touch day, 0020) instead of joining every credit to its touch: per
    /// key, day (the instant range `[day_start_ms, day_end_ms)` of the order's day in the run's
    /// reporting zone, or of the touch's under the accrual basis)
    /// and provisional flag, sorted by key then day. The platform dimension reads the totals per
    /// (campaign, creator) and maps each pair to its platform with the campaigns and creators as
    /// they are now, exactly as the join does. `None` when only the exact join can answer: a run
    /// without totals (or without the grouping) or whose inputs changed since, or a filter
    /// bound inside a day.
    pub fn view_credit_buckets_from_totals(
        &self,
        run_id: i64,
        dimension: ViewDimension,
        filter: &RunOrderFilter,
    ) -> StoreResult<Option<Vec<ViewCreditBucket>>> {
        let grouping = match dimension {
            ViewDimension::Creator => CreditGrouping::Creator,
            ViewDimension::Campaign => CreditGrouping::Campaign,
            ViewDimension::Channel => CreditGrouping::Channel,
            ViewDimension::Content => CreditGrouping::Content,
            ViewDimension::Platform => CreditGrouping::CampaignCreator,
        };
        // The buckets' days are the basis's: order days, or touch days (migration 0020).
        let Some(name) = grouping.totals_name(filter.basis) else {
            return Ok(None);
        };
        if !self.report_totals_usable(run_id)? {
            return Ok(None);
        }
        let payload: Option<Vec<u8>> = self
            .conn
            .prepare_cached(
                "SELECT payload FROM run_credit_totals WHERE run_id = ?1 AND grouping = ?2",
            )?
            .query_row(params![run_id, name], |row| row.get(0))
            .optional()?;
        let Some(payload) = payload else {
            return Ok(None);
        };
        let buckets = crate::attribution_io::decode_totals(&payload, grouping, filter.basis)?;
        let cuts =
            |bound: Option<i64>, start: i64, end: i64| bound.is_some_and(|x| start < x && x < end);
        if buckets.iter().any(|b| {
            cuts(filter.from_at_ms, b.day_start_ms, b.day_end_ms)
                || cuts(filter.until_at_ms, b.day_start_ms, b.day_end_ms)
        }) {
            return Ok(None);
        }
        let platforms = if dimension == ViewDimension::Platform {
            Some(self.platform_map()?)
        } else {
            None
        };
        // Empty keys are NULL, as in the exact query's NULLIF.
        let mut sums: Vec<ViewCreditBucket> = Vec::with_capacity(buckets.len());
        for bucket in buckets {
            let inside = filter
                .from_at_ms
                .is_none_or(|from| bucket.day_start_ms >= from)
                && filter
                    .until_at_ms
                    .is_none_or(|until| bucket.day_end_ms <= until)
                && !(filter.settled_only && bucket.provisional);
            if !inside {
                continue;
            }
            let key = match &platforms {
                Some(platforms) => bucket.key.and_then(|pair| platforms.of_pair(&pair)),
                None => bucket.key.filter(|k| !k.is_empty()),
            };
            sums.push(ViewCreditBucket {
                key,
                day_start_ms: bucket.day_start_ms,
                day_end_ms: bucket.day_end_ms,
                share_ppb: i128::from(bucket.share_ppb),
                revenue_minor: bucket.revenue_minor,
                provisional_revenue_minor: if bucket.provisional {
                    bucket.revenue_minor
                } else {
                    0
                },
            });
        }
        // Sorted by key (None first, then bytewise, as SQLite's ORDER BY) and day, then each
        // (key, day)'s lines — settled and provisional, or platforms' pairs — summed into one.
        // The stored totals come mostly in this order already, which the sort finds quickly.
        sums.sort_by(|a, b| {
            (&a.key, a.day_start_ms, a.day_end_ms).cmp(&(&b.key, b.day_start_ms, b.day_end_ms))
        });
        sums.dedup_by(|line, sum| {
            let same = line.key == sum.key
                && line.day_start_ms == sum.day_start_ms
                && line.day_end_ms == sum.day_end_ms;
            if same {
                sum.share_ppb += line.share_ppb;
                sum.revenue_minor += line.revenue_minor;
                sum.provisional_revenue_minor += line.provisional_revenue_minor;
            }
            same
        });
        Ok(Some(sums))
    }

    /// The platform recorded for each campaign and creator (non-empty ones only).
    fn platform_map(&self) -> StoreResult<PlatformMap> {
        let read = |sql: &str| -> StoreResult<std::collections::HashMap<String, String>> {
            let mut statement = self.conn.prepare_cached(sql)?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        };
        Ok(PlatformMap {
            campaigns: read("SELECT campaign_id, platform FROM campaigns WHERE platform <> ''")?,
            creators: read("SELECT creator_id, platform FROM creators WHERE platform <> ''")?,
        })
    }

    /// A run's credited revenue over the orders `filter` selects, by how the order was joined
    /// to its touches.
    pub fn credited_revenue_by_join_kind(
        &self,
        run_id: i64,
        filter: &RunOrderFilter,
    ) -> StoreResult<Vec<(JoinKind, i64)>> {
        // A run with view totals: every credit carries its order's join kind and an attributed
        // order's credits sum to its net revenue, so the order buckets' net revenue by join kind
        // is exactly the credits' — a few hundred rows instead of joining every credit.
        // Without bounds both bases select every credit, so the order buckets answer both.
        let dated_by_order = filter.basis == CreditBasis::Cash
            || (filter.from_at_ms.is_none() && filter.until_at_ms.is_none());
        if dated_by_order
            && self.view_totals_usable(run_id)?
            && !self.order_buckets_cut(run_id, filter)?
        {
            let mut statement = self.conn.prepare_cached(
                "SELECT join_kind, SUM(net_minor) FROM run_order_buckets
                 WHERE run_id = ?1 AND outcome = 'attributed' AND join_kind IS NOT NULL
                   AND (?2 IS NULL OR day_start_ms >= ?2) AND (?3 IS NULL OR day_end_ms <= ?3)
                   AND (?4 = 0 OR provisional = 0)
                 GROUP BY join_kind ORDER BY join_kind",
            )?;
            let rows = statement.query_map(
                params![
                    run_id,
                    filter.from_at_ms,
                    filter.until_at_ms,
                    filter.settled_only
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            return Ok(rows.collect::<Result<_, _>>()?);
        }
        self.credited_revenue_by_join_kind_exact(run_id, filter)
    }

    /// [`Store::credited_revenue_by_join_kind`] always by joining every credit to its order: the
    /// reference the stored totals are checked against.
    pub fn credited_revenue_by_join_kind_exact(
        &self,
        run_id: i64,
        filter: &RunOrderFilter,
    ) -> StoreResult<Vec<(JoinKind, i64)>> {
        let sql = format!(
            "SELECT c.join_kind, SUM(c.revenue_minor)
             FROM credits c
             JOIN run_orders ro ON ro.run_id = c.run_id AND ro.order_id = c.order_id
             JOIN orders o ON o.order_id = c.order_id
             {touches}
             WHERE c.run_id = ?1 AND {credit_filter}
             GROUP BY c.join_kind ORDER BY c.join_kind",
            touches = match filter.basis {
                CreditBasis::Cash => String::new(),
                CreditBasis::Accrual =>
                    format!("JOIN touches t ON {}", credit_touch_join(&self.conn)?),
            },
            credit_filter = filter.basis.filter_sql(),
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only
            ],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ad spend with `from_day <= day <= to_day` (either bound optional; days compared as
    /// `YYYY-MM-DD` text in the account's zone), ads of one campaign and day summed, sorted by
    /// day then platform and campaign. (Grouped in the order it is sorted, so SQLite sorts the
    /// rows once instead of twice.)
    pub fn view_spend(
        &self,
        from_day: Option<&str>,
        to_day: Option<&str>,
    ) -> StoreResult<Vec<ViewSpend>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT s.platform, s.campaign_id, s.channel,
                    COALESCE(NULLIF(s.creator_id, ''), NULLIF(cp.creator_id, '')) AS creator,
                    s.day, SUM(s.spend_minor), s.currency
             FROM ad_spend s LEFT JOIN campaigns cp ON cp.campaign_id = s.campaign_id
             WHERE (?1 IS NULL OR s.day >= ?1) AND (?2 IS NULL OR s.day <= ?2)
             GROUP BY s.day, s.platform, s.campaign_id, s.channel, creator, s.currency
             ORDER BY s.day, s.platform, s.campaign_id, s.channel, creator, s.currency",
        )?;
        let rows = statement.query_map(params![from_day, to_day], |row| {
            Ok(ViewSpend {
                platform: row.get(0)?,
                campaign_id: row.get(1)?,
                channel: row.get(2)?,
                creator_id: row.get(3)?,
                day: row.get(4)?,
                spend_minor: row.get(5)?,
                currency: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Creator costs with `from_day <= day <= to_day` (either bound optional), by day then id.
    pub fn view_creator_costs(
        &self,
        from_day: Option<&str>,
        to_day: Option<&str>,
    ) -> StoreResult<Vec<CreatorCost>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT cost_id, creator_id, day, kind, amount_minor, currency, source, raw_event_id
             FROM creator_costs
             WHERE (?1 IS NULL OR day >= ?1) AND (?2 IS NULL OR day <= ?2)
             ORDER BY day, cost_id",
        )?;
        let rows = statement.query_map(params![from_day, to_day], |row| {
            Ok(CreatorCost {
                cost_id: row.get(0)?,
                creator_id: row.get(1)?,
                day: row.get(2)?,
                kind: row.get(3)?,
                amount_minor: row.get(4)?,
                currency: row.get(5)?,
                source: row.get(6)?,
                raw_event_id: row.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Human names of a dimension's keys: creators' display names, campaigns' names, content
    /// titles. Channels and platforms are their own names, so none are returned for them.
    pub fn dimension_labels(&self, dimension: ViewDimension) -> StoreResult<Vec<(String, String)>> {
        let sql = match dimension {
            ViewDimension::Creator => "SELECT creator_id, display_name FROM creators",
            ViewDimension::Campaign => "SELECT campaign_id, name FROM campaigns",
            ViewDimension::Content => "SELECT content_id, title FROM content",
            ViewDimension::Channel | ViewDimension::Platform => return Ok(Vec::new()),
        };
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Calls `each` for every credit of a customer's first order (see [`CUSTOMER_KEY_SQL`])
    /// that `filter` selects, keyed by `dimension`, with the customer's value within each of
    /// `windows_days` after that first order. "First" is over every order in the store, not
    /// only the filtered ones: a customer who first bought last year is not new this month.
    pub fn for_each_new_customer_credit(
        &self,
        run_id: i64,
        dimension: ViewDimension,
        filter: &RunOrderFilter,
        windows_days: [u32; 3],
        mut each: impl FnMut(NewCustomerCredit),
    ) -> StoreResult<()> {
        // The window functions give every order its customer's first order (ties by id) in one
        // sorted pass; the customer's value is then one GROUP BY, without a self-join.
        let sql = format!(
            "WITH keyed AS (
                 SELECT k.order_id, k.occurred_at_ms,
                        FIRST_VALUE(k.order_id) OVER w AS first_order_id,
                        FIRST_VALUE(k.occurred_at_ms) OVER w AS first_at
                 FROM (SELECT order_id, occurred_at_ms, {CUSTOMER_KEY_SQL} AS ck FROM orders) k
                 WINDOW w AS (PARTITION BY k.ck ORDER BY k.occurred_at_ms, k.order_id)
             ),
             value AS (
                 SELECT k.first_order_id AS order_id, k.first_at AS first_at,
                        SUM(CASE WHEN k.occurred_at_ms < k.first_at + ?5 THEN ro.net_minor ELSE 0 END) AS v1,
                        SUM(CASE WHEN k.occurred_at_ms < k.first_at + ?6 THEN ro.net_minor ELSE 0 END) AS v2,
                        SUM(CASE WHEN k.occurred_at_ms < k.first_at + ?7 THEN ro.net_minor ELSE 0 END) AS v3
                 FROM keyed k JOIN run_orders ro ON ro.run_id = ?1 AND ro.order_id = k.order_id
                 WHERE ro.outcome <> 'missing_fx' AND (?4 = 0 OR ro.provisional = 0)
                 GROUP BY k.first_order_id
             )
             SELECT {key} AS key, v.order_id, v.first_at, c.share_ppb, v.v1, v.v2, v.v3
             FROM value v
             JOIN run_orders ro ON ro.run_id = ?1 AND ro.order_id = v.order_id
             JOIN orders o ON o.order_id = v.order_id
             JOIN credits c ON c.run_id = ?1 AND c.order_id = v.order_id
             JOIN touches t ON {credit_touch}
             {joins}
             WHERE {credit_filter}
             ORDER BY v.order_id, c.touch_id",
            credit_touch = credit_touch_join(&self.conn)?,
            key = dimension.key_sql(),
            joins = dimension.joins_sql(),
            credit_filter = filter.basis.filter_sql(),
        );
        let window_ms = |days: u32| i64::from(days) * 86_400_000;
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params![
            run_id,
            filter.from_at_ms,
            filter.until_at_ms,
            filter.settled_only,
            window_ms(windows_days[0]),
            window_ms(windows_days[1]),
            window_ms(windows_days[2]),
        ])?;
        while let Some(row) = rows.next()? {
            each(NewCustomerCredit {
                key: row.get(0)?,
                first_order_id: row.get(1)?,
                first_order_at_ms: row.get(2)?,
                share_ppb: row.get(3)?,
                value_minor: [row.get(4)?, row.get(5)?, row.get(6)?],
            });
        }
        Ok(())
    }

    /// The credits of one creator's touches in a run, summed per order, over the orders
    /// `filter` selects, in time order.
    pub fn creator_order_credits(
        &self,
        run_id: i64,
        creator_id: &str,
        filter: &RunOrderFilter,
    ) -> StoreResult<Vec<CreatorOrderCredit>> {
        let sql = format!(
            "SELECT o.order_id, o.occurred_at_ms, o.gross_minor, o.currency, ro.net_minor, ro.provisional,
                    SUM(c.share_ppb), SUM(c.revenue_minor)
             {from} GROUP BY o.order_id ORDER BY o.occurred_at_ms, o.order_id",
            from = creator_credits_from(&self.conn, filter)?,
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only,
                creator_id
            ],
            |row| {
                Ok(CreatorOrderCredit {
                    order_id: row.get(0)?,
                    occurred_at_ms: row.get(1)?,
                    gross_minor: row.get(2)?,
                    currency: row.get(3)?,
                    net_minor: row.get(4)?,
                    provisional: row.get(5)?,
                    share_ppb: row.get(6)?,
                    revenue_minor: row.get(7)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The credited revenue of one creator's touches in a run per instant that dates it under
    /// `filter`'s basis (the order's, or the touch's under accrual), over the credits `filter`
    /// selects, in time order: what the creator view sums per day.
    pub fn creator_credit_instants(
        &self,
        run_id: i64,
        creator_id: &str,
        filter: &RunOrderFilter,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let sql = format!(
            "SELECT {at} AS at, SUM(c.revenue_minor) {from} GROUP BY at ORDER BY at",
            at = filter.basis.time_sql(),
            from = creator_credits_from(&self.conn, filter)?,
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only,
                creator_id
            ],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The credits of one creator's touches in a run summed per content id (`None` for touches
    /// without one), over the orders `filter` selects: (content, Σ share_ppb, Σ revenue).
    pub fn creator_content_credits(
        &self,
        run_id: i64,
        creator_id: &str,
        filter: &RunOrderFilter,
    ) -> StoreResult<Vec<(Option<String>, i64, i64)>> {
        let sql = format!(
            "SELECT NULLIF(t.content_id, '') AS k, SUM(c.share_ppb), SUM(c.revenue_minor)
             {from} GROUP BY k ORDER BY k",
            from = creator_credits_from(&self.conn, filter)?,
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only,
                creator_id
            ],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether any touch names this creator (a creator can earn credit before a source
    /// describes them).
    pub fn creator_has_touches(&self, creator_id: &str) -> StoreResult<bool> {
        Ok(self
            .conn
            .prepare_cached(CREATOR_HAS_TOUCHES_SQL)?
            .exists(params![creator_id])?)
    }

    /// Streams a run's credits over the orders `filter` selects, by order then touch, one row
    /// at a time; stops at the first error `each` returns.
    pub fn for_each_export_credit<E: From<StoreError>>(
        &self,
        run_id: i64,
        filter: &RunOrderFilter,
        mut each: impl FnMut(ExportCredit<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT c.order_id, o.occurred_at_ms, c.touch_id, t.occurred_at_ms, t.channel, t.creator_id,
                    t.campaign_id, t.content_id, c.share_ppb, c.revenue_minor, c.join_kind, c.confidence_ppm,
                    ro.provisional
             FROM credits c
             JOIN run_orders ro ON ro.run_id = c.run_id AND ro.order_id = c.order_id
             JOIN orders o ON o.order_id = c.order_id
             JOIN touches t ON {credit_touch}
             WHERE c.run_id = ?1 AND {credit_filter}
             ORDER BY c.order_id, c.touch_id",
            credit_touch = credit_touch_join(&self.conn)?,
            credit_filter = filter.basis.filter_sql(),
        );
        let mut statement = self.conn.prepare_cached(&sql).map_err(StoreError::from)?;
        let mut rows = statement
            .query(params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only
            ])
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let credit = (|| -> rusqlite::Result<ExportCredit<'_>> {
                Ok(ExportCredit {
                    order_id: text_or_empty(row, 0)?,
                    order_at_ms: row.get(1)?,
                    touch_id: text_or_empty(row, 2)?,
                    touch_at_ms: row.get(3)?,
                    channel: text_or_empty(row, 4)?,
                    creator_id: text(row, 5)?,
                    campaign_id: text(row, 6)?,
                    content_id: text(row, 7)?,
                    share_ppb: row.get(8)?,
                    revenue_minor: row.get(9)?,
                    join_kind: text_or_empty(row, 10)?,
                    confidence_ppm: row.get(11)?,
                    provisional: row.get(12)?,
                })
            })()
            .map_err(StoreError::from)?;
            each(credit)?;
        }
        Ok(())
    }

    /// Streams orders placed in `[from_at_ms, until_at_ms)` in time order (ties by id), with
    /// their counted refunds and chargebacks in the order's currency and, when `run_id` is
    /// given, the run's outcome for each. `settled_only` (with a run) keeps only orders the run
    /// marked settled.
    pub fn for_each_export_order<E: From<StoreError>>(
        &self,
        run_id: Option<i64>,
        filter: &RunOrderFilter,
        mut each: impl FnMut(ExportOrder<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let sql = format!(
            "SELECT o.order_id, o.source, o.occurred_at_ms, o.status, o.gross_minor, o.currency,
                    (SELECT COALESCE(SUM(amount_minor), 0) FROM order_adjustments
                     WHERE order_id = o.order_id AND kind = 'refund' AND currency = o.currency AND {COUNTED_ADJUSTMENT}),
                    (SELECT COALESCE(SUM(amount_minor), 0) FROM order_adjustments
                     WHERE order_id = o.order_id AND kind = 'chargeback' AND currency = o.currency AND {COUNTED_ADJUSTMENT}),
                    ro.outcome, ro.net_minor, ro.provisional, ro.join_kind,
                    o.click_id, o.customer_id, o.email_sha256, o.person_id, o.anonymous_id, o.device_id
             FROM orders o LEFT JOIN run_orders ro ON ro.run_id = ?1 AND ro.order_id = o.order_id
             WHERE (?2 IS NULL OR o.occurred_at_ms >= ?2) AND (?3 IS NULL OR o.occurred_at_ms < ?3)
               AND (?4 = 0 OR ro.provisional = 0)
             ORDER BY o.occurred_at_ms, o.order_id"
        );
        let mut statement = self.conn.prepare_cached(&sql).map_err(StoreError::from)?;
        let mut rows = statement
            .query(params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only && run_id.is_some()
            ])
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let order = (|| -> rusqlite::Result<ExportOrder<'_>> {
                Ok(ExportOrder {
                    order_id: text_or_empty(row, 0)?,
                    source: text_or_empty(row, 1)?,
                    occurred_at_ms: row.get(2)?,
                    status: text_or_empty(row, 3)?,
                    gross_minor: row.get(4)?,
                    currency: text_or_empty(row, 5)?,
                    refunds_minor: row.get(6)?,
                    chargebacks_minor: row.get(7)?,
                    outcome: text(row, 8)?,
                    net_minor: row.get(9)?,
                    provisional: row.get(10)?,
                    join_kind: text(row, 11)?,
                    click_id: text(row, 12)?,
                    customer_id: text(row, 13)?,
                    email_sha256: text(row, 14)?,
                    person_id: text(row, 15)?,
                    anonymous_id: text(row, 16)?,
                    device_id: text(row, 17)?,
                })
            })()
            .map_err(StoreError::from)?;
            each(order)?;
        }
        Ok(())
    }

    /// Streams touches that occurred in `[from_at_ms, until_at_ms)` (either bound optional) in
    /// time order (ties by id).
    pub fn for_each_export_touch<E: From<StoreError>>(
        &self,
        from_at_ms: Option<i64>,
        until_at_ms: Option<i64>,
        mut each: impl FnMut(ExportTouch<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut statement = self
            .conn
            .prepare_cached(EXPORT_TOUCHES_SQL)
            .map_err(StoreError::from)?;
        let mut rows = statement
            .query(params![from_at_ms, until_at_ms])
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let touch = (|| -> rusqlite::Result<ExportTouch<'_>> {
                Ok(ExportTouch {
                    touch_id: text_or_empty(row, 0)?,
                    source: text_or_empty(row, 1)?,
                    occurred_at_ms: row.get(2)?,
                    channel: text_or_empty(row, 3)?,
                    touch_type: text_or_empty(row, 4)?,
                    creator_id: text(row, 5)?,
                    campaign_id: text(row, 6)?,
                    ad_id: text(row, 7)?,
                    content_id: text(row, 8)?,
                    click_id: text(row, 9)?,
                    customer_id: text(row, 10)?,
                    email_sha256: text(row, 11)?,
                    person_id: text(row, 12)?,
                    anonymous_id: text(row, 13)?,
                    device_id: text(row, 14)?,
                })
            })()
            .map_err(StoreError::from)?;
            each(touch)?;
        }
        Ok(())
    }

    /// Streams ad spend rows with `from_day <= day <= to_day` (either bound optional), by day
    /// then platform, account, campaign and ad.
    pub fn for_each_export_spend<E: From<StoreError>>(
        &self,
        from_day: Option<&str>,
        to_day: Option<&str>,
        mut each: impl FnMut(ExportSpend<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut statement = self
            .conn
            .prepare_cached(EXPORT_SPEND_SQL)
            .map_err(StoreError::from)?;
        let mut rows = statement
            .query(params![from_day, to_day])
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let spend = (|| -> rusqlite::Result<ExportSpend<'_>> {
                Ok(ExportSpend {
                    day: text_or_empty(row, 0)?,
                    account_timezone: text_or_empty(row, 1)?,
                    platform: text_or_empty(row, 2)?,
                    account_id: text_or_empty(row, 3)?,
                    campaign_id: text_or_empty(row, 4)?,
                    ad_id: text_or_empty(row, 5)?,
                    channel: text_or_empty(row, 6)?,
                    creator_id: text(row, 7)?,
                    spend_minor: row.get(8)?,
                    currency: text_or_empty(row, 9)?,
                    impressions: row.get(10)?,
                    clicks: row.get(11)?,
                    source: text_or_empty(row, 12)?,
                })
            })()
            .map_err(StoreError::from)?;
            each(spend)?;
        }
        Ok(())
    }
}

/// The credits of creator `?5`'s touches in run `?1` that `filter` selects (its parameters
/// `?2`–`?4`): the FROM and WHERE the creator view's reads share.
pub(crate) fn creator_credits_from(
    conn: &rusqlite::Connection,
    filter: &RunOrderFilter,
) -> StoreResult<String> {
    Ok(format!(
        "FROM credits c
         JOIN run_orders ro ON ro.run_id = c.run_id AND ro.order_id = c.order_id
         JOIN orders o ON o.order_id = c.order_id
         JOIN touches t ON {}
         WHERE c.run_id = ?1 AND t.creator_id = ?5 AND {}",
        credit_touch_join(conn)?,
        filter.basis.filter_sql()
    ))
}
