"""agent-mesh: key-value memory, artifacts, events, timeline and workflows for AI agents.

``MeshClient`` is the synchronous client (the GIL is released while the Rust core works);
``AsyncMeshClient`` has the same methods as coroutines. The async classes are derived from the
sync ones below, so every method is defined once, in the native module.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
from typing import Any, Callable, Dict, List, Optional, Type, TypeVar

from . import _agent_mesh
import os as _os

# No thread may be inside SQLite while the process is copied: a lock it holds would stay held
# in the child forever.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(
        before=_agent_mesh.before_fork,
        after_in_parent=lambda: _agent_mesh.after_fork(False),
        after_in_child=lambda: _agent_mesh.after_fork(True),
    )

from ._agent_mesh import (
    Artifact,
    ArtifactMeta,
    Artifacts,
    Config,
    Conflict,
    Events,
    Execution,
    ExecutionRef,
    HistoryEvent,
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
    StateMachineInfo,
    Subscription,
    Throttled,
    Timeline,
    TimelineEntry,
    TooLarge,
    Unavailable,
    Unsupported,
    Worker,
    Workflows,
    test_event_pattern,
)

__all__ = [
    "Artifact",
    "ArtifactMeta",
    "Artifacts",
    "AsyncArtifacts",
    "AsyncEvents",
    "AsyncExecutionRef",
    "AsyncKv",
    "AsyncMeshClient",
    "AsyncSubscription",
    "AsyncTimeline",
    "AsyncWorkflows",
    "Config",
    "Conflict",
    "Events",
    "Execution",
    "ExecutionRef",
    "HistoryEvent",
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
    "StateMachineInfo",
    "Subscription",
    "Throttled",
    "Timeline",
    "TimelineEntry",
    "TooLarge",
    "Unavailable",
    "Unsupported",
    "Worker",
    "Workflows",
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


#: Seconds each wait of an async ``wait`` lasts in a worker thread (see ``AsyncSubscription``).
_WAIT_SLICE = 0.5


async def _wait_in_slices(wait: Callable[[Optional[float]], Execution], timeout: Optional[float]) -> Execution:
    """Runs the blocking ``wait(slice)`` in worker threads, slice by slice, until the execution
    is no longer running or ``timeout`` seconds have passed; a cancelled task frees its thread
    within a slice."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        left = _WAIT_SLICE if deadline is None else min(_WAIT_SLICE, max(0.0, deadline - loop.time()))
        execution = await asyncio.to_thread(wait, left)
        if execution.status != "RUNNING" or (deadline is not None and loop.time() >= deadline):
            return execution


_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def _running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _on_loop(handler: Any, loop: Optional[asyncio.AbstractEventLoop]) -> Any:
    """``handler`` with its coroutines run on ``loop`` (the event loop the async client was
    used from, so they may use resources bound to it) while that loop runs; otherwise the
    native binding runs them with ``asyncio.run`` in the handler's own thread."""
    if loop is None or not callable(handler):
        return handler

    @functools.wraps(handler)
    def call(input: Any, context: Any) -> Any:
        result = handler(input, context)
        if not inspect.iscoroutine(result) or loop.is_closed() or not loop.is_running():
            return result
        future = asyncio.run_coroutine_threadsafe(result, loop)
        while True:
            concurrent.futures.wait([future], timeout=_WAIT_SLICE)
            if future.done():
                return future.result()
            if not loop.is_running():
                future.cancel()
                raise RuntimeError("the event loop running this async task handler stopped before it finished")

    return call


class AsyncExecutionRef:
    """Asyncio twin of :class:`ExecutionRef`: ``.arn``, ``.name``, ``.start_date``, and
    ``wait``, ``describe``, ``history`` and ``stop`` as coroutines."""

    def __init__(self, sync: ExecutionRef) -> None:
        self._sync = sync

    @property
    def arn(self) -> str:
        """The execution ARN."""
        return self._sync.arn

    @property
    def name(self) -> str:
        """The execution name."""
        return self._sync.name

    @property
    def start_date(self) -> Any:
        """When it started (UTC)."""
        return self._sync.start_date

    async def wait(self, timeout: Optional[float] = None) -> Execution:
        """Waits until the execution is no longer running (at most ``timeout`` seconds)."""
        return await _wait_in_slices(self._sync.wait, timeout)

    async def describe(self) -> Execution:
        """The execution as it is now."""
        return await asyncio.to_thread(self._sync.describe)

    async def history(self) -> List[HistoryEvent]:
        """Every history event of the execution, oldest first."""
        return await asyncio.to_thread(self._sync.history)

    async def stop(self, error: Optional[str] = None, cause: Optional[str] = None) -> Execution:
        """Stops the execution (``ABORTED``, with optional error and cause)."""
        return await asyncio.to_thread(self._sync.stop, error, cause)

    def __repr__(self) -> str:
        return "Async" + repr(self._sync)


class AsyncWorkflows(_async_twin(Workflows, "AsyncWorkflows")):  # type: ignore[misc]
    """Asyncio twin of :class:`Workflows`. ``start`` returns an :class:`AsyncExecutionRef`;
    ``async def`` handlers given to ``register``, ``handler`` or ``worker`` from a running event
    loop run on that loop; ``handler`` stays a plain (synchronous) decorator."""

    async def start(self, name: str, input: Any = None, *, execution_name: Optional[str] = None) -> AsyncExecutionRef:
        """Starts an execution of ``name``; returns an :class:`AsyncExecutionRef`."""
        sync = await asyncio.to_thread(self._sync.start, name, input, execution_name=execution_name)
        return AsyncExecutionRef(sync)

    async def wait(self, arn: str, timeout: Optional[float] = None) -> Execution:
        """Waits until the execution ``arn`` is no longer running (at most ``timeout`` seconds)."""
        return await _wait_in_slices(functools.partial(self._sync.wait, arn), timeout)

    async def register(self, name: str, handler: Callable[..., Any]) -> None:
        """Serves Task states whose resource is ``name`` with ``handler(input, context)``."""
        await asyncio.to_thread(self._sync.register, name, _on_loop(handler, asyncio.get_running_loop()))

    def handler(self, name: str) -> Callable[[_Handler], _Handler]:
        """Decorator form of ``register``: registers the function and returns it unchanged."""

        def decorate(function: _Handler) -> _Handler:
            self._sync.register(name, _on_loop(function, _running_loop()))
            return function

        return decorate

    async def worker(self, activity: str, handler: Callable[..., Any]) -> Worker:
        """Runs ``handler(input, context)`` for every task of the activity in the background
        until the returned :class:`Worker` is stopped."""
        return await asyncio.to_thread(self._sync.worker, activity, _on_loop(handler, asyncio.get_running_loop()))


_AsyncMeshBase = _async_twin(
    MeshClient,
    "AsyncMeshClient",
    {
        "kv": AsyncKv,
        "artifacts": AsyncArtifacts,
        "events": AsyncEvents,
        "timeline": AsyncTimeline,
        "workflows": AsyncWorkflows,
    },
)


class AsyncMeshClient(_AsyncMeshBase):  # type: ignore[misc,valid-type]
    """Asyncio client: ``AsyncMeshClient(url)`` opens like ``MeshClient(url)``; every method of
    ``MeshClient``, ``mesh.kv``, ``mesh.artifacts``, ``mesh.events``, ``mesh.timeline`` and
    ``mesh.workflows`` is a coroutine here (except the ``workflows.handler`` decorator)."""

    def __init__(self, url: Optional[str] = None) -> None:
        super().__init__(MeshClient(url))

    def scope(self, /, id):  # type: ignore[no-untyped-def]  # typed in __init__.pyi; same signature as MeshClient.scope
        """A client confined to ``id`` (the tenant, or ``id`` nested in this client's scope);
        synchronous, like ``MeshClient.scope``: it opens nothing."""
        scoped = AsyncMeshClient.__new__(AsyncMeshClient)
        scoped._sync = self._sync.scope(id)
        return scoped

    @property
    def scope_path(self) -> List[str]:
        """The scope's ids, the tenant first (empty when unscoped)."""
        return self._sync.scope_path

    def iam_policy(self, /):  # type: ignore[no-untyped-def]  # typed in __init__.pyi
        """The least-privilege IAM policy an agent of this scope needs on AWS (computed, no I/O)."""
        return self._sync.iam_policy()

    def __repr__(self) -> str:
        return "Async" + repr(self._sync)


del _AsyncMeshBase
