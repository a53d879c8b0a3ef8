# Medium workspace: the role Step Functions runs agent-mesh's state machines with.
# Applied with `npm run tf:apply -- --var WS=medium/workflow ENV=<env>` (see infra/README.md), or
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

variable "lambda_arns" {
  description = "Lambda functions the state machines may invoke."
  type        = list(string)
  default     = []
}

module "workflow" {
  source      = "../../../modules/workflow"
  env         = var.env
  prefix      = var.prefix
  lambda_arns = var.lambda_arns
}

output "AGENT_MESH_WORKFLOW_ROLE_ARN" {
  value = module.workflow.role_arn
}
