"""Cross-language worker (Python side). Usage: python_worker.py URL ME OTHER INCREMENTS

Writes `from:ME` and artifact `from/ME.bin`, waits until the other process's writes appear and
checks them, then performs INCREMENTS conditional increments of `shared:counter`. Prints a JSON
report on stdout."""

import json
import sys
import time

from agent_mesh import Conflict, MeshClient


def payload(tag: str) -> bytes:
    return (tag * 1000).encode()


def main() -> None:
    url, me, other, increments = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    mesh = MeshClient(url)
    mesh.kv.set(f"from:{me}", {"writer": me, "lang": "python", "list": [1, 2, 3]})
    mesh.artifacts.put(f"from/{me}.bin", payload(me), content_type="application/x-" + me, metadata={"writer": me})
    deadline = time.monotonic() + 30
    while (item := mesh.kv.get(f"from:{other}")) is None or mesh.artifacts.head(f"from/{other}.bin") is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"{me}: {other}'s writes never appeared")
        time.sleep(0.01)
    artifact = mesh.artifacts.get(f"from/{other}.bin")
    report = {
        "read_value": item.value,
        "artifact_ok": artifact.data == payload(other),
        "artifact_meta": [artifact.meta.content_type, artifact.meta.metadata],
    }
    conflicts = done = 0
    while done < increments:
        current = mesh.kv.get("shared:counter")
        try:
            mesh.kv.set("shared:counter", current.value + 1, if_version=current.version)
            done += 1
        except Conflict:
            conflicts += 1
    report["conflicts"] = conflicts
    print(json.dumps(report))


if __name__ == "__main__":
    main()
