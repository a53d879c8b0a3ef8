//! KV in a scope: keys stored under the scope's prefix, handed back without it.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Scope, Unscoped, unscope_in_place, unscoped_page};
use crate::backend::{BackendPage, Deleted, KvBackend, KvWrite, Written};
use crate::error::Result;
use crate::types::kv::KvItem;
use crate::validate;

/// A [`KvBackend`] confined to one scope.
#[derive(Debug)]
pub(crate) struct ScopedKv {
    inner: Arc<dyn KvBackend>,
    scope: Scope,
}

impl ScopedKv {
    /// `inner` seen through `scope`.
    pub(crate) fn new(inner: Arc<dyn KvBackend>, scope: Scope) -> Self {
        ScopedKv { inner, scope }
    }

    /// The stored write of `write`: its key prefixed, the item size checked again.
    fn write(&self, operation: &str, mut write: KvWrite) -> Result<KvWrite> {
        let key = self.scope.key(operation, &write.key)?;
        validate::check_kv_item_size(operation, &key, &write.encoded).unscoped(&self.scope)?;
        write.key = key;
        Ok(write)
    }

    /// `item` as the scoped client sees it.
    fn unscoped(&self, operation: &str, mut item: KvItem) -> Result<KvItem> {
        unscope_in_place(&self.scope, operation, &mut item.key)?;
        Ok(item)
    }
}

#[async_trait]
impl KvBackend for ScopedKv {
    async fn get(&self, key: &str) -> Result<Option<KvItem>> {
        let stored = self.scope.key("kv.get", key)?;
        match self.inner.get(&stored).await.unscoped(&self.scope)? {
            Some(item) => Ok(Some(self.unscoped("kv.get", item)?)),
            None => Ok(None),
        }
    }

    async fn batch_get(&self, keys: &[String]) -> Result<Vec<Option<KvItem>>> {
        let stored = keys
            .iter()
            .map(|k| self.scope.key("kv.batch_get", k))
            .collect::<Result<Vec<_>>>()?;
        self.inner
            .batch_get(&stored)
            .await
            .unscoped(&self.scope)?
            .into_iter()
            .map(|item| item.map(|i| self.unscoped("kv.batch_get", i)).transpose())
            .collect()
    }

    /// The released body keys stay as stored: the public API deletes them through the root
    /// artifact store.
    async fn set(&self, write: KvWrite) -> Result<Written> {
        let write = self.write("kv.set", write)?;
        let written = self.inner.set(write).await.unscoped(&self.scope)?;
        Ok(Written {
            item: self.unscoped("kv.set", written.item)?,
            released: written.released,
        })
    }

    async fn batch_set(&self, writes: Vec<KvWrite>) -> Result<Vec<String>> {
        let writes = writes
            .into_iter()
            .map(|w| self.write("kv.batch_set", w))
            .collect::<Result<Vec<_>>>()?;
        if let Some(first) = writes.first() {
            let total = writes.iter().map(|w| w.item_bytes(&w.key)).sum();
            validate::check_batch_set_size("kv.batch_set", &first.key, writes.len(), total)
                .unscoped(&self.scope)?;
        }
        self.inner.batch_set(writes).await.unscoped(&self.scope)
    }

    async fn delete(&self, key: &str) -> Result<Deleted> {
        let stored = self.scope.key("kv.delete", key)?;
        self.inner.delete(&stored).await.unscoped(&self.scope)
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<KvItem>> {
        let stored_prefix = self.scope.key("kv.list", prefix)?;
        let stored_after = start_after
            .map(|after| self.scope.key("kv.list", after))
            .transpose()?;
        let page = self
            .inner
            .list(&stored_prefix, stored_after.as_deref(), limit)
            .await
            .unscoped(&self.scope)?;
        unscoped_page(&self.scope, "kv.list", page, |item| &mut item.key)
    }
}
