"""AsyncMeshClient bridges the core's futures into asyncio: no worker thread per call, and
cancelling an await cancels the work in the core (issue 20)."""

import asyncio
import os
import threading
import time
import uuid
from pathlib import Path

import pytest

import agent_mesh
from agent_mesh import AsyncMeshClient, AsyncSubscription

from conftest import BACKENDS, url_for

LOCAL_BACKENDS = [b for b in BACKENDS if b in ("memory", "local")]


def amesh_for(backend: str, tmp_path) -> AsyncMeshClient:
    mesh = AsyncMeshClient("memory://" if backend == "memory" else url_for(backend, tmp_path))
    return mesh


@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
def test_a_call_the_core_answers_at_once_is_a_finished_future_and_uses_no_thread(backend, tmp_path, monkeypatch) -> None:
    async def main() -> None:
        amesh = amesh_for(backend, tmp_path)
        await amesh.kv.set("k", {"v": 1})
        # The native awaitable behind `await amesh.kv.get(...)`: settled before it is awaited.
        native = amesh.kv._native.get("k")
        assert isinstance(native, asyncio.Future) and native.done()
        assert native.result().value == {"v": 1}
        # Errors settle the same way.
        failed = amesh.kv._native.get("")
        assert failed.done() and isinstance(failed.exception(), agent_mesh.InvalidInput)
        with pytest.raises(agent_mesh.InvalidInput, match="kv.get"):
            await amesh.kv.get("")

    def no_threads(*args, **kwargs):
        raise AssertionError("asyncio.to_thread must not be used by AsyncMeshClient")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    before = threading.active_count()
    asyncio.run(main())
    assert threading.active_count() <= before + 1  # at most the binding's runtime thread


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_results_equal_sync_results(backend, tmp_path) -> None:
    url = "memory://" if backend == "memory" else url_for(backend, tmp_path)

    async def main() -> None:
        amesh = AsyncMeshClient(url)
        await amesh.provision()
        item = await amesh.kv.set("a/1", [1, 2], ttl_seconds=60)
        assert (await amesh.kv.get("a/1")).version == item.version == 1
        assert [i.key for i in (await amesh.kv.list("a/")).items] == ["a/1"]
        assert [i and i.value for i in await amesh.kv.batch_get(["a/1", "zz"])] == [[1, 2], None]
        with pytest.raises(agent_mesh.Conflict):
            await amesh.kv.set("a/1", 3, if_version=7)
        meta = await amesh.artifacts.put("f.txt", b"hello", content_type="text/plain")
        assert (await amesh.artifacts.get("f.txt")).data == b"hello" and meta.size == 5
        entry = await amesh.timeline.append("s/x", {"n": 1})
        assert (await amesh.timeline.get("s/")).items[0].id == entry.id
        assert (await amesh.call("mesh_kv_get", {"key": "a/1"}))["value"] == [1, 2]
        assert await amesh.kv.delete("a/1") is True

    asyncio.run(main())


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancelling_a_waiting_next_cancels_it_in_the_core_and_loses_no_event(backend, tmp_path) -> None:
    async def main() -> None:
        amesh = amesh_for(backend, tmp_path)
        await amesh.provision()
        async with await amesh.events.subscribe({"source": ["cancel.test"]}) as sub:
            waiting = asyncio.create_task(sub.next())
            await asyncio.sleep(0.3)
            assert not waiting.done()
            started = time.monotonic()
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert time.monotonic() - started < 1.0
            # Had the core's wait gone on, it would hold the subscription and swallow this event
            # into the cancelled future; it is handed to the next caller instead. (On AWS a
            # long poll cut short may have taken the message: SQS shows it again after the
            # queue's 30 s visibility timeout.)
            await amesh.events.send("After", {"n": 1}, source="cancel.test")
            event = await sub.next(timeout=45 if backend == "aws" else 20)
            assert event is not None and event.detail == {"n": 1}

    asyncio.run(main())


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_for_ends_when_the_subscription_is_closed_elsewhere(backend, tmp_path) -> None:
    async def main() -> None:
        amesh = amesh_for(backend, tmp_path)
        await amesh.provision()
        sub = await amesh.events.subscribe({"source": ["close.test"]})
        received = []

        async def consume() -> None:
            async for event in sub:
                received.append(event)

        consumer = asyncio.create_task(consume())
        await amesh.events.send("One", {}, source="close.test")
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.05)
        await sub.close()
        await asyncio.wait_for(consumer, 5)
        assert [e.detail_type for e in received] == ["One"] and sub.closed

    asyncio.run(main())


@pytest.mark.parametrize("backend", LOCAL_BACKENDS)
def test_cancelling_a_workflow_wait_stops_waiting(backend, tmp_path) -> None:
    async def main() -> None:
        amesh = amesh_for(backend, tmp_path)
        await amesh.workflows.create("slow", {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}})
        execution = await amesh.workflows.start("slow")
        waiting = asyncio.create_task(execution.wait())
        await asyncio.sleep(0.3)
        started = time.monotonic()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert time.monotonic() - started < 1.0
        assert (await execution.describe()).status == "RUNNING"
        assert (await execution.stop()).status == "ABORTED"

    asyncio.run(main())


def test_cancelling_a_local_put_file_stops_the_copy_and_leaves_nothing(tmp_path) -> None:
    """The source is a sparse 4 GiB file: copying it takes many seconds, so the core is still
    copying when the await is cancelled. The copy stops at its next chunk and its half-written
    blob is removed at once; had it gone on, the artifact would appear when it finished."""
    source = tmp_path / "sparse.bin"
    with open(source, "wb") as out:
        out.truncate(4 << 30)
    mesh_dir = tmp_path / "mesh"
    blobs = mesh_dir / "artifacts" / "blobs"
    written = lambda: [p for p in blobs.rglob("*") if p.is_file()]  # noqa: E731

    async def main() -> None:
        amesh = AsyncMeshClient(f"local://{mesh_dir}")
        upload = asyncio.create_task(amesh.artifacts.put_file("big.bin", source))
        deadline = time.monotonic() + 10
        while not written():
            assert time.monotonic() < deadline, "the copy did not start"
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert not upload.done()
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
        deadline = time.monotonic() + 3
        while written():
            assert time.monotonic() < deadline, "the core went on copying after the await was cancelled"
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)
        assert await amesh.artifacts.head("big.bin") is None and written() == []

    asyncio.run(main())


@pytest.mark.skipif("aws" not in BACKENDS, reason="AGENT_MESH_TEST_BACKENDS does not select aws")
def test_cancelling_an_aws_multipart_put_file_aborts_the_upload(tmp_path) -> None:
    import boto3

    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        out.write(os.urandom(1 << 20) * 96)  # 96 MiB: 12 parts of 8 MiB
    url = url_for("aws", tmp_path)
    endpoint = os.environ["AGENT_MESH_TEST_AWS_ENDPOINT"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    async def main() -> None:
        amesh = AsyncMeshClient(url)
        await amesh.provision()
        bucket = (await amesh.call("mesh_artifacts_list", {"prefix": ""}))["bucket"]
        uploads = lambda: s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])  # noqa: E731
        upload = asyncio.create_task(amesh.artifacts.put_file("big.bin", source))
        deadline = time.monotonic() + 30
        while not uploads():
            assert not upload.done() and time.monotonic() < deadline, "no multipart upload was started"
            await asyncio.sleep(0.02)
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
        deadline = time.monotonic() + 20
        while uploads():
            assert time.monotonic() < deadline, "the cancelled multipart upload was left behind"
            await asyncio.sleep(0.1)
        assert await amesh.artifacts.head("big.bin") is None

    asyncio.run(main())


def test_get_to_file_cancelled_leaves_the_destination_whole_or_absent(tmp_path) -> None:
    data = os.urandom(1 << 20) * 32
    dest = tmp_path / "out.bin"

    async def main() -> None:
        amesh = AsyncMeshClient(f"local://{tmp_path}/mesh")
        await amesh.artifacts.put("big", data)
        download = asyncio.create_task(amesh.artifacts.get_to_file("big", dest))
        await asyncio.sleep(0)
        download.cancel()
        with pytest.raises(asyncio.CancelledError):
            await download

    asyncio.run(main())
    time.sleep(0.5)
    leftovers = [p.name for p in Path(tmp_path).iterdir() if p.name.startswith(".out.bin") or p.name.endswith(".tmp")]
    assert leftovers == []
    assert not dest.exists() or dest.read_bytes() == data


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_event_whose_await_was_cancelled_after_it_arrived_is_handed_out_again(backend, tmp_path) -> None:
    """The race the give-back closes: the event arrives (the native future is settled), and the
    awaiting task is cancelled before it resumes. The event goes back to the subscription: the
    next call hands it out, and a close before that does not acknowledge it."""

    async def main() -> None:
        amesh = amesh_for(backend, tmp_path)
        await amesh.provision()
        name = f"late-{uuid.uuid4().hex[:8]}"
        sub = await amesh.events.subscribe({"source": ["late.cancel"]}, name=name)
        await amesh.events.send("E", {"n": 1}, source="late.cancel")
        event = await sub.next(timeout=30)
        assert event is not None

        # The native future of a `next()` that is still pending when awaited, settled with the
        # event just before the task is cancelled (as when a timeout fires in the same loop
        # iteration as the delivery).
        pending = asyncio.get_running_loop().create_future()

        class Racing:
            closed = False

            def next(self, timeout=None):
                return pending

            def _put_back(self, event):
                sub._native._put_back(event)

        racing = AsyncSubscription(Racing())
        task = asyncio.create_task(racing.next())
        await asyncio.sleep(0)
        pending.set_result(event)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)  # the put-back runs on the binding's runtime
        again = await sub.next(timeout=30)
        assert again is not None and again.id == event.id
        sub._native._put_back(again)
        await asyncio.sleep(0.2)
        await sub.close()
        resumed = await amesh.events.subscribe({"source": ["late.cancel"]}, name=name)
        after = await resumed.next(timeout=30)
        assert after is not None and after.id == event.id, "the close acknowledged an event never handed over"
        await resumed.close()
        await amesh.events.delete_subscription(name)

    asyncio.run(main())
