# The AWS resources of one agent-mesh environment: the KV table, the artifacts bucket, the
# timeline table and the event bus. Names and schema match what MeshClient.provision() creates
# (core/src/aws/); a test (tests/aws/test_infra_matches_code.py) checks that they agree.
# Subscriptions create their own SQS queue and EventBridge rule at run time, named
# <prefix>agent-mesh-<env>-sub-<name>; the client_policy_json output grants what that needs.
# Workflows: `workflows.create` makes Step Functions state machines named
# <prefix>agent-mesh-<env>-<name>, run with the role <prefix>agent-mesh-<env>-workflows below.

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
  description = "Environment name used in resource names (agent-mesh-<env>-kv, ...); AGENT_MESH_ENV for the SDK."
  type        = string
}

variable "prefix" {
  description = "Optional prefix for every resource name; the SDK's aws://?prefix= option."
  type        = string
  default     = ""
}

variable "billing_mode" {
  description = "DynamoDB billing mode: PAY_PER_REQUEST, or PROVISIONED with the capacities below."
  type        = string
  default     = "PAY_PER_REQUEST"
}

variable "read_capacity" {
  type    = number
  default = 0
}

variable "write_capacity" {
  type    = number
  default = 0
}

variable "point_in_time_recovery" {
  type    = bool
  default = false
}

variable "workflow_lambda_arns" {
  description = "Lambda functions the state machines may invoke (arn:aws:states:::lambda:invoke)."
  type        = list(string)
  default     = []
}

variable "artifact_noncurrent_days" {
  description = "Days to keep replaced artifact versions when versioning is on (0 = versioning off)."
  type        = number
  default     = 0
}

locals {
  kv_table         = "${var.prefix}agent-mesh-${var.env}-kv"
  artifacts_bucket = "${var.prefix}agent-mesh-${var.env}-artifacts"
  timeline_table   = "${var.prefix}agent-mesh-${var.env}-timeline"
  event_bus        = "${var.prefix}agent-mesh-${var.env}"
  subscriptions    = "${var.prefix}agent-mesh-${var.env}-sub-"
  state_machines   = "${var.prefix}agent-mesh-${var.env}-"
  workflow_role    = "${var.prefix}agent-mesh-${var.env}-workflows"
  provisioned      = var.billing_mode == "PROVISIONED"
}

resource "aws_dynamodb_table" "kv" {
  name           = local.kv_table
  billing_mode   = var.billing_mode
  hash_key       = "key"
  read_capacity  = local.provisioned ? var.read_capacity : null
  write_capacity = local.provisioned ? var.write_capacity : null

  attribute {
    name = "key"
    type = "S"
  }

  attribute {
    name = "kv_shard"
    type = "S"
  }

  # Prefix listing: Query kv_shard = "kv" (a tenant's keys: kv_shard = "tenants/<tenant>/")
  # AND begins_with(key, prefix).
  global_secondary_index {
    name            = "kv-by-key"
    hash_key        = "kv_shard"
    range_key       = "key"
    projection_type = "ALL"
    read_capacity   = local.provisioned ? var.read_capacity : null
    write_capacity  = local.provisioned ? var.write_capacity : null
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }
}

resource "aws_s3_bucket" "artifacts" {
  bucket = local.artifacts_bucket
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  count  = var.artifact_noncurrent_days > 0 ? 1 : 0
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  # Multipart uploads abandoned by a crashed client (agent-mesh aborts the ones it can).
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  dynamic "rule" {
    for_each = var.artifact_noncurrent_days > 0 ? [1] : []
    content {
      id     = "expire-replaced-versions"
      status = "Enabled"
      filter {}
      noncurrent_version_expiration {
        noncurrent_days = var.artifact_noncurrent_days
      }
    }
  }
}

# The timeline: one item per (index path, entry). path = "P#" + a "/"-terminated prefix of the
# stream (or "P#" alone), id = the entry's ULID; a page is one Query on one path.
resource "aws_dynamodb_table" "timeline" {
  name           = local.timeline_table
  billing_mode   = var.billing_mode
  hash_key       = "path"
  range_key      = "id"
  read_capacity  = local.provisioned ? var.read_capacity : null
  write_capacity = local.provisioned ? var.write_capacity : null

  attribute {
    name = "path"
    type = "S"
  }

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }
}

# Events are sent to this bus; subscriptions put their rules on it.
resource "aws_cloudwatch_event_bus" "events" {
  name = local.event_bus
}

data "aws_caller_identity" "current" {}

# The role Step Functions runs the state machines with: the mesh integrations (DynamoDB on the
# KV table, S3 on the artifacts bucket, events:putEvents on the bus) and the listed Lambdas.
data "aws_iam_policy_document" "workflows_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workflows" {
  name               = local.workflow_role
  assume_role_policy = data.aws_iam_policy_document.workflows_trust.json
}

data "aws_iam_policy_document" "workflows" {
  statement {
    sid       = "KvIntegration"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.kv.arn]
  }

  statement {
    sid       = "ArtifactsIntegration"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${aws_s3_bucket.artifacts.arn}/*"]
  }

  statement {
    sid       = "EventsIntegration"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.events.arn]
  }

  dynamic "statement" {
    for_each = length(var.workflow_lambda_arns) > 0 ? [1] : []
    content {
      sid       = "Lambdas"
      actions   = ["lambda:InvokeFunction"]
      resources = var.workflow_lambda_arns
    }
  }
}

resource "aws_iam_role_policy" "workflows" {
  name   = "agent-mesh-integrations"
  role   = aws_iam_role.workflows.id
  policy = data.aws_iam_policy_document.workflows.json
}
data "aws_region" "current" {}
data "aws_partition" "current" {}

# What an agent-mesh client needs on these resources, including the subscriptions' rules and
# queues it creates and deletes at run time.
data "aws_iam_policy_document" "client" {
  statement {
    sid = "KvAndTimeline"
    actions = [
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
      "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query",
      "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
    ]
    resources = [
      aws_dynamodb_table.kv.arn, "${aws_dynamodb_table.kv.arn}/index/*",
      aws_dynamodb_table.timeline.arn,
    ]
  }

  statement {
    sid       = "Artifacts"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.artifacts.arn}/*"]
  }

  statement {
    sid       = "ArtifactListing"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.artifacts.arn]
  }

  statement {
    sid       = "Events"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.events.arn]
  }

  statement {
    sid     = "SubscriptionRules"
    actions = ["events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:DeleteRule"]
    resources = [
      "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:rule/${local.event_bus}/${local.subscriptions}*",
    ]
  }

  statement {
    sid = "Workflows"
    actions = [
      "states:CreateStateMachine", "states:UpdateStateMachine", "states:StartExecution",
      "states:ListExecutions",
    ]
    resources = [
      "arn:${data.aws_partition.current.partition}:states:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:stateMachine:${local.state_machines}*",
    ]
  }

  statement {
    sid     = "WorkflowExecutions"
    actions = ["states:DescribeExecution", "states:GetExecutionHistory", "states:StopExecution"]
    resources = [
      "arn:${data.aws_partition.current.partition}:states:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:execution:${local.state_machines}*",
    ]
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
    resources = [aws_iam_role.workflows.arn]
  }

  statement {
    sid = "SubscriptionQueues"
    actions = [
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
      "sqs:SetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
    ]
    resources = [
      "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${local.subscriptions}*",
    ]
  }
}

output "workflow_role_arn" {
  description = "AGENT_MESH_WORKFLOW_ROLE_ARN"
  value       = aws_iam_role.workflows.arn
}

output "kv_table" {
  description = "AGENT_MESH_KV_TABLE"
  value       = aws_dynamodb_table.kv.name
}

output "artifacts_bucket" {
  description = "AGENT_MESH_ARTIFACTS_BUCKET"
  value       = aws_s3_bucket.artifacts.bucket
}

output "timeline_table" {
  description = "AGENT_MESH_TIMELINE_TABLE"
  value       = aws_dynamodb_table.timeline.name
}

output "event_bus" {
  description = "AGENT_MESH_EVENT_BUS"
  value       = aws_cloudwatch_event_bus.events.name
}

output "client_policy_json" {
  description = "An IAM policy (JSON) with what agent-mesh clients of this environment need; attach it to their role."
  value       = data.aws_iam_policy_document.client.json
}
