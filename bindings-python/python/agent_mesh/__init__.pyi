"""Type stubs of the agent_mesh package (checked by mypy.stubtest in tests)."""

from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, TypeVar, Union

from ._agent_mesh import Artifact as Artifact
from ._agent_mesh import ArtifactMeta as ArtifactMeta
from ._agent_mesh import Artifacts as Artifacts
from ._agent_mesh import Config as Config
from ._agent_mesh import Conflict as Conflict
from ._agent_mesh import Events as Events
from ._agent_mesh import Execution as Execution
from ._agent_mesh import ExecutionRef as ExecutionRef
from ._agent_mesh import HistoryEvent as HistoryEvent
from ._agent_mesh import Internal as Internal
from ._agent_mesh import InvalidInput as InvalidInput
from ._agent_mesh import _JsonValue, _StrPath, _TaskHandler
from ._agent_mesh import Kv as Kv
from ._agent_mesh import KvItem as KvItem
from ._agent_mesh import MeshClient as MeshClient
from ._agent_mesh import MeshError as MeshError
from ._agent_mesh import NotFound as NotFound
from ._agent_mesh import Page as Page
from ._agent_mesh import PermissionDenied as PermissionDenied
from ._agent_mesh import ReceivedEvent as ReceivedEvent
from ._agent_mesh import SendResult as SendResult
from ._agent_mesh import StateMachineInfo as StateMachineInfo
from ._agent_mesh import Subscription as Subscription
from ._agent_mesh import Throttled as Throttled
from ._agent_mesh import Timeline as Timeline
from ._agent_mesh import TimelineEntry as TimelineEntry
from ._agent_mesh import TooLarge as TooLarge
from ._agent_mesh import Unavailable as Unavailable
from ._agent_mesh import Unsupported as Unsupported
from ._agent_mesh import Worker as Worker
from ._agent_mesh import Workflows as Workflows
from ._agent_mesh import test_event_pattern as test_event_pattern

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

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

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
    async def delete_subscription(self, name: str) -> bool: ...

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

class AsyncExecutionRef:
    def __init__(self, sync: ExecutionRef) -> None: ...
    @property
    def arn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def start_date(self) -> datetime: ...
    async def wait(self, timeout: Optional[float] = None) -> Execution: ...
    async def describe(self) -> Execution: ...
    async def history(self) -> List[HistoryEvent]: ...
    async def stop(self, error: Optional[str] = None, cause: Optional[str] = None) -> Execution: ...

class AsyncWorkflows:
    def __init__(self, sync: Workflows) -> None: ...
    async def create(self, name: str, definition: Union[Mapping[str, Any], str]) -> StateMachineInfo: ...
    async def start(self, name: str, input: _JsonValue = None, *, execution_name: Optional[str] = None) -> AsyncExecutionRef: ...
    async def describe(self, arn: str) -> Execution: ...
    async def wait(self, arn: str, timeout: Optional[float] = None) -> Execution: ...
    async def history(self, arn: str) -> List[HistoryEvent]: ...
    async def stop(self, arn: str, error: Optional[str] = None, cause: Optional[str] = None) -> Execution: ...
    async def list_executions(
        self, name: str, status: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> Page: ...
    async def register(self, name: str, handler: _TaskHandler) -> None: ...
    def handler(self, name: str) -> Callable[[_Handler], _Handler]: ...
    async def create_activity(self, name: str) -> str: ...
    async def worker(self, activity: str, handler: _TaskHandler) -> Worker: ...
    async def send_task_success(self, token: str, output: _JsonValue) -> None: ...
    async def send_task_failure(self, token: str, error: str, cause: str = "") -> None: ...
    async def send_task_heartbeat(self, token: str) -> None: ...

class AsyncMeshClient:
    def __init__(self, url: Optional[str] = None) -> None: ...
    def scope(self, id: str) -> "AsyncMeshClient": ...
    @property
    def scope_path(self) -> List[str]: ...
    def iam_policy(self) -> Dict[str, Any]: ...
    @property
    def kv(self) -> AsyncKv: ...
    @property
    def artifacts(self) -> AsyncArtifacts: ...
    @property
    def events(self) -> AsyncEvents: ...
    @property
    def timeline(self) -> AsyncTimeline: ...
    @property
    def workflows(self) -> AsyncWorkflows: ...
    async def call(self, name: str, args: Optional[Mapping[str, Any]] = None) -> Any: ...
    async def provision(self) -> None: ...
