//! The timeline: an append-only log of entries `{stream, id, time, data}`, read newest first
//! by stream prefix.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use ulid::Ulid;

use crate::backend::{TimelineBackend, TimelineRecord, TimelineScan, index_paths, query_path};
use crate::clock::{Timestamp, from_ms};
use crate::error::{Error, Result};
use crate::page::Page;
use crate::validate;

pub use crate::types::timeline::*;

/// Timeline operations of one mesh; obtained from [`crate::MeshClient::timeline`].
#[derive(Clone)]
pub struct Timeline {
    backend: Arc<dyn TimelineBackend>,
    /// Whether prefixes that span tenants are refused (the unscoped client's timeline).
    unscoped: bool,
    /// Makes ids that increase within this process, even within one millisecond.
    ids: Arc<Mutex<ulid::Generator>>,
}

/// Shows no backend details: an AWS backend's SDK configuration may hold an endpoint with
/// credentials.
impl std::fmt::Debug for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeline").finish_non_exhaustive()
    }
}

impl Timeline {
    pub(crate) fn new(backend: Arc<dyn TimelineBackend>, unscoped: bool) -> Self {
        Timeline {
            backend,
            unscoped,
            ids: Arc::new(Mutex::new(ulid::Generator::new())),
        }
    }

    /// Appends `data` to `stream` (a slash path such as `user/user123/profile`; at most 1024
    /// bytes, no empty, `.` or `..` segment) and returns the stored entry.
    pub async fn append(&self, stream: &str, data: Value) -> Result<TimelineEntry> {
        const OP: &str = "timeline.append";
        let data = validate::checked_depth(OP, stream, "timeline entry data", data)?;
        let record = self.record(OP, stream, data)?;
        let mut stored = self.backend.append(vec![record]).await?;
        stored
            .pop()
            .ok_or_else(|| Error::internal(OP, "the backend stored no entry"))
    }

    /// Appends several entries (each atomically, in order).
    pub(crate) async fn append_records(&self, records: Vec<TimelineRecord>) -> Result<()> {
        self.backend.append(records).await.map(drop)
    }

    /// Validates one entry and gives it an id and time. (Its data's depth is checked where it
    /// comes from: `append`, or the event whose envelope it is, one level deeper.)
    pub(crate) fn record(
        &self,
        operation: &str,
        stream: &str,
        data: Value,
    ) -> Result<TimelineRecord> {
        check_stream(operation, stream)?;
        let data_json = data.to_string();
        validate::check_size(
            operation,
            stream,
            "timeline entry data",
            data_json.len(),
            validate::MAX_TIMELINE_DATA_BYTES,
        )?;
        let id = self.next_id();
        Ok(TimelineRecord {
            entry: TimelineEntry {
                stream: stream.to_owned(),
                id: id.to_string(),
                time: from_ms(id.timestamp_ms() as i64),
                data,
            },
            data_json,
            paths: index_paths(stream),
        })
    }

    fn next_id(&self) -> Ulid {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        // The generator only fails when 2^80 ids were made within one millisecond.
        ids.generate().unwrap_or_else(|_| Ulid::new())
    }

    /// Entries of every stream starting with `prefix` (`""` for all), newest first unless
    /// `query.order` says otherwise, one page at a time. The cost follows the page size when
    /// `prefix` is empty or ends with `/`; another prefix reads the entries under its last `/`
    /// and keeps those that match.
    pub async fn get(&self, prefix: &str, query: TimelineQuery) -> Result<Page<TimelineEntry>> {
        const OP: &str = "timeline.get";
        if prefix.contains('\0') {
            return Err(Error::invalid_input(
                OP,
                prefix,
                "the prefix contains a NUL character; remove it",
            ));
        }
        if self.unscoped && crate::scope::tenant_root(prefix) == Some(crate::scope::TENANTS) {
            return Err(Error::invalid_input(
                OP,
                prefix,
                "this prefix spans tenants, whose entries are indexed per tenant: read one tenant's with the prefix 'tenants/<tenant>/' (or through mesh.scope(tenant))",
            ));
        }
        let limit = validate::page_limit(OP, prefix, query.limit)?;
        let mut from_id = query.since.map_or(Ulid::nil(), time_bound);
        let mut to_id = query.until.map_or(Ulid(u128::MAX), time_bound);
        let newest_first = query.order == Order::NewestFirst;
        if let Some(cursor) = &query.cursor {
            let after = Ulid::from_string(cursor).map_err(|_| {
                Error::invalid_input(
                    OP,
                    prefix,
                    format!("the cursor {cursor:?} is not one this API returned; pass the next_cursor of the previous page unchanged"),
                )
            })?;
            if newest_first {
                to_id = to_id.min(after);
            } else {
                from_id = from_id.max(Ulid(after.0.saturating_add(1)));
            }
        }
        let scan = TimelineScan {
            path: query_path(prefix).to_owned(),
            stream_prefix: prefix.to_owned(),
            from_id: from_id.to_string(),
            to_id: to_id.to_string(),
            newest_first,
            limit,
        };
        if from_id >= to_id {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let page = self.backend.scan(&scan).await?;
        let next_cursor = match (page.more, &page.resume_after, page.items.last()) {
            (true, Some(after), _) => Some(after.clone()),
            (true, None, Some(last)) => Some(last.id.clone()),
            _ => None,
        };
        Ok(Page {
            items: page.items,
            next_cursor,
        })
    }
}

/// The smallest id of the millisecond `t`.
fn time_bound(t: Timestamp) -> Ulid {
    Ulid::from_parts(t.timestamp_millis().clamp(0, (1i64 << 48) - 1) as u64, 0)
}

/// Checks a timeline stream name: a key-like slash path with no empty, `.` or `..` segment.
pub(crate) fn check_stream(operation: &str, stream: &str) -> Result<()> {
    validate::check_artifact_key(operation, stream)?;
    let depth = stream.split('/').count();
    if depth > validate::MAX_STREAM_DEPTH {
        return Err(Error::invalid_input(
            operation,
            stream,
            format!(
                "the stream has {depth} path segments; streams have at most {}: shorten the path",
                validate::MAX_STREAM_DEPTH
            ),
        ));
    }
    Ok(())
}
