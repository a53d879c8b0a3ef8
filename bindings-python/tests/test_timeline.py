"""Timeline cases of the behaviour suite (the same cases as core/tests/behaviour/timeline.rs)."""

import datetime as dt
import time

import pytest

from agent_mesh import InvalidInput, MeshClient, TooLarge


def all_pages(mesh: MeshClient, prefix: str, **query):
    out, cursor = [], None
    while True:
        page = mesh.timeline.get(prefix, cursor=cursor, **query)
        if page.next_cursor is not None:
            assert len(page.items) == query.get("limit", 100), "only the last page may be short"
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


def test_append_and_get_newest_first(mesh: MeshClient) -> None:
    appended = [mesh.timeline.append("user/u1/profile", {"i": i}) for i in range(5)]
    assert appended[0].stream == "user/u1/profile" and len(appended[0].id) == 26
    assert isinstance(appended[0].time, dt.datetime)
    page = mesh.timeline.get("user/u1/")
    assert [e.id for e in page.items] == [e.id for e in reversed(appended)]
    assert [e.data for e in page.items] == [{"i": i} for i in reversed(range(5))]
    assert page.next_cursor is None


def test_prefix_pages_are_complete_and_disjoint(mesh: MeshClient) -> None:
    entries = [mesh.timeline.append(f"team/t{i % 3}/agent{i % 4}", {"i": i}) for i in range(120)]
    mesh.timeline.append("teams-other/x", {})
    for prefix in ["team/", "team/t1/", "team/t1/agent1", "team/t2/agent"]:
        expected = [e.id for e in reversed(entries) if e.stream.startswith(prefix)]
        for limit in (7, 1000):
            got = [e.id for e in all_pages(mesh, prefix, limit=limit)]
            assert got == expected, (prefix, limit)


def test_since_until_and_order(mesh: MeshClient) -> None:
    early = mesh.timeline.append("clock/s", {"n": 0})
    time.sleep(0.02)
    middle = mesh.timeline.append("clock/s", {"n": 1})
    time.sleep(0.02)
    late = mesh.timeline.append("clock/s", {"n": 2})
    ids = lambda page: [e.id for e in page.items]  # noqa: E731
    assert ids(mesh.timeline.get("clock/", order="oldest")) == [early.id, middle.id, late.id]
    assert ids(mesh.timeline.get("clock/", since=middle.time, order="oldest")) == [middle.id, late.id]
    assert ids(mesh.timeline.get("clock/", until=middle.time)) == [early.id]
    assert [e.id for e in all_pages(mesh, "clock/", limit=1, order="oldest")] == [early.id, middle.id, late.id]


def test_bad_timeline_input_is_rejected(mesh: MeshClient) -> None:
    for stream in ["", "/abs", "a//b", "a/", "a/../b"]:
        with pytest.raises(InvalidInput, match="timeline.append"):
            mesh.timeline.append(stream, {})
    with pytest.raises(TooLarge):
        mesh.timeline.append("big", {"x": "y" * 300_000})
    with pytest.raises(InvalidInput):
        mesh.timeline.get("", cursor="not-a-cursor")
    with pytest.raises(InvalidInput, match="order"):
        mesh.timeline.get("", order="sideways")
    with pytest.raises(InvalidInput):
        mesh.timeline.append("s", {"not json": object()})
