//! The ROAS view: attributed revenue ÷ cost per creator, campaign, channel, content or platform,
//! optionally per day, ISO week or month. ROAS is an exact [`Ratio`], shown with 2 decimals, and
//! absent ("—") where there is no cost — never ∞ or 0.
//!
//! Buckets: revenue falls in the bucket of its credit's day (reporting zone): its order's under
//! the cash basis, its touch's under accrual; cost in the bucket of its own day. A (key, bucket) with neither revenue nor cost has no row.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use lookback_core::time::{NaiveDate, TimeBucket, Tz, day_range_ms};
use lookback_store::{RunOrderFilter, Store};

use super::provenance::{Provenance, Reading};
use super::{
    DayCache, ViewCache, ViewQuery, key_or_none, label_of, labels, order_filter, reporting_zone,
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

/// A run's credits of one view key and (when bucketed) one day of the basis, summed.
struct CreditLine {
    key: String,
    /// The credits' day in the reporting zone (their orders', or their touches' under accrual);
    /// `None` when the view is not bucketed.
    day: Option<NaiveDate>,
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
            let day = match (q.bucket, group.order_at_ms) {
                (Some(_), Some(at)) => match days.day(at) {
                    Ok(day) => Some(day),
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
                day,
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

/// [`credit_lines`] from the run's per-(key, day) totals of the query's basis, or `None` when they cannot give
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
    // Each stored day, checked once: a whole day of the zone, or `None`.
    let mut checked: HashMap<(i64, i64), Option<NaiveDate>> = HashMap::new();
    for b in buckets {
        let day = match q.bucket {
            Some(_) => {
                let day = match checked.entry((b.day_start_ms, b.day_end_ms)) {
                    Entry::Occupied(known) => *known.get(),
                    Entry::Vacant(new) => {
                        let day = days.day(b.day_start_ms)?;
                        let whole = day_range_ms(day, zone)? == (b.day_start_ms, b.day_end_ms);
                        *new.insert(whole.then_some(day))
                    }
                };
                match day {
                    Some(day) => Some(day),
                    None => return Ok(None),
                }
            }
            None => None,
        };
        lines.push(CreditLine {
            key: key_or_none(b.key),
            day,
            share_ppb: to_i64(b.share_ppb, "credited orders")?,
            revenue_minor: b.revenue_minor,
            provisional_revenue_minor: b.provisional_revenue_minor,
        });
    }
    Ok(Some(lines))
}

/// The view's rows while credits and costs are summed into them: one per key and bucket, found
/// through the key's and the day's index, so summing a line builds no text.
struct RowSums<'n> {
    names: &'n HashMap<String, String>,
    bucket: Option<TimeBucket>,
    /// Each key's index.
    keys: HashMap<String, usize>,
    /// Each bucket's key text, by index, and each day's bucket index.
    buckets: Vec<String>,
    bucket_of_key: HashMap<String, usize>,
    bucket_of_day: HashMap<NaiveDate, usize>,
    /// (key index, bucket index) → index in `rows`.
    index: HashMap<(usize, Option<usize>), usize>,
    rows: Vec<RoasRow>,
}

impl<'n> RowSums<'n> {
    fn new(names: &'n HashMap<String, String>, bucket: Option<TimeBucket>) -> RowSums<'n> {
        RowSums {
            names,
            bucket,
            keys: HashMap::new(),
            buckets: Vec::new(),
            bucket_of_key: HashMap::new(),
            bucket_of_day: HashMap::new(),
            index: HashMap::new(),
            rows: Vec::new(),
        }
    }

    /// The index of the bucket of `day`.
    fn bucket_index(&mut self, bucket: TimeBucket, day: NaiveDate) -> usize {
        if let Some(&b) = self.bucket_of_day.get(&day) {
            return b;
        }
        let text = bucket.key(day);
        let next = self.buckets.len();
        let b = *self.bucket_of_key.entry(text.clone()).or_insert(next);
        if b == next {
            self.buckets.push(text);
        }
        self.bucket_of_day.insert(day, b);
        b
    }

    /// The row of `key` in the bucket of `day` (no bucket when the view has none, or the line
    /// has no day), created empty the first time.
    fn row(&mut self, key: &str, day: Option<NaiveDate>) -> &mut RoasRow {
        let k = match self.keys.get(key) {
            Some(&k) => k,
            None => {
                let k = self.keys.len();
                self.keys.insert(key.to_owned(), k);
                k
            }
        };
        let b = match (self.bucket, day) {
            (Some(bucket), Some(day)) => Some(self.bucket_index(bucket, day)),
            _ => None,
        };
        let next = self.rows.len();
        let i = *self.index.entry((k, b)).or_insert(next);
        if i == next {
            self.rows.push(RoasRow::empty(
                key.to_owned(),
                label_of(self.names, key),
                b.map(|b| self.buckets[b].clone()),
            ));
        }
        &mut self.rows[i]
    }
}

/// The ROAS view of `q.run_id` (see the module docs of [`crate::views`] for what counts).
pub fn roas_view(store: &Store, q: &ViewQuery) -> Result<RoasView, ReportError> {
    roas_view_cached(store, q, &mut ViewCache::new())
}

/// [`roas_view`], with the costs kept in `cache` between views on the same store (the window's
/// model switch): the same view, without reading the costs again while nothing changed.
pub fn roas_view_cached(
    store: &Store,
    q: &ViewQuery,
    cache: &mut ViewCache,
) -> Result<RoasView, ReportError> {
    roas_view_reading(store, q, Reading::Totals, cache)
}

/// [`roas_view_cached`] with its credit sums and provenance read as `reading` says.
pub(crate) fn roas_view_reading(
    store: &Store,
    q: &ViewQuery,
    reading: Reading,
    cache: &mut ViewCache,
) -> Result<RoasView, ReportError> {
    let (run, _) = RunInfo::load(store, q.run_id)?;
    let zone = reporting_zone(store)?;
    let filter = order_filter(zone, q.from, q.to, q.settled_only, q.basis)?;
    let names = labels(store, q.by)?;

    let mut rows = RowSums::new(&names, q.bucket);
    for credit in credit_lines(store, q, zone, &filter, reading)? {
        let r = rows.row(&credit.key, credit.day);
        r.attributed_revenue_minor += credit.revenue_minor;
        r.provisional_revenue_minor += credit.provisional_revenue_minor;
        r.orders_credited_ppb += credit.share_ppb;
    }

    let costs = cache.costs(store, q.by, q.from, q.to, run.reporting_currency)?;
    for cost in costs.per_bucket(q.bucket) {
        let r = rows.row(&cost.key, cost.day);
        r.ad_spend_minor += cost.ad_spend_minor;
        r.creator_cost_minor += cost.creator_cost_minor;
        r.missing_fx_cost_rows += cost.missing_fx_rows;
    }

    let mut totals = RoasRow::empty(TOTAL_KEY.to_owned(), "Total".to_owned(), None);
    let mut key_revenue: HashMap<String, i64> = HashMap::new();
    let mut rows = rows.rows;
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
    provenance.missing_fx_costs = costs.missing_fx.clone();
    Ok(RoasView {
        query: *q,
        rows,
        totals,
        provenance,
        currency: run.reporting_currency.code().to_owned(),
    })
}
