"""Starts `agent-mesh mcp` and connects the official Python MCP client (`pip install mcp`) to
it, over stdio or Streamable HTTP; shared by the MCP tests and the benchmark."""

from __future__ import annotations

import os
import re
import subprocess
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import AsyncIterator, List, Optional, Tuple

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

URL_LINE = re.compile(r"at (http://\S+/mcp) ")
TOKEN_LINE = re.compile(r"bearer token \(generated.*\): ([0-9a-f]{64})")


@dataclass
class HttpServer:
    """A running `agent-mesh mcp --http` process."""

    process: subprocess.Popen
    url: str
    token: Optional[str]

    def stop(self) -> int:
        """SIGTERM, then the exit code (0 for a clean stop)."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        finally:
            self.process.kill()
            for stream in (self.process.stderr, self.process.stdout):
                if stream:
                    stream.close()


def start_http(program: List[str], mesh_url: str, *extra: str, env: Optional[dict] = None,
               listen: str = "127.0.0.1:0") -> HttpServer:
    """Starts `agent-mesh --url MESH mcp --http LISTEN EXTRA...` and reads the URL (and the
    generated token, if one is printed) from its stderr."""
    process = subprocess.Popen([*program, "--url", mesh_url, "mcp", "--http", listen, *extra],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=env if env is not None else dict(os.environ))
    url = token = None
    assert process.stderr is not None
    for line in process.stderr:
        if match := URL_LINE.search(line):
            url = match.group(1)
            if "--token" in extra or (env or os.environ).get("AGENT_MESH_MCP_TOKEN"):
                break
        if match := TOKEN_LINE.search(line):
            token = match.group(1)
            break
    if url is None:
        process.kill()
        raise AssertionError(f"agent-mesh mcp --http printed no URL (exit {process.wait()})")
    return HttpServer(process, url, token)


@asynccontextmanager
async def stdio_client(program: List[str], mesh_url: str) -> AsyncIterator[Client]:
    """The MCP client connected to `agent-mesh --url MESH mcp` over stdio."""
    params = StdioServerParameters(command=program[0], args=[*program[1:], "--url", mesh_url, "mcp"], env=dict(os.environ))
    async with Client(params) as client:
        yield client


@asynccontextmanager
async def http_client(url: str, token: str) -> AsyncIterator[Client]:
    """The MCP client connected to a Streamable HTTP endpoint with a bearer token."""
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


@asynccontextmanager
async def connect(transport: str, program: List[str], mesh_url: str) -> AsyncIterator[Tuple[Client, Optional[HttpServer]]]:
    """The MCP client on `transport` ("stdio" or "http"), and the HTTP server if there is one
    (stopped afterwards; a clean stop is checked)."""
    if transport == "stdio":
        async with stdio_client(program, mesh_url) as client:
            yield client, None
        return
    server = start_http(program, mesh_url)
    try:
        assert server.token
        async with http_client(server.url, server.token) as client:
            yield client, server
    finally:
        code = server.stop()
    assert code == 0, f"agent-mesh mcp --http exited {code} on SIGTERM"
