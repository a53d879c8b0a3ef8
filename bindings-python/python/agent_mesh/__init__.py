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
    Internal,
    InvalidInput,
    Kv,
    KvItem,
    MeshClient,
    MeshError,
    NotFound,
    Page,
    PermissionDenied,
    Throttled,
    TooLarge,
    Unavailable,
    Unsupported,
)

__all__ = [
    "Artifact",
    "ArtifactMeta",
    "Artifacts",
    "AsyncArtifacts",
    "AsyncKv",
    "AsyncMeshClient",
    "Config",
    "Conflict",
    "Internal",
    "InvalidInput",
    "Kv",
    "KvItem",
    "MeshClient",
    "MeshError",
    "NotFound",
    "Page",
    "PermissionDenied",
    "Throttled",
    "TooLarge",
    "Unavailable",
    "Unsupported",
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
_AsyncMeshBase = _async_twin(MeshClient, "AsyncMeshClient", {"kv": AsyncKv, "artifacts": AsyncArtifacts})


class AsyncMeshClient(_AsyncMeshBase):  # type: ignore[misc,valid-type]
    """Asyncio client: ``AsyncMeshClient(url)`` opens like ``MeshClient(url)``; every method of
    ``MeshClient``, ``mesh.kv`` and ``mesh.artifacts`` is a coroutine here."""

    def __init__(self, url: Optional[str] = None) -> None:
        super().__init__(MeshClient(url))

    def __repr__(self) -> str:
        return "Async" + repr(self._sync)


del _AsyncMeshBase
