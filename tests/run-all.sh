#!/usr/bin/env bash
# Runs every test of agent-mesh: formatting, lints, the Rust behaviour suite on every backend,
# the cross-process tests, the demo, and a short benchmark run. Used by .ci/run and by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== demo on the embedded default"
demo_dir=$(mktemp -d)
AGENT_MESH_DIR="$demo_dir/.agent-mesh" cargo run -q -p agent-mesh --example personal_assistant
rm -rf "$demo_dir"
if [ "${AGENT_MESH_SKIP_BENCH:-0}" != 1 ]; then
  echo "== benchmark (short run; BENCH_OPS=100000 for the full one)"
  BENCH_OPS=${BENCH_OPS:-20000} cargo bench -q -p agent-mesh --bench kv
fi
# Tests last, so the run closes on the test runners' summaries.
echo "== cargo test"
cargo test --workspace
