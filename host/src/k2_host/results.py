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
    kind: Literal["model", "plan", "skill"]
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


class RecalledItem(BaseModel):
    """Something brought back into the context window for a request, with where it came from."""

    source: Literal["history", "knowledge"]
    ref: str  # "turn 12 · user", "turn 14 · tool filesystem.read_file (call c3)", "docs/guide.md#2"
    score: float
    tokens: int
    text: str = ""


class ContextReport(BaseModel):
    """What the model saw at the last step of a request: the window, the budget and tokens per source."""

    window: int
    budget: int  # for the conversation: window - reserved output - system prompt - tool schemas
    reserved_output: int
    counter: str  # the tokenizer counted with ("o200k_base", "wordpiece:...", "estimate:4-bytes")
    exact: bool  # the model's own tokenizer
    used: dict[str, int]  # system, tool_schemas, memory, history, knowledge, tools, task
    prefix_tokens: int  # system + memory + history: the part that stays byte-identical until a compaction
    turns_verbatim: int
    turns_compacted: int
    compactions: int
    pinned_facts: int
    recalled: list[RecalledItem] = Field(default_factory=list)
    bounded: list[str] = Field(default_factory=list)  # tool calls whose results arrived over the cap
    cleared: int = 0  # tool results shown as a stub (readable again with context.read_result)
    request_cut: bool = False  # this request alone did not fit: its longest turn was cut (and says so)

    @property
    def total(self) -> int:
        return sum(self.used.values())


class SkillUse(BaseModel):
    name: str
    chosen_by: Literal["router", "named", "model"]
    score: float | None = None  # the router's score
    ok: bool = True
    reason: str = ""  # why it did not answer (bad_input, no_input, prerequisites, needs_model, ...)


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
    context: ContextReport | None = None  # the context window at the last model step (window policy)
    skill: SkillUse | None = None  # the skill that answered (offline) or was asked for
    request_id: str = ""  # its trajectory's id: what feedback names (`Agent.feedback`, `k2 feedback --id`)


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
