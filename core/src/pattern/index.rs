//! The index behind [`PatternSet`](super::PatternSet).
//!
//! Every field of a pattern alternative whose allowed values are all exact values (or all
//! prefixes of one length) is a *component*. The alternative is filed under its *signature* (its
//! list of components) and the hash of its values, all components combined: `{"source":
//! ["shop"], "detail": {"state": ["paid"]}}` is filed under `(source, detail.state)` and
//! `hash("shop", "paid")`. A signature is entered through its most selective component: to
//! match an event, the index reads the event's values at each entry path and looks their hashes
//! up; only for a known value does it read the signature's other paths and look the combined hash
//! up. Each event path is read at most once per event, and only when needed. The candidates are
//! then (but for hash collisions and array consistency, which the full check settles) the
//! alternatives that match on all their indexed fields. Alternatives with no indexable field are
//! checked on every event.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::matcher::{Json, Leaf, MAX_EVENT_DEPTH, Matcher, Node, Scalar};

/// A fast non-cryptographic hasher (rustc's Fx hash).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
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
        let mut word = (rest.len() as u64) << 59;
        for (i, byte) in rest.iter().enumerate() {
            word ^= u64::from(*byte) << (8 * i);
        }
        self.add(word);
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

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One alternative of one stored pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AltRef {
    pub(crate) slot: u32,
    pub(crate) alt: u32,
}

/// How an indexed field's values are compared: whole values, or their first `n` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Exact,
    Prefix(u32),
}

/// One indexed field of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Component {
    path: u32,
    kind: Kind,
}

/// The most components a signature has, and the most value combinations an alternative is
/// filed under (fields with many allowed values are left to the full check beyond that).
const MAX_COMPONENTS: usize = 4;
const MAX_COMBINATIONS: usize = 64;
/// Past this many value combinations in one event, a signature's alternatives are all checked.
const MAX_EVENT_COMBINATIONS: usize = 4096;

fn number_bits(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.add(1);
    h.write(bytes);
    h.finish()
}

fn hash_word(tag: u64, word: u64) -> u64 {
    let mut h = FxHasher::default();
    h.add(tag);
    h.add(word);
    h.finish()
}

/// The hash of an event scalar under `kind`, `None` when it cannot match such a component.
#[inline]
fn value_hash(value: impl Json, kind: Kind) -> Option<u64> {
    match (kind, value.scalar()?) {
        (Kind::Exact, Scalar::String(s)) => Some(hash_bytes(s.as_bytes())),
        (Kind::Exact, Scalar::Number(n)) => n.as_f64().map(|x| hash_word(2, number_bits(x))),
        (Kind::Exact, Scalar::Bool(b)) => Some(hash_word(3, u64::from(b))),
        (Kind::Exact, Scalar::Null) => Some(hash_word(4, 0)),
        (Kind::Prefix(n), Scalar::String(s)) => s.as_bytes().get(..n as usize).map(hash_bytes),
        _ => None,
    }
}

/// The kind and value hashes of a leaf that can be indexed: no `exists`, and only exact values
/// (IP literals excluded: they also equal other spellings) or only prefixes of one length.
fn leaf_component(leaf: &Leaf) -> Option<(Kind, Vec<u64>)> {
    if leaf.exists_true || leaf.exists_false || leaf.values.is_empty() {
        return None;
    }
    let kind = match &leaf.values[0] {
        Matcher::Prefix(p) => Kind::Prefix(u32::try_from(p.len()).ok()?),
        _ => Kind::Exact,
    };
    let mut hashes = Vec::with_capacity(leaf.values.len());
    for matcher in &leaf.values {
        let hash = match (kind, matcher) {
            (Kind::Exact, Matcher::String { value, ip: None }) => hash_bytes(value.as_bytes()),
            (Kind::Exact, Matcher::Number(n)) => hash_word(2, number_bits(n.float)),
            (Kind::Exact, Matcher::Bool(b)) => hash_word(3, u64::from(*b)),
            (Kind::Exact, Matcher::Null) => hash_word(4, 0),
            (Kind::Prefix(n), Matcher::Prefix(p)) if p.len() == n as usize => {
                hash_bytes(p.as_bytes())
            }
            _ => return None,
        };
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }
    Some((kind, hashes))
}

fn combine(acc: u64, component: u64) -> u64 {
    hash_word(acc, component)
}

#[derive(Debug, Clone, Default)]
struct Signature {
    /// The entry component first, then the others in (path, kind) order.
    components: Vec<Component>,
    table: FxMap<u64, Vec<AltRef>>,
}

/// The signatures entered through one component: by the hash of that component's value.
#[derive(Debug, Clone)]
struct Entry {
    component: Component,
    /// Signatures having each first-component value, with how many alternatives use it.
    keys: FxMap<u64, Vec<(u32, u32)>>,
}

/// Where an alternative was filed, to undo it.
#[derive(Debug, Clone)]
pub(crate) enum Filed {
    Signature {
        signature: u32,
        first_keys: Vec<u64>,
        keys: Vec<u64>,
        alt: AltRef,
    },
    Unindexed(AltRef),
}

/// The index: signatures grouped by entry component, and the alternatives without an
/// indexable field.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Per path id, the field names leading to it.
    paths: Vec<Vec<Box<str>>>,
    path_ids: FxMap<Vec<Box<str>>, u32>,
    signatures: Vec<Signature>,
    by_components: FxMap<Vec<Component>, u32>,
    entries: Vec<Entry>,
    entry_of: FxMap<Component, u32>,
    unindexed: Vec<AltRef>,
}

/// A list that keeps its first `N` elements in place (no allocation for a typical event).
struct List<T, const N: usize> {
    inline: [T; N],
    len: usize,
    /// All the elements once there are more than `N`.
    spilled: Vec<T>,
}

impl<T: Copy, const N: usize> List<T, N> {
    /// An empty list; `filler` only initializes the unused places.
    fn new(filler: T) -> Self {
        List {
            inline: [filler; N],
            len: 0,
            spilled: Vec::new(),
        }
    }

    /// Appends `value`.
    #[inline]
    fn push(&mut self, value: T) {
        if self.len < N {
            self.inline[self.len] = value;
        } else {
            if self.len == N {
                self.spilled.extend_from_slice(&self.inline);
            }
            self.spilled.push(value);
        }
        self.len += 1;
    }

    /// The elements, in order.
    #[inline]
    fn as_slice(&self) -> &[T] {
        if self.len <= N {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }
}

/// An event being matched: its values at the paths read so far.
struct EventValues<J> {
    event: J,
    values: List<J, 16>,
    /// (path id, start, end) into `values`.
    resolved: List<(u32, u32, u32), 8>,
}

impl<J: Json> EventValues<J> {
    /// The event's scalars at path `id` (`steps`), as a range of `values`; each path is read
    /// once per event.
    fn resolve(&mut self, id: u32, steps: &[Box<str>]) -> (usize, usize) {
        if let Some(&(_, start, end)) = self.resolved.as_slice().iter().find(|(p, _, _)| *p == id) {
            return (start as usize, end as usize);
        }
        let start = self.values.len;
        collect(self.event, steps, 0, &mut self.values);
        let end = self.values.len;
        self.resolved.push((id, start as u32, end as u32));
        (start, end)
    }
}

/// Appends the scalars at `steps` below `value` (arrays flattened at every level), `value`
/// being at `depth` in the event; like the matcher, nothing deeper than [`MAX_EVENT_DEPTH`] is
/// looked at.
fn collect<J: Json, const N: usize>(
    value: J,
    steps: &[Box<str>],
    depth: usize,
    out: &mut List<J, N>,
) {
    if depth >= MAX_EVENT_DEPTH {
        if steps.is_empty() && value.scalar().is_some() {
            out.push(value);
        }
        return;
    }
    match steps.split_first() {
        None => for_each_scalar(value, depth, &mut |scalar| out.push(scalar)),
        Some((step, rest)) => {
            if let Some(v) = value.get(step) {
                collect(v, rest, depth + 1, out);
            } else if let Some(items) = value.items() {
                items.for_each(|item| collect(item, steps, depth + 1, out));
            }
        }
    }
}

impl Index {
    /// Files `alt` (the compiled alternative `node`).
    pub(crate) fn add(&mut self, node: &Node, alt: AltRef) -> Filed {
        let mut leaves = Vec::new();
        let mut path = Vec::new();
        visit_leaves(node, &mut path, &mut |path, leaf| {
            if let Some((kind, hashes)) = leaf_component(leaf) {
                leaves.push((path.to_vec(), kind, hashes));
            }
        });
        // The entry component comes first: fewest values, exact before prefix, longer prefix,
        // shallower path (cheaper to read). Keep the combinations bounded.
        leaves.sort_by_key(|(path, kind, hashes)| {
            let prefix = match kind {
                Kind::Exact => 0,
                Kind::Prefix(n) => 1_000_000 - *n as usize,
            };
            (hashes.len(), prefix, path.len())
        });
        leaves.truncate(MAX_COMPONENTS);
        while leaves
            .iter()
            .try_fold(1usize, |product, (_, _, h)| product.checked_mul(h.len()))
            .is_none_or(|product| product > MAX_COMBINATIONS)
        {
            leaves.pop();
        }
        if leaves.is_empty() {
            self.unindexed.push(alt);
            return Filed::Unindexed(alt);
        }
        let mut parts: Vec<(Component, Vec<u64>)> = leaves
            .into_iter()
            .map(|(path, kind, hashes)| {
                (
                    Component {
                        path: self.path_id(path),
                        kind,
                    },
                    hashes,
                )
            })
            .collect();
        parts[1..].sort_by_key(|(c, _)| *c);
        let components: Vec<Component> = parts.iter().map(|(c, _)| *c).collect();
        let signature = match self.by_components.get(&components) {
            Some(&s) => s,
            None => {
                let s = self.signatures.len() as u32;
                self.by_components.insert(components.clone(), s);
                self.signatures.push(Signature {
                    components,
                    table: FxMap::default(),
                });
                s
            }
        };
        let first = parts[0].0;
        let entry = match self.entry_of.get(&first) {
            Some(&e) => e as usize,
            None => {
                self.entry_of.insert(first, self.entries.len() as u32);
                self.entries.push(Entry {
                    component: first,
                    keys: FxMap::default(),
                });
                self.entries.len() - 1
            }
        };
        let first_keys = parts[0].1.clone();
        for key in &first_keys {
            let sigs = self.entries[entry].keys.entry(*key).or_default();
            match sigs.iter_mut().find(|(s, _)| *s == signature) {
                Some((_, count)) => *count += 1,
                None => sigs.push((signature, 1)),
            }
        }
        let mut keys = vec![0u64];
        for (_, hashes) in &parts {
            keys = keys
                .iter()
                .flat_map(|k| hashes.iter().map(move |h| combine(*k, *h)))
                .collect();
        }
        keys.sort_unstable();
        keys.dedup();
        let table = &mut self.signatures[signature as usize].table;
        for key in &keys {
            table.entry(*key).or_default().push(alt);
        }
        Filed::Signature {
            signature,
            first_keys,
            keys,
            alt,
        }
    }

    /// Undoes [`add`](Index::add).
    pub(crate) fn remove(&mut self, filed: &Filed) {
        match filed {
            Filed::Unindexed(alt) => self.unindexed.retain(|r| r != alt),
            Filed::Signature {
                signature,
                first_keys,
                keys,
                alt,
            } => {
                let Some(sig) = self.signatures.get_mut(*signature as usize) else {
                    return;
                };
                for key in keys {
                    if let Some(bucket) = sig.table.get_mut(key) {
                        bucket.retain(|r| r != alt);
                        if bucket.is_empty() {
                            sig.table.remove(key);
                        }
                    }
                }
                let Some(&entry) = sig.components.first().and_then(|c| self.entry_of.get(c)) else {
                    return;
                };
                let keys_of_entry = &mut self.entries[entry as usize].keys;
                for key in first_keys {
                    if let Some(sigs) = keys_of_entry.get_mut(key) {
                        for (s, count) in sigs.iter_mut() {
                            if s == signature {
                                *count -= 1;
                            }
                        }
                        sigs.retain(|(_, count)| *count > 0);
                        if sigs.is_empty() {
                            keys_of_entry.remove(key);
                        }
                    }
                }
            }
        }
    }

    /// The path id of a field path, creating it.
    fn path_id(&mut self, path: Vec<Box<str>>) -> u32 {
        if let Some(&id) = self.path_ids.get(&path) {
            return id;
        }
        let id = self.paths.len() as u32;
        self.paths.push(path.clone());
        self.path_ids.insert(path, id);
        id
    }

    /// Visits the candidate alternatives for `event`: those whose indexed values all occur in
    /// it, and every unindexed one.
    pub(crate) fn candidates<J: Json>(&self, event: J, visit: &mut impl FnMut(AltRef)) {
        let mut ev = EventValues {
            event,
            values: List::new(event),
            resolved: List::new((0, 0, 0)),
        };
        for entry in &self.entries {
            if entry.keys.is_empty() {
                continue;
            }
            let component = entry.component;
            let (start, end) = ev.resolve(component.path, &self.paths[component.path as usize]);
            for i in start..end {
                let value = ev.values.as_slice()[i];
                let Some(hash) = value_hash(value, component.kind) else {
                    continue;
                };
                let Some(sigs) = entry.keys.get(&hash) else {
                    continue;
                };
                for &(sig, _) in sigs {
                    self.probe(&self.signatures[sig as usize], hash, &mut ev, visit);
                }
            }
        }
        self.unindexed.iter().for_each(|r| visit(*r));
    }

    /// Looks the event's value combinations up in one signature whose entry value hashed to
    /// `first`.
    fn probe(
        &self,
        sig: &Signature,
        first: u64,
        ev: &mut EventValues<impl Json>,
        visit: &mut impl FnMut(AltRef),
    ) {
        let mut ranges = [(0usize, 0usize); MAX_COMPONENTS];
        let mut combinations = 1usize;
        for (range, component) in ranges.iter_mut().zip(&sig.components).skip(1) {
            *range = ev.resolve(component.path, &self.paths[component.path as usize]);
            if range.0 == range.1 {
                return;
            }
            combinations = combinations.saturating_mul(range.1 - range.0);
        }
        if combinations > MAX_EVENT_COMBINATIONS {
            sig.table.values().flatten().for_each(|r| visit(*r));
            return;
        }
        combinations_of(
            sig,
            ev.values.as_slice(),
            &ranges[..sig.components.len()],
            1,
            combine(0, first),
            visit,
        );
    }
}

fn combinations_of(
    sig: &Signature,
    values: &[impl Json],
    ranges: &[(usize, usize)],
    depth: usize,
    acc: u64,
    visit: &mut impl FnMut(AltRef),
) {
    let Some(&(start, end)) = ranges.get(depth) else {
        if let Some(bucket) = sig.table.get(&acc) {
            bucket.iter().for_each(|r| visit(*r));
        }
        return;
    };
    let kind = sig.components[depth].kind;
    for value in &values[start..end] {
        if let Some(h) = value_hash(*value, kind) {
            combinations_of(sig, values, ranges, depth + 1, combine(acc, h), visit);
        }
    }
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

fn for_each_scalar<J: Json>(value: J, depth: usize, f: &mut impl FnMut(J)) {
    match value.items() {
        Some(_) if depth >= MAX_EVENT_DEPTH => {}
        Some(items) => items.for_each(|item| for_each_scalar(item, depth + 1, f)),
        None if value.scalar().is_some() => f(value),
        None => {}
    }
}
