"""Which DynamoDB requests a KV write sends, recorded by a proxy that forwards everything.

Every write is one conditional PutItem of the whole item. A client remembers what it last read
or wrote of a key (the known-items optimisation): a write to such a key is one PutItem of the
next version, on condition that the stored item is still the one remembered. A key it knows
nothing of is guessed absent; when the guess or the memory is wrong, the failed condition
returns the stored item, and the write is planned again from it (a second PutItem). A
conditional write the memory cannot decide reads the item first. No write ever sends
UpdateItem. With `known_items=off` the results are the same and only the requests differ."""

import uuid

import pytest

from moto_env import moto_endpoint

from agent_mesh import Conflict, MeshClient

from fault_proxy import FaultProxy

ENDPOINT = moto_endpoint()


def _clients(options: str = ""):
    prefix = f"req{uuid.uuid4().hex[:8]}-"
    other = MeshClient(f"aws://?region=us-east-1&endpoint={ENDPOINT}&prefix={prefix}")
    other.provision()
    proxy = FaultProxy(ENDPOINT, rate=0.0, seed=1).start()
    return MeshClient(f"aws://?region=us-east-1&endpoint={proxy.url}&prefix={prefix}{options}"), other, proxy


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
        item, ops = _sent(proxy, lambda: mesh.kv.set("fresh", "x", if_absent=True))
        assert (item.version, ops) == (1, ["PutItem"])
    finally:
        proxy.stop()


def test_a_key_another_client_wrote_is_written_from_the_item_the_failed_put_returns() -> None:
    mesh, other, proxy = _clients()
    try:
        mesh.kv.set("shared", 1)
        mesh.kv.set("shared", 2)
        other.kv.set("shared", "other")  # version 3, behind this client's back
        item, ops = _sent(proxy, lambda: mesh.kv.set("shared", 4))
        assert (item.version, ops) == (4, ["PutItem", "PutItem"]), "stale: the put's condition fails, then the next version"
        item, ops = _sent(proxy, lambda: mesh.kv.set("shared", 5))
        assert (item.version, ops) == (5, ["PutItem"]), "known again"
        assert other.kv.get("shared").value == 5

        read = mesh.kv.get("shared")
        other.kv.set("shared", "other again")
        with pytest.raises(Conflict):
            _, ops = _sent(proxy, lambda: mesh.kv.set("shared", "stale", if_version=read.version))
        assert proxy.operations == ["PutItem"], "one refused put, no retry"
        assert other.kv.get("shared").value == "other again"
        item, ops = _sent(proxy, lambda: mesh.kv.set("shared", "new", if_version=6))
        assert (item.version, ops) == (7, ["PutItem"]), "the refused put taught the client version 6"
    finally:
        proxy.stop()


def test_keys_the_client_never_saw() -> None:
    mesh, other, proxy = _clients()
    try:
        other.kv.set("old", "other")
        item, ops = _sent(proxy, lambda: mesh.kv.set("old", "mine"))
        assert (item.version, ops) == (2, ["PutItem", "PutItem"]), "a wrong guess: the failed put returns the stored item"
        assert other.kv.get("old").value == "mine"
        other.kv.set("cas", 1)
        item, ops = _sent(proxy, lambda: mesh.kv.set("cas", 2, if_version=1))
        assert (item.version, ops) == (2, ["GetItem", "PutItem"]), "if_version on an unknown key reads it first"
        with pytest.raises(Conflict):
            mesh.kv.set("cas", 3, if_absent=True)
    finally:
        proxy.stop()


@pytest.mark.parametrize("known_items", ["on", "off"])
def test_results_are_the_same_with_known_items_on_and_off(known_items: str) -> None:
    mesh, other, proxy = _clients(f"&known_items={known_items}")
    try:
        results = []
        for n in range(3):
            item, ops = _sent(proxy, lambda: mesh.kv.set("k", n))
            results.append((item.version, item.value))
        read = mesh.kv.get("k")
        item, cas_ops = _sent(proxy, lambda: mesh.kv.set("k", "cas", if_version=read.version))
        results.append((item.version, item.value))
        other.kv.set("k", "other")
        with pytest.raises(Conflict):
            mesh.kv.set("k", "stale", if_version=item.version)
        item, ops = _sent(proxy, lambda: mesh.kv.set("k", "last"))
        results.append((item.version, item.value))
        assert results == [(1, 0), (2, 1), (3, 2), (4, "cas"), (6, "last")]
        assert "UpdateItem" not in proxy.operations
        expected_cas = ["PutItem"] if known_items == "on" else ["GetItem", "PutItem"]
        assert cas_ops == expected_cas
        # On, the refused conditional put taught the client the stored item; off, the guess
        # that the key is absent is wrong.
        assert ops == (["PutItem"] if known_items == "on" else ["PutItem", "PutItem"])
    finally:
        proxy.stop()


def test_a_put_whose_answer_was_lost_is_not_written_twice() -> None:
    """The proxy makes every third PutItem and then answers 500: the client reads the item
    back, finds its own write id in it, and counts the write as done (no second version)."""
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
        assert proxy.operations.count("PutItem") == 40, "no put was sent twice"
        assert proxy.operations.count("GetItem") == proxy.lost, "one read back per lost answer"
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
