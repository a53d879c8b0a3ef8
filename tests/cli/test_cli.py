"""The `agent-mesh` command line, every subcommand, on each backend (local, and aws on moto):
`--json` output parsed, human output checked where it matters, exit codes per error kind."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import time
from pathlib import Path

from conftest import Cli, cli_program, wait_for_line


def test_usage_help_version_and_exit_codes(tmp_path: Path) -> None:
    run = lambda *args: subprocess.run([*cli_program(), *args], capture_output=True, text=True, cwd=tmp_path)
    helped = run("--help")
    assert helped.returncode == 0
    for command in ["kv", "artifacts", "events", "timeline", "workflows", "provision", "status", "mcp"]:
        assert f"\n  {command} " in helped.stdout, command
    assert "Exit codes:" in helped.stdout and "3   NotFound" in helped.stdout
    assert run("--version").stdout.startswith("agent-mesh ")
    assert run("kv", "--help").returncode == 0
    bad = run("kv", "fetch", "x")
    assert bad.returncode == 2 and "unrecognized subcommand" in bad.stderr
    assert run("--url", "redis://x", "kv", "get", "k").returncode == 10, "Config"
    # With --json, a usage error is the same JSON error document as any other failure.
    bad_json = run("--json", "kv", "fetch", "x")
    assert bad_json.returncode == 2
    error = json.loads(bad_json.stderr.strip().splitlines()[-1])["error"]
    assert error["exit_code"] == 2 and "fetch" in error["message"] and error["kind"] is None
    # The MCP server's HTTP-only flags are refused without --http.
    assert run("mcp", "--allowed-origin", "https://a.example").returncode == 2


def test_the_mesh_comes_from_agent_mesh_url_without_a_flag(tmp_path: Path) -> None:
    env = dict(os.environ, AGENT_MESH_URL=f"local://{tmp_path}/from-env")
    env.pop("AGENT_MESH_DIR", None)
    run = lambda *args: subprocess.run([*cli_program(), "--json", *args], capture_output=True, text=True,
                                       cwd=tmp_path, env=env)
    assert run("kv", "set", "k", '{"v": 1}').returncode == 0
    got = run("kv", "get", "k")
    assert got.returncode == 0 and json.loads(got.stdout)["value"] == {"v": 1}
    assert (tmp_path / "from-env").is_dir() and not (tmp_path / ".agent-mesh").exists()


def test_status_exits_8_when_the_backend_does_not_answer(tmp_path: Path) -> None:
    # A loopback port nothing listens on: every probe fails (within its 5 s bound), exit Unavailable.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1")
    started = time.monotonic()
    done = subprocess.run([*cli_program(), "--json", "--url", f"aws://?region=us-east-1&endpoint=http://127.0.0.1:{port}",
                           "status"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 8, (done.returncode, done.stdout, done.stderr)
    status = json.loads(done.stdout)
    assert status["status"] == "degraded" and status["probe"]["ok"] is False
    assert all(not check["ok"] for check in status["probe"]["checks"].values())
    assert time.monotonic() - started < 60


def test_kv(cli: Cli) -> None:
    stored = cli.run("kv", "set", "user:john:preferences", '{"timezone": "PST"}', "--ttl-hours", "720").json()
    assert (stored["key"], stored["value"], stored["status"], stored["version"]) == ("user:john:preferences", {"timezone": "PST"}, "stored", 1)
    assert abs(stored["expires_at"] - (time.time() + 720 * 3600)) < 30
    got = cli.run("kv", "get", "user:john:preferences").json()
    assert (got["value"], got["found"], got["version"]) == ({"timezone": "PST"}, True, 1)
    # Human output: the value, strings bare.
    cli.run("kv", "set", "greeting", "hello world", "--string")
    assert cli.run("kv", "get", "greeting", json_output=False).stdout == "hello world\n"
    assert cli.run("kv", "get", "user:john:preferences", json_output=False).stdout.strip() == '{"timezone":"PST"}'
    # stdin and @FILE values.
    cli.run("kv", "set", "piped", "-", input=b"[1, 2, 3]")
    (cli.cwd / "value.json").write_text('{"from": "file"}')
    cli.run("kv", "set", "filed", f"@{cli.cwd / 'value.json'}")
    assert cli.run("kv", "get", "piped").json()["value"] == [1, 2, 3]
    assert cli.run("kv", "get", "filed").json()["value"] == {"from": "file"}
    # Missing key: exit 3 (NotFound), the JSON answer on stdout, the error on stderr.
    missing = cli.run("kv", "get", "nope", expect=3)
    assert missing.json() == {"key": "nope", "value": None, "found": False}
    assert missing.error()["kind"] == "NotFound" and "kv get" in missing.error()["message"]
    assert "agent-mesh: NotFound" in cli.run("kv", "get", "nope", json_output=False, expect=3).stderr
    # Conditional writes: exit 4 (Conflict).
    assert cli.run("kv", "set", "greeting", '"x"', "--if-absent", expect=4).error()["kind"] == "Conflict"
    assert cli.run("kv", "set", "greeting", '"x"', "--if-version", "7", expect=4).error()["kind"] == "Conflict"
    assert cli.run("kv", "set", "greeting", '"x"', "--if-version", "1").json()["version"] == 2
    # Bad input: exit 2.
    assert "--string" in cli.run("kv", "set", "k", "not json", expect=2).stderr
    assert cli.run("kv", "get", "", expect=2).error()["kind"] == "InvalidInput"
    too_large = cli.run("kv", "set", "big", "-", input=json.dumps("x" * (64 * 1024 * 1024)).encode(), expect=5)
    assert too_large.error()["kind"] == "TooLarge"
    # Listing, paging, deleting.
    for i in range(5):
        cli.run("kv", "set", f"page:{i}", str(i))
    page = cli.run("kv", "list", "page:", "--limit", "2").json()
    assert [i["key"] for i in page["items"]] == ["page:0", "page:1"] and page["next_cursor"]
    rest = cli.run("kv", "list", "page:", "--limit", "2", "--cursor", page["next_cursor"]).json()
    assert [i["key"] for i in rest["items"]] == ["page:2", "page:3"]
    every = cli.run("kv", "list", "page:", "--limit", "2", "--all").json()
    assert every["count"] == 5 and every["next_cursor"] is None
    table = cli.run("kv", "list", "page:", json_output=False).stdout.splitlines()
    assert table[0].split() == ["KEY", "VERSION", "EXPIRES", "VALUE"] and len(table) == 6
    assert cli.run("kv", "delete", "page:0").json() == {"key": "page:0", "deleted": True}
    assert cli.run("kv", "delete", "page:0").json() == {"key": "page:0", "deleted": False}
    assert cli.run("kv", "list", "page:").json()["count"] == 4


def test_artifacts(cli: Cli) -> None:
    report = cli.cwd / "report.md"
    report.write_text("# Q1\n")
    put = cli.run("artifacts", "put", "reports/q1.md", str(report), "--metadata", "owner=john").json()
    assert (put["key"], put["size"], put["content_type"], put["status"]) == ("reports/q1.md", 5, "text/markdown", "stored")
    assert put["bucket"]
    binary = bytes(range(256)) * 64
    cli.run("artifacts", "put", "blobs/b.bin", "-", "--content-type", "application/octet-stream", input=binary)
    head = cli.run("artifacts", "head", "reports/q1.md").json()
    assert (head["size"], head["metadata"], head["content_type"]) == (5, {"owner": "john"}, "text/markdown")
    assert "metadata owner: john" in cli.run("artifacts", "head", "reports/q1.md", json_output=False).stdout
    # get: to stdout (bytes as stored), to a file, as JSON.
    assert subprocess.run(cli.argv(["artifacts", "get", "blobs/b.bin"], json_output=False), capture_output=True, cwd=cli.cwd).stdout == binary
    out = cli.cwd / "copy.bin"
    written = cli.run("artifacts", "get", "blobs/b.bin", "-o", str(out)).json()
    assert out.read_bytes() == binary and written["size"] == len(binary)
    as_json = cli.run("artifacts", "get", "reports/q1.md").json()
    assert (as_json["content"], as_json["encoding"]) == ("# Q1\n", "utf-8")
    # A transfer over the progress bar's threshold, streamed both ways.
    big = cli.cwd / "big.bin"
    big.write_bytes(os.urandom(5 * 1024 * 1024 + 7))
    cli.run("artifacts", "put", "blobs/big.bin", str(big))
    cli.run("artifacts", "get", "blobs/big.bin", "-o", str(cli.cwd / "big.copy"))
    assert (cli.cwd / "big.copy").read_bytes() == big.read_bytes()
    listed = cli.run("artifacts", "list", "blobs/").json()
    assert [o["key"] for o in listed["objects"]] == ["blobs/b.bin", "blobs/big.bin"] and listed["bucket"] == put["bucket"]
    assert all(o["modified"].endswith("Z") for o in listed["objects"])
    assert cli.run("artifacts", "list", "blobs/", "--limit", "1").json()["next_cursor"]
    assert cli.run("artifacts", "delete", "blobs/b.bin").json()["deleted"] is True
    assert cli.run("artifacts", "head", "blobs/b.bin", expect=3).error()["kind"] == "NotFound"
    assert cli.run("artifacts", "get", "blobs/b.bin", expect=3).error()["kind"] == "NotFound"
    assert cli.run("artifacts", "put", "../escape", str(report), expect=2).error()["kind"] == "InvalidInput"
    assert cli.run("artifacts", "put", "x", str(cli.cwd / "absent"), expect=3).error()["kind"] == "NotFound"


def test_artifacts_progress_bar_on_a_terminal(cli: Cli) -> None:
    if cli.backend != "local":
        return  # the bar is the command's, not the backend's: checked once
    big = cli.cwd / "big.bin"
    big.write_bytes(os.urandom(6 * 1024 * 1024))
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(cli.argv(["artifacts", "put", "big.bin", str(big)], json_output=False), stdout=subprocess.PIPE,
                              stderr=follower, cwd=cli.cwd, timeout=120)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0 and b"stored big.bin" in done.stdout
    assert b"put big.bin" in seen and b"MiB" in seen, seen


def test_events_send_and_tail(cli: Cli) -> None:
    tail = cli.popen("events", "tail", "--pattern", '{"detail-type": ["OrderCreated"]}', "--count", "2", "--timeout", "60")
    try:
        wait_for_line(tail.stderr, "tailing events")
        sent = cli.run("events", "send", "OrderCreated", '{"order_id": "ord-1"}', "--source", "shop").json()
        assert (sent["detail_type"], sent["source"], sent["status"]) == ("OrderCreated", "shop", "sent") and sent["event_id"]
        cli.run("events", "send", "Ignored", "{}")
        cli.run("events", "send", "OrderCreated", '{"order_id": "ord-2"}', "--resource", "arn:x")
        out, err = tail.communicate(timeout=90)
    finally:
        tail.kill()
    assert tail.returncode == 0, err
    events = [json.loads(line) for line in out.decode().splitlines()]
    assert sorted(e["detail"]["order_id"] for e in events) == ["ord-1", "ord-2"]
    first = next(e for e in events if e["detail"]["order_id"] == "ord-1")
    assert (first["id"], first["source"], first["detail-type"]) == (sent["event_id"], "shop", "OrderCreated")
    # A durable subscription resumes after the last event it printed.
    named = ["events", "tail", "--name", "cli-durable", "--timeout", "3"]
    cli.run(*named)
    cli.run("events", "send", "WhileAway", '{"n": 1}')
    resumed = cli.run(*named[:-2], "--count", "1", "--timeout", "60").lines()
    assert [(e["detail-type"], e["detail"]) for e in resumed] == [("WhileAway", {"n": 1})]
    assert cli.run("events", "tail", "--pattern", "{}", expect=2).error()["kind"] == "InvalidInput"
    assert cli.run("events", "send", "X", "[1]", expect=2).error()["kind"] == "InvalidInput"


def test_timeline(cli: Cli) -> None:
    for step in range(3):
        appended = cli.run("timeline", "append", "user/user123/profile", json.dumps({"step": step})).json()
        assert appended["key"] == f"user/user123/profile/{appended['id']}"
    cli.run("events", "send", "OrderCreated", "{}", "--stream", "user/user123/orders")
    got = cli.run("timeline", "get", "user/user123/").json()
    assert got["count"] == 4 and got["timeline_events"][0]["stream"] == "user/user123/orders", got
    assert [e["data"]["step"] for e in got["timeline_events"][1:]] == [2, 1, 0], "newest first"
    oldest = cli.run("timeline", "get", "user/user123/profile", "--oldest-first", "--limit", "2").json()
    assert [e["data"]["step"] for e in oldest["timeline_events"]] == [0, 1] and oldest["next_cursor"]
    every = cli.run("timeline", "get", "user/", "--limit", "1", "--all").json()
    assert every["count"] == 4
    assert cli.run("timeline", "get", "user/", "--since", "2999-01-01T00:00:00Z").json()["count"] == 0
    assert cli.run("timeline", "get", "user/", "--since", "yesterday", expect=2).code == 2
    human = cli.run("timeline", "get", "user/user123/profile", json_output=False).stdout.splitlines()
    assert len(human) == 3 and "user/user123/profile" in human[0]
    tail = cli.popen("timeline", "tail", "user/user123/", "--count", "2", "--timeout", "60", "--interval-ms", "50")
    try:
        wait_for_line(tail.stderr, "tailing the timeline")
        cli.run("timeline", "append", "user/user123/profile", '{"step": 3}')
        cli.run("timeline", "append", "other/x", '{"skip": true}')
        cli.run("timeline", "append", "user/user123/profile", '{"step": 4}')
        out, err = tail.communicate(timeout=90)
    finally:
        tail.kill()
    assert tail.returncode == 0, err
    assert [json.loads(line)["data"]["step"] for line in out.decode().splitlines()] == [3, 4]


DEFINITION = {
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Pass", "Parameters": {"msg.$": "States.Format('Hello, {}!', $.name)"}, "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.msg", "StringEquals": "Hello, Ada!", "Next": "Done"}], "Default": "Bad"},
        "Bad": {"Type": "Fail", "Error": "Unexpected", "Cause": "not Ada"},
        "Done": {"Type": "Succeed"},
    },
}


def test_workflows(cli: Cli) -> None:
    path = cli.cwd / "greet.json"
    path.write_text(json.dumps(DEFINITION))
    created = cli.run("workflows", "create", "greet", str(path)).json()
    assert created["name"] == "greet" and created["arn"]
    done = cli.run("workflows", "start", "greet", "--input", '{"name": "Ada"}', "--execution-name", "run-1", "--wait", "--timeout", "60").json()
    assert (done["status"], done["output"], done["name"]) == ("SUCCEEDED", {"msg": "Hello, Ada!"}, "run-1")
    failed = cli.run("workflows", "start", "greet", "--input", '{"name": "Bob"}', "--wait", "--timeout", "60", expect=1)
    assert (failed.json()["status"], failed.json()["error"]) == ("FAILED", "Unexpected")
    started = cli.run("workflows", "start", "greet", "--input", "{\"name\": \"Ada\"}").json()
    assert started["status"] == "RUNNING" and started["state_machine"] == "greet"
    arn = started["execution_arn"]
    deadline = time.monotonic() + 60
    while (described := cli.run("workflows", "describe", arn).json())["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert described["status"] == "SUCCEEDED"
    history = cli.run("workflows", "history", done["execution_arn"]).json()["events"]
    assert history[0]["type"] == "ExecutionStarted" and history[-1]["type"] == "ExecutionSucceeded"
    listed = cli.run("workflows", "list", "greet").json()
    assert listed["count"] == 3 and {e["status"] for e in listed["executions"]} == {"SUCCEEDED", "FAILED"}
    assert cli.run("workflows", "list", "greet", "--status", "FAILED").json()["count"] == 1
    # stop: a Wait keeps the execution running until it is stopped.
    cli.run("workflows", "create", "slow", json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}))
    # Locally the starting process runs the execution and stays until it ends; on AWS it
    # returns at once. Either way the ARN is the first line it prints.
    starter = cli.popen("workflows", "start", "slow")
    try:
        slow = json.loads(starter.stdout.readline())["execution_arn"]
        stopped = cli.run("workflows", "stop", slow, "--error", "Cancelled", "--cause", "by the test").json()
        assert stopped["status"] == "ABORTED"
        if cli.backend == "local":  # moto's StopExecution keeps neither error nor cause
            assert (stopped["error"], stopped["cause"]) == ("Cancelled", "by the test")
        assert starter.wait(timeout=60) == 0
    finally:
        starter.kill()
    assert cli.run("workflows", "describe", arn.replace("greet", "nope"), expect=3).error()["kind"] == "NotFound"
    bad = cli.run("workflows", "create", "bad", '{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Gone"}}}', expect=2)
    assert "Gone" in bad.error()["message"]


def test_workflows_run_keeps_todays_behaviour(tmp_path: Path) -> None:
    path = tmp_path / "def.json"
    path.write_text(json.dumps(DEFINITION))
    for command in ["workflows", "workflow"]:
        ok = subprocess.run([*cli_program(), command, "run", str(path), "--input", '{"name": "Ada"}'], capture_output=True, text=True)
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout) == {"msg": "Hello, Ada!"}
    failed = subprocess.run([*cli_program(), "workflows", "run", str(path), "--input", '{"name": "Bob"}', "--history"], capture_output=True, text=True)
    assert failed.returncode == 1 and "FAILED: Unexpected: not Ada" in failed.stderr and "ExecutionStarted" in failed.stderr
    mesh = f"local://{tmp_path}/mesh"
    shared = subprocess.run([*cli_program(), "workflows", "run", str(path), "--input", '{"name": "Ada"}', "--mesh", mesh], capture_output=True, text=True)
    assert shared.returncode == 0 and (tmp_path / "mesh" / "mesh.db").exists()


def test_status_provision_and_call(cli: Cli) -> None:
    status = cli.run("status").json()
    assert status["status"] == "ok" and status["backend"] == cli.backend
    for name in ["kv_table", "artifacts_bucket", "event_bus", "timeline_table"]:
        assert status["infrastructure"][name], name
    assert status["probe"]["ok"] is True and set(status["probe"]["checks"]) == {"kv", "artifacts", "timeline"}
    if cli.backend == "aws":
        assert status["region"] == "us-east-1" and status["infrastructure"]["kv_table"].endswith("agent-mesh-dev-kv")
    human = cli.run("status", json_output=False).stdout
    assert f"{cli.backend} mesh (ok)" in human and "probe kv: ok" in human
    assert cli.run("provision").json()["status"] == "ok"
    assert cli.run("call", "mesh_kv_set", '{"key": "k", "value": "v"}').json()["status"] == "stored"
    assert cli.run("call", "kv.get", '{"key": "k"}').json()["value"] == "v"
    assert cli.run("call", "mesh_nope", expect=2).error()["kind"] == "InvalidInput"
