//! New-customer cohorts and lifetime value: new customers grouped by the month (or ISO week, or
//! day) of their first order and by who acquired them, with what they brought in 30, 60, 90 and
//! 180 days and to date, against what acquiring them cost.
//!
//! Definitions (documented for the README):
//! - **Customer** and **first order** are the CAC view's: the order's `customer_id`, else its
//!   email hash, else its person id (an order with none is its own customer); the first order
//!   over the whole store, ties by order id. A customer is in the view when their first order's
//!   day (reporting zone) lies in `from..=to` and the run attributed it (settled, with
//!   `settled_only`). A first order without a touch, or without an exchange rate, has no credit
//!   and puts its customer in no row ([`CohortView::provenance`] counts those orders).
//! - **Cohort**: the bucket of the first order's day — `2026-03` (month), `2026-W09` (ISO week)
//!   or the day — in the reporting zone.
//! - **Acquired by**: the first order's credits under the run, by creator, campaign, channel,
//!   content or platform (the touch's key, as in every view). Fractional: a first order credited
//!   0.6 / 0.4 counts 0.6 of a customer in one row and 0.4 in the other, and each of the
//!   customer's amounts is split the same way (largest remainder, so rows add up to the minor
//!   unit).
//! - **Revenue** of a customer is the net revenue (reporting currency, as the run converted it)
//!   of their orders in the run (orders without an exchange rate left out; settled ones only with
//!   `settled_only`). *First-order revenue* is the first order's; *to date*, every order's.
//! - **Revenue at N days** counts the orders placed in `[first order, first order + N days)`, net
//!   of the refunds and chargebacks that had happened by the end of that window: a refund is dated
//!   when it happened, not when its order was placed, so a refund on day 40 lowers the 60-day
//!   value and not the 30-day one. The order's net is recomputed with only those adjustments by
//!   the engine's own rule (`lookback_engine::net_in_reporting`, at the order day's rate).
//! - **Closed horizon**: N days have passed since the first order at `now`. Revenue at N days and
//!   payback N count only the customers whose horizon has closed, and
//!   [`CohortHorizon::customers_closed_ppb`] says how many those are of
//!   [`CohortRow::customers_ppb`].
//! - **Cost** is the CAC and ROAS views' (ad spend + creator costs, mapped to keys the same way,
//!   converted at their day's rate), bucketed by its own day into the cohorts: the cost of a
//!   cohort row is what was spent on its key during its cohort's month (or week).
//! - **CAC** = cost ÷ customers, rounded once half to even; none without customers.
//! - **Payback N** = revenue at N days ÷ (cost × closed ÷ customers): what the customers whose
//!   horizon has closed brought in, over their part of the cost. Once every horizon has closed
//!   that is revenue ÷ cost. None without cost or while no customer's horizon has closed.

use std::collections::{BTreeMap, HashMap};

use lookback_core::money::{SHARE_ONE_PPB, split_largest_remainder_exact};
use lookback_core::time::{DAY_MS, TimeBucket};
use lookback_engine::fx::FxTable;
use lookback_engine::{ReportingNet, net_in_reporting};
use lookback_store::{AdjustmentKind, CreditBasis, DatedAdjustment, NewCustomerOrder, Store};

use super::provenance::Provenance;
use super::roas::TOTAL_KEY;
use super::{
    DayCache, ViewCache, ViewQuery, div_round_half_even, key_or_none, label_of, labels,
    order_filter, reporting_zone,
};
use crate::ReportError;
use crate::credits::RunInfo;
use crate::ratio::Ratio;

/// The horizons, in days after the first order.
pub const COHORT_HORIZONS_DAYS: [u32; 4] = [30, 60, 90, 180];

/// The bucket cohorts are by when the query names none.
pub const DEFAULT_COHORT_BUCKET: TimeBucket = TimeBucket::Month;

/// The cohort of the [`CohortView::totals`] row.
pub const ALL_COHORTS: &str = "(all)";

/// One horizon of a cohort row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortHorizon {
    pub days: u32,
    /// The row's customers (Σ shares, billionths) whose horizon has closed at `now`.
    pub customers_closed_ppb: i64,
    /// What those customers brought in during their first `days` days, reporting currency.
    pub revenue_minor: i64,
    /// revenue ÷ (cost × closed ÷ customers); `None` without cost or closed customers.
    pub payback: Option<Ratio>,
}

/// One row: a cohort and a key, a cohort with every key ([`TOTAL_KEY`]), or everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortRow {
    /// The bucket key (`2026-03`, `2026-W09`, `2026-03-02`), or [`ALL_COHORTS`].
    pub cohort: String,
    pub key: String,
    pub label: String,
    /// Σ first-order credit shares, in billionths of a customer.
    pub customers_ppb: i64,
    pub first_order_revenue_minor: i64,
    pub revenue_to_date_minor: i64,
    /// One per [`COHORT_HORIZONS_DAYS`], in that order.
    pub horizons: Vec<CohortHorizon>,
    pub ad_spend_minor: i64,
    pub creator_cost_minor: i64,
    pub cost_minor: i64,
    /// cost ÷ customers, rounded once; `None` without customers.
    pub cac_minor: Option<i64>,
    /// Cost rows of this row left out for want of an exchange rate.
    pub missing_fx_cost_rows: u64,
}

impl CohortRow {
    fn empty(cohort: String, key: String, label: String) -> CohortRow {
        CohortRow {
            cohort,
            key,
            label,
            customers_ppb: 0,
            first_order_revenue_minor: 0,
            revenue_to_date_minor: 0,
            horizons: COHORT_HORIZONS_DAYS
                .iter()
                .map(|&days| CohortHorizon {
                    days,
                    customers_closed_ppb: 0,
                    revenue_minor: 0,
                    payback: None,
                })
                .collect(),
            ad_spend_minor: 0,
            creator_cost_minor: 0,
            cost_minor: 0,
            cac_minor: None,
            missing_fx_cost_rows: 0,
        }
    }

    fn add(&mut self, other: &CohortRow) {
        self.customers_ppb += other.customers_ppb;
        self.first_order_revenue_minor += other.first_order_revenue_minor;
        self.revenue_to_date_minor += other.revenue_to_date_minor;
        for (mine, theirs) in self.horizons.iter_mut().zip(&other.horizons) {
            mine.customers_closed_ppb += theirs.customers_closed_ppb;
            mine.revenue_minor += theirs.revenue_minor;
        }
        self.ad_spend_minor += other.ad_spend_minor;
        self.creator_cost_minor += other.creator_cost_minor;
        self.missing_fx_cost_rows += other.missing_fx_cost_rows;
    }

    fn finish(&mut self) {
        self.cost_minor = self.ad_spend_minor + self.creator_cost_minor;
        self.cac_minor = (self.customers_ppb > 0).then(|| {
            let cac = div_round_half_even(
                i128::from(self.cost_minor) * i128::from(SHARE_ONE_PPB),
                i128::from(self.customers_ppb),
            );
            i64::try_from(cac).unwrap_or(i64::MAX)
        });
        let (all, cost) = (self.customers_ppb, self.cost_minor);
        for h in &mut self.horizons {
            let closed = h.customers_closed_ppb;
            h.payback = if closed == all {
                Ratio::new(i128::from(h.revenue_minor), i128::from(cost))
            } else if closed <= 0 {
                None
            } else {
                Ratio::new(
                    i128::from(h.revenue_minor) * i128::from(all),
                    i128::from(cost) * i128::from(closed),
                )
            };
        }
    }

    /// Revenue at the horizon per closed customer, rounded once half to even; `None` while no
    /// customer's horizon has closed.
    pub fn revenue_per_customer_minor(&self, horizon: usize) -> Option<i64> {
        let h = self.horizons.get(horizon)?;
        (h.customers_closed_ppb > 0).then(|| {
            let per = div_round_half_even(
                i128::from(h.revenue_minor) * i128::from(SHARE_ONE_PPB),
                i128::from(h.customers_closed_ppb),
            );
            i64::try_from(per).unwrap_or(i64::MAX)
        })
    }
}

/// The cohorts view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortView {
    pub query: ViewQuery,
    /// The bucket cohorts are by (the query's, else [`DEFAULT_COHORT_BUCKET`]).
    pub bucket: TimeBucket,
    /// One per cohort and key: cohorts in time order, then most customers, then most cost,
    /// then key.
    pub rows: Vec<CohortRow>,
    /// One per cohort with every key summed (key [`TOTAL_KEY`], label "All"), in time order.
    pub cohorts: Vec<CohortRow>,
    /// Every row summed (cohort [`ALL_COHORTS`], key [`TOTAL_KEY`]).
    pub totals: CohortRow,
    pub provenance: Provenance,
    pub currency: String,
    /// When the horizons were judged.
    pub now_ms: i64,
}

/// One new customer while the view is built.
struct Customer {
    first_order_at_ms: i64,
    /// Σ share per key of the first order's credits.
    credits: BTreeMap<String, i64>,
    /// Every order of theirs in the run, the first included.
    orders: Vec<NewCustomerOrder>,
}

/// The cohorts view of `q.run_id` as of `now_ms` (which decides which horizons have closed).
pub fn cohort_view(store: &Store, q: &ViewQuery, now_ms: i64) -> Result<CohortView, ReportError> {
    cohort_view_cached(store, q, now_ms, &mut ViewCache::new())
}

/// [`cohort_view`], with the costs kept in `cache` between views (the window's model switch).
pub fn cohort_view_cached(
    store: &Store,
    q: &ViewQuery,
    now_ms: i64,
    cache: &mut ViewCache,
) -> Result<CohortView, ReportError> {
    let (run, _) = RunInfo::load(store, q.run_id)?;
    let bucket = q.bucket.unwrap_or(DEFAULT_COHORT_BUCKET);
    let zone = reporting_zone(store)?;
    // A cohort is the month or week of a customer's first order, so cohorts are on the cash
    // basis whatever basis the other views use: a credit here is dated by its order.
    let filter = order_filter(zone, q.from, q.to, q.settled_only, CreditBasis::Cash)?;
    let names = labels(store, q.by)?;

    let mut customers: HashMap<String, Customer> = HashMap::new();
    // The CAC view's reading of first-order credits; its window values are not used here, since
    // they date refunds by their order (the horizons below are computed from the orders).
    store.for_each_new_customer_credit(
        q.run_id,
        q.by.dimension(),
        &filter,
        [30, 60, 90],
        |credit| {
            let customer = customers
                .entry(credit.first_order_id)
                .or_insert_with(|| Customer {
                    first_order_at_ms: credit.first_order_at_ms,
                    credits: BTreeMap::new(),
                    orders: Vec::new(),
                });
            *customer.credits.entry(key_or_none(credit.key)).or_default() += credit.share_ppb;
        },
    )?;
    store.for_each_new_customer_order(q.run_id, &filter, |order| {
        if let Some(customer) = customers.get_mut(&order.first_order_id) {
            customer.orders.push(order);
        }
    })?;
    let mut adjustments: HashMap<String, Vec<DatedAdjustment>> = HashMap::new();
    for a in store.dated_counted_adjustments()? {
        adjustments.entry(a.order_id.clone()).or_default().push(a);
    }
    let fx = FxTable::from_rows(&store.fx_rates()?)?;
    let currency = run.reporting_currency;

    // (cohort, key) → row.
    let mut rows: BTreeMap<(String, String), CohortRow> = BTreeMap::new();
    fn row<'m>(
        rows: &'m mut BTreeMap<(String, String), CohortRow>,
        names: &HashMap<String, String>,
        cohort: &str,
        key: &str,
    ) -> &'m mut CohortRow {
        rows.entry((cohort.to_owned(), key.to_owned()))
            .or_insert_with(|| {
                CohortRow::empty(cohort.to_owned(), key.to_owned(), label_of(names, key))
            })
    }
    let mut days = DayCache::new(zone);
    // Customers in first-order order, so the rows fill the same way every time.
    let mut ordered: Vec<(&String, &Customer)> = customers.iter().collect();
    ordered.sort_by(|a, b| (a.1.first_order_at_ms, a.0).cmp(&(b.1.first_order_at_ms, b.0)));
    for (first_order_id, customer) in ordered {
        let cohort = bucket.key(days.day(customer.first_order_at_ms)?);
        // The customer's amounts: first order, to date, then each horizon (if closed).
        let mut amounts: Vec<i64> = vec![0, 0];
        let mut closed = [false; COHORT_HORIZONS_DAYS.len()];
        for order in &customer.orders {
            if order.order_id == *first_order_id {
                amounts[0] += order.net_minor;
            }
            amounts[1] += order.net_minor;
        }
        for (i, horizon) in COHORT_HORIZONS_DAYS.iter().enumerate() {
            let end = customer.first_order_at_ms + i64::from(*horizon) * DAY_MS;
            closed[i] = end <= now_ms;
            let mut value = 0;
            if closed[i] {
                for order in &customer.orders {
                    value += value_by(order, end, &adjustments, &fx, currency, &mut days)?;
                }
            }
            amounts.push(value);
        }
        let keys: Vec<(&String, i64)> = customer.credits.iter().map(|(k, s)| (k, *s)).collect();
        let weights: Vec<u64> = keys.iter().map(|(_, s)| (*s).max(0) as u64).collect();
        let parts: Vec<Vec<i64>> = amounts
            .iter()
            .map(|&amount| match keys.len() {
                1 => Ok(vec![amount]),
                _ => split_largest_remainder_exact(amount, &weights),
            })
            .collect::<Result<_, _>>()?;
        for (k, (key, share)) in keys.iter().enumerate() {
            let r = row(&mut rows, &names, &cohort, key);
            r.customers_ppb += share;
            r.first_order_revenue_minor += parts[0][k];
            r.revenue_to_date_minor += parts[1][k];
            for (i, h) in r.horizons.iter_mut().enumerate() {
                if closed[i] {
                    h.customers_closed_ppb += share;
                    h.revenue_minor += parts[2 + i][k];
                }
            }
        }
    }

    let costs = cache.costs(store, q.by, q.from, q.to, currency)?;
    for cost in costs.per_bucket(Some(bucket)) {
        let cohort = match cost.day {
            Some(day) => bucket.key(day),
            None => "(no day)".to_owned(),
        };
        let r = row(&mut rows, &names, &cohort, &cost.key);
        r.ad_spend_minor += cost.ad_spend_minor;
        r.creator_cost_minor += cost.creator_cost_minor;
        r.missing_fx_cost_rows += cost.missing_fx_rows;
    }

    let mut by_cohort: BTreeMap<String, CohortRow> = BTreeMap::new();
    let mut totals = CohortRow::empty(ALL_COHORTS.to_owned(), TOTAL_KEY.to_owned(), "All".into());
    let mut rows: Vec<CohortRow> = rows.into_values().collect();
    for r in &mut rows {
        r.finish();
        totals.add(r);
        by_cohort
            .entry(r.cohort.clone())
            .or_insert_with(|| CohortRow::empty(r.cohort.clone(), TOTAL_KEY.into(), "All".into()))
            .add(r);
    }
    totals.finish();
    let mut cohorts: Vec<CohortRow> = by_cohort.into_values().collect();
    for c in &mut cohorts {
        c.finish();
    }
    rows.sort_by(|a, b| {
        a.cohort
            .cmp(&b.cohort)
            .then_with(|| b.customers_ppb.cmp(&a.customers_ppb))
            .then_with(|| b.cost_minor.cmp(&a.cost_minor))
            .then_with(|| a.key.cmp(&b.key))
    });
    let mut provenance = Provenance::build(store, &run, &filter, q.from, q.to)?;
    provenance.missing_fx_costs = costs.missing_fx.clone();
    Ok(CohortView {
        query: ViewQuery {
            bucket: Some(bucket),
            ..*q
        },
        bucket,
        rows,
        cohorts,
        totals,
        provenance,
        currency: currency.code().to_owned(),
        now_ms,
    })
}

/// What one order of a customer counts for by instant `end` (a horizon's end): nothing if it was
/// placed at or after `end`; the run's net if every adjustment of it happened before `end`;
/// otherwise its net with only the adjustments before `end`, by the engine's rule.
fn value_by(
    order: &NewCustomerOrder,
    end: i64,
    adjustments: &HashMap<String, Vec<DatedAdjustment>>,
    fx: &FxTable,
    reporting: lookback_core::money::Currency,
    days: &mut DayCache,
) -> Result<i64, ReportError> {
    if order.occurred_at_ms >= end {
        return Ok(0);
    }
    let Some(list) = adjustments.get(&order.order_id) else {
        return Ok(order.net_minor);
    };
    if list.iter().all(|a| a.occurred_at_ms < end) {
        return Ok(order.net_minor);
    }
    let (mut refunds, mut chargebacks) = (0i64, 0i64);
    let mut foreign: Vec<(&str, i64)> = Vec::new();
    for a in list.iter().filter(|a| a.occurred_at_ms < end) {
        if a.currency != order.currency {
            foreign.push((a.currency.as_str(), a.amount_minor));
        } else if a.kind == AdjustmentKind::Chargeback {
            chargebacks += a.amount_minor;
        } else {
            refunds += a.amount_minor;
        }
    }
    let day = days
        .day(order.occurred_at_ms)?
        .format("%Y-%m-%d")
        .to_string();
    Ok(
        match net_in_reporting(
            order.gross_minor,
            &order.currency,
            refunds,
            chargebacks,
            foreign,
            reporting,
            fx,
            &day,
        )? {
            ReportingNet::Converted(value) => value,
            // The run converted this order with every adjustment, so fewer cannot lack a rate;
            // should the data have changed since, the run's figure stands.
            ReportingNet::MissingFx(_) => order.net_minor,
        },
    )
}

#[cfg(test)]
#[path = "cohorts_tests.rs"]
mod tests;
