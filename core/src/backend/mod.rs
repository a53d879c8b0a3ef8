//! The traits every backend implements, one per domain. They are small and async; the public
//! API (`Kv`, `Artifacts`) validates input before calling them, so implementations receive only
//! valid keys, sizes and page limits.

mod events;
mod timeline;
mod workflows;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::clock::Timestamp;
use crate::clock::{from_ms, now_ms};
use crate::error::Error;
use crate::error::Result;
use crate::types::artifacts::{ArtifactMeta, PutOptions};
use crate::types::kv::{KvItem, SetOptions};
use crate::validate;
use serde_json::Value;

pub(crate) use events::{AppendSignal, EventLog, LogSubscription, local_envelope};
pub use events::{EventBackend, EventEntry, EventStream};
pub(crate) use timeline::in_commit_order;
pub use timeline::{TimelineBackend, TimelineRecord, TimelineScan, index_paths, query_path};
pub use workflows::WorkflowBackend;
pub(crate) use workflows::arn_state_machine;

/// The per-domain backends of one configuration, as a backend's `open` returns them.
pub(crate) struct Backends {
    pub kv: Arc<dyn KvBackend>,
    pub artifacts: Arc<dyn ArtifactBackend>,
    pub events: Arc<dyn EventBackend>,
    pub timeline: Arc<dyn TimelineBackend>,
    /// Who runs the workflows.
    pub workflows: WorkflowEngine,
}

/// Who runs a configuration's workflows.
pub(crate) enum WorkflowEngine {
    /// The embedded ASL engine ([`crate::embedded`]), keeping its state in this database
    /// (local, and memory in a temporary directory).
    Embedded(Arc<crate::sqlite::Db>),
    /// A remote service (AWS Step Functions).
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    Remote(Arc<dyn WorkflowBackend>),
}

pub use crate::types::kv::WriteCondition;

/// One validated KV write, as the public API hands it to a backend.
#[derive(Debug, Clone)]
pub struct KvWrite {
    /// The key (validated).
    pub key: String,
    /// The value.
    pub value: serde_json::Value,
    /// `value` as JSON text (what is stored), within the item size limit.
    pub encoded: String,
    /// When the item expires, if it has a TTL.
    pub expires_at: Option<Timestamp>,
    /// The write's precondition.
    pub condition: WriteCondition,
    /// For a large value's pointer: the key of its body in the artifact store (`encoded` is
    /// then the pointer text, `value` null). See [`crate::kv`].
    pub body: Option<String>,
}

/// What a KV write stored, and the large-value bodies it left unreferenced (the pointers it
/// replaced, and any it swept out as expired), for the public API to delete.
#[derive(Debug)]
pub struct Written {
    /// The stored item.
    pub item: KvItem,
    /// Body keys no stored item points to any more.
    pub released: Vec<String>,
}

/// What a KV delete did.
#[derive(Debug)]
pub struct Deleted {
    /// Whether a live item was deleted.
    pub live: bool,
    /// Body keys no stored item points to any more.
    pub released: Vec<String>,
}

impl KvWrite {
    /// The validated write of `value` under `key` with `options`: key, condition, TTL, depth
    /// and item size (400 KB, DynamoDB's limit) checked, as the embedded engine's DynamoDB
    /// integration writes.
    pub(crate) fn prepare(
        operation: &str,
        key: &str,
        value: Value,
        options: &SetOptions,
    ) -> Result<KvWrite> {
        let write = Self::prepare_value(operation, key, value, options)?;
        validate::check_kv_item_size(operation, key, &write.encoded)?;
        Ok(write)
    }

    /// Like [`KvWrite::prepare`], but the value may be up to [`validate::MAX_KV_VALUE_BYTES`]:
    /// the public API stores a value over the item limit as a body and a pointer.
    pub(crate) fn prepare_value(
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
        let encoded = serde_json::to_string(&value).map_err(|e| {
            Error::invalid_input(operation, key, format!("the value is not JSON: {e}"))
        })?;
        validate::check_kv_value_size(operation, key, &encoded)?;
        Ok(KvWrite {
            key: key.to_owned(),
            value,
            encoded,
            expires_at,
            condition,
            body: None,
        })
    }

    /// Bytes the item takes when its key is `stored_key` (the key with any scope prefix).
    pub(crate) fn item_bytes(&self, stored_key: &str) -> usize {
        stored_key.len() + self.encoded.len() + validate::KV_ITEM_OVERHEAD
    }
}

/// One page of results from a backend: the items and whether more follow the last one.
#[derive(Debug)]
pub struct BackendPage<T> {
    /// Items in ascending key order.
    pub items: Vec<T>,
    /// True when items after the last one exist.
    pub more: bool,
    /// Where the next page starts when it is not after the last item: the key of a last row
    /// that was left out (see [`BackendPage::readable`]).
    pub resume_after: Option<String>,
}

impl<T> BackendPage<T> {
    /// The first `limit` of `rows`, fetched as `limit + 1` so that a further row means more follow.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: usize) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        BackendPage {
            items: rows,
            more,
            resume_after: None,
        }
    }

    /// The first `limit` items of `items`, and whether another follows.
    pub(crate) fn from_iter(items: impl Iterator<Item = T>, limit: usize) -> Self {
        Self::from_rows(items.take(limit + 1).collect(), limit)
    }

    /// Converts every item, failing on the first error.
    pub(crate) fn try_map<U>(self, f: impl FnMut(T) -> Result<U>) -> Result<BackendPage<U>> {
        Ok(BackendPage {
            items: self.items.into_iter().map(f).collect::<Result<_>>()?,
            more: self.more,
            resume_after: self.resume_after,
        })
    }

    /// Decodes every row with `decode`, leaving out the rows that cannot be decoded (stored by
    /// an older version or another tool): one unreadable record never breaks a whole page. The
    /// next page still starts after the last row read, kept or not (`position` names a row).
    pub(crate) fn readable<U>(
        self,
        position: impl Fn(&T) -> String,
        mut decode: impl FnMut(T) -> Result<U>,
    ) -> BackendPage<U> {
        let last = self.items.last().map(&position);
        let mut items = Vec::with_capacity(self.items.len());
        let mut last_kept = false;
        for row in self.items {
            match decode(row) {
                Ok(item) => {
                    items.push(item);
                    last_kept = true;
                }
                Err(_) => last_kept = false,
            }
        }
        BackendPage {
            items,
            more: self.more,
            resume_after: match last {
                Some(last) if !last_kept => Some(last),
                // The last row was kept, or there were none: where the page already said.
                _ => self.resume_after,
            },
        }
    }
}

/// Key-value storage.
///
/// Guarantees every implementation gives (checked by the behaviour suite):
/// - **Expiry**: an item past its `expires_at` is never returned by any read (`get`,
///   `batch_get`, `list`) and counts as absent for `IfAbsent`, even if not yet deleted.
/// - **Atomic conditional writes**: a write's condition is evaluated atomically with the write
///   (compare-and-set), also between processes sharing one local mesh; a failed condition is a
///   `Conflict` error and changes nothing.
/// - **Versions**: an item is created with version 1 (also when re-created after deletion or
///   expiry), and every successful write of it adds exactly 1. `created_at` is kept across
///   overwrites of a live item.
/// - **Read-your-writes**: once a write returns, every later read in any process sees it.
/// - **Listing**: keys come in ascending byte order, strictly after `start_after`; paging from
///   the last key of each page visits every live key exactly once.
/// - **Batches**: `batch_set` applies every entry or none of them.
/// - **Released bodies**: a write or delete that replaces or removes an item whose stored value
///   is a large value's pointer reports its body key in `released`, whenever the backend knows
///   it without another request (expired items swept by the backend itself may go unreported;
///   the public API collects those bodies later).
#[async_trait]
pub trait KvBackend: Send + Sync + std::fmt::Debug {
    /// The live item under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<KvItem>>;
    /// The live items under `keys`, in the same order (`None` where absent).
    async fn batch_get(&self, keys: &[String]) -> Result<Vec<Option<KvItem>>>;
    /// Writes one item if its condition holds; returns the stored item and the bodies released.
    async fn set(&self, write: KvWrite) -> Result<Written>;
    /// Writes every entry (conditions are `Always`) atomically; returns the bodies released.
    async fn batch_set(&self, writes: Vec<KvWrite>) -> Result<Vec<String>>;
    /// Deletes the item; says whether a live item was deleted, and the bodies released.
    async fn delete(&self, key: &str) -> Result<Deleted>;
    /// Up to `limit` live items whose key starts with `prefix`, after `start_after`.
    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<KvItem>>;
}

/// What an artifact `put` stores.
#[derive(Debug, Clone)]
pub enum PutPayload {
    /// Bytes in memory.
    Bytes(Bytes),
    /// The contents of a file, streamed with bounded memory.
    File(std::path::PathBuf),
}

/// Artifact (blob) storage.
///
/// Guarantees every implementation gives (checked by the behaviour suite):
/// - **Atomic puts**: a reader sees either the whole previous artifact or the whole new one,
///   content and metadata together, never a mix or a partial file; a crash during a put leaves
///   the previous artifact (or none) under the key.
/// - **Read-your-writes**: once a put returns, every later read in any process sees it.
/// - **Metadata**: the content type and user metadata (keys lower-cased, like S3) come back as
///   stored.
/// - **Listing**: keys in ascending byte order, strictly after `start_after`; paging visits
///   every key exactly once.
/// - **Bounded memory**: `PutPayload::File` and `get_to_file` stream; memory does not grow with
///   the artifact's size.
#[async_trait]
pub trait ArtifactBackend: Send + Sync + std::fmt::Debug {
    /// Stores `payload` under `key`, replacing any previous artifact.
    async fn put(
        &self,
        key: &str,
        payload: PutPayload,
        options: &PutOptions,
    ) -> Result<ArtifactMeta>;
    /// The artifact's metadata and content, if it exists.
    async fn get(&self, key: &str) -> Result<Option<(ArtifactMeta, Bytes)>>;
    /// Streams the artifact into `path` (written atomically); `None` if it does not exist.
    async fn get_to_file(&self, key: &str, path: &Path) -> Result<Option<ArtifactMeta>>;
    /// The artifact's metadata, if it exists.
    async fn head(&self, key: &str) -> Result<Option<ArtifactMeta>>;
    /// Up to `limit` artifacts whose key starts with `prefix`, after `start_after`.
    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<ArtifactMeta>>;
    /// Deletes the artifact; returns whether it existed.
    async fn delete(&self, key: &str) -> Result<bool>;
}

/// The version and creation time a write gets, given the live item it replaces (its version
/// and `created_at` in epoch ms), or the `Conflict` error when the write's condition fails.
/// Shared by the backends that evaluate conditions themselves (memory, local).
pub(crate) fn resolve_write(
    write: &KvWrite,
    live: Option<(u64, i64)>,
    now_ms: i64,
) -> Result<(u64, i64)> {
    use crate::error::{Error, ErrorKind};
    let conflict = |why: String| {
        Error::keyed(ErrorKind::Conflict, "kv.set", &write.key, why)
            .with_context("condition", format!("{:?}", write.condition))
    };
    match (write.condition, live) {
        (WriteCondition::IfAbsent, Some((version, _))) => Err(conflict(format!(
            "if_absent failed: the key already holds version {version}; read it, or write with if_version"
        ))),
        (WriteCondition::IfVersion(expected), None) => Err(conflict(format!(
            "if_version={expected} failed: the key has no item (deleted or expired); write with if_absent to create it"
        ))),
        (WriteCondition::IfVersion(expected), Some((version, _))) if version != expected => {
            Err(conflict(format!(
                "if_version={expected} failed: the current version is {version}; re-read the item and retry with its version"
            )))
        }
        (_, Some((version, created))) => Ok((version + 1, created)),
        (_, None) => Ok((1, now_ms)),
    }
}
