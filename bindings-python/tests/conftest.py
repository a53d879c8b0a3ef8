"""Fixtures: every behaviour test runs against each backend named in AGENT_MESH_TEST_BACKENDS
(comma-separated; default "memory,local")."""

import os
import uuid
from typing import Iterator

import pytest

from agent_mesh import MeshClient

BACKENDS = [b.strip() for b in os.environ.get("AGENT_MESH_TEST_BACKENDS", "memory,local").split(",") if b.strip()]


def open_mesh(backend: str, tmp_path) -> MeshClient:
    if backend == "memory":
        return MeshClient("memory://")
    if backend == "local":
        return MeshClient(f"local://{tmp_path}/mesh")
    raise ValueError(f"unknown backend {backend!r} in AGENT_MESH_TEST_BACKENDS")


@pytest.fixture(params=BACKENDS)
def mesh(request, tmp_path) -> Iterator[MeshClient]:
    yield open_mesh(request.param, tmp_path)


@pytest.fixture(params=BACKENDS)
def mesh_url(request, tmp_path) -> str:
    if request.param == "memory":
        return f"memory://{uuid.uuid4().hex}"
    return f"local://{tmp_path}/mesh"
