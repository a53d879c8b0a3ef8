//! Input checks shared by every backend, so a key or value accepted by one backend is accepted
//! by all of them (the AWS limits hold on the local backend too).

use crate::error::{Error, ErrorKind, Result};

/// Longest key, in bytes of UTF-8 (the S3 object key limit; DynamoDB allows a little more).
pub const MAX_KEY_BYTES: usize = 1024;
/// Largest KV item: DynamoDB's 400 KB item limit read as 400,000 bytes, the strictest reading
/// (AWS accepts about 409 KB, moto 405,000 bytes), so an item accepted anywhere fits everywhere.
pub const MAX_KV_ITEM_BYTES: usize = 400_000;
/// Bytes of each KV item reserved for attribute names, version and timestamps, so that
/// `key + value JSON + overhead` matches what DynamoDB counts.
pub const KV_ITEM_OVERHEAD: usize = 200;
/// Most entries in one `batch_set` (DynamoDB's `TransactWriteItems` limit).
pub const MAX_BATCH_SET: usize = 100;
/// Largest page a `list` returns; larger limits are clamped to it (like S3's `MaxKeys`).
pub const MAX_PAGE: usize = 1000;
/// Page size when `ListOptions::limit` is not set.
pub const DEFAULT_PAGE: usize = 100;
/// Largest total size of an artifact's user metadata (S3's limit, 2 KB).
pub const MAX_METADATA_BYTES: usize = 2048;

/// Largest event entry: EventBridge's 256 KB `PutEvents` entry limit, counted as AWS counts it
/// (`Time` 14 bytes + `Source` + `DetailType` + `Detail` + each resource, in UTF-8 bytes).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// Most entries in one `PutEvents` request; `send_batch` splits larger batches.
pub const MAX_PUT_EVENTS: usize = 10;
/// Largest timeline entry data as JSON text: room for a 256 KB event's envelope, within
/// DynamoDB's item limit.
pub const MAX_TIMELINE_DATA_BYTES: usize = 300_000;
/// Most path segments of a timeline stream (each `/`-terminated prefix is an index entry).
pub const MAX_STREAM_DEPTH: usize = 16;

/// Checks that `size` bytes of `what` fit within `max`; `TooLarge` otherwise.
pub fn check_size(operation: &str, key: &str, what: &str, size: usize, max: usize) -> Result<()> {
    if size > max {
        return Err(Error::keyed(
            ErrorKind::TooLarge,
            operation,
            key,
            format!(
                "the {what} is {size} bytes; at most {max} bytes are allowed (the AWS limit, enforced on every backend): \
                 store large data with artifacts().put and refer to its key"
            ),
        ));
    }
    Ok(())
}

/// Checks a KV or artifact key: non-empty, at most 1024 bytes of UTF-8, no NUL.
pub fn check_key(operation: &str, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid_input(
            operation,
            key,
            "the key is empty; use a non-empty key such as \"user:123:preferences\"",
        ));
    }
    if key.len() > MAX_KEY_BYTES {
        let shown: String = key.chars().take(40).collect();
        return Err(Error::invalid_input(
            operation,
            &format!("{shown}..."),
            format!(
                "the key is {} bytes of UTF-8; keys hold at most {MAX_KEY_BYTES} bytes: shorten it or hash its tail",
                key.len()
            ),
        ));
    }
    if key.contains('\0') {
        return Err(Error::invalid_input(
            operation,
            key,
            "the key contains a NUL character; remove it",
        ));
    }
    Ok(())
}

/// Checks an artifact key: a KV-valid key that is also a relative path that stays inside the
/// artifact store — no leading `/`, no `.` or `..` segment, no backslash, no empty segment.
pub fn check_artifact_key(operation: &str, key: &str) -> Result<()> {
    check_key(operation, key)?;
    let problem = if key.starts_with('/') {
        Some("it starts with '/'; artifact keys are relative paths such as \"reports/2024/q1.pdf\"")
    } else if key.contains('\\') {
        Some("it contains a backslash; separate path segments with '/'")
    } else if key.split('/').any(|s| s == ".." || s == ".") {
        Some(
            "it has a '.' or '..' segment, which could escape the artifact store; name the path without them",
        )
    } else if key.split('/').any(str::is_empty) {
        Some("it has an empty path segment ('//' or a trailing '/'); remove it")
    } else {
        None
    };
    match problem {
        Some(p) => Err(Error::invalid_input(operation, key, p)),
        None => Ok(()),
    }
}

/// Checks that a KV item (key plus JSON-encoded value) fits DynamoDB's item limit.
pub fn check_kv_item_size(operation: &str, key: &str, encoded_value: &str) -> Result<()> {
    let size = key.len() + encoded_value.len() + KV_ITEM_OVERHEAD;
    if size > MAX_KV_ITEM_BYTES {
        return Err(Error::keyed(
            ErrorKind::TooLarge,
            operation,
            key,
            format!(
                "the item is {size} bytes (key + JSON value + {KV_ITEM_OVERHEAD} bytes of attributes); \
                 a KV item holds at most {MAX_KV_ITEM_BYTES} bytes (DynamoDB's 400 KB limit, enforced on \
                 every backend): store the data with artifacts().put and keep its key in the KV"
            ),
        ));
    }
    Ok(())
}

/// The effective page size for a `list` call: `DEFAULT_PAGE` when unset, clamped to `MAX_PAGE`.
pub fn page_limit(operation: &str, prefix: &str, limit: Option<usize>) -> Result<usize> {
    match limit {
        Some(0) => Err(Error::invalid_input(
            operation,
            prefix,
            "limit is 0; ask for at least 1 item (at most 1000 per page)",
        )),
        Some(n) => Ok(n.min(MAX_PAGE)),
        None => Ok(DEFAULT_PAGE),
    }
}

/// A JSON argument given either as a value or as JSON text (a string value), as the bindings
/// accept definitions, inputs, patterns and task outputs.
pub fn json_text_or_value(
    operation: &str,
    key: &str,
    what: &str,
    value: serde_json::Value,
) -> Result<serde_json::Value> {
    match value {
        serde_json::Value::String(text) => serde_json::from_str(&text).map_err(|e| {
            Error::invalid_input(
                operation,
                key,
                format!("the {what} is not valid JSON text: {e}"),
            )
        }),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_keys_cannot_escape() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a\\b",
            "a//b",
            "a/",
            "..",
        ] {
            let e = check_artifact_key("artifacts.put", bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
            assert!(e.message.contains("artifacts.put"), "{e}");
        }
        for good in [
            "a",
            "a/b/c.pdf",
            "..a",
            "a..b/c",
            "conversations/2024/résumé.pdf",
        ] {
            check_artifact_key("artifacts.put", good).unwrap();
        }
    }

    #[test]
    fn key_limits() {
        check_key("kv.get", &"k".repeat(MAX_KEY_BYTES)).unwrap();
        let e = check_key("kv.get", &"k".repeat(MAX_KEY_BYTES + 1)).unwrap_err();
        assert!(e.message.contains("1025 bytes"), "{e}");
        // multi-byte characters count in bytes, not characters
        assert!(check_key("kv.get", &"é".repeat(513)).is_err());
        assert!(check_key("kv.get", "").is_err());
        assert!(check_key("kv.get", "a\0b").is_err());
    }
}
