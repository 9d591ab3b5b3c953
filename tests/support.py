"""Helpers for tests that run servers as real subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


def script(name: str) -> str:
    """Path of a console script installed in the test environment (e.g. 'k2-filesystem')."""
    path = BIN / name
    assert path.exists(), f"console script {name} is not installed in {BIN}"
    return str(path)


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    url: str
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.url.rsplit("/", 1)[0]


@contextmanager
def http_server(
    command: Sequence[str], transport: str = "streamable-http", env: dict[str, str] | None = None, timeout: float = 30
) -> Iterator[RunningServer]:
    """Start `command --transport T --port 0`, wait for its 'listening' log line, yield its URL, stop it."""
    full_env = dict(os.environ, **(env or {}))
    proc = subprocess.Popen(
        [*command, "--transport", transport, "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=full_env,
    )
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(line)
            if not found.is_set():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "listening":
                    url.append(entry["url"])
                    found.set()
        found.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        if not found.wait(timeout) or not url:
            raise RuntimeError("server did not start:\n" + "\n".join(lines[-30:]))
        yield RunningServer(proc, url[0], lines)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(5)
        assert proc.stderr is not None
        proc.stderr.close()
