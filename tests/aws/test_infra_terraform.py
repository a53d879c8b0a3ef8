"""infra/ run by Terraform itself, offline, against the moto server: every workspace passes
`terraform validate`; the small workspaces and medium/workflow are applied (through the guide's
`npm run tf:apply -- --var WS=... ENV=...` for the KV store) and the SDK, never provisioning, works
on what they created, whose tables match the ones `MeshClient.provision()` creates; and
`npm run tf:plan` without Terraform says how to install it.

Terraform needs the hashicorp/aws provider, which it downloads from registry.terraform.io; these
machines cannot reach it, but carry Terraform and a filesystem mirror of the provider
(/opt/tf-plugins; AGENT_MESH_TF_MIRROR names another). Where either is missing the Terraform tests
are skipped with that reason (the static checks of test_infra_hcl.py and test_infra_matches_code.py
run everywhere); the npm test needs only Node."""

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from agent_mesh import MeshClient

ROOT = Path(__file__).resolve().parents[2]
ENDPOINT = os.environ.get("AGENT_MESH_TEST_AWS_ENDPOINT", "")
TERRAFORM = shutil.which("terraform") or shutil.which("tofu")
MIRROR = Path(os.environ.get("AGENT_MESH_TF_MIRROR", "/opt/tf-plugins"))
HAVE_TERRAFORM = bool(TERRAFORM) and (MIRROR / "registry.terraform.io/hashicorp/aws").is_dir() and bool(ENDPOINT)
needs_terraform = pytest.mark.skipif(
    not HAVE_TERRAFORM,
    reason=f"Terraform ({TERRAFORM or 'not on PATH'}), its aws provider mirror ({MIRROR}) and a moto server "
           f"({ENDPOINT or 'AGENT_MESH_TEST_AWS_ENDPOINT unset'}) are all needed")
WORKSPACES = sorted(p.parent.relative_to(ROOT / "infra/workspaces").as_posix()
                    for p in (ROOT / "infra/workspaces").rglob("main.tf"))
# Points the workspace's provider at moto: Terraform merges *_override.tf files into the
# configuration, so the workspace itself is applied unchanged.
OVERRIDE = """provider "aws" {
  region                      = var.region
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {
    dynamodb       = "ENDPOINT"
    s3             = "ENDPOINT"
    sts            = "ENDPOINT"
    iam            = "ENDPOINT"
    eventbridge    = "ENDPOINT"
    sqs            = "ENDPOINT"
    sfn            = "ENDPOINT"
    ecs            = "ENDPOINT"
    sns            = "ENDPOINT"
    cloudwatch     = "ENDPOINT"
    cloudwatchlogs = "ENDPOINT"
  }
}
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A copy of infra/ and package.json whose workspaces talk to moto, and the Terraform CLI
    configuration that installs the provider from the mirror."""
    root = tmp_path_factory.mktemp("repo")
    shutil.copytree(ROOT / "infra", root / "infra", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    shutil.copy(ROOT / "package.json", root / "package.json")
    for workspace in WORKSPACES:
        (root / "infra/workspaces" / workspace / "provider_override.tf").write_text(OVERRIDE.replace("ENDPOINT", ENDPOINT))
    # The cache makes every init after the first link the provider instead of copying it.
    (root / "cache").mkdir()
    (root / "tf.rc").write_text('plugin_cache_dir = "%s"\nprovider_installation {\n  filesystem_mirror {\n'
                                '    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n'
                                % (root / "cache", MIRROR))
    return root


def terraform(repo: Path, workspace: str, *args: str) -> str:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(repo / "tf.rc"), "TF_IN_AUTOMATION": "1"}
    out = subprocess.run([TERRAFORM, f"-chdir={repo / 'infra/workspaces' / workspace}", *args, "-no-color"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, f"terraform {' '.join(args)} in {workspace}:\n{out.stdout}\n{out.stderr}"
    return out.stdout


@needs_terraform
@pytest.mark.parametrize("workspace", WORKSPACES)
def test_every_workspace_passes_terraform_validate(repo: Path, workspace: str) -> None:
    terraform(repo, workspace, "init", "-input=false", "-backend=false")
    assert "The configuration is valid" in terraform(repo, workspace, "validate")


def key_schema(table: dict) -> dict:
    """What the SDK relies on in a table's description."""
    return {
        "keys": sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]),
        "indexes": sorted((i["IndexName"], tuple(sorted((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"])),
                           i["Projection"]["ProjectionType"]) for i in table.get("GlobalSecondaryIndexes", [])),
    }


@needs_terraform
def test_the_sdk_works_on_what_the_small_workspaces_create(repo: Path) -> None:
    env = f"tf{uuid.uuid4().hex[:8]}"
    # The guide's command, with the real Terraform (its environment: the mirror).
    npm = subprocess.run(["npm", "run", "tf:apply", "--", "--var", "WS=small/kv_store", f"ENV={env}", "-auto-approve"],
                         cwd=repo, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TF_CLI_CONFIG_FILE": str(repo / "tf.rc"), "TF_BINARY": TERRAFORM})
    assert npm.returncode == 0, npm.stdout + npm.stderr
    assert f'AGENT_MESH_KV_TABLE = "agent-mesh-{env}-kv"' in npm.stdout, npm.stdout
    outputs = {}
    for workspace in ("small/artifacts_bucket", "small/event_bus", "small/timeline_store", "medium/workflow"):
        terraform(repo, workspace, "init", "-input=false")
        terraform(repo, workspace, "apply", "-auto-approve", "-input=false", "-var", f"env={env}")
        outputs.update({k: v["value"] for k, v in json.loads(terraform(repo, workspace, "output", "-json")).items()})
    assert outputs["AGENT_MESH_ARTIFACTS_BUCKET"] == f"agent-mesh-{env}-artifacts"
    assert outputs["AGENT_MESH_EVENT_BUS"] == f"agent-mesh-{env}"
    assert outputs["AGENT_MESH_TIMELINE_TABLE"] == f"agent-mesh-{env}-timeline"
    assert outputs["AGENT_MESH_WORKFLOW_ROLE_ARN"].endswith(f":role/agent-mesh-{env}-workflows")

    # The tables Terraform made have the keys, attributes, index and TTL provisioning makes.
    reference = f"ref{uuid.uuid4().hex[:6]}-"
    MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={reference}&env={env}").provision()
    ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1")
    for table in ("kv", "timeline"):
        ours = ddb.describe_table(TableName=f"agent-mesh-{env}-{table}")["Table"]
        theirs = ddb.describe_table(TableName=f"{reference}agent-mesh-{env}-{table}")["Table"]
        assert key_schema(ours) == key_schema(theirs), table
        ttl = {t: ddb.describe_time_to_live(TableName=n)["TimeToLiveDescription"].get("AttributeName")
               for t, n in (("ours", ours["TableName"]), ("theirs", theirs["TableName"]))}
        assert ttl["ours"] == ttl["theirs"], (table, ttl)
    assert ddb.describe_time_to_live(TableName=f"agent-mesh-{env}-kv")["TimeToLiveDescription"]["AttributeName"] == "expires_at"

    # The SDK, never provisioning, uses all of it.
    mesh = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&env={env}")
    mesh.kv.set("user:john:preferences", {"timezone": "PST"}, ttl_hours=720)
    mesh.kv.set("user:john:transcript", {"text": "t" * 600_000})
    assert [i.key for i in mesh.kv.list("user:john:").items] == ["user:john:preferences", "user:john:transcript"]
    assert mesh.kv.get("user:john:transcript").value == {"text": "t" * 600_000}
    mesh.artifacts.put("conversations/2024/resume.pdf", b"%PDF-1.4", content_type="application/pdf")
    assert mesh.artifacts.get("conversations/2024/resume.pdf").data == b"%PDF-1.4"
    with mesh.events.subscribe({"detail-type": ["OrderCreated"]}) as orders:
        mesh.events.send("OrderCreated", {"id": 1}, source="shop")
        received = orders.next(timeout=30)
        assert received is not None and received.detail == {"id": 1}
    mesh.timeline.append("orders/1", {"status": "created"})
    assert [e.data for e in mesh.timeline.get("orders/1").items] == [{"status": "created"}]


def test_npm_tf_plan_without_terraform_says_how_to_install_it(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("node", "npm", "sh"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    out = subprocess.run(["npm", "run", "tf:plan", "--", "--var", "WS=small/kv_store", "ENV=personal"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": str(bin_dir), "HOME": str(tmp_path)})
    assert out.returncode != 0
    assert "neither terraform nor tofu is on PATH: install Terraform" in out.stderr, out.stderr


def test_npm_tf_commands_run_terraform_in_the_workspace_with_the_environment(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    fake = tmp_path / "terraform"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(0o755)
    env = {**os.environ, "TF_BINARY": str(fake)}
    for script in ("tf:plan", "tf:apply", "tf:destroy"):
        out = subprocess.run(["npm", "run", script, "--", "--var", "WS=medium/workflow", "ENV=production", "REGION=eu-west-1"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode == 0, out.stderr
    chdir = f"-chdir={ROOT / 'infra/workspaces/medium/workflow'}"
    lines = calls.read_text().splitlines()
    for command in ("plan", "apply", "destroy"):
        assert f"{chdir} init -input=false" in lines
        assert f"{chdir} workspace select -or-create production" in lines
        assert f"{chdir} {command} -input=false -var env=production -var region=eu-west-1" in lines, lines
    for args, problem in ((["WS=small/nope", "ENV=x"], "no workspace 'small/nope'"),
                          (["WS=small/kv_store"], "ENV is missing"),
                          (["WS=small/kv_store", "ENV=Bad_Name"], "lowercase"),
                          (["ENV=x"], "WS is missing")):
        out = subprocess.run(["npm", "run", "tf:plan", "--", "--var", *args], cwd=ROOT, capture_output=True,
                             text=True, timeout=120, env=env)
        assert out.returncode != 0 and problem in out.stderr, (args, out.stderr)
