"""Hardening cases through the Python API (the same ground as core/tests/behaviour/guards.rs,
subscriptions.rs, core/tests/local_hardening.rs and redaction.rs): control characters in
artifact keys and HTTP headers, metadata names colliding in case, the 4 MB batch_set limit,
deleting durable subscriptions, private files whatever the umask, and secrets never shown."""

import asyncio
import os
import re
import stat
import subprocess
import sys
import uuid

import pytest

from agent_mesh import AsyncMeshClient, InvalidInput, MeshClient, MeshError, NotFound, TooLarge

CONTROL_KEYS = ["a\x01b", "reports/line\nbreak.txt", "tab\there", "cr\r", "del\x7fx", "\x1f", "nul\x00"]


def is_aws(mesh: MeshClient) -> bool:
    return "Aws" in repr(mesh)


def test_artifact_keys_with_control_characters_are_invalid(mesh: MeshClient, tmp_path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"content")
    for key in CONTROL_KEYS:
        with pytest.raises(InvalidInput) as raised:
            mesh.artifacts.put(key, b"x")
        message = raised.value.message
        assert message.startswith("artifacts.put "), message
        assert key not in message, f"the raw key is escaped: {message!r}"
        assert "remove" in message, message
        calls = [
            lambda: mesh.artifacts.put_file(key, str(source)),
            lambda: mesh.artifacts.get(key),
            lambda: mesh.artifacts.head(key),
            lambda: mesh.artifacts.delete(key),
            lambda: mesh.artifacts.get_to_file(key, str(tmp_path / "out.bin")),
        ]
        for call in calls:
            with pytest.raises(InvalidInput):
                call()
    assert mesh.artifacts.list("").items == []


def test_kv_keys_may_hold_control_characters(mesh: MeshClient) -> None:
    key = "ctl:\x01tab\there\nline\x7f"
    mesh.kv.set(key, 1)
    assert mesh.kv.get(key).value == 1
    assert [item.key for item in mesh.kv.list("ctl:").items] == [key]
    assert mesh.kv.delete(key)
    with pytest.raises(InvalidInput):
        mesh.kv.set("nul\x00key", 1)


@pytest.mark.parametrize(
    "options, text",
    [
        ({"metadata": {"Owner": "a", "owner": "b"}}, "differ only in case"),
        ({"metadata": {"note": "a\r\nX-Injected: 1"}}, "U+000D"),
        ({"metadata": {"note": "tab\there"}}, "U+0009"),
        ({"metadata": {"bad\nname": "v"}}, "metadata name"),
        ({"content_type": "text/plain\r\nX-Injected: 1"}, "content_type"),
        ({"content_type": "text/\x7fplain"}, "content_type"),
    ],
)
def test_metadata_and_content_type_are_header_safe(mesh: MeshClient, tmp_path, options, text) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"content")
    with pytest.raises(InvalidInput, match=re.escape(text)) as raised:
        mesh.artifacts.put("hdr/a", b"x", **options)
    assert 'artifacts.put "hdr/a"' in raised.value.message
    with pytest.raises(InvalidInput):
        mesh.artifacts.put_file("hdr/a", str(source), **options)
    assert mesh.artifacts.head("hdr/a") is None
    meta = mesh.artifacts.put("hdr/a", b"x", content_type="text/plain; charset=utf-8", metadata={"Owner": "a b"})
    assert meta.metadata == {"owner": "a b"}


def test_batch_set_over_the_transaction_limit_is_too_large(mesh: MeshClient) -> None:
    # Ten items of exactly 400,000 bytes (key 5 + JSON value 399,795 + 200): 4,000,000 bytes.
    full = {f"big-{i}": "v" * 399_793 for i in range(10)}
    with pytest.raises(TooLarge) as raised:
        mesh.kv.batch_set({**full, "x": 0})
    message = raised.value.message
    assert "4000202 bytes" in message and "at most 4000000 bytes" in message and "split it" in message, message
    assert mesh.kv.batch_get([*full, "x"]) == [None] * 11
    mesh.kv.batch_set(full)
    assert all(item is not None for item in mesh.kv.batch_get(list(full)))


def test_delete_subscription(mesh: MeshClient) -> None:
    quiet = 3.0 if is_aws(mesh) else 0.3
    name = f"del-{uuid.uuid4().hex[:8]}"
    pattern = {"detail-type": ["Deleted"]}
    assert mesh.events.delete_subscription(name) is False
    mesh.events.subscribe(pattern, name=name).close()
    mesh.events.send("Deleted", {"n": "before"})
    assert mesh.events.delete_subscription(name) is True
    assert mesh.events.delete_subscription(name) is False
    with mesh.events.subscribe(pattern, name=name) as sub:
        mesh.events.send("Deleted", {"n": "after"})
        event = sub.next(timeout=20)
        assert event is not None and event.detail == {"n": "after"}
        assert sub.next(timeout=quiet) is None
        # Deleted while open: the next call raises NotFound; closing still works.
        mesh.events.send("Deleted", {"n": "last"})
        assert sub.next(timeout=20) is not None
        assert mesh.events.delete_subscription(name) is True
        with pytest.raises(NotFound, match="subscribe again"):
            sub.next(timeout=quiet)
    for bad in ["", "has space", "x" * 41]:
        with pytest.raises(InvalidInput, match="events.delete_subscription"):
            mesh.events.delete_subscription(bad)


def test_async_delete_subscription(mesh_url: str) -> None:
    async def main() -> None:
        mesh = AsyncMeshClient(mesh_url)
        name = f"adel-{uuid.uuid4().hex[:8]}"
        await (await mesh.events.subscribe({"source": ["x"]}, name=name)).close()
        assert await mesh.events.delete_subscription(name) is True
        assert await mesh.events.delete_subscription(name) is False

    asyncio.run(main())


def modes(root) -> list:
    """(path, mode, is_dir) of `root` and everything under it."""
    out = [(str(root), stat.S_IMODE(os.stat(root).st_mode), True)]
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            out.append((path, stat.S_IMODE(os.stat(path).st_mode), os.path.isdir(path)))
    return out


def test_local_files_are_private_whatever_the_umask(tmp_path) -> None:
    previous = os.umask(0)
    try:
        (tmp_path / "probe").write_bytes(b"")
        assert stat.S_IMODE(os.stat(tmp_path / "probe").st_mode) == 0o666, "the umask is 000"
        top = tmp_path / "new"
        mesh = MeshClient(f"local://{top}/parent/mesh")
        mesh.kv.set("k", 1)
        mesh.artifacts.put("docs/a.bin", b"one")
        mesh.artifacts.put("docs/a.bin", b"two")
        mesh.events.send("Private", {})
        copy = tmp_path / "copy.bin"
        mesh.artifacts.get_to_file("docs/a.bin", str(copy))
        assert stat.S_IMODE(os.stat(copy).st_mode) == 0o600
        for name in ["mesh.db", "mesh.db-wal", "mesh.db-shm"]:
            assert (top / "parent" / "mesh" / name).is_file(), name
        entries = modes(top)
        assert len(entries) >= 9, entries
        for path, mode, is_dir in entries:
            assert mode == (0o700 if is_dir else 0o600), f"{path} is {mode:o}"
    finally:
        os.umask(previous)


def test_an_existing_directory_keeps_its_mode(tmp_path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o750)
    mesh = MeshClient(f"local://{shared}")
    mesh.artifacts.put("a", b"new")
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(shared / "mesh.db").st_mode) == 0o600
    out = tmp_path / "out.txt"
    out.write_bytes(b"old")
    os.chmod(out, 0o640)
    mesh.artifacts.get_to_file("a", str(out))
    assert out.read_bytes() == b"new" and stat.S_IMODE(os.stat(out).st_mode) == 0o640


def count_events(db) -> int:
    """Rows of the events table, read by another process (a second SQLite copy in this process
    would break the mesh's POSIX locks)."""
    code = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM events').fetchone()[0])"
    return int(subprocess.run([sys.executable, "-c", code, str(db)], check=True, capture_output=True, text=True).stdout)


def test_deleting_a_subscription_lets_retention_prune_the_log(tmp_path) -> None:
    import datetime as dt

    mesh = MeshClient(f"local://{tmp_path}/mesh")
    mesh.events.subscribe({"source": ["x"]}, name="pin").close()
    for i in range(3):
        mesh.events.send("Old", {"i": i})
    # Retention counts from when an event was stored: make these 8 days old in the log itself
    # (from another process, as count_events reads).
    eight_days_ago = int((dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)).timestamp() * 1000)
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute(\"UPDATE events SET time = ? WHERE envelope LIKE '%\\\"Old\\\"%'\", (int(sys.argv[2]),)); c.commit()"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "mesh" / "mesh.db"), str(eight_days_ago)], check=True)
    mesh.events.send("New", {})
    assert count_events(tmp_path / "mesh" / "mesh.db") == 4, "the subscription keeps the old events"
    assert mesh.events.delete_subscription("pin")
    mesh.events.send("New", {})
    assert count_events(tmp_path / "mesh" / "mesh.db") == 2, "the old events were pruned"


SECRETS = ["enduser", "endpointpass"]


@pytest.mark.parametrize(
    "url",
    [
        "aws://?endpoint=http://enduser:endpointpass@127.0.0.1:9&region=us-east-1",
        "aws://?endpoint=http%3A%2F%2Fenduser%3Aendpointpass%40127.0.0.1%3A9&region=us-east-1",
    ],
)
def test_endpoint_credentials_never_show(url: str) -> None:
    mesh = MeshClient(url)
    for shown in [repr(mesh), str(mesh), repr(AsyncMeshClient(url))]:
        assert "***@127.0.0.1" in shown.replace("%40", "@"), shown
        assert not any(secret in shown for secret in SECRETS), shown
    with pytest.raises(MeshError) as raised:
        MeshClient(url + "&token=SESSIONTOKENVALUE")
    shown = f"{raised.value!s} {raised.value.message} {raised.value.context}"
    assert not any(secret in shown for secret in [*SECRETS, "SESSIONTOKENVALUE"]), shown


def test_task_tokens_never_show(mesh: MeshClient) -> None:
    token = "AAAAKgAAAAIAAAAAsecret-task-token-0123456789"
    calls = [
        lambda: mesh.workflows.send_task_success(token, {}),
        lambda: mesh.workflows.send_task_success(token, object()),
        lambda: mesh.workflows.send_task_failure(token, "E", "c"),
        lambda: mesh.workflows.send_task_heartbeat(token),
    ]
    for call in calls:
        with pytest.raises(MeshError) as raised:
            call()
        shown = f"{raised.value!s} {raised.value.message} {raised.value.context}"
        assert "secret-task-token" not in shown, shown
        assert "task token sha256:" in shown, shown
