# agent-mesh, large deployment. terraform init && terraform apply -var env=prod
# Then point the SDK at it: AGENT_MESH_URL="aws://?region=<region>&env=<env>".

variable "env" {
  type    = string
  default = "large"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region = var.region
}

module "agent_mesh" {
  source = "../../modules/agent-mesh"
  env    = var.env
  billing_mode             = "PROVISIONED"
  read_capacity            = 200
  write_capacity           = 100
  point_in_time_recovery   = true
  artifact_noncurrent_days = 30
}

output "kv_table" {
  value = module.agent_mesh.kv_table
}

output "artifacts_bucket" {
  value = module.agent_mesh.artifacts_bucket
}

output "timeline_table" {
  value = module.agent_mesh.timeline_table
}

output "event_bus" {
  value = module.agent_mesh.event_bus
}

output "client_policy_json" {
  description = "IAM policy (JSON) with every permission an agent-mesh client needs on these resources"
  value       = module.agent_mesh.client_policy_json
}
