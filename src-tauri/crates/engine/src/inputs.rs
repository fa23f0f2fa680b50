//! Loading a run's inputs out of the store into core's interned journey input: touches with
//! interned channels, identity keys and click ids (no string kept per touch), orders with their
//! net revenue in the reporting currency, identity links, and the settings a run depends on.
//!
//! Net revenue of an order (DESIGN.md §5) = gross − counted refunds − counted chargebacks, first
//! in the order's currency (core `net_revenue`, clamped at zero), then converted to the reporting
//! currency at the rate of the order's day in the reporting zone (see [`crate::fx`]). Adjustments
//! booked in a third currency are converted on the same day's rate and subtracted after
//! conversion, clamping at zero again. If any needed rate is missing — or the order's currency is
//! not one core knows — the order is `missing_fx`: its `net_minor` stays in the order's own
//! currency (before foreign-currency adjustments) and the run credits nobody with it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use lookback_core::identity::KeyType;
use lookback_core::journey::{InternedOrders, InternedTouches, JourneyConfig};
use lookback_core::money::{Currency, Money};
use lookback_core::settlement::{is_provisional, net_revenue};
use lookback_core::time::{NaiveDate, Tz, day_in_zone, day_range_ms, parse_time_zone};
use lookback_store::{IdentityKeyType, OrderDetail, Store};

use crate::EngineError;
use crate::fx::FxTable;
use crate::interner::Interner;

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

/// One order's data the run needs beyond its journey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub order_id: String,
    /// `Some(currency)` when the order could not be converted (its `net_minor` is then in that
    /// currency).
    pub missing_fx: Option<String>,
    /// Net revenue: in the reporting currency, or in `missing_fx`'s currency.
    pub net_minor: i64,
    /// Provisional at the run's `now` (young or disputed).
    pub provisional: bool,
    /// When it was placed, and its own currency, as the run saw them.
    pub occurred_at_ms: i64,
    pub currency: String,
    /// Its day in the reporting zone, as the instant range `[start, end)` (report buckets).
    pub day_start_ms: i64,
    pub day_end_ms: i64,
}

/// Everything a run reads when it has to resolve journeys, loaded once. Identity keys and click
/// ids are interned to dense ids while streaming the rows, so no string is kept per touch.
#[derive(Debug)]
pub struct Inputs {
    /// Touches in store rowid order; `channel` indexes `channel_names`.
    pub touches: InternedTouches,
    /// The store rowid of each touch, so credits can name it without holding its text id.
    pub touch_rowids: Vec<i64>,
    /// Interned channel names, in order of first appearance in rowid order.
    pub channel_names: Vec<String>,
    /// Per interned channel: whether it is direct/organic.
    pub direct_channels: Vec<bool>,
    /// Orders in time order (ties by id), as core resolves them.
    pub orders: InternedOrders,
    /// The store facts of each order, at the same index.
    pub order_facts: Vec<OrderFacts>,
    /// Identity links as pairs of interned keys.
    pub links: Vec<(u32, u32)>,
    /// How many distinct identity keys and click ids were interned.
    pub key_count: u32,
    pub click_count: u32,
    pub journey_config: JourneyConfig,
    pub reporting_currency: Currency,
    pub settlement_days: u32,
}

/// FxHash (the rustc hasher): keys here are ids from the workspace's own data, not from an
/// adversary, and hashing millions of short ids is a large part of a cold load.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ (rest.len() as u64) << 56);
    }
    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }
    fn write_u32(&mut self, value: u32) {
        self.add(u64::from(value));
    }
    fn write_u64(&mut self, value: u64) {
        self.add(value);
    }
    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits (the table's bucket index) dependent only on the low
        // input bytes; fold the high half down (murmur3's finalizer) so ids differing only in
        // later characters do not collide.
        let mut hash = self.0;
        hash ^= hash >> 33;
        hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
        hash ^ (hash >> 33)
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Dense ids for `(key type, value)` identity keys, in order of first appearance over all
/// types: each key is interned as its type's slot digit followed by its value.
#[derive(Default)]
struct KeyInterner {
    keys: Interner,
    typed: String,
}

impl KeyInterner {
    fn id(&mut self, kind: KeyType, value: &str) -> u32 {
        self.typed.clear();
        self.typed.push(char::from(b'0' + key_slot(kind) as u8));
        self.typed.push_str(value);
        self.keys.id(&self.typed)
    }
}

fn key_slot(kind: KeyType) -> usize {
    match kind {
        KeyType::PersonId => 0,
        KeyType::AnonymousId => 1,
        KeyType::EmailSha256 => 2,
        KeyType::CustomerId => 3,
        KeyType::DeviceId => 4,
    }
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

/// Interns the non-empty keys of one record into `out` (cleared first).
fn intern_keys(
    interner: &mut KeyInterner,
    out: &mut Vec<u32>,
    values: [(KeyType, Option<&str>); 5],
) {
    out.clear();
    for (kind, value) in values {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            out.push(interner.id(kind, value));
        }
    }
}

/// The reporting currency of the workspace.
pub fn reporting_currency(store: &Store) -> Result<Currency, EngineError> {
    let code = store.reporting_currency()?;
    Currency::parse(&code).map_err(|e| EngineError::InvalidSetting {
        field: "reporting_currency",
        detail: e.to_string(),
    })
}

/// The reporting time zone of the workspace.
pub fn reporting_zone(store: &Store) -> Result<Tz, EngineError> {
    let name = store.reporting_timezone()?;
    parse_time_zone(&name).map_err(|e| EngineError::InvalidSetting {
        field: "reporting_timezone",
        detail: e.to_string(),
    })
}

/// Loads every input of a run with lookback `lookback_days`, judging provisional orders at `now_ms`.
pub fn load_inputs(store: &Store, lookback_days: u32, now_ms: i64) -> Result<Inputs, EngineError> {
    let settings = store.settings()?;
    let currency = reporting_currency(store)?;

    let mut inputs = Inputs {
        touches: InternedTouches::new(),
        touch_rowids: Vec::new(),
        channel_names: Vec::new(),
        direct_channels: Vec::new(),
        orders: InternedOrders::new(),
        order_facts: Vec::new(),
        links: Vec::new(),
        key_count: 0,
        click_count: 0,
        journey_config: JourneyConfig::from_days(lookback_days, settings.probabilistic_matching),
        reporting_currency: currency,
        settlement_days: settings.settlement_days,
    };

    let mut keys = KeyInterner::default();
    let mut clicks = Interner::new();
    let mut channel_ids: FxMap<String, u32> = FxMap::default();
    let mut buffer = Vec::with_capacity(5);
    store.for_each_attribution_touch(|touch| {
        let channel = match channel_ids.get(touch.channel) {
            Some(&id) => id,
            None => {
                let id = inputs.channel_names.len() as u32;
                channel_ids.insert(touch.channel.to_owned(), id);
                inputs.channel_names.push(touch.channel.to_owned());
                inputs
                    .direct_channels
                    .push(is_direct_channel(touch.channel));
                id
            }
        };
        intern_keys(
            &mut keys,
            &mut buffer,
            [
                (KeyType::PersonId, touch.person_id),
                (KeyType::AnonymousId, touch.anonymous_id),
                (KeyType::EmailSha256, touch.email_sha256),
                (KeyType::CustomerId, touch.customer_id),
                (KeyType::DeviceId, touch.device_id),
            ],
        );
        let click = touch
            .click_id
            .filter(|c| !c.is_empty())
            .map(|click| clicks.id(click));
        inputs
            .touches
            .push(touch.occurred_at_ms, channel, click, &buffer);
        inputs.touch_rowids.push(touch.rowid);
    })?;

    for link in store.identity_links()? {
        if !link.a.value.is_empty() && !link.b.value.is_empty() {
            let a = keys.id(key_type(link.a.key_type), &link.a.value);
            let b = keys.id(key_type(link.b.key_type), &link.b.value);
            inputs.links.push((a, b));
        }
    }

    inputs.order_facts = read_order_facts(store, now_ms, OrderDetail::Full, |order| {
        let id = &order.identity;
        intern_keys(
            &mut keys,
            &mut buffer,
            [
                (KeyType::PersonId, id.person_id.as_deref()),
                (KeyType::AnonymousId, id.anonymous_id.as_deref()),
                (KeyType::EmailSha256, id.email_sha256.as_deref()),
                (KeyType::CustomerId, id.customer_id.as_deref()),
                (KeyType::DeviceId, id.device_id.as_deref()),
            ],
        );
        // A click id no touch carries can join nothing: it needs no id.
        let click = order
            .click_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .and_then(|c| clicks.get(c));
        inputs.orders.push(order.occurred_at_ms, click, &buffer);
    })?;
    inputs.key_count = keys.keys.len() as u32;
    inputs.click_count = clicks.len() as u32;
    Ok(inputs)
}

/// Loads the facts of every order in time order (ties by id): net revenue in the reporting
/// currency or `missing_fx`, provisional at `now_ms`, its day in the reporting zone. Reads only
/// the columns revenue needs (a run from cached journeys needs nothing else of an order).
pub fn load_order_facts(store: &Store, now_ms: i64) -> Result<Vec<OrderFacts>, EngineError> {
    read_order_facts(store, now_ms, OrderDetail::Revenue, |_| {})
}

/// [`load_order_facts`] reading the order columns `detail` asks for, calling `each` with the
/// stored order first (the resolving loader interns its keys there).
fn read_order_facts(
    store: &Store,
    now_ms: i64,
    detail: OrderDetail,
    mut each: impl FnMut(&lookback_store::Order),
) -> Result<Vec<OrderFacts>, EngineError> {
    let settings = store.settings()?;
    let currency = reporting_currency(store)?;
    let zone = reporting_zone(store)?;
    let fx = FxTable::from_rows(&store.fx_rates()?)?;
    let mut days: FxMap<NaiveDate, (i64, i64)> = FxMap::default();
    let mut facts = Vec::new();
    let mut failure: Option<EngineError> = None;
    store.for_each_order_with_adjustments(detail, |item| {
        if failure.is_some() {
            return;
        }
        each(&item.order);
        match order_facts(
            &item,
            currency,
            zone,
            &fx,
            settings.settlement_days,
            now_ms,
            &mut days,
        ) {
            Ok(order) => facts.push(order),
            Err(e) => failure = Some(e),
        }
    })?;
    match failure {
        Some(e) => Err(e),
        None => Ok(facts),
    }
}

/// Builds one order's facts: net revenue in the reporting currency (or `missing_fx`), whether it
/// is provisional at `now_ms`, and its day. `days` remembers each local day's instant range, so
/// the zone arithmetic runs once per day rather than once per order.
fn order_facts(
    item: &lookback_store::OrderWithAdjustments,
    reporting: Currency,
    zone: Tz,
    fx: &FxTable,
    settlement_days: u32,
    now_ms: i64,
    days: &mut FxMap<NaiveDate, (i64, i64)>,
) -> Result<OrderFacts, EngineError> {
    let order = &item.order;
    let local_day = day_in_zone(order.occurred_at_ms, zone)?;
    let (day_start_ms, day_end_ms) = match days.get(&local_day) {
        Some(&range) => range,
        None => {
            let range = day_range_ms(local_day, zone)?;
            days.insert(local_day, range);
            range
        }
    };
    let day = local_day.format("%Y-%m-%d").to_string();
    let provisional = is_provisional(order.occurred_at_ms, now_ms, settlement_days, item.disputed);
    let mut facts = OrderFacts {
        order_id: order.order_id.clone(),
        missing_fx: None,
        net_minor: 0,
        provisional,
        occurred_at_ms: order.occurred_at_ms,
        currency: order.currency.clone(),
        day_start_ms,
        day_end_ms,
    };

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
        return Ok(facts);
    };
    let net_own = own_net(order_currency)?;
    let Some(mut net) = fx.convert(net_own, order_currency, reporting, &day)? else {
        facts.missing_fx = Some(order.currency.clone());
        facts.net_minor = net_own;
        return Ok(facts);
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
                return Ok(facts);
            }
        }
    }
    facts.net_minor = net;
    Ok(facts)
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
