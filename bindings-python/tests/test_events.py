"""Event cases of the behaviour suite (the same cases as core/tests/behaviour/events.rs), and
the shared pattern table (tests/patterns/cases.json) through the Python API."""

import asyncio
import datetime as dt
import json
import pathlib
import time
import uuid

import pytest

import agent_mesh
from agent_mesh import AsyncMeshClient, InvalidInput, MeshClient, MeshError, TooLarge

CASES = json.loads((pathlib.Path(__file__).parents[2] / "tests" / "patterns" / "cases.json").read_text())


def is_aws(mesh: MeshClient) -> bool:
    return "Aws" in repr(mesh)


def arrives(sub: agent_mesh.Subscription) -> agent_mesh.ReceivedEvent:
    event = sub.next(timeout=20)
    assert event is not None, "an event that was sent did not arrive"
    return event


def quiet(mesh: MeshClient) -> float:
    return 3.0 if is_aws(mesh) else 0.3


@pytest.mark.parametrize("case", [c for c in CASES if "matches" in c], ids=lambda c: c["name"])
def test_pattern_table_matches(case) -> None:
    assert agent_mesh.test_event_pattern(case["pattern"], case["event"]) is case["matches"]
    # JSON text is accepted too.
    assert agent_mesh.test_event_pattern(json.dumps(case["pattern"]), json.dumps(case["event"])) is case["matches"]


@pytest.mark.parametrize("case", [c for c in CASES if "error" in c], ids=lambda c: c["name"])
def test_pattern_table_rejects(case) -> None:
    with pytest.raises(InvalidInput) as raised:
        agent_mesh.test_event_pattern(json.dumps(case["pattern"]), {"source": "x"})
    assert case["error"] in raised.value.message


def test_subscription_receives_exactly_matching_events(mesh: MeshClient) -> None:
    pattern = {
        "source": ["orders"],
        "detail-type": ["OrderCreated"],
        "detail": {"total": [{"numeric": [">", 100]}], "region": [{"anything-but": "test"}]},
    }
    with mesh.events.subscribe(pattern) as sub:
        mesh.events.send("OrderCreated", {"total": 500, "region": "eu"}, source="billing")
        mesh.events.send("OrderCreated", {"total": 50, "region": "eu"}, source="orders")
        mesh.events.send("OrderCreated", {"total": 500, "region": "test"}, source="orders")
        event_id = mesh.events.send("OrderCreated", {"total": 250, "region": "eu"}, source="orders",
                                    resources=["arn:aws:orders:o-1"])
        got = arrives(sub)
        assert got.id == event_id
        assert (got.source, got.detail_type, got.detail) == ("orders", "OrderCreated", {"total": 250, "region": "eu"})
        assert got.resources == ["arn:aws:orders:o-1"]
        assert isinstance(got.time, dt.datetime) and got.time.tzinfo is not None
        envelope = got.to_dict()
        assert envelope["detail-type"] == "OrderCreated" and envelope["id"] == event_id
        assert agent_mesh.test_event_pattern(pattern, envelope)
        assert sub.next(timeout=quiet(mesh)) is None


def test_send_batch_reports_each_entry_and_delivers_all(mesh: MeshClient) -> None:
    with mesh.events.subscribe({"detail-type": ["Batch"]}) as sub:
        results = mesh.events.send_batch([{"detail_type": "Batch", "detail": {"i": i}, "source": "batcher"} for i in range(25)])
        assert len(results) == 25 and all(r.error is None and r.event_id for r in results)
        got = [arrives(sub) for _ in range(25)]
        order = [e.detail["i"] for e in got]
        assert (sorted(order) if is_aws(mesh) else order) == list(range(25))
        assert {e.id for e in got} == {r.event_id for r in results}


def test_invalid_events_are_rejected_before_sending(mesh: MeshClient) -> None:
    with pytest.raises(InvalidInput, match="JSON object"):
        mesh.events.send("X", [1])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="aws."):
        mesh.events.send("X", {}, source="aws.s3")
    with pytest.raises(TooLarge):
        mesh.events.send("X", {"blob": "x" * 256 * 1024})
    with pytest.raises(InvalidInput, match="event 1"):
        mesh.events.send_batch([{"detail_type": "X", "detail": {}, "stream": "rejected/batch"},
                                {"detail_type": "", "detail": {}}])
    assert mesh.timeline.get("rejected/").items == []
    with pytest.raises(InvalidInput, match="detail_type"):
        mesh.events.send_batch([{"detail": {}}])
    with pytest.raises(InvalidInput):
        mesh.events.subscribe({"detail": {"amount": 5}})
    with pytest.raises(InvalidInput):
        mesh.events.subscribe('{"source": ')


def test_named_subscription_resumes_after_close(mesh: MeshClient) -> None:
    name = f"resume-{uuid.uuid4().hex[:8]}"
    sub = mesh.events.subscribe({"detail-type": ["Step"]}, name=name)
    mesh.events.send("Step", {"n": 1})
    assert arrives(sub).detail == {"n": 1}
    mesh.events.send("Step", {"n": 2})
    sub.close()
    sub.close()  # idempotent
    with pytest.raises(InvalidInput, match="closed"):
        sub.next(timeout=0)
    mesh.events.send("Step", {"n": 3})
    with mesh.events.subscribe({"detail-type": ["Step"]}, name=name) as again:
        got = sorted(arrives(again).detail["n"] for _ in range(2))
        assert got == [2, 3]


def test_subscription_as_a_stream_yields_events_in_order(mesh: MeshClient) -> None:
    with mesh.events.subscribe({"source": [{"prefix": "iter"}]}) as sub:
        for i in range(3):
            mesh.events.send("Tick", {"i": i}, source="iterator")
        seen = []
        for event in sub:
            seen.append(event.detail["i"])
            if len(seen) == 3:
                break
        assert sorted(seen) == [0, 1, 2]


def test_sent_events_are_appended_to_the_timeline(mesh: MeshClient) -> None:
    event_id = mesh.events.send("Uploaded", {"doc": "d-1"}, source="docs", stream="docs/d-1")
    [entry] = mesh.timeline.get("docs/d-1").items
    assert entry.stream == "docs/d-1" and entry.data["id"] == event_id and entry.data["detail"] == {"doc": "d-1"}
    mesh.events.send("Uploaded", {"doc": "d-2"}, source="docs")
    [entry] = mesh.timeline.get("events/docs/Uploaded").items
    assert entry.data["detail"] == {"doc": "d-2"}


def test_async_events(mesh_url: str) -> None:
    async def main() -> None:
        mesh = AsyncMeshClient(mesh_url)
        sub = await mesh.events.subscribe({"detail-type": ["Async"]})
        async with sub:
            event_id = await mesh.events.send("Async", {"n": 1})
            event = await sub.next(timeout=20)
            assert event is not None and event.id == event_id
            results = await mesh.events.send_batch([{"detail_type": "Async", "detail": {"n": 2}}])
            got = []
            async for event in sub:
                got.append(event)
                break
            assert got[0].id == results[0].event_id
            assert await sub.next(timeout=0.2 if "aws" not in mesh_url else 3) is None
        entry = await mesh.timeline.append("async/s", {"x": 1})
        page = await mesh.timeline.get("async/")
        assert [e.id for e in page.items] == [entry.id]

    asyncio.run(main())


def test_errors_are_mesh_errors() -> None:
    with pytest.raises(MeshError) as raised:
        agent_mesh.test_event_pattern({"source": "not-an-array"}, {})
    assert raised.value.kind == "InvalidInput" and "source" in raised.value.message


def test_close_from_another_thread_ends_iteration(mesh: MeshClient) -> None:
    import threading

    sub = mesh.events.subscribe({"source": ["never-sent"]})
    closer = threading.Timer(0.3, sub.close)
    closer.start()
    assert list(sub) == [], "iteration ends when the subscription is closed"
    closer.join()
    with pytest.raises(InvalidInput, match="closed"):
        sub.next(timeout=0)
