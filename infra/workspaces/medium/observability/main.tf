# Medium workspace (production): alarms and a dashboard for throttling, failed executions,
# subscription queues and dead letters.
# Applied with `npm run tf:apply -- --var WS=medium/observability ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

variable "state_machines" {
  description = "State machine names to alarm on failed executions, comma-separated."
  type        = string
  default     = ""
}

variable "subscriptions" {
  description = "Durable subscription names to alarm on queue depth and age, comma-separated."
  type        = string
  default     = ""
}

variable "alarm_email" {
  type    = string
  default = ""
}

module "observability" {
  source         = "../../../modules/observability"
  env            = var.env
  prefix         = var.prefix
  state_machines = compact(split(",", var.state_machines))
  subscriptions  = compact(split(",", var.subscriptions))
  alarm_email    = var.alarm_email
}

output "dashboard" {
  value = module.observability.dashboard
}

output "alarm_topic_arn" {
  value = module.observability.alarm_topic_arn
}
