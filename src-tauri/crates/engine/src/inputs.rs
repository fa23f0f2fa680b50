//! Loading a run's inputs out of the store into core's interned journey input: touches with
//! interned channels, identity keys and click ids (no string kept per touch), orders with their
//! net revenue in the reporting currency, identity links, and the settings a run depends on.
//! The touch scan, the interning of its identity keys and the grouping of click ids by the
//! store's click index run on three threads (`load_touches`).
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
use lookback_core::time::{Tz, day_in_zone, day_range_ms, parse_time_zone};
use lookback_core::touch_filter::TouchFilter;
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
/// types: each key is interned in its [`typed_key`] spelling.
#[derive(Default)]
struct KeyInterner {
    keys: Interner,
    typed: String,
}

impl KeyInterner {
    fn id(&mut self, kind: KeyType, value: &str) -> u32 {
        self.typed.clear();
        typed_key(&mut self.typed, kind, value);
        self.keys.id(&self.typed)
    }
}

/// Appends the interned spelling of a `(key type, value)` key to `out`: the type's slot digit,
/// then the value, so equal values of two types stay two keys.
fn typed_key(out: &mut String, kind: KeyType, value: &str) {
    out.push(char::from(b'0' + key_slot(kind) as u8));
    out.push_str(value);
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

/// Loads every input of a run with lookback `lookback_days`, judging provisional orders at
/// `now_ms`: every order, and the touches `filter` admits (an excluded touch is in no journey,
/// and an order's click id joins only an admitted touch).
pub fn load_inputs(
    store: &Store,
    lookback_days: u32,
    filter: TouchFilter,
    now_ms: i64,
) -> Result<Inputs, EngineError> {
    let settings = store.settings()?;
    let currency = reporting_currency(store)?;

    let LoadedTouches {
        touches,
        rowids,
        channel_names,
        mut keys,
        click_count,
        order_clicks,
    } = load_touches(store, filter)?;
    let mut inputs = Inputs {
        touches,
        touch_rowids: rowids,
        direct_channels: channel_names
            .iter()
            .map(|name| is_direct_channel(name))
            .collect(),
        channel_names,
        orders: InternedOrders::new(),
        order_facts: Vec::new(),
        links: Vec::new(),
        key_count: 0,
        click_count: 0,
        journey_config: JourneyConfig::from_days(lookback_days, settings.probabilistic_matching),
        reporting_currency: currency,
        settlement_days: settings.settlement_days,
    };

    let mut buffer = Vec::with_capacity(5);
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
        // A click id no admitted touch carries can join nothing: it needs no id.
        let click = order
            .click_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .and_then(|click| order_clicks.group(click));
        inputs.orders.push(order.occurred_at_ms, click, &buffer);
        Ok(())
    })?;
    inputs.key_count = keys.keys.len() as u32;
    inputs.click_count = click_count;
    Ok(inputs)
}

/// Every admitted touch, interned: what [`load_touches`] hands back.
struct LoadedTouches {
    touches: InternedTouches,
    /// The store rowid of each touch.
    rowids: Vec<i64>,
    channel_names: Vec<String>,
    /// The identity keys interned so far (orders and links add theirs after).
    keys: KeyInterner,
    /// How many click ids the touches' click ids were numbered into.
    click_count: u32,
    /// The orders' click ids that admitted touches carry, with their numbers.
    order_clicks: OrderClicks,
}

/// Touches per batch handed from the scan to the key-interning thread.
const TOUCH_BATCH: usize = 8192;

/// A batch of scanned touches whose identity keys are not interned yet.
#[derive(Default)]
struct TouchBatch {
    at_ms: Vec<i64>,
    channel: Vec<u32>,
    /// The touches' non-empty keys in [`typed_key`] spelling, end to end.
    keys: String,
    /// Where each key ends in `keys`.
    key_ends: Vec<usize>,
    /// How many keys each touch has.
    key_counts: Vec<u8>,
}

impl TouchBatch {
    fn len(&self) -> usize {
        self.at_ms.len()
    }
}

/// Reads every touch `filter` admits in rowid order: this thread steps SQLite through the
/// table, interning channels and copying each touch's identity keys into batches; a scoped
/// worker interns the keys (a random probe into a table of millions per key) and builds the
/// interned touches; a third walks the click index on a read-only connection of its own
/// ([`ClickGroups`]), which fits in the time the key worker waits for batches (its touches
/// the filter leaves out are skipped). Key ids come out exactly as a single pass in rowid order
/// gives them.
fn load_touches(store: &Store, filter: TouchFilter) -> Result<LoadedTouches, EngineError> {
    // The maintained count sizes the per-touch vectors; it is only a hint.
    let expected = usize::try_from(store.totals()?.touches).unwrap_or(0);
    std::thread::scope(|scope| {
        let (sender, batches) = std::sync::mpsc::sync_channel::<TouchBatch>(4);
        let worker = scope.spawn(move || {
            let mut keys = KeyInterner::default();
            let mut touches = InternedTouches::with_capacity(expected, expected);
            let mut ids = Vec::with_capacity(5);
            for batch in batches {
                let mut key = 0;
                let mut start = 0;
                for index in 0..batch.len() {
                    ids.clear();
                    for _ in 0..batch.key_counts[index] {
                        let end = batch.key_ends[key];
                        ids.push(keys.keys.id(&batch.keys[start..end]));
                        start = end;
                        key += 1;
                    }
                    touches.push(batch.at_ms[index], batch.channel[index], None, &ids);
                }
            }
            (touches, keys)
        });

        let path = store.path().to_owned();
        let click_walker = scope.spawn(move || {
            // Any failure here (the file cannot be opened a second time, say) only means the
            // walk is done again below, on the main connection.
            Store::open_read_only(&path)
                .ok()
                .and_then(|reader| ClickGroups::read(&reader).ok())
        });

        let mut rowids = Vec::with_capacity(expected);
        let mut channel_names: Vec<String> = Vec::new();
        let mut channel_ids: FxMap<String, u32> = FxMap::default();
        let mut batch = TouchBatch::default();
        // Whether the worker stopped taking batches (it panicked; joining it says so).
        let mut worker_gone = false;
        let scanned = store.for_each_attribution_touch(filter, |touch| {
            if worker_gone {
                return;
            }
            let channel = match channel_ids.get(touch.channel) {
                Some(&id) => id,
                None => {
                    let id = channel_names.len() as u32;
                    channel_ids.insert(touch.channel.to_owned(), id);
                    channel_names.push(touch.channel.to_owned());
                    id
                }
            };
            let mut key_count = 0u8;
            for (kind, value) in [
                (KeyType::PersonId, touch.person_id),
                (KeyType::AnonymousId, touch.anonymous_id),
                (KeyType::EmailSha256, touch.email_sha256),
                (KeyType::CustomerId, touch.customer_id),
                (KeyType::DeviceId, touch.device_id),
            ] {
                if let Some(value) = value.filter(|v| !v.is_empty()) {
                    typed_key(&mut batch.keys, kind, value);
                    batch.key_ends.push(batch.keys.len());
                    key_count += 1;
                }
            }
            batch.key_counts.push(key_count);
            batch.at_ms.push(touch.occurred_at_ms);
            batch.channel.push(channel);
            rowids.push(touch.rowid);
            if batch.len() == TOUCH_BATCH && sender.send(std::mem::take(&mut batch)).is_err() {
                worker_gone = true;
            }
        });
        if batch.len() > 0 {
            // A worker that is gone is reported by joining it below.
            let _ = sender.send(batch);
        }
        drop(sender);
        let (mut touches, keys) = match worker.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let clicks = match click_walker.join() {
            Ok(clicks) => clicks,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        scanned?;
        let clicks = match clicks {
            Some(clicks) => clicks,
            None => ClickGroups::read(store)?,
        };
        let click_count = clicks.count;
        let order_clicks = clicks.assign(&rowids, &mut touches.click);
        Ok(LoadedTouches {
            touches,
            rowids,
            channel_names,
            keys,
            click_count,
            order_clicks,
        })
    })
}

/// Which touches share a click id, read from the `touches_by_click` index (where equal click ids
/// are adjacent) instead of hashing millions of them: each touch's rowid with its click id's
/// number, numbered in click-id order. The numbering does not matter to resolution, which only
/// asks which touches share one. An empty click id is none.
///
/// The orders' click ids are numbered in the same walk: sorted, they are merged with it, so an
/// order's click id is found without a look-up in the index per order (which would be a seek
/// per touch generation, migration 0029).
struct ClickGroups {
    rowids: Vec<i64>,
    groups: Vec<u32>,
    count: u32,
    /// Each click id of an order that some touch carries, with its number, in click-id order.
    order_clicks: Vec<(String, u32)>,
}

impl ClickGroups {
    fn read(store: &Store) -> Result<ClickGroups, EngineError> {
        let mut clicks = ClickGroups {
            rowids: Vec::new(),
            groups: Vec::new(),
            count: 0,
            order_clicks: Vec::new(),
        };
        let mut order_clicks = store.order_click_ids()?.into_iter().peekable();
        let mut last = String::new();
        store.for_each_touch_click(|click_id, rowid| {
            if click_id.is_empty() {
                return;
            }
            if clicks.count == 0 || click_id != last {
                clicks.count += 1;
                last.clear();
                last.push_str(click_id);
                // Orders' click ids before this one are carried by no touch.
                while order_clicks
                    .next_if(|order_click| order_click.as_str() < click_id)
                    .is_some()
                {}
                if let Some(order_click) = order_clicks.next_if(|c| c.as_str() == click_id) {
                    clicks.order_clicks.push((order_click, clicks.count - 1));
                }
            }
            clicks.rowids.push(rowid);
            clicks.groups.push(clicks.count - 1);
        })?;
        Ok(clicks)
    }

    /// Sets each scanned touch's click id (`click` is per touch, in the order of `rowids`); a
    /// touch the scan did not see (written since, or not admitted) is skipped. Hands back the
    /// orders' click ids that a scanned touch carries.
    fn assign(self, rowids: &[i64], click: &mut [u32]) -> OrderClicks {
        let mut admitted = vec![false; self.count as usize];
        for (&rowid, &group) in self.rowids.iter().zip(&self.groups) {
            if let Some(touch) = touch_index(rowids, rowid) {
                click[touch] = group;
                admitted[group as usize] = true;
            }
        }
        OrderClicks {
            by_click: self
                .order_clicks
                .into_iter()
                .filter(|&(_, group)| admitted[group as usize])
                .collect(),
        }
    }
}

/// The click ids of orders that an admitted touch carries, each with the number its touches'
/// click id has (see [`ClickGroups`]), in click-id order.
struct OrderClicks {
    by_click: Vec<(String, u32)>,
}

impl OrderClicks {
    /// The number of click id `click`, if an admitted touch carries it.
    fn group(&self, click: &str) -> Option<u32> {
        self.by_click
            .binary_search_by(|(known, _)| known.as_str().cmp(click))
            .ok()
            .map(|at| self.by_click[at].1)
    }
}

/// The index of the touch with `rowid` in `rowids` (ascending), if it is there. Rowids without
/// gaps (nothing ever deleted) are found by subtraction.
fn touch_index(rowids: &[i64], rowid: i64) -> Option<usize> {
    let (&first, &last) = (rowids.first()?, rowids.last()?);
    if last - first == rowids.len() as i64 - 1 {
        return (first..=last)
            .contains(&rowid)
            .then(|| (rowid - first) as usize);
    }
    rowids.binary_search(&rowid).ok()
}

/// Loads the facts of every order in time order (ties by id): net revenue in the reporting
/// currency or `missing_fx`, provisional at `now_ms`, its day in the reporting zone. Reads only
/// the columns revenue needs (a run from cached journeys needs nothing else of an order).
pub fn load_order_facts(store: &Store, now_ms: i64) -> Result<Vec<OrderFacts>, EngineError> {
    read_order_facts(store, now_ms, OrderDetail::Revenue, |_| Ok(()))
}

/// [`load_order_facts`] reading the order columns `detail` asks for, calling `each` with the
/// stored order first (the resolving loader interns its keys there); its error stops the read.
fn read_order_facts(
    store: &Store,
    now_ms: i64,
    detail: OrderDetail,
    mut each: impl FnMut(&lookback_store::Order) -> Result<(), EngineError>,
) -> Result<Vec<OrderFacts>, EngineError> {
    let settings = store.settings()?;
    let currency = reporting_currency(store)?;
    let zone = reporting_zone(store)?;
    let fx = FxTable::from_rows(&store.fx_rates()?)?;
    let mut days = OrderDays::new(zone);
    let mut facts = Vec::new();
    let mut failure: Option<EngineError> = None;
    store.for_each_order_with_adjustments(detail, |item| {
        if failure.is_some() {
            return;
        }
        if let Err(e) = each(&item.order) {
            failure = Some(e);
            return;
        }
        match order_facts(
            item,
            currency,
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

/// The local day of the order last looked at, in the reporting zone: its instant range
/// `[start, end)` and its `YYYY-MM-DD` name (the key of its exchange rates). Orders come in time
/// order, so nearly every one falls in the previous one's range and needs no zone arithmetic.
struct OrderDays {
    zone: Tz,
    /// Empty (no instant is in it) until the first order.
    last: (i64, i64, String),
}

impl OrderDays {
    fn new(zone: Tz) -> OrderDays {
        OrderDays {
            zone,
            last: (0, 0, String::new()),
        }
    }

    fn day_of(&mut self, at_ms: i64) -> Result<&(i64, i64, String), EngineError> {
        let (start, end, _) = self.last;
        if !(start <= at_ms && at_ms < end) {
            let local_day = day_in_zone(at_ms, self.zone)?;
            let (start, end) = day_range_ms(local_day, self.zone)?;
            self.last = (start, end, local_day.format("%Y-%m-%d").to_string());
        }
        Ok(&self.last)
    }
}

/// Builds one order's facts: net revenue in the reporting currency (or `missing_fx`), whether it
/// is provisional at `now_ms`, and its day.
fn order_facts(
    item: &lookback_store::OrderWithAdjustments,
    reporting: Currency,
    fx: &FxTable,
    settlement_days: u32,
    now_ms: i64,
    days: &mut OrderDays,
) -> Result<OrderFacts, EngineError> {
    let order = &item.order;
    let (day_start_ms, day_end_ms, day) = days.day_of(order.occurred_at_ms)?;
    let provisional = is_provisional(order.occurred_at_ms, now_ms, settlement_days, item.disputed);
    let mut facts = OrderFacts {
        order_id: order.order_id.clone(),
        missing_fx: None,
        net_minor: 0,
        provisional,
        occurred_at_ms: order.occurred_at_ms,
        currency: order.currency.clone(),
        day_start_ms: *day_start_ms,
        day_end_ms: *day_end_ms,
    };
    let day = day.as_str();

    let foreign = item
        .foreign_currency_adjustments
        .iter()
        .map(|(_kind, amount)| (amount.currency.as_str(), amount.amount_minor));
    match net_in_reporting(
        order.gross_minor,
        &facts.currency,
        item.refunds_minor,
        item.chargebacks_minor,
        foreign,
        reporting,
        fx,
        day,
    )? {
        ReportingNet::Converted(net) => facts.net_minor = net,
        ReportingNet::MissingFx(net_own) => {
            facts.missing_fx = Some(facts.currency.clone());
            facts.net_minor = net_own;
        }
    }
    Ok(facts)
}

/// An order's net revenue in the reporting currency, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportingNet {
    /// Converted at the rate of the order's day.
    Converted(i64),
    /// A rate was missing, or the order's currency is not one core knows: the net in the
    /// order's own currency, before adjustments booked in other currencies.
    MissingFx(i64),
}

/// The net revenue rule of the module docs for one order: `gross − own_refunds −
/// own_chargebacks` in the order's currency (clamped at zero), converted to `reporting` at the
/// rate of `day` (the order's day in the reporting zone, `YYYY-MM-DD`), then each adjustment
/// booked in a third currency (`(currency, amount)`) converted on the same day and subtracted,
/// clamping at zero again. Runs use it with every counted adjustment; the cohorts view with
/// those that had happened by a horizon.
#[allow(clippy::too_many_arguments)]
pub fn net_in_reporting<'a>(
    gross_minor: i64,
    order_currency: &str,
    own_refunds_minor: i64,
    own_chargebacks_minor: i64,
    foreign_adjustments: impl IntoIterator<Item = (&'a str, i64)>,
    reporting: Currency,
    fx: &FxTable,
    day: &str,
) -> Result<ReportingNet, EngineError> {
    let Ok(order_currency) = Currency::parse(order_currency) else {
        // A currency core does not know has no known decimal places: it cannot be converted.
        return Ok(ReportingNet::MissingFx(
            (gross_minor - own_refunds_minor - own_chargebacks_minor).max(0),
        ));
    };
    let net_own = net_revenue(
        Money::new(gross_minor, order_currency),
        Money::new(own_refunds_minor, order_currency),
        Money::new(own_chargebacks_minor, order_currency),
    )?
    .minor;
    let Some(mut net) = fx.convert(net_own, order_currency, reporting, day)? else {
        return Ok(ReportingNet::MissingFx(net_own));
    };
    // Refunds and chargebacks in a third currency reduce revenue the same way; the kind only
    // matters to reconciliation, which reads the adjustments themselves.
    for (currency, amount_minor) in foreign_adjustments {
        let converted = Currency::parse(currency)
            .ok()
            .map(|c| fx.convert(amount_minor, c, reporting, day))
            .transpose()?
            .flatten();
        match converted {
            Some(value) => net = (net - value).max(0),
            None => return Ok(ReportingNet::MissingFx(net_own)),
        }
    }
    Ok(ReportingNet::Converted(net))
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
