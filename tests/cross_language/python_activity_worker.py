"""Activity worker in its own Python process. Usage: python_activity_worker.py URL ACTIVITY TASKS

Serves ACTIVITY on the mesh at URL until it has handled TASKS tasks, then stops its worker and
exits. Each result names the language and the process that produced it."""

import os
import sys
import threading
from typing import Any, Dict


class ReviewRejected(Exception):
    """Fails the task as `ReviewRejected`."""


def main() -> None:
    from agent_mesh import MeshClient

    url, activity, tasks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mesh = MeshClient(url)
    handled = 0
    done = threading.Event()

    def review(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        nonlocal handled
        handled += 1
        if handled == tasks:
            done.set()
        if input["score"] < 0:
            raise ReviewRejected(f"negative score {input['score']}")
        return {"approved": input["score"] > 5, "by": "python", "pid": os.getpid()}

    with mesh.workflows.worker(activity, review):
        print("ready", flush=True)
        if not done.wait(timeout=120):
            sys.exit("no tasks came in 120 s")


if __name__ == "__main__":
    main()
