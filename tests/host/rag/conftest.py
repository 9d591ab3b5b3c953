"""Fixtures of the RAG tests: a ToolCaller over real K2 servers on stdio, a loopback web site, embedders.

`StdioCaller` stands in for the host's ClientManager: it starts each server as a real subprocess through the
SDK client and turns `CallToolResult`s into the host's `ToolResult`s. `HashEmbedder` is a small deterministic
bag-of-words embedder (feature hashing) for the plumbing tests; tests of retrieval quality use the real model.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from k2_host.mcp.types import ToolResult
from k2_host.rag.embeddings import Embedder
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, EmbeddedResource, TextContent

from tests.support import script


def to_tool_result(name: str, result: CallToolResult) -> ToolResult:
    texts, resources = [], []
    for block in result.content:
        if isinstance(block, TextContent):
            texts.append(block.text)
        elif isinstance(block, EmbeddedResource):
            res = block.resource
            entry = {"uri": str(res.uri), "mime_type": res.mime_type or ""}
            blob = getattr(res, "blob", None)
            entry["blob" if blob is not None else "text"] = blob if blob is not None else getattr(res, "text", "")
            resources.append(entry)
    code = (result.meta or {}).get("k2/error") if result.is_error else None
    return ToolResult(
        name=name,
        is_error=bool(result.is_error),
        text="\n".join(texts),
        structured=result.structured_content,
        error_code=str(code) if code else ("tool_error" if result.is_error else None),
        resources=resources,
    )


class StdioCaller:
    """ToolCaller over one SDK client per server (`filesystem.read_file` goes to the `filesystem` client)."""

    def __init__(self, clients: dict[str, Client]) -> None:
        self.clients = clients
        self.calls: list[str] = []

    async def call(
        self, name: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> ToolResult:
        server, _, tool = name.partition(".")
        self.calls.append(name)
        with anyio.fail_after(timeout or 60):
            result = await self.clients[server].call_tool(tool, arguments or {})
        return to_tool_result(name, result)


@asynccontextmanager
async def open_caller(servers: dict[str, list[str]]) -> AsyncIterator[StdioCaller]:
    """Start `k2-<name> ARGS...` for each entry over stdio."""
    async with AsyncExitStack() as stack:
        clients: dict[str, Client] = {}
        for name, args in servers.items():
            params = StdioServerParameters(command=script(f"k2-{name}"), args=[*args, "--log-level", "WARNING"])
            clients[name] = await stack.enter_async_context(Client(params))
        yield StdioCaller(clients)


class HashEmbedder:
    """Deterministic bag-of-words vectors (64-d, signed feature hashing); same API as Embedder."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.model_name = f"test/hash-{dim}"
        self.device = "cpu"
        self.max_seq_length = 256
        self.embedded = 0

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for tok in re.findall(r"\w+", text.lower()):
            h = zlib.crc32(tok.encode())
            v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else np.full(self.dim, 1 / np.sqrt(self.dim), dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    return Embedder()  # the bundled all-MiniLM-L6-v2, checksum verified, no cache


ARTICLE = """<!DOCTYPE html><html><head><title>Kestrel field notes</title><script>var x = "tracking";</script></head>
<body><nav><a href="/a">Home</a> <a href="/b">About</a></nav><main><article><h1>Kestrel field notes</h1>
<p>The kestrel hovers above the meadow, scanning the grass for voles, its wingbeat twelve strokes a second.</p>
<h2>Nesting</h2><p>Kestrels nest in old crow nests, cliff ledges and church towers, laying four to six eggs.</p>
</article></main><footer>Cookie settings Privacy policy</footer></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/kestrel.html":
            body, ctype, status = ARTICLE.encode(), "text/html; charset=utf-8", 200
        else:
            body, ctype, status = b"not found", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1; yields its origin."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
