# The artifacts bucket: public access blocked, abandoned multipart uploads aborted after a day,
# optionally versioned. It also holds the bodies of KV values over 400 KB
# (`.agent-mesh/kv-values/`), which agent-mesh collects itself.

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

variable "noncurrent_days" {
  description = "Days to keep replaced artifact versions when versioning is on (0 = versioning off)."
  type        = number
  default     = 0
}

module "names" {
  source = "../names"
  env    = var.env
  prefix = var.prefix
}

resource "aws_s3_bucket" "artifacts" {
  bucket = module.names.artifacts_bucket
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  count  = var.noncurrent_days > 0 ? 1 : 0
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
    for_each = var.noncurrent_days > 0 ? [1] : []
    content {
      id     = "expire-replaced-versions"
      status = "Enabled"
      filter {}
      noncurrent_version_expiration {
        noncurrent_days = var.noncurrent_days
      }
    }
  }
}

output "name" {
  value = aws_s3_bucket.artifacts.bucket
}

output "arn" {
  value = aws_s3_bucket.artifacts.arn
}
