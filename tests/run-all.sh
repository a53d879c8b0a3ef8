#!/usr/bin/env bash
# Runs every test of agent-mesh: formatting and lints, the demo, then the Rust, Python and Node
# behaviour suites, the cross-process and cross-language tests. Tests use debug builds; the
# benchmarks (release builds, about 15 minutes more) are tests/bench/run-all.sh, run here too,
# after the tests, with AGENT_MESH_BENCH=1.
# Used by .ci/run and by hand. Needs cargo, python3 and node/npm; installs the rest (a venv in
# .venv, npm packages under bindings-node/).
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
# One pass with the moto test features on: they only add code (the aws:// test modules, the
# replay client), and each extra pass would check the AWS SDK crates again with other features.
cargo clippy --workspace --all-targets --features agent-mesh/moto-tests,agent-mesh-tests/moto -- -D warnings
section "local-only build (no AWS SDK: --no-default-features)"
cargo clippy -p agent-mesh --no-default-features --all-targets -- -D warnings

section "Python: venv and pip install ./bindings-python (the README's install command)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
# mcp: the official MCP client that tests/cli drives `agent-mesh mcp` with.
.venv/bin/pip install -q pytest mypy python-hcl2==8.1.4 hypothesis mcp==2.3.0
# In debug (the tests need no optimiser, and share the compiled dependencies with the Node addon
# and cargo test); a plain `pip install ./bindings-python` builds the release wheel.
MATURIN_PEP517_ARGS="--profile dev" .venv/bin/pip install -q ./bindings-python
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

# The behaviour suites of all three languages run against memory://, local:// and aws:// (a
# moto server started here); tests/examples runs every example of examples/ (Python,
# JavaScript, Rust) on local:// and on moto and checks what each did; tests/docs (and
# bindings-node/test/docs_snippets.test.js, and the doctests of cargo test) run every code
# block of README.md and docs/.
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
if [ "${AGENT_MESH_BENCH:-0}" = 1 ]; then
  section "benchmarks (release builds): tests/bench/run-all.sh"
  bash tests/bench/run-all.sh
fi
section "done"
