"""Python sync vs async `kv.get` / `kv.set` on the local backend, with 1 and 64 calls in flight,
beside aiosqlite (the usual asyncio SQLite peer) on the same kind of file, in the same run.

    python tests/bench/python_async.py            (run by tests/bench/run-all.sh)

Both sides use WAL with synchronous=NORMAL (the local backend's default durability: a commit
survives the process being killed). The peer has a database file of its own holding the same
rows (two SQLite libraries in one process must never open the same file: POSIX locks are per
process, so one library's close drops the other's locks); its get is one SELECT by key, its set
one upsert plus commit per call. BENCH_OPS sets the calls per
measurement. Goals (issue 20): async get p50 <= 2x sync; 64 in flight >= 5x aiosqlite's ops/s."""

import asyncio
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import agent_mesh

KEYS = 10_000
N = int(os.environ.get("BENCH_OPS", "20000"))
IN_FLIGHT = 64
VALUE = {"timezone": "PST", "language": "en", "theme": "dark", "notifications": True}


def stats(samples, elapsed):
    samples.sort()
    at = lambda q: samples[min(len(samples) - 1, int(len(samples) * q))] / 1000  # noqa: E731
    return {"p50": at(0.5), "p99": at(0.99), "ops": len(samples) / elapsed}


def key(i: int) -> str:
    return f"user:{(i * 7919) % KEYS}:preferences"


def sync_run(call) -> dict:
    samples = []
    started = time.perf_counter()
    for i in range(N):
        t = time.perf_counter_ns()
        call(i)
        samples.append(time.perf_counter_ns() - t)
    return stats(samples, time.perf_counter() - started)


async def async_run(call, in_flight: int) -> dict:
    samples = []

    async def worker(w: int) -> None:
        for i in range(w, N, in_flight):
            t = time.perf_counter_ns()
            await call(i)
            samples.append(time.perf_counter_ns() - t)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(in_flight)))
    return stats(samples, time.perf_counter() - started)


async def measure(tmp: Path) -> list:
    url = f"local://{tmp / 'mesh'}"
    mesh = agent_mesh.MeshClient(url)
    for start in range(0, KEYS, 100):
        mesh.kv.batch_set({key(i): VALUE for i in range(start, start + 100)})
    amesh = agent_mesh.AsyncMeshClient(url)

    import aiosqlite

    text = '{"timezone":"PST","language":"en","theme":"dark","notifications":true}'
    peer = await aiosqlite.connect(tmp / "peer.db")
    await peer.execute("PRAGMA journal_mode=WAL")
    await peer.execute("PRAGMA synchronous=NORMAL")
    await peer.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID")
    await peer.executemany("INSERT INTO kv VALUES (?, ?, 1)", [(f"user:{i}:preferences", text) for i in range(KEYS)])
    await peer.commit()
    peer_get = peer_set = peer

    async def aiosqlite_get(i: int) -> None:
        async with peer_get.execute("SELECT value FROM kv WHERE key = ?", (key(i),)) as cursor:
            await cursor.fetchone()

    async def aiosqlite_set(i: int) -> None:
        await peer_set.execute(
            "INSERT INTO kv (key, value, version) VALUES (?1, ?2, 1) "
            "ON CONFLICT(key) DO UPDATE SET value = ?2, version = version + 1",
            (key(i), text),
        )
        await peer_set.commit()

    rows = []
    rows.append(("kv.get", "sync MeshClient", 1, sync_run(lambda i: mesh.kv.get(key(i)))))
    for flight in (1, IN_FLIGHT):
        rows.append(("kv.get", "AsyncMeshClient", flight, await async_run(lambda i: amesh.kv.get(key(i)), flight)))
        rows.append(("kv.get", "aiosqlite", flight, await async_run(aiosqlite_get, flight)))
    rows.append(("kv.set", "sync MeshClient", 1, sync_run(lambda i: mesh.kv.set(key(i), VALUE))))
    for flight in (1, IN_FLIGHT):
        rows.append(("kv.set", "AsyncMeshClient", flight, await async_run(lambda i: amesh.kv.set(key(i), VALUE), flight)))
        rows.append(("kv.set", "aiosqlite", flight, await async_run(aiosqlite_set, flight)))
    await peer.close()
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="agent-mesh-bench-async-") as tmp:
        rows = asyncio.run(measure(Path(tmp)))
    print(f"Python asyncio vs sync on the local backend ({N} calls each; WAL, synchronous=NORMAL; sqlite {sqlite3.sqlite_version})")
    print(f"{'op':8} {'client':18} {'in flight':>9} {'p50 µs':>9} {'p99 µs':>9} {'ops/s':>10}")
    for op, client, flight, s in rows:
        print(f"{op:8} {client:18} {flight:>9} {s['p50']:>9.1f} {s['p99']:>9.1f} {s['ops']:>10.0f}")
    by = {(op, client, flight): s for op, client, flight, s in rows}
    for op in ("kv.get", "kv.set"):
        sync, one = by[(op, "sync MeshClient", 1)], by[(op, "AsyncMeshClient", 1)]
        many, peer = by[(op, "AsyncMeshClient", IN_FLIGHT)], by[(op, "aiosqlite", IN_FLIGHT)]
        print(
            f"{op}: async p50 = {one['p50'] / sync['p50']:.2f}x sync (goal <= 2x); "
            f"{IN_FLIGHT} in flight = {many['ops'] / peer['ops']:.1f}x aiosqlite's ops/s (goal >= 5x)"
        )


if __name__ == "__main__":
    main()
