"""The client manager's call pipeline: ordered middleware around every `ClientManager.call`.

A middleware is any `async def mw(ctx: CallContext, call_next) -> ToolResult` (a function or an object with
that `__call__`); it may look at or change `ctx` before `await call_next(ctx)`, and look at or replace the
result after. It must return a `ToolResult` and should not raise (a failure is an `is_error` result).

The pipeline of one call, outermost first:

    outer middleware (added with where="outer", in the order added: tracing, metrics, recording ...)
    resolve      the server is started if lazy; the tool is found (unknown, hidden or pin-blocked: an error)
    approval     the approval policy (allow / ask / deny), unless the caller says the call is approved
    cache        read-only tools: an L1/L2 hit ends the call here; a fresh success is stored
    inner middleware (where="inner": only calls that really go to a server; e.g. `_meta` for trace context)
    transport    deadline, instance choice, rate limit, breaker, retries with backoff (on another instance)

`ctx.info` is set from `resolve` on; outer middleware sees every call, including refused ones.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol

from mcp.shared.dispatcher import ProgressFnT

from k2_host.mcp.types import ToolInfo, ToolResult


@dataclass(slots=True)
class CallContext:
    """One tool call as it goes down the pipeline."""

    name: str  # namespaced server.tool
    arguments: dict[str, Any]
    timeout: float | None = None  # deadline in seconds (None: the server's timeout_s)
    on_progress: ProgressFnT | None = None
    approved: bool = False  # the caller already approved it (skip the policy)
    fresh: bool = False  # not answered from the result cache (the result is still stored for others)
    meta: dict[str, Any] = field(default_factory=dict)  # sent as the request's `_meta` (e.g. traceparent)
    server: str = ""
    tool: str = ""  # the server's own (bare) tool name
    info: ToolInfo | None = None  # set by `resolve`
    group: Any = None  # the manager's ServerGroup, set by `resolve`
    started: float = field(default_factory=time.perf_counter)
    state: dict[str, Any] = field(default_factory=dict)  # free for middleware


CallNext = Callable[[CallContext], Awaitable[ToolResult]]


class CallMiddleware(Protocol):
    def __call__(self, ctx: CallContext, call_next: CallNext) -> Awaitable[ToolResult]: ...


Where = Literal["outer", "inner"]


def compose(steps: Sequence[CallMiddleware], terminal: CallNext) -> CallNext:
    """One callable running `steps` in order around `terminal` (built once, not per call)."""
    handler = terminal
    for step in reversed(steps):
        handler = partial(step, call_next=handler)
    return handler


class CallPipeline:
    """The manager's ordered steps: outer middleware, the built-in steps, inner middleware, the transport."""

    def __init__(self, builtin: Sequence[CallMiddleware], terminal: CallNext) -> None:
        self._builtin = list(builtin)
        self._terminal = terminal
        self.outer: list[CallMiddleware] = []
        self.inner: list[CallMiddleware] = []
        self.run: CallNext = compose(self._builtin, terminal)

    def add(self, middleware: CallMiddleware, *, where: Where = "outer") -> None:
        """Add a middleware; outer ones run in the order added, before the built-in steps; inner ones after
        the cache, right before the transport."""
        (self.outer if where == "outer" else self.inner).append(middleware)
        self.run = compose([*self.outer, *self._builtin, *self.inner], self._terminal)

    def remove(self, middleware: CallMiddleware) -> None:
        for steps in (self.outer, self.inner):
            if middleware in steps:
                steps.remove(middleware)
        self.run = compose([*self.outer, *self._builtin, *self.inner], self._terminal)
