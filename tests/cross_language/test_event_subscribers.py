"""A Python process and a Node process subscribe to one local mesh while a third process (the
Rust `mesh-worker`) sends events: each receives exactly the events its pattern matches, in send
order, and events arrive within 100 ms. Every case runs with the cross-process wake-up path
(the default) and with it forced off (AGENT_MESH_LOCAL_WAKE=off: subscribers poll)."""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EVENTS = 10_000

# The Python side matches the even events (detail-type OrderCreated) with n < 7000 or n ending
# in 0 via $or; the Node side the events with n >= 2500 whose parity is "odd" or detail-type
# starts with "Order" and n is a multiple of 3 (exercises numeric, prefix, anything-but, $or).
PY_PATTERN = {"source": ["sender"], "detail-type": ["OrderCreated"],
              "$or": [{"detail": {"n": [{"numeric": ["<", 7000]}]}}, {"detail": {"n": [{"suffix": "0"}]}}]}
NODE_PATTERN = {"source": [{"prefix": "send"}], "detail": {"n": [{"numeric": [">=", 2500]}],
                                                           "parity": [{"anything-but": "even"}]}}


def py_matches(n: int) -> bool:
    return n % 2 == 0 and n < 7000  # `suffix` applies to strings only; n is a number


def node_matches(n: int) -> bool:
    return n >= 2500 and n % 2 == 1


def worker_binary() -> str:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "x86_64-unknown-linux-gnu" / "debug" / "mesh-worker"
    subprocess.run(["cargo", "build", "-q", "-p", "agent-mesh-tests", "--bin", "mesh-worker"], cwd=ROOT, check=True)
    return str(binary)


@pytest.fixture(params=["wake", "poll"])
def env(request):
    """The processes' environment: the wake-up path on (default) or forced off."""
    env = dict(os.environ)
    env.pop("AGENT_MESH_LOCAL_WAKE", None)
    if request.param == "poll":
        env["AGENT_MESH_LOCAL_WAKE"] = "off"
    return env


def start_subscribers(url: str, py_count: int, node_count: int, py_pattern, node_pattern, env):
    procs = {
        "python": subprocess.Popen([sys.executable, str(HERE / "python_subscriber.py"), url, json.dumps(py_pattern), str(py_count)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env),
        "node": subprocess.Popen(["node", str(HERE / "node_subscriber.js"), url, json.dumps(node_pattern), str(node_count)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env),
    }
    for name, proc in procs.items():
        line = proc.stdout.readline().strip()
        assert line == "ready", f"{name} subscriber did not start: {line!r} {proc.stderr.read() if not line else ''}"
    return procs


def reports(procs):
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{name} subscriber failed:\n{stderr}"
        out[name] = json.loads(stdout)
    return out


@pytest.fixture(scope="module")
def worker() -> str:
    return worker_binary()


def test_python_and_node_subscribers_receive_exactly_their_events_in_order(tmp_path, worker, env) -> None:
    url = f"local://{tmp_path}/mesh"
    expected_py = [n for n in range(EVENTS) if py_matches(n)]
    expected_node = [n for n in range(EVENTS) if node_matches(n)]
    procs = start_subscribers(url, len(expected_py), len(expected_node), PY_PATTERN, NODE_PATTERN, env)
    sender = subprocess.run([worker, "send-events", url, str(EVENTS), "0"], capture_output=True, text=True, timeout=300, env=env)
    assert sender.returncode == 0, sender.stderr
    got = reports(procs)
    for name, expected in (("python", expected_py), ("node", expected_node)):
        assert got[name]["ns"] == expected, f"{name} received the wrong events or order"
        assert not got[name]["extra"], f"{name} received an event its pattern does not match"
        lat = sorted(got[name]["latency_ms"])
        print(f"{name}: {len(lat)} events, burst latency p50 {statistics.median(lat):.1f} ms, max {lat[-1]:.1f} ms")


def test_events_reach_other_processes_within_100_ms(tmp_path, worker, env) -> None:
    url = f"local://{tmp_path}/mesh"
    count = 60
    match_all = {"source": ["sender"]}
    procs = start_subscribers(url, count, count, match_all, match_all, env)
    # Each subscribing process registers its wake-up socket, unless the path is off.
    registered = list((tmp_path / "mesh" / "wake").glob("*"))
    assert len(registered) == (0 if env.get("AGENT_MESH_LOCAL_WAKE") == "off" else 2), registered
    sender = subprocess.run([worker, "send-events", url, str(count), "25"], capture_output=True, text=True, timeout=120, env=env)
    assert sender.returncode == 0, sender.stderr
    for name, report in reports(procs).items():
        assert report["ns"] == list(range(count))
        lat = sorted(report["latency_ms"])
        print(f"{name}: latency p50 {statistics.median(lat):.1f} ms, max {lat[-1]:.1f} ms")
        assert lat[-1] < 100, f"{name}: an event took {lat[-1]:.1f} ms to arrive (limit 100 ms)"
