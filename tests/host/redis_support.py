"""A real redis-server for the tests, on a free loopback port, with no persistence.

Without the `redis-server` binary a test skips, unless K2_REQUIRE_REDIS=1 (CI) makes that a failure.
Readiness is a PING answered with +PONG, tried in a bounded loop of connection attempts; between attempts the
helper waits on the server process itself (so a server that dies at start is seen at once).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

START_ATTEMPTS = 200  # connection attempts, each followed by a wait of up to ATTEMPT_WAIT_S on the process
ATTEMPT_WAIT_S = 0.05
STOP_TIMEOUT_S = 10


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test for lack of Redis, or fail it where K2_REQUIRE_REDIS=1 (CI)."""
    if os.environ.get("K2_REQUIRE_REDIS") == "1":
        pytest.fail(f"K2_REQUIRE_REDIS=1 but {reason}")
    pytest.skip(f"{reason}; install it (apt-get install redis-server) to run the Redis L2 tests")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process; `url` to reach it, `stop()` to take it down (also mid-test)."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        for _ in range(3):  # another process may take the free port before redis binds it
            self.port = _free_port()
            log = (self.workdir / f"redis-{self.port}.log").open("wb")
            with log:
                self.proc = subprocess.Popen(
                    [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                     "no", "--dir", str(self.workdir), "--daemonize", "no"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )  # fmt: skip
            for _ in range(START_ATTEMPTS):
                if _pong(self.port):
                    return
                try:
                    self.proc.wait(timeout=ATTEMPT_WAIT_S)
                except subprocess.TimeoutExpired:
                    continue
                break  # the server exited: try another port
            self.stop()
        output = "\n".join(p.read_text(errors="replace") for p in self.workdir.glob("redis-*.log"))
        pytest.fail(f"redis-server did not answer PING on 127.0.0.1:\n{output[-2000:]}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    """A started redis-server, stopped on exit; skips (or fails under K2_REQUIRE_REDIS=1) without the binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        skip_or_fail("redis-server is not installed")
    server = RedisServer(binary, workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
