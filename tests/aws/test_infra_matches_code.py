"""The Terraform in infra/ and the AWS backend in core/src/aws/ agree on names, key schemas,
attributes and policies; every workspace the guide names exists and outputs the AGENT_MESH_*
variables the SDK reads."""

import re
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
# Every module but tenant-agent (checked by test_tenant_policy.py), as one text.
MODULE = "\n".join(p.read_text() for p in sorted((INFRA / "modules").glob("*/main.tf")) if p.parent.name != "tenant-agent")
NAMES = (INFRA / "modules/names/main.tf").read_text()
CLIENT_POLICY = (INFRA / "modules/client_policy/main.tf").read_text()
WORKSPACES = {
    "small/kv_store": {"AGENT_MESH_KV_TABLE"},
    "small/artifacts_bucket": {"AGENT_MESH_ARTIFACTS_BUCKET"},
    "small/event_bus": {"AGENT_MESH_EVENT_BUS"},
    "small/timeline_store": {"AGENT_MESH_TIMELINE_TABLE"},
    "medium/workflow": {"AGENT_MESH_WORKFLOW_ROLE_ARN"},
    "medium/mesh_agents": {"AGENT_MESH_URL"},
    "medium/observability": set(),
    "large": {"AGENT_MESH_KV_TABLE", "AGENT_MESH_ARTIFACTS_BUCKET", "AGENT_MESH_EVENT_BUS",
              "AGENT_MESH_TIMELINE_TABLE", "AGENT_MESH_WORKFLOW_ROLE_ARN"},
}
ARTIFACTS = (ROOT / "core/src/aws/artifacts.rs").read_text()
KV = (ROOT / "core/src/aws/kv.rs").read_text()
# The resource names live in config.rs (shared with the local workflow integrations).
AWS = (ROOT / "core/src/config.rs").read_text()
TIMELINE = (ROOT / "core/src/aws/timeline.rs").read_text()
EVENTS = (ROOT / "core/src/aws/events.rs").read_text()
SUBSCRIPTION = (ROOT / "core/src/aws/subscription.rs").read_text()
TABLES = (ROOT / "core/src/aws/tables.rs").read_text()
WORKFLOWS = (ROOT / "core/src/aws/workflows.rs").read_text()


def test_resource_names_match() -> None:
    assert 'kv_table         = "${var.prefix}agent-mesh-${var.env}-kv"' in NAMES
    assert 'artifacts_bucket = "${var.prefix}agent-mesh-${var.env}-artifacts"' in NAMES
    assert 'format!("{prefix}agent-mesh-{env}-kv")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}-artifacts")' in AWS
    assert 'timeline_table   = "${var.prefix}agent-mesh-${var.env}-timeline"' in NAMES
    assert 'event_bus        = "${var.prefix}agent-mesh-${var.env}"' in NAMES
    assert 'subscriptions    = "${var.prefix}agent-mesh-${var.env}-sub-"' in NAMES
    # Every module names its resources through modules/names, never by itself.
    for module in sorted((INFRA / "modules").glob("*/main.tf")):
        if module.parent.name not in ("names", "tenant-agent"):
            assert "agent-mesh-${var.env}" not in module.read_text(), module
    assert 'format!("{prefix}agent-mesh-{env}-timeline")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}-sub-")' in AWS
    for variable in ("AGENT_MESH_TIMELINE_TABLE", "AGENT_MESH_EVENT_BUS"):
        assert f'var("{variable}")' in AWS and f'description = "{variable}"' in MODULE, variable


def test_table_schema_matches() -> None:
    assert re.search(r'hash_key\s+= "key"', MODULE)
    index = re.search(r'pub\(crate\) const INDEX: &str = "([^"]+)"', KV).group(1)
    assert f'name            = "{index}"' in MODULE
    assert 'hash_key        = "kv_shard"' in MODULE and 'range_key       = "key"' in MODULE
    assert 'projection_type = "ALL"' in MODULE and "ProjectionType::All" in KV
    assert re.search(r'ttl \{\s*attribute_name = "expires_at"\s*enabled\s*= true', MODULE)
    assert '.attribute_name("expires_at")' in KV
    for attribute in ("key", "kv_shard"):
        assert re.search(r'attribute \{\s*name = "%s"\s*type = "S"' % attribute, MODULE), attribute


def _block(kind: str, name: str) -> str:
    """The body of `resource "<kind>" "<name>" { ... }` in the module (braces balanced)."""
    start = MODULE.index(f'resource "{kind}" "{name}" {{')
    depth, i = 0, MODULE.index("{", start)
    for j in range(i, len(MODULE)):
        depth += {"{": 1, "}": -1}.get(MODULE[j], 0)
        if depth == 0:
            return MODULE[i : j + 1]
    raise AssertionError(f"unbalanced braces in {kind}.{name}")


def test_timeline_table_matches() -> None:
    table = _block("aws_dynamodb_table", "timeline")
    assert re.search(r"name\s+= module.names.timeline_table", table)
    assert re.search(r'hash_key\s+= "path"', table) and re.search(r'range_key\s+= "id"', table)
    for attribute in ("path", "id"):
        assert re.search(r'attribute \{\s*name = "%s"\s*type = "S"' % attribute, table), attribute
    assert "global_secondary_index" not in table and "ttl {" not in table
    # The code creates the same keys, on demand.
    assert 'string_attribute("path")' in TIMELINE and 'string_attribute("id")' in TIMELINE
    assert 'key_element("path", KeyType::Hash)' in TIMELINE and 'key_element("id", KeyType::Range)' in TIMELINE
    assert "tables::create_table(" in TIMELINE and "BillingMode::PayPerRequest" in TABLES
    assert 'const PATH_PREFIX: &str = "P#";' in TIMELINE and '"P#" +' in MODULE


def test_event_bus_and_subscription_permissions_match() -> None:
    bus = _block("aws_cloudwatch_event_bus", "events")
    assert "name = module.names.event_bus" in bus
    assert "create_event_bus()" in EVENTS and 'const DEFAULT_BUS: &str = "default";' in EVENTS
    # The client policy covers every AWS call the events backend makes.
    calls = set(re.findall(r"\.(put_events|put_rule|put_targets|remove_targets|delete_rule|describe_rule|list_rules|list_targets_by_rule)\(\)", EVENTS + SUBSCRIPTION))
    actions = {"put_events": "PutEvents", "put_rule": "PutRule", "put_targets": "PutTargets",
               "remove_targets": "RemoveTargets", "delete_rule": "DeleteRule", "describe_rule": "DescribeRule"}
    assert calls == set(actions), calls
    for call in calls:
        assert f'"events:{actions[call]}"' in CLIENT_POLICY, call
    sqs_calls = set(re.findall(r"\.(create_queue|delete_queue|get_queue_attributes|get_queue_url|set_queue_attributes|receive_message|delete_message|delete_message_batch|change_message_visibility_batch)\(\)", EVENTS + SUBSCRIPTION))
    sqs_actions = {"create_queue": "CreateQueue", "delete_queue": "DeleteQueue",
                   "get_queue_attributes": "GetQueueAttributes", "get_queue_url": "GetQueueUrl",
                   "set_queue_attributes": "SetQueueAttributes", "receive_message": "ReceiveMessage",
                   "delete_message": "DeleteMessage", "delete_message_batch": "DeleteMessage",
                   "change_message_visibility_batch": "ChangeMessageVisibility"}
    assert len(sqs_calls) >= 7, sqs_calls
    for call in sqs_calls:
        assert f'"sqs:{sqs_actions[call]}"' in MODULE, call
    assert "rule/${local.event_bus}/${local.subscriptions}*" in CLIENT_POLICY
    assert ":${local.subscriptions}*" in CLIENT_POLICY


def _declared(config: Path, kind: str) -> dict:
    """The `kind` blocks (output, variable) of every file of a configuration, by name."""
    found = {}
    for tf in sorted(config.glob("*.tf")):
        with tf.open() as f:
            blocks = hcl2.load(f)
        found.update({name.strip('"'): body for entry in blocks.get(kind, []) for name, body in entry.items()})
    return found


def test_every_workspace_of_the_guide_outputs_the_sdks_variables() -> None:
    read = set(re.findall(r'"(AGENT_MESH_[A-Z_]+)"', AWS))
    found = {p.parent.relative_to(INFRA / "workspaces").as_posix() for p in (INFRA / "workspaces").rglob("main.tf")}
    assert found == set(WORKSPACES), found
    for workspace, expected in WORKSPACES.items():
        config = INFRA / "workspaces" / workspace
        outputs = {name for name in _declared(config, "output") if name.startswith("AGENT_MESH_")}
        assert outputs == expected | {"AGENT_MESH_ENV"}, (workspace, outputs)
        assert outputs <= read, (workspace, outputs - read)
        env = _declared(config, "variable")["env"]
        assert "default" not in env, f"{workspace}: env must be given (ENV=...), not defaulted"
    # The large workspace gives every resource name the SDK reads.
    assert read - {"AGENT_MESH_URL", "AGENT_MESH_DIR"} <= WORKSPACES["large"] | {"AGENT_MESH_ENV"}


def test_each_workspace_applies_its_domains_module() -> None:
    for workspace in WORKSPACES:
        text = (INFRA / "workspaces" / workspace / "main.tf").read_text()
        module = workspace.split("/")[-1] if workspace != "large" else "agent-mesh"
        assert f'source = "../../{"../" if "/" in workspace else ""}modules/{module}"' in re.sub(r"\s+", " ", text), workspace


def test_the_client_policy_covers_every_kv_and_artifact_call() -> None:
    code = KV + TABLES + TIMELINE + (ROOT / "core/src/aws/kv_write.rs").read_text()
    dynamo = set(re.findall(r"\.(get_item|put_item|update_item|delete_item|query|batch_get_item|batch_write_item|transact_write_items|describe_table)\(\)", code))
    assert {"get_item", "put_item", "delete_item", "query", "batch_get_item", "transact_write_items", "describe_table"} <= dynamo
    # TransactWriteItems is authorised per item as the puts and condition checks it holds.
    needs = {"transact_write_items": ["PutItem", "ConditionCheckItem"]}
    for call in dynamo:
        for action in needs.get(call, ["".join(part.capitalize() for part in call.split("_"))]):
            assert f'"dynamodb:{action}"' in CLIENT_POLICY, call
    s3 = set(re.findall(r"\.(put_object|get_object|head_object|delete_object|list_objects_v2|create_multipart_upload|upload_part|complete_multipart_upload|abort_multipart_upload)\(\)", ARTIFACTS))
    assert len(s3) == 9, s3
    actions = {"put_object": "PutObject", "create_multipart_upload": "PutObject", "upload_part": "PutObject",
               "complete_multipart_upload": "PutObject", "get_object": "GetObject", "head_object": "GetObject",
               "delete_object": "DeleteObject", "list_objects_v2": "ListBucket", "abort_multipart_upload": "AbortMultipartUpload"}
    for call in s3:
        assert f'"s3:{actions[call]}"' in CLIENT_POLICY, call
    # Large KV values keep their bodies in the same bucket, under the same permissions.
    assert 'BODY_DIR: &str = ".agent-mesh/kv-values/"' in (ROOT / "core/src/types/kv.rs").read_text()


def test_workflow_names_and_permissions_match() -> None:
    assert 'state_machines   = "${var.prefix}agent-mesh-${var.env}-"' in NAMES
    assert 'workflow_role    = "${var.prefix}agent-mesh-${var.env}-workflows"' in NAMES
    assert 'format!("{prefix}agent-mesh-{env}-")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}-workflows")' in AWS
    assert 'var("AGENT_MESH_WORKFLOW_ROLE_ARN")' in AWS and 'description = "AGENT_MESH_WORKFLOW_ROLE_ARN"' in MODULE
    role = _block("aws_iam_role", "workflows")
    assert re.search(r"name\s+= module.names.workflow_role", role)
    assert '"states.amazonaws.com"' in MODULE
    # The client policy covers every Step Functions call the backend makes.
    calls = set(re.findall(r"\.(create_state_machine|update_state_machine|start_execution|describe_execution|get_execution_history|stop_execution|list_executions|create_activity|get_activity_task|send_task_success|send_task_failure|send_task_heartbeat)\(\)", WORKFLOWS))
    assert len(calls) == 12, calls
    for call in calls:
        action = "".join(part.capitalize() for part in call.split("_"))
        assert f'"states:{action}"' in MODULE, call
    assert '"iam:PassRole"' in MODULE
