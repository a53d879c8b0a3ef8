# The timeline: one item per (index path, entry). path = "P#" + a "/"-terminated prefix of the
# stream (or "P#" alone), id = the entry's ULID; a page is one Query on one path.

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
  type    = string
  default = "PAY_PER_REQUEST"
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

resource "aws_dynamodb_table" "timeline" {
  name                        = module.names.timeline_table
  billing_mode                = var.billing_mode
  hash_key                    = "path"
  range_key                   = "id"
  read_capacity               = local.provisioned ? var.read_capacity : null
  write_capacity              = local.provisioned ? var.write_capacity : null
  deletion_protection_enabled = var.deletion_protection

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

output "name" {
  value = aws_dynamodb_table.timeline.name
}

output "arn" {
  value = aws_dynamodb_table.timeline.arn
}
