//! Creating DynamoDB tables for `provision()`: key definitions and the create-and-wait step
//! shared by the KV and timeline tables.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

use super::errors::{Target, map_sdk_error};
use crate::error::{Error, ErrorKind, Result};

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
