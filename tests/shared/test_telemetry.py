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


def test_tool_calls_and_errors_are_counted_in_the_prometheus_text() -> None:
    from k2_shared.telemetry import setup_telemetry

    telemetry = setup_telemetry("k2-test")
    before = telemetry.prometheus_text().decode()
    telemetry.record_tool_call("count_me", "ok", 0.002)
    telemetry.record_tool_call("count_me", "ok", 0.004)
    telemetry.record_tool_call("count_me", "tool_error", 0.001)
    text = telemetry.prometheus_text().decode()
    assert "count_me" not in before

    def sample(metric: str, outcome: str) -> float:
        for line in text.splitlines():
            if line.startswith(metric + "{") and 'tool="count_me"' in line and f'outcome="{outcome}"' in line:
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"{metric} {outcome} missing")

    assert sample("k2_tool_calls_total", "ok") == 2
    assert sample("k2_tool_calls_total", "tool_error") == 1
    assert sample("k2_tool_errors_total", "tool_error") == 1
    assert sample("k2_tool_duration_seconds_count", "ok") == 2
    assert sample("k2_tool_duration_seconds_sum", "ok") == pytest.approx(0.006)
