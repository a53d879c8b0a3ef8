"""Fixtures of the command line and MCP server tests: the `agent-mesh` program under test and a
mesh URL per backend.

The program is `AGENT_MESH_CLI` if set, else the console script `pip install ./bindings-python`
put in `.venv/bin` (tests/run-all.sh installs it before the tests run). Backends come from
AGENT_MESH_TEST_BACKENDS (comma-separated): `local` and `aws` (on the moto server of
tests/with-moto.sh) apply here; `memory` does not, since each command is its own process."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = [
    b.strip()
    for b in os.environ.get("AGENT_MESH_TEST_BACKENDS", "local").split(",")
    if b.strip() in ("local", "aws")
] or ["local"]


def cli_program() -> List[str]:
    """The command that runs `agent-mesh`."""
    configured = os.environ.get("AGENT_MESH_CLI")
    if configured:
        return configured.split()
    script = ROOT / ".venv" / "bin" / "agent-mesh"
    if not script.exists():
        raise RuntimeError(f"{script} is missing: run `.venv/bin/pip install ./bindings-python` (tests/run-all.sh does), or set AGENT_MESH_CLI")
    return [str(script)]


def aws_url() -> str:
    """A fresh table and bucket (unique name prefix) on the moto server of tests/with-moto.sh."""
    endpoint = os.environ.get("AGENT_MESH_TEST_AWS_ENDPOINT")
    if not endpoint:
        raise RuntimeError("AGENT_MESH_TEST_BACKENDS names aws but AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh")
    return f"aws://?region=us-east-1&endpoint={endpoint}&prefix=t{uuid.uuid4().hex[:12]}-"


@dataclass
class Result:
    """What one command did."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as one JSON document."""
        return json.loads(self.stdout)

    def lines(self) -> List[Any]:
        """stdout parsed as JSON lines."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def error(self) -> Any:
        """The JSON error `--json` prints on stderr."""
        return json.loads(self.stderr.strip().splitlines()[-1])["error"]


@dataclass
class Cli:
    """Runs `agent-mesh --url URL ...` against one mesh."""

    url: str
    backend: str
    cwd: Path

    def argv(self, args: Sequence[str], json_output: bool = True) -> List[str]:
        return [*cli_program(), "--url", self.url, *(["--json"] if json_output else []), *args]

    def run(self, *args: str, json_output: bool = True, input: Optional[bytes] = None, expect: Optional[int] = 0,
            timeout: float = 120, env: Optional[dict] = None) -> Result:
        """Runs one command (with `env` as its environment if given); checks its exit code
        unless `expect` is None."""
        done = subprocess.run(self.argv(args, json_output), input=input, capture_output=True, cwd=self.cwd, timeout=timeout,
                              env=env)
        result = Result(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
        if expect is not None:
            assert result.code == expect, f"agent-mesh {' '.join(args)}: exit {result.code}, expected {expect}\nstdout: {result.stdout}\nstderr: {result.stderr}"
        return result

    def popen(self, *args: str, json_output: bool = True, **kwargs: Any) -> subprocess.Popen:
        """Starts a long-running command (tail, mcp)."""
        return subprocess.Popen(self.argv(args, json_output), cwd=self.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def url_for(backend: str, tmp_path: Path) -> str:
    if backend == "local":
        return f"local://{tmp_path}/mesh"
    if backend == "aws":
        return aws_url()
    raise ValueError(f"unknown backend {backend!r}")


@pytest.fixture(params=BACKENDS)
def cli(request, tmp_path: Path) -> Cli:
    """The command line on a fresh mesh of each backend (provisioned)."""
    url = url_for(request.param, tmp_path)
    runner = Cli(url, request.param, tmp_path)
    runner.run("provision")
    return runner


@pytest.fixture(params=BACKENDS)
def mesh_url(request, tmp_path: Path) -> str:
    """A fresh, provisioned mesh URL of each backend."""
    url = url_for(request.param, tmp_path)
    Cli(url, request.param, tmp_path).run("provision")
    return url


def wait_for_line(stream, needle: str, timeout: float = 60.0) -> str:
    """Reads `stream` (a process's stderr) until a line contains `needle`; returns that line."""
    import selectors
    import time

    deadline = time.monotonic() + timeout
    seen = []
    # A selector, not select.select: that fails for descriptors above 1023, which a long test
    # session reaches (every memory://<name> mesh of the session stays open, by design).
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                break
            line = stream.readline()
            if not line:
                break
            text = line.decode(errors="replace") if isinstance(line, bytes) else line
            seen.append(text)
            if needle in text:
                return text
    raise AssertionError(f"no line with {needle!r} within {timeout} s; saw: {''.join(seen)!r}")
