"""The tenant policy: `scoped.iam_policy()` (the SDK) and infra/modules/tenant-agent (Terraform)
render the same template with the same values, and the rendered document, evaluated here with
IAM's rules for the statements it uses, lets a tenant's agent reach its own data and nothing of
another tenant's.

The evaluation covers Allow statements, action and ARN wildcards, and the condition operators
the document uses (StringLike, StringEquals, ForAllValues:StringLike/StringEquals). It does not
run AWS's own evaluator (moto does not enforce IAM by default) and does not cover service
control policies, permission boundaries or resource policies; the request contexts below are
the ones the AWS backend's calls make (core/src/aws/), listed by hand."""

import fnmatch
import json
import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from agent_mesh import MeshClient

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "infra/modules/tenant-agent/policy.json.tftpl").read_text()
MODULE = (ROOT / "infra/modules/tenant-agent/main.tf").read_text()
IAM_RS = (ROOT / "core/src/scope/iam.rs").read_text()


def placeholders() -> set:
    return set(re.findall(r"\$\{(\w+)\}", TEMPLATE))


def test_terraform_and_the_sdk_render_the_same_template_with_the_same_names() -> None:
    assert 'templatefile("${path.module}/policy.json.tftpl"' in MODULE
    assert 'include_str!("../../../infra/modules/tenant-agent/policy.json.tftpl")' in IAM_RS
    block = MODULE[MODULE.index("templatefile("):MODULE.index("})", MODULE.index("templatefile("))]
    terraform = set(re.findall(r"^\s+(\w+)\s+=", block, re.M))
    sdk = set(re.findall(r'\(\s*"(\w+)",', IAM_RS[IAM_RS.index("let values"):IAM_RS.index("let mut text")]))
    assert terraform == placeholders() == sdk, (terraform, sdk, placeholders())


def render(values: Dict[str, str]) -> dict:
    """The template rendered as Terraform's templatefile does for these placeholders."""
    text = TEMPLATE
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return json.loads(text)


def terraform_values(env: str, prefix: str, segments: List[str], region: str, account: str) -> Dict[str, str]:
    """The values main.tf's locals compute (its formulas, written out in Python)."""
    key_prefix = "tenants/" + "/".join(segments) + "/"
    tenant_root = f"tenants/{segments[0]}/"
    ancestors = ["P#tenants/" + "/".join(segments[:i]) + "/" for i in range(1, len(segments))]
    return {
        "partition": "aws", "region": region, "account": account,
        "kv_table": f"{prefix}agent-mesh-{env}-kv", "timeline_table": f"{prefix}agent-mesh-{env}-timeline",
        "bucket": f"{prefix}agent-mesh-{env}-artifacts", "bus": f"{prefix}agent-mesh-{env}",
        "subscriptions": f"{prefix}agent-mesh-{env}-sub-", "state_machines": f"{prefix}agent-mesh-{env}-",
        "workflow_role_arn": f"arn:aws:iam::{account}:role/{prefix}agent-mesh-{env}-workflows",
        "key_prefix": key_prefix, "tenant_root": tenant_root,
        "name_scope": ".".join(segments) + ".", "subscription_scope": "_".join(segments) + "_",
        "timeline_append_keys": json.dumps(ancestors + [f"P#{key_prefix}*", f"D#{tenant_root}*"]),
    }


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("AGENT_MESH_ENV", "prod")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    for name in ("AGENT_MESH_KV_TABLE", "AGENT_MESH_ARTIFACTS_BUCKET", "AGENT_MESH_TIMELINE_TABLE", "AGENT_MESH_EVENT_BUS", "AGENT_MESH_WORKFLOW_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("segments", [["acme"], ["acme", "bot-1"], ["acme", "bot-1", "s-9"]])
def test_the_sdk_document_is_the_terraform_document(env, segments) -> None:
    mesh = MeshClient("memory://")
    for s in segments:
        mesh = mesh.scope(s)
    assert mesh.iam_policy() == render(terraform_values("prod", "", segments, "eu-west-1", "*"))


# --- evaluation -------------------------------------------------------------------------------

def like(pattern: str, value: str) -> bool:
    """IAM's StringLike / ARN matching: * and ? wildcards, case-sensitive (the document has no
    '[', fnmatch's only other special character)."""
    assert "[" not in pattern, pattern
    return fnmatch.fnmatchcase(value, pattern)


def condition_holds(operator: str, key_values: Dict[str, list], context: Dict[str, List[str]]) -> bool:
    for key, allowed in key_values.items():
        allowed = allowed if isinstance(allowed, list) else [allowed]
        values = context.get(key)
        if values is None:
            # A missing key: ForAllValues holds vacuously (IAM's rule), other operators fail.
            if operator.startswith("ForAllValues:"):
                continue
            return False
        match = (lambda p, v: like(p, v)) if "StringLike" in operator else (lambda p, v: p == v)
        if operator.startswith("ForAllValues:"):
            if not all(any(match(p, v) for p in allowed) for v in values):
                return False
        elif not any(match(p, v) for p in allowed for v in values):
            return False
    return True


def allowed(policy: dict, action: str, resource: str, context: Optional[Dict[str, List[str]]] = None) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] != "Allow" or not any(like(a, action) for a in actions):
            continue
        if not any(like(r, resource) for r in resources):
            continue
        if all(condition_holds(op, kv, context or {}) for op, kv in statement.get("Condition", {}).items()):
            return True
    return False


ARN = "arn:aws:{service}:eu-west-1:123456789012:{resource}"


@pytest.fixture
def acme(env) -> dict:
    return MeshClient("memory://").scope("acme").iam_policy()


@pytest.fixture
def acme_bot(env) -> dict:
    return MeshClient("memory://").scope("acme").scope("bot-1").iam_policy()


def kv(policy: dict, action: str, *keys: str, index: bool = False) -> bool:
    table = "table/agent-mesh-prod-kv" + ("/index/kv-by-key" if index else "")
    return allowed(policy, action, ARN.format(service="dynamodb", resource=table), {"dynamodb:LeadingKeys": list(keys)})


def test_kv_items_and_listing(acme) -> None:
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"):
        assert kv(acme, action, "tenants/acme/x")
        for other in ("tenants/other/x", "tenants/acme2/x", "x", "tenants/", "tenants/acmE/x", "Tenants/acme/x"):
            assert not kv(acme, action, other), (action, other)
    assert kv(acme, "dynamodb:BatchGetItem", "tenants/acme/a", "tenants/acme/b")
    assert not kv(acme, "dynamodb:BatchGetItem", "tenants/acme/a", "tenants/other/b")
    assert kv(acme, "dynamodb:Query", "tenants/acme/", index=True)
    for shard in ("kv", "tenants/other/", "tenants/acme/x", "tenants/"):
        assert not kv(acme, "dynamodb:Query", shard, index=True), shard
    assert not kv(acme, "dynamodb:Scan", "tenants/acme/x")
    assert not kv(acme, "dynamodb:DeleteTable", "tenants/acme/x")


def timeline(policy: dict, action: str, *keys: str) -> bool:
    return allowed(policy, action, ARN.format(service="dynamodb", resource="table/agent-mesh-prod-timeline"), {"dynamodb:LeadingKeys": list(keys)})


def test_timeline(acme, acme_bot) -> None:
    assert timeline(acme, "dynamodb:PutItem", "P#tenants/acme/", "P#tenants/acme/logs/")
    assert timeline(acme, "dynamodb:PutItem", "D#tenants/acme/01J")
    assert timeline(acme, "dynamodb:Query", "P#tenants/acme/logs/")
    for other in ("P#", "P#tenants/", "P#tenants/other/", "D#01J", "D#tenants/other/01J"):
        assert not timeline(acme, "dynamodb:PutItem", other), other
        assert not timeline(acme, "dynamodb:Query", other), other
    # A nested scope appends under its tenant's root path, but reads only its own.
    assert timeline(acme_bot, "dynamodb:PutItem", "P#tenants/acme/", "P#tenants/acme/bot-1/")
    assert not timeline(acme_bot, "dynamodb:PutItem", "P#tenants/acme/bot-2/")
    assert not timeline(acme_bot, "dynamodb:Query", "P#tenants/acme/")
    assert not timeline(acme_bot, "dynamodb:Query", "P#tenants/acme/bot-2/")


def test_nested_scope_kv(acme_bot) -> None:
    assert kv(acme_bot, "dynamodb:GetItem", "tenants/acme/bot-1/k")
    assert not kv(acme_bot, "dynamodb:GetItem", "tenants/acme/bot-2/k")
    assert not kv(acme_bot, "dynamodb:GetItem", "tenants/acme/k")


def test_artifacts(acme) -> None:
    bucket = "arn:aws:s3:::agent-mesh-prod-artifacts"
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        assert allowed(acme, action, f"{bucket}/tenants/acme/report.pdf")
        for other in ("tenants/other/report.pdf", "tenants/acme2/r", "report.pdf", "tenants/acme"):
            assert not allowed(acme, action, f"{bucket}/{other}"), (action, other)
    assert allowed(acme, "s3:ListBucket", bucket, {"s3:prefix": ["tenants/acme/"]})
    assert allowed(acme, "s3:ListBucket", bucket, {"s3:prefix": ["tenants/acme/reports/"]})
    for prefix in ("", "tenants/", "tenants/other/", "tenants/acme"):
        assert not allowed(acme, "s3:ListBucket", bucket, {"s3:prefix": [prefix]}), prefix
    assert not allowed(acme, "s3:ListBucket", bucket, {})


def test_events_and_subscriptions(acme) -> None:
    bus = ARN.format(service="events", resource="event-bus/agent-mesh-prod")
    assert allowed(acme, "events:PutEvents", bus, {"events:source": ["tenants/acme/agent.x"]})
    for source in ("agent.x", "tenants/other/agent.x", "tenants/acme2/x"):
        assert not allowed(acme, "events:PutEvents", bus, {"events:source": [source]}), source
    assert not allowed(acme, "events:PutEvents", bus, {"events:source": ["tenants/acme/a", "other"]})
    rule = ARN.format(service="events", resource="rule/agent-mesh-prod/agent-mesh-prod-sub-acme_orders")
    assert allowed(acme, "events:PutRule", rule)
    assert not allowed(acme, "events:PutRule", rule.replace("acme_", "other_"))
    assert not allowed(acme, "events:PutRule", rule.replace("acme_", "acmex_"))
    queue = ARN.format(service="sqs", resource="agent-mesh-prod-sub-acme_orders")
    assert allowed(acme, "sqs:ReceiveMessage", queue) and allowed(acme, "sqs:CreateQueue", queue)
    for other in ("agent-mesh-prod-sub-other_orders", "agent-mesh-prod-sub-orders", "agent-mesh-prod-sub-acmeorders"):
        assert not allowed(acme, "sqs:ReceiveMessage", ARN.format(service="sqs", resource=other)), other


def test_workflows(acme) -> None:
    machine = ARN.format(service="states", resource="stateMachine:agent-mesh-prod-acme.wf")
    assert allowed(acme, "states:StartExecution", machine) and allowed(acme, "states:CreateStateMachine", machine)
    for other in ("agent-mesh-prod-other.wf", "agent-mesh-prod-wf", "agent-mesh-prod-acme-wf", "agent-mesh-prod-acmex.wf"):
        assert not allowed(acme, "states:StartExecution", ARN.format(service="states", resource=f"stateMachine:{other}")), other
    execution = ARN.format(service="states", resource="execution:agent-mesh-prod-acme.wf:run-1")
    assert allowed(acme, "states:DescribeExecution", execution)
    assert not allowed(acme, "states:DescribeExecution", execution.replace("acme.", "other."))
    activity = ARN.format(service="states", resource="activity:acme.review")
    assert allowed(acme, "states:GetActivityTask", activity)
    assert not allowed(acme, "states:GetActivityTask", activity.replace("acme.", "other."))
    assert not allowed(acme, "iam:PassRole", "arn:aws:iam::123456789012:role/admin")
