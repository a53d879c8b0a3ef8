"""`--tenant` (and AGENT_MESH_TENANT) confine every command to a tenant scope; `iam-policy`
prints the tenant's policy; `agent-mesh mcp --tenant T` serves only T's data, to the official
Python MCP client over stdio and over Streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import os

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from agent_mesh import MeshClient
from conftest import Cli, cli_program
from mcp_session import http_client, start_http
from test_mcp import call

PASS = '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}'


def test_the_tenant_flag_confines_every_domain(cli: Cli, tmp_path) -> None:
    a = ("--tenant", "tenant-a")
    b = ("--tenant", "tenant-b")
    cli.run(*a, "kv", "set", "k", '"a-secret"')
    assert cli.run(*a, "kv", "get", "k").json()["value"] == "a-secret"
    assert cli.run(*b, "kv", "get", "k", expect=3).error()["kind"] == "NotFound"
    assert cli.run(*b, "kv", "get", "../tenant-a/k", expect=3).error()["kind"] == "NotFound"
    assert cli.run(*b, "kv", "list").json()["items"] == []
    assert [i["key"] for i in cli.run("kv", "list", "tenants/tenant-a/").json()["items"]] == ["tenants/tenant-a/k"]
    assert cli.run("kv", "list").json()["items"] == [], "a root listing leaves the tenants out"
    # The environment variable does what the flag does.
    env_b = subprocess_env(AGENT_MESH_TENANT="tenant-b")
    cli.run("kv", "set", "k", '"b-secret"', env=env_b)
    assert cli.run(*b, "kv", "get", "k").json()["value"] == "b-secret"
    assert cli.run(*a, "kv", "get", "k").json()["value"] == "a-secret"

    doc = tmp_path / "doc.txt"
    doc.write_text("a-doc")
    cli.run(*a, "artifacts", "put", "doc.txt", str(doc))
    assert cli.run(*b, "artifacts", "list").json()["objects"] == []
    assert cli.run(*b, "artifacts", "head", "doc.txt", expect=3).error()["kind"] == "NotFound"

    cli.run(*a, "events", "send", "OrderCreated", '{"order": 1}')
    assert cli.run(*b, "timeline", "get").json()["timeline_events"] == []
    assert cli.run(*a, "timeline", "get").json()["timeline_events"], "the sent event is on tenant-a's timeline"

    cli.run(*a, "workflows", "create", "flow", PASS)
    started = cli.run(*a, "workflows", "start", "flow", "--wait").json()
    arn = started["execution_arn"]
    assert cli.run(*b, "workflows", "describe", arn, expect=3).error()["kind"] == "NotFound"
    assert cli.run(*b, "workflows", "start", "flow", expect=3).error()["kind"] == "NotFound"
    assert cli.run(*a, "workflows", "describe", arn).json()["state_machine"] == "flow"

    bad = cli.run("--tenant", "Tenant A", "kv", "list", expect=2).error()
    assert bad["kind"] == "InvalidInput" and "mesh.scope" in bad["message"]
    assert cli.run("--tenant", "tenant-a/bot-1", "status").json()["tenant"] == "tenant-a/bot-1"


def subprocess_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.pop("AGENT_MESH_TENANT", None)
    env.update(extra)
    return env


def test_iam_policy_prints_the_sdk_document(cli: Cli) -> None:
    env = subprocess_env(AGENT_MESH_ENV="prod", AWS_REGION="eu-west-1")
    printed = cli.run("--tenant", "acme", "iam-policy", env=env).json()
    saved = {k: os.environ.get(k) for k in ("AGENT_MESH_ENV", "AWS_REGION")}
    os.environ.update(AGENT_MESH_ENV="prod", AWS_REGION="eu-west-1")
    try:
        assert printed == MeshClient(cli.url).scope("acme").iam_policy()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert "tenants/acme/*" in json.dumps(printed)
    unscoped = cli.run("iam-policy", expect=2).error()
    assert unscoped["kind"] == "InvalidInput" and "--tenant" in unscoped["message"]


def test_mcp_serves_only_its_tenant(cli: Cli) -> None:
    program = cli_program()

    async def main() -> None:
        params = StdioServerParameters(command=program[0], args=[*program[1:], "--url", cli.url, "--tenant", "tenant-a", "mcp"],
                                       env=subprocess_env())
        async with Client(params) as client:
            await call(client, "mesh_kv_set", {"key": "k", "value": "a-secret"})
            assert (await call(client, "mesh_kv_get", {"key": "k"}))["value"] == "a-secret"
            assert (await call(client, "mesh_status", {}))["tenant"] == "tenant-a"
        server = start_http(program, cli.url, "--tenant", "tenant-b", env=subprocess_env())
        try:
            assert server.token
            async with http_client(server.url, server.token) as client:
                assert (await call(client, "mesh_kv_get", {"key": "k"}))["found"] is False
                assert (await call(client, "mesh_kv_get", {"key": "../tenant-a/k"}))["found"] is False
                assert (await call(client, "mesh_kv_list", {"prefix": ""}))["items"] == []
                assert (await call(client, "mesh_status", {}))["tenant"] == "tenant-b"
        finally:
            assert server.stop() == 0

    asyncio.run(main())
    assert cli.run("kv", "get", "tenants/tenant-a/k").json()["value"] == "a-secret"


def test_workflows_run_honours_the_tenant(cli: Cli, tmp_path) -> None:
    if cli.backend != "local":
        return  # `workflows run` runs on the embedded engine (memory:// by default); local covers it
    definition = tmp_path / "put.json"
    definition.write_text(json.dumps({"StartAt": "Put", "States": {"Put": {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "End": True,
        "Parameters": {"TableName": "agent-mesh-dev-kv", "Item": {"key": {"S": "x"}, "value": {"S": "1"}}}}}}))
    env = subprocess_env(AGENT_MESH_ENV="dev")
    # Unscoped, the root key is written; scoped, the same definition may not leave the tenant.
    cli.run("workflows", "run", str(definition), "--mesh", cli.url, env=env)
    failed = cli.run("--tenant", "tenant-a", "workflows", "run", str(definition), "--mesh", cli.url, env=env, expect=1)
    assert "DynamoDB.AccessDeniedException" in failed.stdout + failed.stderr
    bad = cli.run("--tenant", "Not A Tenant", "workflows", "run", str(definition), expect=2).error()
    assert "mesh.scope" in bad["message"]
