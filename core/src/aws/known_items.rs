//! What a client last learned about the KV items it read and wrote, so that a write to a key it
//! knows can go out as one conditional `PutItem` (DynamoDB's documented optimistic-locking
//! pattern: put the whole item with version + 1 on condition that the stored version is still
//! the one read) instead of an `UpdateItem` with expressions.
//!
//! Both are one request and one write unit on DynamoDB; on emulators the expression-free
//! `PutItem` is several times cheaper (moto validates update expressions in Python). The cache
//! is only a hint: every write it shapes carries a condition that the stored item is still the
//! one remembered, and a key whose condition failed is marked `Contended` and written with
//! `UpdateItem` from then on, so keys that several clients write cost no extra requests.
//!
//! A key the client knows nothing of is guessed absent (one `PutItem` on condition that it is
//! absent or expired) while recent unknown keys mostly were: a saturating score gains 1 for each
//! unknown key that turned out absent and loses 4 for each that existed, and guesses are made
//! while it is not negative (at least about four in five were absent). A wrong guess costs one
//! request, whose failed condition returns the stored item, so the retry is a versioned put.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;

use super::tables::Item;

/// Keys remembered at most; the cache starts over when it is full.
const CAPACITY: usize = 4096;
/// Bounds of the score of unknown keys turning out absent.
const SCORE_BOUND: i32 = 16;
/// What an unknown key that existed costs the score (one that was absent gains 1).
const MISS_COST: i32 = 4;

/// The attributes agent-mesh writes; an item with any other is not rewritten whole.
const OWN_ATTRIBUTES: [&str; 8] = [
    "key",
    "value",
    "version",
    "created_at",
    "updated_at",
    "kv_shard",
    "expires_at",
    "expires_at_ms",
];

/// A live item written by agent-mesh as a client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    /// Its version.
    pub(crate) version: u64,
    /// Its creation time (epoch ms): tells a re-created item at the same version apart.
    pub(crate) created_at: i64,
    /// When it expires (epoch ms), if it does.
    pub(crate) expires_at_ms: Option<i64>,
}

/// What this client last saw stored under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Known {
    /// Nothing live: absent or expired.
    Absent,
    /// A live item written by agent-mesh.
    Versioned(Seen),
    /// A remembered state turned out stale: write this key with `UpdateItem`.
    Contended,
}

impl Known {
    /// What the stored `item` (under the key itself, not the upstream `KV#` layout) tells,
    /// `None` when it cannot be rewritten whole (upstream item, foreign attributes).
    pub(crate) fn of(item: Option<&Item>, live: bool) -> Option<Known> {
        let Some(item) = item.filter(|_| live) else {
            return Some(Known::Absent);
        };
        if item
            .keys()
            .any(|name| !OWN_ATTRIBUTES.contains(&name.as_str()))
        {
            return None;
        }
        match (item.get("version"), item.get("created_at")) {
            (Some(AttributeValue::N(version)), Some(AttributeValue::N(created))) => {
                Some(Known::Versioned(Seen {
                    version: version.parse().ok()?,
                    created_at: created.parse().ok()?,
                    expires_at_ms: match item.get("expires_at_ms") {
                        Some(AttributeValue::N(ms)) => Some(ms.parse().ok()?),
                        _ => None,
                    },
                }))
            }
            _ => None,
        }
    }
}

/// A bounded map from key to what this client last saw of it.
#[derive(Debug, Default)]
pub(crate) struct KnownItems {
    entries: Mutex<HashMap<String, Known>>,
    /// How often unknown keys recently turned out absent (see the module doc).
    absent_score: AtomicI32,
}

impl KnownItems {
    /// What is remembered about `key` at `now` (epoch ms): an item remembered live that has
    /// expired since counts as absent.
    pub(crate) fn get(&self, key: &str, now: i64) -> Option<Known> {
        self.lock().get(key).map(|known| match known {
            Known::Versioned(Seen {
                expires_at_ms: Some(expiry),
                ..
            }) if *expiry <= now => Known::Absent,
            other => *other,
        })
    }

    /// Remembers `known` for `key` (forgets the key when `None`); a contended key stays so.
    pub(crate) fn learn(&self, key: &str, known: Option<Known>) {
        let mut entries = self.lock();
        match (entries.get(key), known) {
            (Some(Known::Contended), _) => {}
            (_, None) => {
                entries.remove(key);
            }
            (_, Some(known)) => {
                if entries.len() >= CAPACITY && !entries.contains_key(key) {
                    entries.clear();
                }
                entries.insert(key.to_owned(), known);
            }
        }
    }

    /// Marks `key` as written by others too: its writes use `UpdateItem` from now on.
    pub(crate) fn contend(&self, key: &str) {
        self.lock().insert(key.to_owned(), Known::Contended);
    }

    /// Whether a key this client knows nothing of is to be guessed absent.
    pub(crate) fn guessing_absent(&self) -> bool {
        self.absent_score.load(Ordering::Relaxed) >= 0
    }

    /// Records whether a key this client knew nothing of turned out absent when written.
    pub(crate) fn unknown_key_was_absent(&self, absent: bool) {
        let step = if absent { 1 } else { -MISS_COST };
        // The closure always returns Some: the update cannot fail.
        let _ = self
            .absent_score
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |score| {
                Some((score + step).clamp(-SCORE_BOUND, SCORE_BOUND))
            });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        // The map holds hints only: a panic elsewhere cannot leave it inconsistent.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.into())
    }

    #[test]
    fn only_own_versioned_live_items_are_remembered_whole() {
        let own = item(&[
            ("key", AttributeValue::S("k".into())),
            ("version", n("3")),
            ("created_at", n("17")),
            ("expires_at_ms", n("5000")),
        ]);
        let versioned = Known::Versioned(Seen {
            version: 3,
            created_at: 17,
            expires_at_ms: Some(5000),
        });
        assert_eq!(Known::of(Some(&own), true), Some(versioned));
        let known = KnownItems::default();
        known.learn("k", Known::of(Some(&own), true));
        assert_eq!(known.get("k", 4999), Some(versioned));
        assert_eq!(
            known.get("k", 5000),
            Some(Known::Absent),
            "expired since it was read"
        );
        assert_eq!(Known::of(Some(&own), false), Some(Known::Absent));
        assert_eq!(Known::of(None, true), Some(Known::Absent));
        let upstream = item(&[
            ("key", AttributeValue::S("k".into())),
            (
                "created_at",
                AttributeValue::S("2024-01-01T00:00:00Z".into()),
            ),
        ]);
        assert_eq!(Known::of(Some(&upstream), true), None);
        let mut foreign = own.clone();
        foreign.insert("owner".into(), AttributeValue::S("someone".into()));
        assert_eq!(Known::of(Some(&foreign), true), None);
    }

    #[test]
    fn contended_keys_stay_contended_and_the_cache_is_bounded() {
        let known = KnownItems::default();
        known.learn("a", Some(Known::Absent));
        assert_eq!(known.get("a", 0), Some(Known::Absent));
        known.contend("a");
        known.learn("a", Some(Known::Absent));
        assert_eq!(known.get("a", 0), Some(Known::Contended));
        known.learn("b", Some(Known::Absent));
        known.learn("b", None);
        assert_eq!(known.get("b", 0), None);
        for i in 0..CAPACITY + 10 {
            known.learn(&format!("k{i}"), Some(Known::Absent));
        }
        assert!(known.lock().len() <= CAPACITY);
        assert_eq!(
            known.get(&format!("k{}", CAPACITY + 9), 0),
            Some(Known::Absent)
        );
    }

    #[test]
    fn unknown_keys_are_guessed_absent_while_at_least_four_in_five_were() {
        let known = KnownItems::default();
        assert!(known.guessing_absent(), "a new client guesses");
        known.unknown_key_was_absent(false);
        assert!(!known.guessing_absent(), "one miss stops the guessing");
        for _ in 0..3 {
            known.unknown_key_was_absent(true);
        }
        assert!(!known.guessing_absent());
        known.unknown_key_was_absent(true);
        assert!(known.guessing_absent(), "four hits make up for a miss");
        for _ in 0..100 {
            known.unknown_key_was_absent(true);
        }
        for _ in 0..4 {
            known.unknown_key_was_absent(false);
        }
        assert!(
            known.guessing_absent(),
            "the score is bounded: 16 - 4 x 4 = 0"
        );
        known.unknown_key_was_absent(false);
        assert!(!known.guessing_absent());
    }
}
