//! `MeshClient` with its `kv`, `artifacts`, `events`, `timeline` and `workflows` namespaces.

use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;

use crate::artifacts::Artifacts;
use crate::errors::{IntoJs, Result};
use crate::events::Events;
use crate::json::Json;
use crate::kv::Kv;
use crate::promise::promise;
use crate::timeline::Timeline;
use crate::workflows::Workflows;

/// A handle on one mesh. `await MeshClient.open()` opens the local default (or
/// `AGENT_MESH_URL`); `MeshClient.open("local:///path" | "memory://" | "aws://?region=..")`.
#[napi]
pub struct MeshClient {
    inner: agent_mesh::MeshClient,
}

#[napi]
impl MeshClient {
    /// Opens the mesh at `url`, or the one the environment selects.
    #[napi(factory)]
    pub async fn open(url: Option<String>) -> Result<MeshClient> {
        let inner = match url {
            Some(url) => agent_mesh::MeshClient::connect(&url).await,
            None => agent_mesh::MeshClient::open().await,
        }
        .js()?;
        Ok(MeshClient { inner })
    }

    /// Key-value memory.
    #[napi(getter)]
    pub fn kv(&self) -> Kv {
        Kv::new(self.inner.clone())
    }

    /// Artifact storage.
    #[napi(getter)]
    pub fn artifacts(&self) -> Artifacts {
        Artifacts::new(self.inner.clone())
    }

    /// Events: send, and subscribe with EventBridge patterns.
    #[napi(getter)]
    pub fn events(&self) -> Events {
        Events::new(self.inner.clone())
    }

    /// The append-only timeline.
    #[napi(getter)]
    pub fn timeline(&self) -> Timeline {
        Timeline::new(self.inner.clone())
    }

    /// Workflows: ASL state machines, executions, Task handlers and activity workers.
    #[napi(getter)]
    pub fn workflows(&self) -> Workflows {
        Workflows::new(self.inner.clone())
    }

    /// Runs an upstream MCP tool (`'mesh_kv_set'`, `'mesh_timeline_get'`, ...) with its
    /// arguments and resolves to its JSON result.
    #[napi(
        ts_args_type = "name: string, args?: Record<string, any>",
        ts_return_type = "Promise<any>"
    )]
    pub fn call<'env>(
        &self,
        env: &'env Env,
        name: String,
        args: Option<Value>,
    ) -> Result<PromiseRaw<'env, Json>> {
        let mesh = self.inner.clone();
        promise(env, async move {
            mesh.call(&name, args.unwrap_or(Value::Null))
                .await
                .js()
                .map(Json)
        })
    }

    /// A client confined to `id`: the tenant `id`, or `id` nested in this client's scope
    /// (tenant → agent → session). It sees its keys, streams, sources and names without the
    /// scope, and nothing outside it. Ids: 1-32 of a-z, 0-9 and inner '-'.
    #[napi]
    pub fn scope(&self, id: String) -> Result<MeshClient> {
        Ok(MeshClient {
            inner: self.inner.scope(&id).js()?,
        })
    }

    /// The scope's ids, the tenant first (empty when unscoped).
    #[napi(getter)]
    pub fn scope_path(&self) -> Vec<String> {
        self.inner.scope_path().to_vec()
    }

    /// The least-privilege IAM policy document an agent of this scope needs on AWS.
    #[napi(ts_return_type = "Record<string, any>")]
    pub fn iam_policy(&self) -> Result<Json> {
        self.inner.iam_policy().js().map(Json)
    }

    /// Creates, idempotently, every resource the configuration needs (a no-op locally).
    #[napi]
    pub async fn provision(&self) -> Result<()> {
        self.inner.provision().await.js()
    }

    /// The client's configuration, e.g. `MeshClient(Local { dir: "./.agent-mesh", .. })`; an
    /// endpoint's user-info shows as `***`, never the credentials.
    #[napi(js_name = "toString")]
    pub fn to_js_string(&self) -> String {
        format!("MeshClient({:?})", self.inner.config())
    }
}
