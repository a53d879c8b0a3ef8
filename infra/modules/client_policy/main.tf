# What an agent-mesh client of one environment needs: every call the SDK makes on the KV and
# timeline tables, the artifacts bucket, the bus, the subscriptions' rules and queues it creates
# and deletes at run time, and the workflows. Resources are named, not looked up.
# (A tenant's agents get a narrower policy: modules/tenant-agent.)

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

module "names" {
  source = "../names"
  env    = var.env
  prefix = var.prefix
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  arn_tail       = "${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  partition      = data.aws_partition.current.partition
  kv_table       = "arn:${local.partition}:dynamodb:${local.arn_tail}:table/${module.names.kv_table}"
  timeline_table = "arn:${local.partition}:dynamodb:${local.arn_tail}:table/${module.names.timeline_table}"
  bucket         = "arn:${local.partition}:s3:::${module.names.artifacts_bucket}"
  event_bus      = module.names.event_bus
  subscriptions  = module.names.subscriptions
  state_machines = module.names.state_machines
}

data "aws_iam_policy_document" "client" {
  statement {
    sid = "KvAndTimeline"
    actions = [
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
      "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query",
      "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
    ]
    resources = [local.kv_table, "${local.kv_table}/index/*", local.timeline_table]
  }

  statement {
    sid       = "Artifacts"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${local.bucket}/*"]
  }

  statement {
    sid       = "ArtifactListing"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket]
  }

  statement {
    sid       = "Events"
    actions   = ["events:PutEvents"]
    resources = ["arn:${local.partition}:events:${local.arn_tail}:event-bus/${local.event_bus}"]
  }

  statement {
    sid       = "SubscriptionRules"
    actions   = ["events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule", "events:DescribeRule"]
    resources = ["arn:${local.partition}:events:${local.arn_tail}:rule/${local.event_bus}/${local.subscriptions}*"]
  }

  statement {
    sid = "Workflows"
    actions = [
      "states:CreateStateMachine", "states:UpdateStateMachine", "states:StartExecution",
      "states:ListExecutions",
    ]
    resources = ["arn:${local.partition}:states:${local.arn_tail}:stateMachine:${local.state_machines}*"]
  }

  statement {
    sid       = "WorkflowExecutions"
    actions   = ["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"]
    resources = ["arn:${local.partition}:states:${local.arn_tail}:execution:${local.state_machines}*"]
  }

  statement {
    sid = "Activities"
    actions = [
      "states:CreateActivity", "states:GetActivityTask", "states:SendTaskSuccess",
      "states:SendTaskFailure", "states:SendTaskHeartbeat",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "PassWorkflowRole"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${module.names.workflow_role}"]
  }

  statement {
    sid = "SubscriptionQueues"
    actions = [
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
      "sqs:SetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
    ]
    resources = ["arn:${local.partition}:sqs:${local.arn_tail}:${local.subscriptions}*"]
  }
}

output "json" {
  description = "The policy document (JSON)."
  value       = data.aws_iam_policy_document.client.json
}
