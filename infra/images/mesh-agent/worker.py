"""The activity worker of modules/mesh_agents: serves every activity named in
AGENT_MESH_ACTIVITIES (comma-separated) on the mesh AGENT_MESH_URL selects, each with the
handler of the same name in handlers.HANDLERS, until the task is stopped (SIGTERM)."""

import os
import signal
import sys
import threading

from agent_mesh import MeshClient

import handlers


def main() -> None:
    activities = [a.strip() for a in os.environ.get("AGENT_MESH_ACTIVITIES", "").split(",") if a.strip()]
    missing = [a for a in activities if a not in handlers.HANDLERS]
    if not activities or missing:
        sys.exit(f"AGENT_MESH_ACTIVITIES={activities}: no handler in handlers.HANDLERS for {missing or 'any'}")
    mesh = MeshClient()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workers = []
    for activity in activities:
        mesh.workflows.create_activity(activity)
        workers.append(mesh.workflows.worker(activity, handlers.HANDLERS[activity]))
    print(f"serving {', '.join(activities)}", flush=True)
    stop.wait()
    for worker in workers:
        worker.stop()


if __name__ == "__main__":
    main()
