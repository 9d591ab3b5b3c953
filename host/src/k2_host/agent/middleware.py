"""Middleware on the agent loop: ordered, typed hooks around a request, each model step and each tool call.

    class Timing(Middleware):
        async def tool_call(self, ctx: ToolStepContext, call_next: ToolNext) -> ToolResult:
            t0 = time.perf_counter()
            try:
                return await call_next(ctx)
            finally:
                print(ctx.call.name, time.perf_counter() - t0)

    agent.runtime.use(Timing())

A middleware overrides any of `request`, `model_step` and `tool_call`; the others pass through (and cost
nothing: only overridden hooks are chained). Middleware run in the order added, the first outermost. Hooks may
read and change their context before `call_next`, and read or replace what it returns. `tool_call` sees the
calls of both engines (the model's and the offline engine's plans), local tools (`agent.delegate`,
`knowledge.search`) as well as MCP tools; the client manager has its own pipeline below (`k2_host.mcp.middleware`).
A sub-agent's request (fan-out) is a request of its own, with `parent_id` set.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from k2_host.llm.base import LLMResponse, Message, StreamCallback, ToolCall, ToolSpec
from k2_host.mcp.types import ToolResult
from k2_host.results import AgentResult


@dataclass(slots=True)
class RequestContext:
    """One request (a question asked of an engine)."""

    request_id: str
    query: str
    engine: str
    model: str
    session_id: str
    depth: int = 0
    parent_id: str | None = None
    skill: str | None = None  # the skill the caller asked for by name (`k2 skills run`, the API)
    started: float = field(default_factory=time.time)
    state: dict[str, Any] = field(default_factory=dict)  # free for middleware (the recorder keeps its trajectory)


@dataclass(slots=True)
class ModelStepContext:
    """One model turn: the messages the context policy chose and the tools offered."""

    request: RequestContext
    index: int
    messages: list[Message]
    tools: Sequence[ToolSpec]
    on_delta: StreamCallback | None = None


@dataclass(slots=True)
class ToolStepContext:
    """One tool call, from the model or from an offline plan."""

    request: RequestContext
    step: int
    call: ToolCall
    source: Literal["mcp", "local"]
    fresh: bool = False  # skip the result cache: the caller needs the server's answer as of now


RequestNext = Callable[[RequestContext], Awaitable[AgentResult]]
ModelNext = Callable[[ModelStepContext], Awaitable[LLMResponse]]
ToolNext = Callable[[ToolStepContext], Awaitable[ToolResult]]


class Middleware:
    """Base class: every hook passes through. Override the ones you need."""

    async def request(self, ctx: RequestContext, call_next: RequestNext) -> AgentResult:
        return await call_next(ctx)

    async def model_step(self, ctx: ModelStepContext, call_next: ModelNext) -> LLMResponse:
        return await call_next(ctx)

    async def tool_call(self, ctx: ToolStepContext, call_next: ToolNext) -> ToolResult:
        return await call_next(ctx)


C = TypeVar("C")
R = TypeVar("R")
Hook = Callable[[C, Callable[[C], Awaitable[R]]], Awaitable[R]]


def _chain(hooks: Sequence[Hook[C, R]], terminal: Callable[[C], Awaitable[R]]) -> Callable[[C], Awaitable[R]]:
    handler = terminal
    for hook in reversed(hooks):
        handler = _bind(hook, handler)
    return handler


def _bind(hook: Hook[C, R], nxt: Callable[[C], Awaitable[R]]) -> Callable[[C], Awaitable[R]]:
    def run(ctx: C) -> Awaitable[R]:
        return hook(ctx, nxt)

    return run


class MiddlewareStack:
    """The runtime's loop middleware, in order; runs a hook's chain around a terminal step."""

    def __init__(self, middleware: Sequence[Middleware] = ()) -> None:
        self._items: list[Middleware] = []
        self._request: list[Hook[RequestContext, AgentResult]] = []
        self._model: list[Hook[ModelStepContext, LLMResponse]] = []
        self._tool: list[Hook[ToolStepContext, ToolResult]] = []
        for m in middleware:
            self.add(m)

    def __iter__(self):
        return iter(self._items)

    def add(self, middleware: Middleware) -> None:
        self._items.append(middleware)
        self._rebuild()

    def remove(self, middleware: Middleware) -> None:
        self._items.remove(middleware)
        self._rebuild()

    def _rebuild(self) -> None:
        def overridden(name: str) -> list[Any]:
            return [getattr(m, name) for m in self._items if getattr(type(m), name) is not getattr(Middleware, name)]

        self._request = overridden("request")
        self._model = overridden("model_step")
        self._tool = overridden("tool_call")

    def request(self, ctx: RequestContext, terminal: RequestNext) -> Awaitable[AgentResult]:
        return _chain(self._request, terminal)(ctx) if self._request else terminal(ctx)

    def model_step(self, ctx: ModelStepContext, terminal: ModelNext) -> Awaitable[LLMResponse]:
        return _chain(self._model, terminal)(ctx) if self._model else terminal(ctx)

    def tool_call(self, ctx: ToolStepContext, terminal: ToolNext) -> Awaitable[ToolResult]:
        return _chain(self._tool, terminal)(ctx) if self._tool else terminal(ctx)
