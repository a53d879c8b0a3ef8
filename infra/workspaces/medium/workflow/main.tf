# Medium workspace: the role Step Functions runs agent-mesh's state machines with.
# Applied with `npm run tf:apply -- --var WS=medium/workflow ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

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
