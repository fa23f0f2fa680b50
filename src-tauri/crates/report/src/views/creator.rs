//! A creator's revenue: which of their posts, links and stories earned money, net of refunds —
//! per content, per order and per day, split into settled and provisional.
//!
//! Amounts are the creator's *credited* part of each order, in the reporting currency:
//! - net = Σ credited revenue (the run's credits, already net of refunds and chargebacks);
//! - refunds = Σ over orders of round(share × the order's refunds and chargebacks), rounded once
//!   per order, half to even, with the order's gross converted at the rate the run used (the
//!   order day's);
//! - gross = net + refunds, so gross − refunds = net exactly, and settled + provisional = net.

use std::collections::BTreeMap;

use lookback_core::money::{Currency, SHARE_ONE_PPB};
use lookback_core::time::NaiveDate;
use lookback_engine::fx::FxTable;
use lookback_store::Store;

use super::provenance::Provenance;
use super::{
    CreditBasis, DayCache, NONE_KEY, div_round_half_even, order_filter, reporting_zone, to_i64,
};
use crate::ReportError;
use crate::credits::RunInfo;

/// One piece of the creator's content and what it earned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorContentLine {
    /// The content id, or [`NONE_KEY`] for the creator's touches that name no content.
    pub content_id: String,
    /// The title, or the id for content no source described.
    pub title: String,
    /// `post`, `story`, `video`, `link`…; empty when unknown.
    pub kind: String,
    pub url: Option<String>,
    pub attributed_revenue_minor: i64,
    pub orders_credited_ppb: i64,
}

/// One order the creator earned credit on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorOrderLine {
    pub order_id: String,
    pub occurred_at_ms: i64,
    /// The creator's share of the order, in billionths.
    pub share_ppb: i64,
    /// The creator's credited net revenue of the order.
    pub credited_revenue_minor: i64,
    /// The whole order's gross in the reporting currency; `None` if it could not be converted.
    pub gross_minor_reporting: Option<i64>,
    /// The whole order's net revenue in the reporting currency (as the run converted it).
    pub net_minor: i64,
    /// The whole order's counted refunds and chargebacks in the reporting currency
    /// (gross − net; 0 when the gross could not be converted).
    pub refunded_minor: i64,
    /// The creator's part of `refunded_minor`.
    pub credited_refunds_minor: i64,
    pub provisional: bool,
}

/// Credited revenue of one order day (reporting zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRevenue {
    pub day: NaiveDate,
    pub revenue_minor: i64,
}

/// A creator's revenue under one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorRevenueView {
    pub creator_id: String,
    /// The creator's display name, or the id when no source described them.
    pub display_name: String,
    /// The creator's content (every known piece, earning or not, plus content only touches
    /// name), by revenue (largest first), then id.
    pub content: Vec<CreatorContentLine>,
    /// The orders the creator earned credit on, in time order.
    pub orders: Vec<CreatorOrderLine>,
    /// Credited gross, refunds (and chargebacks), net; settled + provisional = net.
    pub gross_minor: i64,
    pub refunds_minor: i64,
    pub net_minor: i64,
    pub settled_minor: i64,
    pub provisional_minor: i64,
    /// Σ shares: orders credited, in billionths.
    pub orders_credited_ppb: i64,
    /// Per day with revenue (the order's, or the touch's under accrual), in day order;
    /// Σ = `net_minor`.
    pub by_day: Vec<DayRevenue>,
    pub provenance: Provenance,
    pub currency: String,
}

/// The revenue of creator `creator_id` under run `run_id`, over credits of days `from..=to`
/// (their orders' days, or their touches' under the accrual basis).
pub fn creator_revenue_view(
    store: &Store,
    run_id: i64,
    creator_id: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    basis: CreditBasis,
) -> Result<CreatorRevenueView, ReportError> {
    let (run, _) = RunInfo::load(store, run_id)?;
    let display_name = creator_display_name(store, creator_id)?;
    let zone = reporting_zone(store)?;
    let filter = order_filter(zone, from, to, false, basis)?;
    let currency = run.reporting_currency;

    // Content: every known piece of the creator's, then what the credits say.
    let mut content: BTreeMap<String, CreatorContentLine> = store
        .content()?
        .into_iter()
        .filter(|c| c.creator_id.as_deref() == Some(creator_id))
        .map(|c| {
            (
                c.content_id.clone(),
                CreatorContentLine {
                    content_id: c.content_id,
                    title: c.title,
                    kind: c.kind,
                    url: c.url,
                    attributed_revenue_minor: 0,
                    orders_credited_ppb: 0,
                },
            )
        })
        .collect();
    for (content_id, share_ppb, revenue) in
        store.creator_content_credits(run_id, creator_id, &filter)?
    {
        let id = content_id.unwrap_or_else(|| NONE_KEY.to_owned());
        let line = content
            .entry(id.clone())
            .or_insert_with(|| CreatorContentLine {
                title: if id == NONE_KEY {
                    "(no content: profile or link visits)".to_owned()
                } else {
                    id.clone()
                },
                content_id: id,
                kind: String::new(),
                url: None,
                attributed_revenue_minor: 0,
                orders_credited_ppb: 0,
            });
        line.attributed_revenue_minor += revenue;
        line.orders_credited_ppb += share_ppb;
    }
    let mut content: Vec<CreatorContentLine> = content.into_values().collect();
    content.sort_by(|a, b| {
        b.attributed_revenue_minor
            .cmp(&a.attributed_revenue_minor)
            .then_with(|| a.content_id.cmp(&b.content_id))
    });

    // Orders, with the gross converted the way the run converted the net.
    let fx = FxTable::from_rows(&store.fx_rates()?)?;
    let mut days = DayCache::new(zone);
    let mut by_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut view_orders = Vec::new();
    let (mut net, mut refunds, mut settled, mut provisional, mut shares) =
        (0i64, 0i64, 0i64, 0i64, 0i128);
    for order in store.creator_order_credits(run_id, creator_id, &filter)? {
        let day = days.day(order.occurred_at_ms)?;
        let gross = match Currency::parse(&order.currency) {
            Ok(from) => fx.convert(
                order.gross_minor,
                from,
                currency,
                &day.format("%Y-%m-%d").to_string(),
            )?,
            Err(_) => None,
        };
        let refunded = gross.map(|g| (g - order.net_minor).max(0)).unwrap_or(0);
        let credited_refunds = to_i64(
            div_round_half_even(
                i128::from(order.share_ppb) * i128::from(refunded),
                i128::from(SHARE_ONE_PPB),
            ),
            "credited refunds",
        )?;
        net += order.revenue_minor;
        refunds += credited_refunds;
        shares += i128::from(order.share_ppb);
        if order.provisional {
            provisional += order.revenue_minor;
        } else {
            settled += order.revenue_minor;
        }
        view_orders.push(CreatorOrderLine {
            order_id: order.order_id,
            occurred_at_ms: order.occurred_at_ms,
            share_ppb: order.share_ppb,
            credited_revenue_minor: order.revenue_minor,
            gross_minor_reporting: gross,
            net_minor: order.net_minor,
            refunded_minor: refunded,
            credited_refunds_minor: credited_refunds,
            provisional: order.provisional,
        });
    }

    // Per day of the credits' own basis (an order's credits to this creator may lie on
    // several touch days under accrual).
    for (at_ms, revenue_minor) in store.creator_credit_instants(run_id, creator_id, &filter)? {
        *by_day.entry(days.day(at_ms)?).or_default() += revenue_minor;
    }

    let provenance = Provenance::build(store, &run, &filter, from, to)?;
    Ok(CreatorRevenueView {
        creator_id: creator_id.to_owned(),
        display_name,
        content,
        orders: view_orders,
        gross_minor: net + refunds,
        refunds_minor: refunds,
        net_minor: net,
        settled_minor: settled,
        provisional_minor: provisional,
        orders_credited_ppb: to_i64(shares, "orders credited")?,
        by_day: by_day
            .into_iter()
            .map(|(day, revenue_minor)| DayRevenue { day, revenue_minor })
            .collect(),
        provenance,
        currency: currency.code().to_owned(),
    })
}

/// The name a creator is shown by (their id when they have no name), or
/// [`ReportError::UnknownCreator`] when no creator row and no touch names them.
pub(crate) fn creator_display_name(store: &Store, creator_id: &str) -> Result<String, ReportError> {
    let creator = store
        .creators()?
        .into_iter()
        .find(|c| c.creator_id == creator_id);
    if creator.is_none() && !store.creator_has_touches(creator_id)? {
        return Err(ReportError::UnknownCreator {
            creator_id: creator_id.to_owned(),
        });
    }
    Ok(creator
        .map(|c| c.display_name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| creator_id.to_owned()))
}
