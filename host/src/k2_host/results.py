"""Typed results of the host's Python API: what `Agent.ask` returns, and the events it streams."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from k2_host.llm.base import Usage

StopReason = Literal["done", "max_steps", "token_budget", "time_budget", "error"]


class ToolCallRecord(BaseModel):
    """One tool call made while answering."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    step: int = 0
    is_error: bool = False
    error_code: str | None = None
    cached: bool = False
    duration_ms: float = 0.0
    instance: str | None = None
    summary: str = ""  # the first characters of the result text

    @classmethod
    def of(cls, id: str, name: str, arguments: dict[str, Any], step: int, result: Any) -> ToolCallRecord:
        """The record of a call that returned `result` (a `k2_host.mcp.types.ToolResult`)."""
        return cls(
            id=id,
            name=name,
            arguments=arguments,
            step=step,
            is_error=result.is_error,
            error_code=result.error_code,
            cached=result.cached,
            duration_ms=result.duration_ms,
            instance=result.instance,
            summary=result.text[:200],
        )


class Step(BaseModel):
    """One step of the loop: a model turn (with the tool calls it asked for), or one step of an offline plan."""

    index: int
    kind: Literal["model", "plan"]
    text: str = ""
    tool_calls: list[str] = Field(default_factory=list)  # ids of ToolCallRecord
    duration_ms: float = 0.0
    usage: Usage | None = None


class Citation(BaseModel):
    """Where a piece of the answer comes from."""

    source: str  # file path, URL, table, or "codeexec"
    location: str | None = None  # "lines 3-5", "row 2", ...
    text: str = ""


class Timings(BaseModel):
    total_ms: float = 0.0
    model_ms: float = 0.0
    tools_ms: float = 0.0


class AgentResult(BaseModel):
    """What `Agent.ask` returns."""

    query: str
    answer: str
    engine: str  # "offline" or the provider's name
    model: str = ""
    stopped: StopReason = "done"
    steps: list[Step] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    timings: Timings = Field(default_factory=Timings)
    errors: list[str] = Field(default_factory=list)  # servers or tools that failed (the answer is degraded)


class FanOutResult(BaseModel):
    """Sub-agents run concurrently on parts of a request, and their merged answer."""

    answer: str
    results: list[AgentResult]
    wall_ms: float
    sum_ms: float  # what running them one after another would have taken (sum of their own times)
    workers: int


class AgentEvent(BaseModel):
    """Streamed while answering: text deltas, tool calls starting and ending, steps, notices."""

    kind: Literal["text", "reasoning", "tool_start", "tool_end", "progress", "step", "notice"]
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
