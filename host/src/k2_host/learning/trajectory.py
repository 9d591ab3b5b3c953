"""Trajectories: every request as the learning layer needs it, recorded by a loop middleware.

A `Trajectory` holds the query, the engine and model, each model step (the messages it was sent and the message
it returned, as indices into the trajectory's own list of distinct messages, so a long loop is not stored
quadratically), each tool call with its full arguments and full result (binary content replaced by its size and
sha256), the offline engine's plan steps, errors, usage, timings, the final answer and its citations, and how
the request stopped. Sub-agents' requests are trajectories of their own with `parent_id` set.

`TrajectoryRecorder` is the loop middleware that builds one per request and hands it to a `TrajectoryStore`
(`k2_host.learning.store`) when the request ends. Everything recorded goes through the `Redactor` first.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from typing import Any, Literal

from pydantic import BaseModel, Field

from k2_host.agent.middleware import (
    Middleware,
    ModelNext,
    ModelStepContext,
    RequestContext,
    RequestNext,
    ToolNext,
    ToolStepContext,
)
from k2_host.learning.redact import Redactor
from k2_host.llm.base import LLMResponse, Message, Usage
from k2_host.mcp.types import ToolResult
from k2_host.results import AgentResult, Citation, ContextReport, SkillUse, Step, StopReason, Timings

logger = logging.getLogger(__name__)


class ModelStepRecord(BaseModel):
    index: int
    input: list[int] = Field(default_factory=list)  # indices into Trajectory.messages, in the order sent
    output: int | None = None  # index of the returned assistant message (None when the step failed)
    tools: list[str] = Field(default_factory=list)  # names offered
    finish_reason: str | None = None
    usage: Usage | None = None
    duration_ms: float = 0.0
    error: str | None = None


class ToolCallTrace(BaseModel):
    id: str
    name: str
    step: int
    source: Literal["mcp", "local"]
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)  # the whole ToolResult (redacted; blobs by size/sha256)
    is_error: bool = False
    error_code: str | None = None
    cached: bool = False
    instance: str | None = None
    duration_ms: float = 0.0


class Trajectory(BaseModel):
    id: str
    parent_id: str | None = None
    session_id: str = ""
    depth: int = 0
    query: str
    engine: str
    model: str = ""
    started_at: float
    finished_at: float = 0.0
    messages: list[Message] = Field(default_factory=list)
    model_steps: list[ModelStepRecord] = Field(default_factory=list)
    tool_calls: list[ToolCallTrace] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)  # the result's steps (model turns, offline plan steps)
    answer: str = ""
    citations: list[Citation] = Field(default_factory=list)
    skill: SkillUse | None = None  # the skill that answered, or was chosen (offline router, model, by name)
    stopped: StopReason | None = None
    usage: Usage = Field(default_factory=Usage)
    timings: Timings = Field(default_factory=Timings)
    errors: list[str] = Field(default_factory=list)
    context: ContextReport | None = None  # the context window at the last model step (what the model saw)


class TrajectorySummary(BaseModel):
    id: str
    parent_id: str | None
    session_id: str
    started_at: float
    query: str
    engine: str
    model: str
    stopped: str | None
    tool_calls: int
    duration_ms: float


def summarize(t: Trajectory) -> TrajectorySummary:
    return TrajectorySummary(
        id=t.id,
        parent_id=t.parent_id,
        session_id=t.session_id,
        started_at=t.started_at,
        query=t.query,
        engine=t.engine,
        model=t.model,
        stopped=t.stopped,
        tool_calls=len(t.tool_calls),
        duration_ms=t.timings.total_ms,
    )


class _Messages:
    """The distinct messages of one trajectory (a policy rebuilds the same messages every step)."""

    def __init__(self, redactor: Redactor) -> None:
        self.items: list[Message] = []
        self._by_key: dict[tuple[Any, ...], int] = {}
        self._redactor = redactor

    def add(self, message: Message) -> int:
        key = (
            message.role,
            message.content,
            message.tool_call_id,
            message.name,
            message.reasoning,
            tuple((c.id, c.name, c.raw_arguments) for c in message.tool_calls),
        )
        index = self._by_key.get(key)
        if index is None:
            index = len(self.items)
            self.items.append(_redact_message(message, self._redactor))
            self._by_key[key] = index
        return index


def _redact_message(message: Message, redactor: Redactor) -> Message:
    return message.model_copy(
        update={
            "content": redactor.text(message.content),
            "reasoning": redactor.text(message.reasoning) if message.reasoning else message.reasoning,
            "tool_calls": [c.model_copy(update={"arguments": redactor.data(c.arguments)}) for c in message.tool_calls],
        }
    )


def _blob(data: str) -> dict[str, Any]:
    try:
        raw = base64.b64decode(data, validate=False)
    except ValueError:
        raw = data.encode()
    return {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}


def result_record(result: ToolResult, redactor: Redactor) -> dict[str, Any]:
    """The whole result as recorded: text and structured content in full (redacted), blobs by size and hash."""
    out = result.model_dump()
    out["text"] = redactor.text(result.text)
    if result.structured is not None:
        out["structured"] = redactor.data(result.structured)
    out["images"] = [{"mime_type": i.get("mime_type", ""), **_blob(i.get("data", ""))} for i in result.images]
    resources = []
    for r in result.resources:
        entry = {k: v for k, v in r.items() if k != "blob"}
        if "text" in entry:
            entry["text"] = redactor.text(entry["text"])
        if "blob" in r:
            entry.update(_blob(r["blob"]))
        resources.append(entry)
    out["resources"] = resources
    return out


class TrajectoryRecorder(Middleware):
    """Builds a Trajectory per request and stores it when the request ends (a store failure is logged only)."""

    def __init__(self, store: Any, redactor: Redactor) -> None:
        self.store = store  # k2_host.learning.store.TrajectoryStore
        self.redactor = redactor
        self.recorded = 0

    async def request(self, ctx: RequestContext, call_next: RequestNext) -> AgentResult:
        trajectory = Trajectory(
            id=ctx.request_id,
            parent_id=ctx.parent_id,
            session_id=ctx.session_id,
            depth=ctx.depth,
            query=self.redactor.text(ctx.query),
            engine=ctx.engine,
            model=ctx.model,
            started_at=ctx.started,
        )
        messages = _Messages(self.redactor)
        ctx.state["trajectory"] = trajectory
        ctx.state["trajectory_messages"] = messages
        result: AgentResult | None = None
        try:
            result = await call_next(ctx)
            return result
        finally:
            trajectory.finished_at = time.time()
            trajectory.messages = messages.items
            if result is not None:
                self._finish(trajectory, result)
            else:
                trajectory.stopped = "error"
                trajectory.errors.append("the request was cancelled or failed")
            try:
                await self.store.add(trajectory)
                self.recorded += 1
            except Exception as exc:  # recording must never fail a request
                logger.warning("trajectory %s not stored: %s", trajectory.id, exc)

    def _finish(self, t: Trajectory, result: AgentResult) -> None:
        t.answer = self.redactor.text(result.answer)
        t.citations = [c.model_copy(update={"text": self.redactor.text(c.text)}) for c in result.citations]
        t.stopped = result.stopped
        t.skill = result.skill.model_copy() if result.skill is not None else None
        t.usage = result.usage.model_copy()
        t.timings = result.timings.model_copy()
        t.errors = [self.redactor.text(e) for e in result.errors]
        t.steps = [s.model_copy(update={"text": self.redactor.text(s.text)}) for s in result.steps]
        t.engine = result.engine or t.engine
        t.model = result.model or t.model
        if result.context is not None:
            recalled = [r.model_copy(update={"text": self.redactor.text(r.text)}) for r in result.context.recalled]
            t.context = result.context.model_copy(update={"recalled": recalled})

    async def model_step(self, ctx: ModelStepContext, call_next: ModelNext) -> LLMResponse:
        t: Trajectory | None = ctx.request.state.get("trajectory")
        if t is None:
            return await call_next(ctx)
        messages: _Messages = ctx.request.state["trajectory_messages"]
        record = ModelStepRecord(
            index=ctx.index, input=[messages.add(m) for m in ctx.messages], tools=[s.name for s in ctx.tools]
        )
        t.model_steps.append(record)
        t0 = time.perf_counter()
        try:
            response = await call_next(ctx)
        except Exception as exc:
            record.error = self.redactor.text(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            record.duration_ms = (time.perf_counter() - t0) * 1000
        record.output = messages.add(response.message)
        record.finish_reason = response.finish_reason
        record.usage = response.usage
        return response

    async def tool_call(self, ctx: ToolStepContext, call_next: ToolNext) -> ToolResult:
        t: Trajectory | None = ctx.request.state.get("trajectory")
        result = await call_next(ctx)
        if t is not None:
            call = ctx.call
            arguments: dict[str, Any] = self.redactor.data(call.arguments)
            if call.raw_arguments is not None:
                arguments = {"raw": self.redactor.text(call.raw_arguments)}
            t.tool_calls.append(
                ToolCallTrace(
                    id=call.id,
                    name=call.name,
                    step=ctx.step,
                    source=ctx.source,
                    arguments=arguments,
                    result=result_record(result, self.redactor),
                    is_error=result.is_error,
                    error_code=result.error_code,
                    cached=result.cached,
                    instance=result.instance,
                    duration_ms=result.duration_ms,
                )
            )
        return result
