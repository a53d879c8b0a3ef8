//! The least-privilege IAM policy of a scope's agents on AWS, rendered from the template the
//! Terraform module `infra/modules/tenant-agent` renders too, so the two cannot drift.

use serde_json::Value;

use super::Scope;
use crate::config::{AwsNames, AwsOptions, MeshConfig};
use crate::error::{Error, Result};

/// The policy template (Terraform `templatefile` syntax: `${name}` placeholders).
const TEMPLATE: &str = include_str!("../../../infra/modules/tenant-agent/policy.json.tftpl");

/// The policy document an agent confined to `scope` needs, for the AWS resources `config`
/// names (on a local or memory mesh: the resources the same program would use on AWS with
/// the environment's settings). The region is the configured one, else `*`; the account is
/// `*` (the document is meant for roles in the mesh's own account).
pub(crate) fn policy(scope: &Scope, config: &MeshConfig) -> Result<Value> {
    let (names, region) = match config {
        MeshConfig::Aws(options) => (AwsNames::resolve(options), options.region.clone()),
        _ => (AwsNames::resolve(&AwsOptions::default()), None),
    };
    let region = region
        .or_else(|| std::env::var("AWS_REGION").ok())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "*".to_owned());
    let workflow_role = names
        .workflow_role_arn
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::*:role/{}", names.workflow_role_name));
    let values = [
        ("partition", "aws".to_owned()),
        ("region", region),
        ("account", "*".to_owned()),
        ("kv_table", names.kv_table),
        ("timeline_table", names.timeline_table),
        ("bucket", names.artifacts_bucket),
        ("bus", names.event_bus),
        ("subscriptions", names.subscription_prefix),
        ("state_machines", names.state_machine_prefix),
        ("workflow_role_arn", workflow_role),
        ("key_prefix", scope.key_prefix().to_owned()),
        ("tenant_root", scope.tenant_prefix()),
        ("name_scope", scope.name_prefix()),
        ("subscription_scope", scope.subscription_prefix()),
        (
            "timeline_append_keys",
            Value::from(timeline_append_keys(scope)).to_string(),
        ),
    ];
    let mut text = TEMPLATE.to_owned();
    for (name, value) in &values {
        text = text.replace(&format!("${{{name}}}"), value);
    }
    serde_json::from_str(&text).map_err(|e| {
        Error::internal(
            "mesh.iam_policy",
            format!("the policy template did not render to JSON: {e}"),
        )
    })
}

/// The timeline partitions a scope's appends write: each index path from the tenant's root
/// down to the scope's own (exactly), and everything under the scope's prefix; `D#` + the
/// tenant's root for detached data.
pub(crate) fn timeline_append_keys(scope: &Scope) -> Vec<String> {
    let mut keys = Vec::new();
    let mut path = super::TENANTS.to_owned();
    for segment in &scope.segments()[..scope.segments().len() - 1] {
        path = format!("{path}{segment}/");
        keys.push(format!("P#{path}"));
    }
    keys.push(format!("P#{}*", scope.key_prefix()));
    keys.push(format!("D#{}*", scope.tenant_prefix()));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_placeholder() {
        let scope = Scope::tenant("acme").unwrap().child("bot").unwrap();
        let doc = policy(&scope, &MeshConfig::parse("memory://").unwrap()).unwrap();
        let text = doc.to_string();
        assert!(!text.contains("${"), "{text}");
        assert!(text.contains("tenants/acme/bot/*"), "{text}");
        assert_eq!(
            timeline_append_keys(&scope),
            [
                "P#tenants/acme/",
                "P#tenants/acme/bot/*",
                "D#tenants/acme/*"
            ]
        );
    }
}
