"""The Terraform in infra/ and the AWS backend in core/src/aws/ agree on names and schema."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE = (ROOT / "infra/modules/agent-mesh/main.tf").read_text()
KV = (ROOT / "core/src/aws/kv.rs").read_text()
AWS = (ROOT / "core/src/aws/mod.rs").read_text()


def test_resource_names_match() -> None:
    assert 'kv_table         = "${var.prefix}agent-mesh-${var.env}-kv"' in MODULE
    assert 'artifacts_bucket = "${var.prefix}agent-mesh-${var.env}-artifacts"' in MODULE
    assert 'format!("{prefix}agent-mesh-{env}-kv")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}-artifacts")' in AWS


def test_table_schema_matches() -> None:
    assert 'hash_key       = "key"' in MODULE
    index = re.search(r'pub\(crate\) const INDEX: &str = "([^"]+)"', KV).group(1)
    assert f'name            = "{index}"' in MODULE
    assert 'hash_key        = "kv_shard"' in MODULE and 'range_key       = "key"' in MODULE
    assert 'projection_type = "ALL"' in MODULE and "ProjectionType::All" in KV
    assert re.search(r'ttl \{\s*attribute_name = "expires_at"\s*enabled\s*= true', MODULE)
    assert '.attribute_name("expires_at")' in KV
    for attribute in ("key", "kv_shard"):
        assert re.search(r'attribute \{\s*name = "%s"\s*type = "S"' % attribute, MODULE), attribute


def test_every_workspace_uses_the_module() -> None:
    for size in ("small", "medium", "large"):
        text = (ROOT / f"infra/workspaces/{size}/main.tf").read_text()
        assert 'source = "../../modules/agent-mesh"' in text, size
