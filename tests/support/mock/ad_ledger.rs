//! The truth behind the ad-platform mocks (Meta, Google Ads, TikTok): a ledger of daily spend
//! per ad, in minor units of the account currency, that the mocks serve in each platform's own
//! encoding and that tests compare the store against. It can restate days (change their
//! numbers, as the platforms do for weeks) and grow new days between syncs.

use std::collections::BTreeMap;

/// One ad's day as the platform would report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// Days since 1970-01-01 (a calendar day of the account's zone).
    pub day: i64,
    pub campaign_id: String,
    pub ad_id: String,
    /// Spend in millionths of a major unit, as Google sends it; the other mocks send
    /// [`LedgerRow::spend_minor`] as a decimal.
    pub spend_micros: i64,
    pub impressions: i64,
    pub clicks: i64,
}

impl LedgerRow {
    /// Spend in minor units of a currency with `exponent` decimals, rounded half to even —
    /// computed here independently of Lookback's own conversion.
    pub fn spend_minor(&self, exponent: u32) -> i64 {
        let divisor = 10_i64.pow(6 - exponent);
        let (quotient, remainder) = (self.spend_micros / divisor, self.spend_micros % divisor);
        match (2 * remainder).cmp(&divisor) {
            std::cmp::Ordering::Greater => quotient + 1,
            std::cmp::Ordering::Equal if quotient % 2 == 1 => quotient + 1,
            _ => quotient,
        }
    }
}

/// Daily spend of a few ads over a range of days.
#[derive(Debug, Clone, Default)]
pub struct AdLedger {
    /// Keyed by (day, ad id): the order the mocks page in.
    pub rows: BTreeMap<(i64, String), LedgerRow>,
    /// (campaign id, ad id) of every ad.
    pub ads: Vec<(String, String)>,
}

impl AdLedger {
    /// Rows for every ad on every day in `first..=last` (`YYYY-MM-DD`), except a few days on
    /// which an ad did not deliver. `micros_step` makes the amounts more or less round:
    /// 10_000 gives whole cents, smaller steps give sub-cent micros.
    pub fn generate(first: &str, last: &str, ads: &[(&str, &str)], micros_step: i64) -> AdLedger {
        let mut ledger = AdLedger {
            rows: BTreeMap::new(),
            ads: ads
                .iter()
                .map(|(c, a)| ((*c).to_owned(), (*a).to_owned()))
                .collect(),
        };
        for day in day_number(first)..=day_number(last) {
            for (index, (campaign, ad)) in ads.iter().enumerate() {
                let index = index as i64;
                if (day + index) % 11 == 0 {
                    continue;
                }
                let units = (day * 7 + index * 13) % 5000 + 100;
                ledger.rows.insert(
                    (day, (*ad).to_owned()),
                    LedgerRow {
                        day,
                        campaign_id: (*campaign).to_owned(),
                        ad_id: (*ad).to_owned(),
                        spend_micros: units * micros_step + (day % 3) * micros_step / 2,
                        impressions: units * 40 + index,
                        clicks: units / 10,
                    },
                );
            }
        }
        ledger
    }

    /// The rows of `since..=until`, in (day, ad) order.
    pub fn between(&self, since: i64, until: i64) -> Vec<LedgerRow> {
        self.rows
            .values()
            .filter(|r| (since..=until).contains(&r.day))
            .cloned()
            .collect()
    }

    /// Changes the numbers of every row in `since..=until` (`YYYY-MM-DD`): spend and clicks
    /// go up by `percent`, as when late conversions or invalid-click credits restate a day.
    pub fn restate(&mut self, since: &str, until: &str, percent: i64) {
        let (since, until) = (day_number(since), day_number(until));
        for row in self
            .rows
            .values_mut()
            .filter(|r| (since..=until).contains(&r.day))
        {
            row.spend_micros += row.spend_micros * percent / 100;
            row.clicks += row.clicks * percent / 100 + 1;
        }
    }

    /// Adds days `first..=last` for every ad (the account kept spending after a sync).
    pub fn extend(&mut self, first: &str, last: &str, micros_step: i64) {
        let ads: Vec<(&str, &str)> = self
            .ads
            .iter()
            .map(|(c, a)| (c.as_str(), a.as_str()))
            .collect();
        let more = AdLedger::generate(first, last, &ads, micros_step);
        self.rows.extend(more.rows);
    }

    /// Σ spend in minor units over `since..=until`, and the number of rows.
    pub fn truth(&self, since: &str, until: &str, exponent: u32) -> (i64, usize) {
        let rows = self.between(day_number(since), day_number(until));
        (
            rows.iter().map(|r| r.spend_minor(exponent)).sum(),
            rows.len(),
        )
    }
}

/// `YYYY-MM-DD` → days since 1970-01-01 (Howard Hinnant's days_from_civil).
pub fn day_number(text: &str) -> i64 {
    parse_day(text).unwrap_or_else(|| panic!("{text:?} is not YYYY-MM-DD"))
}

/// `YYYY-MM-DD` → days since 1970-01-01, if it is a date.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if text.len() != 10 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Days since 1970-01-01 → `YYYY-MM-DD`.
pub fn day_text(day: i64) -> String {
    super::generic::rfc3339(day * 86_400)[..10].to_owned()
}
