//! The overview's headline (issue 13): net revenue and ad spend of the whole workspace as one
//! total each in the reporting currency, from the totals the store keeps per 15-minute slot
//! (revenue) and per day (spend), so it reads a few rows per day however many orders there are.
//!
//! Conversion is the views' rule ([`crate::views`], `lookback_engine::fx`): an amount of day `D`
//! is converted at the stored rate of `D` (direct, else the inverse), never another day's, never
//! 1.0. Revenue's day is the day in the reporting zone of each order's instant (a refund's or
//! chargeback's is its order's, as in a run); spend's day is the spend row's own. What has no
//! rate is left out
//! of the total and reported per currency beside it, in its own currency, with how many orders
//! or spend rows it holds — as the views' provenance does.
//!
//! Where it differs from a run's total: a run converts each order on its own and clamps its net
//! at zero; the headline converts each day's net per currency at once (one rounding per day and
//! currency). Both are the same money at the same days' rates; cents of rounding can differ
//! (4 cents on the 503,702.82 USD of the 90-day demo workspace it was first measured on).

use std::collections::BTreeMap;

use lookback_core::money::Currency;
use lookback_core::time::NaiveDate;
use lookback_engine::fx::FxTable;
use lookback_store::{MoneyFigure, SLOT_MS, Store};

use crate::ReportError;
use crate::views::{DayCache, reporting_zone};

/// Money of one currency that could not be converted for want of a rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconverted {
    pub currency: String,
    /// Orders (for revenue) or spend rows (for spend) on the days without a rate.
    pub rows: u64,
    /// In `currency` itself.
    pub amount_minor: i64,
}

/// Net revenue and ad spend in the reporting currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline {
    /// The reporting currency code.
    pub currency: String,
    /// Gross − counted refunds − counted chargebacks, converted day by day.
    pub net_revenue_minor: i64,
    /// Revenue of the days and currencies without a rate, left out of `net_revenue_minor`.
    pub unconverted_revenue: Vec<Unconverted>,
    pub ad_spend_minor: i64,
    pub unconverted_spend: Vec<Unconverted>,
}

/// The headline of the workspace as it is now.
pub fn headline(store: &Store) -> Result<Headline, ReportError> {
    let reporting: Currency =
        store
            .reporting_currency()?
            .parse()
            .map_err(|e: lookback_core::CoreError| ReportError::InvalidSetting {
                field: "reporting_currency",
                detail: e.to_string(),
            })?;
    let mut days = DayCache::new(reporting_zone(store)?);
    let fx = FxTable::from_rows(&store.fx_rates()?)?;

    // Net and orders per (currency, day in the reporting zone), the currencies by index into
    // `currencies` so a slot costs no allocation (a few currencies, many thousands of slots).
    let mut currencies: Vec<String> = Vec::new();
    let mut revenue: BTreeMap<(usize, NaiveDate), (i64, u64)> = BTreeMap::new();
    // The slots come sorted by figure, currency and time, so a run of them shares one
    // (currency, day): summed in `run` and added to the map when the key changes.
    let mut run: Option<((usize, NaiveDate), (i64, u64))> = None;
    let mut failed = None;
    store.for_each_revenue_slot(|figure, currency, slot, rows, amount_minor| {
        let day = match days.day(slot * SLOT_MS) {
            Ok(day) => day,
            Err(e) => {
                failed.get_or_insert(e);
                return;
            }
        };
        let index = match currencies.iter().position(|c| c == currency) {
            Some(index) => index,
            None => {
                currencies.push(currency.to_owned());
                currencies.len() - 1
            }
        };
        let (net, orders) = match figure {
            MoneyFigure::OrderGross => (amount_minor, rows),
            _ => (-amount_minor, 0),
        };
        match &mut run {
            Some((key, sums)) if *key == (index, day) => {
                sums.0 += net;
                sums.1 += orders;
            }
            _ => {
                if let Some((key, (net, orders))) = run.replace(((index, day), (net, orders))) {
                    let sums = revenue.entry(key).or_default();
                    sums.0 += net;
                    sums.1 += orders;
                }
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if let Some((key, (net, orders))) = run {
        let sums = revenue.entry(key).or_default();
        sums.0 += net;
        sums.1 += orders;
    }
    // Converted and listed in currency code order, as every other figure is.
    let mut revenue: Vec<_> = revenue.into_iter().collect();
    revenue.sort_by(|((a, day_a), _), ((b, day_b), _)| {
        currencies[*a].cmp(&currencies[*b]).then(day_a.cmp(day_b))
    });
    let mut unconverted_revenue = Vec::new();
    let mut net_revenue_minor = 0i64;
    for ((index, day), (net, orders)) in revenue {
        let currency = &currencies[index];
        let day = day.format("%Y-%m-%d").to_string();
        match convert(&fx, net, currency, reporting, &day)? {
            Some(value) => net_revenue_minor = add(net_revenue_minor, value)?,
            None => count_unconverted(&mut unconverted_revenue, currency, orders, net),
        }
    }

    let mut unconverted_spend = Vec::new();
    let mut ad_spend_minor = 0i64;
    for spend in store.ad_spend_days()? {
        match convert(
            &fx,
            spend.amount_minor,
            &spend.currency,
            reporting,
            &spend.day,
        )? {
            Some(value) => ad_spend_minor = add(ad_spend_minor, value)?,
            None => count_unconverted(
                &mut unconverted_spend,
                &spend.currency,
                spend.rows,
                spend.amount_minor,
            ),
        }
    }
    Ok(Headline {
        currency: reporting.code().to_owned(),
        net_revenue_minor,
        unconverted_revenue,
        ad_spend_minor,
        unconverted_spend,
    })
}

/// `minor` of `code` on `day` in `reporting`; `None` without a rate (or for a currency core does
/// not know, which has no decimal places to convert with).
fn convert(
    fx: &FxTable,
    minor: i64,
    code: &str,
    reporting: Currency,
    day: &str,
) -> Result<Option<i64>, ReportError> {
    match Currency::parse(code) {
        Ok(from) => Ok(fx.convert(minor, from, reporting, day)?),
        Err(_) => Ok(None),
    }
}

fn add(total: i64, value: i64) -> Result<i64, ReportError> {
    total.checked_add(value).ok_or_else(|| {
        ReportError::Core(lookback_core::CoreError::Overflow {
            operation: "headline total",
        })
    })
}

/// Adds to the currency's unconverted money, keeping the list in currency order (the days come
/// sorted by currency).
fn count_unconverted(list: &mut Vec<Unconverted>, currency: &str, rows: u64, amount_minor: i64) {
    match list.iter_mut().find(|u| u.currency == currency) {
        Some(u) => {
            u.rows += rows;
            u.amount_minor += amount_minor;
        }
        None => list.push(Unconverted {
            currency: currency.to_owned(),
            rows,
            amount_minor,
        }),
    }
}

#[cfg(test)]
mod tests {
    use lookback_store::{
        AdSpend, AdjustmentKind, FxRate, IdentityKeys, Order, OrderAdjustment, StoreError,
    };

    use super::*;

    /// 2026-03-02T00:00:00Z.
    const MAR2: i64 = 1_772_409_600_000;
    const HOUR: i64 = 3_600_000;

    fn order(id: &str, at: i64, gross: i64, currency: &str) -> Order {
        Order {
            order_id: id.into(),
            source: "shop".into(),
            occurred_at_ms: at,
            gross_minor: gross,
            currency: currency.into(),
            status: "paid".into(),
            click_id: None,
            identity: IdentityKeys::default(),
            raw_event_id: None,
        }
    }

    fn spend(campaign: &str, day: &str, minor: i64, currency: &str) -> AdSpend {
        AdSpend {
            platform: "meta".into(),
            account_id: "act".into(),
            campaign_id: campaign.into(),
            ad_id: String::new(),
            day: day.into(),
            account_timezone: "UTC".into(),
            channel: "paid_social".into(),
            creator_id: None,
            spend_minor: minor,
            currency: currency.into(),
            impressions: None,
            clicks: None,
            source: "meta".into(),
            raw_event_id: None,
            updated_at_ms: MAR2,
        }
    }

    fn rate(day: &str, from: &str, to: &str, rate: &str) -> FxRate {
        FxRate {
            day: day.into(),
            from_currency: from.into(),
            to_currency: to.into(),
            rate: rate.into(),
            source: "test".into(),
        }
    }

    /// Reporting in USD from Berlin: EUR 1.10 USD on Mar 2, 1.20 on Mar 3; USD 0.80 GBP on Mar 3
    /// only (read the other way round); no GBP rate on Mar 2.
    fn workspace(dir: &std::path::Path) -> Store {
        let mut store = Store::create(dir.join("w.lookback")).unwrap();
        store.set_reporting_currency("USD").unwrap();
        store.set_reporting_timezone("Europe/Berlin").unwrap();
        store
            .write(|tx| {
                tx.upsert_fx_rate(&rate("2026-03-02", "EUR", "USD", "1.1"))?;
                tx.upsert_fx_rate(&rate("2026-03-03", "EUR", "USD", "1.2"))?;
                tx.upsert_fx_rate(&rate("2026-03-03", "USD", "GBP", "0.8"))?;
                // 23:30 UTC on Mar 2 is 00:30 on Mar 3 in Berlin: Mar 3's rate.
                tx.insert_order(&order("late", MAR2 + 23 * HOUR + HOUR / 2, 10_000, "EUR"))?;
                tx.insert_order(&order("noon", MAR2 + 12 * HOUR, 5_000, "EUR"))?;
                tx.insert_adjustment(&OrderAdjustment {
                    adjustment_id: "r1".into(),
                    order_id: "noon".into(),
                    source: "shop".into(),
                    kind: AdjustmentKind::Refund,
                    occurred_at_ms: MAR2 + 13 * HOUR,
                    amount_minor: 1_000,
                    currency: "EUR".into(),
                    status: "succeeded".into(),
                    raw_event_id: None,
                })?;
                tx.insert_order(&order("usd", MAR2 + HOUR, 700, "USD"))?;
                tx.insert_order(&order("gbp2", MAR2 + 12 * HOUR, 3_000, "GBP"))?;
                tx.insert_order(&order("gbp3", MAR2 + 24 * HOUR + 12 * HOUR, 1_600, "GBP"))?;
                tx.upsert_ad_spend(&spend("a", "2026-03-03", 1_000, "EUR"))?;
                tx.upsert_ad_spend(&spend("b", "2026-03-03", 500, "EUR"))?;
                tx.upsert_ad_spend(&spend("a", "2026-03-02", 500, "GBP"))?;
                tx.upsert_ad_spend(&spend("b", "2026-03-02", 250, "GBP"))?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        store
    }

    #[test]
    fn each_days_money_is_converted_at_that_days_rate_and_what_has_none_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let store = workspace(dir.path());
        let h = headline(&store).unwrap();
        // EUR 100.00 × 1.2 (Berlin's Mar 3) + (50.00 − 10.00) × 1.1 (Mar 2) + USD 7.00
        // + GBP 16.00 ÷ 0.8 (Mar 3, the inverse rate) = 120.00 + 44.00 + 7.00 + 20.00.
        assert_eq!(h.currency, "USD");
        assert_eq!(h.net_revenue_minor, 19_100);
        // GBP 30.00 of Mar 2 has no rate either way.
        assert_eq!(
            h.unconverted_revenue,
            vec![Unconverted {
                currency: "GBP".into(),
                rows: 1,
                amount_minor: 3_000
            }]
        );
        // EUR 15.00 × 1.2 on Mar 3; GBP 7.50 on Mar 2 (two rows) has no rate.
        assert_eq!(h.ad_spend_minor, 1_800);
        assert_eq!(
            h.unconverted_spend,
            vec![Unconverted {
                currency: "GBP".into(),
                rows: 2,
                amount_minor: 750
            }]
        );
    }

    #[test]
    fn the_headline_reads_no_table_that_grows_with_the_data_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = workspace(dir.path());
        let (h, statements) = store.record_statements(headline);
        h.unwrap();
        let statements: Vec<&String> = statements.iter().filter(|s| !s.starts_with("--")).collect();
        assert!(statements.len() >= 3, "recorded {statements:?}");
        for sql in statements {
            let scans = store.whole_table_scans(sql).unwrap();
            assert!(
                scans.is_empty(),
                "{sql}\nreads a big table whole: {scans:?}"
            );
        }
    }
}
