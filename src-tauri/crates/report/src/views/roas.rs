//! The ROAS view: attributed revenue ÷ cost per creator, campaign, channel, content or platform,
//! optionally per day, ISO week or month. ROAS is an exact [`Ratio`], shown with 2 decimals, and
//! absent ("—") where there is no cost — never ∞ or 0.
//!
//! Buckets: revenue falls in the bucket of its order's day (reporting zone), cost in the bucket
//! of its own day. A (key, bucket) with neither revenue nor cost has no row.

use std::collections::{BTreeMap, HashMap};

use lookback_core::time::{TimeBucket, Tz, day_range_ms};
use lookback_store::{RunOrderFilter, Store};

use super::provenance::{Provenance, Reading};
use super::{
    DayCache, ViewQuery, key_or_none, label_of, labels, load_costs, order_filter, reporting_zone,
    to_i64,
};
use crate::ReportError;
use crate::credits::RunInfo;
use crate::ratio::Ratio;

/// The key of the totals row.
pub const TOTAL_KEY: &str = "(total)";

/// One row of the ROAS view: a key, or a key in one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoasRow {
    pub key: String,
    /// The creator's name, campaign's name, content's title; the key itself for channels and
    /// platforms.
    pub label: String,
    /// The bucket key (`2026-03-01`, `2026-W09`, `2026-03`) when the view is bucketed.
    pub bucket: Option<String>,
    /// Credited net revenue, reporting currency.
    pub attributed_revenue_minor: i64,
    pub ad_spend_minor: i64,
    pub creator_cost_minor: i64,
    /// `ad_spend_minor + creator_cost_minor`.
    pub cost_minor: i64,
    /// revenue ÷ cost; `None` without cost.
    pub roas: Option<Ratio>,
    /// Σ credit shares in billionths: fractional orders credited.
    pub orders_credited_ppb: i64,
    /// The part of the revenue on provisional orders.
    pub provisional_revenue_minor: i64,
    /// Cost rows of this row left out for want of an exchange rate (its cost is then too low).
    pub missing_fx_cost_rows: u64,
}

impl RoasRow {
    fn empty(key: String, label: String, bucket: Option<String>) -> RoasRow {
        RoasRow {
            key,
            label,
            bucket,
            attributed_revenue_minor: 0,
            ad_spend_minor: 0,
            creator_cost_minor: 0,
            cost_minor: 0,
            roas: None,
            orders_credited_ppb: 0,
            provisional_revenue_minor: 0,
            missing_fx_cost_rows: 0,
        }
    }

    fn add(&mut self, other: &RoasRow) {
        self.attributed_revenue_minor += other.attributed_revenue_minor;
        self.ad_spend_minor += other.ad_spend_minor;
        self.creator_cost_minor += other.creator_cost_minor;
        self.orders_credited_ppb += other.orders_credited_ppb;
        self.provisional_revenue_minor += other.provisional_revenue_minor;
        self.missing_fx_cost_rows += other.missing_fx_cost_rows;
    }

    fn finish(&mut self) {
        self.cost_minor = self.ad_spend_minor + self.creator_cost_minor;
        self.roas = Ratio::new(
            i128::from(self.attributed_revenue_minor),
            i128::from(self.cost_minor),
        );
    }
}

/// The ROAS view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoasView {
    pub query: ViewQuery,
    /// Sorted by the key's total revenue (largest first), then key, then bucket (time order).
    pub rows: Vec<RoasRow>,
    /// Σ rows (key [`TOTAL_KEY`], label "Total", no bucket), ROAS of the sums.
    pub totals: RoasRow,
    pub provenance: Provenance,
    /// The reporting currency code every amount is in.
    pub currency: String,
}

/// A run's credits of one view key and (when bucketed) one bucket, summed.
struct CreditLine {
    key: String,
    bucket: Option<String>,
    share_ppb: i64,
    revenue_minor: i64,
    provisional_revenue_minor: i64,
}

/// The credits of the view's selection per key (and bucket): from the run's stored totals when
/// they answer exactly, else from the exact join of every credit to its touch.
fn credit_lines(
    store: &Store,
    q: &ViewQuery,
    zone: Tz,
    filter: &RunOrderFilter,
    reading: Reading,
) -> Result<Vec<CreditLine>, ReportError> {
    if reading == Reading::Totals
        && let Some(lines) = credit_lines_from_totals(store, q, zone, filter)?
    {
        return Ok(lines);
    }
    let mut lines = Vec::new();
    let mut days = DayCache::new(zone);
    let mut failure = None;
    store.for_each_view_credit_group(
        q.run_id,
        q.by.dimension(),
        filter,
        q.bucket.is_some(),
        |group| {
            if failure.is_some() {
                return;
            }
            let bucket = match (q.bucket, group.order_at_ms) {
                (Some(bucket), Some(at)) => match days.day(at) {
                    Ok(day) => Some(bucket.key(day)),
                    Err(e) => {
                        failure = Some(e);
                        return;
                    }
                },
                _ => None,
            };
            let share_ppb = match to_i64(group.share_ppb, "credited orders") {
                Ok(share) => share,
                Err(e) => {
                    failure = Some(e);
                    return;
                }
            };
            lines.push(CreditLine {
                key: key_or_none(group.key),
                bucket,
                share_ppb,
                revenue_minor: group.revenue_minor,
                provisional_revenue_minor: group.provisional_revenue_minor,
            });
        },
    )?;
    match failure {
        Some(e) => Err(e),
        None => Ok(lines),
    }
}

/// [`credit_lines`] from the run's per-(key, order day) totals, or `None` when they cannot give
/// exactly the join's numbers: no usable totals (see the store), or — when bucketed — a stored
/// day that is not one whole day of the current reporting zone (the zone changed since the run),
/// since then an order's bucket cannot be told from its stored day alone.
fn credit_lines_from_totals(
    store: &Store,
    q: &ViewQuery,
    zone: Tz,
    filter: &RunOrderFilter,
) -> Result<Option<Vec<CreditLine>>, ReportError> {
    let Some(buckets) =
        store.view_credit_buckets_from_totals(q.run_id, q.by.dimension(), filter)?
    else {
        return Ok(None);
    };
    let mut lines = Vec::with_capacity(buckets.len());
    let mut days = DayCache::new(zone);
    for b in buckets {
        let bucket = match q.bucket {
            Some(bucket) => {
                let day = days.day(b.day_start_ms)?;
                if day_range_ms(day, zone)? != (b.day_start_ms, b.day_end_ms) {
                    return Ok(None);
                }
                Some(bucket.key(day))
            }
            None => None,
        };
        lines.push(CreditLine {
            key: key_or_none(b.key),
            bucket,
            share_ppb: to_i64(b.share_ppb, "credited orders")?,
            revenue_minor: b.revenue_minor,
            provisional_revenue_minor: b.provisional_revenue_minor,
        });
    }
    Ok(Some(lines))
}

/// The ROAS view of `q.run_id` (see the module docs of [`crate::views`] for what counts).
pub fn roas_view(store: &Store, q: &ViewQuery) -> Result<RoasView, ReportError> {
    roas_view_reading(store, q, Reading::Totals)
}

/// [`roas_view`] with its credit sums and provenance read as `reading` says.
pub(crate) fn roas_view_reading(
    store: &Store,
    q: &ViewQuery,
    reading: Reading,
) -> Result<RoasView, ReportError> {
    let (run, _) = RunInfo::load(store, q.run_id)?;
    let zone = reporting_zone(store)?;
    let filter = order_filter(zone, q.from, q.to, q.settled_only)?;
    let names = labels(store, q.by)?;
    let bucket_of = |bucket: Option<TimeBucket>, day| bucket.map(|b: TimeBucket| b.key(day));

    let mut rows: BTreeMap<(String, Option<String>), RoasRow> = BTreeMap::new();
    fn row<'m>(
        rows: &'m mut BTreeMap<(String, Option<String>), RoasRow>,
        names: &HashMap<String, String>,
        key: String,
        bucket: Option<String>,
    ) -> &'m mut RoasRow {
        rows.entry((key.clone(), bucket.clone()))
            .or_insert_with(|| RoasRow::empty(key.clone(), label_of(names, &key), bucket))
    }

    for credit in credit_lines(store, q, zone, &filter, reading)? {
        let r = row(&mut rows, &names, credit.key, credit.bucket);
        r.attributed_revenue_minor += credit.revenue_minor;
        r.provisional_revenue_minor += credit.provisional_revenue_minor;
        r.orders_credited_ppb += credit.share_ppb;
    }

    let (costs, missing_fx_costs) = load_costs(store, q.by, q.from, q.to, run.reporting_currency)?;
    for cost in costs {
        let bucket = match (q.bucket, cost.day) {
            (Some(_), Some(day)) => bucket_of(q.bucket, day),
            _ => None,
        };
        let r = row(&mut rows, &names, cost.key, bucket);
        r.ad_spend_minor += cost.ad_spend_minor;
        r.creator_cost_minor += cost.creator_cost_minor;
        r.missing_fx_cost_rows += cost.missing_fx_rows;
    }

    let mut totals = RoasRow::empty(TOTAL_KEY.to_owned(), "Total".to_owned(), None);
    let mut key_revenue: HashMap<String, i64> = HashMap::new();
    let mut rows: Vec<RoasRow> = rows.into_values().collect();
    for r in &mut rows {
        r.finish();
        totals.add(r);
        *key_revenue.entry(r.key.clone()).or_default() += r.attributed_revenue_minor;
    }
    totals.finish();
    rows.sort_by(|a, b| {
        key_revenue[&b.key]
            .cmp(&key_revenue[&a.key])
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.bucket.cmp(&b.bucket))
    });

    let mut provenance = Provenance::build_reading(store, &run, &filter, q.from, q.to, reading)?;
    provenance.missing_fx_costs = missing_fx_costs;
    Ok(RoasView {
        query: *q,
        rows,
        totals,
        provenance,
        currency: run.reporting_currency.code().to_owned(),
    })
}
