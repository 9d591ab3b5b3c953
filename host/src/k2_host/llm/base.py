"""The one conversation shape every LLM provider speaks, and the provider protocol.

A conversation is a list of `Message`s (system, user, assistant with optional tool calls, tool results).
Providers translate it to their wire format (OpenAI chat completions, Anthropic Messages) and back, and
report `Usage`. Tools are offered as `ToolSpec`s (the namespaced MCP name, description, JSON schema).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]


class ToolSpec(BaseModel):
    """A tool as offered to a model: `name` is namespaced (`server.tool`) and must be sent back unchanged."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolCall(BaseModel):
    """A model's request to call one tool; `id` ties the result back to it."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    # When the model sent arguments that are not a JSON object, the raw text is kept here and `arguments` is {}.
    raw_arguments: str | None = None


class Message(BaseModel):
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)  # assistant turns only
    tool_call_id: str | None = None  # tool turns only
    name: str | None = None  # tool turns: the tool's name
    is_error: bool = False  # tool turns: the call failed (the text says why)
    # Provider-specific data that must travel back on the next request (Kimi's reasoning_content,
    # Anthropic thinking blocks); opaque to the agent loop.
    reasoning: str | None = None
    provider_data: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0  # prompt tokens served from the provider's cache
    requests: int = 0

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_input_tokens += other.cached_input_tokens
        self.requests += other.requests


FinishReason = Literal["stop", "tool_calls", "length", "content_filter", "error"]


class LLMResponse(BaseModel):
    message: Message  # role "assistant"
    finish_reason: FinishReason = "stop"
    usage: Usage = Field(default_factory=Usage)
    model: str = ""


# Called with each text delta while a response streams (and reasoning deltas with kind="reasoning").
StreamCallback = Callable[[str, Literal["text", "reasoning"]], Awaitable[None]]


class LLMError(Exception):
    """A provider failed in a way the caller should report (bad key, unreachable endpoint, refusal)."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@runtime_checkable
class LLMProvider(Protocol):
    """What the agent loop needs of a model."""

    name: str  # "openai", "kimi", "anthropic", "offline", ...
    model: str

    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_delta: StreamCallback | None = None,
    ) -> LLMResponse:
        """One model turn. With `on_delta` the provider streams and calls it with each delta."""
        ...

    async def aclose(self) -> None: ...
