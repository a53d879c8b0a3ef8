//! Step Functions service integrations that map onto the mesh itself, so a definition written
//! for AWS runs unchanged on the embedded engine: `events:putEvents` sends mesh events,
//! DynamoDB `putItem`/`getItem`/`deleteItem` on the KV table use the mesh KV (items in the
//! KV table's layout: `key`, `value` as JSON text, `version`, `created_at`, `updated_at`), and
//! S3 `putObject`/`getObject` on the artifacts bucket use the mesh artifacts.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::asl::Failure;
use crate::backend::{ArtifactBackend, KvBackend, KvWrite, PutPayload};
use crate::config::AwsNames;
use crate::error::{Error, ErrorKind};
use crate::events::Publisher;
use crate::types::artifacts::PutOptions;
use crate::types::events::Event;
use crate::types::kv::{KvItem, SetOptions};
use crate::validate;

/// The mesh domains the integrations use, and the AWS names they answer to.
#[derive(Debug, Clone)]
pub(crate) struct Services {
    /// The KV backend (DynamoDB integration).
    pub kv: Arc<dyn KvBackend>,
    /// The artifact backend (S3 integration).
    pub artifacts: Arc<dyn ArtifactBackend>,
    /// Sends events as `events.send` does, timeline included (EventBridge integration).
    pub events: Publisher,
    /// The table, bucket and bus names the same configuration uses on AWS.
    pub names: AwsNames,
}

/// The integration a Task resource names, if it is one the mesh serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Integration {
    /// `arn:aws:states:::events:putEvents`.
    PutEvents,
    /// `arn:aws:states:::dynamodb:putItem`.
    PutItem,
    /// `arn:aws:states:::dynamodb:getItem`.
    GetItem,
    /// `arn:aws:states:::dynamodb:deleteItem`.
    DeleteItem,
    /// `arn:aws:states:::aws-sdk:s3:putObject`.
    PutObject,
    /// `arn:aws:states:::aws-sdk:s3:getObject`.
    GetObject,
}

impl Integration {
    /// The integration for a resource without its `.sync`/`.waitForTaskToken` suffix.
    pub fn of(base: &str) -> Option<Integration> {
        Some(match base {
            "arn:aws:states:::events:putEvents" => Integration::PutEvents,
            "arn:aws:states:::dynamodb:putItem" | "arn:aws:states:::aws-sdk:dynamodb:putItem" => {
                Integration::PutItem
            }
            "arn:aws:states:::dynamodb:getItem" | "arn:aws:states:::aws-sdk:dynamodb:getItem" => {
                Integration::GetItem
            }
            "arn:aws:states:::dynamodb:deleteItem"
            | "arn:aws:states:::aws-sdk:dynamodb:deleteItem" => Integration::DeleteItem,
            "arn:aws:states:::aws-sdk:s3:putObject" => Integration::PutObject,
            "arn:aws:states:::aws-sdk:s3:getObject" => Integration::GetObject,
            _ => return None,
        })
    }
}

fn task_failed(cause: impl Into<String>) -> Failure {
    Failure::new(crate::asl::errors::TASK_FAILED, cause)
}

/// Maps a mesh error onto the error name the AWS service would report.
fn service_error(service: &str, e: Error) -> Failure {
    let name = match (service, e.kind) {
        ("DynamoDB", ErrorKind::Conflict) => "DynamoDB.ConditionalCheckFailedException",
        ("DynamoDB", ErrorKind::TooLarge | ErrorKind::InvalidInput) => {
            "DynamoDB.ValidationException"
        }
        ("S3", ErrorKind::NotFound) => "S3.NoSuchKeyException",
        ("S3", ErrorKind::TooLarge | ErrorKind::InvalidInput) => "S3.S3Exception",
        ("EventBridge", ErrorKind::TooLarge | ErrorKind::InvalidInput) => {
            "EventBridge.ValidationException"
        }
        _ => crate::asl::errors::TASK_FAILED,
    };
    Failure::new(name, e.message)
}

fn field<'a>(payload: &'a Value, name: &str, integration: &str) -> Result<&'a Value, Failure> {
    payload
        .get(name)
        .ok_or_else(|| task_failed(format!("{integration}: the parameters need \"{name}\"")))
}

fn text<'a>(payload: &'a Value, name: &str, integration: &str) -> Result<&'a str, Failure> {
    field(payload, name, integration)?
        .as_str()
        .ok_or_else(|| task_failed(format!("{integration}: \"{name}\" must be a string")))
}

/// Runs `integration` with the Task's effective parameters, for an execution of the state
/// machine `machine` (its stored name: a tenant's state machine is confined to its tenant).
pub(crate) async fn run(
    services: &Services,
    integration: Integration,
    payload: &Value,
    machine: &str,
) -> Result<Value, Failure> {
    confine(integration, payload, machine)?;
    match integration {
        Integration::PutEvents => put_events(services, payload).await,
        Integration::PutItem | Integration::GetItem | Integration::DeleteItem => {
            dynamodb(services, integration, payload).await
        }
        Integration::PutObject | Integration::GetObject => s3(services, integration, payload).await,
    }
}

/// Refuses an integration of a scoped state machine (named `t.a.` + ...) that would reach
/// outside its scope: a KV key or artifact key not under `tenants/t/a/`, an event whose source
/// is not. Fails as IAM would refuse the scope's role on AWS (`<Service>.AccessDeniedException`).
fn confine(integration: Integration, payload: &Value, machine: &str) -> Result<(), Failure> {
    // Scope ids and names contain no '.', so every part before the last is a scope id.
    let Some((scope, _)) = machine.rsplit_once('.') else {
        return Ok(());
    };
    let root = format!("{}{}/", crate::scope::TENANTS, scope.replace('.', "/"));
    let denied = |service: &str, what: &str, key: &str| {
        Failure::new(
            format!("{service}.AccessDeniedException"),
            format!(
                "the state machine '{machine}' belongs to the scope '{}' and may only use {what} under '{root}'; '{key}' is not (name them as the scope's client stores them: '{root}' + its key)",
                scope.replace('.', "/")
            ),
        )
    };
    let inside = |key: &str| key.starts_with(root.as_str());
    match integration {
        Integration::PutEvents => {
            let entries = payload.get("Entries").and_then(Value::as_array);
            for entry in entries.into_iter().flatten() {
                let source = entry.get("Source").and_then(Value::as_str).unwrap_or("");
                if !inside(source) {
                    return Err(denied("EventBridge", "event sources", source));
                }
            }
        }
        Integration::PutObject | Integration::GetObject => {
            let key = payload.get("Key").and_then(Value::as_str).unwrap_or("");
            if !inside(key) {
                return Err(denied("S3", "artifact keys", key));
            }
        }
        Integration::PutItem | Integration::GetItem | Integration::DeleteItem => {
            // The field the integration reads its key from (see `dynamodb`).
            let field = if integration == Integration::PutItem {
                "Item"
            } else {
                "Key"
            };
            let key = payload
                .get(field)
                .and_then(|attrs| item_key(attrs, "dynamodb").ok());
            let key = key.as_deref().unwrap_or("");
            if !inside(key) {
                return Err(denied("DynamoDB", "KV keys", key));
            }
        }
    }
    Ok(())
}

async fn put_events(services: &Services, payload: &Value) -> Result<Value, Failure> {
    const NAME: &str = "events:putEvents";
    let entries = field(payload, "Entries", NAME)?
        .as_array()
        .ok_or_else(|| task_failed(format!("{NAME}: \"Entries\" must be an array")))?;
    let mut events = Vec::with_capacity(entries.len());
    for entry in entries {
        let detail = match entry.get("Detail") {
            Some(Value::String(text)) => serde_json::from_str(text).map_err(|e| {
                Failure::new(
                    "EventBridge.ValidationException",
                    format!("{NAME}: Detail is not JSON: {e}"),
                )
            })?,
            Some(d) => d.clone(),
            None => json!({}),
        };
        let mut event = Event::new(text(entry, "DetailType", NAME)?, detail);
        if let Some(source) = entry.get("Source").and_then(Value::as_str) {
            event = event.with_source(source);
        }
        if let Some(resources) = entry.get("Resources").and_then(Value::as_array) {
            event = event.with_resources(
                resources
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect(),
            );
        }
        events.push(event);
    }
    let results = services
        .events
        .send_checked("events.send_batch", events)
        .await
        .map_err(|e| service_error("EventBridge", e))?;
    let failed = results.iter().filter(|r| r.is_err()).count();
    let entries: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(id) => json!({"EventId": id}),
            Err(e) => json!({"ErrorCode": e.kind.name(), "ErrorMessage": e.message}),
        })
        .collect();
    Ok(json!({"Entries": entries, "FailedEntryCount": failed}))
}

fn check_table(services: &Services, payload: &Value, integration: &str) -> Result<(), Failure> {
    let table = text(payload, "TableName", integration)?;
    if table != services.names.kv_table {
        return Err(Failure::new(
            "DynamoDB.ResourceNotFoundException",
            format!(
                "{integration}: the table '{table}' is not the mesh's KV table '{}' (set AGENT_MESH_ENV or AGENT_MESH_KV_TABLE so the names match the AWS deployment)",
                services.names.kv_table
            ),
        ));
    }
    Ok(())
}

fn item_key(attrs: &Value, integration: &str) -> Result<String, Failure> {
    attrs
        .get("key")
        .and_then(|k| k.get("S"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| task_failed(format!("{integration}: the item key must be {{\"key\": {{\"S\": \"...\"}}}}, the KV table's hash key")))
}

/// A DynamoDB attribute value as plain JSON (`{"S": "x"}` → `"x"`, `{"N": "1"}` → `1`, ...).
fn attribute_to_json(attr: &Value) -> Value {
    let Some((kind, v)) = attr.as_object().and_then(|o| o.iter().next()) else {
        return Value::Null;
    };
    match (kind.as_str(), v) {
        ("S", s) => s.clone(),
        ("N", Value::String(n)) => serde_json::from_str(n).unwrap_or(Value::Null),
        ("BOOL", b) => b.clone(),
        ("NULL", _) => Value::Null,
        ("L", Value::Array(items)) => Value::Array(items.iter().map(attribute_to_json).collect()),
        ("M", Value::Object(map)) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), attribute_to_json(v)))
                .collect(),
        ),
        ("SS" | "NS", Value::Array(items)) => Value::Array(items.clone()),
        _ => v.clone(),
    }
}

fn item_attributes(item: &KvItem) -> Value {
    let mut attrs = Map::new();
    attrs.insert("key".into(), json!({"S": item.key}));
    // A string that is not itself JSON text was written raw (as putItem wrote it): give it back
    // raw, so a putItem/getItem round trip returns the same attribute as DynamoDB does.
    // A large value's pointer is given back as stored, as DynamoDB holds it on AWS.
    let value_text = match &item.value {
        _ if item.body.is_some() => {
            format!(
                "{}{}",
                crate::types::kv::BODY_POINTER,
                item.body.as_deref().unwrap_or("")
            )
        }
        Value::String(s) if serde_json::from_str::<Value>(s).is_err() => s.clone(),
        other => other.to_string(),
    };
    attrs.insert("value".into(), json!({"S": value_text}));
    attrs.insert("version".into(), json!({"N": item.version.to_string()}));
    attrs.insert(
        "created_at".into(),
        json!({"N": item.created_at.timestamp_millis().to_string()}),
    );
    attrs.insert(
        "updated_at".into(),
        json!({"N": item.updated_at.timestamp_millis().to_string()}),
    );
    if let Some(expires) = item.expires_at {
        attrs.insert(
            "expires_at".into(),
            json!({"N": expires.timestamp().to_string()}),
        );
    }
    Value::Object(attrs)
}

async fn dynamodb(
    services: &Services,
    integration: Integration,
    payload: &Value,
) -> Result<Value, Failure> {
    let name = match integration {
        Integration::PutItem => "dynamodb:putItem",
        Integration::GetItem => "dynamodb:getItem",
        _ => "dynamodb:deleteItem",
    };
    check_table(services, payload, name)?;
    match integration {
        Integration::PutItem => {
            let item = field(payload, "Item", name)?;
            let key = item_key(item, name)?;
            // The KV table keeps the value as JSON text; other attribute kinds are converted.
            let value = match item.get("value") {
                Some(attr) => match attribute_to_json(attr) {
                    Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
                    other => other,
                },
                None => Value::Null,
            };
            let mut options = SetOptions::default();
            match payload.get("ConditionExpression").and_then(Value::as_str) {
                None => {}
                Some("attribute_not_exists(key)") | Some("attribute_not_exists(#k)") => {
                    options.if_absent = true
                }
                Some(other) => {
                    return Err(task_failed(format!(
                        "{name}: the embedded engine supports only the ConditionExpression attribute_not_exists(key), not '{other}'"
                    )));
                }
            }
            let write = KvWrite::prepare("kv.set", &key, value, &options)
                .map_err(|e| service_error("DynamoDB", e))?;
            services
                .kv
                .set(write)
                .await
                .map_err(|e| service_error("DynamoDB", e))?;
            Ok(json!({}))
        }
        Integration::GetItem => {
            let key = item_key(field(payload, "Key", name)?, name)?;
            validate::check_key("kv.get", &key).map_err(|e| service_error("DynamoDB", e))?;
            match services
                .kv
                .get(&key)
                .await
                .map_err(|e| service_error("DynamoDB", e))?
            {
                Some(item) => Ok(json!({"Item": item_attributes(&item)})),
                None => Ok(json!({})),
            }
        }
        _ => {
            let key = item_key(field(payload, "Key", name)?, name)?;
            validate::check_key("kv.delete", &key).map_err(|e| service_error("DynamoDB", e))?;
            services
                .kv
                .delete(&key)
                .await
                .map_err(|e| service_error("DynamoDB", e))?;
            Ok(json!({}))
        }
    }
}

async fn s3(
    services: &Services,
    integration: Integration,
    payload: &Value,
) -> Result<Value, Failure> {
    let name = if integration == Integration::PutObject {
        "s3:putObject"
    } else {
        "s3:getObject"
    };
    let bucket = text(payload, "Bucket", name)?;
    if bucket != services.names.artifacts_bucket {
        return Err(Failure::new(
            "S3.NoSuchBucketException",
            format!(
                "{name}: the bucket '{bucket}' is not the mesh's artifacts bucket '{}'",
                services.names.artifacts_bucket
            ),
        ));
    }
    let key = text(payload, "Key", name)?;
    if integration == Integration::PutObject {
        let body = match field(payload, "Body", name)? {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let options = PutOptions {
            content_type: payload
                .get("ContentType")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ..PutOptions::default()
        };
        let options = validate::check_put("artifacts.put", key, options)
            .map_err(|e| service_error("S3", e))?;
        let meta = services
            .artifacts
            .put(key, PutPayload::Bytes(body.into_bytes().into()), &options)
            .await
            .map_err(|e| service_error("S3", e))?;
        return Ok(json!({"ETag": format!("\"{}\"", meta.etag)}));
    }
    validate::check_artifact_key("artifacts.get", key).map_err(|e| service_error("S3", e))?;
    match services
        .artifacts
        .get(key)
        .await
        .map_err(|e| service_error("S3", e))?
    {
        Some((meta, data)) => Ok(json!({
            "Body": String::from_utf8_lossy(&data),
            "ContentType": meta.content_type,
            "ContentLength": meta.size,
            "ETag": format!("\"{}\"", meta.etag),
        })),
        None => Err(Failure::new(
            "S3.NoSuchKeyException",
            format!("{name}: no object under the key '{key}'"),
        )),
    }
}
