//! Journeys: resolving which person each touch and order belongs to, and which touches precede
//! each order — plus the touches no order claims, as non-converting paths for the data-driven
//! models.
//!
//! Inputs are plain records addressed by index (touch `i` is `touches[i]`), channels are interned
//! `u32` indices, and the output refers back to those indices, so the store can map results to
//! its own ids without this crate knowing them.
//!
//! The rules, in the order they apply (see also README, "Attribution conventions"):
//!
//! 1. **Identity.** Keys seen on one touch, on one order, or in one identity link belong to one
//!    person (union–find). Touches with the same click id are the same person. An order whose
//!    click id matches a touch's click id is joined to that touch's person **deterministically**,
//!    and its own keys join that person too. Otherwise an order reaches a person through its keys
//!    (**identity graph**). A person is *resolved* for an order when the order's component holds
//!    at least one touch.
//! 2. **Probabilistic** (only when enabled): an order with no resolved person is matched by time
//!    proximity to the person of the latest unclaimed touch in the `probabilistic_window_ms`
//!    before it. With `k` distinct people having such a touch, the confidence is `1/(k+1)` (in
//!    ppm): one share for each visible candidate plus one for a buyer we never saw.
//! 3. **Window.** A journey holds the person's touches with
//!    `order_at − lookback ≤ at ≤ order_at`: a touch at the order's very instant counts as before
//!    it (timestamps are often truncated to the second), one after does not.
//! 4. **Reset.** A touch is credited only toward the first order after it: each order's journey
//!    starts strictly after the previous order of the same person. Orders of one person are taken
//!    in `(at, order index)` order, so of two orders at the same instant the lower index gets the
//!    touches.
//! 5. **Order within a journey** is by `(at, touch index)`.
//! 6. **Strength wins.** Deterministic and identity-graph orders claim touches first;
//!    probabilistic orders (processed by `(at, order index)`) only take touches still unclaimed.
//! 7. **Non-converting paths** are each person's unclaimed touches, split at every order of that
//!    person, so no path spans a conversion.

use std::collections::hash_map::Entry;

use crate::error::{CoreError, Result};
use crate::identity::{DisjointSet, IdentityGraph, KeyId, KeyType};
use crate::time::DAY_MS;
use std::collections::HashMap;

/// Confidence of a deterministic or identity-graph join: 1.0 in parts per million.
pub const FULL_CONFIDENCE_PPM: u32 = 1_000_000;

/// Default time window for probabilistic matching: 30 minutes.
pub const DEFAULT_PROBABILISTIC_WINDOW_MS: i64 = 30 * 60 * 1000;

/// One touch (click, link visit, story swipe, ad click, direct visit) as journey input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TouchRecord {
    /// When it happened, UTC milliseconds.
    pub at_ms: i64,
    /// The interned channel index (the caller owns the channel name table).
    pub channel: u32,
    /// The click id the platform assigned, if any; an order carrying the same id joins
    /// deterministically.
    pub click_id: Option<String>,
    /// Identity keys on the touch. Empty values are ignored.
    pub keys: Vec<(KeyType, String)>,
}

/// One order as journey input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRecord {
    /// When it was placed, UTC milliseconds.
    pub at_ms: i64,
    /// The click id the order carries (from the landing URL or the affiliate), if any.
    pub click_id: Option<String>,
    /// Identity keys on the order. Empty values are ignored.
    pub keys: Vec<(KeyType, String)>,
    /// Net revenue in minor units of the reporting currency (see `settlement::net_revenue`).
    pub net_minor: i64,
}

/// Two keys known to belong to the same person (a row of `identity_links`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityLink {
    /// One key.
    pub a: (KeyType, String),
    /// The other key.
    pub b: (KeyType, String),
}

/// Settings of journey resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JourneyConfig {
    /// How far before an order a touch may be and still count (inclusive), in milliseconds.
    pub lookback_ms: i64,
    /// Whether orders with no resolved person may be matched by time proximity.
    pub probabilistic: bool,
    /// How far before an order a touch may be to make its person a probabilistic candidate.
    pub probabilistic_window_ms: i64,
}

impl JourneyConfig {
    /// A lookback of `lookback_days` days, with probabilistic matching on or off and its default
    /// 30-minute window.
    pub fn from_days(lookback_days: u32, probabilistic: bool) -> JourneyConfig {
        JourneyConfig {
            lookback_ms: i64::from(lookback_days) * DAY_MS,
            probabilistic,
            probabilistic_window_ms: DEFAULT_PROBABILISTIC_WINDOW_MS,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.lookback_ms < 0 {
            return Err(CoreError::InvalidJourneyConfig {
                reason: format!("lookback_ms is negative ({})", self.lookback_ms),
            });
        }
        if self.probabilistic_window_ms < 0 {
            return Err(CoreError::InvalidJourneyConfig {
                reason: format!(
                    "probabilistic_window_ms is negative ({})",
                    self.probabilistic_window_ms
                ),
            });
        }
        Ok(())
    }
}

impl Default for JourneyConfig {
    /// 30 days of lookback, probabilistic matching off.
    fn default() -> JourneyConfig {
        JourneyConfig::from_days(30, false)
    }
}

/// How an order was tied to the person whose touches it is credited to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum JoinKind {
    /// The order carried the click id of one of the person's touches.
    Deterministic,
    /// The order's keys reach the person's touches through the identity graph.
    IdentityGraph,
    /// Matched by time proximity, with a confidence below 1.
    Probabilistic,
}

impl JoinKind {
    /// The stored name: `deterministic`, `identity_graph` or `probabilistic`.
    pub fn as_str(&self) -> &'static str {
        match self {
            JoinKind::Deterministic => "deterministic",
            JoinKind::IdentityGraph => "identity_graph",
            JoinKind::Probabilistic => "probabilistic",
        }
    }
}

/// The touches credited toward one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Journey {
    /// Touch indices ordered by `(at_ms, touch index)`; never empty.
    pub touches: Vec<u32>,
    /// How the order was tied to the person.
    pub join_kind: JoinKind,
    /// Confidence of that tie in parts per million: [`FULL_CONFIDENCE_PPM`] unless probabilistic.
    pub confidence_ppm: u32,
}

/// Why an order has no journey. Unattributed orders are reported, never dropped.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum UnattributedReason {
    /// Neither its click id nor its keys lead to any touch, and no probabilistic match was made.
    NoPersonResolved,
    /// The person is known, but none of their touches is inside the lookback window and after
    /// their previous order.
    NoTouchInWindow,
}

impl UnattributedReason {
    /// A stable name for storage and CSV: `no_person_resolved` or `no_touch_in_window`.
    pub fn as_str(&self) -> &'static str {
        match self {
            UnattributedReason::NoPersonResolved => "no_person_resolved",
            UnattributedReason::NoTouchInWindow => "no_touch_in_window",
        }
    }
}

/// What became of one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderOutcome {
    /// The order has a non-empty journey.
    Attributed(Journey),
    /// The order has no journey, for the given reason.
    Unattributed(UnattributedReason),
}

impl OrderOutcome {
    /// The journey, if the order is attributed.
    pub fn journey(&self) -> Option<&Journey> {
        match self {
            OrderOutcome::Attributed(journey) => Some(journey),
            OrderOutcome::Unattributed(_) => None,
        }
    }
}

/// Many channel sequences stored back to back in one buffer, so a million paths cost two
/// allocations instead of a million.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelPaths {
    channels: Vec<u32>,
    ends: Vec<usize>,
}

impl ChannelPaths {
    /// No paths.
    pub fn new() -> ChannelPaths {
        ChannelPaths::default()
    }

    /// Appends one path. An empty path is ignored: it carries no channel to learn from.
    pub fn push(&mut self, path: &[u32]) {
        if !path.is_empty() {
            self.channels.extend_from_slice(path);
            self.ends.push(self.channels.len());
        }
    }

    /// The number of paths.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no paths.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Path `index`, if it exists.
    pub fn get(&self, index: usize) -> Option<&[u32]> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.channels[start..end])
    }

    /// All paths in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| &self.channels[start..end])
    }

    fn push_channel(&mut self, channel: u32) {
        self.channels.push(channel);
    }

    fn end_path(&mut self) {
        if self.channels.len() > self.ends.last().copied().unwrap_or(0) {
            self.ends.push(self.channels.len());
        }
    }
}

/// The result of journey resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JourneySet {
    /// One outcome per order, at the order's index.
    pub outcomes: Vec<OrderOutcome>,
    /// Channel sequences of touches no order claims (see the module docs for how they split).
    pub non_converting: ChannelPaths,
    /// The number of distinct people that have at least one touch.
    pub person_count: usize,
}

impl JourneySet {
    /// The channel sequence of every attributed order's journey, in order index order — the
    /// converting paths the data-driven models learn from.
    pub fn converting_paths(&self, touches: &[TouchRecord]) -> ChannelPaths {
        self.converting_paths_with(|touch| touches[touch as usize].channel)
    }

    /// [`JourneySet::converting_paths`] with the channel of each touch index given by `channel_of`
    /// (for inputs held column by column, like [`InternedTouches`]).
    pub fn converting_paths_with(&self, channel_of: impl Fn(u32) -> u32) -> ChannelPaths {
        let mut paths = ChannelPaths::new();
        for journey in self.outcomes.iter().filter_map(OrderOutcome::journey) {
            for &touch in &journey.touches {
                paths.push_channel(channel_of(touch));
            }
            paths.end_path();
        }
        paths
    }
}

/// Sentinel for "no person" in dense person arrays.
const NO_PERSON: u32 = u32::MAX;

fn check_count(what: &'static str, count: usize) -> Result<()> {
    // One value below u32::MAX is kept free for the NO_PERSON sentinel.
    let limit = (u32::MAX - 1) as usize;
    if count > limit {
        Err(CoreError::TooManyRecords { what, count, limit })
    } else {
        Ok(())
    }
}

/// Resolves every order's journey and the non-converting paths. See the module docs for the
/// rules; they are applied exactly as listed there.
///
/// Runs in O((touches + keys) · α + touches · log(touches per person)) time: keys are interned
/// once, touches are bucketed by person with a counting sort and only each person's own touches
/// are sorted by time. Probabilistic matching, when enabled and needed, adds one global sort by
/// time.
pub fn resolve_journeys(
    touches: &[TouchRecord],
    orders: &[OrderRecord],
    links: &[IdentityLink],
    config: &JourneyConfig,
) -> Result<JourneySet> {
    config.validate()?;
    check_count("touches", touches.len())?;
    check_count("orders", orders.len())?;

    let mut graph = IdentityGraph::with_capacity(touches.len() + links.len() + orders.len());

    // Every touch gets a node: the node of its first key (merged with its other keys), or an
    // anonymous node when it has no key at all, so a keyless touch is still a person of its own.
    let mut touch_node: Vec<KeyId> = Vec::with_capacity(touches.len());
    for touch in touches {
        let node =
            merge_keys(&mut graph, &touch.keys).unwrap_or_else(|| graph.add_anonymous_node());
        touch_node.push(node);
    }

    // Touches sharing a click id are the same click recorded twice (two sources, a retry):
    // the same person. The first touch with an id stands for it in order lookups.
    let clicked = touches
        .iter()
        .filter(|t| non_empty(t.click_id.as_deref()).is_some())
        .count();
    let mut touch_by_click: HashMap<&str, u32> = HashMap::with_capacity(clicked);
    for (index, touch) in touches.iter().enumerate() {
        if let Some(click) = non_empty(touch.click_id.as_deref()) {
            match touch_by_click.entry(click) {
                Entry::Occupied(first) => {
                    graph.union(touch_node[*first.get() as usize], touch_node[index])
                }
                Entry::Vacant(slot) => {
                    slot.insert(index as u32);
                }
            }
        }
    }

    for link in links {
        if !link.a.1.is_empty() && !link.b.1.is_empty() {
            graph.link((link.a.0, &link.a.1), (link.b.0, &link.b.1));
        }
    }

    // An order's keys are one person; a matching click id makes it the clicker's person too.
    let mut order_node: Vec<Option<KeyId>> = Vec::with_capacity(orders.len());
    let mut order_deterministic: Vec<bool> = Vec::with_capacity(orders.len());
    for order in orders {
        let mut node = merge_keys(&mut graph, &order.keys);
        let clicked =
            non_empty(order.click_id.as_deref()).and_then(|click| touch_by_click.get(click));
        if let Some(&touch) = clicked {
            let touch_node = touch_node[touch as usize];
            match node {
                Some(own) => graph.union(own, touch_node),
                None => node = Some(touch_node),
            }
        }
        order_node.push(node);
        order_deterministic.push(clicked.is_some());
    }

    let touch_root: Vec<u32> = touch_node
        .iter()
        .map(|&node| graph.person_of(node).0)
        .collect();
    let order_root: Vec<u32> = order_node
        .iter()
        .map(|node| node.map_or(NO_PERSON, |node| graph.person_of(node).0))
        .collect();
    let roots = graph.len();
    drop(graph);
    drop(touch_node);
    let touch_at: Vec<i64> = touches.iter().map(|t| t.at_ms).collect();
    let touch_channel: Vec<u32> = touches.iter().map(|t| t.channel).collect();
    let order_at: Vec<i64> = orders.iter().map(|o| o.at_ms).collect();
    Ok(assign_journeys(
        Partition {
            roots,
            touch_root,
            order_root,
            order_deterministic,
        },
        &touch_at,
        &touch_channel,
        &order_at,
        config,
    ))
}

/// The identity partition both entry points hand to [`assign_journeys`]: the union–find root of
/// every touch and order (`NO_PERSON` for an order with no key and no matching click), over
/// `roots` possible roots.
struct Partition {
    roots: usize,
    touch_root: Vec<u32>,
    order_root: Vec<u32>,
    order_deterministic: Vec<bool>,
}

/// Rules 3–7 of the module docs over an identity partition: which touches each order's journey
/// holds, and the non-converting paths. Shared by [`resolve_journeys`] and
/// [`resolve_interned_journeys`], so both give identical results for the same partition.
fn assign_journeys(
    partition: Partition,
    touch_at: &[i64],
    touch_channel: &[u32],
    order_at: &[i64],
    config: &JourneyConfig,
) -> JourneySet {
    let Partition {
        roots,
        touch_root,
        order_root,
        order_deterministic,
    } = partition;
    let touch_count = touch_at.len();
    let order_count = order_at.len();

    // Dense person ids, numbered in order of each person's first touch, so results are
    // deterministic for a given input order.
    let mut person_of_root = vec![NO_PERSON; roots];
    let mut touch_person: Vec<u32> = Vec::with_capacity(touch_count);
    let mut person_count: u32 = 0;
    for &root in &touch_root {
        let root = root as usize;
        if person_of_root[root] == NO_PERSON {
            person_of_root[root] = person_count;
            person_count += 1;
        }
        touch_person.push(person_of_root[root]);
    }
    drop(touch_root);

    // Bucket touches by person (counting sort), then order each person's touches by
    // (at, touch index). The buckets are filled in index order, and the sort key includes the
    // index, so ties are broken by index whatever the sort does.
    let persons = person_count as usize;
    let mut person_start = vec![0usize; persons + 1];
    for &person in &touch_person {
        person_start[person as usize + 1] += 1;
    }
    for p in 0..persons {
        person_start[p + 1] += person_start[p];
    }
    let mut by_person = vec![0u32; touch_count];
    let mut fill = person_start.clone();
    for (index, &person) in touch_person.iter().enumerate() {
        by_person[fill[person as usize]] = index as u32;
        fill[person as usize] += 1;
    }
    for p in 0..persons {
        let slice = &mut by_person[person_start[p]..person_start[p + 1]];
        if slice.len() > 1 {
            slice.sort_unstable_by_key(|&t| (touch_at[t as usize], t));
        }
    }

    // Orders whose component holds a touch, sorted by (person, at, order index).
    let mut resolved: Vec<(u32, i64, u32)> = Vec::with_capacity(order_count);
    for (index, &root) in order_root.iter().enumerate() {
        if root != NO_PERSON {
            let person = person_of_root[root as usize];
            if person != NO_PERSON {
                resolved.push((person, order_at[index], index as u32));
            }
        }
    }
    resolved.sort_unstable();
    drop(person_of_root);

    let mut outcomes =
        vec![OrderOutcome::Unattributed(UnattributedReason::NoPersonResolved); order_count];
    let mut claimed = vec![false; touch_count];

    // Pass 1: resolved orders claim touches, person by person, oldest order first.
    let mut group_start = 0;
    while group_start < resolved.len() {
        let person = resolved[group_start].0;
        let group_end = group_start + resolved[group_start..].partition_point(|r| r.0 == person);
        let slice = &by_person[person_start[person as usize]..person_start[person as usize + 1]];
        let mut cursor = 0;
        for &(_, order_at, order_index) in &resolved[group_start..group_end] {
            let end =
                cursor + slice[cursor..].partition_point(|&t| touch_at[t as usize] <= order_at);
            let window_start = order_at.saturating_sub(config.lookback_ms);
            let start = cursor
                + slice[cursor..end].partition_point(|&t| touch_at[t as usize] < window_start);
            let journey = &slice[start..end];
            for &touch in journey {
                claimed[touch as usize] = true;
            }
            cursor = end;
            let join_kind = if order_deterministic[order_index as usize] {
                JoinKind::Deterministic
            } else {
                JoinKind::IdentityGraph
            };
            outcomes[order_index as usize] =
                attributed_or_empty(journey.to_vec(), join_kind, FULL_CONFIDENCE_PPM);
        }
        group_start = group_end;
    }

    // Pass 2: probabilistic matching of the orders nobody could be resolved for.
    let mut probabilistic_orders: HashMap<u32, Vec<i64>> = HashMap::new();
    if config.probabilistic {
        // After pass 1, exactly the orders without a resolved person are still NoPersonResolved.
        let mut unresolved: Vec<(i64, u32)> = (0..order_count)
            .filter(|&i| {
                matches!(
                    outcomes[i],
                    OrderOutcome::Unattributed(UnattributedReason::NoPersonResolved)
                )
            })
            .map(|i| (order_at[i], i as u32))
            .collect();
        unresolved.sort_unstable();
        if !unresolved.is_empty() {
            let mut by_time: Vec<u32> = (0..touch_count as u32).collect();
            by_time.sort_unstable_by_key(|&t| (touch_at[t as usize], t));
            let mut candidates: Vec<u32> = Vec::new();
            for &(order_at, order_index) in &unresolved {
                let lo = by_time.partition_point(|&t| {
                    touch_at[t as usize] < order_at.saturating_sub(config.probabilistic_window_ms)
                });
                let hi = by_time.partition_point(|&t| touch_at[t as usize] <= order_at);
                candidates.clear();
                let mut nearest: Option<u32> = None;
                for &touch in &by_time[lo..hi] {
                    if claimed[touch as usize] {
                        continue;
                    }
                    candidates.push(touch_person[touch as usize]);
                    // Strictly later wins; among equal instants the lowest index (seen first) stays.
                    if nearest.is_none_or(|n| touch_at[touch as usize] > touch_at[n as usize]) {
                        nearest = Some(touch);
                    }
                }
                let Some(nearest) = nearest else { continue };
                candidates.sort_unstable();
                candidates.dedup();
                let confidence_ppm = FULL_CONFIDENCE_PPM / (candidates.len() as u32 + 1);
                let person = touch_person[nearest as usize];

                // The journey starts after the person's latest earlier order of any kind.
                let person_orders = {
                    let from = resolved.partition_point(|r| r.0 < person);
                    let to = resolved.partition_point(|r| r.0 <= person);
                    &resolved[from..to]
                };
                let resolved_barrier = person_orders
                    .iter()
                    .rev()
                    .map(|r| r.1)
                    .find(|&at| at <= order_at);
                let earlier = probabilistic_orders
                    .get(&person)
                    .and_then(|ats| ats.last().copied());
                let barrier = resolved_barrier.max(earlier);
                let window_start = order_at.saturating_sub(config.lookback_ms);
                let slice =
                    &by_person[person_start[person as usize]..person_start[person as usize + 1]];
                let journey: Vec<u32> = slice
                    .iter()
                    .copied()
                    .filter(|&t| {
                        let at = touch_at[t as usize];
                        !claimed[t as usize]
                            && at >= window_start
                            && at <= order_at
                            && barrier.is_none_or(|b| at > b)
                    })
                    .collect();
                for &touch in &journey {
                    claimed[touch as usize] = true;
                }
                probabilistic_orders
                    .entry(person)
                    .or_default()
                    .push(order_at);
                outcomes[order_index as usize] =
                    attributed_or_empty(journey, JoinKind::Probabilistic, confidence_ppm);
            }
        }
    }

    // Non-converting paths: each person's unclaimed touches, split at each of their orders.
    let mut non_converting = ChannelPaths::new();
    let mut order_instants: Vec<i64> = Vec::new();
    let mut next_resolved = 0;
    for person in 0..person_count {
        order_instants.clear();
        while next_resolved < resolved.len() && resolved[next_resolved].0 == person {
            order_instants.push(resolved[next_resolved].1);
            next_resolved += 1;
        }
        if let Some(extra) = probabilistic_orders.get(&person) {
            order_instants.extend_from_slice(extra);
            order_instants.sort_unstable();
        }
        let slice = &by_person[person_start[person as usize]..person_start[person as usize + 1]];
        let mut boundary = 0;
        let mut current_segment = usize::MAX;
        for &touch in slice {
            let at = touch_at[touch as usize];
            // A touch at an order's instant is before that order (rule 3), hence `<`.
            while boundary < order_instants.len() && order_instants[boundary] < at {
                boundary += 1;
            }
            if claimed[touch as usize] {
                continue;
            }
            if boundary != current_segment {
                non_converting.end_path();
                current_segment = boundary;
            }
            non_converting.push_channel(touch_channel[touch as usize]);
        }
        non_converting.end_path();
    }

    JourneySet {
        outcomes,
        non_converting,
        person_count: persons,
    }
}

/// "No id" in the interned inputs: a touch or order without a click id.
pub const NO_ID: u32 = u32::MAX;

/// Touches as [`resolve_interned_journeys`] reads them: column by column, with identity keys and
/// click ids already interned to dense `u32` ids by the caller, so millions of touches cost a few
/// flat vectors instead of a `String` per key.
///
/// Key ids name `(KeyType, value)` pairs: the caller gives the same pair the same id and
/// different pairs (including the same value under two key types) different ids. Click ids are a
/// separate id space shared by touches and orders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InternedTouches {
    /// When each touch happened, UTC milliseconds.
    pub at_ms: Vec<i64>,
    /// The interned channel of each touch.
    pub channel: Vec<u32>,
    /// The interned click id of each touch, or [`NO_ID`].
    pub click: Vec<u32>,
    keys: Vec<u32>,
    key_ends: Vec<u32>,
}

impl InternedTouches {
    /// No touches.
    pub fn new() -> InternedTouches {
        InternedTouches::default()
    }

    /// No touches, with room for `touches` touches and `keys` keys over all of them (a loader
    /// that knows the count spares the vectors' doublings, which at ten million touches leave
    /// a third of their memory unused).
    pub fn with_capacity(touches: usize, keys: usize) -> InternedTouches {
        InternedTouches {
            at_ms: Vec::with_capacity(touches),
            channel: Vec::with_capacity(touches),
            click: Vec::with_capacity(touches),
            keys: Vec::with_capacity(keys),
            key_ends: Vec::with_capacity(touches),
        }
    }

    /// Appends a touch with its interned keys (empty values must already be left out).
    pub fn push(&mut self, at_ms: i64, channel: u32, click: Option<u32>, keys: &[u32]) {
        self.at_ms.push(at_ms);
        self.channel.push(channel);
        self.click.push(click.unwrap_or(NO_ID));
        self.keys.extend_from_slice(keys);
        self.key_ends.push(self.keys.len() as u32);
    }

    /// The number of touches.
    pub fn len(&self) -> usize {
        self.at_ms.len()
    }

    /// Whether there are no touches.
    pub fn is_empty(&self) -> bool {
        self.at_ms.is_empty()
    }

    /// The instants and channels of every touch, dropping their keys and click ids: what is
    /// left to keep of the touches once journeys are resolved.
    pub fn into_instants_and_channels(self) -> (Vec<i64>, Vec<u32>) {
        (self.at_ms, self.channel)
    }

    /// The interned keys of touch `index`.
    pub fn keys(&self, index: usize) -> &[u32] {
        let start = if index == 0 {
            0
        } else {
            self.key_ends[index - 1] as usize
        };
        &self.keys[start..self.key_ends[index] as usize]
    }
}

/// Orders as [`resolve_interned_journeys`] reads them (see [`InternedTouches`] for the ids).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InternedOrders {
    /// When each order was placed, UTC milliseconds.
    pub at_ms: Vec<i64>,
    /// The interned click id each order carries, or [`NO_ID`] (also when no touch has it).
    pub click: Vec<u32>,
    keys: Vec<u32>,
    key_ends: Vec<u32>,
}

impl InternedOrders {
    /// No orders.
    pub fn new() -> InternedOrders {
        InternedOrders::default()
    }

    /// Appends an order with its interned keys (empty values must already be left out).
    pub fn push(&mut self, at_ms: i64, click: Option<u32>, keys: &[u32]) {
        self.at_ms.push(at_ms);
        self.click.push(click.unwrap_or(NO_ID));
        self.keys.extend_from_slice(keys);
        self.key_ends.push(self.keys.len() as u32);
    }

    /// The number of orders.
    pub fn len(&self) -> usize {
        self.at_ms.len()
    }

    /// Whether there are no orders.
    pub fn is_empty(&self) -> bool {
        self.at_ms.is_empty()
    }

    /// The interned keys of order `index`.
    pub fn keys(&self, index: usize) -> &[u32] {
        let start = if index == 0 {
            0
        } else {
            self.key_ends[index - 1] as usize
        };
        &self.keys[start..self.key_ends[index] as usize]
    }
}

/// [`resolve_journeys`] over pre-interned inputs: the same rules, the same results (touch and
/// order indices, join kinds, confidences and non-converting paths) as resolving the equivalent
/// string records, without interning a string here.
///
/// `key_count` and `click_count` bound the ids (`0..key_count`, `0..click_count`); `links` are
/// pairs of key ids. An id out of range is [`CoreError::IndexOutOfRange`].
pub fn resolve_interned_journeys(
    touches: &InternedTouches,
    orders: &InternedOrders,
    links: &[(u32, u32)],
    key_count: u32,
    click_count: u32,
    config: &JourneyConfig,
) -> Result<JourneySet> {
    config.validate()?;
    check_count("touches", touches.len())?;
    check_count("orders", orders.len())?;
    let check = |what: &'static str, id: u32, len: u32| -> Result<()> {
        if id >= len {
            Err(CoreError::IndexOutOfRange {
                what,
                index: id as usize,
                len: len as usize,
            })
        } else {
            Ok(())
        }
    };
    for &key in touches
        .keys
        .iter()
        .chain(&orders.keys)
        .chain(links.iter().flat_map(|(a, b)| [a, b]))
    {
        check("identity key", key, key_count)?;
    }
    for &click in touches
        .click
        .iter()
        .chain(&orders.click)
        .filter(|&&c| c != NO_ID)
    {
        check("click id", click, click_count)?;
    }

    // Nodes 0..key_count are the keys; keyless touches get an anonymous node each after them.
    let mut set = DisjointSet::with_capacity(key_count as usize);
    for _ in 0..key_count {
        set.make_set();
    }
    let merge = |set: &mut DisjointSet, keys: &[u32]| -> Option<u32> {
        let (&first, rest) = keys.split_first()?;
        for &key in rest {
            set.union(first, key);
        }
        Some(first)
    };
    let mut touch_node: Vec<u32> = Vec::with_capacity(touches.len());
    for index in 0..touches.len() {
        let node = merge(&mut set, touches.keys(index)).unwrap_or_else(|| set.make_set());
        touch_node.push(node);
    }
    let mut touch_by_click = vec![NO_ID; click_count as usize];
    for (index, &click) in touches.click.iter().enumerate() {
        if click == NO_ID {
            continue;
        }
        let first = touch_by_click[click as usize];
        if first == NO_ID {
            touch_by_click[click as usize] = index as u32;
        } else {
            set.union(touch_node[first as usize], touch_node[index]);
        }
    }
    for &(a, b) in links {
        set.union(a, b);
    }
    let mut order_node: Vec<u32> = Vec::with_capacity(orders.len());
    let mut order_deterministic: Vec<bool> = Vec::with_capacity(orders.len());
    for index in 0..orders.len() {
        let mut node = merge(&mut set, orders.keys(index));
        let click = orders.click[index];
        let clicked = (click != NO_ID)
            .then(|| touch_by_click[click as usize])
            .filter(|&t| t != NO_ID);
        if let Some(touch) = clicked {
            let touch_node = touch_node[touch as usize];
            match node {
                Some(own) => {
                    set.union(own, touch_node);
                }
                None => node = Some(touch_node),
            }
        }
        order_node.push(node.unwrap_or(NO_PERSON));
        order_deterministic.push(clicked.is_some());
    }
    drop(touch_by_click);
    let touch_root: Vec<u32> = touch_node.iter().map(|&node| set.find(node)).collect();
    drop(touch_node);
    let order_root: Vec<u32> = order_node
        .iter()
        .map(|&node| {
            if node == NO_PERSON {
                NO_PERSON
            } else {
                set.find(node)
            }
        })
        .collect();
    let roots = set.len();
    drop(set);
    Ok(assign_journeys(
        Partition {
            roots,
            touch_root,
            order_root,
            order_deterministic,
        },
        &touches.at_ms,
        &touches.channel,
        &orders.at_ms,
        config,
    ))
}

/// Interns and merges a record's keys; `None` if it has no non-empty key.
fn merge_keys(graph: &mut IdentityGraph, keys: &[(KeyType, String)]) -> Option<KeyId> {
    let mut first: Option<KeyId> = None;
    for (kind, value) in keys {
        if value.is_empty() {
            continue;
        }
        let id = graph.intern(*kind, value);
        match first {
            None => first = Some(id),
            Some(first) => graph.union(first, id),
        }
    }
    first
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

fn attributed_or_empty(
    touches: Vec<u32>,
    join_kind: JoinKind,
    confidence_ppm: u32,
) -> OrderOutcome {
    if touches.is_empty() {
        OrderOutcome::Unattributed(UnattributedReason::NoTouchInWindow)
    } else {
        OrderOutcome::Attributed(Journey {
            touches,
            join_kind,
            confidence_ppm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    fn keys(pairs: &[(KeyType, &str)]) -> Vec<(KeyType, String)> {
        pairs
            .iter()
            .map(|&(kind, value)| (kind, value.to_owned()))
            .collect()
    }

    fn touch(at_ms: i64, channel: u32, key_pairs: &[(KeyType, &str)]) -> TouchRecord {
        TouchRecord {
            at_ms,
            channel,
            click_id: None,
            keys: keys(key_pairs),
        }
    }

    fn clicked_touch(
        at_ms: i64,
        channel: u32,
        click: &str,
        key_pairs: &[(KeyType, &str)],
    ) -> TouchRecord {
        TouchRecord {
            at_ms,
            channel,
            click_id: Some(click.to_owned()),
            keys: keys(key_pairs),
        }
    }

    fn order(at_ms: i64, key_pairs: &[(KeyType, &str)]) -> OrderRecord {
        OrderRecord {
            at_ms,
            click_id: None,
            keys: keys(key_pairs),
            net_minor: 1000,
        }
    }

    fn clicked_order(at_ms: i64, click: &str, key_pairs: &[(KeyType, &str)]) -> OrderRecord {
        OrderRecord {
            at_ms,
            click_id: Some(click.to_owned()),
            keys: keys(key_pairs),
            net_minor: 1000,
        }
    }

    fn attributed(set: &JourneySet, order: usize) -> (Vec<u32>, JoinKind, u32) {
        match &set.outcomes[order] {
            OrderOutcome::Attributed(j) => (j.touches.clone(), j.join_kind, j.confidence_ppm),
            other => panic!("order {order} is {other:?}"),
        }
    }

    fn paths(set: &JourneySet) -> Vec<Vec<u32>> {
        set.non_converting.iter().map(<[u32]>::to_vec).collect()
    }

    const ANON: KeyType = KeyType::AnonymousId;

    #[test]
    fn window_is_inclusive_at_both_ends_and_ties_go_by_index() {
        let order_at = 100 * DAY_MS;
        let a = [(ANON, "a")];
        let touches = vec![
            touch(70 * DAY_MS - 1, 0, &a), // one millisecond too old
            touch(70 * DAY_MS, 1, &a),     // exactly at the window start: in
            touch(order_at, 2, &a),        // at the order's instant: in
            touch(order_at + 1, 3, &a),    // after the order: out
            touch(80 * DAY_MS, 4, &a),
            touch(80 * DAY_MS, 5, &a), // same instant as 4, higher index: after 4
            touch(75 * DAY_MS, 6, &a),
        ];
        let set = resolve_journeys(
            &touches,
            &[order(order_at, &a)],
            &[],
            &JourneyConfig::default(),
        )
        .unwrap();
        assert_eq!(
            attributed(&set, 0),
            (
                vec![1, 6, 4, 5, 2],
                JoinKind::IdentityGraph,
                FULL_CONFIDENCE_PPM
            )
        );
        // The too-old touch and the later touch are separate non-converting paths: an order lies between.
        assert_eq!(paths(&set), vec![vec![0], vec![3]]);
        assert_eq!(set.person_count, 1);
        assert_eq!(
            set.converting_paths(&touches).iter().collect::<Vec<_>>(),
            vec![&[1u32, 6, 4, 5, 2][..]]
        );
    }

    #[test]
    fn a_touch_counts_only_toward_the_first_order_after_it() {
        let p = [(ANON, "p")];
        let touches = vec![
            touch(DAY_MS, 0, &p),
            touch(2 * DAY_MS, 1, &p),
            touch(4 * DAY_MS, 2, &p),
            touch(5 * DAY_MS, 3, &p),
            touch(7 * DAY_MS, 4, &p),
        ];
        // Orders listed out of time order: resolution goes by time, then index.
        let orders = vec![
            order(6 * DAY_MS, &p),
            order(3 * DAY_MS, &p),
            order(6 * DAY_MS, &p),
        ];
        let set = resolve_journeys(&touches, &orders, &[], &JourneyConfig::default()).unwrap();
        assert_eq!(attributed(&set, 1).0, vec![0, 1]);
        assert_eq!(attributed(&set, 0).0, vec![2, 3]);
        // Same instant as order 0 but a higher index: the touches are already taken.
        assert_eq!(
            set.outcomes[2],
            OrderOutcome::Unattributed(UnattributedReason::NoTouchInWindow)
        );
        assert_eq!(paths(&set), vec![vec![4]]);
    }

    #[test]
    fn touches_too_old_for_an_order_stay_unclaimed_and_paths_split_at_orders() {
        let p = [(ANON, "p")];
        let touches = vec![
            touch(0, 0, &p),
            touch(DAY_MS, 1, &p),
            touch(41 * DAY_MS, 2, &p),
            touch(50 * DAY_MS, 3, &p),
            touch(51 * DAY_MS, 3, &p),
        ];
        let orders = vec![order(40 * DAY_MS, &p), order(42 * DAY_MS, &p)];
        let set = resolve_journeys(&touches, &orders, &[], &JourneyConfig::default()).unwrap();
        assert_eq!(
            set.outcomes[0],
            OrderOutcome::Unattributed(UnattributedReason::NoTouchInWindow)
        );
        assert_eq!(attributed(&set, 1).0, vec![2]);
        assert_eq!(paths(&set), vec![vec![0, 1], vec![3, 3]]);
    }

    #[test]
    fn click_ids_join_deterministically_and_merge_the_order_keys() {
        let touches = vec![
            clicked_touch(DAY_MS, 0, "c1", &[(ANON, "x")]),
            touch(2 * DAY_MS, 1, &[(KeyType::EmailSha256, "e")]),
            touch(2 * DAY_MS + 1, 2, &[(ANON, "y")]),
            // The same click recorded by a second source under another cookie: same person.
            clicked_touch(DAY_MS / 2, 3, "c1", &[(ANON, "z")]),
        ];
        let orders = vec![
            clicked_order(3 * DAY_MS, "c1", &[(KeyType::EmailSha256, "e")]),
            clicked_order(3 * DAY_MS, "unknown-click", &[]),
            order(3 * DAY_MS, &[(ANON, "y")]),
        ];
        let set = resolve_journeys(&touches, &orders, &[], &JourneyConfig::default()).unwrap();
        assert_eq!(
            attributed(&set, 0),
            (vec![3, 0, 1], JoinKind::Deterministic, FULL_CONFIDENCE_PPM)
        );
        assert_eq!(
            set.outcomes[1],
            OrderOutcome::Unattributed(UnattributedReason::NoPersonResolved)
        );
        assert_eq!(
            attributed(&set, 2),
            (vec![2], JoinKind::IdentityGraph, FULL_CONFIDENCE_PPM)
        );
        assert_eq!(set.person_count, 2);
        assert!(set.non_converting.is_empty());
    }

    #[test]
    fn a_clicked_touch_without_keys_still_joins_its_order() {
        let touches = vec![clicked_touch(DAY_MS, 7, "gclid-1", &[])];
        let orders = vec![clicked_order(2 * DAY_MS, "gclid-1", &[])];
        let set = resolve_journeys(&touches, &orders, &[], &JourneyConfig::default()).unwrap();
        assert_eq!(
            attributed(&set, 0),
            (vec![0], JoinKind::Deterministic, FULL_CONFIDENCE_PPM)
        );
    }

    #[test]
    fn identity_links_connect_orders_to_touches() {
        let touches = vec![touch(DAY_MS, 0, &[(ANON, "cookie")]), touch(DAY_MS, 1, &[])];
        let orders = vec![
            order(2 * DAY_MS, &[(KeyType::CustomerId, "cus_1")]),
            order(2 * DAY_MS, &[(KeyType::CustomerId, "cus_2")]),
            order(2 * DAY_MS, &[]),
        ];
        let without = resolve_journeys(&touches, &orders, &[], &JourneyConfig::default()).unwrap();
        assert_eq!(
            without.outcomes[0],
            OrderOutcome::Unattributed(UnattributedReason::NoPersonResolved)
        );
        let links = vec![IdentityLink {
            a: (ANON, "cookie".to_owned()),
            b: (KeyType::CustomerId, "cus_1".to_owned()),
        }];
        let with = resolve_journeys(&touches, &orders, &links, &JourneyConfig::default()).unwrap();
        assert_eq!(
            attributed(&with, 0),
            (vec![0], JoinKind::IdentityGraph, FULL_CONFIDENCE_PPM)
        );
        assert_eq!(
            with.outcomes[1],
            OrderOutcome::Unattributed(UnattributedReason::NoPersonResolved)
        );
        assert_eq!(
            with.outcomes[2],
            OrderOutcome::Unattributed(UnattributedReason::NoPersonResolved)
        );
        // The keyless touch is a person of its own, with a one-touch non-converting path.
        assert_eq!(with.person_count, 2);
        assert_eq!(paths(&with), vec![vec![1]]);
    }

    #[test]
    fn probabilistic_matching_is_opt_in_weak_and_never_steals() {
        let t = 10 * DAY_MS;
        let touches = vec![
            touch(t - 10 * MINUTE, 0, &[(ANON, "a")]),
            touch(t - 5 * MINUTE, 1, &[(ANON, "b")]),
            touch(t - 2 * DAY_MS, 2, &[(ANON, "a")]),
            touch(t - 120 * MINUTE, 3, &[(ANON, "c")]), // outside the 30-minute window
        ];
        let anonymous_order = order(t, &[(KeyType::CustomerId, "guest-checkout")]);

        let off = resolve_journeys(
            &touches,
            std::slice::from_ref(&anonymous_order),
            &[],
            &JourneyConfig::default(),
        )
        .unwrap();
        assert_eq!(
            off.outcomes[0],
            OrderOutcome::Unattributed(UnattributedReason::NoPersonResolved)
        );

        let on = JourneyConfig {
            probabilistic: true,
            ..JourneyConfig::default()
        };
        let set =
            resolve_journeys(&touches, std::slice::from_ref(&anonymous_order), &[], &on).unwrap();
        // Two people were active in the window; the nearest touch (b) wins, confidence 1/(2+1).
        assert_eq!(
            attributed(&set, 0),
            (vec![1], JoinKind::Probabilistic, 333_333)
        );
        // Person a's touches were not claimed: one path, in time order; person c's is another.
        assert_eq!(paths(&set), vec![vec![2, 0], vec![3]]);

        // Person b's own (later) order claims b's touch first; the guess falls to person a.
        let orders = vec![anonymous_order, order(t + MINUTE, &[(ANON, "b")])];
        let set = resolve_journeys(&touches, &orders, &[], &on).unwrap();
        assert_eq!(
            attributed(&set, 1),
            (vec![1], JoinKind::IdentityGraph, FULL_CONFIDENCE_PPM)
        );
        assert_eq!(
            attributed(&set, 0),
            (vec![2, 0], JoinKind::Probabilistic, 500_000)
        );
        assert_eq!(paths(&set), vec![vec![3]]);
    }

    #[test]
    fn settings_are_validated() {
        let bad = JourneyConfig {
            lookback_ms: -1,
            ..JourneyConfig::default()
        };
        assert!(matches!(
            resolve_journeys(&[], &[], &[], &bad),
            Err(CoreError::InvalidJourneyConfig { .. })
        ));
        let empty = resolve_journeys(&[], &[], &[], &JourneyConfig::default()).unwrap();
        assert_eq!(empty.person_count, 0);
        assert!(empty.outcomes.is_empty());
    }

    /// Interns string records the way a loader would, for comparing the two entry points.
    fn intern_all(
        touches: &[TouchRecord],
        orders: &[OrderRecord],
        links: &[IdentityLink],
    ) -> (InternedTouches, InternedOrders, Vec<(u32, u32)>, u32, u32) {
        let mut key_ids: HashMap<(KeyType, String), u32> = HashMap::new();
        let mut click_ids: HashMap<String, u32> = HashMap::new();
        let mut key = |pair: &(KeyType, String)| -> u32 {
            let next = key_ids.len() as u32;
            *key_ids.entry(pair.clone()).or_insert(next)
        };
        let mut interned_touches = InternedTouches::new();
        for touch in touches {
            let keys: Vec<u32> = touch
                .keys
                .iter()
                .filter(|k| !k.1.is_empty())
                .map(&mut key)
                .collect();
            let click = touch.click_id.as_ref().filter(|c| !c.is_empty()).map(|c| {
                let next = click_ids.len() as u32;
                *click_ids.entry(c.clone()).or_insert(next)
            });
            interned_touches.push(touch.at_ms, touch.channel, click, &keys);
        }
        let mut interned_orders = InternedOrders::new();
        for order in orders {
            let keys: Vec<u32> = order
                .keys
                .iter()
                .filter(|k| !k.1.is_empty())
                .map(&mut key)
                .collect();
            let click = order
                .click_id
                .as_ref()
                .and_then(|c| click_ids.get(c).copied());
            interned_orders.push(order.at_ms, click, &keys);
        }
        let links = links
            .iter()
            .filter(|l| !l.a.1.is_empty() && !l.b.1.is_empty())
            .map(|l| (key(&l.a), key(&l.b)))
            .collect();
        let (keys, clicks) = (key_ids.len() as u32, click_ids.len() as u32);
        (interned_touches, interned_orders, links, keys, clicks)
    }

    #[test]
    fn interned_resolution_equals_string_resolution() {
        // A small deterministic generator: shared keys, click ids, links, ties and orders with no
        // key at all, so every rule (including probabilistic matching) is exercised.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let kinds = [
            KeyType::AnonymousId,
            KeyType::EmailSha256,
            KeyType::CustomerId,
            KeyType::DeviceId,
        ];
        for round in 0..40 {
            let mut touches = Vec::new();
            for _ in 0..(20 + next(60)) {
                let mut key_pairs = Vec::new();
                for _ in 0..next(3) {
                    key_pairs.push((kinds[next(4) as usize], format!("k{}", next(15))));
                }
                let click = (next(4) == 0).then(|| format!("c{}", next(10)));
                touches.push(TouchRecord {
                    at_ms: (next(40) as i64) * MINUTE * 7,
                    channel: next(6) as u32,
                    click_id: click,
                    keys: key_pairs,
                });
            }
            let mut orders = Vec::new();
            for _ in 0..(5 + next(15)) {
                let mut key_pairs = Vec::new();
                for _ in 0..next(2) {
                    key_pairs.push((kinds[next(4) as usize], format!("k{}", next(20))));
                }
                let click = (next(3) == 0).then(|| format!("c{}", next(14)));
                orders.push(OrderRecord {
                    at_ms: (next(45) as i64) * MINUTE * 7,
                    click_id: click,
                    keys: key_pairs,
                    net_minor: 100,
                });
            }
            let links: Vec<IdentityLink> = (0..next(4))
                .map(|_| IdentityLink {
                    a: (kinds[next(4) as usize], format!("k{}", next(20))),
                    b: (kinds[next(4) as usize], format!("k{}", next(20))),
                })
                .collect();
            let config = JourneyConfig {
                lookback_ms: 60 * MINUTE * (1 + next(5) as i64),
                probabilistic: round % 2 == 0,
                probabilistic_window_ms: 30 * MINUTE,
            };
            let expected = resolve_journeys(&touches, &orders, &links, &config).unwrap();
            let (t, o, l, keys, clicks) = intern_all(&touches, &orders, &links);
            let actual = resolve_interned_journeys(&t, &o, &l, keys, clicks, &config).unwrap();
            assert_eq!(actual, expected, "round {round}");
            assert_eq!(
                actual.converting_paths_with(|i| t.channel[i as usize]),
                expected.converting_paths(&touches)
            );
        }
    }

    #[test]
    fn interned_ids_out_of_range_are_refused() {
        let mut touches = InternedTouches::new();
        touches.push(0, 0, None, &[3]);
        let result = resolve_interned_journeys(
            &touches,
            &InternedOrders::new(),
            &[],
            3,
            0,
            &JourneyConfig::default(),
        );
        assert!(matches!(
            result,
            Err(CoreError::IndexOutOfRange {
                what: "identity key",
                index: 3,
                len: 3
            })
        ));
    }

    #[test]
    fn channel_paths_store_paths_back_to_back() {
        let mut store = ChannelPaths::new();
        store.push(&[1, 2]);
        store.push(&[]);
        store.push(&[3]);
        assert_eq!(store.len(), 2);
        assert_eq!(store.get(0), Some(&[1u32, 2][..]));
        assert_eq!(store.get(1), Some(&[3u32][..]));
        assert_eq!(store.get(2), None);
        assert_eq!(
            store.iter().collect::<Vec<_>>(),
            vec![&[1u32, 2][..], &[3u32][..]]
        );
    }
}
