# Large workspace (the guide's enterprise tier, what of it the SDK uses): every resource with
# provisioned capacity, point-in-time recovery, deletion protection, 30 days of replaced
# artifact versions, and the observability of medium/observability.
# Applied with `npm run tf:apply -- --var WS=large ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

variable "read_capacity" {
  type    = number
  default = 200
}

variable "write_capacity" {
  type    = number
  default = 100
}

module "agent_mesh" {
  source                   = "../../modules/agent-mesh"
  env                      = var.env
  prefix                   = var.prefix
  billing_mode             = "PROVISIONED"
  read_capacity            = var.read_capacity
  write_capacity           = var.write_capacity
  point_in_time_recovery   = true
  deletion_protection      = true
  artifact_noncurrent_days = 30
}

module "observability" {
  source = "../../modules/observability"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_KV_TABLE" {
  value = module.agent_mesh.kv_table
}

output "AGENT_MESH_ARTIFACTS_BUCKET" {
  value = module.agent_mesh.artifacts_bucket
}

output "AGENT_MESH_TIMELINE_TABLE" {
  value = module.agent_mesh.timeline_table
}

output "AGENT_MESH_EVENT_BUS" {
  value = module.agent_mesh.event_bus
}

output "AGENT_MESH_WORKFLOW_ROLE_ARN" {
  value = module.agent_mesh.workflow_role_arn
}

output "client_policy_json" {
  description = "IAM policy (JSON) with every permission an agent-mesh client needs on these resources."
  value       = module.agent_mesh.client_policy_json
}

output "dashboard" {
  value = module.observability.dashboard
}
