//! Aggregate queries behind the report views: a run's credits summed by channel, creator,
//! campaign, content or order, and its orders summed by outcome — with the same order filter
//! (order time range, settled only) applied to both, so the parts of a report add up.
//!
//! Sums are exact integers computed by SQLite; a sum that overflows `i64` is an SQLite error,
//! never a wrapped number.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};

/// One whole share in parts per billion (core's `SHARE_ONE_PPB`; the store does not depend on core).
const SHARE_ONE: i64 = 1_000_000_000;

use crate::runs::credit_touch_join;
use crate::{CreditBasis, RunOrderOutcome, Store, StoreResult};

/// What a credits report is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditGrouping {
    /// The touch's channel.
    Channel,
    /// The touch's creator id.
    Creator,
    /// The touch's campaign id.
    Campaign,
    /// The touch's content id.
    Content,
    /// The touch's (campaign, creator) pair, see [`campaign_creator_key`]: what the platform
    /// view maps to platforms when it reads, with the campaigns and creators as they are then.
    CampaignCreator,
    /// The credited order.
    Order,
}

/// The separator of the two ids in a [`CreditGrouping::CampaignCreator`] key (ASCII unit
/// separator, which ids do not contain).
const PAIR_SEPARATOR: char = '\u{1f}';

/// The key of a touch's (campaign, creator) pair: `None` when it has neither, else both ids
/// (an absent one empty) joined by [`PAIR_SEPARATOR`]. The engine writes run totals with it and
/// the SQL of [`CreditGrouping::CampaignCreator`] computes the same.
pub fn campaign_creator_key(campaign: Option<&str>, creator: Option<&str>) -> Option<String> {
    if campaign.is_none() && creator.is_none() {
        return None;
    }
    Some(format!(
        "{}{PAIR_SEPARATOR}{}",
        campaign.unwrap_or(""),
        creator.unwrap_or("")
    ))
}

/// The (campaign, creator) of a [`campaign_creator_key`]; empty ids are `None`.
pub(crate) fn split_campaign_creator_key(key: &str) -> (Option<&str>, Option<&str>) {
    let (campaign, creator) = key.split_once(PAIR_SEPARATOR).unwrap_or((key, ""));
    (
        Some(campaign).filter(|c| !c.is_empty()),
        Some(creator).filter(|c| !c.is_empty()),
    )
}

/// [`campaign_creator_key`] in SQL, over `touches t`.
pub(crate) const CAMPAIGN_CREATOR_KEY_SQL: &str = "CASE WHEN t.campaign_id IS NULL AND t.creator_id IS NULL THEN NULL \
     ELSE COALESCE(t.campaign_id, '') || char(31) || COALESCE(t.creator_id, '') END";

impl CreditGrouping {
    /// The SQL expression of the key over `credits c JOIN touches t`.
    fn key_sql(self) -> &'static str {
        match self {
            CreditGrouping::Channel => "t.channel",
            CreditGrouping::Creator => "t.creator_id",
            CreditGrouping::Campaign => "t.campaign_id",
            CreditGrouping::Content => "t.content_id",
            CreditGrouping::CampaignCreator => CAMPAIGN_CREATOR_KEY_SQL,
            CreditGrouping::Order => "c.order_id",
        }
    }
}

/// Which orders a report covers. Every bound is optional; the range is half-open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOrderFilter {
    /// Orders placed at or after this instant (credits dated at or after it, see `basis`).
    pub from_at_ms: Option<i64>,
    /// Orders placed strictly before this instant (credits dated before it, see `basis`).
    pub until_at_ms: Option<i64>,
    /// Only orders the run marked settled (`provisional = 0`).
    pub settled_only: bool,
    /// Which instant dates a credit for the bounds (and the days of bucketed views): the
    /// order's (cash) or the touch's (accrual). Queries of orders themselves (totals by outcome,
    /// order exports) always select by the order's instant.
    pub basis: CreditBasis,
}

/// One group of a run's credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditGroup {
    /// The key; `None` when the touches carry no value for it (no creator, say).
    pub key: Option<String>,
    /// Σ share_ppb over the group: conversions in parts per billion. `i128` because a large
    /// workspace's total exceeds nothing in `i64` today, but the sum of ppb grows fast.
    pub share_ppb: i128,
    /// Σ revenue_minor, in the run's reporting currency.
    pub revenue_minor: i64,
    /// The part of `revenue_minor` on provisional orders.
    pub provisional_revenue_minor: i64,
}

/// A run's orders of one outcome (and, for `missing_fx`, one order currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOrderTotal {
    pub outcome: RunOrderOutcome,
    /// `Some(order currency)` for `missing_fx` totals, whose `net_minor` is in that currency
    /// because it could not be converted; `None` otherwise (reporting currency).
    pub currency: Option<String>,
    pub orders: u64,
    pub net_minor: i64,
    /// How many of `orders` are provisional, and their net revenue.
    pub provisional_orders: u64,
    pub provisional_net_minor: i64,
}

const ORDER_FILTER_SQL: &str = "(?2 IS NULL OR o.occurred_at_ms >= ?2) AND (?3 IS NULL OR o.occurred_at_ms < ?3) \
     AND (?4 = 0 OR ro.provisional = 0)";

impl Store {
    /// A run's credits summed by `grouping` over the orders `filter` selects, sorted by key
    /// (missing keys first).
    pub fn credit_groups(
        &self,
        run_id: i64,
        grouping: CreditGrouping,
        filter: &RunOrderFilter,
    ) -> StoreResult<Vec<CreditGroup>> {
        let from_totals = if self.report_totals_usable(run_id)? {
            self.credit_groups_from_totals(run_id, grouping, filter)?
        } else {
            None
        };
        if let Some(groups) = from_totals {
            return Ok(groups);
        }
        let sql = format!(
            "SELECT {key} AS k, SUM(c.share_ppb), SUM(c.revenue_minor),
                    SUM(CASE WHEN ro.provisional = 1 THEN c.revenue_minor ELSE 0 END)
             FROM credits c
             JOIN run_orders ro ON ro.run_id = c.run_id AND ro.order_id = c.order_id
             JOIN orders o ON o.order_id = c.order_id
             JOIN touches t ON {credit_touch}
             WHERE c.run_id = ?1 AND {credit_filter}
             GROUP BY k ORDER BY k",
            credit_touch = credit_touch_join(&self.conn)?,
            key = grouping.key_sql(),
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
            |row| {
                Ok(CreditGroup {
                    key: row.get(0)?,
                    share_ppb: i128::from(row.get::<_, i64>(1)?),
                    revenue_minor: row.get(2)?,
                    provisional_revenue_minor: row.get(3)?,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A run's orders selected by `filter`, counted and summed by outcome (and by order
    /// currency for `missing_fx`), sorted by outcome then currency.
    pub fn run_order_totals(
        &self,
        run_id: i64,
        filter: &RunOrderFilter,
    ) -> StoreResult<Vec<RunOrderTotal>> {
        // A run written with report totals carries each order's instant and currency as it saw
        // them; while the inputs are unchanged those equal the orders table's, so the join is
        // skipped. Otherwise the orders table is read as it is now, as it always was.
        let usable = self.report_totals_usable(run_id)?;
        let from_buckets = if usable {
            self.run_order_totals_from_buckets(run_id, filter)?
        } else {
            None
        };
        if let Some(totals) = from_buckets {
            return Ok(totals);
        }
        let sql = if usable {
            format!(
                "SELECT ro.outcome, CASE WHEN ro.outcome = 'missing_fx' THEN ro.order_currency END AS cur, COUNT(*),
                        COALESCE(SUM(ro.net_minor), 0),
                        COALESCE(SUM(CASE WHEN ro.provisional = 1 THEN ro.net_minor ELSE 0 END), 0),
                        COALESCE(SUM(ro.provisional), 0)
                 FROM run_orders ro
                 WHERE ro.run_id = ?1 AND {}
                 GROUP BY ro.outcome, cur ORDER BY ro.outcome, cur",
                ORDER_FILTER_SQL.replace("o.occurred_at_ms", "ro.occurred_at_ms")
            )
        } else {
            format!(
                "SELECT ro.outcome, CASE WHEN ro.outcome = 'missing_fx' THEN o.currency END AS cur, COUNT(*),
                        COALESCE(SUM(ro.net_minor), 0),
                        COALESCE(SUM(CASE WHEN ro.provisional = 1 THEN ro.net_minor ELSE 0 END), 0),
                        COALESCE(SUM(ro.provisional), 0)
                 FROM run_orders ro JOIN orders o ON o.order_id = ro.order_id
                 WHERE ro.run_id = ?1 AND {ORDER_FILTER_SQL}
                 GROUP BY ro.outcome, cur ORDER BY ro.outcome, cur"
            )
        };
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(
            params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only
            ],
            |row| {
                Ok(RunOrderTotal {
                    outcome: row.get(0)?,
                    currency: row.get(1)?,
                    orders: row.get::<_, i64>(2)? as u64,
                    net_minor: row.get(3)?,
                    provisional_net_minor: row.get(4)?,
                    provisional_orders: row.get::<_, i64>(5)? as u64,
                })
            },
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether run `run_id` was written with report totals (`run_credit_totals` and the order
    /// columns of `run_orders`) and the workspace's inputs are still at the run's watermark — the
    /// condition under which the totals give exactly what the joins over the live tables give.
    pub(crate) fn report_totals_usable(&self, run_id: i64) -> StoreResult<bool> {
        let run: Option<(bool, String)> = self
            .conn
            .prepare_cached(
                "SELECT has_report_totals, input_watermark FROM attribution_runs WHERE run_id = ?1",
            )?
            .query_row(params![run_id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        match run {
            Some((true, watermark)) => Ok(watermark == self.input_watermark()?),
            _ => Ok(false),
        }
    }

    /// [`Store::report_totals_usable`], and the run's order buckets also carry a join kind that
    /// agrees with every credit's (migration 0006), so provenance can be read from them.
    pub(crate) fn view_totals_usable(&self, run_id: i64) -> StoreResult<bool> {
        let flagged: bool = self
            .conn
            .prepare_cached("SELECT has_view_totals FROM attribution_runs WHERE run_id = ?1")?
            .query_row(params![run_id], |row| row.get(0))
            .optional()?
            .unwrap_or(false);
        Ok(flagged && self.report_totals_usable(run_id)?)
    }

    /// Whether a bound of `filter` cuts through one of the run's order-day buckets: then only
    /// the exact queries can answer (a range not made of whole days of the run's zone).
    pub(crate) fn order_buckets_cut(
        &self,
        run_id: i64,
        filter: &RunOrderFilter,
    ) -> StoreResult<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM run_order_buckets
                                WHERE run_id = ?1
                                  AND ((day_start_ms < ?2 AND day_end_ms > ?2) OR (day_start_ms < ?3 AND day_end_ms > ?3)))",
            )?
            .query_row(params![run_id, filter.from_at_ms, filter.until_at_ms], |row| row.get(0))?)
    }

    /// [`Store::credit_groups`] from the run's stored totals, or `None` when the filter's bounds
    /// cut through a day bucket (a range not made of whole days of the run's reporting zone), in
    /// which case only the exact query can answer.
    ///
    /// By order, the groups are the attributed orders themselves: the run writer checked that
    /// each one's credits sum to exactly one share and its net revenue, and that no other order
    /// has credits.
    fn credit_groups_from_totals(
        &self,
        run_id: i64,
        grouping: CreditGrouping,
        filter: &RunOrderFilter,
    ) -> StoreResult<Option<Vec<CreditGroup>>> {
        let range = params![
            run_id,
            filter.from_at_ms,
            filter.until_at_ms,
            filter.settled_only
        ];
        let read = |row: &rusqlite::Row<'_>| {
            Ok(CreditGroup {
                key: row.get(0)?,
                share_ppb: i128::from(row.get::<_, i64>(1)?),
                revenue_minor: row.get(2)?,
                provisional_revenue_minor: row.get(3)?,
            })
        };
        // Without bounds both bases select every credit, so the order-day totals (which every
        // run with totals has) answer both; with bounds, the totals of the filter's basis.
        let basis = if filter.from_at_ms.is_none() && filter.until_at_ms.is_none() {
            CreditBasis::Cash
        } else {
            filter.basis
        };
        let Some(name) = grouping.totals_name(basis) else {
            if basis == CreditBasis::Accrual {
                // Orders by touch day: only the exact join can say which credits fall in range.
                return Ok(None);
            }
            let sql = format!(
                "SELECT ro.order_id, {SHARE_ONE}, ro.net_minor, CASE WHEN ro.provisional = 1 THEN ro.net_minor ELSE 0 END
                 FROM run_orders ro
                 WHERE ro.run_id = ?1 AND ro.outcome = 'attributed' AND {}
                 ORDER BY ro.order_id",
                ORDER_FILTER_SQL.replace("o.occurred_at_ms", "ro.occurred_at_ms")
            );
            let mut statement = self.conn.prepare_cached(&sql)?;
            let rows = statement.query_map(range, read)?;
            return Ok(Some(rows.collect::<Result<_, _>>()?));
        };
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
        let buckets = crate::attribution_io::decode_totals(&payload, grouping, basis)?;
        let cuts = |bound: Option<i64>, b: &crate::RunCreditTotal| {
            bound.is_some_and(|x| b.day_start_ms < x && x < b.day_end_ms)
        };
        if buckets
            .iter()
            .any(|b| cuts(filter.from_at_ms, b) || cuts(filter.until_at_ms, b))
        {
            return Ok(None);
        }
        // Keys in the order SQLite's `ORDER BY key` gives: NULL first, then bytewise.
        let mut groups: BTreeMap<Option<String>, (i64, i64, i64)> = BTreeMap::new();
        for bucket in buckets {
            let inside = filter
                .from_at_ms
                .is_none_or(|from| bucket.day_start_ms >= from)
                && filter
                    .until_at_ms
                    .is_none_or(|until| bucket.day_end_ms <= until)
                && !(filter.settled_only && bucket.provisional);
            if inside {
                let sums = groups.entry(bucket.key).or_default();
                sums.0 += bucket.share_ppb;
                sums.1 += bucket.revenue_minor;
                if bucket.provisional {
                    sums.2 += bucket.revenue_minor;
                }
            }
        }
        Ok(Some(
            groups
                .into_iter()
                .map(|(key, (share, revenue, provisional))| CreditGroup {
                    key,
                    share_ppb: i128::from(share),
                    revenue_minor: revenue,
                    provisional_revenue_minor: provisional,
                })
                .collect(),
        ))
    }

    /// [`Store::run_order_totals`] from the run's `run_order_buckets`, or `None` when a bound of
    /// `filter` cuts through a day bucket.
    fn run_order_totals_from_buckets(
        &self,
        run_id: i64,
        filter: &RunOrderFilter,
    ) -> StoreResult<Option<Vec<RunOrderTotal>>> {
        if self.order_buckets_cut(run_id, filter)? {
            return Ok(None);
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT outcome, currency, SUM(orders), SUM(net_minor),
                    SUM(CASE WHEN provisional = 1 THEN net_minor ELSE 0 END),
                    SUM(CASE WHEN provisional = 1 THEN orders ELSE 0 END)
             FROM run_order_buckets
             WHERE run_id = ?1 AND (?2 IS NULL OR day_start_ms >= ?2) AND (?3 IS NULL OR day_end_ms <= ?3)
               AND (?4 = 0 OR provisional = 0)
             GROUP BY outcome, currency ORDER BY outcome, currency",
        )?;
        let rows = statement.query_map(
            params![
                run_id,
                filter.from_at_ms,
                filter.until_at_ms,
                filter.settled_only
            ],
            |row| {
                Ok(RunOrderTotal {
                    outcome: row.get(0)?,
                    currency: row.get(1)?,
                    orders: row.get::<_, i64>(2)? as u64,
                    net_minor: row.get(3)?,
                    provisional_net_minor: row.get(4)?,
                    provisional_orders: row.get::<_, i64>(5)? as u64,
                })
            },
        )?;
        Ok(Some(rows.collect::<Result<_, _>>()?))
    }
}
