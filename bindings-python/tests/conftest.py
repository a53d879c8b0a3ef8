"""Fixtures: every behaviour test runs against each backend named in AGENT_MESH_TEST_BACKENDS
(comma-separated; default "memory,local")."""

import os
import uuid
from typing import Iterator

import pytest

from agent_mesh import MeshClient

BACKENDS = [b.strip() for b in os.environ.get("AGENT_MESH_TEST_BACKENDS", "memory,local").split(",") if b.strip()]


def aws_url() -> str:
    """A fresh table and bucket (unique name prefix) on the moto server of tests/with-moto.sh."""
    endpoint = os.environ.get("AGENT_MESH_TEST_AWS_ENDPOINT")
    if not endpoint:
        raise RuntimeError("AGENT_MESH_TEST_BACKENDS names aws but AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh")
    return f"aws://?region=us-east-1&endpoint={endpoint}&prefix=t{uuid.uuid4().hex[:12]}-"


def url_for(backend: str, tmp_path) -> str:
    if backend == "memory":
        return f"memory://{uuid.uuid4().hex}"
    if backend == "local":
        return f"local://{tmp_path}/mesh"
    if backend == "aws":
        return aws_url()
    raise ValueError(f"unknown backend {backend!r} in AGENT_MESH_TEST_BACKENDS")


def open_mesh(backend: str, tmp_path) -> MeshClient:
    # An unnamed memory:// store is freed with its client; a named one (url_for's, which
    # mesh_url needs so that several clients share it) lives as long as the process.
    mesh = MeshClient("memory://" if backend == "memory" else url_for(backend, tmp_path))
    mesh.provision()
    return mesh


@pytest.fixture(params=BACKENDS)
def mesh(request, tmp_path) -> Iterator[MeshClient]:
    yield open_mesh(request.param, tmp_path)


@pytest.fixture(params=BACKENDS)
def mesh_url(request, tmp_path) -> str:
    url = url_for(request.param, tmp_path)
    MeshClient(url).provision()
    return url
