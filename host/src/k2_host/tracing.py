"""Traces of the host, after the OpenTelemetry GenAI semantic conventions; off unless an OTLP endpoint is set.

One request is one trace:

    POST /v1/ask                       SERVER    (k2 serve; a `traceparent` header makes it a child of the caller's)
      invoke_agent k2                  INTERNAL  gen_ai.operation.name=invoke_agent, conversation id, engine,
      │                                          token usage of the whole request, k2.request_id (its trajectory)
      ├─ chat <model>                  CLIENT    one model turn: provider, request/response model, finish reason,
      │                                          gen_ai.usage.input_tokens / output_tokens / cache_read.input_tokens
      └─ execute_tool <server.tool>    INTERNAL  gen_ai.tool.name, gen_ai.tool.call.id, error.type on a failure
           └─ MCP send tools/call <tool>   CLIENT (the MCP SDK's, which puts `traceparent` into the request `_meta`)
                └─ tools/call <tool>       SERVER (in the server's process: its spans join this trace)

Prompts, answers and tool arguments are not recorded (they may hold secrets); names, ids, counts and outcomes
are. Export is OTLP over HTTP (JSON by default, `k2_shared.otlp`) with a batching processor, so the export
happens off the call path. The stdio servers the host starts are given the same endpoint
(`server_environment`), so their spans reach the same collector.

With no endpoint nothing is installed and no middleware is added: tracing off costs nothing.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

from k2_shared.otlp import LeanTracerProvider, OtlpConfigError, span_exporter
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from k2_host.agent.middleware import (
    Middleware,
    ModelNext,
    ModelStepContext,
    RequestContext,
    RequestNext,
    ToolNext,
    ToolStepContext,
)
from k2_host.errors import ConfigError
from k2_host.llm.base import LLMResponse
from k2_host.mcp.types import ToolResult
from k2_host.results import AgentResult

logger = logging.getLogger(__name__)

AGENT_NAME = "k2"
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: no trace of their own
_lock = threading.Lock()
_active: Tracing | None = None


@dataclass(frozen=True)
class Tracing:
    """The process's tracer provider (installed once) and the endpoint it exports to."""

    endpoint: str
    tracer: Tracer
    provider: Any  # opentelemetry.sdk.trace.TracerProvider

    def flush(self, timeout_s: float = 5.0) -> bool:
        return bool(self.provider.force_flush(int(timeout_s * 1000)))


def endpoint_of(configured: str | None) -> str | None:
    """The OTLP/HTTP base URL: the host's setting, else the standard OTEL_EXPORTER_OTLP_ENDPOINT."""
    value = configured or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or None
    return value.rstrip("/") if value else None


def setup_tracing(
    otlp_endpoint: str | None, *, service_name: str | None = None, sample_ratio: float = 1.0
) -> Tracing | None:
    """Install the tracer provider that exports over OTLP/HTTP (once per process; later calls get the same
    one). None when no endpoint is configured: then nothing is traced."""
    global _active
    endpoint = endpoint_of(otlp_endpoint)
    if endpoint is None:
        return None
    with _lock:
        if _active is not None:
            if _active.endpoint != endpoint:
                logger.warning("tracing already exports to %s; %s is not used", _active.endpoint, endpoint)
            return _active
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        try:
            exporter = span_exporter(f"{endpoint}/v1/traces")
        except OtlpConfigError as exc:
            raise ConfigError(f"telemetry: {exc}") from None
        provider = LeanTracerProvider(
            resource=Resource.create(
                {"service.name": service_name or os.environ.get("OTEL_SERVICE_NAME") or AGENT_NAME}
            ),
            sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        _active = Tracing(endpoint=endpoint, tracer=provider.get_tracer("k2_host"), provider=provider)
        logger.info("tracing: exporting spans over OTLP/HTTP to %s", endpoint)
        return _active


def server_environment() -> dict[str, str]:
    """What a stdio server the host starts needs to export its spans where the host's go."""
    if _active is None:
        return {}
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": _active.endpoint}


def _agent_attributes(request: RequestContext) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": AGENT_NAME,
        "gen_ai.conversation.id": request.session_id,
        "gen_ai.provider.name": request.engine,
        "gen_ai.request.model": request.model or request.engine,
        "k2.engine": request.engine,
        "k2.depth": request.depth,
    }


class TracingMiddleware(Middleware):
    """Loop middleware that opens the GenAI spans of a request, its model turns and its tool calls."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    async def request(self, ctx: RequestContext, call_next: RequestNext) -> AgentResult:
        attributes = _agent_attributes(ctx)
        if ctx.skill:
            attributes["k2.skill.requested"] = ctx.skill
        with self.tracer.start_as_current_span(
            f"invoke_agent {AGENT_NAME}", kind=SpanKind.INTERNAL, attributes=attributes
        ) as span:
            result = await call_next(ctx)
            usage = result.usage
            span.set_attributes(
                {
                    "gen_ai.usage.input_tokens": usage.input_tokens,
                    "gen_ai.usage.output_tokens": usage.output_tokens,
                    "gen_ai.usage.cache_read.input_tokens": usage.cached_input_tokens,
                    "k2.request_id": result.request_id,
                    "k2.stopped": result.stopped,
                    "k2.tool_calls": len(result.tool_calls),
                }
            )
            if result.model:
                span.set_attribute("gen_ai.response.model", result.model)
            if result.skill is not None:
                span.set_attributes({"k2.skill": result.skill.name, "k2.skill.chosen_by": result.skill.chosen_by})
            if result.stopped == "error":
                span.set_status(Status(StatusCode.ERROR, "; ".join(result.errors)[:500] or None))
                span.set_attribute("error.type", "request_failed")
            return result

    async def model_step(self, ctx: ModelStepContext, call_next: ModelNext) -> LLMResponse:
        request = ctx.request
        with self.tracer.start_as_current_span(
            f"chat {request.model or request.engine}",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": request.engine,
                "gen_ai.request.model": request.model or request.engine,
                "k2.step": ctx.index,
                "k2.messages": len(ctx.messages),
                "k2.tools_offered": len(ctx.tools),
            },
        ) as span:
            response = await call_next(ctx)
            usage = response.usage
            span.set_attributes(
                {
                    "gen_ai.response.finish_reasons": [response.finish_reason],
                    "gen_ai.usage.input_tokens": usage.input_tokens,
                    "gen_ai.usage.output_tokens": usage.output_tokens,
                    "gen_ai.usage.cache_read.input_tokens": usage.cached_input_tokens,
                    "k2.tool_calls_requested": len(response.message.tool_calls),
                }
            )
            if response.model:
                span.set_attribute("gen_ai.response.model", response.model)
            if response.finish_reason == "error":
                span.set_status(Status(StatusCode.ERROR))
                span.set_attribute("error.type", "model_error")
            return response

    async def tool_call(self, ctx: ToolStepContext, call_next: ToolNext) -> ToolResult:
        name = ctx.call.name
        server, _, _ = name.partition(".")
        with self.tracer.start_as_current_span(
            f"execute_tool {name}",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": ctx.call.id,
                "gen_ai.tool.type": "extension" if ctx.source == "mcp" else "function",
                "k2.mcp.server": server if ctx.source == "mcp" else "",
                "k2.step": ctx.step,
            },
        ) as span:
            result = await call_next(ctx)
            span.set_attribute("k2.cached", result.cached)
            if result.is_error:
                span.set_status(Status(StatusCode.ERROR, result.text[:300] or None))
                span.set_attribute("error.type", result.error_code or "tool_error")
            return result


def asgi(app: ASGIApp, tracer: Tracer) -> ASGIApp:
    """Wrap an ASGI app so each HTTP request is a SERVER span, the child of the caller's `traceparent`
    (probes and scrapes excepted)."""

    async def traced(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNTRACED_PATHS:
            await app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        parent = propagate.extract(carrier)
        method = scope.get("method", "GET")
        path = scope.get("path", "")
        token = otel_context.attach(parent)
        try:
            with tracer.start_as_current_span(
                f"{method} {path}",
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "url.path": path},
            ) as span:

                async def sending(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        status = int(message["status"])
                        span.set_attribute("http.response.status_code", status)
                        route = getattr(scope.get("route"), "path", None)
                        if route:
                            span.set_attribute("http.route", route)
                            span.update_name(f"{method} {route}")
                        if status >= 500:
                            span.set_status(Status(StatusCode.ERROR))
                            span.set_attribute("error.type", str(status))
                    await send(message)

                await app(scope, receive, sending)
        finally:
            otel_context.detach(token)

    return traced
