"""A Python process and a Node process share one local mesh at the same time: each reads what
the other wrote (KV and artifacts), and their concurrent conditional increments end exact."""

import json
import subprocess
import sys
from pathlib import Path

from agent_mesh import MeshClient

HERE = Path(__file__).resolve().parent
INCREMENTS = 1000


def test_python_and_node_share_one_local_mesh(tmp_path) -> None:
    url = f"local://{tmp_path}/mesh"
    mesh = MeshClient(url)
    mesh.kv.set("shared:counter", 0)
    procs = {
        "py": subprocess.Popen([sys.executable, str(HERE / "python_worker.py"), url, "py", "node", str(INCREMENTS)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
        "node": subprocess.Popen(["node", str(HERE / "node_worker.js"), url, "node", "py", str(INCREMENTS)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
    }
    reports = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{name} worker failed:\n{err}"
        reports[name] = json.loads(out)

    assert reports["py"]["read_value"] == {"writer": "node", "lang": "node", "list": [1, 2, 3]}
    assert reports["node"]["read_value"] == {"writer": "py", "lang": "python", "list": [1, 2, 3]}
    assert reports["py"]["artifact_ok"] and reports["node"]["artifact_ok"]
    assert reports["py"]["artifact_meta"] == ["application/x-node", {"writer": "node"}]
    assert reports["node"]["artifact_meta"] == ["application/x-py", {"writer": "py"}]
    counter = mesh.kv.get("shared:counter")
    assert counter.value == 2 * INCREMENTS, "increments were lost or doubled"
    assert counter.version == 2 * INCREMENTS + 1
    print(f"conflicts retried: python {reports['py']['conflicts']}, node {reports['node']['conflicts']}")
