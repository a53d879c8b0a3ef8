"""Cross-process subscriber (Python side). Usage: python_subscriber.py URL PATTERN_JSON COUNT

Subscribes, prints "ready", receives COUNT events, then checks for 0.5 s that no further event
arrives; prints {"ns": [detail.n in arrival order], "latency_ms": [...], "extra": bool}."""

import json
import sys
import time

from agent_mesh import MeshClient


def main() -> None:
    url, pattern, count = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    mesh = MeshClient(url)
    with mesh.events.subscribe(pattern) as sub:
        print("ready", flush=True)
        ns, latency = [], []
        for _ in range(count):
            event = sub.next(timeout=60)
            if event is None:
                break
            latency.append(time.time() * 1000 - event.detail["sent_ms"])
            ns.append(event.detail["n"])
        extra = sub.next(timeout=0.5) is not None
    print(json.dumps({"ns": ns, "latency_ms": latency, "extra": extra}))


if __name__ == "__main__":
    main()
