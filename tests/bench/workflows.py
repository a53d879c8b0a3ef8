"""Workflow latency end to end (start, then wait until SUCCEEDED, one execution after another):
the embedded engine from Rust and from Python on a persisted local:// mesh, beside the same
Pass/Choice definition executed by moto's Step Functions, in the same run. Run through
tests/with-moto.sh:

    tests/with-moto.sh .venv/bin/python tests/bench/workflows.py

The Rust rows come from `cargo bench -p agent-mesh --bench workflows` (core/benches/workflows.rs),
whose `ROW {json}` lines also carry the definitions and inputs the other rows reuse. BENCH_WF_OPS
sets the executions per Rust and Python row (default 2000), BENCH_WF_MOTO_OPS those on moto
(default 30: moto takes tens of ms per execution). Needs the agent_mesh wheel in the venv (a
release build for meaningful figures: cd bindings-python && ../.venv/bin/maturin develop --release).
"""

import json
import os
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List

import boto3

from agent_mesh import MeshClient

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("BENCH_WF_OPS", "2000"))
MOTO_N = int(os.environ.get("BENCH_WF_MOTO_OPS", "30"))
ENDPOINT = os.environ["AGENT_MESH_TEST_AWS_ENDPOINT"]
ROLE_ARN = "arn:aws:iam::123456789012:role/bench"
PASS_CHOICE = "Rust: Pass/Choice (3 states)"
TASKS = "Rust: 3 Tasks, Rust handlers"
# Pause between two DescribeExecution calls while a moto execution runs.
MOTO_POLL_S = 0.002

Row = Dict[str, Any]


def stats(name: str, samples: List[int], total_ns: int) -> Row:
    samples.sort()
    at = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]  # noqa: E731
    return {"name": name, "runs": len(samples), "p50_ns": at(0.5), "p99_ns": at(0.99), "per_sec": len(samples) / (total_ns / 1e9)}


def measure(name: str, runs: int, once: Callable[[], None]) -> Row:
    """Times `runs` sequential calls of `once` (after a tenth as many to warm up)."""
    for _ in range(max(3, runs // 10)):
        once()
    clock = time.perf_counter_ns
    samples = []
    begin = clock()
    for _ in range(runs):
        t = clock()
        once()
        samples.append(clock() - t)
    return stats(name, samples, clock() - begin)


def rust_rows() -> Dict[str, Row]:
    run = subprocess.run(["cargo", "bench", "-q", "-p", "agent-mesh", "--bench", "workflows"], cwd=ROOT,
                         env={**os.environ, "BENCH_WF_OPS": str(N)}, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"cargo bench --bench workflows failed:\n{run.stdout}\n{run.stderr}")
    rows = {}
    for line in run.stdout.splitlines():
        if line.startswith("ROW "):
            row = json.loads(line[4:])
            rows[row["name"]] = {**row, "runs": N}
    missing = {PASS_CHOICE, TASKS} - rows.keys()
    if missing:
        raise SystemExit(f"cargo bench --bench workflows printed no row {sorted(missing)}:\n{run.stdout}")
    return rows


def python_rows(rust: Dict[str, Row]) -> List[Row]:
    """The same definitions and inputs through the Python binding, Task handlers in Python."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="agent-mesh-wf-bench-") as tmp:
        mesh = MeshClient(f"local://{tmp}/mesh")
        wf = mesh.workflows
        wf.register("bench-step", lambda input, context: {"n": input["n"] + 1})
        for name, source in [("Python: Pass/Choice (3 states)", PASS_CHOICE), ("Python: 3 Tasks, Python handlers", TASKS)]:
            case = rust[source]
            machine = f"bench-{uuid.uuid4().hex[:8]}"
            wf.create(machine, case["definition"])

            def once(machine: str = machine, case: Row = case) -> None:
                done = wf.start(machine, case["input"]).wait()
                assert done.status == "SUCCEEDED" and done.output == case["output"], (done.status, done.output, done.error, done.cause)

            rows.append(measure(name, N, once))
    return rows


def moto_row(case: Row) -> Row:
    """The Pass/Choice definition on moto's executing Step Functions, through boto3."""
    request = urllib.request.Request(f"{ENDPOINT}/moto-api/config", data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    sfn = boto3.client("stepfunctions", endpoint_url=ENDPOINT, region_name="us-east-1")
    machine = sfn.create_state_machine(name=f"bench-{uuid.uuid4().hex[:8]}", definition=json.dumps(case["definition"]),
                                       roleArn=ROLE_ARN)["stateMachineArn"]
    text = json.dumps(case["input"])

    def once() -> None:
        arn = sfn.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex, input=text)["executionArn"]
        while (done := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            time.sleep(MOTO_POLL_S)
        assert done["status"] == "SUCCEEDED" and json.loads(done["output"]) == case["output"], done

    try:
        return measure("moto (boto3): Pass/Choice (3 states)", MOTO_N, once)
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)


def main() -> None:
    rust = rust_rows()
    rows = [rust[PASS_CHOICE], rust[TASKS], *python_rows(rust)]
    moto = moto_row(rust[PASS_CHOICE])
    rows.append(moto)

    print("workflows end to end: start, then wait until SUCCEEDED, one execution after another")
    print("agent-mesh: embedded engine, persisted local:// mesh (SQLite file, default sync); moto: in memory, "
          f"polled every {MOTO_POLL_S * 1000:.0f} ms")
    print(f"{'':40} {'runs':>6} {'p50':>11} {'p99':>11} {'executions/s':>13} {'p50 vs moto':>12}")
    ms = lambda ns: f"{ns / 1e6:8.3f} ms"  # noqa: E731
    for row in rows:
        ratio = "" if row is moto else f"{moto['p50_ns'] / row['p50_ns']:10.0f}x"
        print(f"{row['name']:40} {row['runs']:>6} {ms(row['p50_ns']):>11} {ms(row['p99_ns']):>11} {row['per_sec']:>13.0f} {ratio:>12}")
    target = rust[PASS_CHOICE]
    verdict = "met" if target["p50_ns"] < 1_000_000 else "NOT met"
    print(f"target: a 3-step in-process workflow under 1 ms end to end, persisted: {verdict} "
          f"(Rust Pass/Choice p50 {target['p50_ns'] / 1e6:.3f} ms, p99 {target['p99_ns'] / 1e6:.3f} ms)")


if __name__ == "__main__":
    main()
