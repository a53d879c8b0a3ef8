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


def _public_getters(cls: type) -> List[str]:
    """The public getters of a native class."""
    return [name for name, member in vars(cls).items() if not name.startswith("_") and inspect.isdatadescriptor(member)]


def _async_method(name: str, native: Callable[..., Any], wrap: Optional[Type[Any]]) -> Callable[..., Any]:
    @functools.wraps(native)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        # The native object behind an async twin answers with an asyncio awaitable: already
        # finished when the core answered at once (a local read), else settled from the core's
        # runtime; cancelling this coroutine cancels the work in the core.
        result = await native(self._native, *args, **kwargs)
        return result if wrap is None else wrap(result)

    method.__qualname__ = name
    return method


def _async_twin(
    cls: type,
    name: str,
    namespaces: Optional[Dict[str, Type[Any]]] = None,
    wraps: Optional[Dict[str, Type[Any]]] = None,
) -> type:
    """The asyncio class of the native class ``cls``: every public method of ``cls`` as a
    coroutine (its result wrapped in ``wraps[method]`` when given), every getter passed
    through, and ``namespaces`` (getter name -> async class) wrapping the namespaces. Its
    instances hold the native object in asyncio mode (``MeshClient._asyncio()`` and what it
    hands out), so the methods are defined once, in the native module."""

    def __init__(self: Any, native: Any) -> None:
        self._native = native

    body: Dict[str, Any] = {
        "__init__": __init__,
        "__doc__": f"Asyncio twin of :class:`{cls.__name__}`: the same methods, as coroutines.",
        "__module__": __name__,
        "__repr__": lambda self: "Async" + repr(self._native),
    }
    for method_name, method in _public_methods(cls).items():
        body[method_name] = _async_method(f"{name}.{method_name}", method, (wraps or {}).get(method_name))
    for getter in _public_getters(cls):
        twin = (namespaces or {}).get(getter)
        if twin is None:
            body[getter] = property(lambda self, g=getter: getattr(self._native, g), doc=getattr(cls, getter).__doc__)
        else:
            body[getter] = property(lambda self, g=getter, t=twin: t(getattr(self._native, g)), doc=getattr(cls, getter).__doc__)
    return type(name, (), body)


AsyncKv = _async_twin(Kv, "AsyncKv")
AsyncArtifacts = _async_twin(Artifacts, "AsyncArtifacts")
AsyncTimeline = _async_twin(Timeline, "AsyncTimeline")


class AsyncSubscription(_async_twin(Subscription, "AsyncSubscription")):  # type: ignore[misc]
    """Asyncio twin of :class:`Subscription`: ``async for event in sub``, ``await sub.next(timeout)``,
    ``await sub.close()`` or ``async with``. Cancelling a waiting ``next`` gives up the wait in
    the core; no event is lost by it."""

    async def next(self, timeout: Optional[float] = None) -> Optional[ReceivedEvent]:
        """The next matching event, waiting at most ``timeout`` seconds (None: until one
        arrives); None when the time ran out."""
        native = self._native.next(timeout)
        try:
            return await native  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            # Cancelled after the event had arrived (the task was cancelled before it could
            # resume): the event goes back to the subscription for the next call.
            if native.done() and not native.cancelled() and native.exception() is None and native.result() is not None:
                self._native._put_back(native.result())
            raise

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> ReceivedEvent:
        try:
            event = await self.next()
        except InvalidInput:
            if self.closed:
                raise StopAsyncIteration from None
            raise
        assert event is not None
        return event

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


AsyncEvents = _async_twin(Events, "AsyncEvents", wraps={"subscribe": AsyncSubscription})
AsyncExecutionRef = _async_twin(ExecutionRef, "AsyncExecutionRef")

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

#: Seconds between two looks at whether the event loop running an async handler still runs.
_LOOP_CHECK = 0.5


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
            concurrent.futures.wait([future], timeout=_LOOP_CHECK)
            if future.done():
                return future.result()
            if not loop.is_running():
                future.cancel()
                raise RuntimeError("the event loop running this async task handler stopped before it finished")

    return call


class AsyncWorkflows(_async_twin(Workflows, "AsyncWorkflows", wraps={"start": AsyncExecutionRef})):  # type: ignore[misc]
    """Asyncio twin of :class:`Workflows`. ``start`` returns an :class:`AsyncExecutionRef`;
    ``async def`` handlers given to ``register``, ``handler`` or ``worker`` from a running event
    loop run on that loop; ``handler`` stays a plain (synchronous) decorator."""

    async def register(self, name: str, handler: Callable[..., Any]) -> None:
        """Serves Task states whose resource is ``name`` with ``handler(input, context)``."""
        self._native.register(name, _on_loop(handler, asyncio.get_running_loop()))

    def handler(self, name: str) -> Callable[[_Handler], _Handler]:
        """Decorator form of ``register``: registers the function and returns it unchanged."""

        def decorate(function: _Handler) -> _Handler:
            self._native.register(name, _on_loop(function, _running_loop()))
            return function

        return decorate

    async def worker(self, activity: str, handler: Callable[..., Any]) -> Worker:
        """Runs ``handler(input, context)`` for every task of the activity in the background
        until the returned :class:`Worker` is stopped."""
        return await self._native.worker(activity, _on_loop(handler, asyncio.get_running_loop()))


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
        super().__init__(MeshClient(url)._asyncio())

    def scope(self, /, id):  # type: ignore[no-untyped-def]  # typed in __init__.pyi; same signature as MeshClient.scope
        """A client confined to ``id`` (the tenant, or ``id`` nested in this client's scope);
        synchronous, like ``MeshClient.scope``: it opens nothing."""
        scoped = AsyncMeshClient.__new__(AsyncMeshClient)
        scoped._native = self._native.scope(id)
        return scoped

    def iam_policy(self, /):  # type: ignore[no-untyped-def]  # typed in __init__.pyi
        """The least-privilege IAM policy an agent of this scope needs on AWS (computed, no I/O)."""
        return self._native.iam_policy()


del _AsyncMeshBase
