//! The views of DESIGN.md §5 over one attribution run: ROAS, CAC, model comparison and creator
//! revenue, each with the [`Provenance`] that says which run, model and data produced it.
//!
//! Conventions shared by every view (documented for the README):
//! - **Revenue** is the run's credited net revenue (gross − counted refunds − chargebacks, in the
//!   run's reporting currency): Σ `credits.revenue_minor`. Credits are selected by their day in
//!   the reporting zone (`from`/`to` inclusive) and, with `settled_only`, by the run's settled
//!   flag. A credit's day is its order's under the cash basis (the default) and its touch's
//!   under the accrual basis ([`CreditBasis`]); buckets use the same day.
//! - **Cost** = ad spend + creator costs whose own day (`YYYY-MM-DD`, ad account's zone for spend)
//!   lies in the same day range, converted from its currency into the reporting currency at that
//!   day's stored rate (engine's rule: direct rate, else the inverse rate, never another day's,
//!   never 1.0). Spend without a rate is left out of the cost and counted in
//!   [`Provenance::missing_fx_costs`] and the row's `missing_fx_cost_rows`. `settled_only` never
//!   filters cost: money spent is spent.
//! - **Mapping cost to keys.** Ad spend: creator = the spend row's creator, else its campaign's;
//!   campaign = its campaign id; channel = its channel; platform = its platform; content = none
//!   (spend is not recorded per post). Creator costs belong to their creator under `creator`;
//!   under every other key they form one row, [`CREATOR_COSTS_KEY`]. Revenue and cost that map to
//!   no key form the [`NONE_KEY`] row. So every view's totals are exactly the sum of its rows and
//!   equal the whole selection's revenue and cost.
//! - **Platform of a touch**: its campaign's platform, else its creator's platform.

pub mod cac;
pub mod cohorts;
pub mod compare;
pub mod creator;
pub mod provenance;
pub mod roas;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use lookback_core::money::Currency;
use lookback_core::time::{
    NaiveDate, TimeBucket, Tz, day_in_zone, day_range_ms, day_start_ms, parse_time_zone,
};
use lookback_engine::fx::FxTable;
pub use lookback_store::CreditBasis;
use lookback_store::{DataStamp, RunOrderFilter, Store, ViewDimension};

use crate::ReportError;
pub use crate::credits::NONE_KEY;
use provenance::MissingFxCost;

/// The row of creator fees and commissions under every key but `creator`.
pub const CREATOR_COSTS_KEY: &str = "(creator costs)";

/// What a view is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewKey {
    Creator,
    Campaign,
    Channel,
    Content,
    Platform,
}

impl ViewKey {
    /// Every key, in CLI order.
    pub const ALL: [ViewKey; 5] = [
        ViewKey::Creator,
        ViewKey::Campaign,
        ViewKey::Channel,
        ViewKey::Content,
        ViewKey::Platform,
    ];

    /// The CLI name and the CSV key column's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewKey::Creator => "creator",
            ViewKey::Campaign => "campaign",
            ViewKey::Channel => "channel",
            ViewKey::Content => "content",
            ViewKey::Platform => "platform",
        }
    }

    /// Parses `creator`, `campaign`, `channel`, `content` or `platform` (case-insensitive).
    pub fn parse(text: &str) -> Result<ViewKey, ReportError> {
        let wanted = text.trim().to_ascii_lowercase();
        ViewKey::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| ReportError::UnknownViewKey {
                name: text.to_owned(),
            })
    }

    pub(crate) fn dimension(self) -> ViewDimension {
        match self {
            ViewKey::Creator => ViewDimension::Creator,
            ViewKey::Campaign => ViewDimension::Campaign,
            ViewKey::Channel => ViewDimension::Channel,
            ViewKey::Content => ViewDimension::Content,
            ViewKey::Platform => ViewDimension::Platform,
        }
    }
}

impl std::fmt::Display for ViewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a ROAS or CAC view is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewQuery {
    pub run_id: i64,
    pub by: ViewKey,
    /// First order/cost day, inclusive (reporting zone for orders).
    pub from: Option<NaiveDate>,
    /// Last order/cost day, inclusive.
    pub to: Option<NaiveDate>,
    /// Split rows by day, ISO week or month (ROAS only; CAC ignores it).
    pub bucket: Option<TimeBucket>,
    /// Only settled orders' revenue.
    pub settled_only: bool,
    /// Which day a credit counts on: its order's (cash) or its touch's (accrual).
    pub basis: CreditBasis,
}

impl ViewQuery {
    /// A query of the whole run by `by`: no range, no buckets, provisional orders included.
    pub fn new(run_id: i64, by: ViewKey) -> ViewQuery {
        ViewQuery {
            run_id,
            by,
            from: None,
            to: None,
            bucket: None,
            settled_only: false,
            basis: CreditBasis::Cash,
        }
    }
}

/// The reporting zone, read once per view.
pub(crate) fn reporting_zone(store: &Store) -> Result<Tz, ReportError> {
    let name = store.reporting_timezone()?;
    parse_time_zone(&name).map_err(|e| ReportError::InvalidSetting {
        field: "reporting_timezone",
        detail: e.to_string(),
    })
}

/// The credit filter of a day range in the reporting zone (half-open in instants), the days
/// being the credits' under `basis`.
pub(crate) fn order_filter(
    zone: Tz,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    settled_only: bool,
    basis: CreditBasis,
) -> Result<RunOrderFilter, ReportError> {
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ReportError::InvalidRange {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let mut filter = RunOrderFilter {
        settled_only,
        basis,
        ..RunOrderFilter::default()
    };
    if let Some(from) = from {
        filter.from_at_ms = Some(day_start_ms(from, zone)?);
    }
    if let Some(to) = to {
        filter.until_at_ms = Some(day_range_ms(to, zone)?.1);
    }
    Ok(filter)
}

/// Maps instants to days in one zone, remembering the last day's bounds: rows come sorted by
/// time within a key, so most lookups are one comparison instead of a zone conversion.
pub(crate) struct DayCache {
    zone: Tz,
    last: Option<(i64, i64, NaiveDate)>,
}

impl DayCache {
    pub(crate) fn new(zone: Tz) -> DayCache {
        DayCache { zone, last: None }
    }

    pub(crate) fn zone(&self) -> Tz {
        self.zone
    }

    pub(crate) fn day(&mut self, at_ms: i64) -> Result<NaiveDate, ReportError> {
        if let Some((start, end, day)) = self.last
            && at_ms >= start
            && at_ms < end
        {
            return Ok(day);
        }
        let day = day_in_zone(at_ms, self.zone)?;
        let (start, end) = day_range_ms(day, self.zone)?;
        self.last = Some((start, end, day));
        Ok(day)
    }
}

/// Key → human label of a dimension (names, titles), and the [`NONE_KEY`] row's in words;
/// channels and platforms label themselves.
pub(crate) fn labels(store: &Store, by: ViewKey) -> Result<HashMap<String, String>, ReportError> {
    let mut labels: HashMap<String, String> = store
        .dimension_labels(by.dimension())?
        .into_iter()
        .collect();
    labels.insert(
        NONE_KEY.to_owned(),
        crate::credits::none_label(by.as_str()).to_owned(),
    );
    Ok(labels)
}

pub(crate) fn label_of(labels: &HashMap<String, String>, key: &str) -> String {
    match key {
        CREATOR_COSTS_KEY => "Creator fees and commissions".to_owned(),
        _ => labels
            .get(key)
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| key.to_owned()),
    }
}

/// A store key, with NULL and empty shown as [`NONE_KEY`].
pub(crate) fn key_or_none(key: Option<String>) -> String {
    key.filter(|k| !k.is_empty())
        .unwrap_or_else(|| NONE_KEY.to_owned())
}

/// Cost on one key and day (or bucket, once summed by [`Costs::per_bucket`]), converted to the
/// reporting currency.
#[derive(Debug, Clone)]
pub(crate) struct CostLine {
    pub key: String,
    pub day: Option<NaiveDate>,
    pub ad_spend_minor: i64,
    pub creator_cost_minor: i64,
    /// Spend rows of this line that could not be converted (their amount counts as 0).
    pub missing_fx_rows: u64,
}

/// Every cost of the day range, keyed for `by` and converted to `currency`; the costs that could
/// not be converted are summed per currency in the second value.
pub(crate) fn load_costs(
    store: &Store,
    by: ViewKey,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    currency: Currency,
) -> Result<(Vec<CostLine>, Vec<MissingFxCost>), ReportError> {
    let fx = FxTable::from_rows(&store.fx_rates()?)?;
    let from_day = from.map(|d| d.format("%Y-%m-%d").to_string());
    let to_day = to.map(|d| d.format("%Y-%m-%d").to_string());
    let mut lines = Vec::new();
    let mut missing: Vec<MissingFxCost> = Vec::new();
    let mut convert = |minor: i64, code: &str, day: &str| -> Result<Option<i64>, ReportError> {
        let converted = match Currency::parse(code) {
            Ok(from) => fx.convert(minor, from, currency, day)?,
            // A currency core does not know has no exponent, so it cannot be converted either.
            Err(_) => None,
        };
        if converted.is_none() {
            match missing.iter_mut().find(|m| m.currency == code) {
                Some(m) => {
                    m.rows += 1;
                    m.amount_minor += minor;
                }
                None => missing.push(MissingFxCost {
                    currency: code.to_owned(),
                    rows: 1,
                    amount_minor: minor,
                }),
            }
        }
        Ok(converted)
    };
    let parse_day = |day: &str| NaiveDate::parse_from_str(day, "%Y-%m-%d").ok();

    for spend in store.view_spend(from_day.as_deref(), to_day.as_deref())? {
        let key = match by {
            ViewKey::Creator => key_or_none(spend.creator_id.clone()),
            ViewKey::Campaign => key_or_none(Some(spend.campaign_id.clone())),
            ViewKey::Channel => key_or_none(Some(spend.channel.clone())),
            ViewKey::Platform => key_or_none(Some(spend.platform.clone())),
            ViewKey::Content => NONE_KEY.to_owned(),
        };
        let converted = convert(spend.spend_minor, &spend.currency, &spend.day)?;
        lines.push(CostLine {
            key,
            day: parse_day(&spend.day),
            ad_spend_minor: converted.unwrap_or(0),
            creator_cost_minor: 0,
            missing_fx_rows: u64::from(converted.is_none()),
        });
    }
    for cost in store.view_creator_costs(from_day.as_deref(), to_day.as_deref())? {
        let key = match by {
            ViewKey::Creator => key_or_none(Some(cost.creator_id.clone())),
            _ => CREATOR_COSTS_KEY.to_owned(),
        };
        let converted = convert(cost.amount_minor, &cost.currency, &cost.day)?;
        lines.push(CostLine {
            key,
            day: parse_day(&cost.day),
            ad_spend_minor: 0,
            creator_cost_minor: converted.unwrap_or(0),
            missing_fx_rows: u64::from(converted.is_none()),
        });
    }
    missing.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok((lines, missing))
}

/// The costs of one day range keyed for one view key and converted to one currency: what
/// [`load_costs`] returns, and its lines summed per bucket as the views ask for them.
#[derive(Debug)]
pub(crate) struct Costs {
    pub lines: Vec<CostLine>,
    pub missing_fx: Vec<MissingFxCost>,
    /// [`Costs::per_bucket`] of no bucket, day, week and month, each summed on first use.
    summed: [OnceLock<Vec<CostLine>>; 4],
}

impl Costs {
    fn new(lines: Vec<CostLine>, missing_fx: Vec<MissingFxCost>) -> Costs {
        Costs {
            lines,
            missing_fx,
            summed: Default::default(),
        }
    }

    /// The lines summed per key and bucket, each dated on its bucket's first day (which is in
    /// the same bucket as every day summed into it); per key alone, undated, without a bucket.
    /// A line without a day stays undated, as the views put it in no bucket.
    pub(crate) fn per_bucket(&self, bucket: Option<TimeBucket>) -> &[CostLine] {
        let slot = match bucket {
            None => 0,
            Some(TimeBucket::Day) => 1,
            Some(TimeBucket::Week) => 2,
            Some(TimeBucket::Month) => 3,
        };
        self.summed[slot].get_or_init(|| {
            let mut index: HashMap<(&str, Option<NaiveDate>), usize> = HashMap::new();
            let mut sums: Vec<CostLine> = Vec::new();
            for line in &self.lines {
                let day = match bucket {
                    Some(bucket) => line.day.map(|day| bucket.start(day)),
                    None => None,
                };
                let next = sums.len();
                let i = *index.entry((line.key.as_str(), day)).or_insert(next);
                if i == next {
                    sums.push(CostLine {
                        key: line.key.clone(),
                        day,
                        ad_spend_minor: 0,
                        creator_cost_minor: 0,
                        missing_fx_rows: 0,
                    });
                }
                let sum = &mut sums[i];
                sum.ad_spend_minor += line.ad_spend_minor;
                sum.creator_cost_minor += line.creator_cost_minor;
                sum.missing_fx_rows += line.missing_fx_rows;
            }
            sums
        })
    }
}

/// Which costs: the view key, the day range and the reporting currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CostsKey {
    by: ViewKey,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    currency: Currency,
}

/// How many cost selections a [`ViewCache`] keeps (a few screens × view keys × ranges).
const CACHED_COST_SELECTIONS: usize = 16;

/// What the views read that does not depend on the run, kept between views on one store
/// connection (the window's) while nothing is committed to the file.
///
/// Costs — ad spend and creator costs of a day range, keyed and converted — are the same under
/// every model, and reading and converting them is most of a view over a cached run on a big
/// workspace (tens of thousands of spend rows). So a model switch reads only the new run's
/// credits. Every use first compares the store's [`DataStamp`]: after any commit — a sync, an
/// import, a new run, another process — everything kept is dropped and read again, so a view
/// from the cache is exactly the view without it.
#[derive(Debug, Default)]
pub struct ViewCache {
    /// The stamp the kept costs were read under.
    stamp: Option<DataStamp>,
    costs: HashMap<CostsKey, Arc<Costs>>,
}

impl ViewCache {
    /// An empty cache.
    pub fn new() -> ViewCache {
        ViewCache::default()
    }

    /// [`load_costs`], from the cache when nothing was committed since it was read.
    pub(crate) fn costs(
        &mut self,
        store: &Store,
        by: ViewKey,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        currency: Currency,
    ) -> Result<Arc<Costs>, ReportError> {
        // Read before the costs: a commit landing in between changes the next stamp, so what
        // is kept is at worst read again, never stale.
        let stamp = store.data_stamp()?;
        if stamp.is_none() || stamp != self.stamp {
            self.costs.clear();
            self.stamp = stamp;
        }
        let key = CostsKey {
            by,
            from,
            to,
            currency,
        };
        if let Some(costs) = self.costs.get(&key) {
            return Ok(Arc::clone(costs));
        }
        let (lines, missing_fx) = load_costs(store, by, from, to, currency)?;
        let costs = Arc::new(Costs::new(lines, missing_fx));
        // Inside a transaction (no stamp) nothing is kept: its writes may still roll back.
        if stamp.is_some() {
            if self.costs.len() >= CACHED_COST_SELECTIONS {
                self.costs.clear();
            }
            self.costs.insert(key, Arc::clone(&costs));
        }
        Ok(costs)
    }
}

/// `value · numerator / denominator` for ppb arithmetic, rounded once half to even.
pub(crate) fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    let twice = remainder * 2;
    if twice > denominator || (twice == denominator && quotient % 2 != 0) {
        quotient + 1
    } else {
        quotient
    }
}

pub(crate) fn to_i64(value: i128, what: &'static str) -> Result<i64, ReportError> {
    i64::try_from(value)
        .map_err(|_| ReportError::Core(lookback_core::CoreError::Overflow { operation: what }))
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod basis_tests;

#[cfg(test)]
mod totals_tests;
