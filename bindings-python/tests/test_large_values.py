"""Large-value cases of the behaviour suite (the same cases as core/tests/behaviour/large_values.rs):
KV values over the 400 KB item limit, stored as a body in the artifact store and a pointer item."""

import time

import pytest

from agent_mesh import Conflict, InvalidInput, MeshClient, TooLarge

BODIES = ".agent-mesh/kv-values/"
ITEM_LIMIT = 400_000 - 200
MAX_VALUE = 64 * 1024 * 1024


def value(size: int, seed: int) -> dict:
    """A value whose JSON text is about `size` bytes, different for each seed."""
    unit = f"{seed:016x}"
    return {"seed": seed, "text": (unit * (size // 16 + 1))[:size]}


def bodies(mesh: MeshClient) -> list[str]:
    return [m.key for m in mesh.artifacts.list(BODIES, limit=1000).items]


def test_large_values_round_trip_through_every_read(mesh: MeshClient) -> None:
    for i, size in enumerate([400_000, 1_000_000, 20_000_000]):
        v = value(size, i)
        item = mesh.kv.set(f"big/{i}", v)
        assert (item.version, item.value == v) == (1, True), f"set of {size} bytes"
        got = mesh.kv.get(f"big/{i}")
        assert got.value == v and got.version == 1, f"get of {size} bytes"
    assert len(bodies(mesh)) == 3, "one body per large value"
    mesh.kv.set("big/small", "small")
    got = mesh.kv.batch_get(["big/0", "big/none", "big/2", "big/small"])
    assert [None if i is None else i.value for i in got] == [value(400_000, 0), None, value(20_000_000, 2), "small"]
    page = mesh.kv.list("big/", limit=2)
    assert len(page.items) == 2 and page.items[1].value == value(1_000_000, 1)
    # A page ends early once the bodies it read pass 8 MiB, whatever its limit: the 20 MB value
    # comes alone, with a cursor to the rest.
    rest = mesh.kv.list("big/", limit=10, cursor=page.next_cursor)
    assert [i.key for i in rest.items] == ["big/2"]
    assert rest.items[0].value == value(20_000_000, 2)
    last = mesh.kv.list("big/", limit=10, cursor=rest.next_cursor)
    assert ([i.key for i in last.items], last.next_cursor) == (["big/small"], None)
    # The bodies are agent-mesh's own: not listed with the client's artifacts, not readable.
    assert mesh.artifacts.list("").items == []
    with pytest.raises(InvalidInput, match=r"\.agent-mesh"):
        mesh.artifacts.get(bodies(mesh)[0])
    # The upstream tools see plain values too.
    text = "t" * 1_000_000
    mesh.call("mesh_kv_set", {"key": "tool/big", "value": text})
    assert mesh.call("mesh_kv_get", {"key": "tool/big"})["value"] == text


def test_values_over_64_mib_are_too_large(mesh: MeshClient) -> None:
    key = "edge"
    fits = "x" * (ITEM_LIMIT - len(key) - 2)
    mesh.kv.set(key, fits)
    assert bodies(mesh) == [], "an item within the limit has no body"
    over = "x" * (ITEM_LIMIT - len(key) - 1)
    mesh.kv.set(key, over)
    assert mesh.kv.get(key).value == over
    assert len(bodies(mesh)) == 1, "one byte over has a body"
    with pytest.raises(TooLarge) as info:
        mesh.kv.set(key, "x" * (MAX_VALUE - 1))
    assert "64 MiB" in str(info.value) and '"edge"' in str(info.value)
    assert mesh.kv.get(key).value == over, "the old value survives"
    assert len(bodies(mesh)) == 1


def test_large_values_keep_ttl_conditions_and_versions(mesh: MeshClient) -> None:
    item = mesh.kv.set("ttl", value(500_000, 1), ttl_seconds=1.5)
    assert item.expires_at is not None
    assert mesh.kv.get("ttl").value == value(500_000, 1)
    time.sleep(1.7)
    assert mesh.kv.get("ttl") is None
    assert mesh.kv.batch_get(["ttl"]) == [None]
    assert mesh.kv.list("ttl").items == []
    # An expired large value counts as absent for if_absent; its body goes with the new write.
    mesh.kv.set("ttl", value(500_000, 2), if_absent=True)
    assert len(bodies(mesh)) == 1, "the expired body was released"

    v1 = mesh.kv.set("cas", value(600_000, 1), if_absent=True)
    assert v1.version == 1
    assert mesh.kv.set("cas", value(600_000, 2), if_version=1).version == 2
    for refused in ({"if_version": 1}, {"if_absent": True}):
        with pytest.raises(Conflict):
            mesh.kv.set("cas", value(600_000, 3), **refused)
    now = mesh.kv.get("cas")
    assert (now.version, now.value == value(600_000, 2)) == (2, True)
    assert now.created_at == v1.created_at, "created_at is kept across overwrites"
    assert len(bodies(mesh)) == 2, "refused writes leave no body behind"
    assert mesh.kv.set("cas", "small again", if_version=2).version == 3
    assert len(bodies(mesh)) == 1


def test_large_values_leave_no_orphan_bodies(mesh: MeshClient) -> None:
    mesh.kv.set("a", value(450_000, 1))
    first = bodies(mesh)
    assert len(first) == 1
    mesh.kv.set("a", value(450_000, 2))
    second = bodies(mesh)
    assert len(second) == 1 and first != second, "an overwrite releases the old body"
    mesh.kv.set("a", 1)
    assert bodies(mesh) == [], "a small overwrite releases it"
    mesh.kv.set("a", value(450_000, 3))
    assert mesh.kv.delete("a") is True
    assert bodies(mesh) == [], "a delete releases it"
    assert mesh.kv.delete("a") is False

    mesh.kv.batch_set({"b": value(700_000, 1), "c": value(700_000, 2), "d": "small"})
    assert len(bodies(mesh)) == 2
    assert mesh.kv.batch_get(["b", "c", "d"])[1].value == value(700_000, 2)
    mesh.kv.batch_set({"b": 0, "c": value(700_000, 3)})
    assert len(bodies(mesh)) == 1
    assert mesh.kv.get("c").value == value(700_000, 3)
    assert mesh.kv.delete("c") is True
    assert bodies(mesh) == []
    # Writes refused after their bodies were stored (a key too long only with the scope's
    # prefix, which the backend's scope layer checks) leave no body behind.
    scoped = mesh.scope("refused")
    with pytest.raises(InvalidInput):
        scoped.kv.set("k" * 1020, value(700_000, 4))
    with pytest.raises(InvalidInput):
        scoped.kv.batch_set({"e": value(700_000, 4), "k" * 1020: 1})
    assert scoped.kv.get("e") is None
    assert bodies(scoped) == []

    # A tenant's bodies stay in its scope, where its IAM policy reaches.
    tenant = mesh.scope("large-t")
    tenant.kv.set("k", value(450_000, 5))
    assert len(bodies(tenant)) == 1 and bodies(mesh) == []
    assert tenant.kv.get("k").value == value(450_000, 5)
    assert mesh.kv.get("tenants/large-t/k").value == value(450_000, 5)
    assert tenant.kv.delete("k") is True
    assert bodies(tenant) == []
