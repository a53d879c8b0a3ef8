//! The known-items optimisation: what a client last saw stored under the keys it read and
//! wrote, so that its next write of such a key is one conditional `PutItem` of the next version
//! instead of a read followed by the put (DynamoDB's documented optimistic-locking pattern, the
//! one `DynamoDBMapper` uses).
//!
//! It is only a hint. Every write it shapes carries the condition that the stored item is still
//! the one remembered; when another client wrote the key since, the condition fails, DynamoDB
//! returns the stored item, and the write is planned again from that. Turning it off
//! (`aws://?known_items=off`) changes the requests sent, never the results: a conditional write
//! then reads the item first, and an unconditional one guesses the key absent.

use std::collections::HashMap;
use std::sync::Mutex;

use super::kv_layout::State;

/// Keys remembered at most; the cache starts over when it is full.
const CAPACITY: usize = 4096;
/// Largest item (without its value) remembered, in bytes: items that carry large attributes
/// of other tools are read again instead.
const MAX_REMEMBERED_BYTES: usize = 4096;

/// A bounded map from key to what this client last saw stored under it.
#[derive(Debug)]
pub(crate) struct KnownItems {
    enabled: bool,
    entries: Mutex<HashMap<String, State>>,
}

impl KnownItems {
    /// A cache that remembers when `enabled`, and otherwise knows nothing.
    pub(crate) fn new(enabled: bool) -> KnownItems {
        KnownItems {
            enabled,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// What is remembered about `key` at `now` (epoch ms): an item remembered live that has
    /// expired since counts as absent.
    pub(crate) fn get(&self, key: &str, now: i64) -> Option<State> {
        if !self.enabled {
            return None;
        }
        self.lock().get(key).cloned().map(|state| state.at(now))
    }

    /// Remembers `state` for `key`.
    pub(crate) fn learn(&self, key: &str, state: State) {
        if !self.enabled {
            return;
        }
        let mut entries = self.lock();
        if matches!(&state, State::Live(seen) if seen.size() > MAX_REMEMBERED_BYTES) {
            entries.remove(key);
            return;
        }
        if entries.len() >= CAPACITY && !entries.contains_key(key) {
            entries.clear();
        }
        entries.insert(key.to_owned(), state);
    }

    /// Forgets `key` (its state is unknown, e.g. after a failed batch).
    pub(crate) fn forget(&self, key: &str) {
        if self.enabled {
            self.lock().remove(key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, State>> {
        // The map holds hints only: a panic elsewhere cannot leave it inconsistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::kv_layout::{Seen, string_value};
    use crate::aws::tables::Item;
    use std::sync::Arc;

    fn live(extra: usize) -> State {
        let item: Item = HashMap::from([
            ("key".to_owned(), string_value("k")),
            (
                "expires_at_ms".to_owned(),
                crate::aws::kv_layout::number_value(5_000),
            ),
            ("blob".to_owned(), string_value("x".repeat(extra))),
        ]);
        State::Live(Arc::new(Seen::of(&item)))
    }

    #[test]
    fn remembers_live_items_until_they_expire() {
        let known = KnownItems::new(true);
        known.learn("k", live(1));
        assert_eq!(known.get("k", 4_999), Some(live(1)));
        assert_eq!(known.get("k", 5_000), Some(State::Absent), "expired since");
        known.forget("k");
        assert_eq!(known.get("k", 0), None);
    }

    #[test]
    fn is_bounded_in_keys_and_item_size_and_can_be_off() {
        let known = KnownItems::new(true);
        for i in 0..CAPACITY + 10 {
            known.learn(&format!("k{i}"), State::Absent);
        }
        assert!(known.lock().len() <= CAPACITY);
        assert_eq!(
            known.get(&format!("k{}", CAPACITY + 9), 0),
            Some(State::Absent)
        );
        known.learn("big", live(MAX_REMEMBERED_BYTES));
        assert_eq!(known.get("big", 0), None, "large items are not remembered");
        let off = KnownItems::new(false);
        off.learn("k", State::Absent);
        assert_eq!(off.get("k", 0), None);
    }
}
