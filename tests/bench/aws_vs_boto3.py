"""agent-mesh (Rust and Python) against boto3 for the same KV get/set and artifact put/get
loop on the same moto server, in the same run. Run through tests/with-moto.sh:

    tests/with-moto.sh .venv/bin/python tests/bench/aws_vs_boto3.py

BENCH_AWS_OPS sets the rounds (default 200). agent-mesh Python and boto3 alternate in rounds of
20 so drift in the server hits both; the Rust worker runs its rounds right after."""

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import boto3

import agent_mesh

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("BENCH_AWS_OPS", "200"))
SIZE = 64 * 1024
ENDPOINT = os.environ["AGENT_MESH_TEST_AWS_ENDPOINT"]
# "kv.set" writes a new key (agent-mesh guesses it absent: one PutItem on condition that it is
# absent or expired), "kv.set again" the key just written and read (agent-mesh knows its version:
# one PutItem on condition that it is unchanged; core/src/aws/known_items.rs); boto3 sends a
# plain, unconditional PutItem for both.
OPS = ["kv.set", "kv.get", "kv.set again", "artifacts.put", "artifacts.get"]
# What agent-mesh's kv.set sends for a key it neither knows nor guesses absent (after recent
# unknown keys existed, or another client wrote it): a versioned, conditional UpdateItem.
SET_EXPRESSION = ("SET #value = :v, #version = if_not_exists(#version, :zero) + :one, created_at = if_not_exists(created_at, :now), "
                  "updated_at = :now, kv_shard = :shard REMOVE expires_at, expires_at_ms")
SET_CONDITION = ("attribute_not_exists(#k) OR (attribute_exists(#version) AND (attribute_not_exists(expires_at_ms) OR expires_at_ms > :now))")


def stats(samples):
    samples.sort()
    at = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))]  # noqa: E731
    return {"p50_ns": at(0.5), "p99_ns": at(0.99)}


def cargo_release_worker() -> Path:
    out = subprocess.run(["cargo", "build", "--release", "-q", "-p", "agent-mesh-tests", "--message-format", "json"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            return Path(msg["executable"])
    raise SystemExit("cargo built no mesh-worker")


def main() -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}-"
    url = f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}"
    mesh = agent_mesh.MeshClient(url)
    mesh.provision()
    table = f"{prefix}agent-mesh-dev-kv"
    bucket = f"{prefix}agent-mesh-dev-artifacts"
    ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1")
    s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1")
    value = {"timezone": "PST", "language": "en", "theme": "dark", "notifications": True}
    data = os.urandom(SIZE)
    clock = time.perf_counter_ns
    sides = ("py", "boto3", "boto3-update")
    samples = {side: {op: [] for op in OPS} for side in sides}

    def timed(side, op, fn):
        t = clock()
        fn()
        samples[side][op].append(clock() - t)

    def py_round(i):
        key = f"py:{i}"
        timed("py", "kv.set", lambda: mesh.kv.set(key, {"settings": value, "round": 1}))
        timed("py", "kv.get", lambda: mesh.kv.get(key).value)
        timed("py", "kv.set again", lambda: mesh.kv.set(key, {"settings": value, "round": 2}))
        timed("py", "artifacts.put", lambda: mesh.artifacts.put(f"py/{i}", data, content_type="application/octet-stream"))
        timed("py", "artifacts.get", lambda: mesh.artifacts.get(f"py/{i}").data)

    def boto_round(i):
        key = f"boto:{i}"
        now = int(time.time() * 1000)
        item = lambda r: {"key": {"S": key}, "value": {"S": json.dumps({"settings": value, "round": r})},  # noqa: E731
                          "version": {"N": str(r)}, "created_at": {"N": str(now)}, "updated_at": {"N": str(now)},
                          "kv_shard": {"S": "kv"}}
        timed("boto3", "kv.set", lambda: ddb.put_item(TableName=table, Item=item(1)))
        timed("boto3", "kv.get", lambda: json.loads(ddb.get_item(TableName=table, Key={"key": {"S": key}}, ConsistentRead=True)["Item"]["value"]["S"]))
        timed("boto3", "kv.set again", lambda: ddb.put_item(TableName=table, Item=item(2)))
        timed("boto3", "artifacts.put", lambda: s3.put_object(Bucket=bucket, Key=f"boto/{i}", Body=data, ContentType="application/octet-stream"))
        timed("boto3", "artifacts.get", lambda: s3.get_object(Bucket=bucket, Key=f"boto/{i}")["Body"].read())
        timed("boto3-update", "kv.set", lambda: ddb.update_item(
            TableName=table, Key={"key": {"S": f"upd:{i}"}}, UpdateExpression=SET_EXPRESSION, ConditionExpression=SET_CONDITION,
            ExpressionAttributeNames={"#k": "key", "#value": "value", "#version": "version"},
            ExpressionAttributeValues={":v": {"S": json.dumps(value)}, ":zero": {"N": "0"}, ":one": {"N": "1"},
                                       ":now": {"N": str(now)}, ":shard": {"S": "kv"}},
            ReturnValues="ALL_NEW"))

    for i in range(3):  # warm both clients
        py_round(-1 - i)
        boto_round(-1 - i)
    samples = {side: {op: [] for op in OPS} for side in sides}
    for start in range(0, N, 20):
        for i in range(start, min(start + 20, N)):
            py_round(i)
        for i in range(start, min(start + 20, N)):
            boto_round(i)

    worker = cargo_release_worker()
    rust = json.loads(subprocess.run([str(worker), "bench-ops", url, str(N), str(SIZE)],
                                     check=True, capture_output=True, text=True).stdout)
    print(f"moto server, {N} rounds, artifacts of {SIZE // 1024} KiB; p50 / p99 in ms")
    print(f"{'operation':16} {'agent-mesh Rust':>20} {'agent-mesh Python':>20} {'boto3':>20}")
    ms = lambda s: f"{s['p50_ns'] / 1e6:7.2f} / {s['p99_ns'] / 1e6:7.2f}"  # noqa: E731
    for op in OPS:
        py, bo = stats(samples["py"][op]), stats(samples["boto3"][op])
        print(f"{op:16} {ms(rust[op]):>20} {ms(py):>20} {ms(bo):>20}   Python/boto3 p50 {py['p50_ns'] / bo['p50_ns']:.2f}x")
    same = stats(samples["boto3-update"]["kv.set"])
    py = stats(samples["py"]["kv.set"])
    print(f"{'kv.set, same req':16} {'':>20} {'':>20} {ms(same):>20}   Python/boto3 p50 {py['p50_ns'] / same['p50_ns']:.2f}x"
          "  (boto3 sending the versioned conditional UpdateItem of agent-mesh's kv.set of a key it neither knows nor guesses absent)")


if __name__ == "__main__":
    main()
