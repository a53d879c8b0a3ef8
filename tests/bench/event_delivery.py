"""Local events between processes: how long after `events.send` returns in one process a
subscriber in another receives the event, with the wake-up path (the default) and with it
forced off (`AGENT_MESH_LOCAL_WAKE=off`: the subscriber polls every 10 ms, as before), in the
same run; 1 and 3 subscriber processes, during a burst (batches of 10 sent back to back) and
at a steady rate (one event every 2 ms).

    python tests/bench/event_delivery.py            (run by tests/bench/run-all.sh)

Also checks what it measures: every subscriber receives every event, in send order.
BENCH_EVENTS sets the events per run. Goals (issue 20): p50 < 1 ms, p99 < 5 ms with wake-ups."""

import json
import os
import subprocess
import sys
import tempfile
import time

import agent_mesh

EVENTS = int(os.environ.get("BENCH_EVENTS", "1000"))
STEADY_PAUSE_S = 0.002


def subscriber(url: str, count: int) -> None:
    mesh = agent_mesh.MeshClient(url)
    latencies = []
    ns = []
    with mesh.events.subscribe({"source": ["bench.delivery"]}) as sub:
        print("ready", flush=True)
        while len(ns) < count:
            event = sub.next(timeout=30)
            if event is None:
                break
            latencies.append(time.time_ns() - event.detail["sent_ns"])
            ns.append(event.detail["n"])
    print(json.dumps({"latency_ns": latencies, "ns": ns}), flush=True)


def run(url: str, subscribers: int, mode: str, wake: bool) -> dict:
    env = dict(os.environ)
    if not wake:
        env["AGENT_MESH_LOCAL_WAKE"] = "off"
    procs = [
        subprocess.Popen([sys.executable, __file__, "--subscriber", url, str(EVENTS)], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(subscribers)
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    sender = subprocess.run([sys.executable, __file__, "--sender", url, str(EVENTS), mode], env=env, check=True)
    assert sender.returncode == 0
    latencies = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        report = json.loads(out.strip().splitlines()[-1])
        assert report["ns"] == list(range(EVENTS)), "a subscriber lost or reordered events"
        latencies += report["latency_ns"]
    latencies.sort()
    at = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] / 1e6  # noqa: E731
    return {"p50": at(0.5), "p99": at(0.99), "max": latencies[-1] / 1e6}


def sender(url: str, count: int, mode: str) -> None:
    mesh = agent_mesh.MeshClient(url)
    if mode == "burst":
        for start in range(0, count, 10):
            mesh.events.send_batch(
                [{"detail_type": "Tick", "source": "bench.delivery", "detail": {"n": n, "sent_ns": time.time_ns()}} for n in range(start, min(count, start + 10))]
            )
    else:
        for n in range(count):
            mesh.events.send("Tick", {"n": n, "sent_ns": time.time_ns()}, source="bench.delivery")
            time.sleep(STEADY_PAUSE_S)


def main() -> None:
    print(f"local events between processes: send -> another process's subscriber ({EVENTS} events per run)")
    print(f"{'path':22} {'subscribers':>11} {'load':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    results = {}
    for wake in (True, False):
        for subscribers in (1, 3):
            for mode in ("steady", "burst"):
                with tempfile.TemporaryDirectory(prefix="agent-mesh-bench-events-") as tmp:
                    url = f"local://{tmp}/mesh"
                    agent_mesh.MeshClient(url)
                    r = run(url, subscribers, mode, wake)
                results[(wake, subscribers, mode)] = r
                path = "wake-up (default)" if wake else "polling (wake off)"
                print(f"{path:22} {subscribers:>11} {mode:>7} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.2f}")
    steady = [results[(True, s, "steady")] for s in (1, 3)]
    print(
        "wake-up, steady rate: p50 "
        + " / ".join(f"{r['p50']:.2f}" for r in steady)
        + " ms (goal < 1), p99 "
        + " / ".join(f"{r['p99']:.2f}" for r in steady)
        + " ms (goal < 5), for 1 / 3 subscribers; no event lost or reordered in any run"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--subscriber"]:
        subscriber(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1:2] == ["--sender"]:
        sender(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
