"""A loopback OTLP/HTTP receiver for the trace tests: a real HTTP server that decodes what exporters send.

`POST /v1/traces` bodies (an `ExportTraceServiceRequest` as protobuf or in OTLP's JSON encoding, gzip or not)
become `ReceivedSpan`s; metrics and logs posts are accepted and dropped. Bodies are kept as they came and decoded
when `spans` is read, so a benchmark's receiver spends no CPU beside the process it measures. JSON goes through
protobuf's own JSON parser, which refuses a field the schema does not have. `wait_for` blocks on a condition
variable until the spans received satisfy a predicate (no polling sleeps)."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    status_code: int = 0


def _value(v: AnyValue) -> Any:
    which = v.WhichOneof("value")
    if which == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, which) if which else None


def _hex_ids_to_base64(item: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        if key in item:
            item[key] = base64.b64encode(bytes.fromhex(item[key])).decode()


def parse(body: bytes, content_type: str = "application/x-protobuf") -> ExportTraceServiceRequest:
    """The request an exporter sent. OTLP JSON writes ids as hex where protobuf's JSON mapping has base64."""
    request = ExportTraceServiceRequest()
    if not content_type.startswith("application/json"):
        request.ParseFromString(body)
        return request
    data = json.loads(body)
    for resource in data.get("resourceSpans", ()):
        for scope in resource.get("scopeSpans", ()):
            for span in scope.get("spans", ()):
                _hex_ids_to_base64(span)
                for link in span.get("links", ()):
                    _hex_ids_to_base64(link)
    json_format.ParseDict(data, request)
    return request


def decode(body: bytes, content_type: str = "application/x-protobuf") -> list[ReceivedSpan]:
    request = parse(body, content_type)
    spans: list[ReceivedSpan] = []
    for rs in request.resource_spans:
        resource = {a.key: _value(a.value) for a in rs.resource.attributes}
        for scope in rs.scope_spans:
            for s in scope.spans:
                spans.append(
                    ReceivedSpan(
                        service=str(resource.get("service.name", "")),
                        name=s.name,
                        kind=KINDS.get(s.kind, str(s.kind)),
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex(),
                        attributes={a.key: _value(a.value) for a in s.attributes},
                        status_code=s.status.code,
                    )
                )
    return spans


class OtlpReceiver:
    def __init__(self) -> None:
        self._decoded: list[ReceivedSpan] = []
        self._bodies: list[tuple[bytes, str]] = []
        self.posts: dict[str, int] = {}
        self.content_types: set[str] = set()
        self.headers: list[dict[str, str]] = []  # of each traces post, names in lower case
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                content_type = self.headers.get("Content-Type", "")
                with receiver._changed:
                    receiver.posts[self.path] = receiver.posts.get(self.path, 0) + 1
                    if self.path == "/v1/traces":
                        receiver._bodies.append((body, content_type))
                        receiver.content_types.add(content_type)
                        receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                    receiver._changed.notify_all()
                as_json = content_type.startswith("application/json")
                reply = b"{}" if as_json else ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/json" if as_json else "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _spans(self) -> list[ReceivedSpan]:
        """Every span received so far (call with the lock held): the bodies not yet decoded are decoded now."""
        for body, content_type in self._bodies:
            self._decoded.extend(decode(body, content_type))
        self._bodies.clear()
        return list(self._decoded)

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._changed:
            return self._spans()

    def wait_for(self, done: Callable[[list[ReceivedSpan]], bool], timeout: float = 60.0) -> list[ReceivedSpan]:
        """The spans received once `done(spans)` holds; an AssertionError with what came if it does not in time."""
        with self._changed:
            if not self._changed.wait_for(lambda: done(self._spans()), timeout=timeout):
                seen = sorted({(s.service, s.name) for s in self._spans()})
                raise AssertionError(f"the spans expected did not arrive in {timeout:g} s; received: {seen}")
            return self._spans()
