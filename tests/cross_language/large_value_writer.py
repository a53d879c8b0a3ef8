"""Writes the large value `doc` version after version for tests/cross_language/test_large_value_crash.py:
`large_value_writer.py <url> <writes>` prints each version once stored, then waits (up to 10 s) for
background collection to leave a single body and prints `bodies <n>`."""

import sys
import time

from agent_mesh import MeshClient

BODIES = ".agent-mesh/kv-values/"
SIZE = 1_500_000


def doc(version: int) -> dict:
    unit = f"{version:016x}"
    return {"i": version, "text": (unit * (SIZE // 16 + 1))[:SIZE]}


def main() -> None:
    url, writes = sys.argv[1], int(sys.argv[2])
    mesh = MeshClient(url)
    for _ in range(writes):
        item = mesh.kv.get("doc")
        version = item.version if item else 0
        conditions = {"if_version": version} if version else {"if_absent": True}
        mesh.kv.set("doc", doc(version + 1), **conditions)
        print(version + 1, flush=True)
    deadline = time.monotonic() + 10
    while len(mesh.artifacts.list(BODIES).items) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    print(f"bodies {len(mesh.artifacts.list(BODIES).items)}", flush=True)


if __name__ == "__main__":
    main()
