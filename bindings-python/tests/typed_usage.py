"""Type-checked (mypy --strict) use of the whole API, sync and async; a wrong stub fails it."""

import asyncio

import agent_mesh
from typing import Any, Dict, List, Optional

from agent_mesh import ArtifactMeta, AsyncMeshClient, KvItem, MeshClient, MeshError, Page


def sync_usage(mesh: MeshClient) -> None:
    item: KvItem = mesh.kv.set("k", {"a": 1}, ttl_seconds=5, if_absent=True)
    got: Optional[KvItem] = mesh.kv.get("k")
    page: Page = mesh.kv.list("k", limit=10, cursor=page_cursor(None))
    many: List[Optional[KvItem]] = mesh.kv.batch_get(["k"])
    mesh.kv.batch_set({"a": 1}, ttl_hours=1)
    deleted: bool = mesh.kv.delete("k")
    meta: ArtifactMeta = mesh.artifacts.put("a", b"x", content_type="text/plain", metadata={"m": "v"})
    size: int = meta.size
    print(item.version, got, page.next_cursor, many, deleted, size)
    try:
        mesh.provision()
    except MeshError as e:
        print(e.kind, e.retryable, e.context)


def page_cursor(cursor: Optional[str]) -> Optional[str]:
    return cursor


def events_usage(mesh: MeshClient) -> None:
    matched: bool = agent_mesh.test_event_pattern({"source": [{"prefix": "doc"}]}, {"source": "docs"})
    event_id: str = mesh.events.send("DocumentUploaded", {"id": "d-1"}, source="docs", stream="docs/d-1")
    results: List[agent_mesh.SendResult] = mesh.events.send_batch([{"detail_type": "A", "detail": {}}])
    error: Optional[agent_mesh.MeshError] = results[0].error
    with mesh.events.subscribe({"detail-type": ["DocumentUploaded"]}, name="typed") as sub:
        got: Optional[agent_mesh.ReceivedEvent] = sub.next(timeout=0.1)
        mesh.events.send("DocumentUploaded", {"id": "d-2"})
        for event in sub:
            detail_type: str = event.detail_type
            print(detail_type, event.time.isoformat(), event.to_dict())
            break
    existed: bool = mesh.events.delete_subscription("typed")
    entry: agent_mesh.TimelineEntry = mesh.timeline.append("user/u1", {"x": 1})
    page = mesh.timeline.get("user/", limit=10, order="oldest")
    print(matched, event_id, error, got, entry.id, page.next_cursor, existed)


async def async_usage(mesh: AsyncMeshClient) -> None:
    item: KvItem = await mesh.kv.set("k", [1, 2], if_version=3)
    head: Optional[ArtifactMeta] = await mesh.artifacts.head("a")
    sub: agent_mesh.AsyncSubscription = await mesh.events.subscribe({"source": ["x"]})
    async with sub:
        await mesh.events.send("X", {}, source="x")
        async for event in sub:
            print(event.id)
            break
    entry = await mesh.timeline.append("s", {})
    deleted: bool = await mesh.events.delete_subscription("typed")
    print(item, head, entry.stream, deleted)


def workflows_usage(mesh: MeshClient) -> None:
    definition = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "shout", "End": True}}}
    info: agent_mesh.StateMachineInfo = mesh.workflows.create("typed", definition)
    mesh.workflows.create("typed-text", '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')

    @mesh.workflows.handler("shout")
    def shout(input: Dict[str, Any], context: Dict[str, Any]) -> str:
        token: str = context["Task"]["Token"]
        return str(input.get("word", token)).upper()

    async def whisper(input: Any, context: Dict[str, Any]) -> str:
        return str(input).lower()

    mesh.workflows.register("whisper", whisper)
    run: agent_mesh.ExecutionRef = mesh.workflows.start("typed", {"word": "hi"}, execution_name="typed-1")
    done: agent_mesh.Execution = run.wait(timeout=10)
    status: str = done.status
    events: List[agent_mesh.HistoryEvent] = run.history()
    first_type: str = events[0].type
    again: agent_mesh.Execution = mesh.workflows.wait(run.arn, timeout=1.5)
    page: Page = mesh.workflows.list_executions("typed", status="SUCCEEDED", limit=10, cursor=None)
    activity: str = mesh.workflows.create_activity("review")
    with mesh.workflows.worker(activity, lambda input, context: {"ok": True}) as worker:
        running: bool = worker.running
    try:
        mesh.workflows.send_task_success("token", {"a": 1})
        mesh.workflows.send_task_failure("token", "Some.Error", "why")
        mesh.workflows.send_task_heartbeat("token")
        mesh.workflows.stop(run.arn, error="Manual")
    except MeshError as e:
        print(e.kind)
    print(info.arn, shout, status, first_type, again.output, page.items, running, done.stop_date, run.start_date)


async def async_workflows_usage(mesh: AsyncMeshClient) -> None:
    await mesh.workflows.create("typed", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})

    @mesh.workflows.handler("async-shout")
    async def shout(input: str, context: Dict[str, Any]) -> str:
        return input.upper()

    await mesh.workflows.register("plain", lambda input, context: input)
    run: agent_mesh.AsyncExecutionRef = await mesh.workflows.start("typed", {"x": 1})
    done: agent_mesh.Execution = await run.wait(timeout=5)
    history: List[agent_mesh.HistoryEvent] = await run.history()
    worker: agent_mesh.Worker = await mesh.workflows.worker("review", shout)
    worker.stop()
    described = await mesh.workflows.describe(run.arn)
    print(done.output, history[-1].details, described.status)


if __name__ == "__main__":
    sync_usage(MeshClient("memory://"))
    events_usage(MeshClient("memory://"))
    asyncio.run(async_usage(AsyncMeshClient("memory://")))
    workflows_usage(MeshClient("memory://"))
    asyncio.run(async_workflows_usage(AsyncMeshClient("memory://")))
