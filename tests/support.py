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


def minimal_pdf(*pages: str) -> bytes:
    """A PDF written by hand: one Helvetica text line per page."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_no, content_no = len(objects) + 1, len(objects) + 2
        kids.append(f"{page_no} 0 R")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_no} 0 R"
            " /Resources << /Font << /F1 FONT 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    font = str(len(objects)).encode()
    objects = [o.replace(b"FONT", font) for o in objects]
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # the binary comment real PDFs carry
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
