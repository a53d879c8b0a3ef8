"""A Python process SIGKILLed between a large KV value's two writes (its body stored in the
artifact store, its pointer not yet: the failpoint holds the writer there), on local:// and, when
AGENT_MESH_TEST_BACKENDS names it, on moto: the value stays whole at the last acknowledged
version, the body of the write cut short is the only garbage, and a later writer collects it."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agent_mesh import MeshClient
from large_value_writer import BODIES, doc

HERE = Path(__file__).resolve().parent
BACKENDS = [b for b in os.environ.get("AGENT_MESH_TEST_BACKENDS", "memory,local").split(",") if b in ("local", "aws")]


def url_for(backend: str, tmp_path: Path) -> str:
    if backend == "local":
        return f"local://{tmp_path}/mesh"
    endpoint = os.environ["AGENT_MESH_TEST_AWS_ENDPOINT"]
    return f"aws://?region=us-east-1&endpoint={endpoint}&prefix=t{uuid.uuid4().hex[:12]}-"


def writer(url: str, writes: int, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(HERE / "large_value_writer.py"), url, str(writes)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_between_a_large_values_two_writes_leaves_a_consistent_store(backend: str, tmp_path: Path) -> None:
    url = url_for(backend, tmp_path)
    mesh = MeshClient(url)
    mesh.provision()
    out, err = writer(url, 2).communicate(timeout=120)
    assert out.split() == ["1", "2", "bodies", "1"], err

    cut = writer(url, 1, AGENT_MESH_FAILPOINT="kv.set:body-stored")
    line = cut.stderr.readline()
    assert line.rstrip().endswith("paused"), line + cut.stderr.read()
    cut.send_signal(signal.SIGKILL)
    cut.wait(timeout=30)
    assert cut.returncode == -signal.SIGKILL

    item = mesh.kv.get("doc")
    assert (item.version, item.value == doc(2)) == (2, True), "the last acknowledged version, whole"
    assert len(mesh.artifacts.list(BODIES).items) == 2, "its body and the orphan of the write cut short"

    out, err = writer(url, 1, AGENT_MESH_KV_BODY_GRACE_SECONDS="0").communicate(timeout=120)
    assert out.split() == ["3", "bodies", "1"], err
    item = mesh.kv.get("doc")
    assert (item.version, item.value == doc(3)) == (3, True)
