"""agent-mesh: key-value memory, artifacts, events, timeline and workflows for AI agents.

``MeshClient`` is the synchronous client (the GIL is released while the Rust core works);
``AsyncMeshClient`` has the same methods as coroutines. The async classes are derived from the
sync ones below, so every method is defined once, in the native module.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any, Callable, Dict, Optional, Type

from . import _agent_mesh
from ._agent_mesh import (
    Artifact,
    ArtifactMeta,
    Artifacts,
    Config,
    Conflict,
    Events,
    Internal,
    InvalidInput,
    Kv,
    KvItem,
    MeshClient,
    MeshError,
    NotFound,
    Page,
    PermissionDenied,
    ReceivedEvent,
    SendResult,
    Subscription,
    Throttled,
    Timeline,
    TimelineEntry,
    TooLarge,
    Unavailable,
    Unsupported,
    test_event_pattern,
)

__all__ = [
    "Artifact",
    "ArtifactMeta",
    "Artifacts",
    "AsyncArtifacts",
    "AsyncEvents",
    "AsyncKv",
    "AsyncMeshClient",
    "AsyncSubscription",
    "AsyncTimeline",
    "Config",
    "Conflict",
    "Events",
    "Internal",
    "InvalidInput",
    "Kv",
    "KvItem",
    "MeshClient",
    "MeshError",
    "NotFound",
    "Page",
    "PermissionDenied",
    "ReceivedEvent",
    "SendResult",
    "Subscription",
    "Throttled",
    "Timeline",
    "TimelineEntry",
    "TooLarge",
    "Unavailable",
    "Unsupported",
    "test_event_pattern",
]


def _public_methods(cls: type) -> Dict[str, Callable[..., Any]]:
    """The public methods of a native class (not its getters)."""
    return {
        name: member
        for name, member in vars(cls).items()
        if not name.startswith("_") and callable(member) and not inspect.isdatadescriptor(member)
    }


def _async_method(name: str, sync: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(sync)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(sync, self._sync, *args, **kwargs)

    method.__qualname__ = name
    return method


def _async_twin(cls: type, name: str, namespaces: Optional[Dict[str, Type[Any]]] = None) -> type:
    """An asyncio class with every public method of ``cls`` as a coroutine run in a worker
    thread, and ``namespaces`` (getter name -> async class) wrapping the sync namespaces."""

    def __init__(self: Any, sync: Any) -> None:
        self._sync = sync

    body: Dict[str, Any] = {
        "__init__": __init__,
        "__doc__": f"Asyncio twin of :class:`{cls.__name__}`: the same methods, as coroutines.",
        "__module__": __name__,
    }
    for method_name, method in _public_methods(cls).items():
        body[method_name] = _async_method(f"{name}.{method_name}", method)
    for getter, twin in (namespaces or {}).items():
        body[getter] = property(lambda self, g=getter, t=twin: t(getattr(self._sync, g)))
    return type(name, (), body)


AsyncKv = _async_twin(Kv, "AsyncKv")
AsyncArtifacts = _async_twin(Artifacts, "AsyncArtifacts")
AsyncTimeline = _async_twin(Timeline, "AsyncTimeline")


class AsyncSubscription:
    """Asyncio twin of :class:`Subscription`: ``async for event in sub``, ``await sub.next(timeout)``,
    ``await sub.close()`` or ``async with``."""

    #: Seconds each wait in a worker thread lasts, so a cancelled task frees its thread soon.
    _SLICE = 0.5

    def __init__(self, sync: Subscription) -> None:
        self._sync = sync

    async def next(self, timeout: Optional[float] = None) -> Optional[ReceivedEvent]:
        """The next matching event, waiting at most ``timeout`` seconds (None: until one
        arrives); None when the time ran out."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            left = self._SLICE if deadline is None else min(self._SLICE, max(0.0, deadline - loop.time()))
            event = await asyncio.to_thread(self._sync.next, left)
            if event is not None or (deadline is not None and loop.time() >= deadline):
                return event

    async def close(self) -> None:
        """Acknowledges what was received and releases the subscription."""
        await asyncio.to_thread(self._sync.close)

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> ReceivedEvent:
        event = await self.next()
        assert event is not None
        return event

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class AsyncEvents(_async_twin(Events, "AsyncEvents")):  # type: ignore[misc]
    """Asyncio twin of :class:`Events`; ``subscribe`` returns an :class:`AsyncSubscription`."""

    async def subscribe(self, pattern: Any, *, name: Optional[str] = None) -> AsyncSubscription:
        """Subscribes to the events ``pattern`` matches; ``name`` makes it durable."""
        sync = await asyncio.to_thread(self._sync.subscribe, pattern, name=name)
        return AsyncSubscription(sync)


_AsyncMeshBase = _async_twin(
    MeshClient,
    "AsyncMeshClient",
    {"kv": AsyncKv, "artifacts": AsyncArtifacts, "events": AsyncEvents, "timeline": AsyncTimeline},
)


class AsyncMeshClient(_AsyncMeshBase):  # type: ignore[misc,valid-type]
    """Asyncio client: ``AsyncMeshClient(url)`` opens like ``MeshClient(url)``; every method of
    ``MeshClient``, ``mesh.kv``, ``mesh.artifacts``, ``mesh.events`` and ``mesh.timeline`` is a
    coroutine here."""

    def __init__(self, url: Optional[str] = None) -> None:
        super().__init__(MeshClient(url))

    def __repr__(self) -> str:
        return "Async" + repr(self._sync)


del _AsyncMeshBase
