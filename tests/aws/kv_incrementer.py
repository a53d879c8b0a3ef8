"""A writer process for test_kv_stress: `n` conditional increments of one key.

    python kv_incrementer.py URL KEY N

Prints {"conflicts": c} once done; exits non-zero on an error that is not retryable."""

import json
import sys

from agent_mesh import Conflict, MeshClient, MeshError


def main() -> None:
    url, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mesh = MeshClient(url)
    conflicts = done = 0
    while done < n:
        try:
            item = mesh.kv.get(key)
            mesh.kv.set(key, item.value + 1, if_version=item.version)
            done += 1
        except Conflict:
            conflicts += 1
        except MeshError as e:
            if not e.retryable:
                raise
    print(json.dumps({"conflicts": conflicts}))


if __name__ == "__main__":
    main()
