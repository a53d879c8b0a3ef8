"""Which DynamoDB requests a KV write sends, recorded by a proxy that forwards everything.

A client remembers what it last read or wrote of a key; a write to such a key is one
conditional PutItem of the whole item (version + 1, on condition that the stored version and
creation time are still the ones remembered). A key it knows nothing of is guessed absent (one
PutItem on condition that it is absent or expired) while recent unknown keys mostly were, and
written with one UpdateItem when they were not; a key that another client wrote since it was
remembered is written with UpdateItem from then on. The values and versions are checked too."""

import uuid

import pytest

from moto_env import moto_endpoint

from agent_mesh import Conflict, MeshClient

from fault_proxy import FaultProxy

ENDPOINT = moto_endpoint()


def _clients():
    prefix = f"req{uuid.uuid4().hex[:8]}-"
    other = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}")
    other.provision()
    proxy = FaultProxy(ENDPOINT, rate=0.0, seed=1).start()
    return MeshClient(f"aws://?region=us-east-1&endpoint={proxy.url}&prefix={prefix}"), other, proxy


def _sent(proxy, action):
    proxy.operations.clear()
    result = action()
    return result, list(proxy.operations)


def test_writes_to_keys_the_client_knows_are_one_conditional_put() -> None:
    mesh, _, proxy = _clients()
    try:
        item, ops = _sent(proxy, lambda: mesh.kv.set("k", {"n": 1}))
        assert (item.version, ops) == (1, ["PutItem"]), "a key this client never saw, guessed absent"
        item, ops = _sent(proxy, lambda: mesh.kv.set("k", {"n": 2}))
        assert (item.version, ops) == (2, ["PutItem"])
        read, ops = _sent(proxy, lambda: mesh.kv.get("k"))
        assert (read.value, ops) == ({"n": 2}, ["GetItem"])
        item, ops = _sent(proxy, lambda: mesh.kv.set("k", {"n": 3}, if_version=read.version))
        assert (item.version, item.created_at, ops) == (3, read.created_at, ["PutItem"])

        assert _sent(proxy, lambda: mesh.kv.get("new"))[0] is None
        item, ops = _sent(proxy, lambda: mesh.kv.set("new", "v"))
        assert (item.version, ops) == (1, ["PutItem"]), "a key read as absent"
        _, ops = _sent(proxy, lambda: mesh.kv.delete("new"))
        item, ops = _sent(proxy, lambda: mesh.kv.set("new", "w"))
        assert (item.version, ops) == (1, ["PutItem"]), "a key this client deleted"
    finally:
        proxy.stop()


def test_a_key_another_client_writes_goes_back_to_update_item() -> None:
    mesh, other, proxy = _clients()
    try:
        mesh.kv.set("shared", 1)
        mesh.kv.set("shared", 2)
        other.kv.set("shared", "other")  # version 3, behind this client's back
        item, ops = _sent(proxy, lambda: mesh.kv.set("shared", 4))
        assert (item.version, ops) == (4, ["PutItem", "UpdateItem"]), "stale: the put's condition fails, then an update"
        item, ops = _sent(proxy, lambda: mesh.kv.set("shared", 5))
        assert (item.version, ops) == (5, ["UpdateItem"]), "a contended key is updated from now on"
        assert other.kv.get("shared").value == 5

        read = mesh.kv.get("shared")
        other.kv.set("shared", "other again")
        with pytest.raises(Conflict):
            mesh.kv.set("shared", "stale", if_version=read.version)
        assert other.kv.get("shared").value == "other again"
    finally:
        proxy.stop()


def test_unknown_keys_are_guessed_absent_while_most_were() -> None:
    mesh, other, proxy = _clients()
    try:
        for i in range(2):
            other.kv.set(f"old{i}", "other")
        item, ops = _sent(proxy, lambda: mesh.kv.set("old0", "mine"))
        assert (item.version, ops) == (2, ["PutItem", "PutItem"]), "a wrong guess: the failed put returns the stored version"
        assert other.kv.get("old0").value == "mine"
        item, ops = _sent(proxy, lambda: mesh.kv.set("old1", "mine"))
        assert (item.version, ops) == (2, ["UpdateItem"]), "after a miss, unknown keys are updated"
        for i in range(8):
            item, ops = _sent(proxy, lambda: mesh.kv.set(f"new{i}", i))
            assert (item.version, ops) == (1, ["UpdateItem"]), f"new{i}: not guessing yet"
        item, ops = _sent(proxy, lambda: mesh.kv.set("new8", 8))
        assert (item.version, ops) == (1, ["PutItem"]), "eight new keys make up for two misses"
        assert [other.kv.get(f"new{i}").value for i in range(9)] == list(range(9))
    finally:
        proxy.stop()


def test_a_put_whose_answer_was_lost_is_not_written_twice() -> None:
    """The proxy makes every third PutItem and then answers 500: the SDK re-sends it, its
    condition fails on the item it stored itself, and that counts as done (no second version)."""
    prefix = f"lost{uuid.uuid4().hex[:8]}-"
    direct = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}")
    direct.provision()
    proxy = FaultProxy(ENDPOINT, rate=0.0, seed=1, lose_every=3, lose_operation="PutItem").start()
    try:
        mesh = MeshClient(f"aws://?region=us-east-1&endpoint={proxy.url}&prefix={prefix}")
        for i in range(10):
            assert mesh.kv.set(f"new{i}", i).version == 1, "guessed absent, put once"
        for n in range(1, 31):
            item = mesh.kv.set("counter", n)
            assert (item.version, item.value) == (n, n), "one version per write"
        assert proxy.lost >= 10
        assert "UpdateItem" not in proxy.operations, "no write fell back to an update"
        stored = direct.kv.get("counter")
        assert (stored.version, stored.value) == (30, 30)
        assert [direct.kv.get(f"new{i}").version for i in range(10)] == [1] * 10
    finally:
        proxy.stop()


def test_listing_and_timeline_pages_are_queries_never_scans() -> None:
    """A KV prefix page and a timeline page each cost Query requests on an index, never a Scan
    of the table (the README's data layout)."""
    mesh, _, proxy = _clients()
    try:
        mesh.kv.batch_set({f"doc:{i:02}": i for i in range(30)})
        mesh.kv.batch_set({f"other:{i:02}": i for i in range(30)})
        for i in range(12):
            mesh.timeline.append(f"agent/a{i % 3}", {"i": i})
        page, ops = _sent(proxy, lambda: mesh.kv.list("doc:", limit=10))
        assert [item.key for item in page.items] == [f"doc:{i:02}" for i in range(10)]
        assert ops and set(ops) == {"Query"}, ops
        _, ops = _sent(proxy, lambda: mesh.kv.list("doc:", limit=10, cursor=page.next_cursor))
        assert set(ops) == {"Query"}, ops
        entries, ops = _sent(proxy, lambda: mesh.timeline.get("agent/a1", limit=3))
        assert [e.data["i"] for e in entries.items] == [10, 7, 4]
        assert ops and set(ops) == {"Query"}, ops
    finally:
        proxy.stop()
