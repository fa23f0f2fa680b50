//! Who is who: email normalization and hashing, the identity key types, and the union–find
//! graph that merges keys known to belong to one person.
//!
//! Raw emails never need to leave this module: ingest calls [`email_sha256`] (or
//! [`identity_key_from_column`] for a CSV column) and stores only the hash, as DESIGN §3 asks.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::{CoreError, Result};
use std::collections::HashMap;

/// Normalizes an email address for matching: surrounding whitespace trimmed, lowercased.
///
/// Returns `None` for anything that is not plausibly an address: no `@`, nothing before or
/// after the last `@`, or whitespace inside. Provider-specific rewriting (dropping dots or
/// `+tags` for Gmail) is deliberately not done: on other providers those are different
/// mailboxes, and merging two people is worse than missing one join.
pub fn normalize_email(s: &str) -> Option<String> {
    let trimmed = s.trim();
    let (local, domain) = trimmed.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || trimmed.chars().any(char::is_whitespace) {
        return None;
    }
    Some(trimmed.to_lowercase())
}

/// The lowercase hex SHA-256 of the normalized email, or `None` if `s` is not an email
/// (see [`normalize_email`]). `" Ann@Example.com "` and `"ann@example.com"` hash alike.
pub fn email_sha256(s: &str) -> Option<String> {
    let normalized = normalize_email(s)?;
    Some(hex::encode(Sha256::digest(normalized.as_bytes())))
}

/// The kinds of identity key a touch, order or link can carry (the `*_id` / `email_sha256`
/// columns of touches and orders, and `identity_links.key_type_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum KeyType {
    /// The attribution platform's own person id.
    PersonId,
    /// A cookie or anonymous visitor id.
    AnonymousId,
    /// The SHA-256 of a normalized email (never the email itself).
    EmailSha256,
    /// A shop or payment processor's customer id.
    CustomerId,
    /// A mobile device or advertising id.
    DeviceId,
}

impl KeyType {
    /// All key types, in declaration order.
    pub const ALL: [KeyType; 5] = [
        KeyType::PersonId,
        KeyType::AnonymousId,
        KeyType::EmailSha256,
        KeyType::CustomerId,
        KeyType::DeviceId,
    ];

    /// The stored name: `person_id`, `anonymous_id`, `email_sha256`, `customer_id`, `device_id`.
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyType::PersonId => "person_id",
            KeyType::AnonymousId => "anonymous_id",
            KeyType::EmailSha256 => "email_sha256",
            KeyType::CustomerId => "customer_id",
            KeyType::DeviceId => "device_id",
        }
    }

    /// Parses a stored name (exactly as [`KeyType::as_str`] writes it, ignoring case).
    pub fn parse(name: &str) -> Result<KeyType> {
        let lowered = name.trim().to_ascii_lowercase();
        KeyType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == lowered)
            .ok_or_else(|| CoreError::UnknownKeyType {
                name: name.to_owned(),
            })
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = CoreError;

    fn from_str(s: &str) -> Result<KeyType> {
        KeyType::parse(s)
    }
}

/// Turns one CSV identity column into a stored key.
///
/// - `email`: the value is normalized and hashed and becomes an [`KeyType::EmailSha256`] key;
///   the raw address is not returned. A value that is not an email is an error.
/// - `email_sha256`: must be 64 hex digits; it is lowercased.
/// - any other key type name: the value is trimmed and kept as is (ids are case-sensitive).
///
/// An empty (or all-whitespace) value is `Ok(None)`: the row simply does not carry that key.
/// An unknown column name is [`CoreError::UnknownKeyType`].
pub fn identity_key_from_column(column: &str, value: &str) -> Result<Option<(KeyType, String)>> {
    let column_name = column.trim().to_ascii_lowercase();
    let value = value.trim();
    if column_name == "email" {
        if value.is_empty() {
            return Ok(None);
        }
        return email_sha256(value)
            .map(|hash| Some((KeyType::EmailSha256, hash)))
            .ok_or(CoreError::InvalidIdentityKey {
                key: "email".to_owned(),
                reason: "not an email address",
            });
    }
    let key_type = KeyType::parse(&column_name)?;
    if value.is_empty() {
        return Ok(None);
    }
    if key_type == KeyType::EmailSha256 {
        if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::InvalidIdentityKey {
                key: "email_sha256".to_owned(),
                reason: "expected 64 hexadecimal digits (a SHA-256 of the normalized email)",
            });
        }
        return Ok(Some((key_type, value.to_ascii_lowercase())));
    }
    Ok(Some((key_type, value.to_owned())))
}

/// A union–find forest over dense `u32` node ids, with path compression and union by rank, so a
/// sequence of m operations over n nodes costs O(m · α(n)) — effectively linear.
#[derive(Clone, Debug, Default)]
pub struct DisjointSet {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl DisjointSet {
    /// An empty forest.
    pub fn new() -> DisjointSet {
        DisjointSet::default()
    }

    /// An empty forest with room for `capacity` nodes.
    pub fn with_capacity(capacity: usize) -> DisjointSet {
        DisjointSet {
            parent: Vec::with_capacity(capacity),
            rank: Vec::with_capacity(capacity),
        }
    }

    /// Adds a node in a set of its own and returns its id (ids are handed out 0, 1, 2, …).
    ///
    /// # Panics
    /// If more than `u32::MAX` nodes are created.
    pub fn make_set(&mut self) -> u32 {
        let id = u32::try_from(self.parent.len()).expect("more than u32::MAX identity nodes");
        self.parent.push(id);
        self.rank.push(0);
        id
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The representative of `node`'s set, compressing the path so later finds are O(1).
    pub fn find(&mut self, node: u32) -> u32 {
        let mut root = node;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        // Second pass: point every node on the path straight at the root.
        let mut current = node;
        while self.parent[current as usize] != root {
            let next = self.parent[current as usize];
            self.parent[current as usize] = root;
            current = next;
        }
        root
    }

    /// Merges the sets of `a` and `b` and returns the representative of the merged set.
    pub fn union(&mut self, a: u32, b: u32) -> u32 {
        let root_a = self.find(a);
        let root_b = self.find(b);
        if root_a == root_b {
            return root_a;
        }
        // Hang the shallower tree under the deeper one so trees stay O(log n) deep.
        let (rank_a, rank_b) = (self.rank[root_a as usize], self.rank[root_b as usize]);
        if rank_a < rank_b {
            self.parent[root_a as usize] = root_b;
            root_b
        } else {
            self.parent[root_b as usize] = root_a;
            if rank_a == rank_b {
                self.rank[root_a as usize] += 1;
            }
            root_a
        }
    }
}

/// A node of the [`IdentityGraph`]: one interned `(KeyType, value)` key, or an anonymous node.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct KeyId(pub u32);

/// The identity graph: every distinct `(KeyType, value)` key interned to a [`KeyId`], and a
/// [`DisjointSet`] over them in which keys seen together (on one touch, one order, or one
/// identity link) are merged. A connected component is one person.
///
/// Interning stores each key string once; lookups borrow `&str`, so building the graph over
/// millions of touches allocates only for keys not seen before.
#[derive(Default)]
pub struct IdentityGraph {
    /// One map per key type, so a lookup needs no tuple key and no allocation.
    index: [HashMap<Arc<str>, u32>; 5],
    /// The key of each node; `None` for anonymous nodes.
    keys: Vec<Option<(KeyType, Arc<str>)>>,
    sets: DisjointSet,
}

impl IdentityGraph {
    /// An empty graph.
    pub fn new() -> IdentityGraph {
        IdentityGraph::default()
    }

    /// An empty graph with room for about `keys` keys.
    pub fn with_capacity(keys: usize) -> IdentityGraph {
        let mut graph = IdentityGraph {
            keys: Vec::with_capacity(keys),
            sets: DisjointSet::with_capacity(keys),
            ..IdentityGraph::default()
        };
        // Most keys are anonymous ids and device ids; a rough even spread is good enough.
        for map in &mut graph.index {
            map.reserve(keys / 5);
        }
        graph
    }

    /// The node of `(key_type, value)`, creating it (in a set of its own) if it is new.
    pub fn intern(&mut self, key_type: KeyType, value: &str) -> KeyId {
        if let Some(&id) = self.index[key_type.slot()].get(value) {
            return KeyId(id);
        }
        let id = self.sets.make_set();
        let shared: Arc<str> = Arc::from(value);
        self.index[key_type.slot()].insert(Arc::clone(&shared), id);
        self.keys.push(Some((key_type, shared)));
        KeyId(id)
    }

    /// Adds a node that carries no key, for a record that must be a person of its own even
    /// though it has no identity key (a touch known only by its click id, say).
    pub fn add_anonymous_node(&mut self) -> KeyId {
        let id = self.sets.make_set();
        self.keys.push(None);
        KeyId(id)
    }

    /// The node of `(key_type, value)` if that key has been interned.
    pub fn key_id(&self, key_type: KeyType, value: &str) -> Option<KeyId> {
        self.index[key_type.slot()].get(value).map(|&id| KeyId(id))
    }

    /// The key of a node, or `None` for an anonymous node.
    pub fn key(&self, id: KeyId) -> Option<(KeyType, &str)> {
        self.keys
            .get(id.0 as usize)?
            .as_ref()
            .map(|(kind, value)| (*kind, &**value))
    }

    /// Records that two nodes belong to the same person.
    pub fn union(&mut self, a: KeyId, b: KeyId) {
        self.sets.union(a.0, b.0);
    }

    /// Interns both keys and records that they belong to the same person (an identity link).
    pub fn link(&mut self, a: (KeyType, &str), b: (KeyType, &str)) {
        let a = self.intern(a.0, a.1);
        let b = self.intern(b.0, b.1);
        self.union(a, b);
    }

    /// The representative node of `id`'s person. Two nodes belong to the same person exactly
    /// when their representatives are equal.
    pub fn person_of(&mut self, id: KeyId) -> KeyId {
        KeyId(self.sets.find(id.0))
    }

    /// Whether two nodes belong to the same person.
    pub fn same_person(&mut self, a: KeyId, b: KeyId) -> bool {
        self.sets.find(a.0) == self.sets.find(b.0)
    }

    /// Every key of the person `id` belongs to (anonymous nodes left out), in interning order.
    /// This scans the whole graph; it is meant for erasure and inspection, not hot loops.
    pub fn keys_of_person(&mut self, id: KeyId) -> Vec<(KeyType, String)> {
        let root = self.sets.find(id.0);
        let mut found = Vec::new();
        for node in 0..self.keys.len() as u32 {
            if self.sets.find(node) != root {
                continue;
            }
            if let Some((kind, value)) = &self.keys[node as usize] {
                found.push((*kind, value.to_string()));
            }
        }
        found
    }

    /// The number of nodes (keys plus anonymous nodes).
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalize_and_hash() {
        assert_eq!(
            normalize_email("  Ann.Lee@Example.COM "),
            Some("ann.lee@example.com".to_owned())
        );
        assert_eq!(
            normalize_email("ann+promo@example.com"),
            Some("ann+promo@example.com".to_owned())
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann lee@example.com",
            "   ",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
        // sha256("test@example.com"), checked with `printf %s test@example.com | sha256sum`.
        let expected = "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b";
        assert_eq!(email_sha256("test@example.com").unwrap(), expected);
        assert_eq!(email_sha256(" TEST@Example.com\n").unwrap(), expected);
        assert_eq!(email_sha256("not an email"), None);
    }

    #[test]
    fn key_types_round_trip() {
        for kind in KeyType::ALL {
            assert_eq!(KeyType::parse(kind.as_str()).unwrap(), kind);
        }
        assert_eq!(KeyType::parse("Device_ID").unwrap(), KeyType::DeviceId);
        assert!(matches!(
            KeyType::parse("email"),
            Err(CoreError::UnknownKeyType { .. })
        ));
    }

    #[test]
    fn csv_columns_become_keys() {
        let (kind, value) = identity_key_from_column("email", "Test@Example.com")
            .unwrap()
            .unwrap();
        assert_eq!(kind, KeyType::EmailSha256);
        assert_eq!(
            value,
            "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
        );
        assert_eq!(identity_key_from_column("email", "  ").unwrap(), None);
        let err = identity_key_from_column("email", "ann at example").unwrap_err();
        assert_eq!(err.to_string(), "invalid email value: not an email address");
        assert_eq!(
            identity_key_from_column("customer_id", " cus_ABC ").unwrap(),
            Some((KeyType::CustomerId, "cus_ABC".to_owned()))
        );
        let upper = "973DFE463EC85785F5F95AF5BA3906EEDB2D931C24E69824A89EA65DBA4E813B";
        assert_eq!(
            identity_key_from_column("email_sha256", upper).unwrap(),
            Some((KeyType::EmailSha256, upper.to_ascii_lowercase()))
        );
        assert!(matches!(
            identity_key_from_column("email_sha256", "abc"),
            Err(CoreError::InvalidIdentityKey { .. })
        ));
        assert!(matches!(
            identity_key_from_column("phone", "123"),
            Err(CoreError::UnknownKeyType { .. })
        ));
    }

    #[test]
    fn graph_merges_keys_transitively() {
        let mut graph = IdentityGraph::new();
        let cookie = graph.intern(KeyType::AnonymousId, "cookie-1");
        let email = graph.intern(KeyType::EmailSha256, "e1");
        let customer = graph.intern(KeyType::CustomerId, "cus_1");
        let other = graph.intern(KeyType::AnonymousId, "cookie-2");
        // The same value under another key type is a different key.
        let device_named_like_cookie = graph.intern(KeyType::DeviceId, "cookie-1");
        assert_eq!(graph.intern(KeyType::AnonymousId, "cookie-1"), cookie);
        assert_ne!(device_named_like_cookie, cookie);
        assert_eq!(graph.len(), 5);

        assert!(!graph.same_person(cookie, customer));
        graph.union(cookie, email);
        graph.link((KeyType::EmailSha256, "e1"), (KeyType::CustomerId, "cus_1"));
        assert!(graph.same_person(cookie, customer));
        assert!(!graph.same_person(cookie, other));
        assert!(!graph.same_person(cookie, device_named_like_cookie));
        assert_eq!(graph.person_of(customer), graph.person_of(cookie));
        assert_eq!(graph.key(customer), Some((KeyType::CustomerId, "cus_1")));
        assert_eq!(graph.key_id(KeyType::CustomerId, "cus_1"), Some(customer));
        assert_eq!(graph.key_id(KeyType::CustomerId, "cus_2"), None);
        let anonymous = graph.add_anonymous_node();
        assert_eq!(graph.key(anonymous), None);
        graph.union(anonymous, other);
        assert!(graph.same_person(anonymous, other));

        let mut keys = graph.keys_of_person(email);
        keys.sort();
        assert_eq!(
            keys,
            vec![
                (KeyType::AnonymousId, "cookie-1".to_owned()),
                (KeyType::EmailSha256, "e1".to_owned()),
                (KeyType::CustomerId, "cus_1".to_owned()),
            ]
        );
    }

    #[test]
    fn disjoint_set_stays_shallow_on_a_long_chain() {
        let mut sets = DisjointSet::new();
        let nodes: Vec<u32> = (0..100_000).map(|_| sets.make_set()).collect();
        for pair in nodes.windows(2) {
            sets.union(pair[0], pair[1]);
        }
        let root = sets.find(0);
        assert!(nodes.iter().all(|&n| sets.find(n) == root));
        // Union by rank keeps the rank logarithmic.
        assert!(sets.rank.iter().all(|&r| r <= 17));
    }
}
