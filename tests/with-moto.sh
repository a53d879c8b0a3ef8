#!/usr/bin/env bash
# Runs a command with a moto server (AWS emulator) on a free loopback port, then stops it.
#   tests/with-moto.sh <command> [args...]
# Exports AGENT_MESH_TEST_AWS_ENDPOINT and dummy AWS credentials/region for the command.
# Installs moto into .venv if it is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/.venv/bin/python"
[ -x "$py" ] || python3 -m venv "$root/.venv"
[ -x "$root/.venv/bin/moto_server" ] || "$root/.venv/bin/pip" install -q 'moto[server]==5.2.5' boto3
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
MOTO_PORT=$port "$py" "$root/tests/moto_server.py" 127.0.0.1 "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true; rm -f "$log"' EXIT
answered=0
for _ in $(seq 1 150); do
  if curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then answered=1; break; fi
  if ! kill -0 $moto_pid 2>/dev/null; then cat "$log"; echo "moto_server did not start" >&2; exit 1; fi
  sleep 0.2
done
if [ "$answered" != 1 ]; then cat "$log"; echo "moto_server did not answer within 30 s" >&2; exit 1; fi
curl -sf -X POST "http://127.0.0.1:$port/moto-api/config" -H 'Content-Type: application/json' \
  -d '{"stepfunctions": {"execute_state_machine": true}}' >/dev/null ||
  { echo "moto_server refused to enable Step Functions execution" >&2; exit 1; }
export AGENT_MESH_TEST_AWS_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
echo "moto server at $AGENT_MESH_TEST_AWS_ENDPOINT" >&2
"$@"
