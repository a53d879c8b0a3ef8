//! The embedded `local://` backend: one SQLite database (see [`crate::sqlite`]) in the mesh
//! directory for KV, artifact metadata, the event log and the timeline, and immutable blob files
//! for artifact content. Its workflows run on the embedded engine ([`crate::embedded`]).

mod artifacts;
mod events;
mod kv;
mod timeline;
mod wake;

use std::path::Path;
use std::sync::Arc;

use crate::backend::{Backends, WorkflowEngine};
use crate::config::SyncMode;
use crate::error::{Error, Result};
use crate::sqlite::Db;

/// Opens (creating if needed) the mesh in `dir`.
pub(crate) async fn open(dir: &Path, sync: SyncMode) -> Result<Backends> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        let db = Arc::new(Db::open(&dir, sync)?);
        let artifacts = artifacts::LocalArtifacts::open(db.clone())?;
        Ok(Backends {
            kv: Arc::new(kv::LocalKv::new(db.clone())),
            artifacts: Arc::new(artifacts),
            events: Arc::new(events::LocalEvents::new(db.clone())),
            timeline: Arc::new(timeline::LocalTimeline::new(db.clone())),
            workflows: WorkflowEngine::Embedded(db),
        })
    })
    .await
    .map_err(|e| Error::internal("open local mesh", e))?
}
