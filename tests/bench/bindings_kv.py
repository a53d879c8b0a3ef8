"""Per-call overhead of the Python and Node bindings over the Rust core for `kv.get` on the
local backend, beside the same lookup through Python's sqlite3 and Node's better-sqlite3 on the
same mesh file, in the same run.

    python tests/bench/bindings_kv.py            (run by tests/bench/run-all.sh)

Needs release builds: the installed agent_mesh wheel (pip install ./bindings-python), and it
builds the release mesh-worker and Node addon itself. BENCH_OPS sets the number of gets."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import agent_mesh

ROOT = Path(__file__).resolve().parents[2]
KEYS = 10_000
N = int(os.environ.get("BENCH_OPS", "100000"))
ROUNDS = 10


def stats(samples):
    samples.sort()
    at = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]  # noqa: E731
    return {"p50_ns": at(0.5), "p99_ns": at(0.99)}


def cargo_release(package: str) -> Path:
    out = subprocess.run(["cargo", "build", "--release", "-q", "-p", package, "--message-format", "json"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            return Path(msg["executable"])
        if msg.get("reason") == "compiler-artifact" and package == "agent-mesh-node" and msg["target"]["name"] == "agent_mesh_node":
            return Path(next(f for f in msg["filenames"] if f.endswith(".so")))
    raise SystemExit(f"cargo built nothing runnable for {package}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agent-mesh-bench-") as tmp:
        run(Path(tmp))


def run(tmp: Path) -> None:
    mesh_dir = tmp / "mesh"
    mesh = agent_mesh.MeshClient(f"local://{mesh_dir}")
    value = {"timezone": "PST", "language": "en", "theme": "dark", "notifications": True}
    for start in range(0, KEYS, 100):
        mesh.kv.batch_set({f"user:{i}:preferences": value for i in range(start, start + 100)})
    names = [f"user:{(i * 7919) % KEYS}:preferences" for i in range(N)]

    worker = cargo_release("agent-mesh-tests")
    core = json.loads(subprocess.run([str(worker), "bench-get", f"local://{mesh_dir}", str(N), str(KEYS)],
                                     check=True, capture_output=True, text=True).stdout)

    conn = sqlite3.connect(mesh_dir / "mesh.db")
    sql = "SELECT value, version, created_at, updated_at, expires_at FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)"

    def raw_get(key):
        row = conn.execute(sql, (key, int(time.time() * 1000))).fetchone()
        return row and (json.loads(row[0]),) + row[1:]

    get = mesh.kv.get
    for name in names[:1000]:
        get(name).value
        raw_get(name)
    py_mesh, py_raw = [], []
    per = N // ROUNDS
    clock = time.perf_counter_ns
    for r in range(ROUNDS):
        chunk = names[r * per:(r + 1) * per]
        for name in chunk:
            t = clock()
            get(name).value
            py_mesh.append(clock() - t)
        for name in chunk:
            t = clock()
            raw_get(name)
            py_raw.append(clock() - t)

    addon = tmp / "agent-mesh-release.node"  # require() loads addons by the .node extension
    shutil.copyfile(cargo_release("agent-mesh-node"), addon)
    env = {**os.environ, "NAPI_RS_NATIVE_LIBRARY_PATH": str(addon)}
    node_run = subprocess.run(["node", str(ROOT / "tests/bench/bindings_kv.js"), str(mesh_dir), str(N), str(KEYS)],
                              capture_output=True, text=True, env=env)
    if node_run.returncode != 0:
        raise SystemExit(f"the Node benchmark failed:\n{node_run.stderr}")
    node = json.loads(node_run.stdout)

    rows = [
        ("Rust core kv().get", core),
        ("Python agent_mesh kv.get", stats(py_mesh)),
        ("Python sqlite3 (same SELECT + json.loads)", stats(py_raw)),
        ("Node @agent-mesh/client kv.get", node["agent_mesh"]),
        ("Node better-sqlite3 (same SELECT + JSON.parse)", node["better_sqlite3"]),
    ]
    print(f"kv.get on one local mesh file, {KEYS} keys, {N} gets per row, {ROUNDS} alternating rounds per language")
    print(f"{'':48} {'p50':>9} {'p99':>9} {'p50 over core':>14}")
    for name, s in rows:
        over = (s["p50_ns"] - core["p50_ns"]) / 1000
        print(f"{name:48} {s['p50_ns'] / 1000:7.2f}µs {s['p99_ns'] / 1000:7.2f}µs {over:+12.2f}µs")
    py = stats(py_mesh)
    ratio = py["p50_ns"] / stats(py_raw)["p50_ns"]
    print(f"Python kv.get p50 {py['p50_ns'] / 1000:.2f} µs (target < 10 µs), {ratio:.2f}x sqlite3 (target <= 2x)")


if __name__ == "__main__":
    main()
