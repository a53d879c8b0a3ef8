# Small workspace: the artifacts bucket (S3; also the bodies of KV values over 400 KB).
# Applied with `npm run tf:apply -- --var WS=small/artifacts_bucket ENV=<env>` (see infra/README.md), or
# `terraform init && terraform apply -var env=<env>` in this folder. The variables `env`,
# `prefix` and `region`, the provider and the output AGENT_MESH_ENV are in common.tf, a link to
# infra/workspaces/common.tf that every workspace shares.

module "artifacts_bucket" {
  source = "../../../modules/artifacts_bucket"
  env    = var.env
  prefix = var.prefix
}

output "AGENT_MESH_ARTIFACTS_BUCKET" {
  value = module.artifacts_bucket.name
}
