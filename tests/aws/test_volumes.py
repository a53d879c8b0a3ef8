"""The AWS-only volume checks of core/tests/aws.rs, through the Python binding: 2,500-key
pagination, a 1-second TTL on an item moto still stores, a 40 MiB multipart round trip, and
1,200 artifacts listed completely. Needs the moto server of tests/with-moto.sh."""

import os
import time
import uuid

import boto3

from moto_env import moto_endpoint

from agent_mesh import MeshClient

ENDPOINT = moto_endpoint()


def fresh(name: str):
    prefix = f"{name}{uuid.uuid4().hex[:8]}-"
    mesh = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}")
    mesh.provision()
    return mesh, prefix


def test_pagination_over_2500_keys() -> None:
    mesh, _ = fresh("pg")
    keys = [f"page:{i:05}" for i in range(2500)]
    for start in range(0, 2500, 100):
        mesh.kv.batch_set({k: k for k in keys[start:start + 100]})
    seen, cursor = [], None
    while True:
        page = mesh.kv.list("page:", limit=1000, cursor=cursor)
        seen += [i.key for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == keys


def test_one_second_ttl_hides_an_item_moto_still_stores() -> None:
    mesh, prefix = fresh("ttl")
    mesh.kv.set("short", 1, ttl_seconds=1)
    assert mesh.kv.get("short") is not None
    time.sleep(1.3)
    assert mesh.kv.get("short") is None
    table = boto3.resource("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1").Table(f"{prefix}agent-mesh-dev-kv")
    assert "Item" in table.get_item(Key={"key": "short"}), "moto does not delete expired items"


def test_40_mib_multipart_round_trip(tmp_path) -> None:
    mesh, _ = fresh("mp")
    data = os.urandom(40 * 1024 * 1024)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    meta = mesh.artifacts.put_file("models/big.bin", source, content_type="application/x-model")
    assert meta.size == len(data) and meta.etag.endswith("-5"), meta.etag
    mesh.artifacts.get_to_file("models/big.bin", tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == data


def test_listing_1200_artifacts() -> None:
    mesh, _ = fresh("ls")
    keys = [f"logs/{i:05}.txt" for i in range(1200)]
    for key in keys:
        mesh.artifacts.put(key, key.encode(), content_type="text/plain")
    seen, cursor = [], None
    while True:
        page = mesh.artifacts.list("logs/", limit=1000, cursor=cursor)
        assert all(m.content_type == "text/plain" for m in page.items)
        seen += [m.key for m in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == keys
