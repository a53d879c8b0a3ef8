//! DynamoDB steps shared by the KV and timeline tables: creating a table for `provision()`,
//! and reading many items with `BatchGetItem`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, KeysAndAttributes,
    ScalarAttributeType,
};

use super::errors::{Target, map_sdk_error};
use crate::error::{Error, ErrorKind, Result};

/// A DynamoDB item (or key).
pub(crate) type Item = std::collections::HashMap<String, AttributeValue>;

/// A string (S) attribute definition for a key attribute.
pub(crate) fn string_attribute(name: &str) -> Result<AttributeDefinition> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| Error::internal("provision", e))
}

/// A key schema element: `name` as the hash or range key.
pub(crate) fn key_element(name: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e| Error::internal("provision", e))
}

/// A `CreateTable` request for `table`, billed on demand, for the caller to add keys to.
pub(crate) fn create_table(client: &Client, table: &str) -> CreateTableFluentBuilder {
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
}

/// Sends `create`, keeping the table if it already exists, then waits (up to 60 s) until the
/// table is `ACTIVE`.
pub(crate) async fn create_and_wait(
    client: &Client,
    create: CreateTableFluentBuilder,
    table: &str,
    target: &Target<'_>,
) -> Result<()> {
    match create.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(map_sdk_error(target, e)),
    }
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| map_sdk_error(target, e))?;
        if described
            .table
            .and_then(|t| t.table_status)
            .is_some_and(|s| s.as_str() == "ACTIVE")
        {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(Error::keyed(
        ErrorKind::Unavailable,
        "provision",
        table,
        format!(
            "{} did not become ACTIVE within 60 s; run provision() again",
            target.resource
        ),
    ))
}

/// Every stored item of `keys` (absent ones are simply missing): strongly consistent
/// `BatchGetItem` requests of at most 100 keys, resubmitting `UnprocessedKeys` with exponential
/// backoff; `Throttled` if keys are still unprocessed after 8 retries.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
    target: &Target<'_>,
) -> Result<Vec<Item>> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(100) {
        let mut pending = chunk.to_vec();
        let mut attempt = 0u32;
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(|e| Error::internal(target.operation, e))?;
            let out = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| map_sdk_error(target, e))?;
            found.extend(
                out.responses
                    .and_then(|mut r| r.remove(table))
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                if attempt > 8 {
                    return Err(Error::keyed(
                        ErrorKind::Throttled,
                        target.operation,
                        target.key,
                        format!(
                            "{} left keys unprocessed after 8 retries; retry later",
                            target.resource
                        ),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(25 << attempt.min(6))).await;
            }
        }
    }
    Ok(found)
}
