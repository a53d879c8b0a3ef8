//! The timeline for the memory backend: one ordered index per path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::backend::{BackendPage, TimelineBackend, TimelineRecord, TimelineScan};
use crate::error::Result;
use crate::timeline::TimelineEntry;

/// Entries by index path, then by id.
#[derive(Debug, Default)]
pub(super) struct MemoryTimeline {
    paths: Mutex<HashMap<String, BTreeMap<String, TimelineEntry>>>,
}

#[async_trait]
impl TimelineBackend for MemoryTimeline {
    async fn append(&self, records: &[TimelineRecord]) -> Result<()> {
        let mut paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        for record in records {
            for path in &record.paths {
                paths
                    .entry(path.clone())
                    .or_default()
                    .insert(record.entry.id.clone(), record.entry.clone());
            }
        }
        Ok(())
    }

    async fn scan(&self, scan: &TimelineScan) -> Result<BackendPage<TimelineEntry>> {
        let paths = self.paths.lock().unwrap_or_else(|e| e.into_inner());
        let Some(index) = paths.get(&scan.path) else {
            return Ok(BackendPage::from_rows(Vec::new(), scan.limit));
        };
        let range = index.range(scan.from_id.clone()..scan.to_id.clone());
        let keep = |(_, e): &(&String, &TimelineEntry)| e.stream.starts_with(&scan.stream_prefix);
        let page = if scan.newest_first {
            BackendPage::from_iter(range.rev().filter(keep).map(|(_, e)| e.clone()), scan.limit)
        } else {
            BackendPage::from_iter(range.filter(keep).map(|(_, e)| e.clone()), scan.limit)
        };
        Ok(page)
    }
}
