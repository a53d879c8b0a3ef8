//! `mesh.timeline`.

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{IntoJs, Result};
use crate::json::Json;
use crate::promise::promise;

/// One timeline entry.
#[napi(object)]
pub struct TimelineEntry {
    /// The stream (a slash path).
    pub stream: String,
    /// The entry id (a ULID; sorts by time).
    pub id: String,
    /// When the entry was appended.
    pub time: DateTime<Utc>,
    /// The entry's data.
    #[napi(ts_type = "any")]
    pub data: Json,
}

impl From<agent_mesh::TimelineEntry> for TimelineEntry {
    fn from(e: agent_mesh::TimelineEntry) -> Self {
        TimelineEntry {
            stream: e.stream,
            id: e.id,
            time: e.time,
            data: Json(e.data),
        }
    }
}

/// Options of `timeline.get`.
#[napi(object)]
#[derive(Default)]
pub struct TimelineQuery {
    /// Most entries per page (default 100, at most 1000).
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// `'newest'` (default) or `'oldest'` first.
    pub order: Option<String>,
}

/// One page of timeline entries.
#[napi(object)]
pub struct TimelinePage {
    /// The entries, newest first unless `order: 'oldest'`.
    pub items: Vec<TimelineEntry>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The timeline namespace of a `MeshClient`.
#[napi]
pub struct Timeline {
    mesh: agent_mesh::MeshClient,
}

impl Timeline {
    pub(crate) fn new(mesh: agent_mesh::MeshClient) -> Self {
        Timeline { mesh }
    }
}

#[napi]
impl Timeline {
    /// Appends `data` to `stream` (a slash path like `'user/u1/profile'`).
    #[napi(ts_args_type = "stream: string, data: any")]
    pub fn append<'env>(
        &self,
        env: &'env Env,
        stream: String,
        data: Value,
    ) -> Result<PromiseRaw<'env, TimelineEntry>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            Ok(mesh.timeline().append(&stream, data).await.js()?.into())
        })
    }

    /// One page of entries of every stream starting with `prefix`, newest first.
    #[napi]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        prefix: Option<String>,
        query: Option<TimelineQuery>,
    ) -> Result<PromiseRaw<'env, TimelinePage>> {
        let q = query.unwrap_or_default();
        let order = match q.order.as_deref() {
            Some(o) => agent_mesh::Order::parse("timeline.get", o).js()?,
            None => agent_mesh::Order::default(),
        };
        let query = agent_mesh::TimelineQuery::default()
            .with_limit(q.limit.map(|l| l as usize))
            .with_cursor(q.cursor)
            .with_since(q.since)
            .with_until(q.until)
            .with_order(order);
        let mesh = self.mesh.clone();
        promise(env, async move {
            let prefix = prefix.unwrap_or_default();
            let page = mesh.timeline().get(&prefix, query).await.js()?;
            Ok(TimelinePage {
                items: page.items.into_iter().map(Into::into).collect(),
                next_cursor: page.next_cursor,
            })
        })
    }
}
