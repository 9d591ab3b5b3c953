"""OpenTelemetry, set up once per process.

The SDK already opens a span per request (`tools/call <name>` with the tool name and outcome); when an OTLP
endpoint is configured we install the tracer provider that records them and export them. Tool-call metrics
(calls, errors, latency histogram) come from a server middleware; they are exported over OTLP/HTTP with the
spans and exposed as Prometheus text for `GET /metrics` on the HTTP transports.

Without an endpoint no span would leave the process, so none is recorded: `instrument` then drops the SDK's
span middleware (its documented opt-out), which spares every call the cost of a span.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import CallToolResult
from opentelemetry import metrics, trace
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Histogram, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import REGISTRY, generate_latest

from k2_shared.otlp import LeanTracerProvider, span_exporter

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_instance: Telemetry | None = None
_LATENCY_BUCKETS_S = [
    0.0002,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
]


@dataclass
class Telemetry:
    """Handles on the process-wide instruments.

    Calls and errors are counted here, under a lock, and read by observable counters when a reader collects:
    a dictionary increment instead of a trip through the metrics SDK on every call. The latency histogram
    has no observable form, so each call is recorded into it directly.
    """

    service_name: str
    duration: Histogram
    exporting: bool
    _counts: dict[tuple[str, str], int] = field(default_factory=dict)
    _counts_lock: threading.Lock = field(default_factory=threading.Lock)

    def prometheus_text(self) -> bytes:
        return generate_latest(REGISTRY)

    def record_tool_call(self, tool: str, outcome: str, seconds: float) -> None:
        key = (tool, outcome)
        with self._counts_lock:
            self._counts[key] = self._counts.get(key, 0) + 1
        self.duration.record(seconds, self._attributes(key))

    def _attributes(self, key: tuple[str, str]) -> dict[str, str]:
        return {"tool": key[0], "outcome": key[1], "service": self.service_name}

    def observe_calls(self, options: CallbackOptions) -> list[Observation]:
        with self._counts_lock:
            counts = list(self._counts.items())
        return [Observation(n, self._attributes(key)) for key, n in counts]

    def observe_errors(self, options: CallbackOptions) -> list[Observation]:
        return [o for o in self.observe_calls(options) if (o.attributes or {}).get("outcome") != "ok"]


def setup_telemetry(service_name: str, otlp_endpoint: str | None = None) -> Telemetry:
    """Install the meter provider (and, with an OTLP endpoint, the tracer provider) once; later calls return
    the same handles."""
    global _instance
    with _lock:
        if _instance is not None:
            return _instance
        endpoint = otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        resource = Resource.create({"service.name": service_name})
        readers: list[MetricReader] = [PrometheusMetricReader()]
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

            base = endpoint.rstrip("/")
            tracer_provider = LeanTracerProvider(resource=resource)
            tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter(f"{base}/v1/traces")))
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{base}/v1/metrics")))
            trace.set_tracer_provider(tracer_provider)
            logger.info("exporting telemetry over OTLP", extra={"endpoint": base})
        meter_provider = MeterProvider(resource=resource, metric_readers=readers)
        metrics.set_meter_provider(meter_provider)
        meter = metrics.get_meter("k2")
        telemetry = Telemetry(
            service_name=service_name,
            duration=meter.create_histogram(
                "k2_tool_duration",
                unit="s",
                description="MCP tool call latency",
                explicit_bucket_boundaries_advisory=_LATENCY_BUCKETS_S,
            ),
            exporting=bool(endpoint),
        )
        meter.create_observable_counter(
            "k2_tool_calls", [telemetry.observe_calls], unit="1", description="MCP tool calls"
        )
        meter.create_observable_counter(
            "k2_tool_errors", [telemetry.observe_errors], unit="1", description="MCP tool calls that failed"
        )
        _instance = telemetry
        return _instance


class ToolMetricsMiddleware:
    """Server middleware that records calls, errors and latency of every `tools/call`."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        name = ctx.params.get("name") if ctx.params else None
        tool = name if isinstance(name, str) else "?"
        start = time.perf_counter()
        outcome = "protocol_error"
        try:
            result = await call_next(ctx)
            is_error = isinstance(result, CallToolResult) and result.is_error
            is_error = is_error or (isinstance(result, dict) and result.get("isError") is True)
            outcome = "tool_error" if is_error else "ok"
            return result
        finally:
            self.telemetry.record_tool_call(tool, outcome, time.perf_counter() - start)
