# The AWS resources of one agent-mesh environment: the KV table and the artifacts bucket.
# Names and schema match what MeshClient.provision() creates (core/src/aws/); a test
# (tests/aws/test_infra_matches_code.py) checks that they agree.

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

variable "artifact_noncurrent_days" {
  description = "Days to keep replaced artifact versions when versioning is on (0 = versioning off)."
  type        = number
  default     = 0
}

locals {
  kv_table         = "${var.prefix}agent-mesh-${var.env}-kv"
  artifacts_bucket = "${var.prefix}agent-mesh-${var.env}-artifacts"
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

  # Prefix listing: Query kv_shard = "kv" AND begins_with(key, prefix).
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

output "kv_table" {
  description = "AGENT_MESH_KV_TABLE"
  value       = aws_dynamodb_table.kv.name
}

output "artifacts_bucket" {
  description = "AGENT_MESH_ARTIFACTS_BUCKET"
  value       = aws_s3_bucket.artifacts.bucket
}
