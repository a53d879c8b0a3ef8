"""Hostile input: whatever a model or another agent hands the SDK gets a result or a MeshError,
never a crash of the interpreter. Cases that would kill the process if a guard were missing (a
stack overflow, an allocation abort) run in a child process, which must exit cleanly and print
the error it got."""

import json
import subprocess
import sys
import textwrap

import pytest

from agent_mesh import InvalidInput, MeshClient, TooLarge

MAX_DEPTH = 64


def child(code: str, timeout: float = 60) -> dict:
    """Runs `code` in a new interpreter; it prints one JSON object, which is returned."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


CHILD_PRELUDE = """
import json, time
from agent_mesh import MeshClient, MeshError
mesh = MeshClient("memory://")
def attempt(fn):
    started = time.time()
    try:
        fn()
        return {"outcome": "accepted", "seconds": time.time() - started}
    except MeshError as e:
        return {"outcome": type(e).__name__, "message": str(e), "seconds": time.time() - started}
"""


@pytest.mark.parametrize(
    "build",
    [
        "v = []; v.append(v)",
        "v = {}; v['self'] = v",
        "v = 1\nfor _ in range(200_000): v = [v]",
        "v = 1\nfor _ in range(200_000): v = {'a': v}",
    ],
    ids=["list-containing-itself", "dict-containing-itself", "list-200k-deep", "dict-200k-deep"],
)
def test_cyclic_and_deep_values_are_invalid_input_everywhere(build: str) -> None:
    result = child(
        CHILD_PRELUDE
        + build
        + """
results = [
    attempt(lambda: mesh.kv.set("k", v)),
    attempt(lambda: mesh.kv.batch_set({"k": v})),
    attempt(lambda: mesh.events.send("Deep", {"v": v})),
    attempt(lambda: mesh.timeline.append("s", v)),
    attempt(lambda: mesh.call("mesh_kv_set", {"key": "k", "value": v})),
    attempt(lambda: mesh.workflows.start("m", v)),
]
print(json.dumps({"results": results, "stored": mesh.kv.get("k") is not None}))
"""
    )
    for r in result["results"]:
        assert r["outcome"] == "InvalidInput", r
        assert f"{MAX_DEPTH} levels" in r["message"], r
    assert not result["stored"]


def test_a_shared_graph_that_expands_exponentially_is_refused_quickly() -> None:
    result = child(
        CHILD_PRELUDE
        + """
v = []
for _ in range(60): v = [v, v]   # 2**60 nodes once expanded, 60 levels deep
print(json.dumps(attempt(lambda: mesh.kv.set("k", v))))
"""
    )
    assert result["outcome"] == "TooLarge", result
    assert result["seconds"] < 20, result


@pytest.mark.parametrize(
    "value, fragment",
    [
        (float("nan"), "NaN"),
        (float("inf"), "infinite"),
        (2**64, "64-bit"),
        ({1: "int key"}, "key of type int"),
        ({"s": {1, 2}}, "type set"),
        (b"bytes", "type bytes"),
    ],
)
def test_values_json_cannot_hold_are_invalid_input(value, fragment: str) -> None:
    mesh = MeshClient("memory://")
    with pytest.raises(InvalidInput) as info:
        mesh.kv.set("k", value)
    assert fragment in str(info.value) and "kv.set" in str(info.value)


def test_extreme_numbers_that_json_holds_round_trip(mesh: MeshClient) -> None:
    for value in [2**63 - 1, -(2**63), 2**64 - 1, 1e308, -1e-308, 0.1]:
        mesh.kv.set("n", value)
        assert mesh.kv.get("n").value == value


def _nested(depth: int):
    v: object = 1
    for _ in range(depth):
        v = {"a": v}
    return v


def test_a_value_at_the_depth_limit_is_readable_through_every_read_path(mesh: MeshClient) -> None:
    deepest = _nested(MAX_DEPTH)
    mesh.kv.set("deep", deepest)
    assert mesh.kv.get("deep").value == deepest
    assert mesh.kv.list("dee").items[0].value == deepest
    assert mesh.kv.batch_get(["deep"])[0].value == deepest
    mesh.timeline.append("deep/data", deepest)
    assert mesh.timeline.get("deep/").items[0].data == deepest
    assert mesh.call("mesh_kv_get", {"key": "deep"})["value"] == deepest
    with pytest.raises(InvalidInput):
        mesh.kv.set("deeper", _nested(MAX_DEPTH + 1))


def test_value_limits_hold_on_the_async_client_too(tmp_path) -> None:
    import asyncio

    from agent_mesh import AsyncMeshClient

    async def main() -> None:
        mesh = AsyncMeshClient("memory://")
        v: list = []
        v.append(v)
        with pytest.raises(InvalidInput):
            await mesh.kv.set("k", v)
        shared: list = []
        for _ in range(60):
            shared = [shared, shared]
        with pytest.raises(TooLarge):
            await mesh.kv.set("k", shared)

    asyncio.run(main())


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 1e19, -1.0])
def test_timeouts_that_are_not_a_duration_are_invalid_input(timeout: float) -> None:
    mesh = MeshClient("memory://")
    sub = mesh.events.subscribe({"source": ["x"]})
    with pytest.raises(InvalidInput, match="timeout"):
        sub.next(timeout=timeout)
    mesh.workflows.create("w", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    run = mesh.workflows.start("w", {})
    with pytest.raises(InvalidInput, match="timeout"):
        run.wait(timeout=timeout)
    assert run.wait(timeout=10).status == "SUCCEEDED"


def test_a_panic_inside_the_core_is_an_internal_error_not_a_panic_exception() -> None:
    """AGENT_MESH_FAILPOINT makes one tool panic inside the Rust core, on purpose."""
    code = """
import json, os
from agent_mesh import MeshClient, MeshError, Internal
mesh = MeshClient("memory://")
try:
    mesh.call("mesh_kv_get", {"key": "k"})
    outcome = "returned"
except Internal as e:
    outcome = "Internal: " + str(e)
except BaseException as e:  # PanicException derives from BaseException
    outcome = "escaped: " + type(e).__name__
mesh.kv.set("after", 1)
print(json.dumps({"outcome": outcome, "after": mesh.kv.get("after").value}))
"""
    import os

    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AGENT_MESH_FAILPOINT": "mesh_kv_get"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"].startswith("Internal: ") and "on purpose" in result["outcome"], result
    assert result["after"] == 1, "the process goes on"


@pytest.mark.parametrize("bad", [-1, 2**64, True, 1.5, "10"])
def test_counts_that_are_not_a_non_negative_int_are_invalid_input(bad) -> None:
    mesh = MeshClient("memory://")
    with pytest.raises(InvalidInput):
        mesh.kv.list("", limit=bad)
    with pytest.raises(InvalidInput):
        mesh.kv.set("k", 1, if_version=bad)
    with pytest.raises(InvalidInput):
        mesh.timeline.get("", limit=bad)
    with pytest.raises(InvalidInput):
        mesh.artifacts.list("", limit=bad)
