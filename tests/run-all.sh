#!/usr/bin/env bash
# Runs every test of agent-mesh: formatting and lints, the demo, the benchmarks (short runs),
# then the Rust, Python and Node behaviour suites, the cross-process and cross-language tests.
# Used by .ci/run and by hand. Needs cargo, python3 and node/npm; installs the rest (a venv in
# .venv, npm packages under bindings-node/ and tests/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
# Incremental caches only help repeated local builds; in one full run they cost gigabytes of disk.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
started=$(date +%s)
# Prints a section heading with the seconds since the start, so a slow step shows in the log.
section() { echo "== [$(( $(date +%s) - started )) s] $*"; }

section "cargo fmt --check"
cargo fmt --all -- --check
section "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p agent-mesh --features moto-tests --all-targets -- -D warnings
cargo clippy -p agent-mesh-tests --features moto --all-targets -- -D warnings
section "local-only build (no AWS SDK: --no-default-features)"
cargo clippy -p agent-mesh --no-default-features --all-targets -- -D warnings

section "Python: venv and pip install ./bindings-python (the README's install command)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
# mcp: the official MCP client that tests/cli drives `agent-mesh mcp` with.
.venv/bin/pip install -q pytest mypy python-hcl2==8.1.4 hypothesis mcp==2.3.0 aiosqlite==0.22.1
.venv/bin/pip install -q ./bindings-python
# The wheel's console script runs the Rust CLI (no second build): a newcomer's first command.
.venv/bin/agent-mesh --help >/dev/null

section "Node: dev tools, and the addon built from the Rust code (debug)"
(cd bindings-node && npm ci --ignore-scripts --no-audit --no-fund --silent)
(cd bindings-node && AGENT_MESH_BUILD_PROFILE=debug AGENT_MESH_REBUILD=1 node scripts/build.js)

section "demo on the embedded default"
demo_dir=$(mktemp -d)
AGENT_MESH_DIR="$demo_dir/.agent-mesh" cargo run -q -p agent-mesh --example personal_assistant | tee "$demo_dir/out"
grep -q 'workflow content-moderation "Buy SPAM now": SUCCEEDED {"status":"flagged"}' "$demo_dir/out"
rm -rf "$demo_dir"

if [ "${AGENT_MESH_SKIP_BENCH:-0}" != 1 ]; then
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
fi

# Tests last, so the run closes on the test runners' summaries. The behaviour suites of all
# three languages run against memory://, local:// and aws:// (a moto server started here);
# tests/examples runs every example of examples/ (Python, JavaScript, Rust) on local:// and on
# moto and checks what each did; tests/docs (and bindings-node/test/docs_snippets.test.js, and the
# doctests of cargo test) run every code block of README.md and docs/.
export AGENT_MESH_TEST_BACKENDS="memory,local,aws"
section "on a moto server: Rust aws:// suite, node --test, pytest"
tests/with-moto.sh bash -c '
  set -e
  cargo test -p agent-mesh --features moto-tests --test behaviour --test aws -- aws
  cargo test -p agent-mesh --features moto-tests --lib --test aws_events --test aws_workflows --test aws_hardening
  cargo test -p agent-mesh-tests --features moto --test aws_kv_stress
  (cd bindings-node && node --test test/*.test.js)
  .venv/bin/python -m pytest -q bindings-python/tests tests/cross_language tests/aws tests/asl tests/cli tests/examples tests/docs
'
section "cargo test"
cargo test --workspace
section "done"
