"""Context policies: which messages a model is sent at each step of a request.

The model engine asks its policy for the messages of every step (`await policy.messages(view)`), handing it a
`ContextView`: the system prompt, the tools offered, the session's earlier turns and this request's turns so far
(whole, never cut). The policy returns the message list; what it leaves out or cuts stays in the transcript
and in the trajectory.

`FullTranscript` (config `context.policy = "full"`, the default) sends everything: the system prompt, every
earlier turn including tool turns, then this request's; each tool result marked as data and cut past
`agent.max_tool_result_chars` (saying how much was cut). `WindowPolicy` (`context.policy = "window"`, the
default; `k2_host.context.window`) is the budgeted one: sliding window, relevance, memory, recall.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from k2_host.context.transcript import AssistantTurn, ToolTurn, Turn, UserTurn
from k2_host.llm.base import Message, ToolSpec
from k2_host.mcp.types import ToolResult

if TYPE_CHECKING:
    from k2_host.config.model import ContextConfig
    from k2_host.context.spill import SpillStore
    from k2_host.context.tokens import TokenCounter
    from k2_host.results import ContextReport


@dataclass(frozen=True, slots=True)
class ContextView:
    """What a policy sees at one step."""

    system: str
    tools: Sequence[ToolSpec]
    history: Sequence[Turn]  # earlier requests of the session
    turns: Sequence[Turn]  # this request: the user turn, then the model's and the tools' turns so far
    query: str
    step: int
    session_id: str = ""
    request_id: str = ""
    knowledge: Callable[[str, int], Awaitable[list[Any]]] | None = None  # the RAG index's search, when built
    embedder: Any = None  # the embedding model when loaded (relevance by similarity too)


class ContextPolicy(Protocol):
    name: str

    async def messages(self, view: ContextView) -> list[Message]: ...

    def report(self, request_id: str) -> ContextReport | None:
        """What the last assembly for a request put in the window (None: this policy does not say)."""
        ...


def delimit(result: ToolResult, limit: int) -> str:
    """A tool result as a model sees it: marked as data, cut (and saying so) past `limit` characters."""
    body = result.body()
    cut = ""
    if len(body) > limit:
        cut = f"\n[truncated: {len(body) - limit} of {len(body)} characters omitted]"
        body = body[:limit]
    if result.is_error:
        return f"ERROR ({result.error_code or 'tool_error'}): {body}{cut}"
    return f"<tool-result name={result.name!r}>\n{body}{cut}\n</tool-result>"


def turn_message(turn: Turn, tool_result_chars: int) -> Message:
    """One turn as the message a provider is sent."""
    if isinstance(turn, UserTurn):
        return Message(role="user", content=turn.text)
    if isinstance(turn, AssistantTurn):
        return turn.message()
    assert isinstance(turn, ToolTurn)
    return Message(
        role="tool",
        content=delimit(turn.result, tool_result_chars),
        tool_call_id=turn.call_id,
        name=turn.name,
        is_error=turn.result.is_error,
    )


class FullTranscript:
    """Everything, in order; tool results cut at `tool_result_chars`."""

    name = "full"

    def __init__(self, tool_result_chars: int) -> None:
        self.tool_result_chars = tool_result_chars

    def report(self, request_id: str) -> ContextReport | None:
        return None

    async def messages(self, view: ContextView) -> list[Message]:
        out = [Message(role="system", content=view.system)]
        out += [turn_message(t, self.tool_result_chars) for t in view.history]
        out += [turn_message(t, self.tool_result_chars) for t in view.turns]
        return out


def policy_for(
    config: ContextConfig,
    *,
    tool_result_chars: int,
    counter: TokenCounter,
    reserve_output: int,
    spill: SpillStore | None = None,
) -> ContextPolicy:
    """The policy the config names (`context.policy`)."""
    if config.policy == "full":
        return FullTranscript(tool_result_chars)
    from k2_host.context.window import WindowPolicy

    return WindowPolicy(config, counter, reserve_output=reserve_output, spill=spill)
