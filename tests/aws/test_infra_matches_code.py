"""The Terraform in infra/ and the AWS backend in core/src/aws/ agree on names and schema."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE = (ROOT / "infra/modules/agent-mesh/main.tf").read_text()
KV = (ROOT / "core/src/aws/kv.rs").read_text()
# The resource names live in config.rs (shared with the local workflow integrations).
AWS = (ROOT / "core/src/config.rs").read_text()
TIMELINE = (ROOT / "core/src/aws/timeline.rs").read_text()
EVENTS = (ROOT / "core/src/aws/events.rs").read_text()
SUBSCRIPTION = (ROOT / "core/src/aws/subscription.rs").read_text()
TABLES = (ROOT / "core/src/aws/tables.rs").read_text()
WORKFLOWS = (ROOT / "core/src/aws/workflows.rs").read_text()


def test_resource_names_match() -> None:
    assert 'kv_table         = "${var.prefix}agent-mesh-${var.env}-kv"' in MODULE
    assert 'artifacts_bucket = "${var.prefix}agent-mesh-${var.env}-artifacts"' in MODULE
    assert 'format!("{prefix}agent-mesh-{env}-kv")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}-artifacts")' in AWS
    assert 'timeline_table   = "${var.prefix}agent-mesh-${var.env}-timeline"' in MODULE
    assert 'event_bus        = "${var.prefix}agent-mesh-${var.env}"' in MODULE
    assert 'subscriptions    = "${var.prefix}agent-mesh-${var.env}-sub-"' in MODULE
    assert 'format!("{prefix}agent-mesh-{env}-timeline")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}-sub-")' in AWS
    for variable in ("AGENT_MESH_TIMELINE_TABLE", "AGENT_MESH_EVENT_BUS"):
        assert f'var("{variable}")' in AWS and f'description = "{variable}"' in MODULE, variable


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
    assert "name           = local.timeline_table" in table
    assert 'hash_key       = "path"' in table and 'range_key      = "id"' in table
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
    assert "name = local.event_bus" in bus
    assert "create_event_bus()" in EVENTS and 'const DEFAULT_BUS: &str = "default";' in EVENTS
    # The client policy covers every AWS call the events backend makes.
    calls = set(re.findall(r"\.(put_events|put_rule|put_targets|remove_targets|delete_rule)\(\)", EVENTS + SUBSCRIPTION))
    actions = {"put_events": "PutEvents", "put_rule": "PutRule", "put_targets": "PutTargets",
               "remove_targets": "RemoveTargets", "delete_rule": "DeleteRule"}
    assert calls == set(actions), calls
    for call in calls:
        assert f'"events:{actions[call]}"' in MODULE, call
    sqs_calls = set(re.findall(r"\.(create_queue|delete_queue|get_queue_attributes|get_queue_url|set_queue_attributes|receive_message|delete_message|delete_message_batch|change_message_visibility_batch)\(\)", EVENTS + SUBSCRIPTION))
    sqs_actions = {"create_queue": "CreateQueue", "delete_queue": "DeleteQueue",
                   "get_queue_attributes": "GetQueueAttributes", "get_queue_url": "GetQueueUrl",
                   "set_queue_attributes": "SetQueueAttributes", "receive_message": "ReceiveMessage",
                   "delete_message": "DeleteMessage", "delete_message_batch": "DeleteMessage",
                   "change_message_visibility_batch": "ChangeMessageVisibility"}
    assert len(sqs_calls) >= 7, sqs_calls
    for call in sqs_calls:
        assert f'"sqs:{sqs_actions[call]}"' in MODULE, call
    assert "rule/${local.event_bus}/${local.subscriptions}*" in MODULE
    assert ":${local.subscriptions}*" in MODULE


def test_every_workspace_uses_the_module() -> None:
    for size in ("small", "medium", "large"):
        text = (ROOT / f"infra/workspaces/{size}/main.tf").read_text()
        assert 'source = "../../modules/agent-mesh"' in text, size


def test_workflow_names_and_permissions_match() -> None:
    assert 'state_machines   = "${var.prefix}agent-mesh-${var.env}-"' in MODULE
    assert 'workflow_role    = "${var.prefix}agent-mesh-${var.env}-workflows"' in MODULE
    assert 'format!("{prefix}agent-mesh-{env}-")' in AWS
    assert 'format!("{prefix}agent-mesh-{env}-workflows")' in AWS
    assert 'var("AGENT_MESH_WORKFLOW_ROLE_ARN")' in AWS and 'description = "AGENT_MESH_WORKFLOW_ROLE_ARN"' in MODULE
    role = _block("aws_iam_role", "workflows")
    assert "name               = local.workflow_role" in role
    assert '"states.amazonaws.com"' in MODULE
    # The client policy covers every Step Functions call the backend makes.
    calls = set(re.findall(r"\.(create_state_machine|update_state_machine|start_execution|describe_execution|get_execution_history|stop_execution|list_executions|create_activity|get_activity_task|send_task_success|send_task_failure|send_task_heartbeat)\(\)", WORKFLOWS))
    assert len(calls) == 12, calls
    for call in calls:
        action = "".join(part.capitalize() for part in call.split("_"))
        assert f'"states:{action}"' in MODULE, call
    assert '"iam:PassRole"' in MODULE
