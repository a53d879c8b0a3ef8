//! [`PatternSet`]: many patterns matched against an event together.
//!
//! Each compiled alternative of each pattern gets an *anchor* when one exists: a field whose
//! allowed values are all exact values or prefixes. Anchors are indexed by field path and value
//! (a hash map per path for exact values, a byte trie for prefixes), so matching an event walks
//! only the indexed paths of the event, looks its values up, and fully checks just the
//! alternatives whose anchor matched. Alternatives without an anchor (only `numeric`,
//! `anything-but`, `exists`, ...) are checked on every event. Among a pattern's possible anchors
//! the least crowded is chosen, which keeps the candidate lists short.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use serde_json::{Map, Value};

use super::EventPattern;
use super::matcher::{Leaf, Matcher, Node, lookup};

/// A fast non-cryptographic hasher (the Fx hash of rustc) for the index's keys.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One alternative of one stored pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AltRef {
    slot: u32,
    alt: u32,
}

/// A value an anchor is indexed under.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Str(Box<str>),
    Num(u64),
    Bool(bool),
    Null,
    Prefix(Box<str>),
}

impl Key {
    /// The index key of an anchor-able matcher, `None` for other matchers.
    fn of(matcher: &Matcher) -> Option<Key> {
        match matcher {
            Matcher::String { value, ip: None } => Some(Key::Str(value.clone())),
            Matcher::Number(n) => Some(Key::Num(number_bits(n.float))),
            Matcher::Bool(b) => Some(Key::Bool(*b)),
            Matcher::Null => Some(Key::Null),
            Matcher::Prefix(p) => Some(Key::Prefix(p.clone())),
            _ => None,
        }
    }

    /// How much matching an event against this key is assumed to cost, besides its bucket.
    fn weight(&self) -> usize {
        match self {
            Key::Str(_) | Key::Num(_) => 1,
            Key::Prefix(p) => 4 + 8usize.saturating_sub(p.len()),
            Key::Bool(_) | Key::Null => 16,
        }
    }
}

/// Numbers equal by value have equal bits here (`-0.0` is `0.0`).
fn number_bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

/// Where an alternative is indexed, to undo it on removal.
#[derive(Debug, Clone)]
struct Anchor {
    path: Vec<Box<str>>,
    keys: Vec<Key>,
    alt: AltRef,
}

#[derive(Debug, Clone)]
struct Slot<Id> {
    id: Id,
    pattern: EventPattern,
    anchors: Vec<Anchor>,
}

/// A byte trie of prefixes.
#[derive(Debug, Clone, Default)]
struct PrefixTrie {
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    children: Vec<(u8, u32)>,
    refs: Vec<AltRef>,
}

impl PrefixTrie {
    fn find(&self, prefix: &[u8]) -> Option<usize> {
        let mut node = 0;
        if self.nodes.is_empty() {
            return None;
        }
        for byte in prefix {
            let (_, next) = self.nodes[node].children.iter().find(|(b, _)| b == byte)?;
            node = *next as usize;
        }
        Some(node)
    }

    fn refs_mut(&mut self, prefix: &[u8]) -> &mut Vec<AltRef> {
        if self.nodes.is_empty() {
            self.nodes.push(TrieNode::default());
        }
        let mut node = 0;
        for &byte in prefix {
            node = match self.nodes[node].children.iter().find(|(b, _)| *b == byte) {
                Some((_, next)) => *next as usize,
                None => {
                    let next = self.nodes.len();
                    self.nodes.push(TrieNode::default());
                    self.nodes[node].children.push((byte, next as u32));
                    next
                }
            };
        }
        &mut self.nodes[node].refs
    }

    #[inline]
    fn probe(&self, value: &str, visit: &mut impl FnMut(AltRef)) {
        let Some(root) = self.nodes.first() else { return };
        root.refs.iter().for_each(|r| visit(*r));
        let mut node = root;
        for byte in value.as_bytes() {
            match node.children.iter().find(|(b, _)| b == byte) {
                Some((_, next)) => node = &self.nodes[*next as usize],
                None => return,
            }
            node.refs.iter().for_each(|r| visit(*r));
        }
    }
}

/// The anchors of one field path.
#[derive(Debug, Clone, Default)]
struct LeafIndex {
    strings: FxMap<Box<str>, Vec<AltRef>>,
    numbers: FxMap<u64, Vec<AltRef>>,
    trues: Vec<AltRef>,
    falses: Vec<AltRef>,
    nulls: Vec<AltRef>,
    prefixes: PrefixTrie,
}

impl LeafIndex {
    fn bucket(&self, key: &Key) -> usize {
        match key {
            Key::Str(s) => self.strings.get(s).map_or(0, Vec::len),
            Key::Num(n) => self.numbers.get(n).map_or(0, Vec::len),
            Key::Bool(true) => self.trues.len(),
            Key::Bool(false) => self.falses.len(),
            Key::Null => self.nulls.len(),
            Key::Prefix(p) => self.prefixes.find(p.as_bytes()).map_or(0, |n| self.prefixes.nodes[n].refs.len()),
        }
    }

    fn bucket_mut(&mut self, key: &Key) -> &mut Vec<AltRef> {
        match key {
            Key::Str(s) => self.strings.entry(s.clone()).or_default(),
            Key::Num(n) => self.numbers.entry(*n).or_default(),
            Key::Bool(true) => &mut self.trues,
            Key::Bool(false) => &mut self.falses,
            Key::Null => &mut self.nulls,
            Key::Prefix(p) => self.prefixes.refs_mut(p.as_bytes()),
        }
    }

    fn remove(&mut self, key: &Key, alt: AltRef) {
        self.bucket_mut(key).retain(|r| *r != alt);
        match key {
            Key::Str(s) if self.strings.get(s).is_some_and(Vec::is_empty) => {
                self.strings.remove(s);
            }
            Key::Num(n) if self.numbers.get(n).is_some_and(Vec::is_empty) => {
                self.numbers.remove(n);
            }
            _ => {}
        }
    }

    #[inline]
    fn probe(&self, scalar: &Value, visit: &mut impl FnMut(AltRef)) {
        match scalar {
            Value::String(s) => {
                if !self.strings.is_empty()
                    && let Some(refs) = self.strings.get(s.as_str())
                {
                    refs.iter().for_each(|r| visit(*r));
                }
                self.prefixes.probe(s, visit);
            }
            Value::Number(n) => {
                if let Some(refs) = n.as_f64().and_then(|x| self.numbers.get(&number_bits(x))) {
                    refs.iter().for_each(|r| visit(*r));
                }
            }
            Value::Bool(true) => self.trues.iter().for_each(|r| visit(*r)),
            Value::Bool(false) => self.falses.iter().for_each(|r| visit(*r)),
            Value::Null => self.nulls.iter().for_each(|r| visit(*r)),
            Value::Array(_) | Value::Object(_) => {}
        }
    }
}

/// The index of anchors by field path.
#[derive(Debug, Clone, Default)]
struct PathIndex {
    children: Vec<(Box<str>, PathIndex)>,
    leaf: Option<Box<LeafIndex>>,
}

impl PathIndex {
    fn get(&self, path: &[Box<str>]) -> Option<&LeafIndex> {
        let mut node = self;
        for step in path {
            node = &node.children.iter().find(|(k, _)| k == step)?.1;
        }
        node.leaf.as_deref()
    }

    fn get_mut(&mut self, path: &[Box<str>]) -> &mut LeafIndex {
        let mut node = self;
        for step in path {
            let at = match node.children.iter().position(|(k, _)| k == step) {
                Some(at) => at,
                None => {
                    node.children.push((step.clone(), PathIndex::default()));
                    node.children.len() - 1
                }
            };
            node = &mut node.children[at].1;
        }
        node.leaf.get_or_insert_with(Box::default)
    }

    /// Visits the anchors matched by `value`, the event's value at this node's path.
    fn probe(&self, value: &Value, visit: &mut impl FnMut(AltRef)) {
        if let Some(leaf) = &self.leaf {
            for_each_scalar(value, &mut |scalar| leaf.probe(scalar, visit));
        }
        if !self.children.is_empty() {
            for_each_object(value, &mut |map| {
                for (key, child) in &self.children {
                    if let Some(v) = lookup(map, key) {
                        child.probe(v, visit);
                    }
                }
            });
        }
    }
}

fn for_each_scalar(value: &Value, f: &mut impl FnMut(&Value)) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| for_each_scalar(item, f)),
        Value::Object(_) => {}
        scalar => f(scalar),
    }
}

fn for_each_object(value: &Value, f: &mut impl FnMut(&Map<String, Value>)) {
    match value {
        Value::Object(map) => f(map),
        Value::Array(items) => items.iter().for_each(|item| for_each_object(item, f)),
        _ => {}
    }
}

/// The pattern slots already reported for one event.
struct Seen {
    list: Vec<u32>,
    bits: Vec<u64>,
}

impl Seen {
    /// Records `slot`; false when it was already recorded.
    fn insert(&mut self, slot: u32, slots: usize) -> bool {
        if self.bits.is_empty() {
            if self.list.contains(&slot) {
                return false;
            }
            self.list.push(slot);
            if self.list.len() > 16 {
                self.bits = vec![0; slots.div_ceil(64)];
                for &s in &self.list {
                    self.bits[s as usize / 64] |= 1 << (s % 64);
                }
            }
            return true;
        }
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        let fresh = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        fresh
    }

    fn contains(&self, slot: u32) -> bool {
        if self.bits.is_empty() {
            self.list.contains(&slot)
        } else {
            self.bits[slot as usize / 64] & (1 << (slot % 64)) != 0
        }
    }
}

/// Many patterns matched together: [`matching`](PatternSet::matching) returns the ids of the
/// patterns an event matches, checking only the patterns whose indexed exact or prefix values
/// occur in the event (plus those without any such value).
#[derive(Clone)]
pub struct PatternSet<Id> {
    slots: Vec<Option<Slot<Id>>>,
    free: Vec<u32>,
    by_id: HashMap<Id, u32>,
    index: PathIndex,
    unindexed: Vec<AltRef>,
}

impl<Id> Default for PatternSet<Id> {
    fn default() -> Self {
        PatternSet { slots: Vec::new(), free: Vec::new(), by_id: HashMap::new(), index: PathIndex::default(), unindexed: Vec::new() }
    }
}

impl<Id: std::fmt::Debug> std::fmt::Debug for PatternSet<Id> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.slots.iter().flatten().map(|s| (&s.id, s.pattern.as_json()))).finish()
    }
}

impl<Id: Clone + Eq + Hash> PatternSet<Id> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of patterns.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when the set holds no pattern.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// True when a pattern is stored under `id`.
    pub fn contains(&self, id: &Id) -> bool {
        self.by_id.contains_key(id)
    }

    /// The pattern stored under `id`.
    pub fn get(&self, id: &Id) -> Option<&EventPattern> {
        let slot = *self.by_id.get(id)?;
        self.slots.get(slot as usize)?.as_ref().map(|s| &s.pattern)
    }

    /// The stored ids and patterns, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Id, &EventPattern)> {
        self.slots.iter().flatten().map(|s| (&s.id, &s.pattern))
    }

    /// Adds `pattern` under `id`, replacing (and returning) the pattern stored under it before.
    pub fn add(&mut self, id: Id, pattern: EventPattern) -> Option<EventPattern> {
        let previous = self.remove(&id);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        let mut anchors = Vec::new();
        for (i, node) in pattern.alternatives().iter().enumerate() {
            let alt = AltRef { slot, alt: i as u32 };
            match self.choose_anchor(node) {
                Some((path, keys)) => {
                    let leaf = self.index.get_mut(&path);
                    for key in &keys {
                        let bucket = leaf.bucket_mut(key);
                        if !bucket.contains(&alt) {
                            bucket.push(alt);
                        }
                    }
                    anchors.push(Anchor { path, keys, alt });
                }
                None => self.unindexed.push(alt),
            }
        }
        self.by_id.insert(id.clone(), slot);
        self.slots[slot as usize] = Some(Slot { id, pattern, anchors });
        previous
    }

    /// Removes the pattern stored under `id`, returning it.
    pub fn remove(&mut self, id: &Id) -> Option<EventPattern> {
        let slot = self.by_id.remove(id)?;
        let removed = self.slots.get_mut(slot as usize)?.take()?;
        for anchor in &removed.anchors {
            let leaf = self.index.get_mut(&anchor.path);
            for key in &anchor.keys {
                leaf.remove(key, anchor.alt);
            }
        }
        self.unindexed.retain(|r| r.slot != slot);
        self.free.push(slot);
        Some(removed.pattern)
    }

    /// The ids of the patterns `event` matches, in no particular order.
    pub fn matching(&self, event: &Value) -> Vec<Id> {
        let mut ids = Vec::new();
        self.for_each_match(event, |id| ids.push(id.clone()));
        ids
    }

    /// Calls `f` with the id of each pattern `event` matches (once per pattern).
    pub fn for_each_match(&self, event: &Value, mut f: impl FnMut(&Id)) {
        let mut seen = Seen { list: Vec::new(), bits: Vec::new() };
        let slots = self.slots.len();
        let mut visit = |r: AltRef| {
            if seen.contains(r.slot) {
                return;
            }
            let Some(Some(slot)) = self.slots.get(r.slot as usize) else { return };
            let matched = slot
                .pattern
                .alternatives()
                .get(r.alt as usize)
                .is_some_and(|alt| alt.matches_value(Some(event)));
            if matched && seen.insert(r.slot, slots) {
                f(&slot.id);
            }
        };
        self.index.probe(event, &mut visit);
        self.unindexed.iter().for_each(|r| visit(*r));
    }

    /// The least crowded indexable field of `node`: its path and index keys.
    fn choose_anchor(&self, node: &Node) -> Option<(Vec<Box<str>>, Vec<Key>)> {
        let mut best: Option<(usize, Vec<Box<str>>, Vec<Key>)> = None;
        let mut path = Vec::new();
        visit_leaves(node, &mut path, &mut |path, leaf| {
            let Some(keys) = anchor_keys(leaf) else { return };
            let index = self.index.get(path);
            let cost: usize = keys.iter().map(|k| k.weight() + index.map_or(0, |i| i.bucket(k))).sum();
            if best.as_ref().is_none_or(|(c, _, _)| cost < *c) {
                best = Some((cost, path.to_vec(), keys));
            }
        });
        best.map(|(_, path, keys)| (path, keys))
    }
}

/// The index keys of a leaf whose every allowed value is indexable (exact or prefix, no
/// `exists`), `None` otherwise.
fn anchor_keys(leaf: &Leaf) -> Option<Vec<Key>> {
    if leaf.exists_true || leaf.exists_false || leaf.values.is_empty() {
        return None;
    }
    let mut keys: Vec<Key> = Vec::with_capacity(leaf.values.len());
    for matcher in &leaf.values {
        let key = Key::of(matcher)?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Some(keys)
}

fn visit_leaves(node: &Node, path: &mut Vec<Box<str>>, f: &mut impl FnMut(&[Box<str>], &Leaf)) {
    for field in &node.fields {
        path.push(field.key.clone());
        if let Some(leaf) = &field.leaf {
            f(path, leaf);
        }
        if let Some(object) = &field.object {
            visit_leaves(object, path, f);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pattern(v: Value) -> EventPattern {
        EventPattern::compile(&v).unwrap()
    }

    fn sorted(mut v: Vec<&'static str>) -> Vec<&'static str> {
        v.sort();
        v
    }

    #[test]
    fn indexes_exact_and_prefix_values() {
        let mut set = PatternSet::new();
        set.add("ec2", pattern(json!({"source": ["aws.ec2"]})));
        set.add("aws", pattern(json!({"source": [{"prefix": "aws."}]})));
        set.add("big", pattern(json!({"detail": {"n": [{"numeric": [">", 10]}]}})));
        set.add("num", pattern(json!({"detail": {"n": [20, 30.0]}})));
        set.add("arr", pattern(json!({"detail": {"items": {"sku": ["x"]}}})));
        assert_eq!(set.len(), 5);
        let event = json!({"source": "aws.ec2", "detail": {"n": 30, "items": [{"sku": "y"}, {"sku": "x"}]}});
        assert_eq!(sorted(set.matching(&event)), vec!["arr", "aws", "big", "ec2", "num"]);
        assert_eq!(set.matching(&json!({"source": "aws.s3"})), vec!["aws"]);
        assert!(set.matching(&json!({"source": "other"})).is_empty());
    }

    #[test]
    fn add_replaces_and_remove_unindexes() {
        let mut set = PatternSet::new();
        assert!(set.add(1, pattern(json!({"a": ["x"]}))).is_none());
        assert!(set.add(1, pattern(json!({"a": ["y"]}))).is_some());
        assert_eq!(set.len(), 1);
        assert!(set.matching(&json!({"a": "x"})).is_empty());
        assert_eq!(set.matching(&json!({"a": "y"})), vec![1]);
        assert!(set.remove(&1).is_some());
        assert!(set.remove(&1).is_none());
        assert!(set.is_empty());
        assert!(set.matching(&json!({"a": "y"})).is_empty());
        set.add(2, pattern(json!({"a": [{"prefix": "y"}]})));
        assert_eq!(set.matching(&json!({"a": "yes"})), vec![2]);
    }

    #[test]
    fn or_alternatives_report_once() {
        let mut set = PatternSet::new();
        set.add("p", pattern(json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]})));
        assert_eq!(set.matching(&json!({"a": "1", "b": "2"})), vec!["p"]);
    }

    #[test]
    fn many_matches_use_the_bitset() {
        let mut set = PatternSet::new();
        for i in 0..100 {
            set.add(i, pattern(json!({"a": ["x"], "b": [i]})));
            set.add(1000 + i, pattern(json!({"a": [{"prefix": "x"}]})));
        }
        assert_eq!(set.matching(&json!({"a": "x", "b": 5})).len(), 101);
    }
}
