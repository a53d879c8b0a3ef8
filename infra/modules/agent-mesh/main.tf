# Every AWS resource of one agent-mesh environment, from the per-domain modules: the KV table,
# the artifacts bucket, the timeline table, the event bus, the workflows' role and the clients'
# policy. Names and schema match what MeshClient.provision() creates (core/src/aws/); a test
# (tests/aws/test_infra_matches_code.py) checks that they agree. The per-domain workspaces
# (infra/workspaces/small/*, medium/*) apply the same modules one at a time; workspaces/large
# applies this one.

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

variable "deletion_protection" {
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

module "kv_store" {
  source                 = "../kv_store"
  env                    = var.env
  prefix                 = var.prefix
  billing_mode           = var.billing_mode
  read_capacity          = var.read_capacity
  write_capacity         = var.write_capacity
  point_in_time_recovery = var.point_in_time_recovery
  deletion_protection    = var.deletion_protection
}

module "artifacts_bucket" {
  source          = "../artifacts_bucket"
  env             = var.env
  prefix          = var.prefix
  noncurrent_days = var.artifact_noncurrent_days
}

module "timeline_store" {
  source                 = "../timeline_store"
  env                    = var.env
  prefix                 = var.prefix
  billing_mode           = var.billing_mode
  read_capacity          = var.read_capacity
  write_capacity         = var.write_capacity
  point_in_time_recovery = var.point_in_time_recovery
  deletion_protection    = var.deletion_protection
}

module "event_bus" {
  source = "../event_bus"
  env    = var.env
  prefix = var.prefix
}

module "workflow" {
  source      = "../workflow"
  env         = var.env
  prefix      = var.prefix
  lambda_arns = var.workflow_lambda_arns
}

# Where the resources were before the per-domain modules: an existing state moves, not replaces.
moved {
  from = aws_dynamodb_table.kv
  to   = module.kv_store.aws_dynamodb_table.kv
}

moved {
  from = aws_s3_bucket.artifacts
  to   = module.artifacts_bucket.aws_s3_bucket.artifacts
}

moved {
  from = aws_s3_bucket_public_access_block.artifacts
  to   = module.artifacts_bucket.aws_s3_bucket_public_access_block.artifacts
}

moved {
  from = aws_s3_bucket_versioning.artifacts
  to   = module.artifacts_bucket.aws_s3_bucket_versioning.artifacts
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.artifacts
  to   = module.artifacts_bucket.aws_s3_bucket_lifecycle_configuration.artifacts
}

moved {
  from = aws_dynamodb_table.timeline
  to   = module.timeline_store.aws_dynamodb_table.timeline
}

moved {
  from = aws_cloudwatch_event_bus.events
  to   = module.event_bus.aws_cloudwatch_event_bus.events
}

moved {
  from = aws_iam_role.workflows
  to   = module.workflow.aws_iam_role.workflows
}

moved {
  from = aws_iam_role_policy.workflows
  to   = module.workflow.aws_iam_role_policy.workflows
}

module "client_policy" {
  source = "../client_policy"
  env    = var.env
  prefix = var.prefix
}

output "workflow_role_arn" {
  description = "AGENT_MESH_WORKFLOW_ROLE_ARN"
  value       = module.workflow.role_arn
}

output "kv_table" {
  description = "AGENT_MESH_KV_TABLE"
  value       = module.kv_store.name
}

output "artifacts_bucket" {
  description = "AGENT_MESH_ARTIFACTS_BUCKET"
  value       = module.artifacts_bucket.name
}

output "timeline_table" {
  description = "AGENT_MESH_TIMELINE_TABLE"
  value       = module.timeline_store.name
}

output "event_bus" {
  description = "AGENT_MESH_EVENT_BUS"
  value       = module.event_bus.name
}

output "client_policy_json" {
  description = "An IAM policy (JSON) with what agent-mesh clients of this environment need; attach it to their role."
  value       = module.client_policy.json
}
