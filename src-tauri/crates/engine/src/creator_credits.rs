//! What each creator earned, per order in a time window, under a model — for readers that need
//! the model's answer *now* (threshold alerts) without writing a run on every check.
//!
//! When a complete run of the model exists for the store's current input watermark, its stored
//! credits are read. Otherwise the run is computed in memory (from the journey cache when it is
//! current) and not persisted: a check every 30 s while webhooks stream in would otherwise
//! write a full run each time. Either way the numbers are the ones `run_model` writes for the
//! same inputs, because both go through [`compute_run`].

use std::collections::BTreeMap;

use lookback_core::attribution::{Model, ModelParams};
use lookback_core::money::Currency;
use lookback_store::{CreatorCreditOrder, Store};

use crate::EngineError;
use crate::inputs::reporting_currency;
use crate::run::{compute_run, find_cached_run, load_journeys};

/// Per order placed in `[from_ms, to_ms)` and per creator, what `model` credits the creator's
/// touches with (reporting currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorCredits {
    /// The stored run the credits come from; `None` when computed in memory.
    pub run_id: Option<i64>,
    pub input_watermark: String,
    pub reporting_currency: Currency,
    pub credits: Vec<CreatorCreditOrder>,
}

/// See the module docs. Orders whose revenue could not be converted (no exchange rate) are
/// credited to no one, as in a stored run.
pub fn creator_credits_between(
    store: &mut Store,
    model: Model,
    params: &ModelParams,
    now_ms: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<CreatorCredits, EngineError> {
    let watermark = store.input_watermark()?;
    if let Some(run_id) = find_cached_run(store, model, params, now_ms)?
        && let Some(run) = store.run(run_id)?
    {
        let currency = Currency::parse(&run.reporting_currency).map_err(EngineError::Core)?;
        return Ok(CreatorCredits {
            run_id: Some(run.run_id),
            input_watermark: watermark,
            reporting_currency: currency,
            credits: store.creator_credit_orders(run.run_id, from_ms, to_ms)?,
        });
    }
    let currency = reporting_currency(store)?;
    let (journeys, facts, _) = load_journeys(
        store,
        &watermark,
        params.lookback_days,
        params.touches,
        now_ms,
        model.is_data_driven(),
    )?;
    let computed = compute_run(model, params, &facts, &journeys)?;
    let states = store.order_states_between(from_ms, to_ms)?;
    // (order index, creator string index) → credited minor units.
    let mut sums: BTreeMap<(u32, u32), i64> = BTreeMap::new();
    for credit in &computed.credits {
        let order = &facts[credit.order as usize];
        let creator = journeys.touches[credit.touch as usize].creator;
        if order.occurred_at_ms < from_ms || order.occurred_at_ms >= to_ms || creator == u32::MAX {
            continue;
        }
        *sums.entry((credit.order, creator)).or_default() += credit.revenue_minor;
    }
    let mut credits: Vec<CreatorCreditOrder> = sums
        .into_iter()
        .filter_map(|((order, creator), credited_minor)| {
            let facts = &facts[order as usize];
            let (status, disputed) = states.get(&facts.order_id)?.clone();
            Some(CreatorCreditOrder {
                order_id: facts.order_id.clone(),
                creator_id: journeys.strings.get(creator).to_owned(),
                occurred_at_ms: facts.occurred_at_ms,
                credited_minor,
                order_net_minor: facts.net_minor,
                provisional: facts.provisional,
                status,
                disputed,
            })
        })
        .collect();
    credits.sort_by(|a, b| {
        (a.occurred_at_ms, &a.order_id, &a.creator_id).cmp(&(
            b.occurred_at_ms,
            &b.order_id,
            &b.creator_id,
        ))
    });
    Ok(CreatorCredits {
        run_id: None,
        input_watermark: watermark,
        reporting_currency: currency,
        credits,
    })
}
