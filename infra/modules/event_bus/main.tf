# The event bus: events are sent to it; subscriptions put their rules on it and create their
# SQS queues at run time (<prefix>agent-mesh-<env>-sub-<name>).

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

resource "aws_cloudwatch_event_bus" "events" {
  name = module.names.event_bus
}

output "name" {
  value = aws_cloudwatch_event_bus.events.name
}

output "arn" {
  value = aws_cloudwatch_event_bus.events.arn
}
