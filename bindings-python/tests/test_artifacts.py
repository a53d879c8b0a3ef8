"""Artifact cases of the behaviour suite (the same cases as core/tests/behaviour/artifacts.rs)."""

import os
import threading

import pytest

from agent_mesh import InvalidInput, MeshClient, NotFound, TooLarge


def content(seed: int, n: int) -> bytes:
    return bytes(((i * 31) + seed) & 0xFF for i in range(n))


def test_put_get_head_roundtrip(mesh: MeshClient) -> None:
    data = content(1, 10_000)
    meta = mesh.artifacts.put("conversations/2024/resume.pdf", data, content_type="application/pdf",
                              metadata={"Author": "john", "pages": "3"})
    assert meta.size == 10_000 and meta.content_type == "application/pdf"
    assert meta.metadata == {"author": "john", "pages": "3"}, "names are lower-cased"
    got = mesh.artifacts.get("conversations/2024/resume.pdf")
    assert got.data == data and isinstance(got.data, bytes)
    assert (got.meta.etag, got.meta.size, got.meta.metadata) == (meta.etag, meta.size, meta.metadata)
    head = mesh.artifacts.head("conversations/2024/resume.pdf")
    assert (head.etag, head.size, head.content_type, head.metadata) == (meta.etag, meta.size, meta.content_type, meta.metadata)
    # A put reports the time it sent the content; S3 records its own, to the second.
    assert abs((head.last_modified - meta.last_modified).total_seconds()) <= 2
    plain = mesh.artifacts.put("empty", b"")
    assert plain.content_type == "application/octet-stream" and plain.metadata == {}
    assert mesh.artifacts.get("empty").data == b""


def test_replace_changes_etag_and_content(mesh: MeshClient) -> None:
    first = mesh.artifacts.put("doc", content(1, 100), content_type="text/plain")
    second = mesh.artifacts.put("doc", content(2, 50))
    assert first.etag != second.etag
    got = mesh.artifacts.get("doc")
    assert got.data == content(2, 50)
    assert got.meta.content_type == "application/octet-stream"
    assert got.meta.etag == second.etag


def test_put_file_and_get_to_file_stream(mesh: MeshClient, tmp_path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(5 * 1024 * 1024 + 3)
    source.write_bytes(data)
    meta = mesh.artifacts.put_file("big/file.bin", source, content_type="application/x-test")
    assert meta.size == len(data)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "copy.bin"
    dest.write_bytes(b"old contents are replaced")
    got = mesh.artifacts.get_to_file("big/file.bin", str(dest))
    assert got.etag == meta.etag
    assert dest.read_bytes() == data
    assert os.listdir(out) == ["copy.bin"]
    with pytest.raises(NotFound, match="missing"):
        mesh.artifacts.put_file("x", tmp_path / "missing")
    with pytest.raises(InvalidInput):
        mesh.artifacts.put_file("x", tmp_path)


def test_missing_artifacts(mesh: MeshClient, tmp_path) -> None:
    assert mesh.artifacts.get("nope") is None
    assert mesh.artifacts.head("nope") is None
    with pytest.raises(NotFound, match='artifacts.get_to_file "nope"'):
        mesh.artifacts.get_to_file("nope", tmp_path / "f")
    assert not (tmp_path / "f").exists()


def test_list_pages_are_complete_and_disjoint(mesh: MeshClient) -> None:
    expected = [f"reports/{i:03}.txt" for i in range(120)]
    for i, key in enumerate(expected):
        mesh.artifacts.put(key, f"report {i}".encode())
    mesh.artifacts.put("reportsX", b"x")
    for limit in (1, 13, 120, 1000):
        keys, cursor = [], None
        while True:
            page = mesh.artifacts.list("reports/", limit=limit, cursor=cursor)
            assert len(page.items) <= limit
            assert all(m.size > 0 for m in page.items)
            keys += [m.key for m in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert keys == expected, f"limit {limit}"


def test_delete_removes(mesh: MeshClient) -> None:
    mesh.artifacts.put("gone", b"bye")
    assert mesh.artifacts.delete("gone") is True
    assert mesh.artifacts.delete("gone") is False
    assert mesh.artifacts.get("gone") is None
    assert mesh.artifacts.list("gone").items == []


def test_keys_cannot_escape_the_store(mesh: MeshClient, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    for key in ("../escaped", "a/../../escaped", str(outside / "escaped"), "./x", "a//b", "a\\..\\b", "", "x\0y"):
        with pytest.raises(InvalidInput, match="artifacts.put"):
            mesh.artifacts.put(key, b"no")
        for call in (mesh.artifacts.get, mesh.artifacts.head, mesh.artifacts.delete):
            with pytest.raises(InvalidInput):
                call(key)
    assert os.listdir(outside) == []


def test_metadata_is_validated(mesh: MeshClient) -> None:
    with pytest.raises(TooLarge):
        mesh.artifacts.put("m", b"x", metadata={"note": "n" * 2100})
    with pytest.raises(InvalidInput):
        mesh.artifacts.put("m", b"x", metadata={"bad name": "v"})
    with pytest.raises(InvalidInput):
        mesh.artifacts.put("m", b"x", metadata={"ok": "line\nbreak"})
    assert mesh.artifacts.head("m") is None


def test_readers_never_see_a_mix_during_replacement(mesh: MeshClient) -> None:
    a, b = content(1, 64 * 1024), content(2, 96 * 1024)
    mesh.artifacts.put("swap", a, content_type="a")

    def writer() -> None:
        for i in range(60):
            data, ct = (b, "b") if i % 2 == 0 else (a, "a")
            mesh.artifacts.put("swap", data, content_type=ct)

    t = threading.Thread(target=writer)
    t.start()
    reads = 0
    while t.is_alive() or reads < 20:
        got = mesh.artifacts.get("swap")
        assert got is not None
        assert got.data == (a if got.meta.content_type == "a" else b)
        assert got.meta.size == len(got.data)
        reads += 1
    t.join()
