"""Telemetry leaves the process: OTLP/HTTP export to a collector on loopback when an endpoint is configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from tests.support import script

pytestmark = pytest.mark.anyio


class Collector:
    """A minimal OTLP/HTTP receiver: records (path, body) of every POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    outer.posts.append((self.path, body))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def bodies(self, path: str) -> bytes:
        with self.lock:
            return b"".join(body for p, body in self.posts if p == path)


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    thread = threading.Thread(target=c.server.serve_forever, daemon=True)
    thread.start()
    yield c
    c.server.shutdown()
    c.server.server_close()
    thread.join(5)


async def test_spans_and_tool_metrics_reach_the_otlp_collector(tmp_path: Path, collector: Collector) -> None:
    (tmp_path / "a.txt").write_text("traced\n")
    params = StdioServerParameters(
        command=script("k2-filesystem"),
        args=["--root", str(tmp_path), "--otlp-endpoint", collector.url],
    )
    async with Client(params) as client:
        result = await client.call_tool("read_file", {"path": "a.txt"})
        assert not result.is_error
    # The server flushes its exporters when stdin closes, before it exits.
    traces = collector.bodies("/v1/traces")
    metrics = collector.bodies("/v1/metrics")
    assert b"tools/call read_file" in traces
    assert b"k2_tool_calls" in metrics
    assert b"k2_tool_duration" in metrics
