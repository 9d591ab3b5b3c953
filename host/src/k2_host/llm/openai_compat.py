"""`OpenAICompatProvider`: any OpenAI-compatible chat completions endpoint, through the official SDK.

One class serves OpenAI, Kimi K2.5 (Moonshot), vLLM, Ollama and llama.cpp's server; only `base_url`, the key
and a few switches differ. What it takes care of:

- tool names are mapped to the provider's alphabet and back (`names.py`);
- streaming: text and reasoning deltas go to `on_delta`; tool-call deltas are assembled by index; the final
  usage chunk is requested with `stream_options={"include_usage": True}`;
- reasoning: Kimi (and vLLM, DeepSeek) return the model's thinking as an extra `reasoning_content` (or
  `reasoning`) field. It is kept in `Message.reasoning` and sent back on that assistant turn, which Moonshot
  requires across tool turns when thinking is on;
- usage: prompt tokens served from cache are read from `usage.prompt_tokens_details.cached_tokens`, or
  Moonshot's top-level `usage.cached_tokens`;
- arguments that are not a JSON object are kept as `ToolCall.raw_arguments` with `arguments={}`;
- every SDK failure becomes an `LLMError` (`errors.py`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import httpx2
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.completion_usage import CompletionUsage

from .base import FinishReason, LLMError, LLMResponse, Message, StreamCallback, ToolCall, ToolSpec, Usage
from .errors import body_message, connection_error, status_error, status_of, stream_error, timeout_error
from .names import ToolNames, parse_arguments

OPENAI_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "no-key-needed"  # local servers (vLLM, Ollama, llama.cpp) accept any bearer token
_REASONING_FIELDS = ("reasoning_content", "reasoning")
# The request is built in wire form here, so it goes to the SDK's `post` rather than `chat.completions.create`:
# `create` walks every message and tool schema against its TypedDict params on each call (to rename aliased keys,
# which chat completions has none of) and that walk cost ~3 ms a request with 15 tools (bench/HOST.md).
_PATH = "/chat/completions"
_OPTIONS: openai.RequestOptions = {"security": {"bearer_auth": True}}  # what `create` sends: the key as a bearer token
_Stream = openai.AsyncStream[ChatCompletionChunk]
_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "content_filter": "content_filter",
}


class OpenAICompatProvider:
    """An `LLMProvider` over `/chat/completions` at `base_url`."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str = OPENAI_BASE_URL,
        api_key: str | None = None,
        name: str = "openai",
        key_env: str | None = "OPENAI_API_KEY",
        timeout_s: float = 60.0,
        max_retries: int = 2,
        temperature: float | None = None,
        max_tokens: int | None = None,
        send_temperature: bool = True,
        send_reasoning: bool = True,
        max_tokens_param: Literal["max_tokens", "max_completion_tokens"] | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        """`key_env` only names the variable in error messages; `send_temperature=False` for models with a
        fixed temperature (kimi-k2.5); `max_tokens_param` defaults to `max_completion_tokens` on OpenAI's own
        API and `max_tokens` elsewhere; `extra_body` is merged into every request (e.g. Kimi's `thinking`)."""
        self.name = name
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.key_env = key_env
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.send_temperature = send_temperature
        self.send_reasoning = send_reasoning
        self.max_tokens_param = max_tokens_param or (
            "max_completion_tokens" if self.base_url.startswith(OPENAI_BASE_URL) else "max_tokens"
        )
        self.extra_body = dict(extra_body or {})
        self._client = openai.AsyncOpenAI(
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
            "messages": [self._wire_message(m, names) for m in messages],
        }
        if tools:
            request["tools"] = [_wire_tool(t, names) for t in tools]
        limit = max_tokens if max_tokens is not None else self.max_tokens
        if limit is not None:
            request[self.max_tokens_param] = limit
        temperature = temperature if temperature is not None else self.temperature
        if temperature is not None and self.send_temperature:
            request["temperature"] = temperature
        request.update(self.extra_body)
        try:
            if on_delta is None:
                completion = await self._client.post(
                    _PATH, cast_to=ChatCompletion, body=request, options=_OPTIONS, stream=False
                )
                return self._from_completion(completion, names)
            return await self._stream(request, names, on_delta)
        except openai.APIStatusError as exc:
            detail = body_message(exc.body, exc.message)
            raise status_error(
                status_of(exc.status_code, exc.body),
                detail,
                provider=self.name,
                model=self.model,
                base_url=self.base_url,
                key_env=self.key_env,
            ) from exc
        except openai.APITimeoutError as exc:
            raise timeout_error(self.timeout_s, provider=self.name, base_url=self.base_url) from exc
        except openai.APIConnectionError as exc:
            raise connection_error(exc.__cause__, provider=self.name, base_url=self.base_url) from exc
        except httpx2.TransportError as exc:  # a connection cut while the SDK reads a stream is not wrapped
            raise connection_error(exc, provider=self.name, base_url=self.base_url) from exc
        except openai.APIError as exc:  # an error event inside a stream
            raise stream_error(body_message(exc.body, exc.message), provider=self.name, base_url=self.base_url) from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"{self.name} at {self.base_url}: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.close()

    # -- requests -------------------------------------------------------------------------------------------

    def _wire_message(self, message: Message, names: ToolNames) -> dict[str, Any]:
        if message.role == "tool":
            content = message.content
            if message.is_error and not content.lower().startswith("error"):
                content = f"Error: {content}"
            return {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": content}
        if message.role != "assistant":
            return {"role": message.role, "content": message.content}
        wire: dict[str, Any] = {"role": "assistant", "content": message.content or None}
        if message.tool_calls:
            wire["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": names.to_wire(call.name), "arguments": _arguments_text(call)},
                }
                for call in message.tool_calls
            ]
        if message.reasoning and self.send_reasoning:
            wire[message.provider_data.get("reasoning_field", "reasoning_content")] = message.reasoning
        return wire

    # -- responses ------------------------------------------------------------------------------------------

    def _from_completion(self, completion: ChatCompletion, names: ToolNames) -> LLMResponse:
        if not completion.choices:
            raise LLMError(f"{self.name} at {self.base_url} returned no choices", retryable=True)
        choice = completion.choices[0]
        wire = choice.message
        reasoning, field_name = _reasoning(wire.model_extra)
        calls = [
            _tool_call(call.id, names.from_wire(call.function.name), call.function.arguments)
            for call in wire.tool_calls or []
            if call.type == "function"
        ]
        message = _assistant(wire.content or "", calls, reasoning, field_name)
        return LLMResponse(
            message=message,
            finish_reason=_finish(choice.finish_reason, calls),
            usage=_usage(completion.usage),
            model=completion.model or self.model,
        )

    async def _stream(self, request: dict[str, Any], names: ToolNames, on_delta: StreamCallback) -> LLMResponse:
        body = {"stream": True, "stream_options": {"include_usage": True}, **request}  # extra_body still wins
        stream = await self._client.post(
            _PATH, cast_to=ChatCompletion, body=body, options=_OPTIONS, stream=True, stream_cls=_Stream
        )
        state = _StreamState(model=self.model)
        async with stream:
            async for chunk in stream:
                await state.feed(chunk, on_delta)
        calls = [
            _tool_call(p.id or f"call_{uuid.uuid4().hex[:12]}", names.from_wire(p.name), p.arguments)
            for _, p in sorted(state.calls.items())
        ]
        return LLMResponse(
            message=_assistant("".join(state.text), calls, "".join(state.reasoning) or None, state.reasoning_field),
            finish_reason=_finish(state.finish_reason, calls),
            usage=state.usage or Usage(requests=1),
            model=state.model,
        )


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class _StreamState:
    model: str
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    reasoning_field: str = "reasoning_content"
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None

    async def feed(self, chunk: ChatCompletionChunk, on_delta: StreamCallback) -> None:
        if chunk.model:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        if not chunk.choices:
            return
        choice = chunk.choices[0]
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        delta = choice.delta
        reasoning, field_name = _reasoning(delta.model_extra)
        if reasoning:
            self.reasoning.append(reasoning)
            self.reasoning_field = field_name
            await on_delta(reasoning, "reasoning")
        if delta.content:
            self.text.append(delta.content)
            await on_delta(delta.content, "text")
        for position, piece in enumerate(delta.tool_calls or []):
            # Some servers leave out `index` when they send whole calls; their order is the index then.
            index = piece.index if isinstance(piece.index, int) else position
            partial = self.calls.setdefault(index, _PartialCall())
            if piece.id:
                partial.id = piece.id
            function = piece.function
            if function is None:
                continue
            # The name comes once; a server that repeats it in later chunks must not double it.
            if function.name and function.name != partial.name:
                partial.name += function.name
            if function.arguments:
                partial.arguments += function.arguments


def _wire_tool(tool: ToolSpec, names: ToolNames) -> dict[str, Any]:
    function: dict[str, Any] = {"name": names.to_wire(tool.name), "parameters": tool.input_schema}
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def _arguments_text(call: ToolCall) -> str:
    return call.raw_arguments if call.raw_arguments is not None else json.dumps(call.arguments, ensure_ascii=False)


def _tool_call(call_id: str, name: str, arguments: str | None) -> ToolCall:
    parsed, raw = parse_arguments(arguments)
    return ToolCall(id=call_id, name=name, arguments=parsed, raw_arguments=raw)


def _assistant(text: str, calls: list[ToolCall], reasoning: str | None, reasoning_field: str) -> Message:
    provider_data = {"reasoning_field": reasoning_field} if reasoning and reasoning_field != "reasoning_content" else {}
    return Message(role="assistant", content=text, tool_calls=calls, reasoning=reasoning, provider_data=provider_data)


def _reasoning(extra: Mapping[str, Any] | None) -> tuple[str | None, str]:
    for name in _REASONING_FIELDS:
        value = (extra or {}).get(name)
        if isinstance(value, str) and value:
            return value, name
    return None, "reasoning_content"


def _finish(reason: str | None, calls: list[ToolCall]) -> FinishReason:
    if calls and reason in (None, "stop", "tool_calls", "function_call"):
        return "tool_calls"  # Ollama and some others say "stop" after tool calls
    return _FINISH.get(reason or "stop", "stop")


def _usage(usage: CompletionUsage | None) -> Usage:
    if usage is None:
        return Usage(requests=1)
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens if details is not None else None) or cast(
        "int | None", (usage.model_extra or {}).get("cached_tokens")
    )
    return Usage(
        input_tokens=usage.prompt_tokens or 0,
        output_tokens=usage.completion_tokens or 0,
        cached_input_tokens=int(cached or 0),
        requests=1,
    )
