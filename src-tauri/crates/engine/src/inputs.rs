//! Loading a run's inputs out of the store into core's records: touches with interned channels,
//! orders with their net revenue in the reporting currency, identity links, and the settings a
//! run depends on.
//!
//! Net revenue of an order (DESIGN.md §5) = gross − counted refunds − counted chargebacks, first
//! in the order's currency (core `net_revenue`, clamped at zero), then converted to the reporting
//! currency at the rate of the order's day in the reporting zone (see [`crate::fx`]). Adjustments
//! booked in a third currency are converted on the same day's rate and subtracted after
//! conversion, clamping at zero again. If any needed rate is missing — or the order's currency is
//! not one core knows — the order is `missing_fx`: its `net_minor` stays in the order's own
//! currency (before foreign-currency adjustments) and the run credits nobody with it.

use std::collections::HashMap;

use lookback_core::identity::KeyType;
use lookback_core::journey::{IdentityLink, JourneyConfig, OrderRecord, TouchRecord};
use lookback_core::money::{Currency, Money};
use lookback_core::settlement::{is_provisional, net_revenue};
use lookback_core::time::{Tz, day_in_zone, parse_time_zone};
use lookback_store::{IdentityKeyType, Store};

use crate::EngineError;
use crate::fx::FxTable;

/// Channel names treated as direct/organic by the last-non-direct model, compared after trimming
/// and lowercasing: `direct`, `organic`, `organic_search`, `organic_social`. Everything else —
/// including channels no one has seen before — is a marketing channel, because wrongly skipping
/// a paid touch is worse than wrongly crediting an organic one.
pub const DIRECT_CHANNELS: [&str; 4] = ["direct", "organic", "organic_search", "organic_social"];

/// Whether a channel name is direct/organic (see [`DIRECT_CHANNELS`]).
pub fn is_direct_channel(channel: &str) -> bool {
    let normalized = channel.trim().to_ascii_lowercase();
    DIRECT_CHANNELS.contains(&normalized.as_str())
}

/// One order's data the run needs beyond core's [`OrderRecord`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub order_id: String,
    /// `Some(currency)` when the order could not be converted (its `net_minor` is then in that
    /// currency and the core record's `net_minor` is 0).
    pub missing_fx: Option<String>,
    /// Net revenue: in the reporting currency, or in `missing_fx`'s currency.
    pub net_minor: i64,
    /// Provisional at the run's `now` (young or disputed).
    pub provisional: bool,
}

/// Everything a run reads, loaded once.
#[derive(Debug)]
pub struct Inputs {
    /// Touches in store rowid order; `channel` indexes `channel_names`.
    pub touches: Vec<TouchRecord>,
    /// The store rowid of each touch, so credits can name it without holding its text id.
    pub touch_rowids: Vec<i64>,
    /// Interned channel names.
    pub channel_names: Vec<String>,
    /// Per interned channel: whether it is direct/organic.
    pub direct_channels: Vec<bool>,
    /// Orders in time order (ties by id), as core resolves them.
    pub orders: Vec<OrderRecord>,
    /// The store facts of each order, at the same index.
    pub order_facts: Vec<OrderFacts>,
    pub links: Vec<IdentityLink>,
    pub journey_config: JourneyConfig,
    pub reporting_currency: Currency,
    pub settlement_days: u32,
}

fn key_type(kind: IdentityKeyType) -> KeyType {
    match kind {
        IdentityKeyType::PersonId => KeyType::PersonId,
        IdentityKeyType::AnonymousId => KeyType::AnonymousId,
        IdentityKeyType::EmailSha256 => KeyType::EmailSha256,
        IdentityKeyType::CustomerId => KeyType::CustomerId,
        IdentityKeyType::DeviceId => KeyType::DeviceId,
    }
}

fn push_keys(keys: &mut Vec<(KeyType, String)>, values: [(KeyType, Option<&str>); 5]) {
    for (kind, value) in values {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            keys.push((kind, value.to_owned()));
        }
    }
}

/// The reporting currency of the workspace.
pub fn reporting_currency(store: &Store) -> Result<Currency, EngineError> {
    let code = store.reporting_currency()?;
    Currency::parse(&code).map_err(|e| EngineError::InvalidSetting { field: "reporting_currency", detail: e.to_string() })
}

/// The reporting time zone of the workspace.
pub fn reporting_zone(store: &Store) -> Result<Tz, EngineError> {
    let name = store.reporting_timezone()?;
    parse_time_zone(&name).map_err(|e| EngineError::InvalidSetting { field: "reporting_timezone", detail: e.to_string() })
}

/// Loads every input of a run with lookback `lookback_days`, judging provisional orders at `now_ms`.
pub fn load_inputs(store: &Store, lookback_days: u32, now_ms: i64) -> Result<Inputs, EngineError> {
    let settings = store.settings()?;
    let currency = reporting_currency(store)?;
    let zone = reporting_zone(store)?;

    let mut inputs = Inputs {
        touches: Vec::new(),
        touch_rowids: Vec::new(),
        channel_names: Vec::new(),
        direct_channels: Vec::new(),
        orders: Vec::new(),
        order_facts: Vec::new(),
        links: Vec::new(),
        journey_config: JourneyConfig::from_days(lookback_days, settings.probabilistic_matching),
        reporting_currency: currency,
        settlement_days: settings.settlement_days,
    };

    let mut channel_ids: HashMap<String, u32> = HashMap::new();
    store.for_each_attribution_touch(|touch| {
        let channel = match channel_ids.get(touch.channel) {
            Some(&id) => id,
            None => {
                let id = inputs.channel_names.len() as u32;
                channel_ids.insert(touch.channel.to_owned(), id);
                inputs.channel_names.push(touch.channel.to_owned());
                inputs.direct_channels.push(is_direct_channel(touch.channel));
                id
            }
        };
        let mut keys = Vec::new();
        push_keys(
            &mut keys,
            [
                (KeyType::PersonId, touch.person_id),
                (KeyType::AnonymousId, touch.anonymous_id),
                (KeyType::EmailSha256, touch.email_sha256),
                (KeyType::CustomerId, touch.customer_id),
                (KeyType::DeviceId, touch.device_id),
            ],
        );
        inputs.touches.push(TouchRecord {
            at_ms: touch.occurred_at_ms,
            channel,
            click_id: touch.click_id.filter(|c| !c.is_empty()).map(str::to_owned),
            keys,
        });
        inputs.touch_rowids.push(touch.rowid);
    })?;

    inputs.links = store
        .identity_links()?
        .into_iter()
        .map(|link| IdentityLink {
            a: (key_type(link.a.key_type), link.a.value),
            b: (key_type(link.b.key_type), link.b.value),
        })
        .collect();

    let fx = FxTable::from_rows(&store.fx_rates()?)?;
    let mut failure: Option<EngineError> = None;
    store.for_each_order_with_adjustments(|item| {
        if failure.is_some() {
            return;
        }
        match order_inputs(&item, currency, zone, &fx, settings.settlement_days, now_ms) {
            Ok((record, facts)) => {
                inputs.orders.push(record);
                inputs.order_facts.push(facts);
            }
            Err(e) => failure = Some(e),
        }
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(inputs)
}

/// Builds one order's core record and facts: net revenue in the reporting currency (or
/// `missing_fx`), and whether it is provisional at `now_ms`.
fn order_inputs(
    item: &lookback_store::OrderWithAdjustments,
    reporting: Currency,
    zone: Tz,
    fx: &FxTable,
    settlement_days: u32,
    now_ms: i64,
) -> Result<(OrderRecord, OrderFacts), EngineError> {
    let order = &item.order;
    let day = day_in_zone(order.occurred_at_ms, zone)?.format("%Y-%m-%d").to_string();
    let provisional = is_provisional(order.occurred_at_ms, now_ms, settlement_days, item.disputed);

    let mut keys = Vec::new();
    let id = &order.identity;
    push_keys(
        &mut keys,
        [
            (KeyType::PersonId, id.person_id.as_deref()),
            (KeyType::AnonymousId, id.anonymous_id.as_deref()),
            (KeyType::EmailSha256, id.email_sha256.as_deref()),
            (KeyType::CustomerId, id.customer_id.as_deref()),
            (KeyType::DeviceId, id.device_id.as_deref()),
        ],
    );
    let mut record = OrderRecord {
        at_ms: order.occurred_at_ms,
        click_id: order.click_id.clone().filter(|c| !c.is_empty()),
        keys,
        net_minor: 0,
    };
    let mut facts = OrderFacts { order_id: order.order_id.clone(), missing_fx: None, net_minor: 0, provisional };

    let own_net = |currency: Currency| -> Result<i64, EngineError> {
        Ok(net_revenue(
            Money::new(order.gross_minor, currency),
            Money::new(item.refunds_minor, currency),
            Money::new(item.chargebacks_minor, currency),
        )?
        .minor)
    };
    let Ok(order_currency) = Currency::parse(&order.currency) else {
        // A currency core does not know has no known decimal places: it cannot be converted.
        facts.missing_fx = Some(order.currency.clone());
        facts.net_minor = (order.gross_minor - item.refunds_minor - item.chargebacks_minor).max(0);
        return Ok((record, facts));
    };
    let net_own = own_net(order_currency)?;
    let Some(mut net) = fx.convert(net_own, order_currency, reporting, &day)? else {
        facts.missing_fx = Some(order.currency.clone());
        facts.net_minor = net_own;
        return Ok((record, facts));
    };
    // Refunds and chargebacks in a third currency reduce revenue the same way; the kind only
    // matters to reconciliation, which reads the adjustments themselves.
    for (_kind, amount) in &item.foreign_currency_adjustments {
        let converted = Currency::parse(&amount.currency)
            .ok()
            .map(|c| fx.convert(amount.amount_minor, c, reporting, &day))
            .transpose()?
            .flatten();
        match converted {
            Some(value) => net = (net - value).max(0),
            None => {
                facts.missing_fx = Some(order.currency.clone());
                facts.net_minor = net_own;
                return Ok((record, facts));
            }
        }
    }
    record.net_minor = net;
    facts.net_minor = net;
    Ok((record, facts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_channels_are_the_documented_four() {
        for name in ["direct", "Organic", " organic_search ", "ORGANIC_SOCIAL"] {
            assert!(is_direct_channel(name), "{name}");
        }
        for name in ["paid_social", "email", "organic-search", "", "directly"] {
            assert!(!is_direct_channel(name), "{name}");
        }
    }
}
