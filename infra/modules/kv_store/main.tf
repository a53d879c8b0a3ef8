# The KV table: hash key `key`, the listing index `kv-by-key` (kv_shard + key) and TTL on
# `expires_at`, as MeshClient.provision() creates it. Values over 400 KB live in the artifacts
# bucket (modules/artifacts_bucket) under `.agent-mesh/kv-values/`.

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

module "names" {
  source = "../names"
  env    = var.env
  prefix = var.prefix
}

locals {
  provisioned = var.billing_mode == "PROVISIONED"
}

resource "aws_dynamodb_table" "kv" {
  name                        = module.names.kv_table
  billing_mode                = var.billing_mode
  hash_key                    = "key"
  read_capacity               = local.provisioned ? var.read_capacity : null
  write_capacity              = local.provisioned ? var.write_capacity : null
  deletion_protection_enabled = var.deletion_protection

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

output "name" {
  value = aws_dynamodb_table.kv.name
}

output "arn" {
  value = aws_dynamodb_table.kv.arn
}
