//! Reading KV items in every layout that may sit in the table: agent-mesh's own, and the ones
//! the upstream "AWS AI Agent Bus" MCP server wrote.
//!
//! The upstream server stored a key raw or as `KV#<key>`, the value as JSON text or a plain
//! string, `created_at`/`updated_at` as RFC 3339 text (S) or epoch seconds (N), `expires_at` in
//! epoch seconds only, and no `version` (such an item counts as version 1). agent-mesh reads all
//! of these; its first write of a key rewrites the item in its own layout (see `kv_layout`),
//! under the raw key, so `KV#<key>` items are only ever read.

use aws_sdk_dynamodb::types::AttributeValue;

use super::tables::Item;
use crate::clock::from_ms;
use crate::error::{Error, Result};
use crate::types::kv::{KvItem, pointer_body};

/// Prefix under which the upstream server sometimes stored keys.
pub(crate) const UPSTREAM_PREFIX: &str = "KV#";

/// Where an item the upstream server wrote for `key` would be (`KV#<key>`); `None` for a key
/// in the tenant namespace, which the upstream server never wrote (and a tenant's IAM policy,
/// confined to `tenants/<tenant>/`, would refuse to read).
pub(crate) fn upstream_fallback(key: &str) -> Option<String> {
    (!crate::scope::hidden_from_root(key)).then(|| upstream_key(key))
}

/// The stored key under which the upstream server may have kept `key`.
fn upstream_key(key: &str) -> String {
    format!("{UPSTREAM_PREFIX}{key}")
}

/// A number attribute (N, or RFC 3339 text read as epoch ms).
pub(crate) fn num(item: &Item, name: &str) -> Option<i64> {
    match item.get(name)? {
        AttributeValue::N(v) => v.parse::<i64>().ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f as i64)
        }),
        AttributeValue::S(v) => chrono::DateTime::parse_from_rfc3339(v)
            .ok()
            .map(|t| t.timestamp_millis()),
        _ => None,
    }
}

/// Epoch ms of a time attribute written as ms, seconds or RFC 3339 text.
pub(crate) fn time_ms(item: &Item, name: &str) -> Option<i64> {
    num(item, name).map(|v| {
        if v < 100_000_000_000 && matches!(item.get(name), Some(AttributeValue::N(_))) {
            v.saturating_mul(1000)
        } else {
            v
        }
    })
}

/// When the item expires, in epoch ms: agent-mesh's exact `expires_at_ms`, else the upstream
/// `expires_at` in seconds.
pub(crate) fn expiry_ms(item: &Item) -> Option<i64> {
    num(item, "expires_at_ms").or_else(|| num(item, "expires_at").map(|s| s.saturating_mul(1000)))
}

/// Whether the item has not expired at `now` (epoch ms).
pub(crate) fn is_live(item: &Item, now: i64) -> bool {
    expiry_ms(item).is_none_or(|e| e > now)
}

/// The item's version: the stored one, or 1 for an upstream item that has none.
pub(crate) fn version(item: &Item) -> u64 {
    num(item, "version").map_or(1, |v| v.max(1) as u64)
}

/// The body key of a stored item whose value is a large value's pointer.
pub(crate) fn stored_body(item: &Item) -> Option<String> {
    match (item.get("key"), item.get("value")) {
        (Some(AttributeValue::S(key)), Some(AttributeValue::S(text))) => {
            pointer_body(key, text).map(str::to_owned)
        }
        _ => None,
    }
}

/// The KV item for a stored DynamoDB item, reported under `key`.
pub(crate) fn decode(operation: &str, key: &str, item: &Item) -> Result<KvItem> {
    let body = stored_body(item);
    let value = match item.get("value") {
        _ if body.is_some() => serde_json::Value::Null,
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
        body,
        version: version(item),
        created_at: from_ms(created),
        updated_at: from_ms(time_ms(item, "updated_at").unwrap_or(created)),
        expires_at: expiry_ms(item).map(from_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn upstream_items_decode_with_version_one_and_second_times() {
        let upstream = item(&[
            ("key", AttributeValue::S("KV#k".into())),
            ("value", AttributeValue::S("plain text".into())),
            (
                "created_at",
                AttributeValue::S("2024-01-01T00:00:00Z".into()),
            ),
            ("expires_at", AttributeValue::N("1700000000".into())),
        ]);
        let decoded = decode("kv.get", "k", &upstream).unwrap();
        assert_eq!(decoded.value, json!("plain text"));
        assert_eq!(decoded.version, 1);
        assert_eq!(decoded.created_at.timestamp(), 1_704_067_200);
        assert_eq!(expiry_ms(&upstream), Some(1_700_000_000_000));
        assert!(!is_live(&upstream, 1_700_000_000_000));
        assert!(is_live(&upstream, 1_699_999_999_999));
    }

    #[test]
    fn extreme_numbers_do_not_overflow() {
        let odd = item(&[
            ("version", AttributeValue::N("1e400".into())),
            (
                "expires_at",
                AttributeValue::N("9223372036854775807".into()),
            ),
            ("created_at", AttributeValue::N("-5".into())),
        ]);
        assert_eq!(version(&odd), 1);
        assert_eq!(expiry_ms(&odd), Some(i64::MAX));
        assert!(decode("kv.get", "k", &odd).is_ok());
    }
}
