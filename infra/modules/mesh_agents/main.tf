# Activity workers in AWS: an ECS Fargate service whose tasks run the container image of
# infra/images/mesh-agent (a Python worker that serves the environment's Step Functions
# activities with your handlers: `mesh.workflows.worker(activity, handler)`), so that a
# workflow's Task states with `arn:aws:states:...:activity:<prefix>agent-mesh-<env>-<name>` run
# in AWS. The task role carries the client policy of modules/client_policy.

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

variable "image" {
  description = "The worker image (built from infra/images/mesh-agent with your handlers), e.g. <account>.dkr.ecr.<region>.amazonaws.com/mesh-agent:1."
  type        = string
}

variable "activities" {
  description = "Activity names the workers serve (without the environment's prefix); each must have a handler in the image's handlers.py."
  type        = list(string)
}

variable "subnet_ids" {
  description = "Subnets the tasks run in (with a route to the AWS APIs: a NAT gateway or VPC endpoints)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks (outbound HTTPS is all they need)."
  type        = list(string)
}

variable "assign_public_ip" {
  type    = bool
  default = false
}

variable "desired_count" {
  type    = number
  default = 1
}

variable "cpu" {
  description = "Fargate CPU units of a task (256 = 0.25 vCPU)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Fargate memory of a task, MiB."
  type        = number
  default     = 512
}

variable "log_retention_days" {
  type    = number
  default = 30
}

module "names" {
  source = "../names"
  env    = var.env
  prefix = var.prefix
}

module "client_policy" {
  source = "../client_policy"
  env    = var.env
  prefix = var.prefix
}

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  service = "${module.names.state_machines}agents"
  url     = "aws://?region=${data.aws_region.current.name}&env=${var.env}${var.prefix == "" ? "" : "&prefix=${var.prefix}"}"
}

resource "aws_ecs_cluster" "agents" {
  name = local.service
}

resource "aws_cloudwatch_log_group" "agents" {
  name              = "/agent-mesh/${local.service}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Pulls the image and writes the logs.
resource "aws_iam_role" "execution" {
  name               = "${local.service}-execution"
  assume_role_policy = data.aws_iam_policy_document.tasks_trust.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# What the worker does: an agent-mesh client of the environment.
resource "aws_iam_role" "task" {
  name               = "${local.service}-task"
  assume_role_policy = data.aws_iam_policy_document.tasks_trust.json
}

resource "aws_iam_role_policy" "task" {
  name   = "agent-mesh-client"
  role   = aws_iam_role.task.id
  policy = module.client_policy.json
}

resource "aws_ecs_task_definition" "agents" {
  family                   = local.service
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions = jsonencode([{
    name      = "mesh-agent"
    image     = var.image
    essential = true
    environment = [
      { name = "AGENT_MESH_URL", value = local.url },
      { name = "AGENT_MESH_ACTIVITIES", value = join(",", var.activities) },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.agents.name
        "awslogs-region"        = data.aws_region.current.name
        "awslogs-stream-prefix" = "mesh-agent"
      }
    }
  }])
}

resource "aws_ecs_service" "agents" {
  name            = local.service
  cluster         = aws_ecs_cluster.agents.id
  task_definition = aws_ecs_task_definition.agents.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.assign_public_ip
  }
}

output "url" {
  description = "AGENT_MESH_URL of the workers."
  value       = local.url
}

output "cluster" {
  value = aws_ecs_cluster.agents.name
}

output "service" {
  value = aws_ecs_service.agents.name
}
