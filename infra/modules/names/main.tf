# The names of one agent-mesh environment's AWS resources: what MeshClient.provision() creates
# and the SDK looks for (core/src/config.rs; tests/aws/test_infra_matches_code.py checks they
# agree). Every other module takes its names from here.

variable "env" {
  description = "Environment name used in resource names (agent-mesh-<env>-kv, ...); AGENT_MESH_ENV for the SDK."
  type        = string
}

variable "prefix" {
  description = "Optional prefix for every resource name; the SDK's aws://?prefix= option."
  type        = string
  default     = ""
}

locals {
  kv_table         = "${var.prefix}agent-mesh-${var.env}-kv"
  artifacts_bucket = "${var.prefix}agent-mesh-${var.env}-artifacts"
  timeline_table   = "${var.prefix}agent-mesh-${var.env}-timeline"
  event_bus        = "${var.prefix}agent-mesh-${var.env}"
  subscriptions    = "${var.prefix}agent-mesh-${var.env}-sub-"
  state_machines   = "${var.prefix}agent-mesh-${var.env}-"
  workflow_role    = "${var.prefix}agent-mesh-${var.env}-workflows"
}

output "kv_table" {
  value = local.kv_table
}

output "artifacts_bucket" {
  value = local.artifacts_bucket
}

output "timeline_table" {
  value = local.timeline_table
}

output "event_bus" {
  value = local.event_bus
}

output "subscriptions" {
  description = "What the names of subscription queues and rules start with."
  value       = local.subscriptions
}

output "state_machines" {
  description = "What the names of state machines and activities start with."
  value       = local.state_machines
}

output "workflow_role" {
  value = local.workflow_role
}

output "url" {
  description = "The SDK's URL for this environment (without the region): AGENT_MESH_URL."
  value       = var.prefix == "" ? "aws://?env=${var.env}" : "aws://?env=${var.env}&prefix=${var.prefix}"
}
