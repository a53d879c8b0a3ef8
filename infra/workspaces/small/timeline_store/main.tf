# Small workspace: the timeline table (DynamoDB on demand).
# Applied with `npm run tf:apply -- --var WS=small/timeline_store ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

module "timeline_store" {
  source = "../../../modules/timeline_store"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_TIMELINE_TABLE" {
  value = module.timeline_store.name
}
