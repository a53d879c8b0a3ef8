//! The in-process `memory://` backend, for tests and short-lived programs. `memory://name`
//! shares one store among all clients of the process that use the same name.

mod artifacts;
mod events;
mod kv;
mod timeline;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::backend::{Backends, WorkflowEngine};
use crate::config::SyncMode;
use crate::error::{Error, Result};
use crate::sqlite::Db;

/// The stores of one `memory://` mesh.
#[derive(Debug, Default)]
struct MemoryMesh {
    kv: Arc<kv::MemoryKv>,
    artifacts: Arc<artifacts::MemoryArtifacts>,
    events: Arc<events::MemoryEvents>,
    timeline: Arc<timeline::MemoryTimeline>,
    /// The embedded workflow engine's database: a SQLite file in a temporary directory that
    /// lives as long as the mesh.
    workflows: Mutex<Option<(tempfile::TempDir, Arc<Db>)>>,
}

impl MemoryMesh {
    fn workflow_db(&self) -> Result<Arc<Db>> {
        let mut slot = self.workflows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, db)) = slot.as_ref() {
            return Ok(db.clone());
        }
        let dir = tempfile::tempdir().map_err(|e| {
            Error::config(format!("open memory:// mesh: cannot create a temporary directory for workflow state: {e}; check TMPDIR"))
        })?;
        let db = Arc::new(Db::open(dir.path(), SyncMode::Normal)?);
        *slot = Some((dir, db.clone()));
        Ok(db)
    }
}

/// Opens a fresh store, or the process-wide store called `name`.
pub(crate) fn open(name: Option<&str>) -> Result<Backends> {
    let mesh = match name {
        None => Arc::new(MemoryMesh::default()),
        Some(name) => {
            static NAMED: OnceLock<Mutex<HashMap<String, Arc<MemoryMesh>>>> = OnceLock::new();
            let mut named = NAMED
                .get_or_init(Default::default)
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            named.entry(name.to_owned()).or_default().clone()
        }
    };
    Ok(Backends {
        kv: mesh.kv.clone(),
        artifacts: mesh.artifacts.clone(),
        events: mesh.events.clone(),
        timeline: mesh.timeline.clone(),
        workflows: WorkflowEngine::Embedded(mesh.workflow_db()?),
    })
}

/// Keys of `map` under `prefix`, strictly after `start_after`, in order: the range a listing scans.
fn prefix_range<'a, V>(
    map: &'a std::collections::BTreeMap<String, V>,
    prefix: &'a str,
    start_after: Option<&'a str>,
) -> impl Iterator<Item = (&'a String, &'a V)> + 'a {
    use std::ops::Bound;
    let lower = match start_after {
        Some(after) if after >= prefix => Bound::Excluded(after.to_owned()),
        _ => Bound::Included(prefix.to_owned()),
    };
    map.range((lower, Bound::Unbounded))
        .take_while(move |(k, _)| k.starts_with(prefix))
}
