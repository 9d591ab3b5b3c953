"""The OTLP JSON span exporter: the same request as OpenTelemetry's protobuf exporter, sent the way the spec asks."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from k2_shared.otlp import (
    JsonSpanExporter,
    LeanTracerProvider,
    OtlpConfigError,
    encode_spans,
    protocol,
    span_exporter,
)
from opentelemetry import propagate
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as protobuf_request
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, Status, StatusCode, Tracer

from tests.host.otlp_support import OtlpReceiver, parse
from tests.support import script

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Keep(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def varied_spans(provider_class: type[TracerProvider] = TracerProvider) -> list[ReadableSpan]:
    """Spans with every attribute type, events (a recorded exception), links, statuses, a remote parent with a
    trace state, two instrumentation scopes and a resource with a schema URL."""
    kept = Keep()
    resource = Resource.create({"service.name": "k2-test", "k2.replica": 3}, schema_url="https://example.test/s/1")
    provider = provider_class(resource=resource)
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


@pytest.mark.parametrize("provider_class", [TracerProvider, LeanTracerProvider])
def test_the_json_request_is_the_protobuf_exporters_request_field_for_field(
    provider_class: type[TracerProvider],
) -> None:
    spans = varied_spans(provider_class)
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


def normalized(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """The request for `spans` with what differs from run to run made the same: ids become the names of the
    spans they point to, times zero, stack traces (the frames of the recording code) empty."""
    request = protobuf_request(spans)
    names = {s.span_id: s.name.encode() for r in request.resource_spans for sc in r.scope_spans for s in sc.spans}
    for r in request.resource_spans:
        for scope in r.scope_spans:
            for span in scope.spans:
                span.parent_span_id = names.get(span.parent_span_id, b"remote " + span.parent_span_id)
                span.span_id, span.trace_id = names[span.span_id], b""
                span.start_time_unix_nano = span.end_time_unix_nano = 0
                for event in span.events:
                    event.time_unix_nano = 0
                    for attribute in event.attributes:
                        if attribute.key == "exception.stacktrace":
                            attribute.value.string_value = ""
                for link in span.links:
                    link.span_id, link.trace_id = names[link.span_id], b""
    return request


def test_a_lean_span_records_what_the_sdk_span_records() -> None:
    assert normalized(varied_spans(LeanTracerProvider)) == normalized(varied_spans(TracerProvider))


def spans_of(provider: TracerProvider, run: Callable[[Tracer], None]) -> list[ReadableSpan]:
    kept = Keep()
    provider.add_span_processor(SimpleSpanProcessor(kept))
    run(provider.get_tracer("k2_test"))
    provider.shutdown()
    return kept.spans


def test_lean_spans_keep_the_sdks_attribute_checks_and_limits(caplog: pytest.LogCaptureFixture) -> None:
    def run(tracer: Tracer) -> None:
        with tracer.start_as_current_span("limited", attributes={"a": "abcdef", "names": ["abcdef", "b"]}) as span:
            span.set_attributes({"b": 1, "c": 2.5, "mixed": [1, "x"], "empty": [], "": "no key"})
            span.set_attribute("d", True)
            for i in range(3):
                span.add_event(f"event {i}", {"i": i})
        span.set_attribute("after", "the end")  # an ended span changes no more

    limits = SpanLimits(max_span_attributes=3, max_attribute_length=4, max_events=2)
    (lean,) = spans_of(LeanTracerProvider(span_limits=limits), run)
    (sdk,) = spans_of(TracerProvider(span_limits=limits), run)
    assert list((lean.attributes or {}).items()) == list((sdk.attributes or {}).items())
    assert dict(sdk.attributes or {}) == {"mixed": (1, "x"), "empty": (), "d": True}  # the newest three; the
    # other four and the one with an empty key are dropped
    assert (lean.dropped_attributes, lean.dropped_events) == (sdk.dropped_attributes, sdk.dropped_events) == (5, 1)
    assert [e.name for e in lean.events] == [e.name for e in sdk.events]
    (unlimited,) = spans_of(LeanTracerProvider(), run)
    assert dict(unlimited.attributes or {}) == {
        "a": "abcdef",
        "names": ("abcdef", "b"),
        "b": 1,
        "c": 2.5,
        "mixed": (1, "x"),
        "empty": (),
        "d": True,
    }  # the empty key is refused, as the SDK refuses it
    (short,) = spans_of(LeanTracerProvider(span_limits=SpanLimits(max_attribute_length=4)), run)
    assert dict(short.attributes or {})["names"] == ("abcd", "b")


@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_lean_spans_follow_the_parent_based_sampler(ratio: float) -> None:
    sampled = propagate.extract({"traceparent": CALLER})
    unsampled = propagate.extract({"traceparent": CALLER[:-2] + "00"})

    def run(tracer: Tracer) -> None:
        for name, context in (("root", None), ("child of sampled", sampled), ("child of unsampled", unsampled)):
            with (
                tracer.start_as_current_span(name, context=context) as span,
                tracer.start_as_current_span(f"{name}, inner"),
            ):
                assert span.get_span_context().trace_flags.sampled == span.is_recording()

    for provider_class in (LeanTracerProvider, TracerProvider):
        spans = spans_of(provider_class(sampler=ParentBased(TraceIdRatioBased(ratio))), run)
        expected = ["child of sampled, inner", "child of sampled"]
        assert [s.name for s in spans] == (["root, inner", "root", *expected] if ratio else expected), provider_class
        assert all(s.get_span_context().trace_id == int(CALLER[3:35], 16) for s in spans[-2:])  # type: ignore[union-attr]
        assert spans[-1].parent.span_id == int(CALLER[36:52], 16)  # type: ignore[union-attr]


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
