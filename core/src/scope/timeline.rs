//! The timeline in a scope: streams stored under the scope's prefix, handed back without it.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Scope, Unscoped, unscope_in_place};
use crate::backend::{BackendPage, TimelineBackend, TimelineRecord, TimelineScan, index_paths};
use crate::error::Result;
use crate::timeline::check_stream;
use crate::types::timeline::TimelineEntry;

/// A [`TimelineBackend`] confined to one scope.
#[derive(Debug)]
pub(crate) struct ScopedTimeline {
    inner: Arc<dyn TimelineBackend>,
    scope: Scope,
}

impl ScopedTimeline {
    /// `inner` seen through `scope`.
    pub(crate) fn new(inner: Arc<dyn TimelineBackend>, scope: Scope) -> Self {
        ScopedTimeline { inner, scope }
    }

    /// `record` on the scope's stream: re-checked (the prefix adds length and depth) and
    /// indexed under the stored stream's paths.
    fn stored(&self, mut record: TimelineRecord) -> Result<TimelineRecord> {
        const OP: &str = "timeline.append";
        let stream = self.scope.key(OP, &record.entry.stream)?;
        check_stream(OP, &stream).unscoped(&self.scope)?;
        record.paths = index_paths(&stream);
        record.entry.stream = stream;
        Ok(record)
    }

    /// Gives `entries` the streams the scoped client knows.
    fn unscope(&self, entries: &mut [TimelineEntry], operation: &str) -> Result<()> {
        for entry in entries {
            unscope_in_place(&self.scope, operation, &mut entry.stream)?;
        }
        Ok(())
    }
}

#[async_trait]
impl TimelineBackend for ScopedTimeline {
    async fn append(&self, records: Vec<TimelineRecord>) -> Result<Vec<TimelineEntry>> {
        let records = records
            .into_iter()
            .map(|r| self.stored(r))
            .collect::<Result<Vec<_>>>()?;
        let mut entries = self.inner.append(records).await.unscoped(&self.scope)?;
        self.unscope(&mut entries, "timeline.append")?;
        Ok(entries)
    }

    async fn scan(&self, scan: &TimelineScan) -> Result<BackendPage<TimelineEntry>> {
        const OP: &str = "timeline.get";
        let mut stored = scan.clone();
        stored.path = format!("{}{}", self.scope.key_prefix(), scan.path);
        stored.stream_prefix = self.scope.key(OP, &scan.stream_prefix)?;
        let mut page = self.inner.scan(&stored).await.unscoped(&self.scope)?;
        // The page's resume position is an entry id, the same in every scope.
        self.unscope(&mut page.items, OP)?;
        Ok(page)
    }
}
