//! Tenant scopes: a [`Scope`] names a tenant and, nested under it, an agent, a session, ...;
//! [`crate::MeshClient::scope`] wraps the root backends in the layer of this module (one
//! wrapper per domain, as object_store's `PrefixStore` wraps a store), so every backend gets
//! the same isolation from one implementation.
//!
//! What a scope `[t, a]` maps to, on every backend:
//! - KV keys, artifact keys and timeline streams: `tenants/t/a/` + the key the client used;
//! - event sources: `tenants/t/a/` + the source (so the tenant travels with the event);
//! - state machine and activity names: `t.a.` + the name (`.` is in no tenant id and no
//!   unscoped name, so a scoped name is never an unscoped one);
//! - durable subscription names: `t_a__` + the name (SQS queue names allow no `.`; ids contain
//!   no `_`, so the first `__` ends the scope and a parent's names never meet a child's).
//!
//! Everything under `tenants/` is the *tenant namespace*. Listings from outside a tenant (the
//! unscoped client listing `""`) leave it out on every backend, because on AWS a tenant's KV
//! items and timeline entries sit in DynamoDB partitions of their own, where IAM's
//! `dynamodb:LeadingKeys` can confine the tenant's agents ([`iam`]).

mod artifacts;
mod events;
pub(crate) mod iam;
mod kv;
mod timeline;
mod workflows;

pub(crate) use artifacts::ScopedArtifacts;
pub(crate) use events::ScopedEvents;
pub(crate) use kv::ScopedKv;
pub(crate) use timeline::ScopedTimeline;
pub(crate) use workflows::ScopedWorkflows;

use crate::backend::BackendPage;
use crate::error::{Error, Result};
use crate::validate;

/// Where the tenant namespace starts in keys, artifact keys, streams and event sources.
pub const TENANTS: &str = "tenants/";
/// Most characters of one scope segment (a tenant, agent or session id).
pub const MAX_SEGMENT_CHARS: usize = 32;
/// Most nested levels of one scope (tenant → agent → session → ...).
pub const MAX_SCOPE_DEPTH: usize = 4;

/// A validated scope path: a tenant id, then the ids nested under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    segments: Vec<String>,
    /// `tenants/t/a/`.
    key_prefix: String,
}

impl Scope {
    /// The scope of tenant `tenant`.
    pub fn tenant(tenant: &str) -> Result<Scope> {
        check_segment(tenant)?;
        Ok(Scope {
            segments: vec![tenant.to_owned()],
            key_prefix: format!("{TENANTS}{tenant}/"),
        })
    }

    /// The scope `segment` nested in this one.
    pub fn child(&self, segment: &str) -> Result<Scope> {
        check_segment(segment)?;
        if self.segments.len() >= MAX_SCOPE_DEPTH {
            return Err(Error::invalid_input(
                "mesh.scope",
                segment,
                format!(
                    "scopes nest at most {MAX_SCOPE_DEPTH} levels (this client is scoped to '{}'): scope from a shallower client",
                    self.segments.join("/")
                ),
            ));
        }
        let mut segments = self.segments.clone();
        segments.push(segment.to_owned());
        Ok(Scope {
            key_prefix: format!("{}{segment}/", self.key_prefix),
            segments,
        })
    }

    /// The tenant id (the first segment).
    pub fn tenant_id(&self) -> &str {
        &self.segments[0]
    }

    /// Every segment, the tenant first.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// What keys, artifact keys, streams and event sources start with: `tenants/t/a/`.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// What the tenant's namespace starts with: `tenants/t/`.
    pub fn tenant_prefix(&self) -> String {
        format!("{TENANTS}{}/", self.tenant_id())
    }

    /// What state machine and activity names start with: `t.a.`.
    pub fn name_prefix(&self) -> String {
        self.joined('.')
    }

    /// What durable subscription names start with: `t_a_`.
    pub fn subscription_prefix(&self) -> String {
        self.joined('_')
    }

    fn joined(&self, separator: char) -> String {
        self.segments
            .iter()
            .flat_map(|s| [s.as_str(), if separator == '.' { "." } else { "_" }])
            .collect()
    }

    /// The stored form of `key` (a KV key or an artifact key), checked against the key limit
    /// that the prefix makes shorter.
    pub(crate) fn key(&self, operation: &str, key: &str) -> Result<String> {
        let mut full = String::with_capacity(self.key_prefix.len() + key.len());
        full.push_str(&self.key_prefix);
        full.push_str(key);
        if full.len() > validate::MAX_KEY_BYTES {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "in scope '{}' keys are stored under '{}', and this one would be {} bytes, over {}: keep keys in this scope to at most {} bytes",
                    self.segments.join("/"),
                    self.key_prefix,
                    full.len(),
                    validate::MAX_KEY_BYTES,
                    validate::MAX_KEY_BYTES - self.key_prefix.len()
                ),
            ));
        }
        Ok(full)
    }

    /// The stored form of the state machine or activity name `name`.
    pub(crate) fn name(&self, name: &str) -> String {
        format!("{}{name}", self.name_prefix())
    }

    /// `name` as the scoped client sees it; `None` when it is outside the scope.
    pub(crate) fn strip_name(&self, stored: &str) -> Option<String> {
        stored
            .strip_prefix(self.name_prefix().as_str())
            .map(str::to_owned)
    }
}

/// Errors as the scoped client should see them: the scope's key prefix taken out of the message
/// and the context, so an error names the key the client used.
pub(crate) trait Unscoped<T> {
    /// `self`, with an error's stored keys shown as the scoped client knows them.
    fn unscoped(self, scope: &Scope) -> Result<T>;
}

impl<T> Unscoped<T> for Result<T> {
    fn unscoped(self, scope: &Scope) -> Result<T> {
        self.map_err(|mut e| {
            e.message = e.message.replace(scope.key_prefix.as_str(), "");
            for (_, value) in &mut e.context {
                *value = value.replace(scope.key_prefix.as_str(), "");
            }
            e
        })
    }
}

/// Removes the scope's prefix from `stored` in place (no allocation); an internal error when
/// `stored` is outside the scope.
pub(crate) fn unscope_in_place(scope: &Scope, operation: &str, stored: &mut String) -> Result<()> {
    if stored.starts_with(scope.key_prefix.as_str()) {
        stored.replace_range(..scope.key_prefix.len(), "");
        return Ok(());
    }
    Err(outside(scope, operation, stored))
}

/// The error of a backend answer outside the scope.
fn outside(scope: &Scope, operation: &str, stored: &str) -> Error {
    Error::internal(
        operation,
        format!(
            "the backend answered with '{stored}', outside the scope '{}'",
            scope.key_prefix()
        ),
    )
}

/// `page` with every item's key (and the resume position) as the scoped client sees them.
pub(crate) fn unscoped_page<T>(
    scope: &Scope,
    operation: &str,
    page: BackendPage<T>,
    key: impl Fn(&mut T) -> &mut String,
) -> Result<BackendPage<T>> {
    let mut items = page.items;
    for item in &mut items {
        unscope_in_place(scope, operation, key(item))?;
    }
    Ok(BackendPage {
        items,
        more: page.more,
        resume_after: page
            .resume_after
            .map(|mut k| unscope_in_place(scope, operation, &mut k).map(|()| k))
            .transpose()?,
    })
}

/// Checks one scope segment: 1 to 32 lowercase letters, digits and inner `-`.
fn check_segment(segment: &str) -> Result<()> {
    let chars_ok = segment
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ends_ok = !segment.starts_with('-') && !segment.ends_with('-');
    if !segment.is_empty() && segment.len() <= MAX_SEGMENT_CHARS && chars_ok && ends_ok {
        return Ok(());
    }
    let shown: String = segment.chars().take(64).collect();
    Err(Error::invalid_input(
        "mesh.scope",
        &shown,
        format!(
            "a tenant, agent or session id has 1 to {MAX_SEGMENT_CHARS} characters: lowercase letters a-z, digits and '-' (not first or last), e.g. 'tenant-abc'; map other ids to this form (lower-case them, or hash them)"
        ),
    ))
}

/// Where `key` (a KV key, artifact key or stream) sits in the tenant namespace: `Some` with
/// the tenant's root (`tenants/t/`) for a key inside one tenant, `Some("tenants/")` for a key
/// under `tenants/` outside any tenant (no second `/`), `None` outside the namespace.
pub(crate) fn tenant_root(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(TENANTS)?;
    Some(match rest.find('/') {
        Some(i) => &key[..TENANTS.len() + i + 1],
        None => TENANTS,
    })
}

/// Which part of the KV keys a listing of `prefix` covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KvListing<'a> {
    /// Keys outside the tenant namespace.
    Root,
    /// Keys of the tenant whose root (`tenants/t/`) this is.
    Tenant(&'a str),
}

/// The part of the keys a KV listing of `prefix` covers; an error for a prefix that spans
/// tenants (`tenants/`, `tenants/t` without its `/`), which no backend can list in one query
/// on AWS.
pub(crate) fn kv_listing<'a>(operation: &str, prefix: &'a str) -> Result<KvListing<'a>> {
    match tenant_root(prefix) {
        None => Ok(KvListing::Root),
        Some(TENANTS) => Err(Error::invalid_input(
            operation,
            prefix,
            "this prefix spans tenants: list one tenant's keys with the prefix 'tenants/<tenant>/' (or through mesh.scope(tenant)); listings outside the tenant namespace leave it out",
        )),
        Some(root) => Ok(KvListing::Tenant(root)),
    }
}

/// The key ranges `[lower, upper)` (`None`: unbounded) a KV listing of `prefix` reads, in
/// order: the prefix's range, less the tenant namespace for a listing outside every tenant,
/// so that a root listing never walks through the tenants' keys.
pub(crate) fn kv_list_ranges(
    operation: &str,
    prefix: &str,
) -> Result<Vec<(String, Option<String>)>> {
    let upper = crate::page::prefix_upper_bound(prefix);
    if kv_listing(operation, prefix)? != KvListing::Root {
        return Ok(vec![(prefix.to_owned(), upper)]);
    }
    // The namespace is [TENANTS, NAMESPACE_END): every key starting with "tenants/".
    const NAMESPACE_END: &str = "tenants0";
    let mut ranges = Vec::with_capacity(2);
    let below_end = match &upper {
        Some(upper) if upper.as_str() <= TENANTS => Some(upper.clone()),
        _ => Some(TENANTS.to_owned()),
    };
    if prefix < TENANTS {
        ranges.push((prefix.to_owned(), below_end));
    }
    let above_start = prefix.max(NAMESPACE_END);
    if upper.as_deref().is_none_or(|u| u > above_start) {
        ranges.push((above_start.to_owned(), upper));
    }
    Ok(ranges)
}

/// Whether a root listing (one outside every tenant) leaves `key` out.
pub(crate) fn hidden_from_root(key: &str) -> bool {
    key.starts_with(TENANTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_checked() {
        for ok in ["a", "tenant-abc", "0", &"x".repeat(32)] {
            assert!(Scope::tenant(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "-a",
            "a-",
            "A",
            "a/b",
            "a.b",
            "a_b",
            "a b",
            "é",
            "a\0",
            &"x".repeat(33),
        ] {
            let e = Scope::tenant(bad).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::InvalidInput, "{bad:?}");
            assert!(e.to_string().contains("mesh.scope"), "{e}");
        }
    }

    #[test]
    fn nested_prefixes() {
        let s = Scope::tenant("t").unwrap().child("a").unwrap();
        assert_eq!(s.key_prefix(), "tenants/t/a/");
        assert_eq!(s.tenant_prefix(), "tenants/t/");
        assert_eq!(s.name_prefix(), "t.a.");
        assert_eq!(s.subscription_prefix(), "t_a_");
        let deep = s.child("b").unwrap().child("c").unwrap();
        assert!(deep.child("d").is_err());
    }

    #[test]
    fn namespace() {
        assert_eq!(tenant_root("tenants/t/x"), Some("tenants/t/"));
        assert_eq!(tenant_root("tenants/t"), Some("tenants/"));
        assert_eq!(tenant_root("tenant"), None);
        assert_eq!(kv_listing("op", "").unwrap(), KvListing::Root);
        assert_eq!(
            kv_listing("op", "tenants/t/a").unwrap(),
            KvListing::Tenant("tenants/t/")
        );
        assert!(kv_listing("op", "tenants/t").is_err());
        assert!(kv_listing("op", "tenants/").is_err());
        let r = |p| kv_list_ranges("op", p).unwrap();
        let s = |v: &str| v.to_owned();
        assert_eq!(r(""), [(s(""), Some(s(TENANTS))), (s("tenants0"), None)]);
        assert_eq!(r("a"), [(s("a"), Some(s("b")))]);
        assert_eq!(r("u"), [(s("u"), Some(s("v")))]);
        assert_eq!(
            r("ten"),
            [
                (s("ten"), Some(s(TENANTS))),
                (s("tenants0"), Some(s("teo")))
            ]
        );
        assert_eq!(r("tenants/t/"), [(s("tenants/t/"), Some(s("tenants/t0")))]);
    }

    #[test]
    fn long_keys_name_the_scope_limit() {
        let s = Scope::tenant("t").unwrap();
        let e = s.key("kv.set", &"k".repeat(1020)).unwrap_err();
        assert!(e.to_string().contains("at most 1014 bytes"), "{e}");
    }
}
