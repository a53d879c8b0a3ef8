"""Items the upstream "AWS AI Agent Bus" MCP server wrote, put straight into DynamoDB with boto3
(key raw or `KV#<key>`, `value` as S, `created_at` as S or N, no version), read through
agent-mesh. Needs the moto server of tests/with-moto.sh."""

import datetime as dt
import json
import time
import uuid

import boto3

from moto_env import moto_endpoint

from agent_mesh import MeshClient

ENDPOINT = moto_endpoint()


def test_upstream_layouts_are_read() -> None:
    prefix = f"up{uuid.uuid4().hex[:10]}-"
    mesh = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}")
    mesh.provision()
    table = boto3.resource("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1").Table(f"{prefix}agent-mesh-dev-kv")
    now = time.time()
    table.put_item(Item={"key": "user:john:preferences", "value": json.dumps({"timezone": "PST"}),
                         "created_at": "2024-05-01T10:00:00Z", "updated_at": "2024-05-02T10:00:00Z"})
    table.put_item(Item={"key": "KV#session:42", "value": "plain text, not JSON",
                         "created_at": int(now) - 60, "expires_at": int(now) + 3600})
    table.put_item(Item={"key": "KV#old:1", "value": json.dumps([1, 2]), "created_at": int(now) - 7200,
                         "expires_at": int(now) - 10})

    item = mesh.kv.get("user:john:preferences")
    assert item is not None and item.value == {"timezone": "PST"}
    assert item.created_at == dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    assert item.version == 1
    session = mesh.kv.get("session:42")
    assert session is not None and session.value == "plain text, not JSON"
    assert session.key == "session:42"
    assert abs(session.expires_at.timestamp() - (int(now) + 3600)) < 1
    assert mesh.kv.get("old:1") is None, "expired upstream items stay hidden"
    found = mesh.kv.batch_get(["user:john:preferences", "session:42", "old:1", "missing"])
    assert [i.value if i else None for i in found] == [{"timezone": "PST"}, "plain text, not JSON", None, None]
    # Conditional writes continue the upstream item's history: no version means version 1.
    updated = mesh.kv.set("user:john:preferences", {"timezone": "CET"}, if_version=1)
    assert updated.version == 2 and updated.created_at == item.created_at
    assert mesh.kv.delete("session:42") is True
    assert mesh.kv.get("session:42") is None


def test_writes_over_unversioned_upstream_items_count_them_as_version_1() -> None:
    prefix = f"uv{uuid.uuid4().hex[:10]}-"
    mesh = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}")
    mesh.provision()
    table = boto3.resource("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1").Table(f"{prefix}agent-mesh-dev-kv")
    for key in ("up:set", "up:batch"):
        table.put_item(Item={"key": key, "value": json.dumps("upstream"), "created_at": "2024-01-01T00:00:00Z"})
    assert mesh.kv.get("up:set").version == 1
    assert mesh.kv.set("up:set", "mine").version == 2
    mesh.kv.batch_set({"up:batch": "mine", "fresh:1": 1})
    assert [mesh.kv.get(k).version for k in ("up:batch", "fresh:1")] == [2, 1]
    assert mesh.kv.get("up:batch").created_at.year == 2024
