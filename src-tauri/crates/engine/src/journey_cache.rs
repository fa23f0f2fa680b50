//! Resolved journeys in the compact form every model needs, and their encoding for the store's
//! `journey_cache` — so a second model on unchanged data reads the ~journey touches and the
//! distinct non-converting paths instead of every touch, and resolves nothing.
//!
//! What is kept, per order (in the loader's order): unattributed with its reason, or attributed
//! with its join kind, confidence and touches — each touch's rowid, text id, instant, channel and
//! report keys (creator, campaign, content). Beside it: the channel names in interning order (so
//! channel ids, and with them learned weights, are exactly those of a resolving run) and every
//! distinct non-converting channel path with how many times it occurred, which is all the
//! data-driven models learn from (their counts are integers, so grouping equal paths changes no
//! bit of what they learn).
//!
//! Architecture Invariant: the cache is keyed by (input watermark, lookback days, probabilistic
//! matching, touch filter) — everything journeys depend on. Order revenue, fx, provisional status and the
//! reporting zone are not in it: they are read fresh on every run, because they depend on `now`
//! and on settings the watermark does not cover.

use lookback_core::journey::{
    ChannelPaths, JoinKind, JourneySet, OrderOutcome, UnattributedReason,
};

use lookback_store::Store;

use crate::EngineError;
use crate::inputs::FxMap;
use crate::interner::{Interner, StringPool};

/// The encoding version stored with each cache row; a row of another version is ignored.
pub const CACHE_FORMAT: i64 = 1;

/// "No value" for a touch's report key.
const NONE: u32 = u32::MAX;

/// One touch of one journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedTouch {
    pub rowid: i64,
    pub at_ms: i64,
    /// Interned channel (index into [`CachedJourneys::channel_names`]).
    pub channel: u32,
    /// Indices into [`CachedJourneys::strings`]: the touch id, and the creator, campaign and
    /// content ids or `u32::MAX` when the touch has none.
    pub touch_id: u32,
    pub creator: u32,
    pub campaign: u32,
    pub content: u32,
}

/// What became of one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachedOutcome {
    Unattributed(UnattributedReason),
    /// Its touches are `touches[start..end]` of [`CachedJourneys`], in journey order.
    Attributed {
        join_kind: JoinKind,
        confidence_ppm: u32,
        start: u32,
        end: u32,
    },
}

/// Everything a model run needs from journey resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedJourneys {
    pub channel_names: Vec<String>,
    /// One per order, at the order's index.
    pub outcomes: Vec<CachedOutcome>,
    pub touches: Vec<CachedTouch>,
    /// Touch ids and report key values, each distinct string once.
    pub strings: StringPool,
    /// Distinct non-converting paths, and how often each occurred (same index).
    pub non_converting: ChannelPaths,
    pub non_converting_counts: Vec<u64>,
    /// Whether the non-converting paths were loaded (a cached load may skip them).
    pub has_non_converting: bool,
}

impl CachedJourneys {
    /// The compact form of a fresh resolution of `touches`. `touch_keys` are the store's text
    /// id and report keys of every journey touch (read for [`journey_rowids`]), `paths` the
    /// journeys' non-converting paths grouped by [`distinct_paths`].
    pub fn build(
        touches: &LoadedTouches<'_>,
        journeys: &JourneySet,
        touch_keys: &JourneyTouchKeys,
        paths: (ChannelPaths, Vec<u64>),
    ) -> Result<CachedJourneys, EngineError> {
        let mut strings = Interner::new();
        let mut intern = |value: Option<&str>| -> u32 {
            match value {
                Some(value) => strings.id(value),
                None => NONE,
            }
        };
        let loaded = touches;
        let mut outcomes = Vec::with_capacity(journeys.outcomes.len());
        let mut touches = Vec::new();
        for outcome in &journeys.outcomes {
            match outcome {
                OrderOutcome::Unattributed(reason) => {
                    outcomes.push(CachedOutcome::Unattributed(*reason))
                }
                OrderOutcome::Attributed(journey) => {
                    let start = touches.len() as u32;
                    for &touch in &journey.touches {
                        let rowid = loaded.rowids[touch as usize];
                        let [touch_id, creator, campaign, content] = touch_keys
                            .get(rowid)
                            .ok_or_else(|| lookback_store::StoreError::InvalidValue {
                                field: "journey touch",
                                detail: format!("no report keys were read for touch rowid {rowid}"),
                            })?;
                        touches.push(CachedTouch {
                            rowid,
                            at_ms: loaded.at_ms[touch as usize],
                            channel: loaded.channel[touch as usize],
                            touch_id: intern(touch_id),
                            creator: intern(creator),
                            campaign: intern(campaign),
                            content: intern(content),
                        });
                    }
                    outcomes.push(CachedOutcome::Attributed {
                        join_kind: journey.join_kind,
                        confidence_ppm: journey.confidence_ppm,
                        start,
                        end: touches.len() as u32,
                    });
                }
            }
        }
        let (non_converting, non_converting_counts) = paths;
        Ok(CachedJourneys {
            channel_names: loaded.channel_names.to_vec(),
            outcomes,
            touches,
            strings: strings.into_pool(),
            non_converting,
            non_converting_counts,
            has_non_converting: true,
        })
    }

    /// The string with id `id` (a touch id or report key), `None` for "no value".
    pub fn string(&self, id: u32) -> Option<&str> {
        (id != NONE).then(|| self.strings.get(id))
    }

    /// The touches of an attributed outcome.
    pub fn journey(&self, outcome: &CachedOutcome) -> Option<&[CachedTouch]> {
        match *outcome {
            CachedOutcome::Attributed { start, end, .. } => {
                Some(&self.touches[start as usize..end as usize])
            }
            CachedOutcome::Unattributed(_) => None,
        }
    }

    /// The channel sequence of every attributed journey, in order index order (one conversion
    /// each, like `JourneySet::converting_paths`).
    pub fn converting_paths(&self) -> ChannelPaths {
        let mut paths = ChannelPaths::new();
        let mut buffer = Vec::new();
        for outcome in &self.outcomes {
            if let Some(journey) = self.journey(outcome) {
                buffer.clear();
                buffer.extend(journey.iter().map(|t| t.channel));
                paths.push(&buffer);
            }
        }
        paths
    }

    /// The two blobs stored in `journey_cache` (format [`CACHE_FORMAT`]): the journeys, and the
    /// non-converting paths (read only by data-driven models).
    pub fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        let mut out = Encoder(Vec::with_capacity(
            16 * self.touches.len() + 4 * self.non_converting.len() + 1024,
        ));
        out.u64(self.channel_names.len() as u64);
        for name in &self.channel_names {
            out.str(name);
        }
        out.u64(self.strings.len() as u64);
        for value in self.strings.iter() {
            out.str(value);
        }
        out.u64(self.outcomes.len() as u64);
        for outcome in &self.outcomes {
            match *outcome {
                CachedOutcome::Unattributed(UnattributedReason::NoPersonResolved) => out.u64(0),
                CachedOutcome::Unattributed(UnattributedReason::NoTouchInWindow) => out.u64(1),
                CachedOutcome::Attributed {
                    join_kind,
                    confidence_ppm,
                    start,
                    end,
                } => {
                    out.u64(match join_kind {
                        JoinKind::Deterministic => 2,
                        JoinKind::IdentityGraph => 3,
                        JoinKind::Probabilistic => 4,
                    });
                    out.u64(u64::from(confidence_ppm));
                    out.u64(u64::from(end - start));
                }
            }
        }
        out.u64(self.touches.len() as u64);
        for touch in &self.touches {
            out.i64(touch.rowid);
            out.i64(touch.at_ms);
            out.u64(u64::from(touch.channel));
            for id in [touch.touch_id, touch.creator, touch.campaign, touch.content] {
                out.u64(u64::from(id.wrapping_add(1))); // NONE → 0
            }
        }
        let mut paths = Encoder(Vec::with_capacity(4 * self.non_converting.len() + 16));
        paths.u64(self.non_converting.len() as u64);
        for (path, &count) in self.non_converting.iter().zip(&self.non_converting_counts) {
            paths.u64(count);
            paths.u64(path.len() as u64);
            for &channel in path {
                paths.u64(u64::from(channel));
            }
        }
        (out.0, paths.0)
    }

    /// Reads [`CachedJourneys::encode`]'s output; `None` if it is not well formed (the caller
    /// then resolves journeys again, as if there were no cache). Without `paths` the result has
    /// no non-converting paths: enough for every model but the data-driven ones.
    pub fn decode(bytes: &[u8], paths: Option<&[u8]>) -> Option<CachedJourneys> {
        let mut input = Decoder { bytes, at: 0 };
        let channels = input.len()?;
        let channel_names = (0..channels)
            .map(|_| input.str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?;
        let strings_len = input.len()?;
        let mut strings = StringPool::new();
        for _ in 0..strings_len {
            strings.push(input.str()?);
        }
        let order_count = input.len()?;
        let mut outcomes = Vec::with_capacity(order_count);
        let mut next_start = 0u32;
        for _ in 0..order_count {
            let outcome = match input.u64()? {
                0 => CachedOutcome::Unattributed(UnattributedReason::NoPersonResolved),
                1 => CachedOutcome::Unattributed(UnattributedReason::NoTouchInWindow),
                tag @ 2..=4 => {
                    let join_kind = [
                        JoinKind::Deterministic,
                        JoinKind::IdentityGraph,
                        JoinKind::Probabilistic,
                    ][(tag - 2) as usize];
                    let confidence_ppm = u32::try_from(input.u64()?).ok()?;
                    let len = u32::try_from(input.u64()?).ok()?;
                    let start = next_start;
                    next_start = start.checked_add(len)?;
                    CachedOutcome::Attributed {
                        join_kind,
                        confidence_ppm,
                        start,
                        end: next_start,
                    }
                }
                _ => return None,
            };
            outcomes.push(outcome);
        }
        let touch_count = input.len()?;
        if touch_count != next_start as usize {
            return None;
        }
        let mut touches = Vec::with_capacity(touch_count);
        let string_id = |raw: u64| -> Option<u32> {
            match raw {
                0 => Some(NONE),
                n if (n - 1) < strings.len() as u64 => Some((n - 1) as u32),
                _ => None,
            }
        };
        for _ in 0..touch_count {
            let rowid = input.i64()?;
            let at_ms = input.i64()?;
            let channel = u32::try_from(input.u64()?)
                .ok()
                .filter(|&c| (c as usize) < channel_names.len())?;
            let touch_id = string_id(input.u64()?).filter(|&id| id != NONE)?;
            let creator = string_id(input.u64()?)?;
            let campaign = string_id(input.u64()?)?;
            let content = string_id(input.u64()?)?;
            touches.push(CachedTouch {
                rowid,
                at_ms,
                channel,
                touch_id,
                creator,
                campaign,
                content,
            });
        }
        if input.at != bytes.len() {
            return None;
        }
        let mut non_converting = ChannelPaths::new();
        let mut non_converting_counts = Vec::new();
        if let Some(bytes) = paths {
            let mut input = Decoder { bytes, at: 0 };
            let path_count = input.len()?;
            non_converting_counts.reserve(path_count);
            let mut path = Vec::new();
            for _ in 0..path_count {
                non_converting_counts.push(input.u64()?);
                let len = input.len()?;
                path.clear();
                for _ in 0..len {
                    path.push(
                        u32::try_from(input.u64()?)
                            .ok()
                            .filter(|&c| (c as usize) < channel_names.len())?,
                    );
                }
                if path.is_empty() {
                    return None;
                }
                non_converting.push(&path);
            }
            if input.at != bytes.len() {
                return None;
            }
        }
        Some(CachedJourneys {
            channel_names,
            outcomes,
            touches,
            strings,
            non_converting,
            non_converting_counts,
            has_non_converting: paths.is_some(),
        })
    }
}

/// The text id and report keys (creator, campaign, content) of every journey touch, read from
/// the store by rowid for [`CachedJourneys::build`]: four strings per touch end to end in one
/// pool — an absent key stored empty, its bit clear in `present` — rather than four `String`s
/// per touch (120 MB at a busy year's 600k journey touches).
#[derive(Debug, Default)]
pub struct JourneyTouchKeys {
    /// Sorted; touch `n`'s strings are `4n..4n + 4` of `values`.
    rowids: Vec<i64>,
    values: StringPool,
    /// Per touch: bit 0 creator, bit 1 campaign, bit 2 content present.
    present: Vec<u8>,
}

impl JourneyTouchKeys {
    /// Reads the keys of the touches with these rowids (sorted and distinct, as
    /// [`journey_rowids`] gives them).
    pub fn read(store: &Store, rowids: Vec<i64>) -> Result<JourneyTouchKeys, EngineError> {
        let mut keys = JourneyTouchKeys {
            present: Vec::with_capacity(rowids.len()),
            rowids,
            values: StringPool::new(),
        };
        let mut read = Vec::with_capacity(keys.rowids.len());
        store.for_each_touch_report_keys(&keys.rowids, |touch| {
            read.push(touch.rowid);
            keys.values.push(touch.touch_id);
            let mut present = 0;
            for (bit, value) in [touch.creator_id, touch.campaign_id, touch.content_id]
                .into_iter()
                .enumerate()
            {
                keys.values.push(value.unwrap_or(""));
                if value.is_some() {
                    present |= 1 << bit;
                }
            }
            keys.present.push(present);
        })?;
        if read != keys.rowids {
            return Err(lookback_store::StoreError::InvalidValue {
                field: "journey touch",
                detail: "the store returned report keys for other touches than asked".to_owned(),
            }
            .into());
        }
        Ok(keys)
    }

    /// The touch id, creator, campaign and content of the touch with `rowid`, if it was read.
    fn get(&self, rowid: i64) -> Option<[Option<&str>; 4]> {
        let index = self.rowids.binary_search(&rowid).ok()?;
        let value = |slot: usize| self.values.get((4 * index + slot) as u32);
        let key = |bit: usize| (self.present[index] >> bit & 1 == 1).then(|| value(bit + 1));
        Some([Some(value(0)), key(0), key(1), key(2)])
    }
}

/// What a fresh resolution keeps of the loaded touches (in load order), for
/// [`CachedJourneys::build`]: the keys and click ids are not needed once journeys are resolved.
#[derive(Debug, Clone, Copy)]
pub struct LoadedTouches<'a> {
    pub rowids: &'a [i64],
    pub at_ms: &'a [i64],
    pub channel: &'a [u32],
    pub channel_names: &'a [String],
}

/// The rowids of every journey touch, sorted: what [`CachedJourneys::build`] needs report keys for.
pub fn journey_rowids(rowids: &[i64], journeys: &JourneySet) -> Vec<i64> {
    let mut journey_rowids: Vec<i64> = journeys
        .outcomes
        .iter()
        .filter_map(OrderOutcome::journey)
        .flat_map(|journey| journey.touches.iter().map(|&t| rowids[t as usize]))
        .collect();
    journey_rowids.sort_unstable();
    journey_rowids.dedup();
    journey_rowids
}

/// Groups equal paths, keeping the order of first occurrence.
pub fn distinct_paths(paths: &ChannelPaths) -> (ChannelPaths, Vec<u64>) {
    let mut index: FxMap<&[u32], usize> = FxMap::default();
    let mut firsts: Vec<&[u32]> = Vec::new();
    let mut counts: Vec<u64> = Vec::new();
    for path in paths.iter() {
        match index.get(path) {
            Some(&i) => counts[i] += 1,
            None => {
                index.insert(path, firsts.len());
                firsts.push(path);
                counts.push(1);
            }
        }
    }
    let mut distinct = ChannelPaths::new();
    for path in firsts {
        distinct.push(path);
    }
    (distinct, counts)
}

/// LEB128 for unsigned numbers, little-endian bytes for instants and rowids.
struct Encoder(Vec<u8>);

impl Encoder {
    fn u64(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }
    fn i64(&mut self, value: i64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }
    fn str(&mut self, value: &str) {
        self.u64(value.len() as u64);
        self.0.extend_from_slice(value.as_bytes());
    }
}

struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Decoder<'a> {
    fn u64(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    /// A count of items that follow, refused if it exceeds the bytes left (each item takes one).
    fn len(&mut self) -> Option<usize> {
        let value = usize::try_from(self.u64()?).ok()?;
        (value <= self.bytes.len() - self.at).then_some(value)
    }
    fn i64(&mut self) -> Option<i64> {
        let end = self.at.checked_add(8)?;
        let value = i64::from_le_bytes(self.bytes.get(self.at..end)?.try_into().ok()?);
        self.at = end;
        Some(value)
    }
    fn str(&mut self) -> Option<&'a str> {
        let len = self.len()?;
        let value = std::str::from_utf8(&self.bytes[self.at..self.at + len]).ok()?;
        self.at += len;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CachedJourneys {
        let mut non_converting = ChannelPaths::new();
        non_converting.push(&[1, 0, 1]);
        non_converting.push(&[300]);
        CachedJourneys {
            channel_names: (0..301).map(|c| format!("ch{c}")).collect(),
            outcomes: vec![
                CachedOutcome::Attributed {
                    join_kind: JoinKind::Probabilistic,
                    confidence_ppm: 333_333,
                    start: 0,
                    end: 2,
                },
                CachedOutcome::Unattributed(UnattributedReason::NoTouchInWindow),
                CachedOutcome::Unattributed(UnattributedReason::NoPersonResolved),
                CachedOutcome::Attributed {
                    join_kind: JoinKind::Deterministic,
                    confidence_ppm: 1_000_000,
                    start: 2,
                    end: 3,
                },
            ],
            touches: vec![
                CachedTouch {
                    rowid: 7,
                    at_ms: -5,
                    channel: 300,
                    touch_id: 0,
                    creator: 1,
                    campaign: NONE,
                    content: NONE,
                },
                CachedTouch {
                    rowid: 1 << 40,
                    at_ms: 1_767_225_600_000,
                    channel: 0,
                    touch_id: 2,
                    creator: NONE,
                    campaign: 3,
                    content: 1,
                },
                CachedTouch {
                    rowid: 9,
                    at_ms: 0,
                    channel: 1,
                    touch_id: 4,
                    creator: 1,
                    campaign: 3,
                    content: NONE,
                },
            ],
            strings: {
                let mut pool = StringPool::new();
                for value in ["t1", "cr", "t2", "", "t3 ünï"] {
                    pool.push(value);
                }
                pool
            },
            non_converting,
            non_converting_counts: vec![3, 1],
            has_non_converting: true,
        }
    }

    #[test]
    fn encoding_round_trips() {
        let cached = sample();
        let (journeys, paths) = cached.encode();
        assert_eq!(
            CachedJourneys::decode(&journeys, Some(&paths)),
            Some(cached.clone())
        );
        let without = CachedJourneys::decode(&journeys, None).unwrap();
        assert!(without.non_converting.is_empty() && !without.has_non_converting);
        assert_eq!(
            (without.outcomes, without.touches, without.strings),
            (cached.outcomes, cached.touches, cached.strings)
        );
    }

    #[test]
    fn a_damaged_payload_is_no_cache() {
        let (journeys, paths) = sample().encode();
        for cut in [0, 1, journeys.len() / 2, journeys.len() - 1] {
            assert_eq!(
                CachedJourneys::decode(&journeys[..cut], Some(&paths)),
                None,
                "cut at {cut}"
            );
        }
        for cut in [0, 1, paths.len() / 2, paths.len() - 1] {
            assert_eq!(
                CachedJourneys::decode(&journeys, Some(&paths[..cut])),
                None,
                "paths cut at {cut}"
            );
        }
        let mut longer = journeys.clone();
        longer.push(0);
        assert_eq!(CachedJourneys::decode(&longer, Some(&paths)), None);
    }

    #[test]
    fn equal_paths_are_grouped_in_first_seen_order() {
        let mut paths = ChannelPaths::new();
        for path in [&[1u32, 2][..], &[3], &[1, 2], &[1, 2], &[3, 1]] {
            paths.push(path);
        }
        let (distinct, counts) = distinct_paths(&paths);
        assert_eq!(
            distinct.iter().collect::<Vec<_>>(),
            vec![&[1u32, 2][..], &[3], &[3, 1]]
        );
        assert_eq!(counts, vec![3, 1, 1]);
    }
}
