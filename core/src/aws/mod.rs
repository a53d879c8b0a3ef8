//! The `aws://` backend: KV and the timeline on DynamoDB, artifacts on S3, events on
//! EventBridge with subscriptions through SQS, workflows on Step Functions.
//!
//! Resource names resolve from the upstream variables first (`AGENT_MESH_KV_TABLE`,
//! `AGENT_MESH_ARTIFACTS_BUCKET`, `AGENT_MESH_EVENT_BUS`, `AGENT_MESH_TIMELINE_TABLE`), else
//! `<prefix>agent-mesh-<env>-kv`, `<prefix>agent-mesh-<env>-artifacts`, the bus
//! `<prefix>agent-mesh-<env>` and `<prefix>agent-mesh-<env>-timeline`, with `env` from the URL,
//! `AGENT_MESH_ENV`, or `dev` — the names the Terraform in `infra/` creates. Subscription queues
//! and rules are named `<prefix>agent-mesh-<env>-sub-<name>`. Credentials, region and `AWS_ENDPOINT_URL`
//! follow the AWS SDK's standard chain; retries use its standard mode (throttling and transient
//! errors only, with backoff).

mod artifacts;
mod errors;
#[cfg(all(test, feature = "moto-tests"))]
mod errors_replay_tests;
mod events;
mod history;
mod known_items;
mod kv;
mod kv_layout;
mod kv_upstream;
mod kv_write;
mod subscription;
mod tables;
mod timeline;
#[cfg(all(test, feature = "moto-tests"))]
mod workflow_replay_tests;
mod workflows;

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;

use crate::backend::{Backends, WorkflowEngine};
use crate::config::{AwsNames, AwsOptions};
use crate::error::Result;

/// How every AWS call is retried: the SDK's standard mode (throttling, transient and 5xx
/// errors only, exponential backoff with jitter), at most 5 attempts.
pub(crate) fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(5)
}

/// The AWS backend's clients and names, shared by its domains.
#[derive(Debug)]
pub(crate) struct AwsBackend {
    kv: Arc<kv::DynamoKv>,
    artifacts: Arc<artifacts::S3Artifacts>,
    events: Arc<events::EventBridgeEvents>,
    timeline: Arc<timeline::DynamoTimeline>,
    workflows: Arc<workflows::StepFunctionsWorkflows>,
}

impl AwsBackend {
    /// Loads the SDK configuration and builds the clients (no request is made).
    pub(crate) async fn open(options: &AwsOptions) -> Result<AwsBackend> {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(retry_config());
        if let Some(region) = &options.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(endpoint) = &options.endpoint {
            loader = loader.endpoint_url(endpoint.clone());
        }
        let sdk = loader.load().await;
        let names = AwsNames::resolve(options);
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let s3_config = aws_sdk_s3::config::Builder::from(&sdk)
            // Emulators and custom endpoints serve buckets by path, not by host name.
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        let workflows = workflows::StepFunctionsWorkflows::new(
            aws_sdk_sfn::Client::new(&sdk),
            aws_sdk_sts::Client::new(&sdk),
            sdk.region().map(|r| r.to_string()),
            names.clone(),
        );
        Ok(AwsBackend {
            workflows: Arc::new(workflows),
            kv: Arc::new(kv::DynamoKv::new(
                dynamo.clone(),
                names.kv_table,
                options.known_items,
            )),
            timeline: Arc::new(timeline::DynamoTimeline::new(dynamo, names.timeline_table)),
            events: Arc::new(events::EventBridgeEvents::new(
                aws_sdk_eventbridge::Client::new(&sdk),
                aws_sdk_sqs::Client::new(&sdk),
                names.event_bus,
                names.subscription_prefix,
            )),
            artifacts: Arc::new(artifacts::S3Artifacts::new(
                aws_sdk_s3::Client::from_conf(s3_config),
                names.artifacts_bucket,
            )),
        })
    }

    /// The per-domain backends.
    pub(crate) fn backends(&self) -> Backends {
        Backends {
            kv: self.kv.clone(),
            artifacts: self.artifacts.clone(),
            events: self.events.clone(),
            timeline: self.timeline.clone(),
            workflows: WorkflowEngine::Remote(self.workflows.clone()),
        }
    }

    /// Creates the KV table (with TTL and the listing index), the bucket, the timeline table
    /// and the event bus, idempotently and concurrently.
    pub(crate) async fn provision(&self) -> Result<()> {
        tokio::try_join!(
            self.kv.provision(),
            self.artifacts.provision(),
            self.timeline.provision(),
            self.events.provision(),
        )?;
        Ok(())
    }
}
