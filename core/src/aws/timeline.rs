//! The timeline on DynamoDB.
//!
//! Table layout (hash key `path` S, range key `id` S): one item per (index path, entry), with
//! `path` = `"P#" + index path` (key attributes cannot be empty strings, and the root path is
//! empty), `id` (the entry's ULID), `stream` (S), `time` (N, epoch ms) and `data` (S, JSON
//! text). An append writes all items of an entry in one `TransactWriteItems`, so the entry
//! appears under every path at once; a page is one `Query` on one path in id order.
//!
//! An entry whose items would exceed DynamoDB's 4 MB transaction limit (large data on a deep
//! stream) keeps its data once, in the item `path` = `"D#" + id`; its index items carry
//! `detached` = true instead of `data`, and a scan reads the data back with `BatchGetItem`. (A
//! tenant's entry keeps it in `"D#tenants/<tenant>/" + id`, inside the tenant's key space.)

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, KeyType, Put, TransactWriteItem};

use super::errors::{Target, map_sdk_error};
use super::tables;
use crate::backend::{BackendPage, TimelineBackend, TimelineRecord, TimelineScan};
use crate::clock::from_ms;
use crate::error::{Error, ErrorKind, Result};
use crate::types::timeline::TimelineEntry;

use super::tables::Item;

/// What an index path's `path` attribute starts with.
const PATH_PREFIX: &str = "P#";
/// What the `path` of a detached data item starts with (followed by the entry's id).
const DATA_PREFIX: &str = "D#";
/// The `path` of the detached data item of entry `id` whose stream (or any of its index paths)
/// is `stream_or_path`: `D#` + the tenant's root (for a tenant's entry, so IAM can confine it
/// with the tenant's other items) + the id.
fn data_path(stream_or_path: &str, id: &str) -> String {
    let root = crate::scope::tenant_root(stream_or_path).unwrap_or("");
    format!("{DATA_PREFIX}{root}{id}")
}

/// Most items in one `TransactWriteItems` (DynamoDB's limit).
const MAX_TRANSACTION_ITEMS: usize = 100;
/// Most bytes of items in one transaction: DynamoDB allows 4 MB; this leaves room for the
/// request's overhead.
const MAX_TRANSACTION_BYTES: usize = 4_000_000;
/// Bytes an item needs beyond its data, stream and path (attribute names, id, time).
const ITEM_OVERHEAD: usize = 96;
/// Attempts of a transaction DynamoDB cancelled for a transient reason (throttling, a
/// conflicting transaction), on top of the SDK's own retries.
const TRANSACTION_ATTEMPTS: u32 = 5;

/// A DynamoDB string attribute value (`S`).
fn string_value(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The AWS backend's timeline.
#[derive(Debug)]
pub(crate) struct DynamoTimeline {
    client: Client,
    table: String,
    resource: String,
}

/// The DynamoDB items of one record and their size.
struct RecordItems {
    items: Vec<Item>,
    bytes: usize,
}

impl DynamoTimeline {
    /// The timeline in `table` (no request is made).
    pub(crate) fn new(client: Client, table: String) -> Self {
        let resource = format!("DynamoDB table {table:?}");
        DynamoTimeline {
            client,
            table,
            resource,
        }
    }

    fn target<'a>(&'a self, operation: &'a str, key: &'a str) -> Target<'a> {
        Target {
            operation,
            key,
            resource: &self.resource,
        }
    }

    /// Creates the table (hash `path`, range `id`, on demand) and waits until it is active;
    /// an existing table is kept.
    pub(crate) async fn provision(&self) -> Result<()> {
        let target = self.target("provision", &self.table);
        let create = tables::create_table(&self.client, &self.table)
            .attribute_definitions(tables::string_attribute("path")?)
            .attribute_definitions(tables::string_attribute("id")?)
            .key_schema(tables::key_element("path", KeyType::Hash)?)
            .key_schema(tables::key_element("id", KeyType::Range)?);
        tables::create_and_wait(&self.client, create, &self.table, &target).await
    }

    /// The items `record` is stored as: one per index path, plus the detached data item when
    /// the data would not fit in one transaction that many times.
    fn record_items(record: &TimelineRecord) -> RecordItems {
        let entry = &record.entry;
        let base = |path: String| -> Item {
            HashMap::from([
                ("path".to_owned(), string_value(path)),
                ("id".to_owned(), string_value(&entry.id)),
                ("stream".to_owned(), string_value(&entry.stream)),
                (
                    "time".to_owned(),
                    AttributeValue::N(entry.time.timestamp_millis().to_string()),
                ),
            ])
        };
        let index_bytes: usize = record
            .paths
            .iter()
            .map(|p| ITEM_OVERHEAD + PATH_PREFIX.len() + p.len() + entry.stream.len())
            .sum();
        let inline_bytes = index_bytes + record.paths.len() * record.data_json.len();
        let detached = inline_bytes > MAX_TRANSACTION_BYTES;
        let mut items: Vec<Item> = record
            .paths
            .iter()
            .map(|p| {
                let mut item = base(format!("{PATH_PREFIX}{p}"));
                if detached {
                    item.insert("detached".into(), AttributeValue::Bool(true));
                } else {
                    item.insert("data".into(), string_value(&record.data_json));
                }
                item
            })
            .collect();
        if !detached {
            return RecordItems {
                items,
                bytes: inline_bytes,
            };
        }
        let mut data_item = base(data_path(&entry.stream, &entry.id));
        data_item.insert("data".into(), string_value(&record.data_json));
        items.push(data_item);
        RecordItems {
            items,
            bytes: index_bytes + ITEM_OVERHEAD + entry.id.len() + record.data_json.len(),
        }
    }

    /// Writes `items` in one transaction, trying again while DynamoDB cancels it for a
    /// transient reason.
    async fn transact(&self, stream: &str, items: Vec<Item>) -> Result<()> {
        let target = self.target("timeline.append", stream);
        let actions = items
            .into_iter()
            .map(|item| {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| Error::internal("timeline.append", e))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect::<Result<Vec<_>>>()?;
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            attempt += 1;
            match error.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                    let codes: Vec<&str> = c
                        .cancellation_reasons()
                        .iter()
                        .filter_map(|r| r.code())
                        .filter(|code| *code != "None")
                        .collect();
                    let transient = codes
                        .iter()
                        .all(|code| matches!(*code, "ThrottlingError" | "TransactionConflict"));
                    if !transient {
                        // Puts without conditions are only cancelled for invalid items.
                        return Err(Error::keyed(
                            ErrorKind::InvalidInput,
                            "timeline.append",
                            stream,
                            format!(
                                "{} refused the entry ({}): {}; check the entry against DynamoDB's item limits",
                                self.resource,
                                codes.join(", "),
                                c.message().unwrap_or("transaction cancelled")
                            ),
                        )
                        .with_context("resource", self.resource.as_str()));
                    }
                }
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => {}
                _ => return Err(map_sdk_error(&target, error)),
            }
            if attempt >= TRANSACTION_ATTEMPTS {
                return Err(Error::keyed(
                    ErrorKind::Unavailable,
                    "timeline.append",
                    stream,
                    format!(
                        "{} kept cancelling the write (throttling or conflicting transactions) after {attempt} attempts; retry later",
                        self.resource
                    ),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
    }

    /// One `Query` of `scan.path` from `start`; returns the items and where to go on.
    async fn query(
        &self,
        scan: &TimelineScan,
        start: Option<Item>,
        limit: usize,
    ) -> Result<(Vec<Item>, Option<Item>)> {
        let filtered = scan.stream_prefix != scan.path;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#p = :p AND #id BETWEEN :from AND :to")
            .expression_attribute_names("#p", "path")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":p", string_value(format!("{PATH_PREFIX}{}", scan.path)))
            .expression_attribute_values(":from", string_value(&scan.from_id))
            .expression_attribute_values(":to", string_value(&scan.to_id))
            .scan_index_forward(!scan.newest_first)
            .consistent_read(true)
            .limit(limit.clamp(1, i32::MAX as usize) as i32)
            .set_exclusive_start_key(start);
        if filtered {
            query = query
                .filter_expression("begins_with(#stream, :prefix)")
                .expression_attribute_names("#stream", "stream")
                .expression_attribute_values(":prefix", string_value(&scan.stream_prefix));
        }
        let out = query
            .send()
            .await
            .map_err(|e| map_sdk_error(&self.target("timeline.get", &scan.stream_prefix), e))?;
        Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
    }

    /// The data of detached entries, by id: `BatchGetItem` of their data items, resubmitting
    /// unprocessed keys with backoff.
    async fn detached_data(
        &self,
        scan: &TimelineScan,
        ids: &[String],
    ) -> Result<HashMap<String, String>> {
        let target = self.target("timeline.get", &scan.stream_prefix);
        let requested = ids
            .iter()
            .map(|id| {
                HashMap::from([
                    ("path".to_owned(), string_value(data_path(&scan.path, id))),
                    ("id".to_owned(), string_value(id)),
                ])
            })
            .collect();
        let items = tables::batch_get(&self.client, &self.table, requested, &target).await?;
        Ok(items
            .into_iter()
            .filter_map(|item| match (item.get("id"), item.get("data")) {
                (Some(AttributeValue::S(id)), Some(AttributeValue::S(data))) => {
                    Some((id.clone(), data.clone()))
                }
                _ => None,
            })
            .collect())
    }

    /// The entry a stored index item holds (`data` given for a detached one).
    fn decode(&self, item: &Item, detached: Option<&String>) -> Result<TimelineEntry> {
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(v)) => Some(v.as_str()),
            _ => None,
        };
        let bad = |why: &str| {
            Error::internal(
                "timeline.get",
                format!("{} holds a malformed timeline item: {why}", self.resource),
            )
        };
        let stream = text("stream").ok_or_else(|| bad("no `stream`"))?;
        let id = text("id").ok_or_else(|| bad("no `id`"))?;
        let time = match item.get("time") {
            Some(AttributeValue::N(v)) => v.parse::<i64>().ok(),
            _ => None,
        }
        .ok_or_else(|| bad("no numeric `time`"))?;
        let data = detached
            .map(String::as_str)
            .or_else(|| text("data"))
            .ok_or_else(|| bad(&format!("entry {id} has no `data`")))?;
        Ok(TimelineEntry {
            stream: stream.to_owned(),
            id: id.to_owned(),
            time: from_ms(time),
            data: serde_json::from_str(data)
                .map_err(|e| bad(&format!("entry {id}'s data is not JSON ({e})")))?,
        })
    }
}

#[async_trait]
impl TimelineBackend for DynamoTimeline {
    async fn append(&self, records: Vec<TimelineRecord>) -> Result<Vec<TimelineEntry>> {
        // Records share a transaction while it stays within DynamoDB's item and size limits;
        // each record's items always go in one transaction.
        let mut batch: Vec<Item> = Vec::new();
        let mut batch_bytes = 0;
        let mut batch_stream = "";
        for record in &records {
            let RecordItems { items, bytes } = Self::record_items(record);
            if !batch.is_empty()
                && (batch.len() + items.len() > MAX_TRANSACTION_ITEMS
                    || batch_bytes + bytes > MAX_TRANSACTION_BYTES)
            {
                self.transact(batch_stream, std::mem::take(&mut batch))
                    .await?;
                batch_bytes = 0;
            }
            if batch.is_empty() {
                batch_stream = &record.entry.stream;
            }
            batch.extend(items);
            batch_bytes += bytes;
        }
        if !batch.is_empty() {
            self.transact(batch_stream, batch).await?;
        }
        Ok(records.into_iter().map(|r| r.entry).collect())
    }

    async fn scan(&self, scan: &TimelineScan) -> Result<BackendPage<TimelineEntry>> {
        if scan.from_id >= scan.to_id {
            return Ok(BackendPage::from_rows(Vec::new(), scan.limit));
        }
        // A filtered query may return fewer items than its limit while more exist, so read on
        // until the page plus one (which tells whether more follow) is complete. `BETWEEN` is
        // inclusive: an item whose id equals `to_id` is dropped here.
        let filtered = scan.stream_prefix != scan.path;
        let mut items: Vec<Item> = Vec::new();
        let mut start = None;
        loop {
            let wanted = scan.limit + 1 - items.len();
            // One more than wanted covers an item at `to_id`; a filtered query reads ahead,
            // since part of what it reads is dropped.
            let limit = if filtered {
                (wanted + 1).max(200)
            } else {
                wanted + 1
            };
            let (page, next) = self.query(scan, start.take(), limit).await?;
            items.extend(page.into_iter().filter(
                |item| matches!(item.get("id"), Some(AttributeValue::S(id)) if *id < scan.to_id),
            ));
            match next {
                Some(next) if items.len() <= scan.limit => start = Some(next),
                _ => break,
            }
        }
        let more = items.len() > scan.limit;
        items.truncate(scan.limit);
        let detached: Vec<String> = items
            .iter()
            .filter(|item| matches!(item.get("detached"), Some(AttributeValue::Bool(true))))
            .filter_map(|item| match item.get("id") {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            })
            .collect();
        let data = if detached.is_empty() {
            HashMap::new()
        } else {
            self.detached_data(scan, &detached).await?
        };
        let entries = items
            .iter()
            .map(|item| {
                let id = match item.get("id") {
                    Some(AttributeValue::S(id)) => data.get(id),
                    _ => None,
                };
                self.decode(item, id)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(BackendPage {
            items: entries,
            more,
            resume_after: None,
        })
    }
}
