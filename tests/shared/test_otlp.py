"""The OTLP JSON span exporter: the same request as OpenTelemetry's protobuf exporter, sent the way the spec asks."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from k2_shared.otlp import JsonSpanExporter, OtlpConfigError, encode_spans, protocol, span_exporter
from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as protobuf_request
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.host.otlp_support import OtlpReceiver, parse
from tests.support import script

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def varied_spans() -> list[ReadableSpan]:
    """Spans with every attribute type, events (a recorded exception), links, statuses, a remote parent with a
    trace state, two instrumentation scopes and a resource with a schema URL."""
    kept = Keep()
    resource = Resource.create({"service.name": "k2-test", "k2.replica": 3}, schema_url="https://example.test/s/1")
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(kept))
    tracer = provider.get_tracer("k2_host", "1.2.3")
    other = provider.get_tracer("mcp", schema_url="https://example.test/s/2")
    remote = propagate.extract({"traceparent": CALLER, "tracestate": "k2=a1,vendor=b2"})
    attributes: dict[str, Any] = {
        "text": "naïve ✓",
        "flag": True,
        "count": 2**62,
        "negative": -7,
        "ratio": 0.25,
        "names": ("a", "b"),
        "numbers": (1, 2, 3),
        "flags": (True, False),
        "floats": (0.5, 1.5),
    }
    with tracer.start_as_current_span("POST /v1/ask", context=remote, kind=SpanKind.SERVER, attributes=attributes):
        with tracer.start_as_current_span("chat scripted", kind=SpanKind.CLIENT) as chat:
            chat.add_event("first token", {"at": 12})
            chat.set_status(Status(StatusCode.OK))
        link = Link(chat.get_span_context(), {"why": "retry of"})
        try:
            with other.start_as_current_span("MCP send tools/call read_file", links=[link]):
                raise RuntimeError("the server went away")
        except RuntimeError:
            pass
        with tracer.start_as_current_span("execute_tool filesystem.read_file", kind=SpanKind.PRODUCER) as tool:
            tool.set_status(Status(StatusCode.ERROR, "not_found"))
    with tracer.start_as_current_span("background", kind=SpanKind.CONSUMER):
        pass
    provider.shutdown()
    return kept.spans


def test_the_json_request_is_the_protobuf_exporters_request_field_for_field() -> None:
    spans = varied_spans()
    assert len(spans) == 5
    ours = parse(encode_spans(spans), "application/json")  # protobuf's JSON parser: an unknown field fails
    theirs = protobuf_request(spans)
    assert ours == theirs
    # What the comparison covers, so it cannot pass on two empty requests.
    resource = ours.resource_spans[0]
    assert resource.schema_url == "https://example.test/s/1"
    assert {scope.scope.name for scope in resource.scope_spans} == {"k2_host", "mcp"}
    by_name = {s.name: s for scope in resource.scope_spans for s in scope.spans}
    server = by_name["POST /v1/ask"]
    assert server.parent_span_id.hex() == "b7ad6b7169203331" and server.trace_state == "k2=a1,vendor=b2"
    assert server.flags == 0x300  # the parent is remote
    assert {a.key for a in server.attributes} >= {"text", "count", "floats"}
    send = by_name["MCP send tools/call read_file"]
    assert send.events[0].name == "exception" and send.links[0].attributes[0].key == "why"
    assert by_name["execute_tool filesystem.read_file"].status.message == "not_found"


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as otlp:
        yield otlp


def test_spans_reach_a_collector_as_json_with_the_configured_headers_and_gzip(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=blue")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")
    exporter = JsonSpanExporter(f"{receiver.url}/v1/traces")
    assert exporter.export(varied_spans()) is SpanExportResult.SUCCESS
    exporter.shutdown()
    spans = receiver.wait_for(lambda spans: len(spans) == 5, timeout=5)
    assert {s.service for s in spans} == {"k2-test"}
    assert receiver.content_types == {"application/json"}
    assert receiver.headers[-1]["x-tenant"] == "blue" and receiver.headers[-1]["content-encoding"] == "gzip"
    assert exporter.export(varied_spans()) is SpanExportResult.FAILURE  # after shutdown nothing is sent


class Flaky:
    """A collector that answers the first `failures` posts with `status`, then 200."""

    def __init__(self, status: int, failures: int) -> None:
        self.bodies: list[bytes] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                code = status if len(outer.answers) < failures else 200
                outer.answers.append(code)
                if code == 200:
                    outer.bodies.append(body)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Flaky:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_busy_collector_is_retried_with_backoff_and_gets_the_batch_once() -> None:
    with Flaky(503, failures=2) as collector:
        exporter = JsonSpanExporter(collector.url, timeout_s=5, backoff_s=0.01)
        assert exporter.export(varied_spans()) is SpanExportResult.SUCCESS
    assert collector.answers == [503, 503, 200]
    assert len(collector.bodies) == 1 and len(parse(collector.bodies[0], "application/json").resource_spans) == 1


def test_a_refused_batch_is_dropped_with_a_warning_that_shows_no_header_values(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer%20s3cret-token")
    with Flaky(400, failures=10) as collector, caplog.at_level(logging.WARNING, logger="k2_shared.otlp"):
        exporter = JsonSpanExporter(collector.url, timeout_s=5, backoff_s=0.01)
        assert exporter.export(varied_spans()) is SpanExportResult.FAILURE
    assert collector.answers == [400]  # a 400 is not retried
    assert "5 spans not exported" in caplog.text and "HTTP 400" in caplog.text
    assert "s3cret" not in caplog.text


def test_no_collector_listening_fails_the_export_inside_its_timeout(caplog: pytest.LogCaptureFixture) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as probe:
        port = probe.server_address[1]  # bound, then closed: nothing listens there afterwards
    exporter = JsonSpanExporter(f"http://127.0.0.1:{port}/v1/traces", timeout_s=0.5, backoff_s=0.01)
    with caplog.at_level(logging.WARNING, logger="k2_shared.otlp"):
        assert exporter.export(varied_spans()) is SpanExportResult.FAILURE
    assert "ConnectError" in caplog.text


def test_the_protocol_setting_picks_the_exporter_and_refuses_what_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)
    assert protocol() == "http/json" and isinstance(span_exporter("http://127.0.0.1:9/v1/traces"), JsonSpanExporter)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    assert isinstance(span_exporter("http://127.0.0.1:9/v1/traces"), OTLPSpanExporter)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc")
    with pytest.raises(OtlpConfigError, match=r"OTEL_EXPORTER_OTLP_PROTOCOL='grpc' is not supported: use one of"):
        protocol()


def test_a_server_asked_for_an_unsupported_protocol_exits_with_the_reason(tmp_path: Any) -> None:
    done = subprocess.run(
        [script("k2-filesystem"), "--root", str(tmp_path), "--otlp-endpoint", "http://127.0.0.1:9"],
        env={"PATH": "/usr/bin:/bin", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "HOME": str(tmp_path)},
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "OTEL_EXPORTER_OTLP_PROTOCOL='grpc' is not supported" in done.stderr
    assert "Traceback" not in done.stderr
