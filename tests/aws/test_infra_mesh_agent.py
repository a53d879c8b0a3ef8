"""The activity worker of the medium/mesh_agents workspace's image (infra/images/mesh-agent), run as
its container runs it (`python worker.py` with AGENT_MESH_URL and AGENT_MESH_ACTIVITIES), on a
local mesh: it serves a workflow's activity Task with the handler of handlers.py and stops on
SIGTERM, as ECS stops a task."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from agent_mesh import MeshClient

IMAGE = Path(__file__).resolve().parents[2] / "infra/images/mesh-agent"


def worker(url: str, activities: str) -> subprocess.Popen:
    env = {**os.environ, "AGENT_MESH_URL": url, "AGENT_MESH_ACTIVITIES": activities}
    return subprocess.Popen([sys.executable, str(IMAGE / "worker.py")], cwd=IMAGE, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_the_image_worker_serves_a_workflows_activity_until_sigterm(tmp_path: Path) -> None:
    url = f"local://{tmp_path}/mesh"
    mesh = MeshClient(url)
    arn = mesh.workflows.create_activity("extract-text")
    mesh.workflows.create("documents", {"StartAt": "Extract", "States": {
        "Extract": {"Type": "Task", "Resource": arn, "End": True}}})
    proc = worker(url, "extract-text")
    try:
        assert proc.stdout.readline().strip() == "serving extract-text"
        run = mesh.workflows.start("documents", {"document": "resume.pdf", "text": "three short words"})
        done = mesh.workflows.wait(run.arn, timeout=60)
        assert done.status == "SUCCEEDED", done
        assert done.output == {"document": "resume.pdf", "words": 3}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read()


def test_the_image_worker_refuses_activities_without_a_handler(tmp_path: Path) -> None:
    proc = worker(f"local://{tmp_path}/mesh", "extract-text,translate")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "no handler in handlers.HANDLERS for ['translate']" in err, err
