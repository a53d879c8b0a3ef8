//! Large values: a KV value whose item would pass DynamoDB's 400 KB limit is kept as a *body*
//! in the artifact store and a small *pointer* item in the KV, on every backend, so that what
//! works on the local backend works on AWS. Clients never see the pointer: `get`, `batch_get`
//! and `list` hand out the value, and TTL, conditions and versions are the pointer item's.
//!
//! Order, and what a crash or a cancellation leaves:
//! - `set` writes the body first, under a fresh key, then the pointer with the write's
//!   condition. Stopped in between, the store keeps the previous item, whole, and an
//!   unreferenced body; a refused condition deletes the new body at once.
//! - The bodies a write or delete replaced, which the backend reports, are deleted after it.
//! - A reader whose body is missing (a concurrent write replaced the item and deleted it) reads
//!   the item again.
//! - Collection: after a large write, a background pass examines a few of the scope's bodies
//!   (a rotating cursor; on a client's first large write, then at most every minute) and
//!   deletes those whose TTL passed, and those older than the grace
//!   period (`AGENT_MESH_KV_BODY_GRACE_SECONDS`, 900 by default) that their key's item does
//!   not point to. The grace period covers a body whose pointer is still being written.
//!
//! Where: `<scope prefix>.agent-mesh/kv-values/<32 hex of the key's SHA-256>/<uuid>` in the
//! artifact store (the S3 bucket on AWS), inside the writer's scope so that the scope's IAM
//! policy covers it. The artifacts API refuses keys with a `.agent-mesh` segment and leaves them
//! out of listings. Each body records the full KV key it belongs to, so a reader checks that
//! the body is the key's.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::Value;

use crate::backend::{ArtifactBackend, KvBackend, KvWrite, PutPayload};
use crate::clock::now_ms;
use crate::error::{Error, ErrorKind, Result};
use crate::types::artifacts::PutOptions;
use crate::types::kv::{BODY_DIR, BODY_POINTER, KvItem, body_hash};
use crate::validate;

/// Body metadata: the full KV key (base64url), and the expiry in epoch ms.
const META_KEY: &str = "kv-key";
const META_EXPIRES: &str = "kv-expires-at-ms";
/// Bodies one collection pass examines.
const COLLECT_BATCH: usize = 16;
/// How often a client starts collection at most, and the passes it may run in a row.
const COLLECT_EVERY: Duration = Duration::from_secs(60);
const COLLECT_PASSES: usize = 8;
/// Reads of an item whose body went missing before a read gives up.
const RESOLVE_ATTEMPTS: usize = 4;
/// The grace period's default, and the variable that sets it (seconds).
const DEFAULT_GRACE: Duration = Duration::from_secs(900);
const GRACE_VARIABLE: &str = "AGENT_MESH_KV_BODY_GRACE_SECONDS";
/// Below this grace period a writer checks, after storing a pointer, that its body survived.
const CONFIRM_BELOW: Duration = Duration::from_secs(300);

/// The bodies of one client's scope.
pub(crate) struct Bodies {
    /// The root (unscoped) artifact store: pointers hold full body keys.
    artifacts: Arc<dyn ArtifactBackend>,
    /// The client's scope prefix (`tenants/t/a/`), or empty.
    prefix: String,
    /// The state of collection, shared by the passes.
    collection: Arc<Collection>,
}

/// When collection last ran and where it goes on.
#[derive(Default)]
struct Collection {
    /// Where the next pass starts.
    cursor: Mutex<Option<String>>,
    /// Whether a pass is running.
    running: AtomicBool,
    /// When the last pass started.
    last: Mutex<Option<Instant>>,
}

impl Bodies {
    pub(crate) fn new(artifacts: Arc<dyn ArtifactBackend>, prefix: &str) -> Self {
        Bodies {
            artifacts,
            prefix: prefix.to_owned(),
            collection: Arc::default(),
        }
    }

    /// `key` as the backend stores it (with the scope prefix).
    pub(crate) fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Whether `write` (of a key of this scope) is over the item limit, so its value must be
    /// stored as a body.
    pub(crate) fn needs_body(&self, write: &KvWrite) -> bool {
        // As `write.item_bytes(full key)`, without building the key on every write.
        self.prefix.len() + write.item_bytes(&write.key) > validate::MAX_KV_ITEM_BYTES
    }

    /// Stores `write`'s value as a body; returns the pointer write that replaces it, and the
    /// value.
    pub(crate) async fn store(&self, mut write: KvWrite) -> Result<(KvWrite, Value)> {
        let hash = body_hash(&self.full_key(&write.key));
        let body_key = format!(
            "{}{BODY_DIR}{hash}/{}",
            self.prefix,
            uuid::Uuid::new_v4().simple()
        );
        let encoded = std::mem::replace(&mut write.encoded, format!("{BODY_POINTER}{body_key}"));
        self.put_body(&write, &body_key, encoded).await?;
        crate::failpoint::pause("kv.set:body-stored");
        write.body = Some(body_key);
        let value = std::mem::take(&mut write.value);
        Ok((write, value))
    }

    /// Writes the body `encoded` of `write` under `body_key`, recording its key and expiry.
    async fn put_body(&self, write: &KvWrite, body_key: &str, encoded: String) -> Result<()> {
        let mut options = PutOptions::content_type("application/json");
        options.metadata.insert(
            META_KEY.into(),
            URL_SAFE_NO_PAD.encode(self.full_key(&write.key)),
        );
        if let Some(expires) = write.expires_at {
            options
                .metadata
                .insert(META_EXPIRES.into(), expires.timestamp_millis().to_string());
        }
        self.artifacts
            .put(body_key, PutPayload::Bytes(Bytes::from(encoded)), &options)
            .await
            .map_err(|e| body_error(e, "kv.set", &write.key))?;
        Ok(())
    }

    /// Deletes bodies no item points to any more. A failure leaves garbage that a collection
    /// pass deletes later, so it is not the caller's error.
    pub(crate) async fn release(&self, body_keys: Vec<String>) {
        for body_key in body_keys {
            let _ = self.artifacts.delete(&body_key).await;
        }
    }

    /// Makes sure the body of `pointer`, just stored, still exists: with a grace period shorter
    /// than a write, a collection pass could have deleted it before the pointer was stored;
    /// it is then written again from `value`.
    pub(crate) async fn confirm(&self, pointer: &KvWrite, value: &Value) -> Result<()> {
        let Some(body_key) = &pointer.body else {
            return Ok(());
        };
        if grace() >= CONFIRM_BELOW || self.artifacts.head(body_key).await?.is_some() {
            return Ok(());
        }
        self.put_body(pointer, body_key, value.to_string()).await
    }

    /// The value of `item` (an item of this scope that has a body), or `None` when the body is
    /// missing.
    async fn read(
        &self,
        operation: &str,
        item: &KvItem,
        body_key: &str,
    ) -> Result<Option<(Value, usize)>> {
        let Some((meta, data)) = self
            .artifacts
            .get(body_key)
            .await
            .map_err(|e| body_error(e, operation, &item.key))?
        else {
            return Ok(None);
        };
        let owner = meta.metadata.get(META_KEY).map(String::as_str);
        if owner != Some(URL_SAFE_NO_PAD.encode(self.full_key(&item.key)).as_str()) {
            return Err(Error::keyed(
                ErrorKind::Internal,
                operation,
                &item.key,
                format!(
                    "the item points to the body '{body_key}', which belongs to another key; delete the item and write it again"
                ),
            ));
        }
        serde_json::from_slice(&data).map(|value| Some((value, data.len()))).map_err(|e| {
            Error::keyed(
                ErrorKind::Internal,
                operation,
                &item.key,
                format!("the body '{body_key}' of the large value is not JSON ({e}); delete the item and write it again"),
            )
        })
    }

    /// `item` with its value read from its body when it has one, and the bytes of the body
    /// read (0 for an item without one); `None` when the item was deleted meanwhile. A body
    /// gone missing means a concurrent write replaced the item: it is read again from `kv`.
    pub(crate) async fn resolve(
        &self,
        kv: &dyn KvBackend,
        operation: &str,
        item: KvItem,
    ) -> Result<Option<(KvItem, usize)>> {
        let mut item = item;
        for _ in 0..RESOLVE_ATTEMPTS {
            let Some(body_key) = item.body.take() else {
                return Ok(Some((item, 0)));
            };
            if let Some((value, bytes)) = self.read(operation, &item, &body_key).await? {
                item.value = value;
                return Ok(Some((item, bytes)));
            }
            match kv.get(&item.key).await? {
                Some(again) => item = again,
                None => return Ok(None),
            }
        }
        Err(Error::keyed(
            ErrorKind::Unavailable,
            operation,
            &item.key,
            "the large value's body kept changing while it was read (concurrent writes); retry",
        ))
    }

    /// Starts collection in the background: on this client's first large write, then at most
    /// every [`COLLECT_EVERY`]; not while a pass runs, nor where no tokio runtime runs this call.
    /// A pass that finds only garbage is followed by another at once (at most
    /// [`COLLECT_PASSES`]).
    pub(crate) fn collect_in_background(&self, kv: Arc<dyn KvBackend>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        {
            let mut last = self
                .collection
                .last
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < COLLECT_EVERY)
                || self.collection.running.swap(true, Ordering::AcqRel)
            {
                return;
            }
            *last = Some(Instant::now());
        }
        let pass = Bodies {
            artifacts: self.artifacts.clone(),
            prefix: self.prefix.clone(),
            collection: self.collection.clone(),
        };
        runtime.spawn(async move {
            // Cleared however the task ends, dropped with its runtime included.
            let _running = Running(pass.collection.clone());
            for _ in 0..COLLECT_PASSES {
                match pass.collect(kv.as_ref()).await {
                    Ok(deleted) if deleted == COLLECT_BATCH => continue,
                    _ => break,
                }
            }
        });
    }

    /// One collection pass over up to [`COLLECT_BATCH`] bodies; returns how many it deleted.
    async fn collect(&self, kv: &dyn KvBackend) -> Result<usize> {
        let dir = format!("{}{BODY_DIR}", self.prefix);
        let after = self
            .collection
            .cursor
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let page = self
            .artifacts
            .list(&dir, after.as_deref(), COLLECT_BATCH)
            .await?;
        *self
            .collection
            .cursor
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = match page.more {
            true => page.items.last().map(|m| m.key.clone()),
            false => None,
        };
        let now = now_ms();
        let grace = i64::try_from(grace().as_millis()).unwrap_or(i64::MAX);
        let mut deleted = 0;
        for listed in page.items {
            let Some(meta) = self.artifacts.head(&listed.key).await? else {
                continue;
            };
            let expired = meta
                .metadata
                .get(META_EXPIRES)
                .and_then(|ms| ms.parse::<i64>().ok())
                .is_some_and(|ms| ms <= now);
            let settled = now.saturating_sub(meta.last_modified.timestamp_millis()) >= grace;
            let garbage = expired || (settled && !self.is_referenced(kv, &meta).await?);
            if garbage && self.artifacts.delete(&meta.key).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Whether the item of the key the body records points to the body.
    async fn is_referenced(
        &self,
        kv: &dyn KvBackend,
        meta: &crate::types::artifacts::ArtifactMeta,
    ) -> Result<bool> {
        let full_key = meta
            .metadata
            .get(META_KEY)
            .and_then(|k| URL_SAFE_NO_PAD.decode(k).ok())
            .and_then(|k| String::from_utf8(k).ok());
        let Some(key) = full_key
            .as_deref()
            .and_then(|k| k.strip_prefix(&self.prefix))
        else {
            return Ok(false);
        };
        Ok(kv
            .get(key)
            .await?
            .is_some_and(|item| item.body.as_deref() == Some(meta.key.as_str())))
    }
}

/// Marks collection as not running when dropped.
struct Running(Arc<Collection>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
    }
}

/// The grace period of collection (see the module doc).
fn grace() -> Duration {
    std::env::var(GRACE_VARIABLE)
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .unwrap_or(DEFAULT_GRACE)
}

/// An artifact store error while handling a large value, named after the KV operation.
fn body_error(mut error: Error, operation: &str, key: &str) -> Error {
    error.message = format!(
        "{operation} '{key}': the large value's body in the artifact store: {}",
        error.message
    );
    error
}
