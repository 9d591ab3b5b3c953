"""The stdio floor: the least a JSON-RPC server can do per call over a pair of pipes, in Python, with no SDK.

It answers `initialize` with a bare result, ignores notifications and echoes the params of any other request
as its result. Input is read in chunks and the answers to every complete line of a chunk go out in one write,
so with several requests in flight it batches as far as the pipe lets it. Used by bench_filesystem_stdio.py.
"""

from __future__ import annotations

import json
import os

INIT_RESULT = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "floor"}}


def answer(line: bytes) -> bytes | None:
    msg = json.loads(line)
    if "id" not in msg or "method" not in msg:
        return None
    result = INIT_RESULT if msg["method"] == "initialize" else msg.get("params", {})
    return json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}).encode() + b"\n"


def main() -> None:
    pending = b""
    while chunk := os.read(0, 1 << 16):
        *lines, pending = (pending + chunk).split(b"\n")
        out = b"".join(filter(None, (answer(line) for line in lines if line.strip())))
        view = memoryview(out)
        while view:
            view = view[os.write(1, view) :]


if __name__ == "__main__":
    main()
