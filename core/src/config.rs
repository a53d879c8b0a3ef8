//! Backend selection: mesh URLs and the `AGENT_MESH_*` environment variables.
//!
//! | URL | backend |
//! | --- | --- |
//! | `local:///abs/path`, `local://./rel` | embedded SQLite + files in that directory |
//! | `memory://` / `memory://name` | in-process, for tests (a name shares one store per process) |
//! | `aws://?region=..&endpoint=..&prefix=..&env=..&known_items=on\|off` | DynamoDB, S3, EventBridge, SQS, Step Functions |
//!
//! With no URL, `AGENT_MESH_URL` is used if set, else the local mesh in `$AGENT_MESH_DIR` or
//! `./.agent-mesh`.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::redact::{MASK, redact_urls};

/// The environment variable holding a mesh URL.
pub const ENV_URL: &str = "AGENT_MESH_URL";
/// The environment variable holding the local mesh directory.
pub const ENV_DIR: &str = "AGENT_MESH_DIR";
/// The local mesh directory used when neither variable is set.
pub const DEFAULT_DIR: &str = ".agent-mesh";

const SCHEMES: &str = "local://, memory://, aws://";
const LOCAL_OPTIONS: &[&str] = &["sync"];
const AWS_OPTIONS: &[&str] = &["region", "endpoint", "prefix", "env", "known_items"];

/// How hard the local backend pushes each commit to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// SQLite `synchronous=NORMAL` in WAL mode: a commit survives the process being killed;
    /// the last commits may be lost if the machine loses power. The default.
    #[default]
    Normal,
    /// SQLite `synchronous=FULL`: every commit is fsynced and survives power loss too.
    Full,
}

/// Options of the `aws://` backend. `Debug` shows the endpoint with its user-info (if any)
/// replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwsOptions {
    /// AWS region; the SDK's default chain when absent.
    pub region: Option<String>,
    /// Endpoint override (an emulator such as moto); `AWS_ENDPOINT_URL` when absent.
    pub endpoint: Option<String>,
    /// Prefix for resource names.
    pub prefix: Option<String>,
    /// Environment name used in default resource names (`agent-mesh-<env>-kv`).
    pub env: Option<String>,
    /// The known-items optimisation (`known_items=on|off`, on by default): a KV write to a key
    /// this client read or wrote is one conditional `PutItem`, without reading it first. It
    /// changes the requests sent, never the results.
    pub known_items: bool,
}

impl fmt::Debug for AwsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsOptions")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_deref().map(redact_urls))
            .field("prefix", &self.prefix)
            .field("env", &self.env)
            .field("known_items", &self.known_items)
            .finish()
    }
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            region: None,
            endpoint: None,
            prefix: None,
            env: None,
            known_items: true,
        }
    }
}

/// A parsed backend selection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeshConfig {
    /// The embedded backend in a directory.
    Local {
        /// The mesh directory (created on open).
        dir: PathBuf,
        /// Commit durability.
        sync: SyncMode,
    },
    /// The in-process backend; `name` shares one store among clients of this process.
    Memory {
        /// Store name; `None` gives every client its own store.
        name: Option<String>,
    },
    /// The AWS backend.
    Aws(AwsOptions),
}

impl MeshConfig {
    /// The configuration from the environment: `AGENT_MESH_URL`, else `AGENT_MESH_DIR`, else
    /// `./.agent-mesh`.
    pub fn from_env() -> Result<Self> {
        if let Some(url) = std::env::var(ENV_URL).ok().filter(|u| !u.is_empty()) {
            return Self::parse(&url).map_err(|e| {
                Error::config(format!("{ENV_URL}={:?}: {}", display_url(&url), e.message))
            });
        }
        let dir = std::env::var(ENV_DIR)
            .ok()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| DEFAULT_DIR.to_owned());
        Ok(MeshConfig::Local {
            dir: PathBuf::from(dir),
            sync: SyncMode::Normal,
        })
    }

    /// Parses a mesh URL; an unknown scheme or option is a `Config` error listing what is
    /// accepted. Messages show the URL with user-info and the values of unknown options
    /// replaced by `***`, so a credential in it is never echoed.
    pub fn parse(url: &str) -> Result<Self> {
        let shown = display_url(url);
        let Some((scheme, rest)) = url.split_once("://") else {
            let url = &shown;
            return Err(Error::config(format!(
                "mesh URL {url:?} has no scheme: use one of {SCHEMES} (e.g. local://./.agent-mesh)"
            )));
        };
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, q),
            None => (rest, ""),
        };
        let options: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let url = shown.as_str();
        match scheme {
            "local" => parse_local(url, path, &options),
            "memory" => {
                check_options(url, &options, &[])?;
                Ok(MeshConfig::Memory {
                    name: (!path.is_empty()).then(|| path.to_owned()),
                })
            }
            "aws" => parse_aws(url, path, &options),
            other => Err(Error::config(format!(
                "mesh URL {url:?} has unknown scheme {other:?}: use one of {SCHEMES}"
            ))),
        }
    }
}

/// `url` as messages show it: user-info of URLs in it and values of options agent-mesh does not
/// know replaced by `***` (a misspelt option may carry a secret).
fn display_url(url: &str) -> String {
    let redacted = redact_urls(url);
    let Some((head, query)) = redacted.split_once('?') else {
        return redacted;
    };
    let known = |name: &str| LOCAL_OPTIONS.contains(&name) || AWS_OPTIONS.contains(&name);
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = form_urlencoded::parse(pair.as_bytes())
                .next()
                .map(|(name, _)| name.into_owned())
                .unwrap_or_default();
            match pair.split_once('=') {
                Some((raw_name, _)) if !known(&name) => format!("{raw_name}={MASK}"),
                _ => pair.to_owned(),
            }
        })
        .collect();
    format!("{head}?{}", pairs.join("&"))
}

fn parse_local(url: &str, path: &str, options: &[(String, String)]) -> Result<MeshConfig> {
    check_options(url, options, LOCAL_OPTIONS)?;
    if path.is_empty() {
        return Err(Error::config(format!(
            "mesh URL {url:?} names no directory: use local:///absolute/path or local://./relative/path"
        )));
    }
    let mut sync = SyncMode::Normal;
    for (name, value) in options {
        if name == "sync" {
            sync = match value.as_str() {
                "normal" => SyncMode::Normal,
                "full" => SyncMode::Full,
                other => {
                    return Err(Error::config(format!(
                        "mesh URL {url:?}: sync={other:?} is not accepted; use sync=normal or sync=full"
                    )));
                }
            };
        }
    }
    Ok(MeshConfig::Local {
        dir: PathBuf::from(path),
        sync,
    })
}

fn parse_aws(url: &str, path: &str, options: &[(String, String)]) -> Result<MeshConfig> {
    check_options(url, options, AWS_OPTIONS)?;
    if !path.is_empty() {
        return Err(Error::config(format!(
            "mesh URL {url:?}: aws:// takes no host or path, only options (aws://?region=us-east-1)"
        )));
    }
    let mut aws = AwsOptions::default();
    for (name, value) in options {
        if name == "known_items" {
            aws.known_items = match value.as_str() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                other => {
                    return Err(Error::config(format!(
                        "mesh URL {url:?}: known_items={other:?} is neither on nor off"
                    )));
                }
            };
            continue;
        }
        let slot = match name.as_str() {
            "region" => &mut aws.region,
            "endpoint" => &mut aws.endpoint,
            "prefix" => &mut aws.prefix,
            _ => &mut aws.env,
        };
        *slot = Some(value.clone());
    }
    Ok(MeshConfig::Aws(aws))
}

fn check_options(url: &str, options: &[(String, String)], accepted: &[&str]) -> Result<()> {
    for (name, _) in options {
        if !accepted.contains(&name.as_str()) {
            let list = if accepted.is_empty() {
                "none".to_owned()
            } else {
                accepted.join(", ")
            };
            return Err(Error::config(format!(
                "mesh URL {url:?} has unknown option {name:?}; accepted options: {list}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn parses_each_scheme() {
        assert_eq!(
            MeshConfig::parse("local:///tmp/m").unwrap(),
            MeshConfig::Local {
                dir: "/tmp/m".into(),
                sync: SyncMode::Normal
            }
        );
        assert_eq!(
            MeshConfig::parse("local://./rel?sync=full").unwrap(),
            MeshConfig::Local {
                dir: "./rel".into(),
                sync: SyncMode::Full
            }
        );
        assert_eq!(
            MeshConfig::parse("memory://").unwrap(),
            MeshConfig::Memory { name: None }
        );
        assert_eq!(
            MeshConfig::parse("memory://shared").unwrap(),
            MeshConfig::Memory {
                name: Some("shared".into())
            }
        );
        let MeshConfig::Aws(aws) = MeshConfig::parse(
            "aws://?region=us-east-1&endpoint=http%3A%2F%2F127.0.0.1%3A5000&env=dev",
        )
        .unwrap() else {
            panic!("expected aws")
        };
        assert_eq!(aws.region.as_deref(), Some("us-east-1"));
        assert_eq!(aws.endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(aws.env.as_deref(), Some("dev"));
        assert_eq!(aws.prefix, None);
    }

    #[test]
    fn rejects_unknown_scheme_and_options_listing_what_is_accepted() {
        let e = MeshConfig::parse("redis://localhost").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(e.message.contains("local://, memory://, aws://"), "{e}");
        let e = MeshConfig::parse("local://./m?cache=big").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config);
        assert!(
            e.message.contains("\"cache\"") && e.message.contains("sync"),
            "{e}"
        );
        let e = MeshConfig::parse("aws://?zone=a").unwrap_err();
        assert!(e.message.contains("region, endpoint, prefix, env"), "{e}");
        let e = MeshConfig::parse("local://./m?sync=sometimes").unwrap_err();
        assert!(e.message.contains("sync=full"), "{e}");
        assert_eq!(
            MeshConfig::parse("no-scheme").unwrap_err().kind,
            ErrorKind::Config
        );
        assert_eq!(
            MeshConfig::parse("local://").unwrap_err().kind,
            ErrorKind::Config
        );
    }

    #[test]
    fn credentials_in_urls_never_show() {
        let secret = "s3cr3t-Pa55";
        let urls = [
            format!("aws://?endpoint=http://AKIDEXAMPLE:{secret}@127.0.0.1:5055&region=us-east-1"),
            format!("aws://?endpoint=http%3A%2F%2Fuser%3A{secret}%40127.0.0.1%3A5055"),
        ];
        for url in &urls {
            let config = MeshConfig::parse(url).unwrap();
            let shown = format!("{config:?} {config:#?}");
            assert!(
                !shown.contains(secret) && !shown.contains("AKIDEXAMPLE"),
                "{shown}"
            );
            assert!(shown.contains("http://***@127.0.0.1:5055"), "{shown}");
            let MeshConfig::Aws(aws) = &config else {
                panic!("expected aws")
            };
            assert!(
                aws.endpoint.as_deref().unwrap().contains(secret),
                "the value is kept"
            );
            // Errors that quote the URL: an unknown option, a bad value.
            for bad in [format!("{url}&zone=a"), format!("{url}&known_items=maybe")] {
                let e = MeshConfig::parse(&bad).unwrap_err();
                assert!(!format!("{e:?}").contains(secret), "{e:?}");
                assert!(e.message.contains("***"), "{e}");
            }
        }
        // A secret given under a misspelt option name is not echoed either.
        let e = MeshConfig::parse(&format!("aws://?aws_secret_access_key={secret}")).unwrap_err();
        assert!(!e.message.contains(secret), "{e}");
        assert!(e.message.contains("\"aws_secret_access_key\""), "{e}");
        let e = MeshConfig::parse(&format!("redis://user:{secret}@host")).unwrap_err();
        assert!(!e.message.contains(secret), "{e}");
    }
}

/// The resource names one configuration uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AwsNames {
    /// DynamoDB table of the KV.
    pub kv_table: String,
    /// S3 bucket of the artifacts.
    pub artifacts_bucket: String,
    /// EventBridge event bus events are sent to (`default` is the account's default bus).
    pub event_bus: String,
    /// DynamoDB table of the timeline.
    pub timeline_table: String,
    /// What the names of subscription queues and rules start with (then the subscription's
    /// name, or a random id for an ephemeral one).
    pub subscription_prefix: String,
    /// What the names of Step Functions state machines start with (then the name given to
    /// `workflows.create`).
    pub state_machine_prefix: String,
    /// The IAM role Step Functions runs the state machines with: `AGENT_MESH_WORKFLOW_ROLE_ARN`,
    /// else `None` for the role named [`AwsNames::workflow_role_name`] in the caller's account.
    pub workflow_role_arn: Option<String>,
    /// The name of the default workflow role (the Terraform in `infra/` creates it).
    pub workflow_role_name: String,
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
            event_bus: var("AGENT_MESH_EVENT_BUS")
                .unwrap_or_else(|| format!("{prefix}agent-mesh-{env}")),
            timeline_table: var("AGENT_MESH_TIMELINE_TABLE")
                .unwrap_or_else(|| format!("{prefix}agent-mesh-{env}-timeline")),
            subscription_prefix: format!("{prefix}agent-mesh-{env}-sub-"),
            state_machine_prefix: format!("{prefix}agent-mesh-{env}-"),
            workflow_role_arn: var("AGENT_MESH_WORKFLOW_ROLE_ARN"),
            workflow_role_name: format!("{prefix}agent-mesh-{env}-workflows"),
        }
    }
}
