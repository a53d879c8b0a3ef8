//! Key-value memory: JSON values with versions, TTL and conditional writes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::backend::{KvBackend, KvWrite, WriteCondition};
use crate::clock::{Timestamp, from_ms, now_ms};
use crate::error::{Error, Result};
use crate::page::{ListOptions, ListRequest, Page};
use crate::validate;

/// A stored KV item.
#[derive(Debug, Clone, PartialEq)]
pub struct KvItem {
    /// The item's key.
    pub key: String,
    /// The JSON value.
    pub value: Value,
    /// 1 when created, plus 1 per write; use it with `SetOptions::if_version`.
    pub version: u64,
    /// When the item was first written (kept across overwrites).
    pub created_at: Timestamp,
    /// When the item was last written.
    pub updated_at: Timestamp,
    /// When the item expires, if it has a TTL.
    pub expires_at: Option<Timestamp>,
}

/// Options of [`Kv::set`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetOptions {
    /// Time to live; `None` keeps the item until it is deleted.
    pub ttl: Option<Duration>,
    /// Write only if the current item has this version (else `Conflict`).
    pub if_version: Option<u64>,
    /// Write only if no live item has the key (else `Conflict`).
    pub if_absent: bool,
}

impl SetOptions {
    /// Expire the item after `ttl`.
    pub fn ttl(ttl: Duration) -> Self {
        SetOptions {
            ttl: Some(ttl),
            ..Self::default()
        }
    }

    /// Expire the item after `hours` hours.
    pub fn ttl_hours(hours: u64) -> Self {
        Self::ttl(Duration::from_secs(hours.saturating_mul(3600)))
    }

    /// Expire the item after `seconds` seconds.
    pub fn ttl_seconds(seconds: u64) -> Self {
        Self::ttl(Duration::from_secs(seconds))
    }

    /// Write only if the current version is `version`.
    pub fn if_version(version: u64) -> Self {
        SetOptions {
            if_version: Some(version),
            ..Self::default()
        }
    }

    /// Write only if the key has no live item.
    pub fn if_absent() -> Self {
        SetOptions {
            if_absent: true,
            ..Self::default()
        }
    }

    /// Options from loosely typed arguments, as the Python and Node bindings receive them: a TTL
    /// in seconds or in hours (at most one of them; positive and finite) and a condition.
    pub fn from_parts(
        operation: &str,
        key: &str,
        ttl_seconds: Option<f64>,
        ttl_hours: Option<f64>,
        if_version: Option<u64>,
        if_absent: bool,
    ) -> Result<SetOptions> {
        let invalid = |why: &str| Error::invalid_input(operation, key, why);
        let seconds = match (ttl_seconds, ttl_hours) {
            (Some(_), Some(_)) => {
                return Err(invalid("pass a TTL in seconds or in hours, not both"));
            }
            (Some(s), None) => Some(s),
            (None, Some(h)) => Some(h * 3600.0),
            (None, None) => None,
        };
        let ttl = match seconds {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                return Err(invalid(
                    "the TTL must be a positive number of seconds or hours",
                ));
            }
            Some(s) => {
                Some(Duration::try_from_secs_f64(s).map_err(|_| invalid("the TTL is too long"))?)
            }
            None => None,
        };
        Ok(SetOptions {
            ttl,
            if_version,
            if_absent,
        })
    }

    /// These options with a TTL added.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    fn condition(&self, key: &str) -> Result<WriteCondition> {
        match (self.if_absent, self.if_version) {
            (true, Some(_)) => Err(Error::invalid_input(
                "kv.set",
                key,
                "if_absent and if_version exclude each other; pass one of them",
            )),
            (true, None) => Ok(WriteCondition::IfAbsent),
            (false, Some(v)) => Ok(WriteCondition::IfVersion(v)),
            (false, None) => Ok(WriteCondition::Always),
        }
    }
}

/// The KV domain of a [`MeshClient`](crate::MeshClient): `mesh.kv()`.
#[derive(Clone)]
pub struct Kv {
    backend: Arc<dyn KvBackend>,
}

/// Shows no backend details: an AWS backend's SDK configuration may hold an endpoint with
/// credentials.
impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv").finish_non_exhaustive()
    }
}

impl Kv {
    pub(crate) fn new(backend: Arc<dyn KvBackend>) -> Self {
        Kv { backend }
    }

    /// The live item under `key`, or `None`.
    pub async fn get(&self, key: &str) -> Result<Option<KvItem>> {
        validate::check_key("kv.get", key)?;
        self.backend.get(key).await
    }

    /// Stores `value` under `key`; returns the stored item (with its new version).
    ///
    /// Fails with `Conflict` when `if_version`/`if_absent` does not hold, `TooLarge` when key
    /// plus JSON value exceed 400 KB, `InvalidInput` for a bad key or TTL.
    pub async fn set(&self, key: &str, value: Value, options: SetOptions) -> Result<KvItem> {
        let write = prepare_write("kv.set", key, value, &options)?;
        self.backend.set(write).await
    }

    /// The live items under `keys`, in the same order (`None` where absent).
    pub async fn batch_get(&self, keys: &[&str]) -> Result<Vec<Option<KvItem>>> {
        for key in keys {
            validate::check_key("kv.batch_get", key)?;
        }
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.backend.batch_get(&keys).await
    }

    /// Stores every `(key, value)` entry with the same TTL, all or none. Conditions are not
    /// accepted here (use `set`); at most 100 entries, no key twice, and at most 4,000,000
    /// bytes together (each entry counted as a KV item; DynamoDB's transaction limit), else
    /// `TooLarge`.
    pub async fn batch_set(
        &self,
        entries: Vec<(String, Value)>,
        options: SetOptions,
    ) -> Result<()> {
        const OP: &str = "kv.batch_set";
        let first = entries.first().map(|(k, _)| k.as_str()).unwrap_or("");
        if options.if_absent || options.if_version.is_some() {
            return Err(Error::invalid_input(
                OP,
                first,
                "batch_set takes no if_version/if_absent; use set for conditional writes",
            ));
        }
        if entries.len() > validate::MAX_BATCH_SET {
            return Err(Error::invalid_input(
                OP,
                first,
                format!(
                    "{} entries; a batch holds at most {} (split it into several batch_set calls)",
                    entries.len(),
                    validate::MAX_BATCH_SET
                ),
            ));
        }
        let mut seen = HashSet::new();
        let mut writes = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if !seen.insert(key.clone()) {
                return Err(Error::invalid_input(
                    OP,
                    &key,
                    "the key appears twice in one batch; keep only the last value",
                ));
            }
            writes.push(prepare_write(OP, &key, value, &options)?);
        }
        if writes.is_empty() {
            return Ok(());
        }
        let total = writes
            .iter()
            .map(|w| w.key.len() + w.encoded.len() + validate::KV_ITEM_OVERHEAD)
            .sum();
        validate::check_batch_set_size(OP, &writes[0].key, writes.len(), total)?;
        self.backend.batch_set(writes).await
    }

    /// Deletes the item under `key`; returns whether a live item was deleted.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        validate::check_key("kv.delete", key)?;
        self.backend.delete(key).await
    }

    /// One page of live items whose key starts with `prefix`, in ascending key order.
    pub async fn list(&self, prefix: &str, options: ListOptions) -> Result<Page<KvItem>> {
        let request = ListRequest::new("kv.list", prefix, &options)?;
        let page = self
            .backend
            .list(prefix, request.start_after.as_deref(), request.limit)
            .await?;
        Ok(ListRequest::finish(page, |item: &KvItem| &item.key))
    }
}

fn prepare_write(
    operation: &str,
    key: &str,
    value: Value,
    options: &SetOptions,
) -> Result<KvWrite> {
    validate::check_key(operation, key)?;
    let condition = options.condition(key)?;
    let expires_at = match options.ttl {
        None => None,
        Some(ttl) if ttl.is_zero() => {
            return Err(Error::invalid_input(
                operation,
                key,
                "the TTL is zero; pass a positive TTL, or none to keep the item",
            ));
        }
        Some(ttl) => {
            let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
            Some(from_ms(now_ms().saturating_add(ms)))
        }
    };
    let value = validate::checked_depth(operation, key, "value", value)?;
    let encoded = serde_json::to_string(&value)
        .map_err(|e| Error::invalid_input(operation, key, format!("the value is not JSON: {e}")))?;
    validate::check_kv_item_size(operation, key, &encoded)?;
    Ok(KvWrite {
        key: key.to_owned(),
        value,
        encoded,
        expires_at,
        condition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn from_parts_reads_seconds_or_hours() {
        let o = SetOptions::from_parts("kv.set", "k", Some(1.5), None, Some(3), false).unwrap();
        assert_eq!(
            (o.ttl, o.if_version),
            (Some(Duration::from_millis(1500)), Some(3))
        );
        let o = SetOptions::from_parts("kv.set", "k", None, Some(2.0), None, true).unwrap();
        assert_eq!(
            (o.ttl, o.if_absent),
            (Some(Duration::from_secs(7200)), true)
        );
        for (s, h) in [
            (Some(1.0), Some(1.0)),
            (Some(0.0), None),
            (Some(-1.0), None),
            (None, Some(f64::NAN)),
            (Some(1e300), None),
        ] {
            let e = SetOptions::from_parts("kv.set", "k", s, h, None, false).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{s:?} {h:?}");
            assert!(e.message.contains("TTL"), "{e}");
        }
    }
}
