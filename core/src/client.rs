//! [`MeshClient`]: the facade over one backend's domains.

use std::sync::Arc;

use crate::artifacts::Artifacts;
use crate::backend::{ArtifactBackend, KvBackend};
use crate::config::MeshConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::kv::Kv;
use crate::{local, memory};

/// A handle on one mesh. Cheap to clone; clones share the backend.
#[derive(Debug, Clone)]
pub struct MeshClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: MeshConfig,
    kv: Kv,
    artifacts: Artifacts,
}

/// The per-domain backends of one configuration.
pub(crate) struct Backends {
    pub kv: Arc<dyn KvBackend>,
    pub artifacts: Arc<dyn ArtifactBackend>,
}

impl MeshClient {
    /// Opens the mesh the environment selects: `AGENT_MESH_URL` if set, else the local mesh in
    /// `$AGENT_MESH_DIR` or `./.agent-mesh`.
    pub async fn open() -> Result<Self> {
        Self::with_config(MeshConfig::from_env()?).await
    }

    /// Opens the mesh at `url` (`local:///path`, `local://./rel`, `memory://`, `aws://?...`).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::with_config(MeshConfig::parse(url)?).await
    }

    /// Opens the mesh for a parsed configuration.
    pub async fn with_config(config: MeshConfig) -> Result<Self> {
        let backends = match &config {
            MeshConfig::Local { dir, sync } => local::open(dir, *sync).await?,
            MeshConfig::Memory { name } => memory::open(name.as_deref()),
            MeshConfig::Aws(_) => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "open aws://: the AWS backend is not part of this build yet; use local:// or memory://",
                ));
            }
        };
        Ok(MeshClient {
            inner: Arc::new(Inner {
                config,
                kv: Kv::new(backends.kv),
                artifacts: Artifacts::new(backends.artifacts),
            }),
        })
    }

    /// Key-value memory.
    pub fn kv(&self) -> &Kv {
        &self.inner.kv
    }

    /// Artifact storage.
    pub fn artifacts(&self) -> &Artifacts {
        &self.inner.artifacts
    }

    /// The configuration this client was opened with.
    pub fn config(&self) -> &MeshConfig {
        &self.inner.config
    }

    /// Creates, idempotently, every resource the configuration needs. The local and memory
    /// backends create theirs on open, so this is a no-op that succeeds for them.
    pub async fn provision(&self) -> Result<()> {
        Ok(())
    }
}
