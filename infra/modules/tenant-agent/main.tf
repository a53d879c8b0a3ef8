# The IAM role of one tenant's agents: least privilege on the resources of one agent-mesh
# environment (the agent-mesh module), for the SDK's scoped client `mesh.scope(tenant)`.
# The policy is rendered from policy.json.tftpl, the same template the SDK renders for
# `scoped.iam_policy()` / `agent-mesh --tenant T iam-policy`; a test
# (tests/aws/test_tenant_policy.py) checks that both pass it the same values.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "env" {
  description = "The environment of the agent-mesh module (AGENT_MESH_ENV)."
  type        = string
}

variable "prefix" {
  description = "The agent-mesh module's resource name prefix (aws://?prefix=)."
  type        = string
  default     = ""
}

variable "tenant" {
  description = "The tenant id: 1-32 of a-z, 0-9 and inner '-', as mesh.scope(tenant) takes it."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.tenant))
    error_message = "A tenant id is 1-32 lowercase letters, digits and inner '-'."
  }
}

variable "scope" {
  description = "Ids nested under the tenant (agent, session), for a role narrower than the tenant's."
  type        = list(string)
  default     = []
}

variable "trusted_principal_arns" {
  description = "Who may assume the role (the tenant's agents' runtime roles or accounts)."
  type        = list(string)
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  segments    = concat([var.tenant], var.scope)
  key_prefix  = "tenants/${join("/", local.segments)}/"
  tenant_root = "tenants/${var.tenant}/"
  # Each timeline index path from the tenant's root down to the scope's, exactly.
  ancestors = [for i in range(1, length(local.segments)) : "P#tenants/${join("/", slice(local.segments, 0, i))}/"]
  policy = templatefile("${path.module}/policy.json.tftpl", {
    partition            = data.aws_partition.current.partition
    region               = data.aws_region.current.name
    account              = data.aws_caller_identity.current.account_id
    kv_table             = "${var.prefix}agent-mesh-${var.env}-kv"
    timeline_table       = "${var.prefix}agent-mesh-${var.env}-timeline"
    bucket               = "${var.prefix}agent-mesh-${var.env}-artifacts"
    bus                  = "${var.prefix}agent-mesh-${var.env}"
    subscriptions        = "${var.prefix}agent-mesh-${var.env}-sub-"
    state_machines       = "${var.prefix}agent-mesh-${var.env}-"
    workflow_role_arn    = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${var.prefix}agent-mesh-${var.env}-workflows"
    key_prefix           = local.key_prefix
    tenant_root          = local.tenant_root
    name_scope           = "${join(".", local.segments)}."
    subscription_scope   = "${join("_", local.segments)}_"
    timeline_append_keys = jsonencode(concat(local.ancestors, ["P#${local.key_prefix}*", "D#${local.tenant_root}*"]))
  })
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.trusted_principal_arns
    }
  }
}

resource "aws_iam_role" "agent" {
  # Ids contain no '.', so tenant "a-b" and scope ["a", "b"] get different names. IAM allows 64
  # characters: keep the environment, prefix and ids short enough.
  name               = "${var.prefix}agent-mesh-${var.env}-tenant-${join(".", local.segments)}"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "agent" {
  name   = "agent-mesh-tenant"
  role   = aws_iam_role.agent.id
  policy = local.policy
}

output "role_arn" {
  description = "The tenant agents' role; they open the mesh with AGENT_MESH_TENANT or mesh.scope(tenant)."
  value       = aws_iam_role.agent.arn
}

output "policy_json" {
  description = "The policy document (the same as agent-mesh --tenant <tenant> iam-policy)."
  value       = local.policy
}
