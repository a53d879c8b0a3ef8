//! agent-mesh's KV item layout on DynamoDB, and the conditions its writes carry.
//!
//! An item (hash key `key`): `value` (S, JSON text), `version` (N), `created_at` /
//! `updated_at` (N, epoch ms), `expires_at` (N, epoch seconds — the table's TTL attribute) and
//! `expires_at_ms` (N, the exact expiry every read checks, since DynamoDB deletes expired items
//! up to two days late), `kv_shard` (S, `"kv"`, or `tenants/<tenant>/` for a tenant's key: the partition key of the
//! listing index)
//! and `write_ids` (B): the version of the latest write (8 bytes, big-endian) followed by the
//! 8-byte random ids of the calls that wrote it and the versions before it, newest first, for
//! the last 32 versions (264 bytes at most).
//!
//! Every write puts the whole item (`PutItem`, or a `Put` in a transaction) on a condition:
//! - a new item (version 1): the key is absent, or its item has expired;
//! - the next version of an item: the stored item is still exactly the one the writer read —
//!   same `version`, `created_at` and `updated_at` — and has not expired.
//!
//! Attributes agent-mesh does not know (added by other tools) are carried over unchanged. The
//! write ids tell a writer whose answer was lost whether its own write is the one stored: ids
//! are random per call, so the check never mistakes another writer's identical item for its
//! own (see `kv_write`).

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;

use super::kv_upstream::{expiry_ms, is_live, stored_body, version};
use super::tables::Item;
use crate::backend::KvWrite;

/// The listing index's partition value of keys outside the tenant namespace.
const ROOT_SHARD: &str = "kv";

/// The listing index's partition value of `key`: `"kv"`, or for a tenant's key its tenant's
/// root (`tenants/<tenant>/`), so a tenant's listing reads only its own partition and IAM's
/// `dynamodb:LeadingKeys` can confine it there.
pub(crate) fn shard(key: &str) -> &str {
    crate::scope::tenant_root(key).unwrap_or(ROOT_SHARD)
}

/// The listing index partition that a listing of `prefix` reads.
pub(crate) fn listing_shard<'a>(operation: &str, prefix: &'a str) -> crate::Result<&'a str> {
    Ok(match crate::scope::kv_listing(operation, prefix)? {
        crate::scope::KvListing::Root => ROOT_SHARD,
        crate::scope::KvListing::Tenant(root) => root,
    })
}
/// The attribute that records which calls wrote the recent versions.
pub(crate) const WRITE_IDS: &str = "write_ids";
/// How many versions' write ids an item keeps.
// Keep the number in kv_write.rs's `OVERWRITTEN` message in step.
pub(crate) const KEPT_WRITE_IDS: usize = 32;

/// The id of one `set` or `batch_set` call: 64 random bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteId([u8; 8]);

impl WriteId {
    /// A new random id.
    pub(crate) fn new() -> WriteId {
        WriteId(rand::random::<u64>().to_be_bytes())
    }
}

/// The write ids `item` records: the version the first belongs to, and the ids, newest first.
fn write_ids(item: &Item) -> Option<(u64, Vec<WriteId>)> {
    let Some(AttributeValue::B(blob)) = item.get(WRITE_IDS) else {
        return None;
    };
    let (head, ids) = blob.as_ref().split_first_chunk::<8>()?;
    let ids = ids
        .chunks_exact(8)
        .map(|chunk| WriteId(chunk.try_into().unwrap_or_default()))
        .collect();
    Some((u64::from_be_bytes(*head), ids))
}

/// The `write_ids` attribute of version `version`, written by `id`, after `previous`.
fn next_write_ids(
    previous: Option<(u64, Vec<WriteId>)>,
    version: u64,
    id: WriteId,
) -> AttributeValue {
    let mut blob = Vec::with_capacity(8 + 8 * KEPT_WRITE_IDS);
    blob.extend_from_slice(&version.to_be_bytes());
    blob.extend_from_slice(&id.0);
    // The earlier ids stay only if they end right before this version (no write in between
    // left them out).
    if let Some((_, ids)) = previous.filter(|(head, _)| head.checked_add(1) == Some(version)) {
        for earlier in ids.iter().take(KEPT_WRITE_IDS - 1) {
            blob.extend_from_slice(&earlier.0);
        }
    }
    AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(blob))
}

/// A stored item as a writer last saw it, without its value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Seen {
    /// Every attribute but `value`.
    attributes: Item,
    /// Its version (1 for an upstream item that has none).
    pub(crate) version: u64,
    /// When it expires, in epoch ms.
    pub(crate) expires_at_ms: Option<i64>,
    /// The body key, when its value is a large value's pointer.
    pub(crate) body: Option<String>,
}

impl Seen {
    /// What `item` tells a writer.
    pub(crate) fn of(item: &Item) -> Seen {
        let mut attributes = item.clone();
        attributes.remove("value");
        Seen {
            version: version(item),
            expires_at_ms: expiry_ms(item),
            body: stored_body(item),
            attributes,
        }
    }

    /// Whether it has not expired at `now` (epoch ms).
    pub(crate) fn is_live(&self, now: i64) -> bool {
        self.expires_at_ms.is_none_or(|e| e > now)
    }

    /// Its creation time in epoch ms, if recorded.
    pub(crate) fn created_ms(&self) -> Option<i64> {
        super::kv_upstream::time_ms(&self.attributes, "created_at")
    }

    /// Bytes its attributes take, roughly (a cache keeps only small ones).
    pub(crate) fn size(&self) -> usize {
        self.attributes
            .iter()
            .map(|(name, value)| name.len() + attribute_size(value))
            .sum()
    }
}

fn attribute_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
        AttributeValue::M(map) => map.iter().map(|(k, v)| k.len() + attribute_size(v)).sum(),
        AttributeValue::L(list) => list.iter().map(attribute_size).sum(),
        AttributeValue::B(b) => b.as_ref().len(),
        _ => 16,
    }
}

/// What a writer knows of a key's stored item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum State {
    /// No live item: absent, or expired.
    Absent,
    /// A live item.
    Live(Arc<Seen>),
}

impl State {
    /// The state a stored item (or its absence) gives at `now`.
    pub(crate) fn of(item: Option<&Item>, now: i64) -> State {
        match item {
            Some(item) if is_live(item, now) => State::Live(Arc::new(Seen::of(item))),
            _ => State::Absent,
        }
    }

    /// The same state at `now`: a live item that has expired since is absent.
    pub(crate) fn at(self, now: i64) -> State {
        match self {
            State::Live(seen) if !seen.is_live(now) => State::Absent,
            other => other,
        }
    }

    /// The live item's version and creation time, as `resolve_write` takes them.
    pub(crate) fn live(&self, now: i64) -> Option<(u64, i64)> {
        match self {
            State::Live(seen) => Some((seen.version, seen.created_ms().unwrap_or(now))),
            State::Absent => None,
        }
    }
}

/// A DynamoDB condition expression with its attribute names and values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Condition {
    /// The expression.
    pub(crate) expression: String,
    /// `#alias` → attribute name.
    pub(crate) names: HashMap<String, String>,
    /// `:alias` → value.
    pub(crate) values: Item,
}

/// Attribute aliases of the conditions (some names are DynamoDB reserved words).
const NAMES: [(&str, &str); 6] = [
    ("#key", "key"),
    ("#version", "version"),
    ("#created", "created_at"),
    ("#updated", "updated_at"),
    ("#expms", "expires_at_ms"),
    ("#exp", "expires_at"),
];

/// Expired at `:now`: by the exact expiry, else (upstream items) by `expires_at` in seconds.
const EXPIRED: &str = "#expms <= :now OR (attribute_not_exists(#expms) AND #exp <= :nowsec)";

impl Condition {
    fn with_now(expression: String, now: i64) -> Condition {
        let names = NAMES
            .iter()
            .filter(|(alias, _)| expression.contains(alias))
            .map(|(alias, name)| ((*alias).to_owned(), (*name).to_owned()))
            .collect();
        let values = HashMap::from([
            (":now".to_owned(), number_value(now)),
            (":nowsec".to_owned(), number_value(now.div_euclid(1000))),
        ]);
        Condition {
            expression,
            names,
            values,
        }
    }

    /// The key has no item, or its item has expired.
    pub(crate) fn absent_or_expired(now: i64) -> Condition {
        Condition::with_now(format!("attribute_not_exists(#key) OR {EXPIRED}"), now)
    }

    /// The stored item is still `seen` (same version, creation and update times) and live.
    pub(crate) fn still(seen: &Seen, now: i64) -> Condition {
        let mut parts = vec!["attribute_exists(#key)".to_owned()];
        let mut equal = Vec::new();
        for (alias, name, value) in [
            ("#version", "version", ":seenversion"),
            ("#created", "created_at", ":seencreated"),
            ("#updated", "updated_at", ":seenupdated"),
        ] {
            match seen.attributes.get(name) {
                Some(stored) => {
                    parts.push(format!("{alias} = {value}"));
                    equal.push((value, stored.clone()));
                }
                None => parts.push(format!("attribute_not_exists({alias})")),
            }
        }
        parts.push(format!("NOT ({EXPIRED})"));
        let mut condition = Condition::with_now(parts.join(" AND "), now);
        for (alias, stored) in equal {
            condition.values.insert(alias.to_owned(), stored);
        }
        condition
    }
}

/// A DynamoDB number attribute value (`N`).
pub(crate) fn number_value(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A DynamoDB string attribute value (`S`).
pub(crate) fn string_value(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// One write of one item: the whole item to put, on its condition.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The item as it will be stored.
    pub(crate) item: Item,
    /// What must hold of the stored item for the write to happen.
    pub(crate) condition: Condition,
    /// The version the write stores.
    pub(crate) version: u64,
    /// The body key of the item it replaces, when that is a large value's pointer.
    pub(crate) replaces_body: Option<String>,
}

/// The write of `write` over `state`, by the call `id`, at `now`.
pub(crate) fn plan(write: &KvWrite, state: &State, id: WriteId, now: i64) -> Plan {
    let replaces_body = match state {
        State::Live(seen) => seen.body.clone(),
        State::Absent => None,
    };
    let (mut item, condition, version, previous) = match state {
        State::Absent => (Item::new(), Condition::absent_or_expired(now), 1, None),
        State::Live(seen) => (
            seen.attributes.clone(),
            Condition::still(seen, now),
            seen.version + 1,
            write_ids(&seen.attributes),
        ),
    };
    item.insert("key".into(), string_value(&write.key));
    item.insert("value".into(), string_value(&write.encoded));
    item.insert("version".into(), number_value(version));
    if version == 1 || !item.contains_key("created_at") {
        item.insert("created_at".into(), number_value(now));
    }
    item.insert("updated_at".into(), number_value(now));
    item.insert("kv_shard".into(), string_value(shard(&write.key)));
    item.insert(WRITE_IDS.into(), next_write_ids(previous, version, id));
    match write.expires_at {
        Some(t) => {
            let ms = t.timestamp_millis();
            item.insert(
                "expires_at".into(),
                number_value(ms.div_euclid(1000) + i64::from(ms % 1000 != 0)),
            );
            item.insert("expires_at_ms".into(), number_value(ms));
        }
        None => {
            item.remove("expires_at");
            item.remove("expires_at_ms");
        }
    }
    Plan {
        item,
        condition,
        version,
        replaces_body,
    }
}

/// The version whose write id is `id` in `item`, if any.
pub(crate) fn version_written_by(item: &Item, id: WriteId) -> Option<u64> {
    let (head, ids) = write_ids(item)?;
    let back = ids.iter().position(|written| *written == id)?;
    head.checked_sub(back as u64)
}

/// Whether `item` records which call wrote `version`.
pub(crate) fn records_writer_of(item: &Item, version: u64) -> bool {
    write_ids(item).is_some_and(|(head, ids)| head >= version && head - version < ids.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::WriteCondition;
    use crate::clock::from_ms;

    fn write(expires_at: Option<i64>) -> KvWrite {
        KvWrite {
            key: "k".into(),
            value: serde_json::json!(1),
            encoded: "1".into(),
            expires_at: expires_at.map(from_ms),
            condition: WriteCondition::Always,
            body: None,
        }
    }

    #[test]
    fn a_fresh_item_is_version_one_and_records_its_writer() {
        let id = WriteId::new();
        let plan = plan(&write(Some(5_500)), &State::Absent, id, 1_000);
        assert_eq!(plan.version, 1);
        assert_eq!(plan.item["expires_at"], number_value(6));
        assert_eq!(plan.item["expires_at_ms"], number_value(5_500));
        assert_eq!(version_written_by(&plan.item, id), Some(1));
        assert!(
            plan.condition
                .expression
                .starts_with("attribute_not_exists(#key)")
        );
        assert_ne!(WriteId::new(), id, "ids are random");
    }

    #[test]
    fn the_next_version_keeps_foreign_attributes_and_32_write_ids() {
        let mut stored = plan(&write(Some(9_000)), &State::Absent, WriteId::new(), 1_000).item;
        stored.insert("owner".into(), string_value("someone"));
        let mut ids = Vec::new();
        for _ in 0..40 {
            let id = WriteId::new();
            let state = State::of(Some(&stored), 2_000);
            stored = plan(&write(None), &state, id, 2_000).item;
            ids.push(id);
        }
        assert_eq!(version(&stored), 41);
        assert_eq!(stored["owner"], string_value("someone"));
        assert!(!stored.contains_key("expires_at") && !stored.contains_key("expires_at_ms"));
        assert_eq!(
            stored["created_at"],
            number_value(1_000),
            "created_at is kept"
        );
        assert_eq!(version_written_by(&stored, ids[39]), Some(41));
        assert_eq!(version_written_by(&stored, ids[8]), Some(10));
        assert_eq!(
            version_written_by(&stored, ids[7]),
            None,
            "only 32 are kept"
        );
        assert!(records_writer_of(&stored, 10) && !records_writer_of(&stored, 9));
        assert!(!records_writer_of(&stored, 42));
        let AttributeValue::B(blob) = &stored[WRITE_IDS] else {
            panic!("binary")
        };
        assert_eq!(blob.as_ref().len(), 8 + 8 * KEPT_WRITE_IDS);
    }

    #[test]
    fn ids_of_versions_written_without_them_are_dropped() {
        let first = WriteId::new();
        let mut stored = plan(&write(None), &State::Absent, first, 1_000).item;
        // Another tool bumps the version without maintaining the ids.
        stored.insert("version".into(), number_value(5));
        let state = State::of(Some(&stored), 2_000);
        let second = WriteId::new();
        let stored = plan(&write(None), &state, second, 2_000).item;
        assert_eq!(version_written_by(&stored, second), Some(6));
        assert_eq!(version_written_by(&stored, first), None);
        assert!(!records_writer_of(&stored, 5));
    }

    #[test]
    fn the_condition_names_the_seen_item_exactly() {
        let stored = plan(&write(None), &State::Absent, WriteId::new(), 1_000).item;
        let State::Live(seen) = State::of(Some(&stored), 1_000) else {
            panic!("live")
        };
        let condition = Condition::still(&seen, 2_000);
        assert!(condition.expression.contains("#version = :seenversion"));
        assert_eq!(condition.values[":seenversion"], number_value(1));
        assert_eq!(condition.values[":seencreated"], number_value(1_000));
        assert_eq!(condition.values[":nowsec"], number_value(2));
        let upstream: Item = HashMap::from([("key".to_owned(), string_value("k"))]);
        let upstream = Seen::of(&upstream);
        let condition = Condition::still(&upstream, 2_000);
        assert!(
            condition
                .expression
                .contains("attribute_not_exists(#version)")
        );
        for alias in condition.names.keys() {
            assert!(condition.expression.contains(alias.as_str()));
        }
    }
}
