"""An in-process provider for tests of code built on the host (middleware, local tools, engines, policies).

    provider = ScriptedProvider([
        Reply(tool_calls=[ToolCall(id="c1", name="filesystem.read_file", arguments={"path": "a.txt"})]),
        Reply(text="The port is 8443."),
    ])
    async with Agent(config, provider=provider) as agent:
        result = await agent.ask("Which port?")
    provider.requests[1]          # the messages and tools the loop sent at the second step

No network and no SDK: it answers each `complete` with the next `Reply` of its script (or `script(messages,
tools)` when the script is a callable), streams the text through `on_delta` in pieces, and records every
request. To run the real HTTP clients, use a scripted server on loopback instead (the host's tests do both).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from k2_host.llm.base import FinishReason, LLMError, LLMResponse, Message, StreamCallback, ToolCall, ToolSpec, Usage


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning: str | None = None
    usage: Usage = field(default_factory=lambda: Usage(input_tokens=10, output_tokens=5, requests=1))
    error: str | None = None  # raise LLMError with this message instead of answering


@dataclass
class Request:
    messages: list[Message]
    tools: list[ToolSpec]
    max_tokens: int | None = None


Script = Sequence[Reply] | Callable[[list[Message], list[ToolSpec]], Reply]


class ScriptedProvider:
    """An `LLMProvider` that plays a script in process."""

    def __init__(self, script: Script, *, name: str = "scripted", model: str = "scripted-model") -> None:
        self.name = name
        self.model = model
        self._script = script
        self.requests: list[Request] = []
        self.closed = False

    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_delta: StreamCallback | None = None,
    ) -> LLMResponse:
        sent = [m.model_copy(deep=True) for m in messages]
        self.requests.append(Request(sent, list(tools), max_tokens))
        if callable(self._script):
            reply = self._script(sent, list(tools))
        else:
            index = len(self.requests) - 1
            if index >= len(self._script):
                raise LLMError(f"the script has {len(self._script)} replies; request {index + 1} has none")
            reply = self._script[index]
        if reply.error is not None:
            raise LLMError(reply.error)
        if on_delta is not None:
            if reply.reasoning:
                await on_delta(reply.reasoning, "reasoning")
            for i in range(0, len(reply.text), 8):
                await on_delta(reply.text[i : i + 8], "text")
        finish: FinishReason = "tool_calls" if reply.tool_calls else "stop"
        message = Message(
            role="assistant", content=reply.text, tool_calls=list(reply.tool_calls), reasoning=reply.reasoning
        )
        return LLMResponse(message=message, finish_reason=finish, usage=reply.usage.model_copy(), model=self.model)

    async def aclose(self) -> None:
        self.closed = True
