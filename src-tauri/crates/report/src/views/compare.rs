//! The model comparison: the same selection's attributed revenue per key under several runs
//! (models or parameters), side by side, with how far the models disagree on each key.
//!
//! All runs must share a reporting currency, or their numbers could not be compared.

use std::collections::BTreeMap;

use lookback_core::time::NaiveDate;
use lookback_store::Store;

use super::provenance::Provenance;
use super::{CreditBasis, ViewKey, key_or_none, label_of, labels, order_filter, reporting_zone};
use crate::ReportError;
use crate::credits::RunInfo;
use crate::ratio::Ratio;

/// One key's revenue under each run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareRow {
    pub key: String,
    pub label: String,
    /// One per run, in the order the runs were given; 0 where a run credits the key nothing.
    pub revenue_minor: Vec<i64>,
    /// max − min of `revenue_minor`.
    pub spread_minor: i64,
    /// spread ÷ max; `None` when the largest revenue is not positive.
    pub spread_ratio: Option<Ratio>,
}

impl CompareRow {
    fn finish(&mut self) {
        let max = self.revenue_minor.iter().copied().max().unwrap_or(0);
        let min = self.revenue_minor.iter().copied().min().unwrap_or(0);
        self.spread_minor = max - min;
        self.spread_ratio = if max > 0 {
            Ratio::new(i128::from(self.spread_minor), i128::from(max))
        } else {
            None
        };
    }
}

/// Several runs' revenue by one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareView {
    pub by: ViewKey,
    /// One per run, in the order given.
    pub models: Vec<Provenance>,
    /// Sorted by the largest revenue any run gives the key (largest first), then key.
    pub rows: Vec<CompareRow>,
    /// Σ rows per run (key `(total)`); runs over the same inputs have equal totals.
    pub totals: CompareRow,
    pub currency: String,
}

/// Compares runs `run_ids` by `by` over credits of days `from..=to` (reporting zone; the days
/// `basis` gives them).
pub fn compare_view(
    store: &Store,
    by: ViewKey,
    run_ids: &[i64],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    settled_only: bool,
    basis: CreditBasis,
) -> Result<CompareView, ReportError> {
    if run_ids.is_empty() {
        return Err(ReportError::NothingToCompare);
    }
    let zone = reporting_zone(store)?;
    let filter = order_filter(zone, from, to, settled_only, basis)?;
    let names = labels(store, by)?;
    let mut currency: Option<String> = None;
    let mut models = Vec::with_capacity(run_ids.len());
    let mut rows: BTreeMap<String, CompareRow> = BTreeMap::new();
    for (index, &run_id) in run_ids.iter().enumerate() {
        let (run, _) = RunInfo::load(store, run_id)?;
        let code = run.reporting_currency.code().to_owned();
        match &currency {
            Some(first) if *first != code => {
                return Err(ReportError::CurrencyMismatch {
                    first: first.clone(),
                    other: code,
                    run_id,
                });
            }
            _ => currency = Some(code),
        }
        store.for_each_view_credit_group(run_id, by.dimension(), &filter, false, |group| {
            let key = key_or_none(group.key);
            let row = rows.entry(key.clone()).or_insert_with(|| CompareRow {
                label: label_of(&names, &key),
                key,
                revenue_minor: vec![0; run_ids.len()],
                spread_minor: 0,
                spread_ratio: None,
            });
            row.revenue_minor[index] += group.revenue_minor;
        })?;
        models.push(Provenance::build(store, &run, &filter, from, to)?);
    }
    let mut totals = CompareRow {
        key: super::roas::TOTAL_KEY.to_owned(),
        label: "Total".to_owned(),
        revenue_minor: vec![0; run_ids.len()],
        spread_minor: 0,
        spread_ratio: None,
    };
    let mut rows: Vec<CompareRow> = rows.into_values().collect();
    for row in &mut rows {
        row.finish();
        for (sum, value) in totals.revenue_minor.iter_mut().zip(&row.revenue_minor) {
            *sum += value;
        }
    }
    totals.finish();
    let max = |r: &CompareRow| r.revenue_minor.iter().copied().max().unwrap_or(0);
    rows.sort_by(|a, b| max(b).cmp(&max(a)).then_with(|| a.key.cmp(&b.key)));
    Ok(CompareView {
        by,
        models,
        rows,
        totals,
        currency: currency.unwrap_or_default(),
    })
}
