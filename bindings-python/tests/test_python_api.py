"""What only the Python binding has: the asyncio client, GIL release, fork safety, type stubs."""

import asyncio
import inspect
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import agent_mesh
from agent_mesh import AsyncMeshClient, Conflict, MeshClient

ROOT = Path(__file__).resolve().parents[2]


#: Methods that do no I/O and stay synchronous on the async client (`scope` returns an
#: AsyncMeshClient, as MeshClient.scope returns a MeshClient).
SYNC_ON_ASYNC = {"scope", "iam_policy"}


def test_async_client_has_every_sync_method() -> None:
    pairs = [(MeshClient, agent_mesh.AsyncMeshClient), (agent_mesh.Kv, agent_mesh.AsyncKv),
             (agent_mesh.Artifacts, agent_mesh.AsyncArtifacts)]
    for sync_cls, async_cls in pairs:
        sync_methods = {n for n in dir(sync_cls) if not n.startswith("_") and callable(getattr(sync_cls, n))}
        assert sync_methods, sync_cls
        for name in sync_methods:
            method = getattr(async_cls, name)
            is_coroutine = inspect.iscoroutinefunction(method)
            assert is_coroutine != (name in SYNC_ON_ASYNC), f"{async_cls.__name__}.{name}"
            assert inspect.signature(method) == inspect.signature(getattr(sync_cls, name))


def test_async_client_roundtrip_and_concurrency(mesh_url: str, tmp_path) -> None:
    async def main() -> None:
        mesh = AsyncMeshClient(mesh_url)
        await mesh.provision()
        await mesh.kv.set("count", 0)

        async def incr(n: int) -> None:
            done = 0
            while done < n:
                item = await mesh.kv.get("count")
                try:
                    await mesh.kv.set("count", item.value + 1, if_version=item.version)
                    done += 1
                except Conflict:
                    pass

        await asyncio.gather(*(incr(25) for _ in range(4)))
        item = await mesh.kv.get("count")
        assert item.value == 100
        meta = await mesh.artifacts.put("a/b", b"bytes", content_type="text/plain")
        assert (await mesh.artifacts.get("a/b")).data == b"bytes"
        page = await mesh.artifacts.list("a/")
        assert [m.key for m in page.items] == ["a/b"] and meta.size == 5
        src = tmp_path / "src"
        src.write_bytes(b"file")
        await mesh.artifacts.put_file("f", src)
        await mesh.artifacts.get_to_file("f", tmp_path / "dst")
        assert (tmp_path / "dst").read_bytes() == b"file"
        assert await mesh.kv.delete("count") is True

    asyncio.run(main())


HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


def test_gil_is_released_while_the_core_waits(tmp_path) -> None:
    mesh = MeshClient(f"local://{tmp_path}/mesh")
    # Another process holds the mesh's write lock (locks are per process, so it must be one).
    blocker = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "mesh" / "mesh.db")],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert blocker.stdout.readline().strip() == "locked"
    result = {}

    def write() -> None:
        start = time.monotonic()
        mesh.kv.set("k", "v")
        result["elapsed"] = time.monotonic() - start

    t = threading.Thread(target=write)
    t.start()
    # If kv.set held the GIL while waiting for the lock, this thread could not run again
    # until the 30 s busy timeout, and the lock would not be released in time.
    time.sleep(0.3)
    blocker.stdin.write("\n")
    blocker.stdin.flush()
    t.join(timeout=10)
    blocker.wait(timeout=10)
    assert not t.is_alive(), "kv.set did not release the GIL while waiting"
    assert 0.25 < result["elapsed"] < 5, result
    assert mesh.kv.get("k").value == "v"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX-only")
def test_keeps_working_after_fork(tmp_path) -> None:
    mesh = MeshClient(f"local://{tmp_path}/mesh")
    mesh.kv.set("parent", 1)
    mesh.artifacts.put("p", b"parent")
    pid = os.fork()
    if pid == 0:  # child: use the inherited client, then exit without running pytest's teardown
        code = 1
        try:
            assert mesh.kv.get("parent").value == 1
            mesh.kv.set("child", 2)
            mesh.artifacts.put("c", b"child")
            assert mesh.artifacts.get("p").data == b"parent"
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the forked child hung")
        time.sleep(0.02)
    assert os.waitstatus_to_exitcode(status) == 0
    assert mesh.kv.get("child").value == 2
    assert mesh.artifacts.get("c").data == b"child"
    mesh.kv.set("parent", 3)  # the parent's client still works too
    assert mesh.kv.get("parent").value == 3


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT)


def test_stubs_match_the_module() -> None:
    out = run("-m", "mypy.stubtest", "agent_mesh")
    assert out.returncode == 0, out.stdout + out.stderr


def test_async_stubs_are_generated_from_the_native_stubs() -> None:
    out = run("bindings-python/scripts/gen_async_stubs.py", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_typed_example_passes_mypy_strict() -> None:
    out = run("-m", "mypy", "--strict", "examples/python/personal_assistant.py", "bindings-python/tests/typed_usage.py")
    assert out.returncode == 0, out.stdout + out.stderr


def test_example_runs(tmp_path) -> None:
    env = {**os.environ, "AGENT_MESH_DIR": str(tmp_path / "m")}
    out = subprocess.run([sys.executable, str(ROOT / "examples/python/personal_assistant.py")],
                         capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "read    preferences v1" in out.stdout
    assert "conversations/2024/resume.pdf: 40 bytes" in out.stdout
    assert "event   DocumentUploaded from document-processor" in out.stdout
    assert "user/john/documents" in out.stdout
    assert "workflow content-moderation \"Notes from John's resume review\": SUCCEEDED {'status': 'published'}" in out.stdout
    assert "workflow content-moderation 'Buy SPAM now': SUCCEEDED {'status': 'flagged'}" in out.stdout
