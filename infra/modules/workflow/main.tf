# The role Step Functions runs agent-mesh's state machines with (`workflows.create` makes them,
# named <prefix>agent-mesh-<env>-<name>): the mesh integrations (DynamoDB on the KV table, S3 on
# the artifacts bucket, events:putEvents on the bus) and the listed Lambdas. The resources are
# named, not looked up, so this applies before or after the small workspaces.

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
  type = string
}

variable "prefix" {
  type    = string
  default = ""
}

variable "lambda_arns" {
  description = "Lambda functions the state machines may invoke (arn:aws:states:::lambda:invoke)."
  type        = list(string)
  default     = []
}

module "names" {
  source = "../names"
  env    = var.env
  prefix = var.prefix
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  arn_tail = "${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  partition = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workflows" {
  name               = module.names.workflow_role
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

data "aws_iam_policy_document" "integrations" {
  statement {
    sid       = "KvIntegration"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
    resources = ["arn:${local.partition}:dynamodb:${local.arn_tail}:table/${module.names.kv_table}"]
  }

  statement {
    sid       = "ArtifactsIntegration"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${module.names.artifacts_bucket}/*"]
  }

  statement {
    sid       = "EventsIntegration"
    actions   = ["events:PutEvents"]
    resources = ["arn:${local.partition}:events:${local.arn_tail}:event-bus/${module.names.event_bus}"]
  }

  dynamic "statement" {
    for_each = length(var.lambda_arns) > 0 ? [1] : []
    content {
      sid       = "Lambdas"
      actions   = ["lambda:InvokeFunction"]
      resources = var.lambda_arns
    }
  }
}

resource "aws_iam_role_policy" "workflows" {
  name   = "agent-mesh-integrations"
  role   = aws_iam_role.workflows.id
  policy = data.aws_iam_policy_document.integrations.json
}

output "role_arn" {
  value = aws_iam_role.workflows.arn
}
