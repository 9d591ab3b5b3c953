"""Prometheus metrics of `k2 serve`, at `GET /metrics` (the `status` permission: give Prometheus a viewer key).

    k2_http_requests_total{method, route, status}        route is the template (/v1/sessions/{session_id})
    k2_http_request_duration_seconds{route}              histogram
    k2_agent_requests_total{engine, stopped}             requests answered (sub-agents' too, depth > 0)
    k2_agent_request_duration_seconds{engine}            histogram
    k2_model_tokens_total{kind}                          prompt, completion, cached_prompt
    k2_tool_calls_total{server, tool, outcome}           outcome: ok, error
    k2_tool_call_duration_seconds{server}                histogram
    k2_tool_cache_hits_total{server}                     tool calls answered from the host's result cache
    k2_context_tokens{source}                            histogram: tokens per source at a request's last model
                                                         step (system, tool_schemas, memory, history, knowledge,
                                                         tools, task)
    k2_context_window_used_ratio                         histogram: share of the context window used then
    k2_runs_active                                       native runs in flight
    k2_approvals_total{decision}                         approve, deny
    k2_mcp_server_up{server, instance}                   1 when connected (a lazily started one: 0 until used)
    k2_mcp_server_failed{server, instance}               1 when not connected after an error
    k2_mcp_breaker_open{server, instance}                1 while its circuit breaker is open

One registry per service (not the process-wide one), so two services in a process count apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from k2_host.agent.middleware import Middleware, RequestContext, RequestNext, ToolNext, ToolStepContext
from k2_host.learning.experience import Source
from k2_host.mcp.types import ToolResult
from k2_host.results import AgentResult

if TYPE_CHECKING:
    from k2_host.runtime import Runtime

TOKEN_BUCKETS = (0, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 131072, 1048576)
RATIO_BUCKETS = (0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0)
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class _Servers(Collector):
    def __init__(self, status: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self.status = status

    def collect(self) -> Iterable[GaugeMetricFamily]:
        labels = ["server", "instance"]
        up = GaugeMetricFamily("k2_mcp_server_up", "1 when the MCP server instance is connected", labels=labels)
        breaker = GaugeMetricFamily("k2_mcp_breaker_open", "1 when the instance's breaker is open", labels=labels)
        failed = GaugeMetricFamily(
            "k2_mcp_server_failed", "1 when the instance is not connected after an error", labels=labels
        )
        for row in self.status():
            values = [str(row["server"]), str(row["instance"])]
            up.add_metric(values, 1.0 if row.get("connected") else 0.0)
            breaker.add_metric(values, 1.0 if row.get("breaker") == "open" else 0.0)
            failed.add_metric(values, 1.0 if not row.get("connected") and row.get("last_error") else 0.0)
        return [up, breaker, failed]


class _Skills(Collector):
    """Per-skill runs and proficiency from the skills' metrics store (persisted, so they survive restarts)."""

    def __init__(self, stats: Callable[[], dict[str, Any]]) -> None:
        self.stats = stats

    def collect(self) -> Iterable[GaugeMetricFamily]:
        runs = GaugeMetricFamily("k2_skill_runs", "Recorded runs of the skill (all time)", labels=["skill"])
        ok = GaugeMetricFamily("k2_skill_successes", "Recorded successful runs of the skill", labels=["skill"])
        prof = GaugeMetricFamily(
            "k2_skill_proficiency", "Posterior success rate of the skill, (1 + ok) / (2 + runs)", labels=["skill"]
        )
        for name, s in sorted(self.stats().items()):
            runs.add_metric([name], s.runs)
            ok.add_metric([name], s.successes)
            prof.add_metric([name], s.proficiency)
        yield from (runs, ok, prof)


class _Learning(Collector):
    """The training layer's state: replay buffer, experiences by source, router versions, playbook, last gate."""

    def __init__(self, summary: Callable[[], dict[str, Any] | None]) -> None:
        self.summary = summary

    def collect(self) -> Iterable[GaugeMetricFamily]:
        s = self.summary()
        if s is None:
            return
        yield GaugeMetricFamily("k2_learning_replay_size", "Experiences in the replay buffer", value=s["replay"])
        yield GaugeMetricFamily("k2_learning_replay_capacity", "Capacity of the replay buffer", value=s["capacity"])
        exp = GaugeMetricFamily("k2_learning_experiences", "Stored experiences by source", labels=["source"])
        counts = {source: 0 for source in get_args(Source)} | s["experiences"]  # every source, 0 until seen
        for source, n in sorted(counts.items()):
            exp.add_metric([source], n)
        yield exp
        ver = GaugeMetricFamily("k2_learning_router_versions", "Router versions by status", labels=["status"])
        for status in ("current", "candidate", "rejected", "retired"):
            ver.add_metric([status], s["versions"].get(status, 0))
        yield ver
        yield GaugeMetricFamily("k2_learning_lessons", "Lessons in the playbook", value=s["lessons"])
        if s["last_gate"] is not None:
            promoted, at = s["last_gate"]
            yield GaugeMetricFamily(
                "k2_learning_last_gate_promoted", "1 when the last gated candidate was promoted", value=float(promoted)
            )
            yield GaugeMetricFamily(
                "k2_learning_last_gate_timestamp_seconds", "When the last gated candidate was trained", value=at
            )


class ApiMetrics(Middleware):
    """The runtime middleware that counts requests, tokens and tool calls, and the HTTP layer's counters."""

    def __init__(
        self,
        status: Callable[[], Iterable[dict[str, Any]]] = list,
        skills: Callable[[], dict[str, Any]] = dict,
        learning: Callable[[], dict[str, Any] | None] = lambda: None,
    ) -> None:
        self.port: int | None = None  # where `serve` listens
        r = self.registry = CollectorRegistry()
        self.http_requests = Counter("k2_http_requests", "HTTP requests", ["method", "route", "status"], registry=r)
        self.http_latency = Histogram(
            "k2_http_request_duration_seconds",
            "HTTP request time to the response's start",
            ["route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "k2_agent_requests", "Requests answered by the runtime", ["engine", "stopped"], registry=r
        )
        self.request_latency = Histogram(
            "k2_agent_request_duration_seconds", "Time to answer a request", ["engine"], buckets=BUCKETS, registry=r
        )
        self.tokens = Counter("k2_model_tokens", "Model tokens", ["kind"], registry=r)
        self.tool_calls = Counter("k2_tool_calls", "Tool calls", ["server", "tool", "outcome"], registry=r)
        self.tool_latency = Histogram(
            "k2_tool_call_duration_seconds", "Tool call time", ["server"], buckets=BUCKETS, registry=r
        )
        self.cache_hits = Counter(
            "k2_tool_cache_hits", "Tool calls answered from the result cache", ["server"], registry=r
        )
        self.context_tokens = Histogram(
            "k2_context_tokens",
            "Tokens per source in the context window at a request's last model step",
            ["source"],
            buckets=TOKEN_BUCKETS,
            registry=r,
        )
        self.context_used = Histogram(
            "k2_context_window_used_ratio",
            "Share of the context window used at a request's last model step",
            buckets=RATIO_BUCKETS,
            registry=r,
        )
        self.runs_active = Gauge("k2_runs_active", "Native runs in flight", registry=r)
        self.approvals = Counter("k2_approvals", "Approval decisions", ["decision"], registry=r)
        for decision in ("approve", "deny"):  # known from the start: a dashboard shows 0, not "no data"
            self.approvals.labels(decision)
        self.skill_uses = Counter(
            "k2_skill_invocations",
            "Requests a skill answered or was chosen for",
            ["skill", "chosen_by", "outcome"],
            registry=r,
        )
        r.register(_Servers(status))
        r.register(_Skills(skills))
        r.register(_Learning(learning))

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> ApiMetrics:
        """The metrics of one runtime: its servers' state, its skills' totals and its learning store."""

        def skill_stats() -> dict[str, Any]:
            metrics = runtime.skills.metrics
            return metrics.totals() if metrics is not None else {}

        return cls(lambda: runtime.manager.status(), skill_stats, lambda: runtime.experiences.summary())

    def text(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, port: int) -> int:
        """Serve these metrics at http://127.0.0.1:PORT/metrics from a daemon thread (the CLI's
        `--metrics-port`: a long `k2 chat` or `k2 learn train` scraped like `k2 serve`); the port bound."""
        from prometheus_client import start_http_server

        server, _ = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        self.port = int(server.server_address[1])
        return self.port

    async def request(self, ctx: RequestContext, call_next: RequestNext) -> AgentResult:
        started = time.perf_counter()
        result = await call_next(ctx)
        self.requests.labels(ctx.engine, result.stopped).inc()
        self.request_latency.labels(ctx.engine).observe(time.perf_counter() - started)
        if result.skill is not None:
            outcome = "ok" if result.skill.ok else result.skill.reason or "failed"
            self.skill_uses.labels(result.skill.name, result.skill.chosen_by, outcome).inc()
        usage = result.usage
        for kind, n in (
            ("prompt", usage.input_tokens),
            ("completion", usage.output_tokens),
            ("cached_prompt", usage.cached_input_tokens),
        ):
            if n:
                self.tokens.labels(kind).inc(n)
        if result.context is not None and result.context.window:
            for source, n in result.context.used.items():
                self.context_tokens.labels(source).observe(n)
            self.context_used.observe(result.context.total / result.context.window)
        return result

    async def tool_call(self, ctx: ToolStepContext, call_next: ToolNext) -> ToolResult:
        started = time.perf_counter()
        result = await call_next(ctx)
        server, _, tool = ctx.call.name.partition(".")
        self.tool_calls.labels(server, tool, "error" if result.is_error else "ok").inc()
        if result.cached:
            self.cache_hits.labels(server).inc()
        self.tool_latency.labels(server).observe(time.perf_counter() - started)
        return result

    def asgi(self, app: ASGIApp) -> ASGIApp:
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()

            async def sending(message: Message) -> None:
                if message["type"] == "http.response.start":
                    route = scope.get("route")
                    template = getattr(route, "path", None) or "unmatched"
                    self.http_requests.labels(scope["method"], template, str(message["status"])).inc()
                    self.http_latency.labels(template).observe(time.perf_counter() - started)
                await send(message)

            await app(scope, receive, sending)

        return counted
