"""A proxy in front of moto answers 30% of requests with 500/503/throttling errors (before
they reach moto). Every operation completes, or fails with a retryable error after the SDK's
bounded retries; read back without the proxy, nothing is written twice or lost."""

import os
import uuid

import pytest

from moto_env import moto_endpoint

from agent_mesh import MeshClient, MeshError

from fault_proxy import FaultProxy

ENDPOINT = moto_endpoint()


def test_operations_survive_injected_faults() -> None:
    prefix = f"fault{uuid.uuid4().hex[:8]}-"
    direct = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}")
    direct.provision()
    proxy = FaultProxy(ENDPOINT, rate=0.3, seed=11).start()
    try:
        faulty = MeshClient(f"aws://?region=us-east-1&endpoint={proxy.url}&prefix={prefix}")
        outcomes = {}
        for i in range(100):
            key = f"k:{i:03}"
            try:
                faulty.kv.set(key, {"i": i})
                outcomes[key] = "ok"
            except MeshError as e:
                assert e.retryable and e.kind in ("Throttled", "Unavailable"), f"{key}: {e.kind}: {e}"
                outcomes[key] = "failed"
        artifact_outcomes = {}
        for i in range(20):
            key = f"a/{i:02}"
            try:
                faulty.artifacts.put(key, f"artifact {i}".encode() * 100, content_type="text/plain")
                artifact_outcomes[key] = "ok"
            except MeshError as e:
                assert e.retryable, f"{key}: {e.kind}: {e}"
                artifact_outcomes[key] = "failed"
        # Reads through the faulty proxy: each returns the right data or a retryable error.
        for key, outcome in outcomes.items():
            if outcome == "ok":
                try:
                    assert faulty.kv.get(key).value == {"i": int(key[2:])}
                except MeshError as e:
                    assert e.retryable, f"{key}: {e}"
        injected = proxy.injected
    finally:
        proxy.stop()

    assert injected >= 30, f"the proxy injected only {injected} faults"
    # Without the proxy: every acknowledged write is there exactly once (version 1), and a write
    # reported failed left nothing behind (its requests never reached the server).
    for key, outcome in outcomes.items():
        item = direct.kv.get(key)
        if outcome == "ok":
            assert item is not None and item.value == {"i": int(key[2:])} and item.version == 1, key
        else:
            assert item is None, f"{key} reported failed but was written"
    for key, outcome in artifact_outcomes.items():
        artifact = direct.artifacts.get(key)
        if outcome == "ok":
            assert artifact is not None and artifact.data == f"artifact {int(key[2:])}".encode() * 100, key
        else:
            assert artifact is None, f"{key} reported failed but was written"
    ok = sum(o == "ok" for o in outcomes.values()) + sum(o == "ok" for o in artifact_outcomes.values())
    print(f"{injected} faults injected; {ok} of {len(outcomes) + len(artifact_outcomes)} writes completed")


def test_a_failed_multipart_upload_is_aborted(tmp_path) -> None:
    import boto3

    prefix = f"abort{uuid.uuid4().hex[:8]}-"
    MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}").provision()
    # Every UploadPart fails; everything else (create, abort) goes through.
    proxy = FaultProxy(ENDPOINT, rate=1.0, seed=3, only=lambda method, path: method == "PUT" and "partNumber=" in path).start()
    try:
        faulty = MeshClient(f"aws://?region=us-east-1&endpoint={proxy.url}&prefix={prefix}")
        source = tmp_path / "big.bin"
        source.write_bytes(os.urandom(20 * 1024 * 1024))
        with pytest.raises(MeshError) as info:
            faulty.artifacts.put_file("big.bin", source)
        assert info.value.retryable
        assert proxy.injected > 0
    finally:
        proxy.stop()
    s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1")
    bucket = f"{prefix}agent-mesh-dev-artifacts"
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == [], "the failed upload was left behind"
    assert MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}").artifacts.head("big.bin") is None
