"""`agent-mesh mcp` driven by the official Python MCP client (`pip install mcp`), over stdio and
Streamable HTTP, on each backend: every tool is listed with a schema and called, results keep
the upstream server's shapes, failures are error results naming the tool, the argument and the
fix, and HTTP refuses requests without the bearer token."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any, Dict

import httpx2
import pytest

from conftest import Cli, cli_program
from mcp_session import connect, http_client, start_http

TOOLS = ["mesh_kv_get", "mesh_kv_set", "mesh_kv_delete", "mesh_kv_list", "mesh_artifacts_list", "mesh_artifacts_get",
         "mesh_artifacts_put", "mesh_event_send", "mesh_timeline_get", "mesh_workflow_start", "mesh_workflow_status",
         "mesh_status"]


async def call(client, name: str, arguments: Dict[str, Any]) -> Dict[str, Any]:
    """Calls a tool that must succeed; its text is the structured result as JSON."""
    result = await client.call_tool(name, arguments)
    text = result.content[0].text
    assert not result.is_error, f"{name}: {text}"
    assert json.loads(text) == result.structured_content, name
    return result.structured_content


async def error_text(client, name: str, arguments: Dict[str, Any]) -> str:
    """Calls a tool that must fail; the text of its error result."""
    result = await client.call_tool(name, arguments)
    assert result.is_error, f"{name} succeeded: {result.content[0].text}"
    assert result.structured_content["error"]["tool"] == name
    return result.content[0].text


async def every_tool(client, backend: str) -> None:
    listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == TOOLS
    for tool in listed:
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.input_schema["type"] == "object", tool.name
        for required in tool.input_schema.get("required", []):
            assert required in tool.input_schema["properties"], (tool.name, required)
        assert tool.annotations.read_only_hint is (tool.name in {"mesh_kv_get", "mesh_kv_list", "mesh_artifacts_list",
                                                                  "mesh_artifacts_get", "mesh_timeline_get",
                                                                  "mesh_workflow_status", "mesh_status"})
    kv_set = next(t for t in listed if t.name == "mesh_kv_set")
    assert kv_set.input_schema["properties"]["ttl_hours"]["default"] == 24

    # KV: upstream's {key, value, expires_at (epoch seconds), status: "stored"} and {key, value, found}.
    stored = await call(client, "mesh_kv_set", {"key": "user:john:preferences", "value": '{"timezone": "PST"}', "ttl_hours": 720})
    assert (stored["key"], stored["value"], stored["status"]) == ("user:john:preferences", '{"timezone": "PST"}', "stored")
    assert abs(stored["expires_at"] - (time.time() + 720 * 3600)) < 30
    default_ttl = await call(client, "mesh_kv_set", {"key": "k2", "value": {"n": 1}})
    assert abs(default_ttl["expires_at"] - (time.time() + 24 * 3600)) < 30
    got = await call(client, "mesh_kv_get", {"key": "user:john:preferences"})
    assert (got["key"], got["value"], got["found"]) == ("user:john:preferences", '{"timezone": "PST"}', True)
    assert await call(client, "mesh_kv_get", {"key": "nope"}) == {"key": "nope", "value": None, "found": False}
    listed_kv = await call(client, "mesh_kv_list", {"prefix": "user:"})
    assert listed_kv["count"] == 1 and listed_kv["items"][0]["key"] == "user:john:preferences"
    assert (await call(client, "mesh_kv_delete", {"key": "k2"}))["deleted"] is True

    # Artifacts: upstream's {key, bucket, size, content_type, status}, {key, content, content_type,
    # size} and {bucket, prefix, count, objects: [{key, size, modified}]}.
    put = await call(client, "mesh_artifacts_put", {"key": "conversations/2024/notes.md", "content": "# Notes", "content_type": "text/markdown"})
    assert (put["key"], put["size"], put["content_type"], put["status"]) == ("conversations/2024/notes.md", 7, "text/markdown", "stored")
    assert put["bucket"]
    plain = await call(client, "mesh_artifacts_put", {"key": "conversations/2024/plain", "content": "p"})
    assert plain["content_type"] == "text/plain"
    binary = await call(client, "mesh_artifacts_put", {"key": "models/m.bin", "content": "AAEC", "encoding": "base64", "content_type": "application/octet-stream"})
    assert binary["size"] == 3
    art = await call(client, "mesh_artifacts_get", {"key": "conversations/2024/notes.md"})
    assert (art["key"], art["content"], art["content_type"], art["size"]) == ("conversations/2024/notes.md", "# Notes", "text/markdown", 7)
    assert (await call(client, "mesh_artifacts_get", {"key": "models/m.bin"}))["content"] == "AAEC"
    objects = await call(client, "mesh_artifacts_list", {"prefix": "conversations/"})
    assert (objects["bucket"], objects["prefix"], objects["count"]) == (put["bucket"], "conversations/", 2)
    assert [(o["key"], o["size"]) for o in objects["objects"]] == [("conversations/2024/notes.md", 7), ("conversations/2024/plain", 1)]
    assert all(o["modified"].endswith("Z") for o in objects["objects"])

    # Events and the timeline: upstream's {event_id, detail_type, source, status: "sent"} and
    # {timeline_events: [{key, timestamp, data}]}.
    sent = await call(client, "mesh_event_send", {"detail_type": "DocumentUploaded", "detail": {"document_id": "doc-123"}, "source": "document-processor"})
    assert (sent["detail_type"], sent["source"], sent["status"]) == ("DocumentUploaded", "document-processor", "sent") and sent["event_id"]
    assert (await call(client, "mesh_event_send", {"detail_type": "Ping", "detail": {}}))["source"] == "mcp-client"
    timeline = await call(client, "mesh_timeline_get", {"prefix": "events/document-processor/", "max_keys": 50})
    entry = timeline["timeline_events"][0]
    assert entry["data"]["id"] == sent["event_id"] and entry["data"]["detail"] == {"document_id": "doc-123"}
    assert entry["key"].startswith("events/document-processor/DocumentUploaded/") and entry["timestamp"].endswith("Z")

    # Workflows (the state machine was created with the CLI).
    started = await call(client, "mesh_workflow_start", {"name": "echo", "input": {"x": 1}})
    assert started["status"] == "RUNNING" and started["state_machine"] == "echo"
    deadline = time.monotonic() + 60
    while (status := await call(client, "mesh_workflow_status", {"execution_arn": started["execution_arn"]}))["status"] == "RUNNING":
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.05)
    assert (status["status"], status["output"]) == ("SUCCEEDED", {"x": 1})

    # Status: upstream's {environment, infrastructure, region, timestamp}, plus a live probe.
    mesh_status = await call(client, "mesh_status", {})
    assert (mesh_status["status"], mesh_status["backend"]) == ("ok", backend)
    assert mesh_status["environment"] and mesh_status["region"] and mesh_status["timestamp"].endswith("Z")
    assert mesh_status["infrastructure"]["artifacts_bucket"] == put["bucket"]
    assert mesh_status["probe"]["ok"] is True

    # The dotted names of later upstream versions are aliases (not listed).
    dotted = await call(client, "events.send", {"detailType": "OrderCreated", "detail": {"order_id": "ord-123"}})
    assert dotted["eventId"] == dotted["event_id"] and dotted["source"] == "mcp-client"
    assert (await call(client, "kv.get", {"key": "user:john:preferences"}))["found"] is True

    # Failures are error results naming the tool, the argument and the fix.
    missing = await error_text(client, "mesh_kv_set", {"value": 1})
    assert missing.startswith("InvalidInput: mesh_kv_set: ") and '"key"' in missing and "call it as mesh_kv_set {" in missing
    wrong_type = await error_text(client, "mesh_timeline_get", {"max_keys": "ten"})
    assert '"max_keys" must be a number' in wrong_type
    escaped = await error_text(client, "mesh_artifacts_put", {"key": "../etc/passwd", "content": "x"})
    assert escaped.startswith("mesh_artifacts_put failed: InvalidInput: ") and "'..'" in escaped
    unknown = await error_text(client, "mesh_kv_fetch", {"key": "k"})
    assert "no such tool" in unknown and all(name in unknown for name in TOOLS)
    not_found = await error_text(client, "mesh_workflow_start", {"name": "no-such-machine"})
    assert "NotFound" in not_found and "no-such-machine" in not_found


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_every_tool_through_the_python_mcp_client(cli: Cli, transport: str) -> None:
    cli.run("workflows", "create", "echo", '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')

    async def main() -> None:
        async with connect(transport, cli_program(), cli.url) as (client, _server):
            await every_tool(client, cli.backend)

    asyncio.run(main())


def test_http_requires_the_bearer_token_and_sends_no_cors(mesh_url: str) -> None:
    server = start_http(cli_program(), mesh_url)
    try:
        assert server.token and len(server.token) == 64
        base = server.url.removesuffix("/mcp")
        health = httpx2.get(f"{base}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        for auth in [None, "Bearer wrong-token", f"Bearer {server.token}x", f"Basic {server.token}"]:
            sent = dict(headers, **({"Authorization": auth} if auth else {}))
            refused = httpx2.post(server.url, json=body, headers=sent)
            assert refused.status_code == 401, (auth, refused.status_code)
            assert refused.headers["www-authenticate"].startswith("Bearer") and "Authorization: Bearer" in refused.text
        # A browser page of another origin is refused, and no CORS header is ever sent.
        authed = dict(headers, Authorization=f"Bearer {server.token}")
        cross = httpx2.post(server.url, json=body, headers=dict(authed, Origin="https://evil.example"))
        assert cross.status_code == 403
        assert not any(h.lower().startswith("access-control-") for h in cross.headers)
        preflight = httpx2.request("OPTIONS", server.url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers

        async def main() -> None:
            async with http_client(server.url, server.token) as client:
                assert len((await client.list_tools()).tools) == len(TOOLS)

        asyncio.run(main())
    finally:
        assert server.stop() == 0


def test_http_token_from_the_flag_or_the_environment(mesh_url: str) -> None:
    flagged = start_http(cli_program(), mesh_url, "--token", "flag-token-123")
    try:
        assert flagged.token is None, "a given token is not printed"
        asyncio.run(_lists_tools(flagged.url, "flag-token-123"))
        assert httpx2.post(flagged.url, json={}, headers={"Authorization": "Bearer other"}).status_code == 401
    finally:
        assert flagged.stop() == 0
    from_env = start_http(cli_program(), mesh_url, env=dict(os.environ, AGENT_MESH_MCP_TOKEN="env-token-456"))
    try:
        asyncio.run(_lists_tools(from_env.url, "env-token-456"))
    finally:
        assert from_env.stop() == 0
    assert from_env.url.startswith("http://127.0.0.1:"), "loopback unless told otherwise"


async def _lists_tools(url: str, token: str) -> None:
    async with http_client(url, token) as client:
        assert [t.name for t in (await client.list_tools()).tools] == TOOLS


def test_http_binds_loopback_for_a_bare_port_and_checks_host_and_origin(mesh_url: str) -> None:
    server = start_http(cli_program(), mesh_url, "--allowed-origin", "https://app.example:443", listen="0")
    try:
        assert server.url.startswith("http://127.0.0.1:"), f"a bare port listens on loopback only: {server.url}"
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        # The scheme name is case-insensitive.
        authed = dict(headers, Authorization=f"bEaReR {server.token}")
        assert httpx2.post(server.url, json=body, headers=authed).status_code == 200
        # DNS rebinding: a loopback server refuses a foreign Host, token or not.
        rebound = httpx2.post(server.url, json=body, headers=dict(authed, Host="evil.example"))
        assert rebound.status_code in (403, 421), rebound.status_code
        # The allowed origin is served; any other is refused.
        allowed = httpx2.post(server.url, json=body, headers=dict(authed, Origin="https://app.example:443"))
        assert allowed.status_code == 200, (allowed.status_code, allowed.text)
        other = httpx2.post(server.url, json=body, headers=dict(authed, Origin="https://app.example:444"))
        assert other.status_code == 403
    finally:
        assert server.stop() == 0
