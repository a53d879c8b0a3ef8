//! [`MeshClient`]: the facade over one backend's domains.

use std::sync::Arc;

use crate::artifacts::Artifacts;
use crate::backend::{WorkflowBackend, WorkflowEngine};
use crate::config::{AwsNames, AwsOptions, MeshConfig};
use crate::embedded::{EmbeddedWorkflows, Services};
use crate::error::Result;
#[cfg(not(feature = "aws"))]
use crate::error::{Error, ErrorKind};
use crate::events::{Events, Publisher};
use crate::kv::Kv;
use crate::timeline::Timeline;
use crate::workflows::Workflows;
use crate::{local, memory};

/// A handle on one mesh. Cheap to clone; clones share the backend.
#[derive(Clone)]
pub struct MeshClient {
    parts: Arc<MeshParts>,
}

/// Shows the configuration only (the endpoint's user-info redacted): never the backend's SDK
/// clients, whose configuration may hold credentials.
impl std::fmt::Debug for MeshClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshClient")
            .field("config", &self.parts.config)
            .finish_non_exhaustive()
    }
}

/// What every clone of a [`MeshClient`] shares: its configuration, its facades and its backend.
struct MeshParts {
    config: MeshConfig,
    kv: Kv,
    artifacts: Artifacts,
    events: Events,
    timeline: Timeline,
    workflows: Workflows,
    /// The AWS backend, which has resources to provision.
    #[cfg(feature = "aws")]
    aws: Option<Arc<crate::aws::AwsBackend>>,
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
        #[cfg(feature = "aws")]
        let mut aws = None;
        let backends = match &config {
            MeshConfig::Local { dir, sync } => local::open(dir, *sync).await?,
            MeshConfig::Memory { name } => memory::open(name.as_deref())?,
            #[cfg(feature = "aws")]
            MeshConfig::Aws(options) => {
                let backend = Arc::new(crate::aws::AwsBackend::open(options).await?);
                let backends = backend.backends();
                aws = Some(backend);
                backends
            }
            #[cfg(not(feature = "aws"))]
            MeshConfig::Aws(_) => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "open aws://: this build of agent-mesh has no AWS backend; rebuild with the `aws` cargo feature",
                ));
            }
        };
        let timeline = Timeline::new(backends.timeline);
        let publisher = Publisher::new(backends.events, timeline.clone());
        let workflow_backend: Arc<dyn WorkflowBackend> = match backends.workflows {
            WorkflowEngine::Embedded(db) => {
                // The engine's service integrations use the same backends as the facades.
                let services = Services {
                    kv: backends.kv.clone(),
                    artifacts: backends.artifacts.clone(),
                    events: publisher.clone(),
                    names: AwsNames::resolve(&AwsOptions::default()),
                };
                Arc::new(EmbeddedWorkflows::new(db, services))
            }
            WorkflowEngine::Remote(backend) => backend,
        };
        let kv = Kv::new(backends.kv);
        let artifacts = Artifacts::new(backends.artifacts);
        let events = Events::new(publisher);
        Ok(MeshClient {
            parts: Arc::new(MeshParts {
                config,
                kv,
                artifacts,
                events,
                workflows: Workflows::new(workflow_backend),
                timeline,
                #[cfg(feature = "aws")]
                aws,
            }),
        })
    }

    /// Key-value memory.
    pub fn kv(&self) -> &Kv {
        &self.parts.kv
    }

    /// Artifact storage.
    pub fn artifacts(&self) -> &Artifacts {
        &self.parts.artifacts
    }

    /// Events: send, and subscribe with EventBridge patterns.
    pub fn events(&self) -> &Events {
        &self.parts.events
    }

    /// The append-only timeline.
    pub fn timeline(&self) -> &Timeline {
        &self.parts.timeline
    }

    /// Workflows: ASL state machines, executions, Task handlers and activity workers.
    pub fn workflows(&self) -> &Workflows {
        &self.parts.workflows
    }

    /// The configuration this client was opened with.
    pub fn config(&self) -> &MeshConfig {
        &self.parts.config
    }

    /// Creates, idempotently, every resource the configuration needs: on AWS the KV and
    /// timeline DynamoDB tables (with TTL and the listing index), the S3 bucket and the
    /// EventBridge bus, named as the Terraform in
    /// `infra/` names them. The local and memory backends create theirs on open, so for them
    /// this is a no-op that succeeds.
    pub async fn provision(&self) -> Result<()> {
        #[cfg(feature = "aws")]
        if let Some(aws) = &self.parts.aws {
            return aws.provision().await;
        }
        Ok(())
    }
}
