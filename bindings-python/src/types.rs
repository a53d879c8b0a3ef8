//! Result classes: `KvItem`, `ArtifactMeta`, `Artifact`, `Page`.

use std::collections::BTreeMap;

use agent_mesh::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use crate::convert::to_py;

/// A stored KV item.
#[pyclass(frozen, module = "agent_mesh")]
pub struct KvItem {
    inner: agent_mesh::KvItem,
}

impl KvItem {
    pub fn new(inner: agent_mesh::KvItem) -> Self {
        KvItem { inner }
    }
}

#[pymethods]
impl KvItem {
    /// The item's key.
    #[getter]
    fn key(&self) -> &str {
        &self.inner.key
    }
    /// The JSON value as Python objects (converted on each access).
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.value)
    }
    /// 1 when created, plus 1 per write; pass it as `if_version`.
    #[getter]
    fn version(&self) -> u64 {
        self.inner.version
    }
    /// When the item was first written (UTC).
    #[getter]
    fn created_at(&self) -> Timestamp {
        self.inner.created_at
    }
    /// When the item was last written (UTC).
    #[getter]
    fn updated_at(&self) -> Timestamp {
        self.inner.updated_at
    }
    /// When the item expires (UTC), or None.
    #[getter]
    fn expires_at(&self) -> Option<Timestamp> {
        self.inner.expires_at
    }
    fn __repr__(&self) -> String {
        format!(
            "KvItem(key={:?}, version={}, value={})",
            self.inner.key, self.inner.version, self.inner.value
        )
    }
}

/// What is known about a stored artifact.
#[pyclass(frozen, get_all, module = "agent_mesh")]
pub struct ArtifactMeta {
    /// The artifact's key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub content_type: String,
    /// User metadata (lower-cased names).
    pub metadata: BTreeMap<String, String>,
    /// Opaque tag that changes whenever the content is replaced.
    pub etag: String,
    /// When the artifact was last written (UTC).
    pub last_modified: Timestamp,
}

impl From<agent_mesh::ArtifactMeta> for ArtifactMeta {
    fn from(m: agent_mesh::ArtifactMeta) -> Self {
        ArtifactMeta {
            key: m.key,
            size: m.size,
            content_type: m.content_type,
            metadata: m.metadata,
            etag: m.etag,
            last_modified: m.last_modified,
        }
    }
}

#[pymethods]
impl ArtifactMeta {
    fn __repr__(&self) -> String {
        format!(
            "ArtifactMeta(key={:?}, size={}, content_type={:?})",
            self.key, self.size, self.content_type
        )
    }
}

/// An artifact read in full: `.meta` and `.data` (bytes).
#[pyclass(frozen, get_all, module = "agent_mesh")]
pub struct Artifact {
    /// Its metadata.
    pub meta: Py<ArtifactMeta>,
    /// Its content.
    pub data: Py<PyBytes>,
}

impl Artifact {
    pub fn new(py: Python<'_>, artifact: agent_mesh::Artifact) -> PyResult<Self> {
        Ok(Artifact {
            meta: Py::new(py, ArtifactMeta::from(artifact.meta))?,
            data: PyBytes::new(py, &artifact.data).unbind(),
        })
    }
}

/// One page of a listing: `.items` and `.next_cursor` (None on the last page).
#[pyclass(frozen, get_all, module = "agent_mesh")]
pub struct Page {
    /// The items, in ascending key order.
    pub items: Py<PyList>,
    /// Pass as `cursor=` to get the next page; None on the last page.
    pub next_cursor: Option<String>,
}

impl Page {
    pub fn new<T, P: pyo3::PyClass + Into<PyClassInitializer<P>>>(
        py: Python<'_>,
        page: agent_mesh::Page<T>,
        wrap: impl Fn(T) -> P,
    ) -> PyResult<Self> {
        let items = PyList::empty(py);
        for item in page.items {
            items.append(Py::new(py, wrap(item))?)?;
        }
        Ok(Page {
            items: items.unbind(),
            next_cursor: page.next_cursor,
        })
    }
}

#[pymethods]
impl Page {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Page(items=<{} items>, next_cursor={:?})",
            self.items.bind(py).len(),
            self.next_cursor
        )
    }
}
