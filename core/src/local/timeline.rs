//! The timeline on the local backend: entries in `timeline`, their index paths in
//! `timeline_paths` (primary key `(path, id)`), so a page is one index range read.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;

use crate::backend::{BackendPage, TimelineBackend, TimelineRecord, TimelineScan, in_commit_order};
use crate::clock::from_ms;
use crate::error::Result;
use crate::sqlite::{Db, decode_json, sql_error};
use crate::types::timeline::TimelineEntry;

const SCAN_NEWEST: &str = "SELECT t.stream, t.id, t.time, t.data FROM timeline_paths p \
    JOIN timeline t ON t.id = p.id \
    WHERE p.path = ?1 AND p.id >= ?2 AND p.id < ?3 AND substr(p.stream, 1, length(?4)) = ?4 \
    ORDER BY p.id DESC LIMIT ?5";
const SCAN_OLDEST: &str = "SELECT t.stream, t.id, t.time, t.data FROM timeline_paths p \
    JOIN timeline t ON t.id = p.id \
    WHERE p.path = ?1 AND p.id >= ?2 AND p.id < ?3 AND substr(p.stream, 1, length(?4)) = ?4 \
    ORDER BY p.id ASC LIMIT ?5";

/// The local backend's timeline.
#[derive(Debug)]
pub(super) struct LocalTimeline {
    db: Arc<Db>,
}

impl LocalTimeline {
    pub(super) fn new(db: Arc<Db>) -> Self {
        LocalTimeline { db }
    }
}

#[async_trait]
impl TimelineBackend for LocalTimeline {
    async fn append(&self, records: Vec<TimelineRecord>) -> Result<Vec<TimelineEntry>> {
        let Some(first) = records.first() else {
            return Ok(Vec::new());
        };
        let stream = first.entry.stream.clone();
        let key = stream.clone();
        self.db
            .write("timeline.append", &key, move |tx| {
                // Under the write lock: ids above every stored one, in commit order.
                let mut last: Option<String> = tx
                    .prepare_cached("SELECT max(id) FROM timeline")
                    .and_then(|mut s| s.query_row([], |r| r.get(0)))
                    .map_err(|e| sql_error("timeline.append", &stream, e))?;
                let mut stored = Vec::with_capacity(records.len());
                for mut record in records {
                    in_commit_order(&mut record.entry, last.as_deref());
                    last = Some(record.entry.id.clone());
                    let e = &record.entry;
                    let sql = |err| sql_error("timeline.append", &e.stream, err);
                    tx.prepare_cached(
                        "INSERT INTO timeline (id, stream, time, data) VALUES (?1, ?2, ?3, ?4)",
                    )
                    .and_then(|mut s| {
                        s.execute(params![
                            e.id,
                            e.stream,
                            e.time.timestamp_millis(),
                            record.data_json
                        ])
                    })
                    .map_err(sql)?;
                    let mut index = tx
                        .prepare_cached(
                            "INSERT INTO timeline_paths (path, id, stream) VALUES (?1, ?2, ?3)",
                        )
                        .map_err(sql)?;
                    for path in &record.paths {
                        index.execute(params![path, e.id, e.stream]).map_err(sql)?;
                    }
                    stored.push(record.entry);
                }
                Ok(stored)
            })
            .await
    }

    async fn scan(&self, scan: &TimelineScan) -> Result<BackendPage<TimelineEntry>> {
        let rows = self.db.read("timeline.get", &scan.stream_prefix, |c| {
            let sql = if scan.newest_first {
                SCAN_NEWEST
            } else {
                SCAN_OLDEST
            };
            let mut stmt = c.prepare_cached(sql)?;
            let rows = stmt.query_map(
                params![
                    scan.path,
                    scan.from_id,
                    scan.to_id,
                    scan.stream_prefix,
                    scan.limit as i64 + 1
                ],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(BackendPage::from_rows(rows, scan.limit).readable(
            |(_, id, _, _)| id.clone(),
            |(stream, id, time, data)| {
                Ok(TimelineEntry {
                    data: decode_json("timeline.get", &stream, &data)?,
                    stream,
                    id,
                    time: from_ms(time),
                })
            },
        ))
    }
}
