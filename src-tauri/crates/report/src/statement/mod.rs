//! Creator statements: what one creator earned in one period under the workspace's current
//! attribution run, as a manager sends it and a creator checks it — the orders credited to
//! them, the clawbacks of earlier orders, settled vs provisional revenue, their costs and ROAS,
//! the run that produced it and the model changes that took effect in the period. Rendered as
//! a printable PDF ([`pdf`]) and a CSV ([`csv`]); both show only that creator's data.
//!
//! Definitions (documented for the README). The period is the days `from..=to` in the reporting
//! zone, the instants `[start, end)`. Amounts are in the run's reporting currency.
//! - For an order the run credits to the creator: `share` = Σ the shares of the creator's
//!   touches, `credited` = Σ their credited revenue (the run's net of every counted refund and
//!   chargeback), `refunds` = round(share × (gross − net)), half to even, with the gross
//!   converted at the order day's rate as the run converted the net (the creator screen's
//!   figure), and `credited gross` = credited + refunds.
//! - The refunds are booked when they happen: by instant `t`, `refunds(t)` = round(refunds ×
//!   A(t) / A), half to even, where A(t) is the counted refunds and chargebacks of the order
//!   dated before `t` (each converted at the order day's rate) and A all of them. So
//!   `refunds(end of time)` = refunds, and the bookings of consecutive periods add up exactly.
//! - **Orders of the period** (placed in `[start, end)`): amount = credited gross −
//!   refunds(end), i.e. net of the refunds and chargebacks booked by the period's end. Settled
//!   and provisional split these amounts by the run's provisional flag (settlement window, open
//!   disputes).
//! - **Clawbacks** (orders placed before `start`): amount = −(refunds(end) − refunds(start)),
//!   the creator's part of the refunds and chargebacks of an earlier period's order booked in
//!   this one. A refund booked after `end` is a clawback of a later statement.
//! - **Net** = Σ order amounts + Σ clawbacks. Over consecutive periods the statements' nets add
//!   up to the creator's credited revenue of the orders they cover, to the minor unit.
//! - **Costs** = the creator's fees and commissions plus the ad spend on their campaigns whose
//!   own day lies in `from..=to`, converted at that day's rate (the ROAS view's rule); costs
//!   without a rate are listed and left out of the total. **ROAS** = net / costs.
//! - **Model changes**: the model log's entries with `from ≤ changed_at < end`.

pub mod csv;
pub mod pdf;
mod text;

use std::collections::BTreeMap;

use lookback_core::money::{Currency, SHARE_ONE_PPB};
use lookback_core::time::{NaiveDate, day_range_ms, day_start_ms};
use lookback_engine::fx::FxTable;
use lookback_store::{ModelChange, OrderAdjustment, RunOrderFilter, Store};

use crate::ReportError;
use crate::credits::RunInfo;
use crate::ratio::Ratio;
use crate::views::provenance::MissingFxCost;
use crate::views::{DayCache, div_round_half_even, reporting_zone, to_i64};

pub use text::{statement_file_stem, statement_lines};

/// One order of the period credited to the creator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementOrder {
    pub order_id: String,
    pub occurred_at_ms: i64,
    /// The order's day in the reporting zone.
    pub day: NaiveDate,
    /// The creator's share of the order, in billionths.
    pub share_ppb: i64,
    /// Credited revenue + the creator's part of every counted refund and chargeback.
    pub credited_gross_minor: i64,
    /// The creator's part of the refunds and chargebacks booked by the period's end.
    pub refunds_minor: i64,
    /// `credited_gross_minor − refunds_minor`.
    pub amount_minor: i64,
    pub provisional: bool,
}

/// An earlier period's order whose refunds or chargebacks were booked in this period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementClawback {
    pub order_id: String,
    pub order_day: NaiveDate,
    /// The day (reporting zone) of the last refund or chargeback of the order in the period.
    pub booked_day: NaiveDate,
    pub share_ppb: i64,
    /// Negative: what the period takes back.
    pub amount_minor: i64,
}

/// One fee or commission of the creator in the period, in its own currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementCost {
    pub cost_id: String,
    pub day: String,
    /// `fee` or `commission`.
    pub kind: String,
    pub amount_minor: i64,
    pub currency: String,
}

/// The attribution run a statement was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRun {
    pub run_id: i64,
    pub model: String,
    /// Canonical JSON of the parameters.
    pub parameters: String,
    pub lookback_days: u32,
    pub settlement_days: u32,
    pub input_watermark: String,
}

/// What one creator earned in one period (see the module docs for every definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorStatement {
    pub creator_id: String,
    pub display_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reporting_zone: String,
    pub currency: String,
    pub run: StatementRun,
    pub orders: Vec<StatementOrder>,
    pub clawbacks: Vec<StatementClawback>,
    /// Σ order amounts of settled / provisional orders.
    pub settled_minor: i64,
    pub provisional_minor: i64,
    /// Σ clawbacks (≤ 0).
    pub clawbacks_minor: i64,
    /// settled + provisional + clawbacks.
    pub net_minor: i64,
    /// Σ shares of the period's orders, in billionths.
    pub orders_credited_ppb: i64,
    pub costs: Vec<StatementCost>,
    /// Fees and commissions, converted.
    pub creator_costs_minor: i64,
    /// Ad spend on the creator's campaigns, converted.
    pub ad_spend_minor: i64,
    /// `creator_costs_minor + ad_spend_minor`.
    pub cost_minor: i64,
    /// Costs without an exchange rate, left out of `cost_minor`.
    pub missing_fx_costs: Vec<MissingFxCost>,
    /// net / cost; `None` without cost.
    pub roas: Option<Ratio>,
    /// The model log's entries of the period, oldest first.
    pub model_changes: Vec<ModelChange>,
}

/// An order's creator refunds and when they were booked.
struct RefundBooking<'a> {
    /// The creator's part of all of the order's counted refunds and chargebacks.
    refunds_minor: i64,
    /// The order's counted adjustments, in time order, with their weight (converted amount).
    adjustments: Vec<(&'a OrderAdjustment, i128)>,
    weight: i128,
    occurred_at_ms: i64,
}

impl RefundBooking<'_> {
    /// The creator's refunds booked before `at_ms`.
    fn booked_before(&self, at_ms: i64) -> Result<i64, ReportError> {
        if self.weight == 0 {
            // Refunds no adjustment explains (none counted): booked with the order.
            return Ok(if self.occurred_at_ms < at_ms {
                self.refunds_minor
            } else {
                0
            });
        }
        let before: i128 = self
            .adjustments
            .iter()
            .filter(|(a, _)| a.occurred_at_ms < at_ms)
            .map(|(_, w)| *w)
            .sum();
        to_i64(
            div_round_half_even(i128::from(self.refunds_minor) * before, self.weight),
            "refunds booked",
        )
    }
}

/// The statement of creator `creator_id` for the days `from..=to` under run `run_id`.
pub fn creator_statement(
    store: &Store,
    run_id: i64,
    creator_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<CreatorStatement, ReportError> {
    if from > to {
        return Err(ReportError::InvalidRange {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let (run_info, run) = RunInfo::load(store, run_id)?;
    let display_name = crate::views::creator::creator_display_name(store, creator_id)?;
    let zone = reporting_zone(store)?;
    let currency = run_info.reporting_currency;
    let start_ms = day_start_ms(from, zone)?;
    let end_ms = day_range_ms(to, zone)?.1;
    let fx = FxTable::from_rows(&store.fx_rates()?)?;
    let mut days = DayCache::new(zone);

    let adjustments = store.creator_counted_adjustments(run_id, creator_id, i64::MAX)?;
    let mut by_order: BTreeMap<&str, Vec<&OrderAdjustment>> = BTreeMap::new();
    for a in &adjustments {
        by_order.entry(a.order_id.as_str()).or_default().push(a);
    }
    let booking = |order: &lookback_store::CreatorOrderCredit,
                   days: &mut DayCache|
     -> Result<(NaiveDate, RefundBooking<'_>), ReportError> {
        let day = days.day(order.occurred_at_ms)?;
        let day_text = day.format("%Y-%m-%d").to_string();
        let gross = match Currency::parse(&order.currency) {
            Ok(c) => fx.convert(order.gross_minor, c, currency, &day_text)?,
            Err(_) => None,
        };
        let refunded = gross.map(|g| (g - order.net_minor).max(0)).unwrap_or(0);
        let refunds_minor = to_i64(
            div_round_half_even(
                i128::from(order.share_ppb) * i128::from(refunded),
                i128::from(SHARE_ONE_PPB),
            ),
            "credited refunds",
        )?;
        let mut weighted = Vec::new();
        for a in by_order.get(order.order_id.as_str()).into_iter().flatten() {
            let converted = match Currency::parse(&a.currency) {
                Ok(c) => fx.convert(a.amount_minor, c, currency, &day_text)?,
                Err(_) => None,
            };
            weighted.push((*a, i128::from(converted.unwrap_or(a.amount_minor))));
        }
        let weight = weighted.iter().map(|(_, w)| *w).sum();
        Ok((
            day,
            RefundBooking {
                refunds_minor,
                adjustments: weighted,
                weight,
                occurred_at_ms: order.occurred_at_ms,
            },
        ))
    };

    // The period's orders.
    let period = RunOrderFilter {
        from_at_ms: Some(start_ms),
        until_at_ms: Some(end_ms),
        ..RunOrderFilter::default()
    };
    let mut orders = Vec::new();
    let (mut settled, mut provisional, mut shares) = (0i64, 0i64, 0i128);
    for order in store.creator_order_credits(run_id, creator_id, &period)? {
        // A journey the creator was in but the model gave nothing is not theirs to see.
        if order.share_ppb == 0 {
            continue;
        }
        let (day, refunds) = booking(&order, &mut days)?;
        let booked = refunds.booked_before(end_ms)?;
        let credited_gross = order.revenue_minor + refunds.refunds_minor;
        let amount = credited_gross - booked;
        if order.provisional {
            provisional += amount;
        } else {
            settled += amount;
        }
        shares += i128::from(order.share_ppb);
        orders.push(StatementOrder {
            order_id: order.order_id,
            occurred_at_ms: order.occurred_at_ms,
            day,
            share_ppb: order.share_ppb,
            credited_gross_minor: credited_gross,
            refunds_minor: booked,
            amount_minor: amount,
            provisional: order.provisional,
        });
    }

    // Clawbacks: earlier orders with a counted adjustment in the period.
    let mut clawbacks = Vec::new();
    let earlier_with_adjustment = |order_id: &str| {
        by_order.get(order_id).is_some_and(|list| {
            list.iter()
                .any(|a| a.occurred_at_ms >= start_ms && a.occurred_at_ms < end_ms)
        })
    };
    let earlier = RunOrderFilter {
        until_at_ms: Some(start_ms),
        ..RunOrderFilter::default()
    };
    let earlier_orders: Vec<_> = store
        .creator_order_credits(run_id, creator_id, &earlier)?
        .into_iter()
        .filter(|o| o.share_ppb != 0 && earlier_with_adjustment(&o.order_id))
        .collect();
    let mut clawbacks_minor = 0i64;
    for order in &earlier_orders {
        let (order_day, refunds) = booking(order, &mut days)?;
        let clawed = refunds.booked_before(end_ms)? - refunds.booked_before(start_ms)?;
        if clawed == 0 {
            continue;
        }
        let last_in_period = refunds
            .adjustments
            .iter()
            .filter(|(a, _)| a.occurred_at_ms >= start_ms && a.occurred_at_ms < end_ms)
            .map(|(a, _)| a.occurred_at_ms)
            .max()
            .unwrap_or(start_ms);
        clawbacks_minor -= clawed;
        clawbacks.push(StatementClawback {
            order_id: order.order_id.clone(),
            order_day,
            booked_day: days.day(last_in_period)?,
            share_ppb: order.share_ppb,
            amount_minor: -clawed,
        });
    }
    clawbacks.sort_by(|a, b| {
        (a.booked_day, a.order_day, &a.order_id).cmp(&(b.booked_day, b.order_day, &b.order_id))
    });

    // Costs, converted as the ROAS view converts them: at the rate of their own day.
    let from_day = from.format("%Y-%m-%d").to_string();
    let to_day = to.format("%Y-%m-%d").to_string();
    let mut missing_fx_costs: Vec<MissingFxCost> = Vec::new();
    let mut convert = |minor: i64, code: &str, day: &str| -> Result<i64, ReportError> {
        let converted = match Currency::parse(code) {
            Ok(c) => fx.convert(minor, c, currency, day)?,
            Err(_) => None,
        };
        if converted.is_none() {
            match missing_fx_costs.iter_mut().find(|m| m.currency == code) {
                Some(m) => {
                    m.rows += 1;
                    m.amount_minor += minor;
                }
                None => missing_fx_costs.push(MissingFxCost {
                    currency: code.to_owned(),
                    rows: 1,
                    amount_minor: minor,
                }),
            }
        }
        Ok(converted.unwrap_or(0))
    };
    let mut ad_spend = 0i64;
    for spend in store.view_spend(Some(&from_day), Some(&to_day))? {
        if spend.creator_id.as_deref() == Some(creator_id) {
            ad_spend += convert(spend.spend_minor, &spend.currency, &spend.day)?;
        }
    }
    let mut creator_costs = 0i64;
    let mut costs = Vec::new();
    for c in store.view_creator_costs(Some(&from_day), Some(&to_day))? {
        if c.creator_id != creator_id {
            continue;
        }
        creator_costs += convert(c.amount_minor, &c.currency, &c.day)?;
        costs.push(StatementCost {
            cost_id: c.cost_id,
            day: c.day,
            kind: c.kind.to_string(),
            amount_minor: c.amount_minor,
            currency: c.currency,
        });
    }
    missing_fx_costs.sort_by(|a, b| a.currency.cmp(&b.currency));

    let mut model_changes: Vec<ModelChange> = store
        .model_changes()?
        .into_iter()
        .filter(|c| c.changed_at_ms >= start_ms && c.changed_at_ms < end_ms)
        .collect();
    model_changes.sort_by_key(|c| (c.changed_at_ms, c.change_id));

    let net = settled + provisional + clawbacks_minor;
    let cost = creator_costs + ad_spend;
    Ok(CreatorStatement {
        creator_id: creator_id.to_owned(),
        display_name,
        from,
        to,
        reporting_zone: store.reporting_timezone()?,
        currency: currency.code().to_owned(),
        run: StatementRun {
            run_id,
            model: run.model,
            parameters: run.parameters,
            lookback_days: run.lookback_days,
            settlement_days: run.settlement_days,
            input_watermark: run.input_watermark,
        },
        orders,
        clawbacks,
        settled_minor: settled,
        provisional_minor: provisional,
        clawbacks_minor,
        net_minor: net,
        orders_credited_ppb: to_i64(shares, "orders credited")?,
        costs,
        creator_costs_minor: creator_costs,
        ad_spend_minor: ad_spend,
        cost_minor: cost,
        missing_fx_costs,
        roas: Ratio::new(i128::from(net), i128::from(cost)),
        model_changes,
    })
}
