"""Activity workers in other processes: executions started here (Python) are served by a worker
in a Node process, then by one in another Python process, through the local mesh (the
GetActivityTask-style polling of the embedded engine). Every execution completes once, with
the result of the process that served it; errors thrown there fail the execution by name."""

import subprocess
import sys
from pathlib import Path

from agent_mesh import MeshClient

HERE = Path(__file__).resolve().parent
TASKS = 6


def _serve(mesh: MeshClient, command: list, language: str) -> None:
    worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready", worker.stderr.read() if worker.stderr else ""
        runs = [mesh.workflows.start("reviewed", {"score": score}) for score in range(-1, TASKS - 1)]
        results = [run.wait(timeout=60) for run in runs]
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, f"{language} worker failed:\n{err}"
    finally:
        if worker.poll() is None:
            worker.kill()
    rejected, *served = results
    assert (rejected.status, rejected.error) == ("FAILED", "Review.Rejected" if language == "node" else "ReviewRejected")
    assert rejected.cause == "negative score -1"
    for score, done in enumerate(served):
        assert done.status == "SUCCEEDED", (done.error, done.cause)
        assert done.output["review"]["by"] == language
        assert done.output["review"]["pid"] == worker.pid, "served by the worker process"
        assert done.output["review"]["approved"] == (score > 5)
        assert done.output["score"] == score
    for run in runs:
        types = [e.type for e in mesh.workflows.history(run.arn)]
        # Activity tasks record Step Functions' Activity* events, each once.
        assert types.count("ActivityScheduled") == 1 and types.count("ActivityStarted") == 1, types
        assert types.count("ActivitySucceeded") + types.count("ActivityFailed") == 1, types


def test_workers_in_node_and_python_processes_serve_activities(tmp_path) -> None:
    url = f"local://{tmp_path}/mesh"
    mesh = MeshClient(url)
    arn = mesh.workflows.create_activity("review")
    mesh.workflows.create("reviewed", {"StartAt": "Review", "States": {"Review": {
        "Type": "Task", "Resource": arn, "ResultPath": "$.review", "End": True}}})
    _serve(mesh, ["node", str(HERE / "node_activity_worker.js"), url, "review", str(TASKS)], "node")
    _serve(mesh, [sys.executable, str(HERE / "python_activity_worker.py"), url, "review", str(TASKS)], "python")
