//! KV on DynamoDB: reads, listing, deletes and provisioning. Writes are in `kv_write`, the
//! item layout and write conditions in `kv_layout`, items the upstream server wrote in
//! `kv_upstream`, and the known-items optimisation in `known_items`.
//!
//! Listing uses the global secondary index `kv-by-key` (`kv_shard`, `key`): a prefix page is
//! one `Query` with `begins_with`, never a scan.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, GlobalSecondaryIndex, KeyType, Projection, ProjectionType, ReturnValue,
    TimeToLiveSpecification,
};

use super::errors::{Target, map_sdk_error};
use super::known_items::KnownItems;
use super::kv_layout::{State, listing_shard, string_value};
use super::kv_upstream::{decode, is_live, stored_body, upstream_fallback};
use super::tables::{self, Item};
use crate::backend::{BackendPage, Deleted, KvBackend, KvWrite, Written};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::types::kv::KvItem;

/// The listing index.
pub(crate) const INDEX: &str = "kv-by-key";

/// The AWS backend's KV store.
#[derive(Debug)]
pub(crate) struct DynamoKv {
    pub(super) client: Client,
    pub(super) table: String,
    resource: String,
    /// What this client last saw of the keys it read and wrote (see `known_items`).
    pub(super) known: KnownItems,
}

impl DynamoKv {
    /// The store in `table`; `known_items` turns the known-items optimisation on.
    pub(crate) fn new(client: Client, table: String, known_items: bool) -> Self {
        let resource = format!("DynamoDB table {table:?}");
        DynamoKv {
            client,
            table,
            resource,
            known: KnownItems::new(known_items),
        }
    }

    pub(super) fn target<'a>(&'a self, operation: &'a str, key: &'a str) -> Target<'a> {
        Target {
            operation,
            key,
            resource: &self.resource,
        }
    }

    /// The first pause, the longest pause and the attempts of a retried request: the client's
    /// retry configuration, which writes apply themselves (see `kv_write`).
    pub(super) fn backoff(&self) -> (Duration, Duration, u32) {
        match self.client.config().retry_config() {
            Some(config) => (
                config.initial_backoff(),
                config.max_backoff(),
                config.max_attempts().max(1),
            ),
            None => (Duration::from_millis(50), Duration::from_secs(20), 5),
        }
    }

    /// The stored item under `key`, expired or not (a strongly consistent read).
    pub(super) async fn get_item(&self, operation: &str, key: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("key", string_value(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_sdk_error(&self.target(operation, key), e))?;
        Ok(out.item)
    }

    /// The live item under `key`, also looking for the upstream `KV#<key>` layout.
    async fn live_item(&self, operation: &str, key: &str) -> Result<Option<KvItem>> {
        let now = now_ms();
        let mut stored = self.get_item(operation, key).await?;
        self.known.learn(key, State::of(stored.as_ref(), now));
        if stored.is_none()
            && let Some(upstream) = upstream_fallback(key)
        {
            stored = self.get_item(operation, &upstream).await?;
        }
        match stored {
            Some(item) if is_live(&item, now) => decode(operation, key, &item).map(Some),
            _ => Ok(None),
        }
    }

    /// The stored items under `keys` (any that exist, expired or not), by key: `BatchGetItem`
    /// in chunks of 100, resubmitting `UnprocessedKeys` with exponential backoff.
    pub(super) async fn batch_get_items(&self, keys: &[String]) -> Result<HashMap<String, Item>> {
        let target = self.target(
            "kv.batch_get",
            keys.first().map(String::as_str).unwrap_or(""),
        );
        let mut unique: Vec<&String> = keys.iter().collect();
        unique.sort();
        unique.dedup();
        let requested = unique
            .iter()
            .map(|k| HashMap::from([("key".to_owned(), string_value(k.as_str()))]))
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

#[async_trait]
impl KvBackend for DynamoKv {
    async fn get(&self, key: &str) -> Result<Option<KvItem>> {
        self.live_item("kv.get", key).await
    }

    async fn batch_get(&self, keys: &[String]) -> Result<Vec<Option<KvItem>>> {
        let now = now_ms();
        let mut found = self.batch_get_items(keys).await?;
        for key in keys {
            self.known.learn(key, State::of(found.get(key), now));
        }
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !found.contains_key(*k))
            .filter_map(|k| upstream_fallback(k))
            .collect();
        if !missing.is_empty() {
            for (stored, item) in self.batch_get_items(&missing).await? {
                found.insert(
                    stored[super::kv_upstream::UPSTREAM_PREFIX.len()..].to_owned(),
                    item,
                );
            }
        }
        keys.iter()
            .map(|k| match found.get(k) {
                Some(item) if is_live(item, now) => decode("kv.batch_get", k, item).map(Some),
                _ => Ok(None),
            })
            .collect()
    }

    async fn set(&self, write: KvWrite) -> Result<Written> {
        self.write_one(&write).await
    }

    async fn batch_set(&self, writes: Vec<KvWrite>) -> Result<Vec<String>> {
        self.write_batch(&writes).await
    }

    /// One `DeleteItem` (and one for the upstream `KV#` layout when nothing was under the key).
    /// A delete the SDK resends after a lost answer deletes nothing more; it then reports
    /// that no live item was deleted.
    async fn delete(&self, key: &str) -> Result<Deleted> {
        let now = now_ms();
        for stored_key in std::iter::once(key.to_owned()).chain(upstream_fallback(key)) {
            let out = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("key", string_value(&stored_key))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| map_sdk_error(&self.target("kv.delete", key), e))?;
            if let Some(old) = out.attributes {
                self.known.learn(key, State::Absent);
                return Ok(Deleted {
                    live: is_live(&old, now),
                    released: stored_body(&old).into_iter().collect(),
                });
            }
        }
        self.known.learn(key, State::Absent);
        Ok(Deleted {
            live: false,
            released: Vec::new(),
        })
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<KvItem>> {
        let target = self.target("kv.list", prefix);
        let shard = listing_shard("kv.list", prefix)?;
        let now = now_ms();
        let mut items: Vec<KvItem> = Vec::new();
        let mut exclusive_start: Option<Item> = start_after.map(|after| {
            HashMap::from([
                ("key".to_owned(), string_value(after)),
                ("kv_shard".to_owned(), string_value(shard)),
            ])
        });
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(INDEX)
                .expression_attribute_values(":shard", string_value(shard))
                .limit((limit + 1 - items.len()).max(1) as i32)
                .set_exclusive_start_key(exclusive_start.take());
            query = if prefix.is_empty() {
                query.key_condition_expression("kv_shard = :shard")
            } else {
                query
                    .key_condition_expression("kv_shard = :shard AND begins_with(#k, :prefix)")
                    .expression_attribute_names("#k", "key")
                    .expression_attribute_values(":prefix", string_value(prefix))
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
