//! Key-value memory: JSON values with versions, TTL and conditional writes. Values over the
//! 400 KB item limit, up to 64 MiB, are stored as a body and a pointer ([`bodies`]).

mod bodies;

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use crate::backend::{ArtifactBackend, BackendPage, KvBackend, KvWrite};
use crate::error::{Error, Result};
use crate::page::{ListOptions, ListRequest, Page};
use crate::validate;

pub use crate::types::kv::*;

/// Whether the write that failed with `error` was certainly not stored, so the body written for
/// it may go at once. Any other failure (no answer, an unknown outcome) may have stored the
/// pointer: its body is left for collection to judge.
fn refused(error: &Error) -> bool {
    use crate::error::ErrorKind::*;
    matches!(
        error.kind,
        Conflict | InvalidInput | TooLarge | PermissionDenied | NotFound | Config | Unsupported
    )
}

/// Bytes a pointer item takes besides its key: the attributes, the pointer text and the body
/// key (at most the scope prefix, 160 bytes, plus 93).
const POINTER_ITEM_BYTES: usize = validate::KV_ITEM_OVERHEAD + 300;

/// The KV domain of a [`MeshClient`](crate::MeshClient): `mesh.kv()`.
#[derive(Clone)]
pub struct Kv {
    backend: Arc<dyn KvBackend>,
    bodies: Arc<bodies::Bodies>,
}

/// Shows no backend details: an AWS backend's SDK configuration may hold an endpoint with
/// credentials.
impl std::fmt::Debug for Kv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kv").finish_non_exhaustive()
    }
}

impl Kv {
    /// The KV of `backend` (seen through the scope whose key prefix is `scope_prefix`), keeping
    /// large values' bodies in `root_artifacts`, the unscoped artifact store.
    pub(crate) fn new(
        backend: Arc<dyn KvBackend>,
        root_artifacts: Arc<dyn ArtifactBackend>,
        scope_prefix: &str,
    ) -> Self {
        Kv {
            backend,
            bodies: Arc::new(bodies::Bodies::new(root_artifacts, scope_prefix)),
        }
    }

    /// The live item under `key`, or `None`.
    pub async fn get(&self, key: &str) -> Result<Option<KvItem>> {
        validate::check_key("kv.get", key)?;
        match self.backend.get(key).await? {
            Some(item) => self.resolve("kv.get", item).await,
            None => Ok(None),
        }
    }

    /// Stores `value` under `key`; returns the stored item (with its new version).
    ///
    /// A value whose item would pass 400 KB (DynamoDB's limit) is stored as a body in the
    /// artifact store and a pointer item, transparently. Fails with `Conflict` when
    /// `if_version`/`if_absent` does not hold, `TooLarge` when the JSON value passes 64 MiB,
    /// `InvalidInput` for a bad key or TTL.
    pub async fn set(&self, key: &str, value: Value, options: SetOptions) -> Result<KvItem> {
        let write = KvWrite::prepare_value("kv.set", key, value, &options)?;
        if !self.bodies.needs_body(&write) {
            let written = self.backend.set(write).await?;
            self.bodies.release(written.released).await;
            return Ok(written.item);
        }
        let (pointer, value) = self.bodies.store(write).await?;
        match self.backend.set(pointer.clone()).await {
            Ok(written) => {
                self.bodies.release(written.released).await;
                // The write is stored: a failed check leaves it to the reader's retry.
                let _ = self.bodies.confirm(&pointer, &value).await;
                self.bodies.collect_in_background(self.backend.clone());
                let mut item = written.item;
                item.value = value;
                item.body = None;
                Ok(item)
            }
            Err(e) => {
                if refused(&e) {
                    self.bodies
                        .release(pointer.body.into_iter().collect())
                        .await;
                }
                Err(e)
            }
        }
    }

    /// The live items under `keys`, in the same order (`None` where absent).
    pub async fn batch_get(&self, keys: &[&str]) -> Result<Vec<Option<KvItem>>> {
        for key in keys {
            validate::check_key("kv.batch_get", key)?;
        }
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let mut items = Vec::with_capacity(keys.len());
        for item in self.backend.batch_get(&keys).await? {
            items.push(match item {
                Some(item) => self.resolve("kv.batch_get", item).await?,
                None => None,
            });
        }
        Ok(items)
    }

    /// `item` with a large value's body read (see [`bodies`]).
    async fn resolve(&self, operation: &str, item: KvItem) -> Result<Option<KvItem>> {
        Ok(self
            .resolve_sized(operation, item)
            .await?
            .map(|(item, _)| item))
    }

    /// `item` with a large value's body read, and the bytes of that body (0 without one).
    async fn resolve_sized(
        &self,
        operation: &str,
        item: KvItem,
    ) -> Result<Option<(KvItem, usize)>> {
        if item.body.is_none() {
            return Ok(Some((item, 0)));
        }
        self.bodies
            .resolve(self.backend.as_ref(), operation, item)
            .await
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
            writes.push(KvWrite::prepare_value(OP, &key, value, &options)?);
        }
        if writes.is_empty() {
            return Ok(());
        }
        let small = |w: &KvWrite| !self.bodies.needs_body(w);
        let total = writes
            .iter()
            .map(|w| match small(w) {
                true => w.item_bytes(&w.key),
                false => w.key.len() + POINTER_ITEM_BYTES,
            })
            .sum();
        validate::check_batch_set_size(OP, &writes[0].key, writes.len(), total)?;
        let mut stored = Vec::with_capacity(writes.len());
        let mut new_bodies = Vec::new();
        for write in writes {
            if small(&write) {
                stored.push(write);
                continue;
            }
            match self.bodies.store(write).await {
                Ok((pointer, _)) => {
                    new_bodies.extend(pointer.body.clone());
                    stored.push(pointer);
                }
                Err(e) => {
                    self.bodies.release(new_bodies).await;
                    return Err(e);
                }
            }
        }
        match self.backend.batch_set(stored).await {
            Ok(released) => {
                self.bodies.release(released).await;
                if !new_bodies.is_empty() {
                    self.bodies.collect_in_background(self.backend.clone());
                }
                Ok(())
            }
            Err(e) => {
                if refused(&e) {
                    self.bodies.release(new_bodies).await;
                }
                Err(e)
            }
        }
    }

    /// Deletes the item under `key`; returns whether a live item was deleted.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        validate::check_key("kv.delete", key)?;
        let deleted = self.backend.delete(key).await?;
        self.bodies.release(deleted.released).await;
        Ok(deleted.live)
    }

    /// One page of live items whose key starts with `prefix`, in ascending key order.
    pub async fn list(&self, prefix: &str, options: ListOptions) -> Result<Page<KvItem>> {
        let request = ListRequest::new("kv.list", prefix, &options)?;
        let page = self
            .backend
            .list(prefix, request.start_after.as_deref(), request.limit)
            .await?;
        let page = self.resolve_page(page).await?;
        Ok(ListRequest::finish(page, |item: &KvItem| &item.key))
    }

    /// `page` with large values' bodies read. An item deleted meanwhile, or whose body is
    /// unreadable, is left out, as a backend leaves out a record it cannot read; the next page
    /// still starts after the last item listed. Bodies are read one at a time, and a page ends
    /// early, with a cursor, once the bodies read pass [`validate::LIST_PAGE_BODY_BYTES`]: a page of large
    /// values holds at most that much of them, plus one value.
    async fn resolve_page(&self, page: BackendPage<KvItem>) -> Result<BackendPage<KvItem>> {
        let (mut more, mut resume_after) = (page.more, page.resume_after);
        let total = page.items.len();
        let mut resolved = Vec::with_capacity(total);
        let mut body_bytes = 0usize;
        for item in page.items {
            let key = item.key.clone();
            let item = match self.resolve_sized("kv.list", item).await {
                // Unreadable: left out. Anything else (the store unreachable, throttled) is
                // the listing's error, not a missing item.
                Err(e) if e.kind != crate::error::ErrorKind::Internal => return Err(e),
                Err(e) => Err(e),
                Ok(Some((item, bytes))) => {
                    body_bytes = body_bytes.saturating_add(bytes);
                    Ok(Some(item))
                }
                Ok(None) => Ok(None),
            };
            resolved.push((key, item));
            if body_bytes > validate::LIST_PAGE_BODY_BYTES && resolved.len() < total {
                // The rest waits for the next page, which starts after this item.
                (more, resume_after) = (true, None);
                break;
            }
        }
        let page = BackendPage {
            items: resolved,
            more,
            resume_after,
        };
        Ok(page.readable(
            |(key, _)| key.clone(),
            |(key, item)| {
                item?.ok_or_else(|| {
                    Error::internal("kv.list", format!("{key:?} was deleted meanwhile"))
                })
            },
        ))
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
