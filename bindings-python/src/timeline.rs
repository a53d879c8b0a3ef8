//! `mesh.timeline` and `TimelineEntry`.

use std::sync::Arc;

use agent_mesh::{Order, TimelineQuery, Timestamp};
use pyo3::prelude::*;

use crate::client::Shared;
use crate::convert::{Count, from_py, to_py};
use crate::errors::IntoPy;
use crate::runtime::Mode;
use crate::types::Page;

/// One timeline entry: `.stream`, `.id` (time-sortable), `.time`, `.data`.
#[pyclass(frozen, module = "agent_mesh")]
pub struct TimelineEntry {
    inner: agent_mesh::TimelineEntry,
}

#[pymethods]
impl TimelineEntry {
    /// The stream (a slash path).
    #[getter]
    fn stream(&self) -> &str {
        &self.inner.stream
    }
    /// The entry id (a ULID; sorts by time).
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// When the entry was appended (UTC).
    #[getter]
    fn time(&self) -> Timestamp {
        self.inner.time
    }
    /// The entry's data as Python objects.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.data)
    }
    fn __repr__(&self) -> String {
        format!(
            "TimelineEntry(stream={:?}, id={:?})",
            self.inner.stream, self.inner.id
        )
    }
}

/// `mesh.timeline`: an append-only log read newest first by stream prefix.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Timeline {
    pub(crate) shared: Arc<Shared>,
    pub(crate) mode: Mode,
}

#[pymethods]
impl Timeline {
    /// Appends `data` (JSON-compatible) to `stream` (a slash path like "user/u1/profile").
    fn append<'py>(
        &self,
        py: Python<'py>,
        stream: String,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = from_py("timeline.append", &stream, data)?;
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.timeline().append(&stream, data).await },
            |_, inner| Ok(TimelineEntry { inner }),
        )
    }

    /// One page of entries of every stream starting with `prefix`, newest first (or
    /// `order="oldest"`), optionally within `since` (inclusive) and `until` (exclusive).
    #[pyo3(signature = (prefix="", *, limit=None, cursor=None, since=None, until=None, order="newest"))]
    #[allow(clippy::too_many_arguments)]
    fn get<'py>(
        &self,
        py: Python<'py>,
        prefix: &str,
        limit: Option<Count>,
        cursor: Option<String>,
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        order: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = TimelineQuery::default()
            .with_limit(limit.map(Count::size))
            .with_cursor(cursor)
            .with_since(since)
            .with_until(until)
            .with_order(Order::parse("timeline.get", order).py()?);
        let prefix = prefix.to_owned();
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.timeline().get(&prefix, query).await },
            |py, page| Page::new(py, page, |inner| TimelineEntry { inner }),
        )
    }
}
