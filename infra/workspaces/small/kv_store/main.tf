# Small workspace: the KV table (DynamoDB on demand, TTL, the listing index).
# Applied with `npm run tf:apply -- --var WS=small/kv_store ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

module "kv_store" {
  source = "../../../modules/kv_store"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_KV_TABLE" {
  value = module.kv_store.name
}
