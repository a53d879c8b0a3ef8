//! The `aws://` backend: KV on DynamoDB, artifacts on S3.
//!
//! Resource names resolve from the upstream variables first (`AGENT_MESH_KV_TABLE`,
//! `AGENT_MESH_ARTIFACTS_BUCKET`), else `<prefix>agent-mesh-<env>-kv` and
//! `<prefix>agent-mesh-<env>-artifacts`, with `env` from the URL, `AGENT_MESH_ENV`, or `dev` —
//! the names the Terraform in `infra/` creates. Credentials, region and `AWS_ENDPOINT_URL`
//! follow the AWS SDK's standard chain; retries use its standard mode (throttling and transient
//! errors only, with backoff).

mod artifacts;
mod errors;
mod kv;

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;

use crate::client::Backends;
use crate::config::AwsOptions;
use crate::error::Result;

/// The resource names one configuration uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsNames {
    /// DynamoDB table of the KV.
    pub kv_table: String,
    /// S3 bucket of the artifacts.
    pub artifacts_bucket: String,
}

impl AwsNames {
    /// Resolves the names for `options` from the environment and defaults.
    pub fn resolve(options: &AwsOptions) -> AwsNames {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let env = options
            .env
            .clone()
            .or_else(|| var("AGENT_MESH_ENV"))
            .unwrap_or_else(|| "dev".to_owned());
        let prefix = options.prefix.clone().unwrap_or_default();
        AwsNames {
            kv_table: var("AGENT_MESH_KV_TABLE")
                .unwrap_or_else(|| format!("{prefix}agent-mesh-{env}-kv")),
            artifacts_bucket: var("AGENT_MESH_ARTIFACTS_BUCKET")
                .unwrap_or_else(|| format!("{prefix}agent-mesh-{env}-artifacts")),
        }
    }
}

/// The AWS backend's clients and names, shared by its domains.
#[derive(Debug)]
pub(crate) struct AwsBackend {
    kv: Arc<kv::DynamoKv>,
    artifacts: Arc<artifacts::S3Artifacts>,
}

impl AwsBackend {
    /// Loads the SDK configuration and builds the clients (no request is made).
    pub(crate) async fn open(options: &AwsOptions) -> Result<AwsBackend> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(5));
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
        Ok(AwsBackend {
            kv: Arc::new(kv::DynamoKv::new(dynamo, names.kv_table)),
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
        }
    }

    /// Creates the table (with TTL and the listing index) and the bucket, idempotently.
    pub(crate) async fn provision(&self) -> Result<()> {
        self.kv.provision().await?;
        self.artifacts.provision().await
    }
}
