# Small workspace: the timeline table (DynamoDB on demand).
# Applied with `npm run tf:apply -- --var WS=small/timeline_store ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder.

variable "env" {
  description = "The environment (the guide's ENV): resource names agent-mesh-<env>-*, AGENT_MESH_ENV."
  type        = string
}

variable "prefix" {
  description = "Optional prefix of every resource name (the SDK's aws://?prefix=)."
  type        = string
  default     = ""
}

variable "region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region = var.region
}

output "AGENT_MESH_ENV" {
  value = var.env
}

module "timeline_store" {
  source = "../../../modules/timeline_store"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_TIMELINE_TABLE" {
  value = module.timeline_store.name
}
