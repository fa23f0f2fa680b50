//! Strings to dense ids without an allocation per string: a [`StringPool`] keeps every distinct
//! string end to end in one buffer, and an [`Interner`] finds a string's id through an
//! open-addressing table of (hash tag, id) words over that pool.
//!
//! A resolving run interns millions of identity keys and click ids and a journey cache holds
//! hundreds of thousands of touch ids; as one boxed string and one hash-map entry each they
//! cost a heap allocation (and later a free) per string, twice the memory, and scattered reads
//! when the ids are written out.

use std::hash::Hasher;

use crate::inputs::FxHasher;

/// Distinct strings end to end in one buffer; the string with id `n` is the `n`th pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringPool {
    text: String,
    /// Where each string ends in `text` (it starts where the previous one ends).
    ends: Vec<usize>,
}

impl StringPool {
    pub fn new() -> StringPool {
        StringPool::default()
    }

    /// Appends `value` and returns its id.
    pub fn push(&mut self, value: &str) -> u32 {
        self.text.push_str(value);
        self.ends.push(self.text.len());
        (self.ends.len() - 1) as u32
    }

    /// The string with id `id`. Panics if there is none (ids come from this pool).
    pub fn get(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    /// How many strings the pool holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the pool holds no string.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every string, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).map(|id| self.get(id as u32))
    }
}

/// Dense ids for strings, in order of first appearance.
#[derive(Debug, Default)]
pub struct Interner {
    pool: StringPool,
    /// Open addressing with linear probing, at most half full: 0 is an empty slot, otherwise
    /// the string's hash in the high 32 bits and its id + 1 in the low 32.
    slots: Vec<u64>,
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    /// The id of `value`, giving it the next id if it is new.
    pub fn id(&mut self, value: &str) -> u32 {
        if let Some(id) = self.get(value) {
            return id;
        }
        if (self.pool.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let hash = hash(value);
        let id = self.pool.push(value);
        let at = self.free_slot(hash);
        self.slots[at] = slot_word(hash, id);
        id
    }

    /// The id of `value` if it was interned.
    pub fn get(&self, value: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let hash = hash(value);
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let word = self.slots[at];
            if word == 0 {
                return None;
            }
            let id = (word as u32).wrapping_sub(1);
            if (word >> 32) == (hash >> 32) && self.pool.get(id) == value {
                return Some(id);
            }
            at = (at + 1) & mask;
        }
    }

    /// How many distinct strings were interned.
    pub fn len(&self) -> usize {
        self.pool.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.pool.is_empty()
    }

    /// The interned strings, by id.
    pub fn into_pool(self) -> StringPool {
        self.pool
    }

    fn free_slot(&self, hash: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        at
    }

    /// Doubles the table (at least 1024 slots) and reinserts every id, hashing it again.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        self.slots = vec![0; size];
        for id in 0..self.pool.len() as u32 {
            let hash = hash(self.pool.get(id));
            let at = self.free_slot(hash);
            self.slots[at] = slot_word(hash, id);
        }
    }
}

fn hash(value: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(value.as_bytes());
    hasher.finish()
}

fn slot_word(hash: u64, id: u32) -> u64 {
    (hash & 0xffff_ffff_0000_0000) | u64::from(id + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_in_order_of_first_appearance() {
        let mut interner = Interner::new();
        let values: Vec<String> = (0..5000).map(|n| format!("key-{}", n % 3000)).collect();
        let ids: Vec<u32> = values.iter().map(|v| interner.id(v)).collect();
        assert_eq!(interner.len(), 3000);
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(*id as usize, n % 3000);
        }
        assert_eq!(interner.get("key-2999"), Some(2999));
        assert_eq!(interner.get("key-3000"), None);
        // The empty string is a value like any other.
        assert_eq!(interner.id(""), 3000);
        assert_eq!(interner.get(""), Some(3000));
        let pool = interner.into_pool();
        assert_eq!(pool.get(17), "key-17");
        assert_eq!(pool.get(3000), "");
        assert_eq!(pool.iter().count(), 3001);
    }

    #[test]
    fn strings_differing_only_late_or_in_length_are_distinct() {
        let mut interner = Interner::new();
        let long = "x".repeat(40);
        let values = [
            format!("{long}a"),
            format!("{long}b"),
            long.clone(),
            format!("{long}\u{e9}"),
            "ü".to_owned(),
        ];
        for (n, value) in values.iter().enumerate() {
            assert_eq!(interner.id(value), n as u32);
        }
        for (n, value) in values.iter().enumerate() {
            assert_eq!(interner.get(value), Some(n as u32));
        }
    }
}
