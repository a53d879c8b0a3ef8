"""KV cases of the behaviour suite (the same cases as core/tests/behaviour/kv.rs)."""

import datetime as dt
import threading
import time

import pytest

import agent_mesh
from agent_mesh import Conflict, InvalidInput, MeshClient, MeshError, TooLarge


def test_set_get_roundtrip_all_json_types(mesh: MeshClient) -> None:
    values = [None, True, 42, -1.5, 'text with "quotes" and ünïcode', [1, "two", {"three": 3}],
              {"timezone": "PST", "nested": {"list": [1, 2], "empty": {}}}, 2**63 + 5, ("tu", "ple")]
    for i, value in enumerate(values):
        key = f"roundtrip:{i}"
        stored = mesh.kv.set(key, value)
        assert stored.version == 1
        item = mesh.kv.get(key)
        assert item is not None
        expected = list(value) if isinstance(value, tuple) else value
        assert item.value == expected and type(item.value) is type(expected)
        assert item.key == key and item.version == 1
        assert item.created_at == item.updated_at
        assert item.expires_at is None
        assert isinstance(item.created_at, dt.datetime) and item.created_at.tzinfo is not None
    assert mesh.kv.get("roundtrip:missing") is None
    assert list(mesh.kv.get("roundtrip:6").value) == ["timezone", "nested"], "dict order is kept"


def test_overwrite_bumps_version_and_keeps_created_at(mesh: MeshClient) -> None:
    first = mesh.kv.set("counter", 1)
    time.sleep(0.005)
    second = mesh.kv.set("counter", 2)
    assert second.version == 2
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    item = mesh.kv.get("counter")
    assert (item.value, item.version) == (2, 2)


def test_ttl_expiry_hides_items_everywhere(mesh: MeshClient) -> None:
    mesh.kv.set("ttl:a", "a", ttl_seconds=0.4)
    mesh.kv.set("ttl:b", "b", ttl_seconds=0.4)
    mesh.kv.set("ttl:keep", "keep", ttl_hours=1)
    assert mesh.kv.get("ttl:a") is not None
    time.sleep(0.6)
    assert mesh.kv.get("ttl:a") is None
    a, keep = mesh.kv.batch_get(["ttl:a", "ttl:keep"])
    assert a is None and keep is not None
    assert [i.key for i in mesh.kv.list("ttl:").items] == ["ttl:keep"]
    assert mesh.kv.delete("ttl:b") is False
    with pytest.raises(Conflict):
        mesh.kv.set("ttl:a", 0, if_version=1)
    again = mesh.kv.set("ttl:a", "again", if_absent=True)
    assert again.version == 1
    assert mesh.kv.get("ttl:a").value == "again"


def test_ttl_constructors_set_expires_at(mesh: MeshClient) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    hours = mesh.kv.set("ttl:h", 1, ttl_hours=720)
    secs = mesh.kv.set("ttl:s", 1, ttl_seconds=90)
    assert abs((hours.expires_at - now).total_seconds() - 720 * 3600) < 5
    assert abs((secs.expires_at - now).total_seconds() - 90) < 5
    assert mesh.kv.get("ttl:h").expires_at == hours.expires_at
    for bad in ({"ttl_seconds": 0}, {"ttl_seconds": -1}, {"ttl_seconds": 1, "ttl_hours": 1}):
        with pytest.raises(InvalidInput, match="TTL|ttl"):
            mesh.kv.set("ttl:z", 1, **bad)


def test_if_version_conflicts_change_nothing(mesh: MeshClient) -> None:
    mesh.kv.set("cas", "v1")
    assert mesh.kv.set("cas", "v2", if_version=1).version == 2
    with pytest.raises(Conflict) as info:
        mesh.kv.set("cas", "stale", if_version=1)
    err = info.value
    assert isinstance(err, MeshError)
    assert err.kind == "Conflict" and err.retryable is False
    assert "kv.set" in str(err) and '"cas"' in str(err) and "current version is 2" in str(err)
    assert err.context["key"] == "cas"
    item = mesh.kv.get("cas")
    assert (item.value, item.version) == ("v2", 2)
    with pytest.raises(Conflict):
        mesh.kv.set("cas:none", 1, if_version=1)
    assert mesh.kv.get("cas:none") is None


def test_if_absent_creates_once(mesh: MeshClient) -> None:
    mesh.kv.set("once", "first", if_absent=True)
    with pytest.raises(Conflict):
        mesh.kv.set("once", "second", if_absent=True)
    assert mesh.kv.get("once").value == "first"
    with pytest.raises(InvalidInput):
        mesh.kv.set("once", 3, if_absent=True, if_version=1)
    assert mesh.kv.delete("once") is True
    assert mesh.kv.set("once", "third", if_absent=True).version == 1


def test_delete_reports_whether_live(mesh: MeshClient) -> None:
    mesh.kv.set("del", 1)
    assert mesh.kv.delete("del") is True
    assert mesh.kv.delete("del") is False
    assert mesh.kv.get("del") is None
    assert mesh.kv.delete("never-written") is False


def list_all(mesh: MeshClient, prefix: str, limit: int) -> list:
    keys, cursor = [], None
    while True:
        page = mesh.kv.list(prefix, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        if page.next_cursor is not None:
            assert len(page.items) == limit, "a page before the last is full"
        keys += [i.key for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return keys


def test_list_pages_are_complete_and_disjoint(mesh: MeshClient) -> None:
    expected = [f"page:{i:04}" for i in range(250)]
    for start in range(0, 250, 100):
        mesh.kv.batch_set({k: i for i, k in enumerate(expected[start:start + 100], start)})
    mesh.kv.set("other:1", 1)
    for limit in (1, 7, 100, 250, 1000):
        keys = list_all(mesh, "page:", limit)
        assert keys == expected, f"limit {limit}: a key was lost, repeated or out of order"
    first = mesh.kv.list("page:")
    assert len(first.items) == 100 and first.next_cursor is not None
    page = mesh.kv.list("page:", limit=10)
    mesh.kv.set("page:9999", "late")
    rest = mesh.kv.list("page:", limit=1000, cursor=page.next_cursor)
    assert rest.items[-1].key == "page:9999" and len(rest.items) == 241


def test_list_respects_prefix_bounds(mesh: MeshClient) -> None:
    for key in ["use", "user", "user:", "user:1", "user:1:a", "user;", "user\U0010ffff", "usera", "ü:1", "ü;"]:
        mesh.kv.set(key, key)
    keys = lambda prefix: [i.key for i in mesh.kv.list(prefix).items]  # noqa: E731
    assert keys("user:") == ["user:", "user:1", "user:1:a"]
    assert keys("user") == ["user", "user:", "user:1", "user:1:a", "user;", "usera", "user\U0010ffff"]
    assert keys("ü") == ["ü:1", "ü;"]
    assert keys("nothing") == []
    assert len(mesh.kv.list().items) == 10


def test_list_options_are_validated(mesh: MeshClient) -> None:
    with pytest.raises(InvalidInput, match="kv.list"):
        mesh.kv.list("p", limit=0)
    with pytest.raises(InvalidInput):
        mesh.kv.list("p", cursor="not a cursor!")
    for start in range(0, 1001, 100):
        mesh.kv.batch_set([(f"clamp:{i:04}", i) for i in range(start, min(start + 100, 1001))])
    page = mesh.kv.list("clamp:", limit=5000)
    assert len(page.items) == 1000 and page.next_cursor is not None


def test_batch_get_and_set(mesh: MeshClient) -> None:
    mesh.kv.batch_set({f"batch:{i}": {"n": i} for i in range(50)}, ttl_hours=1)
    got = mesh.kv.batch_get(["batch:7", "batch:missing", "batch:0", "batch:7"])
    assert len(got) == 4
    assert got[0].value == {"n": 7} and got[1] is None and got[2].value == {"n": 0}
    assert got[0].expires_at is not None and got[3].value == got[0].value
    mesh.kv.batch_set([("batch:7", "new")])
    assert mesh.kv.get("batch:7").version == 2
    assert mesh.kv.batch_get([]) == []
    mesh.kv.batch_set({})


def test_batch_set_rejects_bad_batches_whole(mesh: MeshClient) -> None:
    with pytest.raises(InvalidInput, match="at most 100"):
        mesh.kv.batch_set({f"big:{i}": i for i in range(101)})
    with pytest.raises(InvalidInput):
        mesh.kv.batch_set([("d", 1), ("d", 2)])
    with pytest.raises(TooLarge):
        mesh.kv.batch_set({"mixed:ok": 1, "mixed:big": "x" * (64 * 1024 * 1024)})
    assert mesh.kv.get("mixed:ok") is None
    for key in ("big:0", "d"):
        assert mesh.kv.get(key) is None


def test_bad_keys_are_invalid_input(mesh: MeshClient) -> None:
    long = "k" * 1025
    for key in ("", long, "nul\0key"):
        with pytest.raises(InvalidInput, match="kv.set"):
            mesh.kv.set(key, 1)
        for call in (lambda: mesh.kv.get(key), lambda: mesh.kv.delete(key), lambda: mesh.kv.batch_get([key])):
            with pytest.raises(InvalidInput):
                call()
    with pytest.raises(InvalidInput, match="1025 bytes"):
        mesh.kv.get(long)
    mesh.kv.set("k" * 1024, "max")
    assert mesh.kv.get("k" * 1024).value == "max"
    mesh.kv.set("é" * 512, 1)
    with pytest.raises(InvalidInput):
        mesh.kv.set("é" * 513, 1)
    for key in ("with space", "../../etc/passwd", "emoji:🚀", "tab\tkey"):
        mesh.kv.set(key, key)
        assert mesh.kv.get(key).value == key


def test_non_json_values_are_invalid_input(mesh: MeshClient) -> None:
    for bad, where in ((object(), "value"), ({"a": [1, {2}]}, 'value["a"][1]'), ({1: "x"}, "key of type int"),
                       (float("nan"), "NaN"), (2**70, "64-bit")):
        with pytest.raises(InvalidInput) as info:
            mesh.kv.set("bad", bad)
        assert where in str(info.value) and "kv.set" in str(info.value)
    assert mesh.kv.get("bad") is None


def test_concurrent_conditional_increments_are_exact(mesh: MeshClient) -> None:
    mesh.kv.set("count", 0)

    def worker() -> None:
        done = 0
        while done < 50:
            item = mesh.kv.get("count")
            try:
                mesh.kv.set("count", item.value + 1, if_version=item.version)
                done += 1
            except Conflict:
                pass

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    item = mesh.kv.get("count")
    assert (item.value, item.version) == (200, 201)


def test_exception_hierarchy() -> None:
    kinds = ["NotFound", "Conflict", "InvalidInput", "TooLarge", "PermissionDenied", "Throttled",
             "Unavailable", "Unsupported", "Config", "Internal"]
    for kind in kinds:
        cls = getattr(agent_mesh, kind)
        assert issubclass(cls, agent_mesh.MeshError) and cls.__name__ == kind
    with pytest.raises(agent_mesh.Config, match="local://, memory://, aws://") as info:
        MeshClient("redis://x")
    assert info.value.kind == "Config"
