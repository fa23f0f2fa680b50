//! The CAC view: cost ÷ attributed new customers per key, with 30/60/90-day payback.
//!
//! Definitions (documented for the README):
//! - **Customer**: the order's `customer_id`, else its email hash, else its person id; an order
//!   with none of them is its own one-order customer (see `lookback_store::CUSTOMER_KEY_SQL`).
//! - **New customer**: a customer's first order over the whole store (ties by order id). The
//!   first order counts when its day lies in the range (and it is settled, with `settled_only`);
//!   each of its credits counts its share, so a first order split 50/50 gives each key half a
//!   new customer. Under the accrual basis each credit counts when its touch's day lies in the
//!   range instead: the customers the range's touches acquired.
//! - **CAC** = cost ÷ new customers, in minor units rounded once (half to even); `None` without
//!   new customers. Cost is the same as in the ROAS view (ad spend + creator costs of the range).
//! - **Payback N** = what a new customer brought in the N days from their first order (first
//!   order included, as this run converted it) ÷ what acquiring one cost, over the new customers
//!   whose N-day window has closed at `now` (a customer still inside it would only grow the
//!   figure): (Σ over those customers of share × net revenue in the window) ÷ (cost × their
//!   share ÷ all the key's new customers' share). Once every window has closed that is Σ value ÷
//!   cost (0 for a key with cost and no new customer). [`CacRow::payback_customers_ppb`] says
//!   how many customers each figure covers, of [`CacRow::new_customers_ppb`]. `None` without
//!   cost, or while none of the key's new customers' windows has closed; [`CacRow::payback_windows_open`] lists the windows still open
//!   for some of them.

use std::collections::{BTreeMap, HashMap};

use lookback_core::money::SHARE_ONE_PPB;
use lookback_core::time::DAY_MS;
use lookback_store::Store;

use super::provenance::Provenance;
use super::{
    ViewQuery, div_round_half_even, key_or_none, label_of, labels, load_costs, order_filter,
    reporting_zone,
};
use crate::ReportError;
use crate::credits::RunInfo;
use crate::ratio::Ratio;

/// The payback windows, in days.
pub const PAYBACK_WINDOWS_DAYS: [u32; 3] = [30, 60, 90];

/// One row of the CAC view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacRow {
    pub key: String,
    pub label: String,
    /// Ad spend + creator costs, reporting currency.
    pub cost_minor: i64,
    pub ad_spend_minor: i64,
    pub creator_cost_minor: i64,
    /// Σ credit shares of first orders, in billionths of a customer.
    pub new_customers_ppb: i64,
    /// cost ÷ new customers, rounded once; `None` without new customers.
    pub cac_minor: Option<i64>,
    pub payback_30: Option<Ratio>,
    pub payback_60: Option<Ratio>,
    pub payback_90: Option<Ratio>,
    /// The windows (of 30, 60, 90) not yet over at `now` for some new customer of the row.
    pub payback_windows_open: Vec<u32>,
    /// Per window, the new customers (Σ shares, billionths) whose window has closed at `now`:
    /// the customers each payback figure covers.
    pub payback_customers_ppb: [i64; 3],
    /// Σ share × customer value per window over those customers, in billionths of a minor unit
    /// (divide by 1e9 for minor units).
    pub new_customer_value_ppb: [i128; 3],
    /// The latest first order among the row's new customers.
    pub latest_first_order_at_ms: Option<i64>,
    pub missing_fx_cost_rows: u64,
}

impl CacRow {
    fn empty(key: String, label: String) -> CacRow {
        CacRow {
            key,
            label,
            cost_minor: 0,
            ad_spend_minor: 0,
            creator_cost_minor: 0,
            new_customers_ppb: 0,
            cac_minor: None,
            payback_30: None,
            payback_60: None,
            payback_90: None,
            payback_windows_open: Vec::new(),
            payback_customers_ppb: [0; 3],
            new_customer_value_ppb: [0; 3],
            latest_first_order_at_ms: None,
            missing_fx_cost_rows: 0,
        }
    }

    fn add(&mut self, other: &CacRow) {
        self.ad_spend_minor += other.ad_spend_minor;
        self.creator_cost_minor += other.creator_cost_minor;
        self.new_customers_ppb += other.new_customers_ppb;
        for (mine, theirs) in self
            .payback_customers_ppb
            .iter_mut()
            .zip(other.payback_customers_ppb)
        {
            *mine += theirs;
        }
        for (mine, theirs) in self
            .new_customer_value_ppb
            .iter_mut()
            .zip(other.new_customer_value_ppb)
        {
            *mine += theirs;
        }
        self.latest_first_order_at_ms = self
            .latest_first_order_at_ms
            .max(other.latest_first_order_at_ms);
        self.missing_fx_cost_rows += other.missing_fx_cost_rows;
    }

    fn finish(&mut self, now_ms: i64) {
        self.cost_minor = self.ad_spend_minor + self.creator_cost_minor;
        self.cac_minor = (self.new_customers_ppb > 0).then(|| {
            let cac = div_round_half_even(
                i128::from(self.cost_minor) * i128::from(SHARE_ONE_PPB),
                i128::from(self.new_customers_ppb),
            );
            // cost · 1e9 / ppb with ppb ≥ 1 fits i64 whenever cost · 1e9 does; clamp the rest.
            i64::try_from(cac).unwrap_or(i64::MAX)
        });
        self.payback_windows_open = PAYBACK_WINDOWS_DAYS
            .iter()
            .copied()
            .filter(|days| {
                self.latest_first_order_at_ms
                    .is_some_and(|at| at + i64::from(*days) * DAY_MS > now_ms)
            })
            .collect();
        // value ÷ (cost × closed ÷ all) = value × all ÷ (cost × closed), value in ppb·minor;
        // with every window closed (a row without new customers too) that is value ÷ cost.
        let cost_ppb = i128::from(self.cost_minor) * i128::from(SHARE_ONE_PPB);
        let payback = |i: usize| {
            let (closed, all) = (self.payback_customers_ppb[i], self.new_customers_ppb);
            if closed == all {
                Ratio::new(self.new_customer_value_ppb[i], cost_ppb)
            } else if closed <= 0 {
                None
            } else {
                Ratio::new(
                    self.new_customer_value_ppb[i] * i128::from(all),
                    cost_ppb * i128::from(closed),
                )
            }
        };
        (self.payback_30, self.payback_60, self.payback_90) = (payback(0), payback(1), payback(2));
    }
}

/// The CAC view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacView {
    pub query: ViewQuery,
    /// Sorted by new customers (most first), then cost (largest first), then key.
    pub rows: Vec<CacRow>,
    /// Σ rows (key `(total)`).
    pub totals: CacRow,
    pub provenance: Provenance,
    pub currency: String,
    /// When the payback windows were judged.
    pub now_ms: i64,
}

/// The CAC view of `q.run_id` as of `now_ms` (which decides which payback windows are over).
/// `q.bucket` is ignored: CAC is per key over the whole range.
pub fn cac_view(store: &Store, q: &ViewQuery, now_ms: i64) -> Result<CacView, ReportError> {
    let (run, _) = RunInfo::load(store, q.run_id)?;
    let zone = reporting_zone(store)?;
    let filter = order_filter(zone, q.from, q.to, q.settled_only, q.basis)?;
    let names = labels(store, q.by)?;
    let mut rows: BTreeMap<String, CacRow> = BTreeMap::new();
    fn row<'m>(
        rows: &'m mut BTreeMap<String, CacRow>,
        names: &HashMap<String, String>,
        key: String,
    ) -> &'m mut CacRow {
        rows.entry(key.clone())
            .or_insert_with(|| CacRow::empty(key.clone(), label_of(names, &key)))
    }

    store.for_each_new_customer_credit(
        q.run_id,
        q.by.dimension(),
        &filter,
        PAYBACK_WINDOWS_DAYS,
        |credit| {
            let r = row(&mut rows, &names, key_or_none(credit.key));
            r.new_customers_ppb += credit.share_ppb;
            for (i, days) in PAYBACK_WINDOWS_DAYS.iter().enumerate() {
                // Closed: the window's last instant has passed (as `payback_windows_open` reads it).
                if credit.first_order_at_ms + i64::from(*days) * DAY_MS <= now_ms {
                    r.payback_customers_ppb[i] += credit.share_ppb;
                    r.new_customer_value_ppb[i] +=
                        i128::from(credit.share_ppb) * i128::from(credit.value_minor[i]);
                }
            }
            r.latest_first_order_at_ms = r
                .latest_first_order_at_ms
                .max(Some(credit.first_order_at_ms));
        },
    )?;
    let (costs, missing_fx_costs) = load_costs(store, q.by, q.from, q.to, run.reporting_currency)?;
    for cost in costs {
        let r = row(&mut rows, &names, cost.key);
        r.ad_spend_minor += cost.ad_spend_minor;
        r.creator_cost_minor += cost.creator_cost_minor;
        r.missing_fx_cost_rows += cost.missing_fx_rows;
    }

    let mut totals = CacRow::empty(super::roas::TOTAL_KEY.to_owned(), "Total".to_owned());
    let mut rows: Vec<CacRow> = rows.into_values().collect();
    for r in &mut rows {
        r.finish(now_ms);
        totals.add(r);
    }
    totals.finish(now_ms);
    rows.sort_by(|a, b| {
        b.new_customers_ppb
            .cmp(&a.new_customers_ppb)
            .then_with(|| b.cost_minor.cmp(&a.cost_minor))
            .then_with(|| a.key.cmp(&b.key))
    });
    let mut provenance = Provenance::build(store, &run, &filter, q.from, q.to)?;
    provenance.missing_fx_costs = missing_fx_costs;
    Ok(CacView {
        query: *q,
        rows,
        totals,
        provenance,
        currency: run.reporting_currency.code().to_owned(),
        now_ms,
    })
}
