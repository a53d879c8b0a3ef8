//! `mesh.kv`: JSON values with versions, TTL and conditional writes.

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{IntoJs, Result, invalid};
use crate::json::Json;
use crate::promise::promise;

/// A stored KV item.
// It reaches JavaScript through `kv_item` (one call of a JS function), not napi-rs's code.
#[napi(object, object_to_js = false)]
pub struct KvItem {
    /// The item's key.
    pub key: String,
    /// The JSON value.
    #[napi(ts_type = "any")]
    pub value: Json,
    /// 1 when created, plus 1 per write; pass it as `ifVersion`.
    pub version: i64,
    /// When the item was first written.
    pub created_at: DateTime<Utc>,
    /// When the item was last written.
    pub updated_at: DateTime<Utc>,
    /// When the item expires, or null.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<agent_mesh::KvItem> for KvItem {
    fn from(i: agent_mesh::KvItem) -> Self {
        KvItem {
            key: i.key,
            value: Json(i.value),
            version: i.version as i64,
            created_at: i.created_at,
            updated_at: i.updated_at,
            expires_at: i.expires_at,
        }
    }
}

/// Options of `kv.set` / `kv.batchSet`: a TTL (`ttlSeconds` or `ttlHours`) and a condition.
#[napi(object)]
#[derive(Default)]
pub struct SetOptions {
    /// Expire after this many seconds.
    pub ttl_seconds: Option<f64>,
    /// Expire after this many hours.
    pub ttl_hours: Option<f64>,
    /// Write only if the current version is this (else `Conflict`).
    pub if_version: Option<i64>,
    /// Write only if no live item has the key (else `Conflict`).
    pub if_absent: Option<bool>,
}

/// Options of a listing.
#[napi(object)]
#[derive(Default)]
pub struct ListOptions {
    /// Most items per page (default 100, at most 1000).
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of KV items.
#[napi(object)]
pub struct KvPage {
    /// The items, in ascending key order.
    pub items: Vec<KvItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn core_options(
    operation: &str,
    key: &str,
    o: Option<SetOptions>,
) -> Result<agent_mesh::SetOptions> {
    let o = o.unwrap_or_default();
    let if_version = match o.if_version {
        Some(v) if v < 0 => {
            return Err(invalid(operation, key, "ifVersion must be a version >= 1"));
        }
        v => v.map(|v| v as u64),
    };
    agent_mesh::SetOptions::from_parts(
        operation,
        key,
        o.ttl_seconds,
        o.ttl_hours,
        if_version,
        o.if_absent.unwrap_or(false),
    )
    .js()
}

pub(crate) fn list_options(o: Option<ListOptions>) -> agent_mesh::ListOptions {
    let o = o.unwrap_or_default();
    agent_mesh::ListOptions::default()
        .with_limit(o.limit.map(|l| l as usize))
        .with_cursor(o.cursor)
}

/// The KV namespace of a `MeshClient`.
#[napi]
pub struct Kv {
    mesh: agent_mesh::MeshClient,
}

impl Kv {
    pub(crate) fn new(mesh: agent_mesh::MeshClient) -> Self {
        Kv { mesh }
    }
}

#[napi]
impl Kv {
    /// The live item under `key`, or null.
    #[napi(ts_return_type = "Promise<KvItem | null>")]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        key: String,
    ) -> Result<PromiseRaw<'env, Option<KvItem>>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            Ok(mesh.kv().get(&key).await.js()?.map(Into::into))
        })
    }

    /// Stores a JSON value under `key`; resolves to the stored item. A value over the 400 KB
    /// item limit is kept in the artifact store, transparently. Rejects with code `Conflict`
    /// when `ifVersion`/`ifAbsent` does not hold, `TooLarge` over 64 MiB of JSON.
    #[napi(ts_args_type = "key: string, value: any, options?: SetOptions")]
    pub fn set<'env>(
        &self,
        env: &'env Env,
        key: String,
        value: Value,
        options: Option<SetOptions>,
    ) -> Result<PromiseRaw<'env, KvItem>> {
        let options = core_options("kv.set", &key, options)?;
        let mesh = self.mesh.clone();
        promise(env, async move {
            Ok(mesh.kv().set(&key, value, options).await.js()?.into())
        })
    }

    /// Deletes the item under `key`; resolves to whether a live item was deleted.
    #[napi]
    pub fn delete<'env>(&self, env: &'env Env, key: String) -> Result<PromiseRaw<'env, bool>> {
        let mesh = self.mesh.clone();
        promise(env, async move { mesh.kv().delete(&key).await.js() })
    }

    /// One page of live items whose key starts with `prefix`, in ascending key order.
    #[napi]
    pub fn list<'env>(
        &self,
        env: &'env Env,
        prefix: Option<String>,
        options: Option<ListOptions>,
    ) -> Result<PromiseRaw<'env, KvPage>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            let prefix = prefix.unwrap_or_default();
            let page = mesh.kv().list(&prefix, list_options(options)).await.js()?;
            Ok(KvPage {
                items: page.items.into_iter().map(Into::into).collect(),
                next_cursor: page.next_cursor,
            })
        })
    }

    /// The live items under `keys`, in the same order (null where absent).
    #[napi(ts_return_type = "Promise<Array<KvItem | null>>")]
    pub fn batch_get<'env>(
        &self,
        env: &'env Env,
        keys: Vec<String>,
    ) -> Result<PromiseRaw<'env, Vec<Option<KvItem>>>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let items = mesh.kv().batch_get(&refs).await.js()?;
            Ok(items.into_iter().map(|i| i.map(Into::into)).collect())
        })
    }

    /// Stores every entry (an object, or an array of `[key, value]` pairs) with one TTL, all
    /// or none; at most 100 entries.
    #[napi(
        ts_args_type = "entries: Record<string, any> | Array<[string, any]>, options?: SetOptions",
        ts_return_type = "Promise<void>"
    )]
    pub fn batch_set<'env>(
        &self,
        env: &'env Env,
        entries: Value,
        options: Option<SetOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            const OP: &str = "kv.batch_set";
            let pairs: Vec<(String, Value)> = match entries {
                Value::Object(map) => map.into_iter().collect(),
                Value::Array(items) => items
                    .into_iter()
                    .map(|pair| match pair {
                        Value::Array(mut kv) if kv.len() == 2 => match (kv.pop(), kv.pop()) {
                            (Some(v), Some(Value::String(k))) => Ok((k, v)),
                            _ => Err(invalid(OP, "", "each pair must be [key: string, value]")),
                        },
                        _ => Err(invalid(OP, "", "each entry must be a [key, value] pair")),
                    })
                    .collect::<Result<_>>()?,
                _ => {
                    return Err(invalid(
                        OP,
                        "",
                        "entries must be an object or an array of [key, value] pairs",
                    ));
                }
            };
            let first = pairs.first().map(|(k, _)| k.clone()).unwrap_or_default();
            let options = core_options(OP, &first, options)?;
            mesh.kv().batch_set(pairs, options).await.js()
        })
    }
}
