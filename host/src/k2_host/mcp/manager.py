"""The client manager: every configured MCP server behind one `call(name, arguments)`.

Tools are namespaced `server.tool`. A call goes through a pipeline of middleware (`k2_host.mcp.middleware`;
`use()` adds more, e.g. tracing or recording): the tool's visibility (allow/deny globs) and pin (a changed
definition is blocked until accepted), the approval policy, the result cache (read-only tools), then the
transport: the choice of an instance (least in flight among those whose circuit breaker lets calls through), the
server's token bucket, and a deadline; connection failures and timeouts count against the breaker, and
read-only or idempotent tools are retried with backoff and jitter — on another instance when there is one.
Every failure comes back as an `is_error` ToolResult with a host error code (`k2_host.mcp.types.HostErrorCode`),
never as an exception: a failing server degrades an answer, it does not end a run.
"""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp import MCPError
from mcp.shared.dispatcher import ProgressFnT

from k2_host.config import HostConfig, ServerConfig
from k2_host.mcp.cache import DiskL2, L2Store, RedisL2, ResultCache, cache_key
from k2_host.mcp.connection import Instance, Unavailable, is_connection_error
from k2_host.mcp.convert import BadResult, host_error, tool_info, tool_result, tool_wire_dict
from k2_host.mcp.middleware import CallContext, CallMiddleware, CallNext, CallPipeline, Where
from k2_host.mcp.pinning import ToolPins
from k2_host.mcp.policy import ApprovalPolicy, tool_visible
from k2_host.mcp.resilience import CircuitBreaker, RateLimited, TokenBucket, retryable_tool, retrying
from k2_host.mcp.types import ToolInfo, ToolResult

logger = logging.getLogger(__name__)

ElicitHandler = Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any] | None]]
"""(server, message, requested JSON schema) -> the user's answers, or None to decline."""
SamplingHandler = Callable[[str, types.CreateMessageRequestParams], Awaitable[types.CreateMessageResult]]


class _Retry(Exception):
    """A transport failure worth another try; carries the result to return when no try is left."""

    def __init__(self, result: ToolResult) -> None:
        super().__init__(result.text)
        self.result = result


class ServerGroup:
    """A configured server: its instances, breaker state per instance, rate limit and tools."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.name = config.name
        self.instances: list[Instance] = []
        self.breakers: dict[str, CircuitBreaker] = {}
        self.bucket = TokenBucket(config.rate_per_s, config.burst) if config.rate_per_s else None
        self.tools: dict[str, ToolInfo] = {}  # bare tool name -> info (visible and not blocked)
        self.blocked: dict[str, str] = {}  # bare name -> why (pin changed)
        self.calls = 0
        self.failures = 0
        self.started = False
        self.start_lock = anyio.Lock()

    def pick(self, exclude: set[str]) -> Instance | None:
        """Least in-flight connected instance whose breaker allows a call (ties: the first)."""
        best: Instance | None = None
        for inst in self.instances:
            if inst.id in exclude or inst.client is None:
                continue
            if best is None or inst.in_flight < best.in_flight:
                best = inst
        if best is not None and self.breakers[best.id].allow():
            return best
        # The least loaded one is refused by its breaker: try the others in order of load.
        for inst in sorted(self.instances, key=lambda i: i.in_flight):
            if inst.id in exclude or inst is best or inst.client is None:
                continue  # a restarting instance is waited for (`_wait_for_instance`), not called
            if self.breakers[inst.id].allow():
                return inst
        return None


class ClientManager:
    """Connects the configured servers and routes namespaced tool calls to them. An async context manager."""

    def __init__(
        self,
        config: HostConfig,
        *,
        interactive: bool = False,
        ask_approval: Callable[[ToolInfo, dict[str, Any]], Awaitable[bool]] | None = None,
        elicit: ElicitHandler | None = None,
        sampling: SamplingHandler | None = None,
        state_dir: Path | None = None,
        pins: ToolPins | None = None,
        cache: ResultCache | None = None,
        servers: Sequence[str] | None = None,
        lazy: bool = False,
    ) -> None:
        self.config = config
        self.lazy = lazy
        self.interactive = interactive
        self.policy = ApprovalPolicy(config.approval, interactive=interactive, ask=ask_approval)
        self.state_dir = state_dir
        self.pins = pins if pins is not None else ToolPins(state_dir / "pins.json" if state_dir else None)
        self.cache = cache if cache is not None else self._make_cache()
        self._elicit_handler = elicit
        self._sampling_handler = sampling
        wanted = set(servers) if servers is not None else None
        self.groups: dict[str, ServerGroup] = {
            s.name: ServerGroup(s) for s in config.servers if not s.disabled and (wanted is None or s.name in wanted)
        }
        self.pin_reports: list[tuple[str, Any]] = []
        self._tg: anyio.abc.TaskGroup | None = None
        self._tools_cache: list[ToolInfo] | None = None
        self.on_tools_changed: Callable[[], None] | None = None
        self.pipeline = CallPipeline([self._resolve, self._approve, self._cached], self._transport)

    def _make_cache(self) -> ResultCache | None:
        cc = self.config.cache
        if not cc.enabled:
            return None
        l2: L2Store | None = None
        if cc.redis_url:
            l2 = RedisL2(cc.redis_url)
        elif cc.disk and self.state_dir is not None:
            l2 = DiskL2(self.state_dir / "cache")
        return ResultCache(cc.max_entries, cc.ttl_s, l2)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ClientManager:
        self._tg = await anyio.create_task_group().__aenter__()
        try:
            await self.start()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def start(self) -> None:
        """Create every instance and, unless `lazy`, start them all concurrently: returns when each has
        connected or failed its first attempt. A lazy manager starts a server on its first call."""
        assert self._tg is not None
        log_dir = self.state_dir / "logs" if self.state_dir else None
        info = types.Implementation(name="k2-host", version="0.1.0")
        for group in self.groups.values():
            for i, cfg in enumerate(group.config.expanded_instances()):
                inst = Instance(
                    cfg,
                    i,
                    roots=self._roots,
                    elicit=self._on_elicit,
                    sample=self._on_sample,
                    on_tools=self._on_tools,
                    log_dir=log_dir,
                    client_info=info,
                )
                group.instances.append(inst)
                group.breakers[inst.id] = CircuitBreaker(cfg.breaker_threshold, cfg.breaker_reset_s)
        if not self.lazy:
            await self.start_all()

    async def start_all(self) -> None:
        """Start every server not started yet, concurrently."""
        async with anyio.create_task_group() as starting:
            for group in self.groups.values():
                starting.start_soon(self._ensure_started, group)

    async def _ensure_started(self, group: ServerGroup) -> None:
        if group.started:
            return
        async with group.start_lock:
            if group.started:
                return
            assert self._tg is not None
            async with anyio.create_task_group() as starting:
                for inst in group.instances:
                    starting.start_soon(self._tg.start, inst.run)
            group.started = True

    async def __aexit__(self, *exc: Any) -> None:
        for group in self.groups.values():
            for inst in group.instances:
                await inst.close()
        if self._tg is not None:
            tg, self._tg = self._tg, None
            tg.cancel_scope.cancel()
            await tg.__aexit__(None, None, None)
        if self.cache is not None:
            await self.cache.aclose()

    # ------------------------------------------------------------------------------------------ tools

    async def _on_tools(self, inst: Instance, tools: list[types.Tool]) -> None:
        group = self.groups[inst.config.name]
        cfg = group.config
        visible = [t for t in tools if tool_visible(t.name, cfg.allow_tools, cfg.deny_tools)]
        report = self.pins.check(group.name, [tool_wire_dict(t) for t in visible])
        if report.changed:
            logger.warning(
                "server %s: tool definitions changed since pinned: %s (not used until accepted: k2 tools --accept)",
                group.name,
                ", ".join(str(getattr(c, "tool", c)) for c in report.changed),
            )
            self.pin_reports.append((group.name, report))
        new_tools: dict[str, ToolInfo] = {}
        blocked: dict[str, str] = {}
        for t in visible:
            if self.pins.is_blocked(group.name, t.name):
                blocked[t.name] = "definition changed since it was pinned"
                continue
            new_tools[t.name] = tool_info(group.name, t)
        group.tools = new_tools
        group.blocked = blocked
        self._tools_cache = None
        if self.cache is not None:
            await self.cache.invalidate(group.name)
        if self.on_tools_changed is not None:
            self.on_tools_changed()

    def tools(self) -> list[ToolInfo]:
        """Every usable tool, in a stable order (server config order, then tool name)."""
        if self._tools_cache is None:
            self._tools_cache = [g.tools[n] for g in self.groups.values() for n in sorted(g.tools)]
        return self._tools_cache

    def find(self, name: str) -> ToolInfo | None:
        server, _, tool = name.partition(".")
        group = self.groups.get(server)
        return group.tools.get(tool) if group else None

    def accept_pin(self, name: str) -> None:
        """Accept a changed tool definition (`server.tool`); it is usable after the next refresh."""
        server, _, tool = name.partition(".")
        self.pins.accept(server, tool)

    async def refresh(self, server: str | None = None) -> None:
        for group in self.groups.values():
            if server is None or group.name == server:
                for inst in group.instances:
                    await inst.refresh_tools()

    def healthy(self, server: str) -> bool:
        """Whether calls to `server` can go out now: it is configured and some instance's breaker is not open
        (a server not started yet counts as healthy: it starts on its first call)."""
        group = self.groups.get(server)
        if group is None:
            return False
        return not group.breakers or any(b.state != "open" for b in group.breakers.values())

    def status(self) -> list[dict[str, Any]]:
        """One row per instance: state, breaker, protocol, tool count, in flight, last error."""
        rows = []
        for group in self.groups.values():
            for inst in group.instances:
                breaker = group.breakers[inst.id]
                rows.append(
                    {
                        "server": group.name,
                        "instance": inst.id,
                        "transport": inst.config.transport,
                        "connected": inst.client is not None,
                        "protocol": inst.protocol_version,
                        "server_info": inst.server_info.name if inst.server_info else None,
                        "tools": len(group.tools),
                        "blocked_tools": sorted(group.blocked),
                        "breaker": breaker.state,
                        "in_flight": inst.in_flight,
                        "connects": inst.connects,
                        "last_error": inst.last_error,
                    }
                )
        return rows

    # ------------------------------------------------------------------------------------------ calls

    async def call(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressFnT | None = None,
        approved: bool = False,
        meta: dict[str, Any] | None = None,
        fresh: bool = False,
    ) -> ToolResult:
        """Call `server.tool` through the pipeline (`k2_host.mcp.middleware`). Never raises for a failure of the
        server or the call: see the module doc."""
        ctx = CallContext(
            name=name,
            arguments=arguments or {},
            timeout=timeout,
            on_progress=on_progress,
            approved=approved,
            fresh=fresh,
        )
        if meta:
            ctx.meta.update(meta)
        return await self.pipeline.run(ctx)

    def use(self, middleware: CallMiddleware, *, where: Where = "outer") -> None:
        """Add a middleware to every call (see `k2_host.mcp.middleware` for where it runs)."""
        self.pipeline.add(middleware, where=where)

    # The built-in steps of the pipeline, in order.

    async def _resolve(self, ctx: CallContext, call_next: CallNext) -> ToolResult:
        server, _, bare = ctx.name.partition(".")
        group = self.groups.get(server)
        if group is not None and not group.started:
            await self._ensure_started(group)
        info = group.tools.get(bare) if group else None
        if group is None or info is None:
            return self._unknown(ctx.name, group, bare)
        ctx.server, ctx.tool, ctx.info, ctx.group = server, bare, info, group
        result = await call_next(ctx)
        result.duration_ms = (time.perf_counter() - ctx.started) * 1000
        return result

    async def _approve(self, ctx: CallContext, call_next: CallNext) -> ToolResult:
        if not ctx.approved:
            assert ctx.info is not None
            allowed, reason = await self.policy.authorize(ctx.info, ctx.arguments)
            if not allowed:
                return host_error(ctx.name, "denied", f"{ctx.name} was not run: {reason}")
        return await call_next(ctx)

    async def _cached(self, ctx: CallContext, call_next: CallNext) -> ToolResult:
        group: ServerGroup = ctx.group
        assert ctx.info is not None
        if self.cache is None or not ctx.info.read_only or group.config.cache_ttl_s == 0:
            return await call_next(ctx)
        key = _cache_key(ctx.server, ctx.tool, ctx.arguments)
        if key is None:
            return await call_next(ctx)
        hit = None if ctx.fresh else await self.cache.get(key)
        if hit is not None:
            result = ToolResult.model_validate(hit)
            result.cached = True
            return result
        result = await call_next(ctx)
        if not result.is_error:
            try:
                await self.cache.set(key, result.model_dump(), group.config.cache_ttl_s)
            except ValueError as exc:  # a value JSON cannot hold (NaN from the server): not cached, still returned
                logger.debug("not caching %s: %s", ctx.name, exc)
        return result

    async def _transport(self, ctx: CallContext) -> ToolResult:
        group: ServerGroup = ctx.group
        assert ctx.info is not None
        deadline = ctx.timeout if ctx.timeout is not None else group.config.timeout_s
        result = await self._call_with_retries(group, ctx.info, ctx, deadline)
        group.calls += 1
        if result.is_error:
            group.failures += 1
        return result

    def _unknown(self, name: str, group: ServerGroup | None, bare: str) -> ToolResult:
        if group is not None and bare in group.blocked:
            return host_error(
                name,
                "pin_changed",
                f"{name}'s definition changed since it was pinned ({group.blocked[bare]}); "
                f"review it and accept it with `k2 tools --accept {name}`",
            )
        names = [t.name for t in self.tools()]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `k2 tools` lists the tools"
        if group is None and "." not in name:
            hint = "; tool names are namespaced as server.tool" + (f", e.g. {close[0]}" if close else "")
        if group is not None and not group.tools and not group.blocked:
            down = group.instances[0].last_error if group.instances else None
            if down:
                return host_error(name, "server_unavailable", f"server {group.name!r} is unavailable: {down}")
            return host_error(name, "server_unavailable", f"server {group.name!r} offers no tools")
        return host_error(name, "unknown_tool", f"no tool named {name!r}{hint}")

    async def _call_with_retries(
        self, group: ServerGroup, info: ToolInfo, ctx: CallContext, deadline: float
    ) -> ToolResult:
        """Try, and for read-only/idempotent tools retry transport failures with backoff and full jitter
        (tenacity), each retry on an instance not tried yet when there is one; all within the deadline."""
        end = anyio.current_time() + deadline
        attempts = 1 + (group.config.retries if retryable_tool(info) else 0)
        tried: set[str] = set()
        policy = retrying(attempts=attempts, base_s=0.05, max_s=1.0, retry_on=(_Retry,))
        try:
            async for attempt in policy:
                with attempt:
                    return await self._try_once(group, info, ctx, end, deadline, tried)
        except _Retry as failed:
            return failed.result
        raise AssertionError("unreachable: the retry policy returns or raises")  # pragma: no cover

    async def _try_once(
        self, group: ServerGroup, info: ToolInfo, ctx: CallContext, end: float, deadline: float, tried: set[str]
    ) -> ToolResult:
        remaining = end - anyio.current_time()
        if remaining <= 0:
            return host_error(info.name, "timeout", f"{info.name} did not finish within {deadline:g} s")
        inst = group.pick(tried if len(tried) < len(group.instances) else set())
        if inst is None:
            inst = await self._wait_for_instance(group, min(remaining, group.config.connect_timeout_s))
        if inst is None:
            return self._unavailable(group, info.name)
        result, transport_failure = await self._attempt(group, inst, info, ctx, end)
        if transport_failure:
            tried.add(inst.id)
            raise _Retry(result)
        return result

    async def _wait_for_instance(self, group: ServerGroup, timeout: float) -> Instance | None:
        """Wait for a restarting instance whose breaker lets a call through."""
        for inst in group.instances:
            if group.breakers[inst.id].state == "open" and group.breakers[inst.id].retry_after_s > 0:
                continue
            try:
                await inst.wait_ready(timeout)
            except Unavailable:
                continue
            if group.breakers[inst.id].allow():
                return inst
        return None

    def _unavailable(self, group: ServerGroup, name: str) -> ToolResult:
        waits = [b.retry_after_s for b in group.breakers.values() if b.state == "open"]
        errors = {i.last_error for i in group.instances if i.last_error}
        why = f"circuit breaker open, retry in {min(waits):.1f} s" if waits else "not connected"
        if errors:
            why += f" (last error: {sorted(errors)[0]})"
        return host_error(name, "server_unavailable", f"server {group.name!r} is unavailable: {why}")

    async def _attempt(
        self, group: ServerGroup, inst: Instance, info: ToolInfo, ctx: CallContext, end: float
    ) -> tuple[ToolResult, bool]:
        """One try on one instance: (result, was it a transport failure worth retrying elsewhere)."""
        breaker = group.breakers[inst.id]
        client = inst.client
        if client is None:
            breaker.record_failure()
            return self._unavailable(group, info.name), True
        if group.bucket is not None:
            try:
                await group.bucket.acquire(max(0.0, end - anyio.current_time()))
            except RateLimited as exc:
                return (
                    host_error(
                        info.name,
                        "rate_limited",
                        f"server {group.name!r} rate limit reached; retry in {exc.retry_after_s:.2f} s",
                    ),
                    False,
                )
        inst.in_flight += 1
        # One scope carries the deadline and is also cancelled by the instance when it drops the connection.
        scope = inst.call_scope(end)
        raw: Any = None
        try:
            with scope:
                raw = await client.call_tool(
                    info.tool,
                    ctx.arguments,
                    progress_callback=ctx.on_progress,
                    meta=ctx.meta or None,  # type: ignore[arg-type]
                )
        except TimeoutError:  # the SDK's own read timeout (our deadline is the scope, below)
            breaker.record_failure()
            return host_error(
                info.name, "timeout", f"{info.name} did not answer before its deadline", instance=inst.id
            ), True
        except MCPError as exc:
            if is_connection_error(exc):
                breaker.record_failure()
                inst.mark_dead(f"connection lost during {info.tool}: {exc.error.message}")
                return host_error(
                    info.name,
                    "server_unavailable",
                    f"server {group.name!r} connection lost during the call ({exc.error.message})",
                    instance=inst.id,
                ), True
            breaker.record_success()  # the server answered, with a protocol error
            return host_error(
                info.name,
                "protocol_error",
                f"{info.name} failed: {exc.error.message} (code {exc.code})",
                instance=inst.id,
            ), False
        except Exception as exc:
            if is_connection_error(exc):
                breaker.record_failure()
                inst.mark_dead(f"{type(exc).__name__}: {exc}")
                return host_error(
                    info.name, "server_unavailable", f"server {group.name!r} failed: {type(exc).__name__}: {exc}"
                ), True
            # The SDK refused what the server sent (e.g. structured content that fails the outputSchema).
            breaker.record_success()
            return _bad_result(info.name, exc, inst.id), False
        finally:
            inst.in_flight -= 1
            inst.end_call(scope)
        if scope.cancelled_caught:
            if inst.closing:  # the host is shutting down: not the server's fault
                return host_error(info.name, "cancelled", f"{info.name} was cancelled: the host is closing"), False
            breaker.record_failure()
            if inst.client is client:  # still connected: the deadline passed
                return host_error(
                    info.name, "timeout", f"{info.name} did not answer before its deadline", instance=inst.id
                ), True
            return host_error(  # the instance dropped its connection (or the host is closing) meanwhile
                info.name,
                "server_unavailable",
                f"server {group.name!r} connection lost during the call ({inst.last_error or 'closed'})",
                instance=inst.id,
            ), True
        breaker.record_success()
        try:
            return tool_result(info.name, raw, instance=inst.id), False
        except BadResult as exc:
            return _bad_result(info.name, exc, inst.id), False

    # ------------------------------------------------------------------------------------------ client side

    def _roots(self) -> list[str]:
        return list(self.config.roots)

    async def _on_elicit(self, server: str, params: types.ElicitRequestParams) -> types.ElicitResult | types.ErrorData:
        message = getattr(params, "message", "")
        schema = getattr(params, "requested_schema", None) or {}
        if not self.interactive or self._elicit_handler is None:
            logger.info("server %s asked the user something; declined (non-interactive run)", server)
            return types.ElicitResult(action="decline")
        answers = await self._elicit_handler(server, message, dict(schema) if isinstance(schema, dict) else {})
        if answers is None:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content=answers)

    async def _on_sample(
        self, server: str, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
        group = self.groups.get(server)
        policy = group.config.sampling if group else "deny"
        if policy == "ask" and not self.interactive:
            policy = "deny"
        if policy == "deny" or self._sampling_handler is None:
            why = "no LLM is configured" if self._sampling_handler is None else "the host's policy for this server"
            return types.ErrorData(code=-1, message=f"sampling declined: {why}")
        if policy == "ask":
            info = ToolInfo(name=f"{server}.sampling", server=server, tool="sampling", description="LLM request")
            ok, _ = await self.policy.authorize(info, {"messages": len(params.messages)})
            if not ok:
                return types.ErrorData(code=-1, message="sampling declined by the user")
        if group is not None and params.max_tokens > group.config.sampling_max_tokens:
            params = params.model_copy(update={"max_tokens": group.config.sampling_max_tokens})
        try:
            return await self._sampling_handler(server, params)
        except Exception as exc:
            logger.warning("sampling for %s failed: %s", server, exc)
            return types.ErrorData(code=-1, message=f"sampling failed: {exc}")


def _cache_key(server: str, tool: str, arguments: dict[str, Any]) -> str | None:
    """The cache key, or None for arguments that have no canonical JSON form (such a call is not cached)."""
    try:
        return cache_key(server, tool, arguments)
    except (TypeError, ValueError):
        return None


def _bad_result(name: str, exc: Exception, instance: str) -> ToolResult:
    """The SDK's validation messages run to many lines (the whole schema); the first one says what is wrong."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if len(first) > 300:
        first = first[:300] + "..."
    return host_error(name, "bad_result", f"{name} returned a malformed result: {first}", instance=instance)
