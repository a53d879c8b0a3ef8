# Medium workspace: activity workers on ECS Fargate (infra/images/mesh-agent), so that Python
# handlers of a workflow run in AWS.
# Applied with `npm run tf:apply -- --var WS=medium/mesh_agents ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

variable "image" {
  description = "The worker image built from infra/images/mesh-agent with your handlers."
  type        = string
}

variable "activities" {
  description = "Activity names the workers serve, comma-separated (IMAGE=... ACTIVITIES=a,b on the npm command line)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the tasks, comma-separated."
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the tasks, comma-separated."
  type        = string
}

variable "desired_count" {
  type    = number
  default = 1
}

module "mesh_agents" {
  source             = "../../../modules/mesh_agents"
  env                = var.env
  prefix             = var.prefix
  image              = var.image
  activities         = split(",", var.activities)
  subnet_ids         = split(",", var.subnet_ids)
  security_group_ids = split(",", var.security_group_ids)
  desired_count      = var.desired_count
}

output "AGENT_MESH_URL" {
  value = module.mesh_agents.url
}

output "cluster" {
  value = module.mesh_agents.cluster
}

output "service" {
  value = module.mesh_agents.service
}
