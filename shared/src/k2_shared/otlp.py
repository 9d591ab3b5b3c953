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

`LeanTracerProvider` is the SDK's tracer provider with a cheaper span (`LeanSpan`): the host and the servers
install it, so every span of theirs (the MCP SDK's included) is recorded at about half the SDK span's cost,
with the same content, sampling and limits.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import logging
import os
import random
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from time import time_ns
from types import TracebackType
from typing import Any

import httpx2
import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, Tracer, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.re import parse_env_headers
from opentelemetry.util.types import Attributes, AttributeValue

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
    kind = type(value)  # the exact type first: the common scalars without a chain of isinstance checks
    if kind is str:
        return {"stringValue": value}
    if kind is int:
        return {"intValue": str(value)}
    if kind is bool:
        return {"boolValue": value}
    if kind is float:
        return {"doubleValue": value}
    if kind is tuple:  # what the SDK makes of a list
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    return _other_value(value)


def _other_value(value: Any) -> dict[str, Any]:
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
    if type(attributes) is BoundedAttributes:  # the SDK's: its own dict, not the Mapping protocol's walk
        attributes = attributes._dict  # pyright: ignore[reportPrivateUsage]
    try:
        return [{"key": key, "value": _value(value)} for key, value in attributes.items()]
    except TypeError:  # the SDK validates attributes, so only a custom processor gets here
        pass
    out = []
    for key, value in attributes.items():
        try:
            out.append({"key": str(key), "value": _value(value)})
        except TypeError as error:
            logger.warning("span attribute %r not exported: %s", key, error)
    return out


def _flags(parent: SpanContext | None) -> int:
    return _HAS_IS_REMOTE | _IS_REMOTE if parent is not None and parent.is_remote else _HAS_IS_REMOTE


_KINDS = {kind: kind.value + 1 for kind in SpanKind}  # the SDK counts from INTERNAL = 0, OTLP from UNSPECIFIED
_STATUS_CODES = {code: code.value for code in StatusCode}


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # an SDK span always has one
    parent = span.parent
    out: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        "kind": _KINDS[span.kind],
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "flags": _HAS_IS_REMOTE | _IS_REMOTE if parent is not None and parent.is_remote else _HAS_IS_REMOTE,
    }
    if context.trace_state:
        out["traceState"] = context.trace_state.to_header()
    if parent is not None:
        out["parentSpanId"] = f"{parent.span_id:016x}"
    # a ReadableSpan's `attributes` wraps its own in a MappingProxyType; its `_attributes` are the same, unwrapped
    attributes = span._attributes if isinstance(span, ReadableSpan) else span.attributes  # pyright: ignore[reportPrivateUsage]
    if attributes:
        out["attributes"] = _attributes(attributes)
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
    status = span.status
    encoded: dict[str, Any] = {"code": _STATUS_CODES[status.status_code]}
    if status.description:
        encoded["message"] = status.description
    out["status"] = encoded
    return out


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """An `ExportTraceServiceRequest` in OTLP JSON: spans grouped by resource, then by instrumentation scope."""
    # Grouped by identity: a provider's spans share its one Resource and a tracer's its one scope, and the
    # SDK hashes a Resource by writing its attributes out as JSON, for every span. (Two equal resources from
    # two providers become two entries: still one request, the same spans.)
    grouped: dict[int, tuple[Any, dict[int, tuple[Any, list[orjson.Fragment]]]]] = {}
    for span in spans:
        resource, scope = span.resource, span.instrumentation_scope
        scopes = grouped.get(id(resource))
        if scopes is None:
            scopes = grouped[id(resource)] = (resource, {})
        bucket = scopes[1].get(id(scope))
        if bucket is None:
            bucket = scopes[1][id(scope)] = (scope, [])
        # each span written out at once: a batch of 512 would otherwise hold ~15,000 dicts and lists alive
        # until the end, enough to set off the garbage collector (over the whole heap of the process) in
        # the middle of its requests; bytes are not tracked
        bucket[1].append(orjson.Fragment(orjson.dumps(_span(span))))
    resource_spans = []
    for resource, scopes in grouped.values():
        scope_spans = []
        for scope, encoded in scopes.values():
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


# --- recording -----------------------------------------------------------------------------------------------

_PLAIN = frozenset({str, bool, int, float})  # attribute values stored as given; others go through the SDK's check


def _homogeneous(values: Sequence[Any]) -> bool:
    """A sequence the SDK would keep as it is: all str, all bool, all int or all float."""
    kind = type(values[0]) if values else str
    return kind in _PLAIN and all(type(v) is kind for v in values)


def _parent_or_always(sampler: Sampler) -> bool:
    """Whether `sampler` is `ParentBased` over an always-on (or ratio 1) root with the default delegates:
    then a span is sampled exactly when its parent is, or when it has none, and keeps the parent's trace state."""
    if type(sampler) is not ParentBased:
        return False
    root = sampler._root  # pyright: ignore[reportPrivateUsage]
    delegates = (
        sampler._remote_parent_sampled,  # pyright: ignore[reportPrivateUsage]
        sampler._remote_parent_not_sampled,  # pyright: ignore[reportPrivateUsage]
        sampler._local_parent_sampled,  # pyright: ignore[reportPrivateUsage]
        sampler._local_parent_not_sampled,  # pyright: ignore[reportPrivateUsage]
    )
    always = root is ALWAYS_ON or (type(root) is TraceIdRatioBased and root.rate >= 1.0)
    return always and delegates == (ALWAYS_ON, ALWAYS_OFF, ALWAYS_ON, ALWAYS_OFF)


class LeanTracerProvider(TracerProvider):
    """The SDK's tracer provider (resource, sampler, id generator, span processors, flush, shutdown at exit)
    whose tracers record `LeanSpan`s. The SDK's own span costs ~40 µs to open and end, half of it checking
    and copying each attribute into a locked, bounded mapping; a lean span keeps plain fields and a dict.
    What it records and hands to the processors is the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lean: dict[int, trace_api.Tracer] = {}

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> trace_api.Tracer:
        tracer = super().get_tracer(instrumenting_module_name, instrumenting_library_version, schema_url, attributes)
        if not isinstance(tracer, Tracer):  # a disabled provider's no-op tracer
            return tracer
        lean = self._lean.get(id(tracer))
        if lean is None:
            lean = self._lean.setdefault(id(tracer), LeanTracer(tracer))
        return lean


class LeanTracer(trace_api.Tracer):
    """Starts `LeanSpan`s with the SDK tracer's sampler, ids, resource, scope, limits and processors."""

    def __init__(self, sdk: Tracer) -> None:
        self._sdk = sdk
        self._sampler = sdk.sampler
        self._ids = sdk.id_generator
        self._resource = sdk.resource
        self._processor = sdk.span_processor
        self._scope = sdk._instrumentation_scope  # pyright: ignore[reportPrivateUsage]
        self._limits: SpanLimits = sdk._span_limits  # pyright: ignore[reportPrivateUsage]
        self._parent_or_always = _parent_or_always(sdk.sampler)  # decided here without the sampler's calls

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace_api.Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        """What the SDK tracer's `start_span` does, but for the span it makes."""
        links = links or ()
        parent: SpanContext | None = trace_api.get_current_span(context).get_span_context()
        if not self._sdk._is_enabled():  # pyright: ignore[reportPrivateUsage]
            return trace_api.NonRecordingSpan(context=parent)  # pyright: ignore[reportArgumentType]
        if parent is None or not parent.is_valid:
            parent = None
            trace_id = self._ids.generate_trace_id()
            random_trace_id = self._ids.is_trace_id_random()
        else:
            trace_id = parent.trace_id
            random_trace_id = parent.trace_flags.random_trace_id
        if self._parent_or_always:
            sampled = parent is None or parent.trace_flags.sampled
            trace_state = parent.trace_state if parent is not None else None
            extra: Attributes = None
        else:
            sampling = self._sampler.should_sample(context, trace_id, name, kind, attributes, links)
            sampled, trace_state, extra = sampling.decision.is_sampled(), sampling.trace_state, sampling.attributes
            if not sampling.decision.is_recording():  # (RECORD_ONLY records without the sampled flag)
                flags = TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT
                unsampled = SpanContext(trace_id, self._ids.generate_span_id(), False, TraceFlags(flags), trace_state)
                return trace_api.NonRecordingSpan(context=unsampled)
        flags = TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT
        if random_trace_id:
            flags |= TraceFlags.RANDOM_TRACE_ID
        span_context = SpanContext(
            trace_id,
            self._ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(flags),
            trace_state=trace_state,
        )
        if not sampled and self._parent_or_always:
            return trace_api.NonRecordingSpan(context=span_context)
        span = LeanSpan(name, span_context, parent, kind, self, record_exception, set_status_on_exception)
        if extra:
            span.set_attributes(extra)
        if attributes:
            span.set_attributes(attributes)
        for link in links:
            span.add_link(link.context, link.attributes)
        span._start_time = start_time if start_time is not None else time_ns()
        self._processor.on_start(span, parent_context=context)  # pyright: ignore[reportArgumentType]
        return span

    def start_as_current_span(  # pyright: ignore[reportIncompatibleMethodOverride]  # a CM, also a decorator
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace_api.Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> _CurrentSpan:
        span = self.start_span(
            name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
        )
        return _CurrentSpan(span, end_on_exit, record_exception, set_status_on_exception)


class _CurrentSpan(contextlib.ContextDecorator):
    """`trace.use_span` as a class: the span is current inside, an exception is recorded and sets the ERROR
    status (if asked), and the span ends on the way out (if asked)."""

    __slots__ = ("_end_on_exit", "_record_exception", "_set_status_on_exception", "_token", "span")

    def __init__(self, span: trace_api.Span, end_on_exit: bool, record_exception: bool, set_status: bool) -> None:
        self.span = span
        self._end_on_exit = end_on_exit
        self._record_exception = record_exception
        self._set_status_on_exception = set_status
        self._token: object = None

    def __enter__(self) -> trace_api.Span:
        self._token = otel_context.attach(trace_api.set_span_in_context(self.span))
        return self.span

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        otel_context.detach(self._token)  # pyright: ignore[reportArgumentType]
        span = self.span
        try:
            # only Exception: a BaseException (cancellation, GeneratorExit) is no error of the span's
            if isinstance(error, Exception) and span.is_recording():
                if self._record_exception:
                    span.record_exception(error)
                if self._set_status_on_exception:
                    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        finally:
            if self._end_on_exit:
                span.end()


class LeanSpan(trace_api.Span, ReadableSpan):
    """A recording span that is its own `ReadableSpan`: plain fields, attributes in a dict. Plain values
    (str, bool, int, float, and lists of one of them) are stored as given; anything else goes through the SDK's
    check (`BoundedAttributes`), as do all values when an attribute length limit is set. The count limits of
    `SpanLimits` hold as the SDK holds them (a full span drops its oldest attribute, event or link), with the
    dropped counts reported. Once ended it changes no more, so the processors get the span itself."""

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        tracer: LeanTracer,
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> None:
        ReadableSpan.__init__(
            self,
            name,
            context,
            parent,
            tracer._resource,
            {},
            [],
            [],
            kind,
            instrumentation_scope=tracer._scope,
        )
        self._attrs: dict[str, Any] = self._attributes  # pyright: ignore[reportAttributeAccessIssue]
        self._tracer = tracer
        self._record_exception = record_exception
        self._set_status_on_exception = set_status_on_exception
        self._dropped = [0, 0, 0]  # attributes, events, links

    def get_span_context(self) -> SpanContext:
        return self._context  # pyright: ignore[reportReturnType]

    def is_recording(self) -> bool:
        return self._end_time is None

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        if self._end_time is not None:
            logger.warning("Setting attribute on ended span.")  # the SDK's words
            return
        store = self._attrs
        limits = self._tracer._limits
        most = limits.max_span_attributes
        plain = limits.max_attribute_length is None
        for key, value in attributes.items():
            if plain and isinstance(value, (list, tuple)) and _homogeneous(value):
                value = tuple(value)  # pyright: ignore[reportUnknownArgumentType]
            elif not (plain and type(value) in _PLAIN and type(key) is str and key):
                cleaned = BoundedAttributes(1, {key: value}, max_value_len=limits.max_attribute_length)
                if not cleaned:  # refused, with the SDK's warning, and counted as the SDK counts it
                    self._dropped[0] += 1
                    continue
                value = cleaned[key]
            if key in store:  # as the SDK's bounded mapping: an update moves to the end, a full one drops the oldest
                del store[key]
            elif most is not None and len(store) >= most:
                self._dropped[0] += 1
                if not most:
                    continue
                logger.warning("span %r is full: its oldest attribute is dropped for %r", self._name, key)
                del store[next(iter(store))]
            store[key] = value

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.set_attributes({key: value})

    def add_event(self, name: str, attributes: Attributes = None, timestamp: int | None = None) -> None:
        if self._end_time is not None:
            return
        limits = self._tracer._limits
        most = limits.max_events
        if most is not None and len(self._events) >= most:  # the SDK's bounded list: the oldest goes
            self._dropped[1] += 1
            if not most:
                return
            del self._events[0]  # pyright: ignore[reportIndexIssue]
        bounded = BoundedAttributes(limits.max_event_attributes, attributes, max_value_len=limits.max_attribute_length)
        self._events.append(Event(name, bounded, time_ns() if timestamp is None else timestamp))  # pyright: ignore[reportAttributeAccessIssue]

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        if self._end_time is not None or not context.is_valid:
            return
        limits = self._tracer._limits
        most = limits.max_links
        if most is not None and len(self._links) >= most:
            self._dropped[2] += 1
            if not most:
                return
            del self._links[0]  # pyright: ignore[reportIndexIssue]
        bounded = BoundedAttributes(limits.max_link_attributes, attributes, max_value_len=limits.max_attribute_length)
        self._links.append(trace_api.Link(context, bounded))  # pyright: ignore[reportAttributeAccessIssue]

    def update_name(self, name: str) -> None:
        if self._end_time is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """The SDK's rules: an OK status is final, UNSET is ignored."""
        if self._end_time is not None or self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self._status = status
        elif status is not StatusCode.UNSET:
            self._status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """The SDK's `exception` event: type, message, stack trace, escaped."""
        module, qualname = type(exception).__module__, type(exception).__qualname__
        recorded: dict[str, AttributeValue] = {
            "exception.type": f"{module}.{qualname}" if module and module != "builtins" else qualname,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        recorded.update(attributes or {})
        self.add_event("exception", recorded, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._end_time is not None:
            logger.warning("Calling end() on an ended span.")
            return
        self._end_time = end_time if end_time is not None else time_ns()
        processor = self._tracer._processor
        processor._on_ending(self)  # pyright: ignore[reportPrivateUsage, reportArgumentType]
        processor.on_end(self)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if error is not None and self.is_recording():
            if self._record_exception:
                self.record_exception(error, escaped=True)
            if self._set_status_on_exception:
                self.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        super().__exit__(kind, error, tb)

    @property
    def dropped_attributes(self) -> int:
        return self._dropped[0]

    @property
    def dropped_events(self) -> int:
        return self._dropped[1]

    @property
    def dropped_links(self) -> int:
        return self._dropped[2]
