//! `MeshClient` and its namespaces `kv` and `artifacts` (`events`, `timeline` and `workflows`
//! live in their own modules).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use agent_mesh::{ListOptions, MeshConfig, PutOptions, SetOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{Count, from_py};
use crate::errors::IntoPy;
use crate::events::Events;
use crate::runtime::{Mode, block_on};
use crate::timeline::Timeline;
use crate::types::{Artifact, ArtifactMeta, KvItem, Page};
use crate::workflows::Workflows;

/// The client state shared by `MeshClient` and its namespaces.
pub(crate) struct Shared {
    config: MeshConfig,
    /// The scope's ids (tenant first; empty when unscoped), applied again after a fork.
    scope: Vec<String>,
    /// The process that opened `client`, and the client.
    state: Mutex<(u32, agent_mesh::MeshClient)>,
}

impl Shared {
    /// The core client for this process. After `os.fork()` the child reopens the mesh (SQLite
    /// connections must not cross a fork); the inherited client is leaked, not closed.
    pub(crate) fn client(&self, py: Python<'_>) -> PyResult<agent_mesh::MeshClient> {
        let pid = std::process::id();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.0 != pid && !matches!(self.config, MeshConfig::Memory { .. }) {
            let mut fresh =
                block_on(py, agent_mesh::MeshClient::with_config(self.config.clone())).py()?;
            for id in &self.scope {
                fresh = fresh.scope(id).py()?;
            }
            std::mem::forget(std::mem::replace(&mut state.1, fresh));
        }
        state.0 = pid;
        Ok(state.1.clone())
    }
}

/// A handle on one mesh: `MeshClient()` opens the local default (or `AGENT_MESH_URL`);
/// `MeshClient("local:///path")`, `MeshClient("memory://")`, `MeshClient("aws://?region=..")`.
#[pyclass(frozen, module = "agent_mesh")]
pub struct MeshClient {
    shared: Arc<Shared>,
    mode: Mode,
}

#[pymethods]
impl MeshClient {
    #[new]
    #[pyo3(signature = (url=None))]
    fn new(py: Python<'_>, url: Option<&str>) -> PyResult<Self> {
        let config = match url {
            Some(url) => MeshConfig::parse(url),
            None => MeshConfig::from_env(),
        }
        .py()?;
        let client = block_on(py, agent_mesh::MeshClient::with_config(config.clone())).py()?;
        Ok(MeshClient {
            shared: Arc::new(Shared {
                config,
                scope: Vec::new(),
                state: Mutex::new((std::process::id(), client)),
            }),
            mode: Mode::Blocking,
        })
    }

    /// A client confined to `id`: the tenant `id`, or `id` nested in this client's scope
    /// (tenant → agent → session). It sees its keys, streams, sources and names without the
    /// scope, and nothing outside it. Ids: 1-32 of a-z, 0-9 and inner '-'.
    fn scope(&self, py: Python<'_>, id: &str) -> PyResult<MeshClient> {
        let scoped = self.shared.client(py)?.scope(id).py()?;
        Ok(MeshClient {
            shared: Arc::new(Shared {
                config: self.shared.config.clone(),
                scope: scoped.scope_path().to_vec(),
                state: Mutex::new((std::process::id(), scoped)),
            }),
            mode: self.mode,
        })
    }

    /// This client with every I/O method answering with an asyncio awaitable: what
    /// `AsyncMeshClient` wraps.
    fn _asyncio(&self) -> MeshClient {
        MeshClient {
            shared: self.shared.clone(),
            mode: Mode::Asyncio,
        }
    }

    /// The scope's ids, the tenant first (empty when unscoped).
    #[getter]
    fn scope_path(&self) -> Vec<String> {
        self.shared.scope.clone()
    }

    /// The least-privilege IAM policy (a dict) an agent of this scope needs on AWS.
    fn iam_policy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let policy = self.shared.client(py)?.iam_policy().py()?;
        crate::convert::to_py(py, &policy)
    }

    /// Key-value memory.
    #[getter]
    fn kv(&self) -> Kv {
        Kv {
            shared: self.shared.clone(),
            mode: self.mode,
        }
    }

    /// Artifact storage.
    #[getter]
    fn artifacts(&self) -> Artifacts {
        Artifacts {
            shared: self.shared.clone(),
            mode: self.mode,
        }
    }

    /// Events: send, and subscribe with EventBridge patterns.
    #[getter]
    fn events(&self) -> Events {
        Events {
            shared: self.shared.clone(),
            mode: self.mode,
        }
    }

    /// The append-only timeline.
    #[getter]
    fn timeline(&self) -> Timeline {
        Timeline {
            shared: self.shared.clone(),
            mode: self.mode,
        }
    }

    /// Workflows: ASL state machines, Task handlers and activity workers.
    #[getter]
    fn workflows(&self) -> Workflows {
        Workflows {
            shared: self.shared.clone(),
            mode: self.mode,
        }
    }

    /// Runs an upstream MCP tool (`"mesh_kv_set"`, `"mesh_timeline_get"`, ...) with its
    /// arguments (a dict) and returns its JSON result as Python objects.
    #[pyo3(signature = (name, args=None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        name: String,
        args: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = match args {
            Some(a) => from_py("call", &name, a)?,
            None => serde_json::Value::Null,
        };
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.call(&name, args).await },
            |py, result| crate::convert::to_py(py, &result).map(Bound::unbind),
        )
    }

    /// Creates, idempotently, every resource the configuration needs (a no-op locally).
    fn provision<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode
            .run(py, async move { client.provision().await }, |_, ()| Ok(()))
    }

    fn __repr__(&self) -> String {
        if self.shared.scope.is_empty() {
            format!("MeshClient({:?})", self.shared.config)
        } else {
            format!(
                "MeshClient({:?}, scope={:?})",
                self.shared.config,
                self.shared.scope.join("/")
            )
        }
    }
}

/// `mesh.kv`: JSON values with versions, TTL and conditional writes.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Kv {
    shared: Arc<Shared>,
    mode: Mode,
}

#[pymethods]
impl Kv {
    /// The live item under `key`, or None.
    fn get<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode
            .run(py, async move { client.kv().get(&key).await }, |_, item| {
                Ok(item.map(KvItem::new))
            })
    }

    /// Stores `value` (dict/list/str/int/float/bool/None) under `key`; returns the stored item.
    /// A value over the 400 KB item limit is kept in the artifact store, transparently. Raises
    /// Conflict when `if_version`/`if_absent` does not hold, TooLarge over 64 MiB of JSON.
    #[pyo3(signature = (key, value, *, ttl_seconds=None, ttl_hours=None, if_version=None, if_absent=false))]
    #[allow(clippy::too_many_arguments)]
    fn set<'py>(
        &self,
        py: Python<'py>,
        key: String,
        value: &Bound<'_, PyAny>,
        ttl_seconds: Option<f64>,
        ttl_hours: Option<f64>,
        if_version: Option<Count>,
        if_absent: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let if_version = if_version.map(|v| v.0);
        let value = from_py("kv.set", &key, value)?;
        let options = SetOptions::from_parts(
            "kv.set",
            &key,
            ttl_seconds,
            ttl_hours,
            if_version,
            if_absent,
        )
        .py()?;
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.kv().set(&key, value, options).await },
            |_, item| Ok(KvItem::new(item)),
        )
    }

    /// Deletes the item under `key`; returns whether a live item was deleted.
    fn delete<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.kv().delete(&key).await },
            |_, deleted| Ok(deleted),
        )
    }

    /// One page of live items whose key starts with `prefix`, in ascending key order.
    #[pyo3(signature = (prefix="", *, limit=None, cursor=None))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        prefix: &str,
        limit: Option<Count>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let prefix = prefix.to_owned();
        let options = list_options(limit.map(Count::size), cursor);
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.kv().list(&prefix, options).await },
            |py, page| Page::new(py, page, KvItem::new),
        )
    }

    /// The live items under `keys`, in the same order (None where absent).
    fn batch_get<'py>(&self, py: Python<'py>, keys: Vec<String>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move {
                let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                client.kv().batch_get(&refs).await
            },
            |_, items| {
                Ok(items
                    .into_iter()
                    .map(|i| i.map(KvItem::new))
                    .collect::<Vec<_>>())
            },
        )
    }

    /// Stores every entry (a dict, or an iterable of (key, value) pairs) with one TTL, all or
    /// none; at most 100 entries.
    #[pyo3(signature = (entries, *, ttl_seconds=None, ttl_hours=None))]
    fn batch_set<'py>(
        &self,
        py: Python<'py>,
        entries: &Bound<'_, PyAny>,
        ttl_seconds: Option<f64>,
        ttl_hours: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pairs: Vec<(String, Bound<'_, PyAny>)> = match entries.cast::<PyDict>() {
            Ok(dict) => dict
                .iter()
                .map(|(k, v)| Ok((k.extract::<String>()?, v)))
                .collect::<PyResult<_>>()?,
            Err(_) => entries
                .try_iter()?
                .map(|pair| pair?.extract::<(String, Bound<'_, PyAny>)>())
                .collect::<PyResult<_>>()?,
        };
        let first = pairs.first().map(|(k, _)| k.as_str()).unwrap_or("");
        let options =
            SetOptions::from_parts("kv.batch_set", first, ttl_seconds, ttl_hours, None, false)
                .py()?;
        let entries = pairs
            .iter()
            .map(|(k, v)| Ok((k.clone(), from_py("kv.batch_set", k, v)?)))
            .collect::<PyResult<Vec<_>>>()?;
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.kv().batch_set(entries, options).await },
            |_, ()| Ok(()),
        )
    }
}

/// `mesh.artifacts`: named blobs with a content type and user metadata.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Artifacts {
    shared: Arc<Shared>,
    mode: Mode,
}

fn put_options(
    content_type: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
) -> PutOptions {
    PutOptions::default()
        .with_content_type(content_type)
        .with_metadata_entries(metadata.unwrap_or_default())
}

/// The options of a `list` call from its keyword arguments.
pub(crate) fn list_options(limit: Option<usize>, cursor: Option<String>) -> ListOptions {
    ListOptions::default().with_limit(limit).with_cursor(cursor)
}

#[pymethods]
impl Artifacts {
    /// Stores `data` under `key`, replacing any previous artifact atomically.
    #[pyo3(signature = (key, data, *, content_type=None, metadata=None))]
    fn put<'py>(
        &self,
        py: Python<'py>,
        key: String,
        data: &[u8],
        content_type: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let data = bytes::Bytes::copy_from_slice(data);
        let client = self.shared.client(py)?;
        let options = put_options(content_type, metadata);
        self.mode.run(
            py,
            async move { client.artifacts().put(&key, data, options).await },
            |_, meta| Ok(ArtifactMeta::from(meta)),
        )
    }

    /// Stores the file at `path` under `key`, streaming it with bounded memory.
    #[pyo3(signature = (key, path, *, content_type=None, metadata=None))]
    fn put_file<'py>(
        &self,
        py: Python<'py>,
        key: String,
        path: PathBuf,
        content_type: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        let options = put_options(content_type, metadata);
        self.mode.run(
            py,
            async move { client.artifacts().put_file(&key, path, options).await },
            |_, meta| Ok(ArtifactMeta::from(meta)),
        )
    }

    /// The artifact under `key` (`.meta`, `.data`), or None.
    fn get<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.artifacts().get(&key).await },
            |py, artifact| artifact.map(|a| Artifact::new(py, a)).transpose(),
        )
    }

    /// Streams the artifact under `key` into the file at `path`; raises NotFound if missing.
    fn get_to_file<'py>(
        &self,
        py: Python<'py>,
        key: String,
        path: PathBuf,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.artifacts().get_to_file(&key, path).await },
            |_, meta| Ok(ArtifactMeta::from(meta)),
        )
    }

    /// The metadata of the artifact under `key`, or None.
    fn head<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.artifacts().head(&key).await },
            |_, meta| Ok(meta.map(ArtifactMeta::from)),
        )
    }

    /// One page of artifacts whose key starts with `prefix`, in ascending key order.
    #[pyo3(signature = (prefix="", *, limit=None, cursor=None))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        prefix: &str,
        limit: Option<Count>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let prefix = prefix.to_owned();
        let options = list_options(limit.map(Count::size), cursor);
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.artifacts().list(&prefix, options).await },
            |py, page| Page::new(py, page, ArtifactMeta::from),
        )
    }

    /// Deletes the artifact under `key`; returns whether it existed.
    fn delete<'py>(&self, py: Python<'py>, key: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.artifacts().delete(&key).await },
            |_, deleted| Ok(deleted),
        )
    }
}
