# Small workspace: the artifacts bucket (S3; also the bodies of KV values over 400 KB).
# Applied with `npm run tf:apply -- --var WS=small/artifacts_bucket ENV=<env>` (see infra/README.md), or
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

module "artifacts_bucket" {
  source = "../../../modules/artifacts_bucket"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_ARTIFACTS_BUCKET" {
  value = module.artifacts_bucket.name
}
