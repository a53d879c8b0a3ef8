"""Type-checked (mypy --strict) use of the whole API, sync and async; a wrong stub fails it."""

import asyncio
from typing import List, Optional

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


async def async_usage(mesh: AsyncMeshClient) -> None:
    item: KvItem = await mesh.kv.set("k", [1, 2], if_version=3)
    head: Optional[ArtifactMeta] = await mesh.artifacts.head("a")
    print(item, head)


if __name__ == "__main__":
    sync_usage(MeshClient("memory://"))
    asyncio.run(async_usage(AsyncMeshClient("memory://")))
