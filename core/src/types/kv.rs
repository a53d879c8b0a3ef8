//! KV items and write options. Shared by the public API and the backends, so neither imports the
//! other for them.

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use serde_json::Value;
use std::time::Duration;

/// A stored KV item.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct KvItem {
    /// The item's key.
    pub key: String,
    /// The JSON value.
    pub value: Value,
    /// 1 when created, plus 1 per write; use it with `SetOptions::if_version`.
    pub version: u64,
    /// When the item was first written (kept across overwrites).
    pub created_at: Timestamp,
    /// When the item was last written.
    pub updated_at: Timestamp,
    /// When the item expires, if it has a TTL.
    pub expires_at: Option<Timestamp>,
    /// Where a large value's body is, as the backend stored the item (see [`crate::kv`]); the
    /// public API resolves it, so items it hands out never have one.
    pub(crate) body: Option<String>,
}

/// What a stored KV value text starts with when the value is a large value's pointer. JSON
/// text never starts with `@`, so no value a client writes can be taken for a pointer.
pub(crate) const BODY_POINTER: &str = "@agent-mesh/kv-value ";

/// Where bodies are, under a scope prefix: `<prefix>.agent-mesh/kv-values/<hash>/<uuid>`.
pub(crate) const BODY_DIR: &str = ".agent-mesh/kv-values/";

/// The directory of the bodies of the item stored under `key` (the full key): 32 hex digits
/// of its SHA-256.
pub(crate) fn body_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The body key of the stored value text of the item under `key` (the full key), when the text
/// is a pointer to a body of that key: `<scope prefix>.agent-mesh/kv-values/<hash of key>/<32
/// hex>`. A pointer naming anything else (written around the SDK) is no pointer, so no read or
/// delete can reach another key's body or an artifact through it.
pub(crate) fn pointer_body<'a>(key: &str, stored: &'a str) -> Option<&'a str> {
    let body = stored.strip_prefix(BODY_POINTER)?;
    let (dir, id) = body.rsplit_once('/')?;
    let (scope, hash) = dir.rsplit_once('/')?;
    let scope = scope.strip_suffix(BODY_DIR.trim_end_matches('/'))?;
    let hex = |s: &str| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let within = scope.is_empty() || (scope.ends_with('/') && key.starts_with(scope));
    (within && hex(id) && hash == body_hash(key)).then_some(body)
}

/// Options of [`Kv::set`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetOptions {
    /// Time to live; `None` keeps the item until it is deleted.
    pub ttl: Option<Duration>,
    /// Write only if the current item has this version (else `Conflict`).
    pub if_version: Option<u64>,
    /// Write only if no live item has the key (else `Conflict`).
    pub if_absent: bool,
}

impl SetOptions {
    /// Expire the item after `ttl`.
    pub fn ttl(ttl: Duration) -> Self {
        SetOptions {
            ttl: Some(ttl),
            ..Self::default()
        }
    }

    /// Expire the item after `hours` hours.
    pub fn ttl_hours(hours: u64) -> Self {
        Self::ttl(Duration::from_secs(hours.saturating_mul(3600)))
    }

    /// Expire the item after `seconds` seconds.
    pub fn ttl_seconds(seconds: u64) -> Self {
        Self::ttl(Duration::from_secs(seconds))
    }

    /// Write only if the current version is `version`.
    pub fn if_version(version: u64) -> Self {
        SetOptions {
            if_version: Some(version),
            ..Self::default()
        }
    }

    /// Write only if the key has no live item.
    pub fn if_absent() -> Self {
        SetOptions {
            if_absent: true,
            ..Self::default()
        }
    }

    /// Options from loosely typed arguments, as the Python and Node bindings receive them: a TTL
    /// in seconds or in hours (at most one of them; positive and finite) and a condition.
    pub fn from_parts(
        operation: &str,
        key: &str,
        ttl_seconds: Option<f64>,
        ttl_hours: Option<f64>,
        if_version: Option<u64>,
        if_absent: bool,
    ) -> Result<SetOptions> {
        let invalid = |why: &str| Error::invalid_input(operation, key, why);
        let seconds = match (ttl_seconds, ttl_hours) {
            (Some(_), Some(_)) => {
                return Err(invalid("pass a TTL in seconds or in hours, not both"));
            }
            (Some(s), None) => Some(s),
            (None, Some(h)) => Some(h * 3600.0),
            (None, None) => None,
        };
        let ttl = match seconds {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                return Err(invalid(
                    "the TTL must be a positive number of seconds or hours",
                ));
            }
            Some(s) => {
                Some(Duration::try_from_secs_f64(s).map_err(|_| invalid("the TTL is too long"))?)
            }
            None => None,
        };
        Ok(SetOptions {
            ttl,
            if_version,
            if_absent,
        })
    }

    /// These options with a TTL added.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    pub(crate) fn condition(&self, key: &str) -> Result<WriteCondition> {
        match (self.if_absent, self.if_version) {
            (true, Some(_)) => Err(Error::invalid_input(
                "kv.set",
                key,
                "if_absent and if_version exclude each other; pass one of them",
            )),
            (true, None) => Ok(WriteCondition::IfAbsent),
            (false, Some(v)) => Ok(WriteCondition::IfVersion(v)),
            (false, None) => Ok(WriteCondition::Always),
        }
    }
}

/// When a KV write may happen (what the backends receive; callers use [`SetOptions`]).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCondition {
    /// Always write.
    Always,
    /// Only if no live (unexpired) item has the key.
    IfAbsent,
    /// Only if the live item has exactly this version.
    IfVersion(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pointer_to_a_body_of_its_own_key_is_a_pointer() {
        let id = "0123456789abcdef0123456789abcdef";
        let own = |scope: &str, key: &str| format!("{scope}{BODY_DIR}{}/{id}", body_hash(key));
        let pointer = |body: &str| format!("{BODY_POINTER}{body}");
        for (scope, key) in [
            ("", "k"),
            ("tenants/t/", "tenants/t/k"),
            ("tenants/t/a/", "tenants/t/a/k"),
        ] {
            let body = own(scope, key);
            assert_eq!(
                pointer_body(key, &pointer(&body)),
                Some(body.as_str()),
                "{key}"
            );
        }
        // Forged: another key's body, an artifact, a scope the key is not in, a bad id.
        for (key, body) in [
            ("k", own("", "other")),
            ("k", "reports/q1.pdf".to_owned()),
            ("tenants/t/k", own("tenants/u/", "tenants/t/k")),
            ("k", format!("{BODY_DIR}{}/../../x", body_hash("k"))),
            (
                "k",
                format!("{BODY_DIR}{}/{}", body_hash("k"), "z".repeat(32)),
            ),
        ] {
            assert_eq!(pointer_body(key, &pointer(&body)), None, "{key} -> {body}");
        }
        assert_eq!(pointer_body("k", "\"@agent-mesh/kv-value x\""), None);
    }
}
