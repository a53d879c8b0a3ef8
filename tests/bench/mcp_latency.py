"""`mesh_kv_get` latency three ways, from one Python client in one run, on the same local mesh:
in-process (`MeshClient.call`, the binding), through `agent-mesh mcp` over stdio (JSON-RPC lines
on the child's pipes) and through `agent-mesh mcp --http` (Streamable HTTP, one keep-alive
connection). The clients are minimal JSON-RPC clients, so the figures are the server's and the
transport's, not an SDK's.

    python tests/bench/mcp_latency.py            (run by tests/bench/run-all.sh)

The `agent-mesh` program is the console script of the installed wheel (pip install
./bindings-python: a release build), or AGENT_MESH_CLI. BENCH_MCP_OPS sets the calls per way
(default 2000). Goals (issue 17): in-process at least 50x faster than stdio; stdio under 200 us p50.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import agent_mesh

N = int(os.environ.get("BENCH_MCP_OPS", "2000"))
WARMUP = 200
ARGS = {"key": "user:john:preferences"}


def program() -> List[str]:
    configured = os.environ.get("AGENT_MESH_CLI")
    if configured:
        return configured.split()
    script = Path(sys.executable).with_name("agent-mesh")
    found = str(script) if script.exists() else shutil.which("agent-mesh")
    if not found:
        raise SystemExit("agent-mesh is not installed: pip install ./bindings-python (or set AGENT_MESH_CLI)")
    return [found]


def measure(call: Callable[[], Any]) -> Dict[str, float]:
    for _ in range(WARMUP):
        call()
    samples = []
    for _ in range(N):
        started = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - started)
    samples.sort()
    return {"p50_us": samples[len(samples) // 2] / 1000, "p99_us": samples[int(len(samples) * 0.99)] / 1000}


def request(id_: int, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


INITIALIZE = {"protocolVersion": "2025-06-18", "capabilities": {},
              "clientInfo": {"name": "agent-mesh-bench", "version": "1"}}


def check(answer: Dict[str, Any]) -> None:
    result = answer.get("result")
    if not result or result.get("isError") or not result["structuredContent"]["found"]:
        raise SystemExit(f"mesh_kv_get did not answer as expected: {answer}")


def over_stdio(url: str) -> Dict[str, float]:
    child = subprocess.Popen([*program(), "--url", url, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, bufsize=1)
    assert child.stdin and child.stdout

    def send(message: Dict[str, Any]) -> None:
        child.stdin.write(json.dumps(message) + "\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]

    try:
        send(request(0, "initialize", INITIALIZE))
        json.loads(child.stdout.readline())
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        ids = iter(range(1, 10**9))

        def call() -> None:
            send(request(next(ids), "tools/call", {"name": "mesh_kv_get", "arguments": ARGS}))
            check(json.loads(child.stdout.readline()))  # type: ignore[union-attr]

        return measure(call)
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def over_http(url: str) -> Dict[str, float]:
    token = "b" * 64
    child = subprocess.Popen([*program(), "--url", url, "mcp", "--http", "127.0.0.1:0", "--token", token],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert child.stderr
    try:
        address = None
        while address is None:
            line = child.stderr.readline()
            if not line:
                raise SystemExit("agent-mesh mcp --http exited before printing its address")
            found = re.search(r"at http://([\d.]+):(\d+)/mcp ", line)
            address = (found.group(1), int(found.group(2))) if found else None
        connection = http.client.HTTPConnection(*address)
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   "Authorization": f"Bearer {token}"}

        def post(message: Dict[str, Any]) -> Dict[str, Any]:
            connection.request("POST", "/mcp", json.dumps(message), headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise SystemExit(f"POST /mcp answered {response.status}: {body[:300]!r}")
            return json.loads(body)

        post(request(0, "initialize", INITIALIZE))
        ids = iter(range(1, 10**9))
        return measure(lambda: check(post(request(next(ids), "tools/call", {"name": "mesh_kv_get", "arguments": ARGS}))))
    finally:
        child.terminate()
        child.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agent-mesh-mcp-bench-") as tmp:
        url = f"local://{tmp}/mesh"
        mesh = agent_mesh.MeshClient(url)
        mesh.call("mesh_kv_set", {"key": ARGS["key"], "value": '{"timezone": "PST"}', "ttl_hours": 24})
        in_process = measure(lambda: mesh.call("mesh_kv_get", ARGS)["found"] or sys.exit("not found"))
        stdio = over_stdio(url)
        over_http_ = over_http(url)
    print(f"mesh_kv_get, {N} calls each, local mesh, one Python client (p50 / p99, microseconds):")
    for name, figures in [("in-process MeshClient.call", in_process), ("agent-mesh mcp (stdio)", stdio),
                          ("agent-mesh mcp --http (Streamable HTTP)", over_http_)]:
        print(f"  {name:42} {figures['p50_us']:9.1f} {figures['p99_us']:9.1f}")
    ratio = stdio["p50_us"] / in_process["p50_us"]
    print(f"  stdio / in-process at p50: {ratio:.0f}x (goal: at least 50x); "
          f"stdio p50 {stdio['p50_us']:.0f} us (goal: under 200 us)")


if __name__ == "__main__":
    main()
