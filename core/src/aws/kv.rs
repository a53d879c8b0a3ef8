//! KV on DynamoDB.
//!
//! Item layout (hash key `key`, the upstream MCP server's table shape): `value` (S, JSON text),
//! `version` (N), `created_at` / `updated_at` (N, epoch ms), `expires_at` (N, epoch seconds —
//! the table's TTL attribute) and `expires_at_ms` (N, exact expiry checked on every read, since
//! DynamoDB deletes expired items up to two days late), and `kv_shard` (S, always `"kv"`): the
//! partition key of the global secondary index `kv-by-key` (`kv_shard`, `key`), so a prefix
//! page is one `Query` with `begins_with`, never a scan.
//!
//! Items the upstream server wrote are read too: a key stored raw or as `KV#<key>`, `value` as
//! JSON text or a plain string, `created_at` as S (RFC 3339) or N.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, GlobalSecondaryIndex, KeyType, Projection, ProjectionType, Put, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TimeToLiveSpecification, TransactWriteItem, Update,
};

use super::errors::{Target, map_sdk_error};
use super::known_items::{Known, KnownItems, Seen};
use super::tables;
use crate::backend::{BackendPage, KvBackend, KvWrite, WriteCondition, resolve_write};
use crate::clock::{from_ms, now_ms};
use crate::error::{Error, ErrorKind, Result};
use crate::kv::KvItem;

/// The listing index and its partition value.
pub(crate) const INDEX: &str = "kv-by-key";
const SHARD: &str = "kv";
/// Prefix under which the upstream server sometimes stored keys.
const UPSTREAM_PREFIX: &str = "KV#";
/// Attempts of a write whose state changed between its steps (an expired item being replaced).
const WRITE_ATTEMPTS: usize = 8;

/// Absent, or live and written by agent-mesh (it has a version).
const VERSIONED_OR_ABSENT: &str = "attribute_not_exists(#k) OR (attribute_exists(#version) AND (attribute_not_exists(expires_at_ms) OR expires_at_ms > :now))";
/// Live and written by the upstream server (no version, which counts as version 1).
const UNVERSIONED_LIVE: &str = "attribute_exists(#k) AND attribute_not_exists(#version) AND (attribute_not_exists(expires_at_ms) OR expires_at_ms > :now)";
const ABSENT_OR_EXPIRED: &str = "attribute_not_exists(#k) OR expires_at_ms <= :now";
/// Still the version and incarnation this client last saw, which had no expiry.
const STILL_SEEN: &str = "#version = :expected AND created_at = :created";
/// Still the version and incarnation this client last saw, and not expired since.
const STILL_SEEN_LIVE: &str =
    "#version = :expected AND created_at = :created AND expires_at_ms > :now";

use super::tables::Item;

/// What a batch write assumes about an item it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Absent, or live with a version: update, version + 1.
    VersionedOrAbsent,
    /// Live without a version (upstream): update to version 2.
    Unversioned,
    /// Present but expired: re-create at version 1.
    Expired,
}

/// The AWS backend's KV store.
#[derive(Debug)]
pub(crate) struct DynamoKv {
    client: Client,
    table: String,
    resource: String,
    /// What this client last saw of the keys it read and wrote (see `known_items`).
    known: KnownItems,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn num(item: &Item, name: &str) -> Option<i64> {
    match item.get(name)? {
        AttributeValue::N(v) => v.parse::<f64>().ok().map(|f| f as i64),
        AttributeValue::S(v) => chrono::DateTime::parse_from_rfc3339(v)
            .ok()
            .map(|t| t.timestamp_millis()),
        _ => None,
    }
}

/// Epoch ms of a time attribute written as ms, seconds or RFC 3339 text.
fn time_ms(item: &Item, name: &str) -> Option<i64> {
    num(item, name).map(|v| {
        if v < 100_000_000_000 && matches!(item.get(name), Some(AttributeValue::N(_))) {
            v * 1000
        } else {
            v
        }
    })
}

/// When the item expires, in epoch ms.
fn expiry_ms(item: &Item) -> Option<i64> {
    num(item, "expires_at_ms").or_else(|| num(item, "expires_at").map(|secs| secs * 1000))
}

fn is_live(item: &Item, now: i64) -> bool {
    expiry_ms(item).is_none_or(|e| e > now)
}

/// The live state (version, created_at) a stored item gives to `resolve_write`.
fn live_state(item: Option<&Item>, now: i64) -> Option<(u64, i64)> {
    item.filter(|i| is_live(i, now)).map(|i| {
        (
            num(i, "version").unwrap_or(0) as u64,
            time_ms(i, "created_at").unwrap_or(now),
        )
    })
}

/// The KV item for a stored DynamoDB item, reported under `key`.
fn decode(operation: &str, key: &str, item: &Item) -> Result<KvItem> {
    let value = match item.get("value") {
        Some(AttributeValue::S(text)) => {
            serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.clone()))
        }
        Some(AttributeValue::N(text)) => {
            serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
        }
        Some(AttributeValue::Bool(b)) => serde_json::Value::Bool(*b),
        Some(AttributeValue::Null(_)) | None => serde_json::Value::Null,
        Some(other) => {
            return Err(Error::internal(
                operation,
                format!("item {key:?} has a value of unsupported type {other:?}"),
            ));
        }
    };
    let created = time_ms(item, "created_at").unwrap_or(0);
    Ok(KvItem {
        key: key.to_owned(),
        value,
        version: num(item, "version").unwrap_or(1).max(1) as u64,
        created_at: from_ms(created),
        updated_at: from_ms(time_ms(item, "updated_at").unwrap_or(created)),
        expires_at: expiry_ms(item).map(from_ms),
    })
}

impl DynamoKv {
    pub(crate) fn new(client: Client, table: String) -> Self {
        let resource = format!("DynamoDB table {table:?}");
        DynamoKv {
            client,
            table,
            resource,
            known: KnownItems::default(),
        }
    }

    fn target<'a>(&'a self, operation: &'a str, key: &'a str) -> Target<'a> {
        Target {
            operation,
            key,
            resource: &self.resource,
        }
    }

    async fn get_item(&self, operation: &str, key: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("key", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_sdk_error(&self.target(operation, key), e))?;
        Ok(out.item)
    }

    /// The live item under `key`, also looking for the upstream `KV#<key>` layout.
    async fn live_item(&self, operation: &str, key: &str) -> Result<Option<KvItem>> {
        let now = now_ms();
        let stored = self.get_item(operation, key).await?;
        let live = stored.as_ref().is_some_and(|item| is_live(item, now));
        self.known.learn(key, Known::of(stored.as_ref(), live));
        let stored = match stored {
            Some(item) => Some(item),
            None => {
                self.get_item(operation, &format!("{UPSTREAM_PREFIX}{key}"))
                    .await?
            }
        };
        match stored {
            Some(item) if is_live(&item, now) => decode(operation, key, &item).map(Some),
            _ => Ok(None),
        }
    }

    /// The stored items under `keys` (any that exist, expired or not), by key: `BatchGetItem`
    /// in chunks of 100, resubmitting `UnprocessedKeys` with exponential backoff.
    async fn batch_get_items(&self, keys: &[String]) -> Result<HashMap<String, Item>> {
        let target = self.target(
            "kv.batch_get",
            keys.first().map(String::as_str).unwrap_or(""),
        );
        let mut unique: Vec<&String> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let requested = unique
            .iter()
            .map(|k| HashMap::from([("key".to_owned(), s(k.as_str()))]))
            .collect();
        let items = tables::batch_get(&self.client, &self.table, requested, &target).await?;
        Ok(items
            .into_iter()
            .filter_map(|item| match item.get("key") {
                Some(AttributeValue::S(key)) => Some((key.clone(), item)),
                _ => None,
            })
            .collect())
    }

    /// The attributes every write sets, for an `UpdateItem`.
    fn update_expression(write: &KvWrite, version_expr: &str) -> (String, Item) {
        let now = now_ms();
        let mut values: Item = HashMap::from([
            (":v".to_owned(), s(&write.encoded)),
            (":now".to_owned(), n(now)),
            (":shard".to_owned(), s(SHARD)),
        ]);
        let mut expr = format!(
            "SET #value = :v, #version = {version_expr}, created_at = if_not_exists(created_at, :now), updated_at = :now, kv_shard = :shard"
        );
        match write.expires_at {
            Some(t) => {
                let ms = t.timestamp_millis();
                expr.push_str(", expires_at = :exp, expires_at_ms = :expms");
                values.insert(":exp".into(), n((ms + 999) / 1000));
                values.insert(":expms".into(), n(ms));
            }
            None => expr.push_str(" REMOVE expires_at, expires_at_ms"),
        }
        (expr, values)
    }

    /// The whole item a fresh write (version 1) stores.
    fn fresh_item(write: &KvWrite, now: i64) -> Item {
        let mut item: Item = HashMap::from([
            ("key".to_owned(), s(&write.key)),
            ("value".to_owned(), s(&write.encoded)),
            ("version".to_owned(), n(1)),
            ("created_at".to_owned(), n(now)),
            ("updated_at".to_owned(), n(now)),
            ("kv_shard".to_owned(), s(SHARD)),
        ]);
        if let Some(t) = write.expires_at {
            let ms = t.timestamp_millis();
            item.insert("expires_at".into(), n((ms + 999) / 1000));
            item.insert("expires_at_ms".into(), n(ms));
        }
        item
    }

    /// A failed condition as the `Conflict` error `resolve_write` words, from the item DynamoDB
    /// returned; `None` if that item would in fact satisfy the condition (the state moved on).
    fn conflict(write: &KvWrite, old: Option<&Item>) -> Option<Error> {
        let now = now_ms();
        resolve_write(write, live_state(old, now), now).err()
    }

    async fn update(
        &self,
        write: &KvWrite,
        condition: &str,
        version_expr: &str,
        extra: Item,
    ) -> Result<std::result::Result<Item, Option<Item>>> {
        let (expr, mut values) = Self::update_expression(write, version_expr);
        values.extend(extra);
        let names = names(&[&expr, condition]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("key", s(&write.key))
            .update_expression(expr)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Ok(out.attributes.unwrap_or_default())),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                    Ok(Err(c.item.clone()))
                }
                _ => Err(map_sdk_error(&self.target("kv.set", &write.key), e)),
            },
        }
    }

    /// Puts `item` whole on `condition`: the item stored, or the one that failed the condition.
    /// A put whose answer was lost and that the SDK re-sent fails its condition on the item it
    /// stored itself: an item equal to the one sent counts as this put having succeeded, so
    /// the write is not made a second time.
    async fn put(
        &self,
        write: &KvWrite,
        item: Item,
        condition: &str,
        values: Item,
    ) -> Result<std::result::Result<Item, Option<Item>>> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names(&[condition])))
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(item)),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(c)) => Ok(match &c.item {
                    Some(stored) if *stored == item => Ok(item),
                    other => Err(other.clone()),
                }),
                _ => Err(map_sdk_error(&self.target("kv.set", &write.key), e)),
            },
        }
    }

    /// Creates the item at version 1, if it is absent or expired.
    async fn put_fresh(&self, write: &KvWrite) -> Result<std::result::Result<Item, Option<Item>>> {
        let now = now_ms();
        let values = HashMap::from([(":now".to_owned(), n(now))]);
        self.put(
            write,
            Self::fresh_item(write, now),
            ABSENT_OR_EXPIRED,
            values,
        )
        .await
    }

    /// Replaces the item at the next version, if it is still the one this client saw (an item
    /// that expires must not have expired since).
    async fn put_next_version(
        &self,
        write: &KvWrite,
        seen: Seen,
    ) -> Result<std::result::Result<Item, Option<Item>>> {
        let now = now_ms();
        let mut item = Self::fresh_item(write, now);
        item.insert("version".into(), n(seen.version + 1));
        item.insert("created_at".into(), n(seen.created_at));
        let mut values = HashMap::from([
            (":expected".to_owned(), n(seen.version)),
            (":created".to_owned(), n(seen.created_at)),
        ]);
        let condition = if seen.expires_at_ms.is_some() {
            values.insert(":now".to_owned(), n(now));
            STILL_SEEN_LIVE
        } else {
            STILL_SEEN
        };
        self.put(write, item, condition, values).await
    }

    /// The write as one conditional `PutItem`, when what this client last saw of the key
    /// allows one, or the key is unknown and guessed absent: `None` when neither holds.
    async fn write_known(
        &self,
        write: &KvWrite,
    ) -> Result<Option<std::result::Result<Item, Option<Item>>>> {
        let outcome = match (write.condition, self.known.get(&write.key, now_ms())) {
            (WriteCondition::Always, Some(Known::Absent)) => self.put_fresh(write).await?,
            (WriteCondition::Always, Some(Known::Versioned(seen))) => {
                self.put_next_version(write, seen).await?
            }
            (WriteCondition::IfVersion(expected), Some(Known::Versioned(seen)))
                if expected == seen.version =>
            {
                self.put_next_version(write, seen).await?
            }
            (WriteCondition::Always, None) if self.known.guessing_absent() => {
                let outcome = self.put_fresh(write).await?;
                self.known.unknown_key_was_absent(outcome.is_ok());
                if let Err(Some(old)) = &outcome {
                    // The key exists: the retry puts the version after the stored one, or
                    // (an item not rewritten whole) updates it.
                    let known = Known::of(Some(old), is_live(old, now_ms()));
                    self.known
                        .learn(&write.key, Some(known.unwrap_or(Known::Contended)));
                }
                return Ok(Some(outcome));
            }
            _ => return Ok(None),
        };
        if outcome.is_err() {
            // What this client remembered is stale: another client writes this key.
            self.known.contend(&write.key);
        }
        Ok(Some(outcome))
    }

    /// The write as an `UpdateItem` (or a `PutItem` where it creates the item), for any state.
    async fn write_any(&self, write: &KvWrite) -> Result<std::result::Result<Item, Option<Item>>> {
        Ok(match write.condition {
            WriteCondition::IfAbsent => self.put_fresh(write).await?,
            WriteCondition::IfVersion(v) => {
                let extra = HashMap::from([
                    (":expected".to_owned(), n(v)),
                    (":next".to_owned(), n(v + 1)),
                ]);
                // An upstream item without a version counts as version 1.
                let condition = if v == 1 {
                    "attribute_exists(#k) AND (#version = :expected OR attribute_not_exists(#version)) AND (attribute_not_exists(expires_at_ms) OR expires_at_ms > :now)"
                } else {
                    "#version = :expected AND (attribute_not_exists(expires_at_ms) OR expires_at_ms > :now)"
                };
                self.update(write, condition, ":next", extra).await?
            }
            WriteCondition::Always => {
                let extra = HashMap::from([(":zero".to_owned(), n(0)), (":one".to_owned(), n(1))]);
                let bump = "if_not_exists(#version, :zero) + :one";
                match self.update(write, VERSIONED_OR_ABSENT, bump, extra).await? {
                    Err(Some(old)) if is_live(&old, now_ms()) && !old.contains_key("version") => {
                        let two = HashMap::from([(":two".to_owned(), n(2))]);
                        self.update(write, UNVERSIONED_LIVE, ":two", two).await?
                    }
                    // The item exists but has expired: it is re-created at version 1.
                    Err(_) => self.put_fresh(write).await?,
                    done => done,
                }
            }
        })
    }

    /// Creates the table with its TTL attribute and listing index, idempotently.
    pub(crate) async fn provision(&self) -> Result<()> {
        let target = self.target("provision", &self.table);
        let create = tables::create_table(&self.client, &self.table)
            .attribute_definitions(tables::string_attribute("key")?)
            .attribute_definitions(tables::string_attribute("kv_shard")?)
            .key_schema(tables::key_element("key", KeyType::Hash)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(INDEX)
                    .key_schema(tables::key_element("kv_shard", KeyType::Hash)?)
                    .key_schema(tables::key_element("key", KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(|e| Error::internal("provision", e))?,
            );
        tables::create_and_wait(&self.client, create, &self.table, &target).await?;
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name("expires_at")
            .enabled(true)
            .build()
            .map_err(|e| Error::internal("provision", e))?;
        match self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Already enabled.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.meta()
                        .message()
                        .is_some_and(|m| m.contains("already enabled"))
                }) =>
            {
                Ok(())
            }
            Err(e) => Err(map_sdk_error(&target, e)),
        }
    }
}

/// The expression attribute names `expressions` use (DynamoDB rejects unused ones).
fn names(expressions: &[&str]) -> HashMap<String, String> {
    [("#k", "key"), ("#value", "value"), ("#version", "version")]
        .into_iter()
        .filter(|(alias, _)| expressions.iter().any(|e| e.contains(alias)))
        .map(|(alias, name)| (alias.to_owned(), name.to_owned()))
        .collect()
}

#[async_trait]
impl KvBackend for DynamoKv {
    async fn get(&self, key: &str) -> Result<Option<KvItem>> {
        self.live_item("kv.get", key).await
    }

    async fn batch_get(&self, keys: &[String]) -> Result<Vec<Option<KvItem>>> {
        let now = now_ms();
        let mut found = self.batch_get_items(keys).await?;
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !found.contains_key(*k))
            .map(|k| format!("{UPSTREAM_PREFIX}{k}"))
            .collect();
        if !missing.is_empty() {
            for (stored, item) in self.batch_get_items(&missing).await? {
                found.insert(stored[UPSTREAM_PREFIX.len()..].to_owned(), item);
            }
        }
        keys.iter()
            .map(|k| match found.get(k) {
                Some(item) if is_live(item, now) => decode("kv.batch_get", k, item).map(Some),
                _ => Ok(None),
            })
            .collect()
    }

    async fn set(&self, write: KvWrite) -> Result<KvItem> {
        for _ in 0..WRITE_ATTEMPTS {
            let unknown = self.known.get(&write.key, now_ms()).is_none();
            let outcome = match self.write_known(&write).await? {
                Some(outcome) => outcome,
                None => {
                    let outcome = self.write_any(&write).await?;
                    if let (true, WriteCondition::Always, Ok(item)) =
                        (unknown, write.condition, &outcome)
                    {
                        let created = item.get("version") == Some(&n(1));
                        self.known.unknown_key_was_absent(created);
                    }
                    outcome
                }
            };
            match outcome {
                Ok(item) => {
                    self.known.learn(&write.key, Known::of(Some(&item), true));
                    return decode("kv.set", &write.key, &item);
                }
                Err(old) => {
                    if write.condition != WriteCondition::Always
                        && let Some(conflict) = Self::conflict(&write, old.as_ref())
                    {
                        return Err(conflict);
                    }
                }
            }
        }
        Err(Error::keyed(
            ErrorKind::Unavailable,
            "kv.set",
            &write.key,
            "the item kept changing between the steps of the write; retry",
        ))
    }

    async fn batch_set(&self, writes: Vec<KvWrite>) -> Result<()> {
        // All or nothing: one transaction. Each item is written for the state it was last seen
        // in (absent or live: version + 1; upstream without version: version 2; expired:
        // re-created at version 1), with a condition that it still is; on a cancellation the
        // items whose state differed are re-classified and the transaction is tried again.
        let mut assumed: HashMap<String, Stored> = HashMap::new();
        let first = writes[0].key.clone();
        for write in &writes {
            self.known.learn(&write.key, None);
        }
        for _ in 0..WRITE_ATTEMPTS {
            let now = now_ms();
            let mut actions = Vec::with_capacity(writes.len());
            for write in &writes {
                let kind = assumed
                    .get(&write.key)
                    .copied()
                    .unwrap_or(Stored::VersionedOrAbsent);
                let action = if kind == Stored::Expired {
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(Self::fresh_item(write, now)))
                        .condition_expression(ABSENT_OR_EXPIRED)
                        .expression_attribute_names("#k", "key")
                        .expression_attribute_values(":now", n(now))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .map_err(|e| Error::internal("kv.batch_set", e))?;
                    TransactWriteItem::builder().put(put).build()
                } else {
                    let (condition, version_expr) = match kind {
                        Stored::Unversioned => (UNVERSIONED_LIVE, ":two"),
                        _ => (VERSIONED_OR_ABSENT, "if_not_exists(#version, :zero) + :one"),
                    };
                    let (expr, mut values) = Self::update_expression(write, version_expr);
                    if kind == Stored::Unversioned {
                        values.insert(":two".into(), n(2));
                    } else {
                        values.insert(":zero".into(), n(0));
                        values.insert(":one".into(), n(1));
                    }
                    let names = names(&[&expr, condition]);
                    let update = Update::builder()
                        .table_name(&self.table)
                        .key("key", s(&write.key))
                        .update_expression(expr)
                        .condition_expression(condition)
                        .set_expression_attribute_names(Some(names))
                        .set_expression_attribute_values(Some(values))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .map_err(|e| Error::internal("kv.batch_set", e))?;
                    TransactWriteItem::builder().update(update).build()
                };
                actions.push(action);
            }
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let Some(reasons) = error.as_service_error().and_then(|s| match s {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    c.cancellation_reasons.clone()
                }
                _ => None,
            }) else {
                return Err(map_sdk_error(&self.target("kv.batch_set", &first), error));
            };
            if reasons.iter().any(|r| {
                r.code()
                    .is_some_and(|c| c != "None" && c != "ConditionalCheckFailed")
            }) {
                return Err(map_sdk_error(&self.target("kv.batch_set", &first), error));
            }
            // Flip the items whose state was not what this attempt assumed, and try again.
            for (write, reason) in writes.iter().zip(&reasons) {
                if reason.code() == Some("ConditionalCheckFailed") {
                    let kind = match reason.item() {
                        Some(old) if !is_live(old, now_ms()) => Stored::Expired,
                        Some(old) if !old.contains_key("version") => Stored::Unversioned,
                        Some(_) | None => Stored::VersionedOrAbsent,
                    };
                    assumed.insert(write.key.clone(), kind);
                }
            }
        }
        Err(Error::keyed(
            ErrorKind::Unavailable,
            "kv.batch_set",
            &first,
            "the items kept changing between attempts; retry",
        ))
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let now = now_ms();
        for stored_key in [key.to_owned(), format!("{UPSTREAM_PREFIX}{key}")] {
            let out = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("key", s(&stored_key))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| map_sdk_error(&self.target("kv.delete", key), e))?;
            if let Some(old) = out.attributes {
                self.known.learn(key, Some(Known::Absent));
                return Ok(is_live(&old, now));
            }
        }
        self.known.learn(key, Some(Known::Absent));
        Ok(false)
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<KvItem>> {
        let target = self.target("kv.list", prefix);
        let now = now_ms();
        let mut items: Vec<KvItem> = Vec::new();
        let mut exclusive_start: Option<Item> = start_after.map(|after| {
            HashMap::from([
                ("key".to_owned(), s(after)),
                ("kv_shard".to_owned(), s(SHARD)),
            ])
        });
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(INDEX)
                .expression_attribute_values(":shard", s(SHARD))
                .limit((limit + 1 - items.len()).max(1) as i32)
                .set_exclusive_start_key(exclusive_start.take());
            query = if prefix.is_empty() {
                query.key_condition_expression("kv_shard = :shard")
            } else {
                query
                    .key_condition_expression("kv_shard = :shard AND begins_with(#k, :prefix)")
                    .expression_attribute_names("#k", "key")
                    .expression_attribute_values(":prefix", s(prefix))
            };
            let out = query.send().await.map_err(|e| map_sdk_error(&target, e))?;
            for item in out.items.unwrap_or_default() {
                if !is_live(&item, now) {
                    continue;
                }
                let Some(AttributeValue::S(key)) = item.get("key") else {
                    continue;
                };
                items.push(decode("kv.list", key, &item)?);
            }
            match out.last_evaluated_key {
                Some(last) if items.len() <= limit => exclusive_start = Some(last),
                _ => break,
            }
        }
        Ok(BackendPage::from_rows(items, limit))
    }
}
