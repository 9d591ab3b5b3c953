"""OTLP/HTTP span export in the protocol's JSON encoding: the same data as the protobuf exporter, cheaper to make.

OpenTelemetry's Python exporter builds its protobuf request one message per span, attribute and value (about
50 µs a span on the development VM) in the batch processor's thread, which holds the GIL while it does and so
delays the requests the process is serving. OTLP also defines a JSON encoding of the same messages (`http/json`:
lowerCamelCase field names, trace and span ids as hex, enums as integers, 64-bit integers as strings); built as
plain lists and dicts and written by orjson it costs a third of that or less (the body is about twice
the size). The OpenTelemetry Collector, Jaeger
and Tempo take either encoding on the same `/v1/traces` path.

`span_exporter(url)` is what the host and the servers install: this exporter, unless
OTEL_EXPORTER_OTLP_TRACES_PROTOCOL (or OTEL_EXPORTER_OTLP_PROTOCOL) asks for `http/protobuf`, which gets
OpenTelemetry's own. The standard variables for headers, timeout, compression and TLS files are honoured by both.
Transient failures (connection errors, 429, 502, 503, 504) are retried with exponential backoff inside the timeout,
as the specification asks; header values (often credentials) are never logged.
"""

from __future__ import annotations

import base64
import gzip
import logging
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx2
import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext
from opentelemetry.util.re import parse_env_headers

logger = logging.getLogger(__name__)

PROTOCOLS = ("http/json", "http/protobuf")
RETRYABLE = frozenset({429, 502, 503, 504})
_HAS_IS_REMOTE = 0x100  # SpanFlags: the parent's is_remote is known ...
_IS_REMOTE = 0x200  # ... and set
_DEFAULT_TIMEOUT_S = 10.0


def _setting(name: str, default: str = "") -> str:
    """A trace exporter setting: OTEL_EXPORTER_OTLP_TRACES_<name>, else OTEL_EXPORTER_OTLP_<name>."""
    return (
        os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}") or os.environ.get(f"OTEL_EXPORTER_OTLP_{name}") or default
    )


class OtlpConfigError(ValueError):
    """An OTLP export setting that cannot be used; the message names the variable and what it may be."""


def protocol() -> str:
    """The OTLP protocol asked for: `http/json` (our default) or `http/protobuf`; anything else is refused."""
    value = _setting("PROTOCOL", "http/json").strip().lower()
    if value not in PROTOCOLS:
        raise OtlpConfigError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={value!r} is not supported: use one of {', '.join(PROTOCOLS)} "
            "(gRPC export is not installed)"
        )
    return value


def span_exporter(url: str) -> SpanExporter:
    """The exporter for `url` (the full `/v1/traces` URL) in the configured protocol."""
    if protocol() == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=url)
    return JsonSpanExporter(url)


# --- encoding ------------------------------------------------------------------------------------------------


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": _attributes(value)}}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    if value is None:
        return {}
    raise TypeError(f"an attribute value of type {type(value).__name__} cannot be exported")


def _attributes(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not attributes:
        return []
    out = []
    for key, value in attributes.items():
        try:
            out.append({"key": str(key), "value": _value(value)})
        except TypeError as error:  # the SDK validates attributes, so only a custom processor gets here
            logger.warning("span attribute %r not exported: %s", key, error)
    return out


def _flags(parent: SpanContext | None) -> int:
    return _HAS_IS_REMOTE | _IS_REMOTE if parent is not None and parent.is_remote else _HAS_IS_REMOTE


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # an SDK span always has one
    out: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": span.kind.value + 1,  # the SDK counts from INTERNAL = 0, OTLP from UNSPECIFIED = 0
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "flags": _flags(span.parent),
    }
    if context.trace_state:
        out["traceState"] = context.trace_state.to_header()
    if span.parent is not None:
        out["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.attributes:
        out["attributes"] = _attributes(span.attributes)
    if span.dropped_attributes:
        out["droppedAttributesCount"] = span.dropped_attributes
    if span.events:
        out["events"] = [
            {
                "timeUnixNano": str(event.timestamp),
                "name": event.name,
                "attributes": _attributes(event.attributes),
                "droppedAttributesCount": event.dropped_attributes,
            }
            for event in span.events
        ]
    if span.dropped_events:
        out["droppedEventsCount"] = span.dropped_events
    if span.links:
        out["links"] = [
            {
                "traceId": f"{link.context.trace_id:032x}",
                "spanId": f"{link.context.span_id:016x}",
                "attributes": _attributes(link.attributes),
                "droppedAttributesCount": link.dropped_attributes,
                "flags": _flags(link.context),
            }
            for link in span.links
        ]
    if span.dropped_links:
        out["droppedLinksCount"] = span.dropped_links
    status: dict[str, Any] = {"code": span.status.status_code.value}
    if span.status.description:
        status["message"] = span.status.description
    out["status"] = status
    return out


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """An `ExportTraceServiceRequest` in OTLP JSON: spans grouped by resource, then by instrumentation scope."""
    grouped: dict[Any, dict[Any, list[dict[str, Any]]]] = {}
    for span in spans:
        grouped.setdefault(span.resource, {}).setdefault(span.instrumentation_scope, []).append(_span(span))
    resource_spans = []
    for resource, scopes in grouped.items():
        scope_spans = []
        for scope, encoded in scopes.items():
            entry: dict[str, Any] = {"scope": {}, "spans": encoded}
            if scope is not None:
                entry["scope"] = {"name": scope.name, "attributes": _attributes(scope.attributes)}
                if scope.version:
                    entry["scope"]["version"] = scope.version
                if scope.schema_url:
                    entry["schemaUrl"] = scope.schema_url
            scope_spans.append(entry)
        item: dict[str, Any] = {"resource": {"attributes": _attributes(resource.attributes)}, "scopeSpans": scope_spans}
        if resource.schema_url:
            item["schemaUrl"] = resource.schema_url
        resource_spans.append(item)
    return orjson.dumps({"resourceSpans": resource_spans})


# --- sending -------------------------------------------------------------------------------------------------


class JsonSpanExporter(SpanExporter):
    """Posts span batches to an OTLP/HTTP endpoint as JSON, over one kept-alive connection."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
        backoff_s: float = 1.0,
    ) -> None:
        self.url = url
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s if timeout_s is not None else self._timeout_from_env()
        self.gzip = _setting("COMPRESSION", "none").strip().lower() == "gzip"
        sent = {"Content-Type": "application/json"}
        sent.update(parse_env_headers(_setting("HEADERS"), liberal=True))
        sent.update(headers or {})
        if self.gzip:
            sent["Content-Encoding"] = "gzip"
        certificate = _setting("CERTIFICATE") or None
        client_cert, client_key = _setting("CLIENT_CERTIFICATE") or None, _setting("CLIENT_KEY") or None
        self._client = httpx2.Client(
            headers=sent,
            timeout=self.timeout_s,
            verify=certificate if certificate else True,
            cert=(client_cert, client_key) if client_cert and client_key else client_cert,
            trust_env=False,  # the proxy variables are for the agent's own traffic, not its telemetry
        )
        self._stopped = threading.Event()

    @staticmethod
    def _timeout_from_env() -> float:
        raw = _setting("TIMEOUT")
        try:
            return float(raw) if raw else _DEFAULT_TIMEOUT_S
        except ValueError:
            logger.warning(
                "OTEL_EXPORTER_OTLP_TIMEOUT=%r is not a number of seconds; using %g", raw, _DEFAULT_TIMEOUT_S
            )
            return _DEFAULT_TIMEOUT_S

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._stopped.is_set():
            return SpanExportResult.FAILURE
        body = encode_spans(spans)
        if self.gzip:
            body = gzip.compress(body, compresslevel=5)
        deadline = time.monotonic() + self.timeout_s
        attempt = 0
        while True:
            problem = self._post(body, max(deadline - time.monotonic(), 0.1))
            if problem is None:
                return SpanExportResult.SUCCESS
            reason, retryable = problem
            backoff = self.backoff_s * 2**attempt * random.uniform(0.8, 1.2)  # noqa: S311 (jitter, not a secret)
            attempt += 1
            if not retryable or time.monotonic() + backoff > deadline or self._stopped.wait(backoff):
                logger.warning("%d spans not exported to %s: %s", len(spans), self.url, reason)
                return SpanExportResult.FAILURE

    def _post(self, body: bytes, timeout_s: float) -> tuple[str, bool] | None:
        """None when the collector took the batch; else why not, and whether trying again may help."""
        try:
            response = self._client.post(self.url, content=body, timeout=timeout_s)
        except httpx2.TransportError as error:
            return f"{type(error).__name__}: {error}", True
        if response.status_code < 300:
            return None
        return f"HTTP {response.status_code}", response.status_code in RETRYABLE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # nothing is buffered here; the batch processor holds the queue

    def shutdown(self) -> None:
        self._stopped.set()
        self._client.close()
