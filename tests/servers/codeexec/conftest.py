"""A host world with secrets outside the workspace, and the code execution server built around it.

world/
  outside/secret.txt   SECRET: no sandboxed code may ever read it
  workspaces/          the server-owned directory holding one workspace per sandbox

The process also carries SECRET in the environment variable K2_TEST_HOST_SECRET while the tests run.
Tests that need a working bubblewrap call `need_sandbox()`: without it they skip, or fail when
K2_REQUIRE_SANDBOX=1 (CI sets it after installing bubblewrap).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_codeexec.config import CodeExecSettings
from k2_codeexec.server import CodeExecMCP, build_server
from k2_shared.errors import ERROR_META_KEY
from mcp import Client
from mcp.types import CallToolResult, TextContent

SECRET = "K2-SENTINEL-codeexec-7f3a9b-host-secret"
MARKER = "k2marker7f3a"  # put in the command line of every process an attack tries to leave behind


def need_sandbox() -> None:
    if shutil.which("bwrap") is None:
        if os.environ.get("K2_REQUIRE_SANDBOX") == "1":
            pytest.fail("bubblewrap (bwrap) is not installed but K2_REQUIRE_SANDBOX=1")
        pytest.skip("bubblewrap (bwrap) is not installed")


@dataclass
class World:
    root: Path
    outside: Path
    workspaces: Path

    def settings(self, **overrides: Any) -> CodeExecSettings:
        values: dict[str, Any] = {"workspace": self.workspaces, "timeout_s": 10.0, "warm_pool": 1}
        values.update(overrides)
        return CodeExecSettings(**values)

    def snapshot(self) -> dict[str, str]:
        """Every path under the world outside the workspaces, with a digest of its content."""
        out: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if Path(dirpath, d) != self.workspaces]
            for name in dirnames + filenames:
                p = Path(dirpath, name)
                out[str(p.relative_to(self.root))] = (
                    hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else "dir"
                )
        return out


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    workspaces = tmp_path / "workspaces"
    monkeypatch.setenv("K2_TEST_HOST_SECRET", SECRET)
    return World(tmp_path, outside, workspaces)


def marked_processes() -> list[int]:
    """Host processes whose command line carries MARKER."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path("/proc", pid, "cmdline").read_bytes()
        except OSError:
            continue
        if MARKER.encode() in cmdline:
            found.append(int(pid))
    return found


def sandbox_children() -> list[int]:
    """bwrap processes this test process started that are still alive."""
    me = str(os.getpid())
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path("/proc", pid, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[1] == me and "bwrap" in stat.split(")", 1)[0]:
            found.append(int(pid))
    return found


@asynccontextmanager
async def serve(settings: CodeExecSettings) -> AsyncIterator[Client]:
    async with Client(build_server(settings)) as client:
        yield client


@asynccontextmanager
async def serve_with_server(settings: CodeExecSettings) -> AsyncIterator[tuple[Client, CodeExecMCP]]:
    server = build_server(settings)
    async with Client(server) as client:
        yield client, server


async def until(done: Callable[[], bool], client: Client, *, limit: float = 60) -> None:
    """Wait until `done()` holds, one round trip to the server at a time (no sleeps); `limit` only bounds a
    hang, it is no assertion on time."""
    with anyio.fail_after(limit):
        while not done():
            await client.list_tools()


def kind(result: CallToolResult) -> str | None:
    return (result.meta or {}).get(ERROR_META_KEY)


def text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content
