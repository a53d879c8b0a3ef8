//! [`MeshClient`]: the facade over one backend's domains.

use std::sync::Arc;

use crate::artifacts::Artifacts;
use crate::backend::{
    ArtifactBackend, EventBackend, KvBackend, TimelineBackend, WorkflowBackend, WorkflowEngine,
};
use crate::config::{AwsNames, AwsOptions, MeshConfig};
use crate::embedded::{EmbeddedWorkflows, Services};
use crate::error::Error;
#[cfg(not(feature = "aws"))]
use crate::error::ErrorKind;
use crate::error::Result;
use crate::events::{Events, Publisher};
use crate::kv::Kv;
use crate::scope::Scope;
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

/// What every clone of a [`MeshClient`] shares: its configuration, its scope, its facades
/// and the backends under them.
struct MeshParts {
    config: MeshConfig,
    /// The tenant scope; `None` for the unscoped (root) client.
    scope: Option<Scope>,
    /// The unscoped backends, which [`MeshClient::scope`] wraps.
    root: RootBackends,
    kv: Kv,
    artifacts: Artifacts,
    events: Events,
    timeline: Timeline,
    workflows: Workflows,
    /// The AWS backend, which has resources to provision.
    #[cfg(feature = "aws")]
    aws: Option<Arc<crate::aws::AwsBackend>>,
}

/// A configuration's backends, unscoped.
#[derive(Clone)]
struct RootBackends {
    kv: Arc<dyn KvBackend>,
    artifacts: Arc<dyn ArtifactBackend>,
    events: Arc<dyn EventBackend>,
    timeline: Arc<dyn TimelineBackend>,
    workflows: Arc<dyn WorkflowBackend>,
}

impl RootBackends {
    /// The backends seen through `scope` (the layer of [`crate::scope`]).
    fn scoped(&self, scope: &Scope) -> RootBackends {
        use crate::scope::{
            ScopedArtifacts, ScopedEvents, ScopedKv, ScopedTimeline, ScopedWorkflows,
        };
        RootBackends {
            kv: Arc::new(ScopedKv::new(self.kv.clone(), scope.clone())),
            artifacts: Arc::new(ScopedArtifacts::new(self.artifacts.clone(), scope.clone())),
            events: Arc::new(ScopedEvents::new(self.events.clone(), scope.clone())),
            timeline: Arc::new(ScopedTimeline::new(self.timeline.clone(), scope.clone())),
            workflows: Arc::new(ScopedWorkflows::new(self.workflows.clone(), scope.clone())),
        }
    }
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
        let events = backends.events;
        let timeline_backend = backends.timeline;
        let workflows = match backends.workflows {
            WorkflowEngine::Embedded(db) => {
                // The engine's service integrations use the same backends as the facades.
                let timeline = Timeline::new(timeline_backend.clone(), true);
                let services = Services {
                    kv: backends.kv.clone(),
                    artifacts: backends.artifacts.clone(),
                    events: Publisher::new(events.clone(), timeline),
                    names: AwsNames::resolve(&AwsOptions::default()),
                };
                Arc::new(EmbeddedWorkflows::new(db, services)) as Arc<dyn WorkflowBackend>
            }
            WorkflowEngine::Remote(backend) => backend,
        };
        let root = RootBackends {
            kv: backends.kv,
            artifacts: backends.artifacts,
            events,
            timeline: timeline_backend,
            workflows,
        };
        Ok(Self::assemble(
            config,
            None,
            root,
            #[cfg(feature = "aws")]
            aws,
        ))
    }

    /// The client over `root` seen through `scope`.
    fn assemble(
        config: MeshConfig,
        scope: Option<Scope>,
        root: RootBackends,
        #[cfg(feature = "aws")] aws: Option<Arc<crate::aws::AwsBackend>>,
    ) -> MeshClient {
        let backends = match &scope {
            Some(scope) => root.scoped(scope),
            None => root.clone(),
        };
        let kv = Kv::new(
            backends.kv,
            root.artifacts.clone(),
            scope.as_ref().map_or("", |s| s.key_prefix()),
        );
        let timeline = Timeline::new(backends.timeline, scope.is_none());
        let publisher = Publisher::new(backends.events, timeline.clone());
        MeshClient {
            parts: Arc::new(MeshParts {
                config,
                scope,
                root,
                kv,
                artifacts: Artifacts::new(backends.artifacts),
                events: Events::new(publisher),
                workflows: Workflows::new(backends.workflows),
                timeline,
                #[cfg(feature = "aws")]
                aws,
            }),
        }
    }

    /// A client confined to `id`: the tenant `id` on an unscoped client, or `id` nested in
    /// this client's scope (tenant → agent → session, at most four levels). Ids are 1 to 32
    /// lowercase letters, digits and inner `-`; anything else is `InvalidInput`.
    ///
    /// The scoped client sees its keys, artifact keys, streams, event sources, state machine
    /// and subscription names without the scope; whatever key it is handed stays inside the
    /// scope, and another scope's execution ARNs are `NotFound`. It shares this client's
    /// backend (no new connection). See the README's "Tenancy".
    pub fn scope(&self, id: &str) -> Result<MeshClient> {
        let scope = match &self.parts.scope {
            Some(scope) => scope.child(id)?,
            None => Scope::tenant(id)?,
        };
        Ok(Self::assemble(
            self.parts.config.clone(),
            Some(scope),
            self.parts.root.clone(),
            #[cfg(feature = "aws")]
            self.parts.aws.clone(),
        ))
    }

    /// This client's scope: its ids, the tenant first; empty for an unscoped client.
    pub fn scope_path(&self) -> &[String] {
        self.parts.scope.as_ref().map_or(&[], |s| s.segments())
    }

    /// The least-privilege IAM policy document (JSON) an agent of this client's scope needs on
    /// AWS: DynamoDB items and listings under `dynamodb:LeadingKeys`, S3 objects and listings
    /// under the scope's prefix, `PutEvents` limited to the scope's sources, and the scope's
    /// own queues, rules, state machines and activities. The same document as the Terraform
    /// module `infra/modules/tenant-agent`. Fails with `InvalidInput` on an unscoped client.
    pub fn iam_policy(&self) -> Result<serde_json::Value> {
        match &self.parts.scope {
            Some(scope) => crate::scope::iam::policy(scope, &self.parts.config),
            None => Err(Error::invalid_input(
                "mesh.iam_policy",
                "",
                "an unscoped client stands for the whole mesh; call iam_policy on a scoped client (mesh.scope(tenant), or agent-mesh --tenant T iam-policy) for a tenant's policy (infra/ grants the whole environment's in client_policy_json)",
            )),
        }
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
