# Small workspace: the KV table (DynamoDB on demand, TTL, the listing index).
# Applied with `npm run tf:apply -- --var WS=small/kv_store ENV=<env>` (see infra/README.md), or
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

module "kv_store" {
  source = "../../../modules/kv_store"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_KV_TABLE" {
  value = module.kv_store.name
}
