//! [`PatternSet`]: many patterns matched against an event together (see [`index`](super::index)
//! for how candidates are found).

use std::collections::HashMap;
use std::hash::Hash;

use serde_json::Value;

use super::EventPattern;
use super::index::{AltRef, Filed, Index};
use super::json::Paths;
use super::matcher::Json;
use crate::Result;

#[derive(Debug, Clone)]
struct Slot<Id> {
    id: Id,
    pattern: EventPattern,
    filed: Vec<Filed>,
}

/// The pattern slots already reported for one event: a short list, then a bitset.
struct Seen {
    list: Vec<u32>,
    bits: Vec<u64>,
}

impl Seen {
    fn contains(&self, slot: u32) -> bool {
        if self.bits.is_empty() {
            self.list.contains(&slot)
        } else {
            self.bits[slot as usize / 64] & (1 << (slot % 64)) != 0
        }
    }

    /// Records `slot` (not yet recorded); `slots` is the number of slots.
    fn insert(&mut self, slot: u32, slots: usize) {
        if self.bits.is_empty() {
            self.list.push(slot);
            if self.list.len() > 16 {
                self.bits = vec![0; slots.div_ceil(64)];
                for &s in &self.list {
                    self.bits[s as usize / 64] |= 1 << (s % 64);
                }
            }
        } else {
            self.bits[slot as usize / 64] |= 1 << (slot % 64);
        }
    }
}

/// Many patterns matched together: [`matching`](PatternSet::matching) returns the ids of the
/// patterns an event matches. Patterns are indexed by their exact and prefix values, so an event
/// is fully checked only against the patterns whose indexed values it has (plus those that
/// have none, e.g. only `numeric` or `anything-but` conditions).
#[derive(Clone)]
pub struct PatternSet<Id> {
    slots: Vec<Option<Slot<Id>>>,
    free: Vec<u32>,
    by_id: HashMap<Id, u32>,
    index: Index,
    /// The event fields any stored pattern looks at, for matching from JSON text.
    paths: Paths,
}

impl<Id> Default for PatternSet<Id> {
    fn default() -> Self {
        PatternSet {
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            index: Index::default(),
            paths: Paths::default(),
        }
    }
}

impl<Id: std::fmt::Debug> std::fmt::Debug for PatternSet<Id> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.slots
                    .iter()
                    .flatten()
                    .map(|s| (&s.id, s.pattern.as_json())),
            )
            .finish()
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
        let filed = pattern
            .alternatives()
            .iter()
            .enumerate()
            .map(|(i, node)| {
                self.paths.add(node);
                self.index.add(
                    node,
                    AltRef {
                        slot,
                        alt: i as u32,
                    },
                )
            })
            .collect();
        self.by_id.insert(id.clone(), slot);
        self.slots[slot as usize] = Some(Slot { id, pattern, filed });
        previous
    }

    /// Removes the pattern stored under `id`, returning it.
    pub fn remove(&mut self, id: &Id) -> Option<EventPattern> {
        let slot = self.by_id.remove(id)?;
        let removed = self.slots.get_mut(slot as usize)?.take()?;
        for filed in &removed.filed {
            self.index.remove(filed);
        }
        for node in removed.pattern.alternatives() {
            self.paths.remove(node);
        }
        self.free.push(slot);
        Some(removed.pattern)
    }

    /// The ids of the patterns `event` matches, in no particular order.
    pub fn matching(&self, event: &Value) -> Vec<Id> {
        let mut ids = Vec::new();
        self.for_each_match(event, |id| ids.push(id.clone()));
        ids
    }

    /// The ids of the patterns the event given as JSON text matches, in no particular order; see
    /// [`for_each_match_json`](PatternSet::for_each_match_json).
    pub fn matching_json(&self, json: &str) -> Result<Vec<Id>> {
        let mut ids = Vec::new();
        self.for_each_match_json(json, |id| ids.push(id.clone()))?;
        Ok(ids)
    }

    /// Calls `f` with the id of each pattern the event given as JSON text matches: the same
    /// matches as [`for_each_match`](PatternSet::for_each_match) on the parsed event, but only
    /// the fields some stored pattern looks at are parsed (see
    /// [`EventPattern::matches_json`]).
    ///
    /// Fails with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput), before calling
    /// `f`, when `json` is not a JSON object.
    pub fn for_each_match_json(&self, json: &str, f: impl FnMut(&Id)) -> Result<()> {
        let event = self.paths.read(json)?;
        self.for_each_match_in(event.root(), f);
        Ok(())
    }

    /// Calls `f` with the id of each pattern `event` matches (once per pattern, in no
    /// particular order).
    pub fn for_each_match(&self, event: &Value, f: impl FnMut(&Id)) {
        self.for_each_match_in(event, f);
    }

    /// [`for_each_match`](PatternSet::for_each_match) on any kind of event value.
    fn for_each_match_in<J: Json>(&self, event: J, mut f: impl FnMut(&Id)) {
        let mut seen = Seen {
            list: Vec::new(),
            bits: Vec::new(),
        };
        let slots = self.slots.len();
        self.index.candidates(event, &mut |r: AltRef| {
            if seen.contains(r.slot) {
                return;
            }
            let Some(Some(slot)) = self.slots.get(r.slot as usize) else {
                return;
            };
            let matched = slot
                .pattern
                .alternatives()
                .get(r.alt as usize)
                .is_some_and(|alt| alt.matches_value(Some(event)));
            if matched {
                seen.insert(r.slot, slots);
                f(&slot.id);
            }
        });
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
        set.add(
            "big",
            pattern(json!({"detail": {"n": [{"numeric": [">", 10]}]}})),
        );
        set.add("num", pattern(json!({"detail": {"n": [20, 30.0]}})));
        set.add("arr", pattern(json!({"detail": {"items": {"sku": ["x"]}}})));
        assert_eq!(set.len(), 5);
        let event = json!({"source": "aws.ec2", "detail": {"n": 30, "items": [{"sku": "y"}, {"sku": "x"}]}});
        assert_eq!(
            sorted(set.matching(&event)),
            vec!["arr", "aws", "big", "ec2", "num"]
        );
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
    fn many_event_values_at_indexed_paths() {
        let mut set = PatternSet::new();
        set.add(
            "last",
            pattern(json!({"a": ["v39"], "b": {"c": [{"prefix": "x"}]}})),
        );
        set.add("none", pattern(json!({"a": ["v40"], "b": {"c": ["x"]}})));
        let values: Vec<String> = (0..40).map(|i| format!("v{i}")).collect();
        let mut event = json!({"a": values, "b": [{"c": ["y", "z"]}, {"c": "xx"}]});
        assert_eq!(set.matching(&event), vec!["last"]);
        assert_eq!(set.matching_json(&event.to_string()).unwrap(), vec!["last"]);
        // More indexed paths than are kept in place.
        const KEYS: [&str; 12] = [
            "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "ka", "kb",
        ];
        for key in KEYS {
            set.add(key, pattern(json!({key: ["x"], "a": ["v1"]})));
            event[key] = json!("x");
        }
        let mut want = KEYS.to_vec();
        want.push("last");
        assert_eq!(sorted(set.matching(&event)), sorted(want.clone()));
        assert_eq!(
            sorted(set.matching_json(&event.to_string()).unwrap()),
            sorted(want)
        );
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
