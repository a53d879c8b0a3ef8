"""The error kinds are defined once, in the Rust core (`ErrorKind::ALL`, exposed as
`agent_mesh._agent_mesh._ERROR_KINDS`): each must be a `MeshError` subclass of the same name in
the module, in `__all__` and in the stubs, and nothing else may be. A kind added in one place and
not the others fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import agent_mesh
from agent_mesh import MeshError, _agent_mesh

STUB = Path(agent_mesh.__file__).with_name("_agent_mesh.pyi")


def test_every_core_kind_is_its_own_exception_class() -> None:
    kinds = list(_agent_mesh._ERROR_KINDS)
    assert len(kinds) >= 10 and len(set(kinds)) == len(kinds)
    for kind in kinds:
        cls = getattr(agent_mesh, kind)
        assert cls is not MeshError and issubclass(cls, MeshError) and cls.__name__ == kind, kind
        assert kind in agent_mesh.__all__, kind
    subclasses = {name for name, value in vars(agent_mesh).items()
                  if isinstance(value, type) and issubclass(value, MeshError) and value is not MeshError}
    assert subclasses == set(kinds)


def test_the_stubs_declare_exactly_the_core_kinds() -> None:
    tree = ast.parse(STUB.read_text())
    declared = [node.name for node in tree.body if isinstance(node, ast.ClassDef)
                and any(isinstance(b, ast.Name) and b.id == "MeshError" for b in node.bases)]
    assert declared == list(_agent_mesh._ERROR_KINDS)


def test_an_error_is_raised_as_its_kind() -> None:
    mesh = agent_mesh.MeshClient("memory://")
    try:
        mesh.kv.set("", 1)
    except MeshError as e:
        assert type(e).__name__ == e.kind == "InvalidInput"
    else:
        raise AssertionError("kv.set('') did not raise")
