//! The timeline backend trait.
//!
//! Entries are indexed under every path that a prefix query may start from: the empty path and
//! each `/`-terminated prefix of the stream (`a/b/c` is indexed under ``, `a/`, `a/b/`). A query
//! reads one path's index in id order, so its cost follows the page, not the log's size.

use async_trait::async_trait;

use super::BackendPage;
use crate::error::Result;
use crate::types::timeline::TimelineEntry;

/// One validated entry to append, with its JSON text and its index paths.
#[derive(Debug, Clone)]
pub struct TimelineRecord {
    /// The entry (id and time assigned by the public API).
    pub entry: TimelineEntry,
    /// `entry.data` as JSON text.
    pub data_json: String,
    /// The paths the entry is indexed under ([`index_paths`]).
    pub paths: Vec<String>,
}

/// One page request against one index path.
#[derive(Debug, Clone)]
pub struct TimelineScan {
    /// The index path to read.
    pub path: String,
    /// Only entries whose stream starts with this (equal to `path` when the prefix ends at a
    /// `/`, so nothing is filtered).
    pub stream_prefix: String,
    /// Smallest id to return (inclusive).
    pub from_id: String,
    /// Ids must be below this (exclusive).
    pub to_id: String,
    /// Newest (largest id) first when true.
    pub newest_first: bool,
    /// Most entries to return.
    pub limit: usize,
}

/// The append-only timeline.
///
/// Guarantees every implementation gives (checked by the behaviour suite):
/// - **Atomic appends**: an appended entry is visible under all its index paths at once, or
///   under none.
/// - **Read-your-writes**: once `append` returns, every later scan in any process sees it.
/// - **Commit order** (local, memory): ids grow in the order entries were committed, also
///   across processes; on AWS they follow each writer's clock.
/// - **Order**: a scan returns entries in id order (ids sort by time), descending when
///   `newest_first`, each at most once; paging by moving the id bound past the last entry
///   visits every matching entry exactly once.
#[async_trait]
pub trait TimelineBackend: Send + Sync + std::fmt::Debug {
    /// Appends the records, each atomically, and returns their entries as stored. A backend
    /// that orders commits (local, memory) gives ids in commit order: a record whose id is not
    /// above every id already stored gets the next id above them, so a reader that follows the
    /// newest id never misses an entry another process committed later with an older clock.
    async fn append(&self, records: Vec<TimelineRecord>) -> Result<Vec<TimelineEntry>>;
    /// Up to `scan.limit` entries of `scan.path` within the id bounds whose stream starts with
    /// `scan.stream_prefix`.
    async fn scan(&self, scan: &TimelineScan) -> Result<BackendPage<TimelineEntry>>;
}

/// The index paths of `stream`: the empty path and every `/`-terminated prefix. A stream in
/// the tenant namespace (`tenants/t/...`) is indexed from its tenant's root on, not under the
/// paths above it, so queries outside a tenant never see it and, on AWS, a tenant's entries
/// stay in partitions IAM can confine to the tenant.
pub fn index_paths(stream: &str) -> Vec<String> {
    let root = crate::scope::tenant_root(stream).map_or(0, str::len);
    std::iter::once(String::new())
        .chain(
            stream
                .match_indices('/')
                .map(|(i, _)| stream[..=i].to_owned()),
        )
        .filter(|path| path.len() >= root)
        .collect()
}

/// The index path a query for `prefix` reads: `prefix` up to and including its last `/`.
pub fn query_path(prefix: &str) -> &str {
    match prefix.rfind('/') {
        Some(i) => &prefix[..=i],
        None => "",
    }
}

/// Gives `entry` the next id above `last` (the greatest id stored) when its own is not above
/// it, so ids follow commit order; its time follows the id.
pub(crate) fn in_commit_order(
    entry: &mut crate::types::timeline::TimelineEntry,
    last: Option<&str>,
) {
    let Some(last) = last.filter(|last| entry.id.as_str() <= *last) else {
        return;
    };
    // `last` is a ULID this crate stored; anything else leaves the entry as it is.
    if let Some(next) = ulid::Ulid::from_string(last)
        .ok()
        .and_then(|ulid| ulid.increment())
    {
        entry.id = next.to_string();
        entry.time = crate::clock::from_ms(next.timestamp_ms() as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cover_every_query_path_of_a_matching_prefix() {
        assert_eq!(index_paths("a/b/c"), ["", "a/", "a/b/"]);
        assert_eq!(index_paths("solo"), [""]);
        assert_eq!(index_paths("tenants/t/a/b"), ["tenants/t/", "tenants/t/a/"]);
        assert_eq!(index_paths("tenants/odd"), ["tenants/"]);
        for prefix in ["", "a", "a/", "a/b", "a/b/", "a/b/c"] {
            assert!(index_paths("a/b/c").contains(&query_path(prefix).to_owned()));
        }
    }
}
