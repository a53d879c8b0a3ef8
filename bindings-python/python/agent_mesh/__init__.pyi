"""Type stubs of the agent_mesh package (checked by mypy.stubtest in tests)."""

from datetime import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from ._agent_mesh import Artifact as Artifact
from ._agent_mesh import ArtifactMeta as ArtifactMeta
from ._agent_mesh import Artifacts as Artifacts
from ._agent_mesh import Config as Config
from ._agent_mesh import Conflict as Conflict
from ._agent_mesh import Events as Events
from ._agent_mesh import Internal as Internal
from ._agent_mesh import InvalidInput as InvalidInput
from ._agent_mesh import _JsonValue, _StrPath
from ._agent_mesh import Kv as Kv
from ._agent_mesh import KvItem as KvItem
from ._agent_mesh import MeshClient as MeshClient
from ._agent_mesh import MeshError as MeshError
from ._agent_mesh import NotFound as NotFound
from ._agent_mesh import Page as Page
from ._agent_mesh import PermissionDenied as PermissionDenied
from ._agent_mesh import ReceivedEvent as ReceivedEvent
from ._agent_mesh import SendResult as SendResult
from ._agent_mesh import Subscription as Subscription
from ._agent_mesh import Throttled as Throttled
from ._agent_mesh import Timeline as Timeline
from ._agent_mesh import TimelineEntry as TimelineEntry
from ._agent_mesh import TooLarge as TooLarge
from ._agent_mesh import Unavailable as Unavailable
from ._agent_mesh import Unsupported as Unsupported
from ._agent_mesh import test_event_pattern as test_event_pattern

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

class AsyncKv:
    def __init__(self, sync: Kv) -> None: ...
    async def get(self, key: str) -> Optional[KvItem]: ...
    async def set(
        self,
        key: str,
        value: _JsonValue,
        *,
        ttl_seconds: Optional[float] = None,
        ttl_hours: Optional[float] = None,
        if_version: Optional[int] = None,
        if_absent: bool = False,
    ) -> KvItem: ...
    async def delete(self, key: str) -> bool: ...
    async def list(self, prefix: str = "", *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page: ...
    async def batch_get(self, keys: List[str]) -> List[Optional[KvItem]]: ...
    async def batch_set(
        self,
        entries: Union[Mapping[str, _JsonValue], Iterable[Tuple[str, _JsonValue]]],
        *,
        ttl_seconds: Optional[float] = None,
        ttl_hours: Optional[float] = None,
    ) -> None: ...

class AsyncArtifacts:
    def __init__(self, sync: Artifacts) -> None: ...
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: Optional[str] = None,
        metadata: Optional[Dict[str, str]] = None,
    ) -> ArtifactMeta: ...
    async def put_file(
        self,
        key: str,
        path: _StrPath,
        *,
        content_type: Optional[str] = None,
        metadata: Optional[Dict[str, str]] = None,
    ) -> ArtifactMeta: ...
    async def get(self, key: str) -> Optional[Artifact]: ...
    async def get_to_file(self, key: str, path: _StrPath) -> ArtifactMeta: ...
    async def head(self, key: str) -> Optional[ArtifactMeta]: ...
    async def list(self, prefix: str = "", *, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page: ...
    async def delete(self, key: str) -> bool: ...

class AsyncSubscription:
    def __init__(self, sync: Subscription) -> None: ...
    async def next(self, timeout: Optional[float] = None) -> Optional[ReceivedEvent]: ...
    async def close(self) -> None: ...
    def __aiter__(self) -> "AsyncSubscription": ...
    async def __anext__(self) -> ReceivedEvent: ...
    async def __aenter__(self) -> "AsyncSubscription": ...
    async def __aexit__(self, *exc: Any) -> None: ...

class AsyncEvents:
    def __init__(self, sync: Events) -> None: ...
    async def send(
        self,
        detail_type: str,
        detail: Union[Mapping[str, Any], str],
        *,
        source: Optional[str] = None,
        resources: Optional[List[str]] = None,
        time: Optional[datetime] = None,
        stream: Optional[str] = None,
    ) -> str: ...
    async def send_batch(self, events: List[Dict[str, Any]]) -> List[SendResult]: ...
    async def subscribe(self, pattern: Union[Mapping[str, Any], str], *, name: Optional[str] = None) -> AsyncSubscription: ...

class AsyncTimeline:
    def __init__(self, sync: Timeline) -> None: ...
    async def append(self, stream: str, data: _JsonValue) -> TimelineEntry: ...
    async def get(
        self,
        prefix: str = "",
        *,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
        since: Optional[datetime] = None,
        until: Optional[datetime] = None,
        order: str = "newest",
    ) -> Page: ...

class AsyncMeshClient:
    def __init__(self, url: Optional[str] = None) -> None: ...
    @property
    def kv(self) -> AsyncKv: ...
    @property
    def artifacts(self) -> AsyncArtifacts: ...
    @property
    def events(self) -> AsyncEvents: ...
    @property
    def timeline(self) -> AsyncTimeline: ...
    async def call(self, name: str, args: Optional[Mapping[str, Any]] = None) -> Any: ...
    async def provision(self) -> None: ...
