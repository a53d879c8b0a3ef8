//! The timeline for the memory backend: one ordered index per path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::backend::{BackendPage, TimelineBackend, TimelineRecord, TimelineScan, in_commit_order};
use crate::error::Result;
use crate::types::timeline::TimelineEntry;

/// Entries by index path, then by id.
#[derive(Debug, Default)]
pub(super) struct MemoryTimeline {
    state: Mutex<Indexes>,
}

/// The indexes, and the greatest id stored (under any path).
#[derive(Debug, Default)]
struct Indexes {
    paths: HashMap<String, BTreeMap<String, TimelineEntry>>,
    last: Option<String>,
}

#[async_trait]
impl TimelineBackend for MemoryTimeline {
    async fn append(&self, records: Vec<TimelineRecord>) -> Result<Vec<TimelineEntry>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut stored = Vec::with_capacity(records.len());
        for mut record in records {
            in_commit_order(&mut record.entry, state.last.as_deref());
            state.last = Some(record.entry.id.clone());
            for path in &record.paths {
                state
                    .paths
                    .entry(path.clone())
                    .or_default()
                    .insert(record.entry.id.clone(), record.entry.clone());
            }
            stored.push(record.entry);
        }
        Ok(stored)
    }

    async fn scan(&self, scan: &TimelineScan) -> Result<BackendPage<TimelineEntry>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let Some(index) = state.paths.get(&scan.path) else {
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
