#!/usr/bin/env bash
# Runs every benchmark of agent-mesh, short runs (set BENCH_OPS=100000 and the other counts
# below for the full ones). Each prints its figures beside its peer measured in the same run;
# docs/testing.md says what each measures. Release builds: the Python wheel is installed in
# release into .venv (tests/run-all.sh installs a debug one), the Rust benches and the Node addon
# build their own. Needs what tests/run-all.sh installs (.venv, bindings-node/node_modules).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
started=$(date +%s)
section() { echo "== [bench $(( $(date +%s) - started )) s] $*"; }

[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q --upgrade pip >/dev/null; }
section "Python: the release wheel, and the peers (aiosqlite)"
.venv/bin/pip install -q aiosqlite==0.22.1
.venv/bin/pip install -q ./bindings-python
section "benchmarks (short runs; BENCH_OPS=100000 for the full ones)"
BENCH_OPS=${BENCH_OPS:-20000} cargo bench -q -p agent-mesh --bench kv
section "benchmark: large KV values vs the artifact path, local and moto"
BENCH_LARGE_OPS=${BENCH_LARGE_OPS:-30} tests/with-moto.sh cargo bench -q -p agent-mesh --bench large_values
section "benchmark: pattern matcher"
cargo bench -q -p agent-mesh --bench pattern
# The Node peer, better-sqlite3, builds from source (node-gyp with the local Node headers).
# A benchmark is not a test: if the peer cannot be built here, say so loudly and go on.
section "benchmark: bindings kv.get"
if (cd tests/bench && npm install --no-audit --no-fund --silent); then
  BENCH_OPS=${BENCH_OPS:-20000} .venv/bin/python tests/bench/bindings_kv.py
else
  echo "!! tests/bench: better-sqlite3 could not be built; the bindings benchmark did not run"
fi
section "benchmark: local events between processes, wake-up vs polling"
BENCH_EVENTS=${BENCH_EVENTS:-1000} .venv/bin/python tests/bench/event_delivery.py
section "benchmark: Python asyncio vs sync, beside aiosqlite"
BENCH_OPS=${BENCH_OPS:-20000} .venv/bin/python tests/bench/python_async.py
section "benchmark: mesh_kv_get in-process vs agent-mesh mcp (stdio, HTTP)"
.venv/bin/python tests/bench/mcp_latency.py
section "benchmark: agent-mesh vs boto3 on moto"
BENCH_AWS_OPS=${BENCH_AWS_OPS:-100} tests/with-moto.sh .venv/bin/python tests/bench/aws_vs_boto3.py
section "benchmark: workflows"
BENCH_WF_OPS=${BENCH_WF_OPS:-500} BENCH_WF_MOTO_OPS=${BENCH_WF_MOTO_OPS:-10} \
  tests/with-moto.sh .venv/bin/python tests/bench/workflows.py
