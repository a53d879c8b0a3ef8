"""The tool surface case of the behaviour suite (the same case as core/tests/behaviour/tools.rs
and bindings-node/test/tools.test.js)."""

import time

import pytest

from agent_mesh import InvalidInput, MeshClient


def test_upstream_tools_roundtrip(mesh: MeshClient) -> None:
    """`call` keeps the upstream MCP tool names and argument shapes (same case as
    core/tests/behaviour/tools.rs)."""
    assert mesh.call("mesh_kv_set", {"key": "user:1", "value": "v", "ttl_hours": 1})["success"] is True
    assert mesh.call("mesh_kv_get", {"key": "user:1"})["value"] == "v"
    assert mesh.call("mesh_kv_get", {"key": "nope"}) == {"key": "nope", "value": None, "found": False}
    sent = mesh.call("mesh_event_send", {"detail_type": "OrderCreated", "detail": {"order_id": "ord-123"}, "source": "shop"})
    timeline = mesh.call("mesh_timeline_get", {"prefix": "events/shop/", "max_keys": 10})
    assert timeline["count"] == 1 and timeline["timeline_events"][0]["data"]["id"] == sent["event_id"]
    put = mesh.call("mesh_artifacts_put", {"key": "notes/a.md", "content": "# hi", "content_type": "text/markdown"})
    assert put["size"] == 4
    assert mesh.call("mesh_artifacts_get", {"key": "notes/a.md"})["content"] == "# hi"
    assert mesh.call("mesh_artifacts_list", {"prefix": "notes/", "max_keys": 10})["count"] == 1
    assert mesh.call("mesh_status")["status"] == "ok"
    mesh.workflows.create("tool-echo", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    started = mesh.call("mesh_workflow_start", {"name": "tool-echo", "input": {"x": 1}})
    assert started["status"] == "RUNNING" and started["state_machine"] == "tool-echo"
    deadline = time.monotonic() + 20
    while (status := mesh.call("mesh_workflow_status", {"execution_arn": started["execution_arn"]}))["status"] == "RUNNING":
        assert time.monotonic() < deadline, status
        time.sleep(0.02)
    assert (status["status"], status["output"]) == ("SUCCEEDED", {"x": 1})
    with pytest.raises(InvalidInput, match="mesh_kv_get"):
        mesh.call("mesh_nope", {})
