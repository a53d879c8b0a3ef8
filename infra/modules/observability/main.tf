# Alarms and a dashboard for one environment: DynamoDB throttling on the KV and timeline tables,
# failed and throttled Step Functions executions, the depth and age of subscription queues, and
# events EventBridge could not deliver to them (the dead letters: agent-mesh's subscription rules
# have no DLQ, so FailedInvocations counts what was dropped). Subscriptions and state machines
# are created at run time, so their alarms are for the names listed in the variables; the
# dashboard finds all of them with SEARCH.

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

variable "state_machines" {
  description = "State machine names (as passed to workflows.create) to alarm on failed executions."
  type        = list(string)
  default     = []
}

variable "subscriptions" {
  description = "Durable subscription names (as passed to events.subscribe(name=...)) to alarm on queue depth and age."
  type        = list(string)
  default     = []
}

variable "queue_depth_threshold" {
  description = "Messages waiting in a subscription queue before its alarm fires."
  type        = number
  default     = 1000
}

variable "queue_age_threshold_seconds" {
  description = "Age of the oldest message of a subscription queue before its alarm fires."
  type        = number
  default     = 900
}

variable "alarm_email" {
  description = "An address the alarm topic mails (confirm the subscription AWS sends); empty: no mail."
  type        = string
  default     = ""
}

module "names" {
  source = "../names"
  env    = var.env
  prefix = var.prefix
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  alarm_prefix = module.names.state_machines
  arn_tail     = "${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  tables       = { kv = module.names.kv_table, timeline = module.names.timeline_table }
  throttles = {
    for pair in setproduct(keys(local.tables), ["ReadThrottleEvents", "WriteThrottleEvents"]) :
    "${pair[0]}-${pair[1]}" => { table = local.tables[pair[0]], metric = pair[1] }
  }
  queues = { for name in var.subscriptions : name => "${module.names.subscriptions}${name}" }
}

resource "aws_sns_topic" "alarms" {
  name = "${local.alarm_prefix}alarms"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each            = local.throttles
  alarm_name          = "${local.alarm_prefix}${each.key}"
  alarm_description   = "DynamoDB throttled requests on ${each.value.table} (agent-mesh retries them, with backoff)."
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value.metric
  dimensions          = { TableName = each.value.table }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "failed_executions" {
  for_each            = toset(var.state_machines)
  alarm_name          = "${local.alarm_prefix}${each.key}-failed"
  alarm_description   = "Failed executions of ${module.names.state_machines}${each.key} (ExecutionsFailed; timed-out and aborted ones are counted apart)."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = "arn:${data.aws_partition.current.partition}:states:${local.arn_tail}:stateMachine:${module.names.state_machines}${each.key}" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# Per listed subscription: events waiting (a consumer stopped or falls behind), and the age of
# the oldest (SQS drops an event after 4 days).
resource "aws_cloudwatch_metric_alarm" "queues" {
  for_each = {
    for pair in setproduct(keys(local.queues), ["depth", "age"]) : "${pair[0]}-${pair[1]}" => {
      subscription = pair[0]
      queue        = local.queues[pair[0]]
      metric       = pair[1] == "depth" ? "ApproximateNumberOfMessagesVisible" : "ApproximateAgeOfOldestMessage"
      threshold    = pair[1] == "depth" ? var.queue_depth_threshold : var.queue_age_threshold_seconds
    }
  }
  alarm_name          = "${local.alarm_prefix}sub-${each.key}"
  alarm_description   = "${each.value.metric} of subscription ${each.value.subscription}."
  namespace           = "AWS/SQS"
  metric_name         = each.value.metric
  dimensions          = { QueueName = each.value.queue }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# Events the bus could not deliver to a subscription's queue, over every rule of the bus
# (a Metrics Insights query: rules are created at run time).
resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${local.alarm_prefix}dead-letters"
  alarm_description   = "Events on ${module.names.event_bus} that EventBridge could not deliver to a subscription queue."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "failed"
    expression  = "SELECT SUM(FailedInvocations) FROM SCHEMA(\"AWS/Events\", EventBusName, RuleName) WHERE EventBusName = '${module.names.event_bus}'"
    period      = 300
    return_data = true
  }
}

resource "aws_cloudwatch_dashboard" "mesh" {
  dashboard_name = module.names.event_bus
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "DynamoDB throttled requests"
          region = data.aws_region.current.name
          stat   = "Sum"
          period = 300
          metrics = flatten([for table in values(local.tables) : [
            ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", table],
            ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", table],
          ]])
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Failed executions (every state machine of the environment)"
          region = data.aws_region.current.name
          period = 300
          metrics = [[{ expression = "SEARCH('{AWS/States,StateMachineArn} MetricName=\"ExecutionsFailed\" \"stateMachine:${module.names.state_machines}\"', 'Sum', 300)", id = "failed" }]]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Subscription queue depth"
          region = data.aws_region.current.name
          period = 300
          metrics = [[{ expression = "SEARCH('{AWS/SQS,QueueName} MetricName=\"ApproximateNumberOfMessagesVisible\" ${module.names.subscriptions}', 'Maximum', 300)", id = "depth" }]]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Events not delivered (dead letters)"
          region = data.aws_region.current.name
          period = 300
          metrics = [[{ expression = "SEARCH('{AWS/Events,EventBusName,RuleName} MetricName=\"FailedInvocations\" EventBusName=\"${module.names.event_bus}\"', 'Sum', 300)", id = "dead" }]]
        }
      },
    ]
  })
}

output "dashboard" {
  value = aws_cloudwatch_dashboard.mesh.dashboard_name
}

output "alarm_topic_arn" {
  description = "The SNS topic every alarm notifies; subscribe your paging to it."
  value       = aws_sns_topic.alarms.arn
}
