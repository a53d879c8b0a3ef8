# What every workspace declares alike (each links this file as its common.tf): the environment,
# the name prefix, the region, the provider, and the output AGENT_MESH_ENV.

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
