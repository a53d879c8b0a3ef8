//! `mesh_status` and the names of a mesh's stores: which backend, environment and region, the
//! table, bucket and bus names (upstream's `infrastructure`), and a live probe of each store.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::client::MeshClient;
use crate::config::{AwsNames, AwsOptions, MeshConfig};
use crate::error::Error;
use crate::timeline::TimelineQuery;

/// The key the probe reads: one no caller is expected to write (an absent key reads fine).
const PROBE_KEY: &str = "agent-mesh/status-probe";

/// What `mesh_status` reports about the stores of one configuration.
pub(crate) struct Infrastructure {
    /// `local`, `memory` or `aws`.
    pub backend: &'static str,
    /// The environment name (`AGENT_MESH_ENV` / `env=`; `local` and `memory` elsewhere).
    pub environment: String,
    /// The AWS region, or `local`.
    pub region: String,
    /// The resource names, as upstream's `infrastructure` object.
    pub names: Map<String, Value>,
}

/// The name `mesh_artifacts_*` results give the artifact store (upstream's `bucket`): the S3
/// bucket on AWS; on the local backend the artifact directory `DIR/artifacts` (absolute); on
/// the memory backend `memory://<name>/artifacts`.
pub(crate) fn bucket(mesh: &MeshClient) -> String {
    match mesh.config() {
        MeshConfig::Aws(options) => AwsNames::resolve(options).artifacts_bucket,
        MeshConfig::Local { dir, .. } => local_path(dir, "artifacts"),
        MeshConfig::Memory { name } => {
            format!("memory://{}/artifacts", name.as_deref().unwrap_or(""))
        }
    }
}

fn local_path(dir: &Path, leaf: &str) -> String {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| PathBuf::from(dir));
    dir.join(leaf).display().to_string()
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The region an `aws://` mesh uses: `region=`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`
/// (the AWS SDK may still find one in `~/.aws/config`, which this does not read).
fn aws_region(options: &AwsOptions) -> String {
    options
        .region
        .clone()
        .or_else(|| env_var("AWS_REGION"))
        .or_else(|| env_var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "unknown: set AWS_REGION or region= in the mesh URL".to_owned())
}

pub(crate) fn infrastructure(mesh: &MeshClient) -> Infrastructure {
    let local_names = |db: String, artifacts: String| {
        let mut names = Map::new();
        names.insert("kv_table".into(), json!(format!("{db}#kv")));
        names.insert("timeline_table".into(), json!(format!("{db}#timeline")));
        names.insert("artifacts_bucket".into(), json!(artifacts));
        names.insert("event_bus".into(), json!(format!("{db}#events")));
        names.insert("database".into(), json!(db));
        names
    };
    match mesh.config() {
        MeshConfig::Aws(options) => {
            let n = AwsNames::resolve(options);
            let mut names = Map::new();
            names.insert("kv_table".into(), json!(n.kv_table));
            names.insert("timeline_table".into(), json!(n.timeline_table));
            names.insert("artifacts_bucket".into(), json!(n.artifacts_bucket));
            names.insert("event_bus".into(), json!(n.event_bus));
            names.insert("state_machine_prefix".into(), json!(n.state_machine_prefix));
            names.insert("subscription_prefix".into(), json!(n.subscription_prefix));
            Infrastructure {
                backend: "aws",
                environment: options
                    .env
                    .clone()
                    .or_else(|| env_var("AGENT_MESH_ENV"))
                    .unwrap_or_else(|| "dev".to_owned()),
                region: aws_region(options),
                names,
            }
        }
        MeshConfig::Local { dir, .. } => Infrastructure {
            backend: "local",
            environment: env_var("AGENT_MESH_ENV").unwrap_or_else(|| "local".to_owned()),
            region: "local".to_owned(),
            names: local_names(local_path(dir, "mesh.db"), local_path(dir, "artifacts")),
        },
        MeshConfig::Memory { name } => {
            let store = format!("memory://{}", name.as_deref().unwrap_or(""));
            Infrastructure {
                backend: "memory",
                environment: env_var("AGENT_MESH_ENV").unwrap_or_else(|| "memory".to_owned()),
                region: "local".to_owned(),
                names: local_names(store.clone(), format!("{store}/artifacts")),
            }
        }
    }
}

/// How long one probe may take before it counts as failed (an unreachable endpoint would
/// otherwise hold `mesh_status` for the SDK's whole retry chain).
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs one probe read, failing it as `Unavailable` when it takes over [`PROBE_TIMEOUT`].
async fn bounded<T>(
    store: &str,
    read: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<(), Error> {
    match tokio::time::timeout(PROBE_TIMEOUT, read).await {
        Ok(outcome) => outcome.map(drop),
        Err(_) => Err(Error::new(
            crate::ErrorKind::Unavailable,
            format!(
                "mesh_status: the {store} store did not answer within {} s; check the endpoint and the network",
                PROBE_TIMEOUT.as_secs()
            ),
        )),
    }
}

/// One probe: a read that goes to the store and back, timed.
fn check(started: Instant, outcome: Result<(), Error>) -> Value {
    let ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    match outcome {
        Ok(()) => json!({"ok": true, "latency_ms": ms}),
        Err(e) => json!({"ok": false, "latency_ms": ms, "error": e.to_string()}),
    }
}

/// Reads each store once (a KV key, an artifact head, a one-entry page of the timeline, in
/// parallel): `{ok, latency_ms, checks: {kv, artifacts, timeline}}`.
async fn probe(mesh: &MeshClient) -> Value {
    let started = Instant::now();
    let kv = async {
        let t = Instant::now();
        check(t, bounded("kv", mesh.kv().get(PROBE_KEY)).await)
    };
    let artifacts = async {
        let t = Instant::now();
        check(
            t,
            bounded("artifacts", mesh.artifacts().head(PROBE_KEY)).await,
        )
    };
    let timeline = async {
        let t = Instant::now();
        let query = TimelineQuery::limit(1);
        check(t, bounded("timeline", mesh.timeline().get("", query)).await)
    };
    let (kv, artifacts, timeline) = futures::join!(kv, artifacts, timeline);
    let ok = [&kv, &artifacts, &timeline]
        .iter()
        .all(|c| c["ok"] == json!(true));
    json!({
        "ok": ok,
        "latency_ms": (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0,
        "checks": {"kv": kv, "artifacts": artifacts, "timeline": timeline},
    })
}

/// The `mesh_status` result: upstream's `{environment, infrastructure, region, timestamp}`
/// plus `status`, `backend`, `probe`, `version` and the tool names.
pub(crate) async fn status(mesh: &MeshClient) -> Value {
    let infra = infrastructure(mesh);
    let probe = probe(mesh).await;
    let status = if probe["ok"] == json!(true) {
        "ok"
    } else {
        "degraded"
    };
    json!({
        "status": status,
        "backend": infra.backend,
        "environment": infra.environment,
        "region": infra.region,
        "infrastructure": infra.names,
        "timestamp": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "probe": probe,
        // The tenant scope this client (or `agent-mesh mcp --tenant`) serves; null: the whole mesh.
        "tenant": (!mesh.scope_path().is_empty()).then(|| mesh.scope_path().join("/")),
        "version": env!("CARGO_PKG_VERSION"),
        "tools": super::TOOLS,
    })
}
