//! KV for the memory backend: a `BTreeMap` behind a mutex.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use serde_json::Value;

use crate::backend::{BackendPage, Deleted, KvBackend, KvWrite, Written, resolve_write};
use crate::clock::{from_ms, now_ms};
use crate::error::Result;
use crate::types::kv::KvItem;

#[derive(Debug, Clone)]
struct Stored {
    value: Value,
    body: Option<String>,
    version: u64,
    created_ms: i64,
    updated_ms: i64,
    expires_ms: Option<i64>,
}

impl Stored {
    fn live(&self, now: i64) -> bool {
        self.expires_ms.is_none_or(|e| e > now)
    }

    fn item(&self, key: &str) -> KvItem {
        KvItem {
            key: key.to_owned(),
            value: self.value.clone(),
            body: self.body.clone(),
            version: self.version,
            created_at: from_ms(self.created_ms),
            updated_at: from_ms(self.updated_ms),
            expires_at: self.expires_ms.map(from_ms),
        }
    }
}

/// The memory backend's KV store.
#[derive(Debug, Default)]
pub(super) struct MemoryKv {
    items: Mutex<BTreeMap<String, Stored>>,
    writes: AtomicU64,
}

/// Every this many writes, expired items are swept out of the map.
const SWEEP_EVERY: u64 = 4096;

impl MemoryKv {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Stored>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn live_item(map: &BTreeMap<String, Stored>, key: &str, now: i64) -> Option<KvItem> {
    map.get(key).filter(|s| s.live(now)).map(|s| s.item(key))
}

/// Applies `write` to `map` if its condition holds; returns the item and the body it replaced.
fn apply(
    map: &mut BTreeMap<String, Stored>,
    write: KvWrite,
    now: i64,
) -> Result<(KvItem, Option<String>)> {
    let live = map
        .get(&write.key)
        .filter(|s| s.live(now))
        .map(|s| (s.version, s.created_ms));
    let (version, created_ms) = resolve_write(&write, live, now)?;
    let stored = Stored {
        value: write.value,
        body: write.body,
        version,
        created_ms,
        updated_ms: now,
        expires_ms: write.expires_at.map(|t| t.timestamp_millis()),
    };
    let item = stored.item(&write.key);
    let replaced = map.insert(write.key, stored).and_then(|old| old.body);
    Ok((item, replaced))
}

/// Removes the expired items of `map`; returns their bodies.
fn sweep(map: &mut BTreeMap<String, Stored>, now: i64) -> Vec<String> {
    let mut released = Vec::new();
    map.retain(|_, s| {
        let live = s.live(now);
        if !live {
            released.extend(s.body.take());
        }
        live
    });
    released
}

#[async_trait]
impl KvBackend for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<KvItem>> {
        Ok(live_item(&self.lock(), key, now_ms()))
    }

    async fn batch_get(&self, keys: &[String]) -> Result<Vec<Option<KvItem>>> {
        let map = self.lock();
        let now = now_ms();
        Ok(keys.iter().map(|k| live_item(&map, k, now)).collect())
    }

    async fn set(&self, write: KvWrite) -> Result<Written> {
        let now = now_ms();
        let mut map = self.lock();
        let (item, replaced) = apply(&mut map, write, now)?;
        let mut released: Vec<String> = replaced.into_iter().collect();
        if self.writes.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            released.extend(sweep(&mut map, now));
        }
        Ok(Written { item, released })
    }

    async fn batch_set(&self, writes: Vec<KvWrite>) -> Result<Vec<String>> {
        let now = now_ms();
        let mut map = self.lock();
        let mut released = Vec::new();
        for write in writes {
            released.extend(apply(&mut map, write, now)?.1);
        }
        Ok(released)
    }

    async fn delete(&self, key: &str) -> Result<Deleted> {
        let now = now_ms();
        let removed = self.lock().remove(key);
        Ok(Deleted {
            live: removed.as_ref().is_some_and(|s| s.live(now)),
            released: removed.and_then(|s| s.body).into_iter().collect(),
        })
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<KvItem>> {
        let listing = crate::scope::kv_listing("kv.list", prefix)?;
        let map = self.lock();
        let now = now_ms();
        let live = super::prefix_range(&map, prefix, start_after)
            .filter(|(k, _)| {
                listing != crate::scope::KvListing::Root || !crate::scope::hidden_from_root(k)
            })
            .filter(|(_, s)| s.live(now))
            .map(|(k, s)| s.item(k));
        Ok(BackendPage::from_iter(live, limit))
    }
}
