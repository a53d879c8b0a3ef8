# Small workspace: the EventBridge bus (subscriptions make their rules and queues at run time).
# Applied with `npm run tf:apply -- --var WS=small/event_bus ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

module "event_bus" {
  source = "../../../modules/event_bus"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_EVENT_BUS" {
  value = module.event_bus.name
}
