//! Key-value memory: JSON values with versions, TTL and conditional writes.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use crate::backend::{KvBackend, KvWrite};
use crate::error::{Error, Result};
use crate::page::{ListOptions, ListRequest, Page};
use crate::validate;

pub use crate::types::kv::*;

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
        let write = KvWrite::prepare("kv.set", key, value, &options)?;
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
            writes.push(KvWrite::prepare(OP, &key, value, &options)?);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::time::Duration;

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
