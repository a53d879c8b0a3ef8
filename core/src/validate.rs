//! Input checks shared by every backend, so a key or value accepted by one backend is accepted
//! by all of them (the AWS limits hold on the local backend too).

use std::collections::BTreeMap;

use crate::error::{Error, ErrorKind, Result};
use crate::types::artifacts::{DEFAULT_CONTENT_TYPE, PutOptions};

/// Longest key, in bytes of UTF-8 (the S3 object key limit; DynamoDB allows a little more).
pub const MAX_KEY_BYTES: usize = 1024;
/// Largest KV item: DynamoDB's 400 KB item limit read as 400,000 bytes, the strictest reading
/// (AWS accepts about 409 KB, moto 405,000 bytes), so an item accepted anywhere fits everywhere.
pub const MAX_KV_ITEM_BYTES: usize = 400_000;
/// Bytes of each KV item reserved for attribute names, version and timestamps, so that
/// `key + value JSON + overhead` matches what DynamoDB counts.
pub const KV_ITEM_OVERHEAD: usize = 200;
/// Largest KV value, as JSON text: 64 MiB. Values whose item would pass
/// [`MAX_KV_ITEM_BYTES`] are stored as a body in the artifact store and a pointer item.
pub const MAX_KV_VALUE_BYTES: usize = 64 * 1024 * 1024;
/// Bytes of large values' bodies past which a `kv.list` page ends early, with a cursor: a page
/// holds at most this much of them plus one value, whatever its `limit`.
pub const LIST_PAGE_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Most entries in one `batch_set` (DynamoDB's `TransactWriteItems` limit).
pub const MAX_BATCH_SET: usize = 100;
/// Largest total size of one `batch_set`, each entry counted as a KV item (key + JSON value +
/// [`KV_ITEM_OVERHEAD`]): DynamoDB's 4 MB `TransactWriteItems` aggregate limit read as
/// 4,000,000 bytes, the strictest reading, as [`MAX_KV_ITEM_BYTES`] reads 400 KB.
pub const MAX_BATCH_SET_BYTES: usize = 4_000_000;
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

/// Deepest nesting of a JSON value (objects and arrays) accepted anywhere: values, event
/// details, timeline data, workflow inputs and outputs, tool arguments. Every read path decodes
/// at least twice as deep (serde_json stops at 128), so whatever is accepted stays readable.
pub const MAX_VALUE_DEPTH: usize = 64;

/// Most objects, arrays and scalars the bindings convert in one value (a Python or JavaScript
/// graph that shares a list at every level expands exponentially; this stops it early).
pub const MAX_VALUE_NODES: usize = 1_000_000;

/// Checks that `value` (the `what` of `operation` on `key`) nests at most
/// [`MAX_VALUE_DEPTH`] levels; `InvalidInput` otherwise. Walks the value without recursion, so
/// a value nested arbitrarily deep is refused, not a stack overflow.
pub fn check_depth(
    operation: &str,
    key: &str,
    what: &str,
    value: &serde_json::Value,
) -> Result<()> {
    check_depth_within(operation, key, what, value, MAX_VALUE_DEPTH)
}

/// [`check_depth`] with another limit: an envelope (a tool's arguments object) may nest one
/// level deeper than the values it carries.
fn check_depth_within(
    operation: &str,
    key: &str,
    what: &str,
    value: &serde_json::Value,
    max: usize,
) -> Result<()> {
    use serde_json::Value;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if depth > max {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "the {what} nests deeper than {max} levels of objects and arrays; \
                     flatten it (or store the deep part as an artifact)"
                ),
            ));
        }
        stack.extend(children.map(|child| (child, depth + 1)));
    }
    Ok(())
}

/// `value` if it passes [`check_depth`]; otherwise the error, with the value taken apart
/// without recursion (dropping a value nested far past the limit recursively would overflow the
/// stack).
pub fn checked_depth(
    operation: &str,
    key: &str,
    what: &str,
    value: serde_json::Value,
) -> Result<serde_json::Value> {
    checked_depth_within(operation, key, what, value, MAX_VALUE_DEPTH)
}

/// [`checked_depth`] for an envelope of values: one level more.
pub fn checked_envelope_depth(
    operation: &str,
    key: &str,
    what: &str,
    value: serde_json::Value,
) -> Result<serde_json::Value> {
    checked_depth_within(operation, key, what, value, MAX_VALUE_DEPTH + 1)
}

fn checked_depth_within(
    operation: &str,
    key: &str,
    what: &str,
    value: serde_json::Value,
    max: usize,
) -> Result<serde_json::Value> {
    match check_depth_within(operation, key, what, &value, max) {
        Ok(()) => Ok(value),
        Err(error) => {
            drop_flat(value);
            Err(error)
        }
    }
}

/// Drops `value` without recursion, however deep it nests.
pub fn drop_flat(value: serde_json::Value) {
    use serde_json::Value;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => pending.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Longest timeout a call accepts, in seconds: one year (a Standard workflow's longest life).
pub const MAX_TIMEOUT_SECONDS: f64 = 31_536_000.0;

/// A caller's timeout of `seconds` as a `Duration`: `InvalidInput` for NaN, infinities,
/// negative numbers and more than [`MAX_TIMEOUT_SECONDS`] (pass no timeout to wait without
/// limit), so no number reaches a panicking conversion.
pub fn timeout(operation: &str, key: &str, seconds: f64) -> Result<std::time::Duration> {
    if !(0.0..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(Error::invalid_input(
            operation,
            key,
            format!(
                "the timeout is {seconds} seconds; give between 0 and {MAX_TIMEOUT_SECONDS} \
                 (one year), or none to wait without a limit"
            ),
        ));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// Validates an artifact put of `key` and normalises its options (default content type, lower-case metadata keys):
/// metadata names are header-safe ASCII and distinct ignoring case, metadata values and the
/// content type hold no control characters (they become HTTP headers on S3).
/// Used by the public API and the embedded engine's S3 integration.
pub(crate) fn check_put(operation: &str, key: &str, mut options: PutOptions) -> Result<PutOptions> {
    check_user_artifact_key(operation, key)?;
    let mut metadata = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut total = 0;
    for (name, value) in std::mem::take(&mut options.metadata) {
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid_name {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "metadata name {name:?} must be non-empty ASCII letters, digits, '-', '_' or \
                     '.' (S3 sends it as an HTTP header name); rename it"
                ),
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "metadata {name:?} has the control character U+{:04X} in its value; S3 sends \
                     metadata as HTTP headers, where CR, LF and other control characters are \
                     not allowed: remove it (or store such text in the artifact)",
                    c as u32
                ),
            ));
        }
        total += name.len() + value.len();
        let lower = name.to_ascii_lowercase();
        if let Some(earlier) = names.insert(lower.clone(), name.clone()) {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "metadata names {earlier:?} and {name:?} differ only in case; S3 lower-cases \
                     metadata names, so one value would be lost: keep one of them"
                ),
            ));
        }
        metadata.insert(lower, value);
    }
    if total > MAX_METADATA_BYTES {
        return Err(Error::keyed(
            ErrorKind::TooLarge,
            operation,
            key,
            format!(
                "user metadata is {total} bytes; at most {} are allowed (S3's limit): move large values into the artifact",
                MAX_METADATA_BYTES
            ),
        ));
    }
    let content_type = options
        .content_type
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
    if let Some(c) = content_type.chars().find(|c| c.is_control()) {
        return Err(Error::invalid_input(
            operation,
            key,
            format!(
                "content_type {content_type:?} has the control character U+{:04X}; it is sent as \
                 the Content-Type HTTP header, where CR, LF and other control characters are not \
                 allowed: pass a MIME type such as \"application/pdf\"",
                c as u32
            ),
        ));
    }
    Ok(PutOptions {
        content_type: Some(content_type),
        metadata,
    })
}

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

/// Checks an artifact key: a KV-valid key without control characters (U+0000–U+001F, U+007F)
/// that is also a relative path that stays inside the artifact store — no leading `/`, no `.` or
/// `..` segment, no backslash, no empty segment.
pub fn check_artifact_key(operation: &str, key: &str) -> Result<()> {
    check_key(operation, key)?;
    if let Some((at, c)) = key.char_indices().find(|(_, c)| c.is_ascii_control()) {
        return Err(Error::invalid_input(
            operation,
            key,
            format!(
                "it contains the control character U+{:04X} at byte {at}; artifact keys become S3 \
                 object keys, where control characters (U+0000-U+001F, U+007F) do not survive \
                 listing and HTTP: remove or replace it (e.g. with '_')",
                c as u32
            ),
        ));
    }
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

/// Checks that a KV value (its JSON text) is within [`MAX_KV_VALUE_BYTES`], the most a value
/// stored as a body and a pointer may take.
pub fn check_kv_value_size(operation: &str, key: &str, encoded_value: &str) -> Result<()> {
    if encoded_value.len() > MAX_KV_VALUE_BYTES {
        return Err(Error::keyed(
            ErrorKind::TooLarge,
            operation,
            key,
            format!(
                "the value is {} bytes as JSON; a KV value holds at most {MAX_KV_VALUE_BYTES} bytes \
                 (64 MiB; values over {MAX_KV_ITEM_BYTES} bytes are kept in the artifact store): \
                 store the data with artifacts().put_file and keep its key in the KV",
                encoded_value.len()
            ),
        ));
    }
    Ok(())
}

/// The path segment agent-mesh keeps for its own artifacts (the bodies of large KV values).
pub const RESERVED_SEGMENT: &str = ".agent-mesh";

/// Whether the artifact key `key` has the reserved segment (see [`RESERVED_SEGMENT`]).
pub fn is_reserved_artifact_key(key: &str) -> bool {
    key.split('/').any(|s| s == RESERVED_SEGMENT)
}

/// [`check_artifact_key`] for a key a client names: also refuses the reserved segment.
pub fn check_user_artifact_key(operation: &str, key: &str) -> Result<()> {
    check_artifact_key(operation, key)?;
    if is_reserved_artifact_key(key) {
        return Err(Error::invalid_input(
            operation,
            key,
            format!(
                "it has a '{RESERVED_SEGMENT}' path segment, which agent-mesh keeps for its own data \
                 (the bodies of large KV values); name the path without it"
            ),
        ));
    }
    Ok(())
}

/// Checks that the entries of one `batch_set`, `total` bytes counted as KV items, fit one
/// DynamoDB transaction ([`MAX_BATCH_SET_BYTES`]); `TooLarge` otherwise.
pub fn check_batch_set_size(
    operation: &str,
    first_key: &str,
    count: usize,
    total: usize,
) -> Result<()> {
    if total > MAX_BATCH_SET_BYTES {
        return Err(Error::keyed(
            ErrorKind::TooLarge,
            operation,
            first_key,
            format!(
                "the {count} entries are {total} bytes together (each key + JSON value + \
                 {KV_ITEM_OVERHEAD} bytes of attributes); one batch holds at most \
                 {MAX_BATCH_SET_BYTES} bytes (DynamoDB's 4 MB TransactWriteItems limit, enforced \
                 on every backend): split it into several batch_set calls, or store large values \
                 with artifacts().put and keep their keys in the KV"
            ),
        )
        .with_context("limit", MAX_BATCH_SET_BYTES.to_string()));
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
    .and_then(|value| checked_depth(operation, key, what, value))
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
            "a\u{1}b",
            "tab\there",
            "line\nbreak",
            "cr\r",
            "del\u{7f}",
            "\u{1f}",
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
        let e = check_artifact_key("artifacts.put", "a\nb").unwrap_err();
        assert!(
            e.message.contains(r#""a\nb""#)
                && e.message.contains("U+000A")
                && e.message.contains("remove"),
            "names the key escaped, the character and the fix: {e}"
        );
        // Non-ASCII text and C1 characters are not control characters of S3 keys.
        check_artifact_key("artifacts.put", "r\u{e9}sum\u{e9}\u{85}").unwrap();
    }

    /// `[[...[1]...]]` nested `depth` levels, built without recursion.
    fn nested(depth: usize) -> serde_json::Value {
        let mut value = serde_json::json!(1);
        for _ in 0..depth {
            value = serde_json::Value::Array(vec![value]);
        }
        value
    }

    #[test]
    fn depth_is_checked_without_recursion() {
        check_depth("kv.set", "k", "value", &nested(MAX_VALUE_DEPTH)).unwrap();
        let e = check_depth("kv.set", "k", "value", &nested(MAX_VALUE_DEPTH + 1)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(
            e.message.contains("kv.set") && e.message.contains("64 levels"),
            "{e}"
        );
        // Far deeper than any stack: refused, not a crash (checked on a small stack).
        let deep = nested(200_000);
        let result = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || checked_depth("kv.set", "k", "value", deep).is_err())
            .unwrap()
            .join()
            .unwrap();
        assert!(result);
        // The same limit holds for JSON text: decoded by serde_json (at most 128 deep), then checked.
        let text = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        let e = json_text_or_value(
            "workflows.start",
            "m",
            "input",
            serde_json::Value::String(text),
        )
        .unwrap_err();
        assert!(e.message.contains("64 levels"), "{e}");
    }

    #[test]
    fn timeouts_are_finite_non_negative_and_at_most_a_year() {
        assert_eq!(timeout("wait", "x", 1.5).unwrap().as_millis(), 1500);
        assert!(timeout("wait", "x", 0.0).unwrap().is_zero());
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1.0,
            1e19,
            -0.001,
        ] {
            let e = timeout("subscription.next", "s", bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
            assert!(e.message.contains("subscription.next"), "{e}");
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
