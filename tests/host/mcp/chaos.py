"""Helpers for driving `ClientManager` against the chaos server (tests/host/chaos_server.py) as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

from k2_host.config import HostConfig, ServerConfig
from k2_host.mcp.manager import ClientManager
from k2_host.mcp.types import ToolResult

CHAOS = str(Path(__file__).resolve().parents[1] / "chaos_server.py")
MODES = ["auto", "legacy"]
HTTP_SERVER_PIDS: set[int] = set()  # started by the tests themselves, not by a manager


def chaos(name: str = "chaos", *, mode: str = "auto", **fields: Any) -> ServerConfig:
    """The chaos server over stdio (short deadlines, so a failing test fails fast)."""
    fields.setdefault("connect_timeout_s", 30.0)
    fields.setdefault("timeout_s", 30.0)
    return ServerConfig(name=name, command=sys.executable, args=[CHAOS], protocol=mode, **fields)


def children() -> set[int]:
    """Child processes of this process (zombies included)."""
    me = os.getpid()
    found: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == me:
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@asynccontextmanager
async def managed(config: HostConfig, state_dir: Path, **kwargs: Any) -> AsyncIterator[ClientManager]:
    """A started manager; on exit, asserts that every child process it started is gone."""
    before = children()
    async with ClientManager(config, state_dir=state_dir, **kwargs) as manager:
        yield manager
    leftover = {pid for pid in children() - before - HTTP_SERVER_PIDS if alive(pid)}
    assert not leftover, f"server processes left running after the manager closed: {sorted(leftover)}"


def ok(result: ToolResult) -> dict[str, Any]:
    """The structured content of a successful result (fails the test, with the result, otherwise)."""
    assert not result.is_error, result
    assert result.structured is not None, result
    return result.structured


class HttpChaos:
    """The chaos server over HTTP as a subprocess we can kill and start again on the same port."""

    def __init__(self, transport: str = "streamable-http") -> None:
        self.transport = transport
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.kill()  # reap the one a test killed by pid
        proc = subprocess.Popen(
            [sys.executable, CHAOS, "--transport", self.transport, "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        HTTP_SERVER_PIDS.add(proc.pid)
        found = threading.Event()
        url: list[str] = []

        def pump() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(entry, dict) and entry.get("msg") == "listening":
                    url.append(entry["url"])
                    found.set()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        self.process = proc
        if not found.wait(60) or not url:
            self.stop()
            raise RuntimeError("the chaos server did not start")
        self.url = url[0]
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            if self.process.stderr is not None:
                self.process.stderr.close()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        self.kill()


@contextmanager
def http_chaos(transport: str = "streamable-http") -> Iterator[HttpChaos]:
    server = HttpChaos(transport)
    server.start()
    try:
        yield server
    finally:
        server.stop()
