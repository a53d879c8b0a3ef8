//! KV on the local backend: the `kv` table of the mesh database.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend::{BackendPage, Deleted, KvBackend, KvWrite, Written, resolve_write};
use crate::clock::{from_ms, now_ms};
use crate::error::Result;
use crate::sqlite::{Db, decode_json, sql_error};
use crate::types::kv::{KvItem, pointer_body};
use serde_json::Value;

/// The lazy sweep each write transaction runs: it deletes at most 16 expired items. The limit
/// is a literal, not a bound parameter: a parameter in the subquery's LIMIT makes SQLite
/// re-prepare the statement on every execution (~9 µs a write, measured).
/// It returns the pointer text of each swept item that was a large value's pointer.
const SWEEP: &str = "DELETE FROM kv WHERE key IN \
     (SELECT key FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT 16) \
     RETURNING key, CASE WHEN value GLOB '@*' THEN value END";
/// The item a write replaces (live or expired): its version, creation time, expiry and, when
/// its value is a large value's pointer, the pointer text.
const PREVIOUS: &str = "SELECT version, created_at, expires_at, \
     CASE WHEN value GLOB '@*' THEN value END FROM kv WHERE key = ?1";

const GET: &str = "SELECT key, value, version, created_at, updated_at, expires_at FROM kv \
                   WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)";
const LIST_BOUNDED: &str = "SELECT key, value, version, created_at, updated_at, expires_at FROM kv \
    WHERE key >= ?1 AND key > ?2 AND key < ?3 AND (expires_at IS NULL OR expires_at > ?4) \
    ORDER BY key LIMIT ?5";
const LIST_UNBOUNDED: &str = "SELECT key, value, version, created_at, updated_at, expires_at FROM kv \
    WHERE key >= ?1 AND key > ?2 AND (expires_at IS NULL OR expires_at > ?4) \
    ORDER BY key LIMIT ?5";

/// The local backend's KV store.
#[derive(Debug)]
pub(super) struct LocalKv {
    db: Arc<Db>,
}

impl LocalKv {
    pub(super) fn new(db: Arc<Db>) -> Self {
        LocalKv { db }
    }
}

/// A row as read, before its JSON value is decoded.
struct RawItem {
    key: String,
    value: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
    expires_at: Option<i64>,
}

impl RawItem {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawItem {
            key: row.get(0)?,
            value: row.get(1)?,
            version: row.get(2)?,
            created_at: row.get(3)?,
            updated_at: row.get(4)?,
            expires_at: row.get(5)?,
        })
    }

    fn decode(self, operation: &str) -> Result<KvItem> {
        let body = pointer_body(&self.key, &self.value).map(str::to_owned);
        let value = match body {
            Some(_) => Value::Null,
            None => decode_json(operation, &self.key, &self.value)?,
        };
        Ok(KvItem {
            value,
            body,
            key: self.key,
            version: self.version as u64,
            created_at: from_ms(self.created_at),
            updated_at: from_ms(self.updated_at),
            expires_at: self.expires_at.map(from_ms),
        })
    }
}

fn get_raw(conn: &Connection, key: &str, now: i64) -> rusqlite::Result<Option<RawItem>> {
    conn.prepare_cached(GET)?
        .query_row(params![key, now], RawItem::from_row)
        .optional()
}

/// The body keys of the pointer texts among `(key, text)` rows.
fn bodies(
    rows: impl IntoIterator<Item = (String, Option<String>)>,
) -> impl Iterator<Item = String> {
    rows.into_iter()
        .filter_map(|(key, text)| pointer_body(&key, text.as_deref()?).map(str::to_owned))
}

/// Applies one write inside a transaction: checks the condition against the live item, writes,
/// and sweeps a few expired items. Returns the item and the bodies released.
fn apply(conn: &Connection, write: &KvWrite, now: i64) -> Result<Written> {
    let sql = |e| sql_error("kv.set", &write.key, e);
    let previous = conn
        .prepare_cached(PREVIOUS)
        .and_then(|mut s| {
            s.query_row(params![write.key], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .optional()
        })
        .map_err(sql)?;
    let live = previous
        .as_ref()
        .filter(|(_, _, expires, _)| expires.is_none_or(|e| e > now))
        .map(|(version, created, _, _)| (*version, *created));
    let (version, created_at) = resolve_write(write, live, now)?;
    let expires_at = write.expires_at.map(|t| t.timestamp_millis());
    conn.prepare_cached(
        "INSERT OR REPLACE INTO kv (key, value, version, created_at, updated_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            write.key,
            write.encoded,
            version as i64,
            created_at,
            now,
            expires_at
        ])
    })
    .map_err(sql)?;
    let mut released: Vec<String> = bodies(previous.map(|p| (write.key.clone(), p.3))).collect();
    released.extend(sweep(conn, now).map_err(sql)?);
    Ok(Written {
        item: KvItem {
            key: write.key.clone(),
            value: write.value.clone(),
            body: write.body.clone(),
            version,
            created_at: from_ms(created_at),
            updated_at: from_ms(now),
            expires_at: expires_at.map(from_ms),
        },
        released,
    })
}

/// Deletes up to 16 expired items; returns the bodies of those that were pointers.
fn sweep(conn: &Connection, now: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(SWEEP)?;
    let rows = stmt
        .query_map(params![now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(bodies(rows).collect())
}

#[async_trait]
impl KvBackend for LocalKv {
    async fn get(&self, key: &str) -> Result<Option<KvItem>> {
        let raw = self.db.read("kv.get", key, |c| get_raw(c, key, now_ms()))?;
        raw.map(|r| r.decode("kv.get")).transpose()
    }

    async fn batch_get(&self, keys: &[String]) -> Result<Vec<Option<KvItem>>> {
        let first = keys.first().map(String::as_str).unwrap_or("");
        let raws = self.db.read("kv.batch_get", first, |c| {
            let now = now_ms();
            keys.iter()
                .map(|k| get_raw(c, k, now))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        raws.into_iter()
            .map(|r| r.map(|r| r.decode("kv.batch_get")).transpose())
            .collect()
    }

    async fn set(&self, write: KvWrite) -> Result<Written> {
        let key = write.key.clone();
        self.db
            .write("kv.set", &key, move |tx| apply(tx, &write, now_ms()))
            .await
    }

    async fn batch_set(&self, writes: Vec<KvWrite>) -> Result<Vec<String>> {
        let first = writes[0].key.clone();
        self.db
            .write("kv.batch_set", &first, move |tx| {
                let now = now_ms();
                let mut released = Vec::new();
                for write in &writes {
                    released.extend(apply(tx, write, now)?.released);
                }
                Ok(released)
            })
            .await
    }

    async fn delete(&self, key: &str) -> Result<Deleted> {
        let owned = key.to_owned();
        self.db
            .write("kv.delete", key, move |tx| {
                let sql = |e| sql_error("kv.delete", &owned, e);
                let now = now_ms();
                let removed = tx
                    .prepare_cached(
                        "DELETE FROM kv WHERE key = ?1 RETURNING \
                         expires_at IS NULL OR expires_at > ?2, \
                         CASE WHEN value GLOB '@*' THEN value END",
                    )
                    .and_then(|mut s| {
                        s.query_row(params![owned, now], |r| {
                            Ok((r.get::<_, bool>(0)?, r.get::<_, Option<String>>(1)?))
                        })
                        .optional()
                    })
                    .map_err(sql)?;
                Ok(match removed {
                    Some((live, text)) => Deleted {
                        live,
                        released: bodies([(owned.clone(), text)]).collect(),
                    },
                    None => Deleted {
                        live: false,
                        released: Vec::new(),
                    },
                })
            })
            .await
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<KvItem>> {
        let ranges = crate::scope::kv_list_ranges("kv.list", prefix)?;
        let raws = self.db.read("kv.list", prefix, |c| {
            let mut rows = Vec::new();
            for (lower, upper) in &ranges {
                let sql = if upper.is_some() {
                    LIST_BOUNDED
                } else {
                    LIST_UNBOUNDED
                };
                let mut stmt = c.prepare_cached(sql)?;
                let wanted = limit + 1 - rows.len();
                let found = stmt.query_map(
                    params![
                        lower,
                        start_after.unwrap_or(""),
                        upper.as_deref().unwrap_or(""),
                        now_ms(),
                        wanted as i64
                    ],
                    RawItem::from_row,
                )?;
                for row in found {
                    rows.push(row?);
                }
                if rows.len() > limit {
                    break;
                }
            }
            Ok(rows)
        })?;
        Ok(
            BackendPage::from_rows(raws, limit)
                .readable(|r| r.key.clone(), |r| r.decode("kv.list")),
        )
    }
}
