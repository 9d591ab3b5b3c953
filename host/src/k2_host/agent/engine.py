"""The engine interface: what answers a request, and the `Run` it answers it through.

    class Engine(Protocol):
        name: str      # "offline", "openai", "kimi", "anthropic", ...
        model: str
        async def run(self, run: Run) -> AgentResult: ...

Two engines implement it: the model loop (`k2_host.agent.loop.ModelEngine`) and the offline engine
(`k2_host.engine.offline.OfflineEngine`). An engine never reaches the client manager, the provider or the
stores directly: it goes through its `Run`, which passes every model step and tool call through the loop
middleware (`k2_host.agent.middleware`), emits the events, dispatches local tools, and keeps this request's
turns in the session's transcript.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from k2_host.agent.middleware import ModelStepContext, RequestContext, ToolStepContext
from k2_host.context.transcript import Transcript, Turn
from k2_host.llm.base import LLMProvider, LLMResponse, Message, StreamCallback, ToolCall, ToolSpec
from k2_host.mcp.convert import host_error
from k2_host.mcp.types import ToolCaller, ToolResult
from k2_host.results import AgentEvent, AgentResult, Citation, FanOutResult, ToolCallRecord

if TYPE_CHECKING:
    from k2_host.knowledge import Knowledge
    from k2_host.runtime import Runtime

EventHandler = Callable[[AgentEvent], Awaitable[None]]


@runtime_checkable
class Engine(Protocol):
    name: str
    model: str

    async def run(self, run: Run) -> AgentResult: ...


@dataclass
class FinalAnswer:
    """A tool's result that is the request's final answer as it is (a return-directly tool: `Run.finish_with`)."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Run:
    """One request as an engine sees it. Created by the runtime for each `ask`."""

    def __init__(
        self,
        runtime: Runtime,
        request: RequestContext,
        transcript: Transcript,
        *,
        max_steps: int | None = None,
        on_event: EventHandler | None = None,
    ) -> None:
        self.runtime = runtime
        self.request = request
        self.transcript = transcript
        self.history: list[Turn] = list(transcript.turns)  # the turns before this request
        self._start = len(transcript.turns)
        self.max_steps = max_steps
        self.on_event = on_event
        self.config = runtime.config.agent
        self.result = AgentResult(
            query=request.query, answer="", engine=request.engine, model=request.model, request_id=request.request_id
        )
        self.final: FinalAnswer | None = None  # set by a return-directly tool, taken by the model loop

    # ------------------------------------------------------------------------------------------ what it knows

    @property
    def query(self) -> str:
        return self.request.query

    @property
    def depth(self) -> int:
        return self.request.depth

    @property
    def turns(self) -> list[Turn]:
        """This request's turns so far (the user turn first)."""
        return self.transcript.turns[self._start :]

    @property
    def knowledge(self) -> Knowledge | None:
        return self.runtime.knowledge

    @property
    def roots(self) -> list[str]:
        return list(self.runtime.config.roots)

    def servers(self) -> list[str]:
        return list(self.runtime.manager.groups)

    def add_turn(self, turn: Turn) -> None:
        turn.request_id = self.request.request_id
        self.transcript.add(turn)

    def tool_specs(self) -> list[ToolSpec]:
        """The tools offered to a model, in a fixed order: the MCP tools, then the local tools."""
        return self.runtime.tool_specs(depth=self.depth)

    def finish_with(self, answer: FinalAnswer) -> None:
        """End the request with `answer` as its final answer once this turn's tool calls are done, without another
        model step (when the tool asking is the turn's only call; beside others its result goes to the model)."""
        self.final = answer

    async def emit(self, event: AgentEvent) -> None:
        if self.on_event is not None:
            await self.on_event(event)

    # ------------------------------------------------------------------------------------------ steps

    async def complete(
        self,
        index: int,
        messages: list[Message],
        tools: Sequence[ToolSpec],
        *,
        on_delta: StreamCallback | None = None,
    ) -> LLMResponse:
        """One model turn, through the model-step middleware."""
        provider = self.runtime.provider
        if provider is None:
            raise RuntimeError("this engine has no model provider")

        async def terminal(ctx: ModelStepContext) -> LLMResponse:
            return await _complete(provider, ctx)

        ctx = ModelStepContext(request=self.request, index=index, messages=messages, tools=tools, on_delta=on_delta)
        return await self.runtime.middleware.model_step(ctx, terminal)

    def upkeep_caller(self) -> ToolCaller:
        """MCP calls an engine makes for its own upkeep, not for this answer (the offline engine's folder index
        reading changed files): straight to the client manager, which still applies each server's tool lists,
        limits and timeouts; they are not recorded in the trajectory (a refresh may read hundreds of files)."""
        return FreshCaller(self.runtime.manager)

    async def call_tool(self, call: ToolCall, step: int, *, fresh: bool = False) -> tuple[ToolCallRecord, ToolResult]:
        """One tool call (local or MCP), through the tool-call middleware, with tool_start/tool_end events;
        `fresh`: not answered from the result cache (a file read again after it changed)."""
        await self.emit(AgentEvent(kind="tool_start", text=call.name, data={"arguments": call.arguments}))
        local = self.runtime.local_tools.get(call.name, depth=self.depth)
        ctx = ToolStepContext(
            request=self.request, step=step, call=call, source="local" if local else "mcp", fresh=fresh
        )
        t0 = time.perf_counter()
        result = await self.runtime.middleware.tool_call(ctx, self._dispatch)
        if result.duration_ms == 0.0:
            result.duration_ms = (time.perf_counter() - t0) * 1000
        record = ToolCallRecord.of(call.id, call.name, call.arguments, step, result)
        await self.emit(AgentEvent(kind="tool_end", text=call.name, data=record.model_dump()))
        return record, result

    async def _dispatch(self, ctx: ToolStepContext) -> ToolResult:
        call = ctx.call
        if call.raw_arguments is not None:
            return host_error(
                call.name,
                "invalid_arguments",
                f"the arguments were not a JSON object: {call.raw_arguments[:200]!r}; send an object",
            )
        local = self.runtime.local_tools.get(call.name, depth=self.depth)
        if local is not None:
            return await local.handler(call.arguments, self)

        async def progress(progress: float, total: float | None, message: str | None) -> None:
            await self.emit(
                AgentEvent(
                    kind="progress",
                    text=message or "",
                    data={"tool": call.name, "progress": progress, "total": total},
                )
            )

        return await self.runtime.manager.call(
            call.name, call.arguments, on_progress=progress if self.on_event is not None else None, fresh=ctx.fresh
        )

    async def fan_out(self, tasks: Sequence[str], *, workers: int | None = None) -> FanOutResult:
        """Sub-agents on `tasks` (each a request of its own, child of this one), merged in task order. Their tool
        and step events reach this request's handler; their text does not (it is not this request's answer)."""
        handler = self.on_event

        async def forward(event: AgentEvent) -> None:
            if handler is not None and event.kind not in ("text", "reasoning"):
                await handler(event)

        return await self.runtime.fan_out(
            tasks,
            workers=workers,
            on_event=forward if handler is not None else None,
            depth=self.depth + 1,
            parent_id=self.request.request_id,
        )


async def _complete(provider: LLMProvider, ctx: ModelStepContext) -> LLMResponse:
    return await provider.complete(ctx.messages, ctx.tools, on_delta=ctx.on_delta)


class FreshCaller:
    """A ToolCaller whose calls skip the result cache (the folder index must see the files as they are now)."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    async def call(
        self, name: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> ToolResult:
        return await self.manager.call(name, arguments, timeout=timeout, fresh=True)
