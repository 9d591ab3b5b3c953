"""`AnthropicProvider`: the Anthropic Messages API (or a compatible endpoint), through the official SDK.

How the conversation maps onto Messages:

- system messages are joined into `system` (a text block marked as a prompt-cache breakpoint, as is the last
  tool, so the stable prefix the CAG layer builds is read from cache on the next call);
- assistant turns become `thinking` / `redacted_thinking` blocks (kept verbatim, with their signatures, in
  `Message.provider_data["thinking_blocks"]` and sent back unchanged), a text block and `tool_use` blocks;
- tool results become `tool_result` blocks (with `is_error`) in a user turn; consecutive tool results, and a
  user message that follows them, are merged into one user turn, since the API alternates roles;
- streaming goes through the SDK's `messages.stream` helper; text and thinking deltas reach `on_delta`;
- sampling: the Messages API version this SDK speaks (2026-10-21) has no `temperature`, so a temperature
  passed to `complete` is not sent;
- usage: Anthropic reports cache reads and cache writes apart from `input_tokens`; here `input_tokens` is the
  whole prompt (as OpenAI counts it) and `cached_input_tokens` is `cache_read_input_tokens`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import anthropic
import httpx2
from anthropic.types import Message as AnthropicMessage
from anthropic.types import Usage as AnthropicUsage

from .base import FinishReason, LLMError, LLMResponse, Message, StreamCallback, ToolCall, ToolSpec, Usage
from .errors import body_message, connection_error, status_error, status_of, timeout_error
from .names import ToolNames, parse_arguments

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
NO_KEY = "no-key-needed"
_STOP: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
_CACHE = {"type": "ephemeral"}


class AnthropicProvider:
    """An `LLMProvider` over `/v1/messages` at `base_url`."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str = ANTHROPIC_BASE_URL,
        api_key: str | None = None,
        name: str = "anthropic",
        key_env: str | None = "ANTHROPIC_API_KEY",
        timeout_s: float = 60.0,
        max_retries: int = 2,
        max_tokens: int = 4096,
        thinking: Mapping[str, Any] | None = None,
        prompt_caching: bool = True,
    ) -> None:
        """`thinking` is sent as is (e.g. `{"type": "enabled", "budget_tokens": 2048}`); `prompt_caching` marks
        the system prompt and the tools as cache breakpoints."""
        self.name = name
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.key_env = key_env
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.thinking = dict(thinking) if thinking else None
        self.prompt_caching = prompt_caching
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key or NO_KEY, base_url=self.base_url, timeout=timeout_s, max_retries=max_retries
        )

    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] = (),
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_delta: StreamCallback | None = None,
    ) -> LLMResponse:
        names = ToolNames(t.name for t in tools)
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens if max_tokens is not None else self.max_tokens,
            "messages": _wire_messages(messages, names),
        }
        system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
        if system:
            block: dict[str, Any] = {"type": "text", "text": system}
            if self.prompt_caching:
                block["cache_control"] = _CACHE
            request["system"] = [block]
        if tools:
            wire_tools = [_wire_tool(t, names) for t in tools]
            if self.prompt_caching:
                wire_tools[-1]["cache_control"] = _CACHE
            request["tools"] = wire_tools
        if self.thinking:
            request["thinking"] = self.thinking
        try:
            if on_delta is None:
                reply = await self._client.messages.create(**request)
            else:
                async with self._client.messages.stream(**request) as stream:
                    async for event in stream:
                        if event.type == "text":
                            await on_delta(event.text, "text")
                        elif event.type == "thinking":
                            await on_delta(event.thinking, "reasoning")
                    reply = await stream.get_final_message()
        except anthropic.APIStatusError as exc:
            detail = body_message(exc.body, exc.message)
            raise status_error(
                status_of(exc.status_code, exc.body),
                detail,
                provider=self.name,
                model=self.model,
                base_url=self.base_url,
                key_env=self.key_env,
            ) from exc
        except anthropic.APITimeoutError as exc:
            raise timeout_error(self.timeout_s, provider=self.name, base_url=self.base_url) from exc
        except anthropic.APIConnectionError as exc:
            raise connection_error(exc.__cause__, provider=self.name, base_url=self.base_url) from exc
        except httpx2.TransportError as exc:  # a connection cut while the SDK reads a stream is not wrapped
            raise connection_error(exc, provider=self.name, base_url=self.base_url) from exc
        except anthropic.AnthropicError as exc:
            raise LLMError(f"{self.name} at {self.base_url}: {exc}") from exc
        except ValueError as exc:  # the stream helper could not parse a tool's input JSON
            raise LLMError(f"{self.name} at {self.base_url} sent a malformed stream: {exc}", retryable=True) from exc
        return self._response(reply, names)

    async def aclose(self) -> None:
        await self._client.close()

    def _response(self, reply: AnthropicMessage, names: ToolNames) -> LLMResponse:
        text: list[str] = []
        thinking: list[dict[str, Any]] = []
        calls: list[ToolCall] = []
        for block in reply.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "thinking":
                thinking.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature})
            elif block.type == "redacted_thinking":
                thinking.append({"type": "redacted_thinking", "data": block.data})
            elif block.type == "tool_use":
                arguments, raw = parse_arguments(block.input)
                calls.append(
                    ToolCall(id=block.id, name=names.from_wire(block.name), arguments=arguments, raw_arguments=raw)
                )
        reasoning = "".join(b["thinking"] for b in thinking if b["type"] == "thinking") or None
        message = Message(
            role="assistant",
            content="".join(text),
            tool_calls=calls,
            reasoning=reasoning,
            provider_data={"thinking_blocks": thinking} if thinking else {},
        )
        finish = _STOP.get(reply.stop_reason or "end_turn", "stop")
        if calls and finish == "stop":
            finish = "tool_calls"
        return LLMResponse(message=message, finish_reason=finish, usage=_usage(reply.usage), model=reply.model)


def _wire_tool(tool: ToolSpec, names: ToolNames) -> dict[str, Any]:
    schema = dict(tool.input_schema)
    schema.setdefault("type", "object")
    wire: dict[str, Any] = {"name": names.to_wire(tool.name), "input_schema": schema}
    if tool.description:
        wire["description"] = tool.description
    return wire


def _wire_messages(messages: Sequence[Message], names: ToolNames) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    for message in messages:
        if message.role == "system":
            continue
        if message.role == "user":
            add("user", [{"type": "text", "text": message.content}] if message.content else [])
        elif message.role == "tool":
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id or ""}
            if message.content:
                result["content"] = message.content
            if message.is_error:
                result["is_error"] = True
            add("user", [result])
        else:
            blocks = [dict(b) for b in message.provider_data.get("thinking_blocks", [])]
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": names.to_wire(c.name), "input": c.arguments}
                for c in message.tool_calls
            )
            add("assistant", blocks)
    return turns


def _usage(usage: AnthropicUsage) -> Usage:
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    return Usage(
        input_tokens=(usage.input_tokens or 0) + cache_read + cache_write,
        output_tokens=usage.output_tokens or 0,
        cached_input_tokens=cache_read,
        requests=1,
    )
