"""A scripted LLM on 127.0.0.1 that speaks the OpenAI chat completions and Anthropic Messages wire formats.

It is a real HTTP server (starlette under uvicorn, on a port the OS picks), so the official SDK clients run
their whole code path against it: request building, SSE parsing, error classes, retries.

    async with scripted_llm([Turn(tool_calls=[tool_call("filesystem.read_file", {"path": "a"})])]) as llm:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url)
        response = await provider.complete([Message(role="user", content="read a")], tools)
    assert llm.requests[0]["messages"][-1]["content"] == "read a"

`script` is a list of `Turn`s, one per request, or a callable `(request_body) -> Turn` called for every
request. Both endpoints are served whichever flavor is chosen; the flavor picks `base_url` (the OpenAI SDK
wants the `/v1` prefix in it, the Anthropic SDK adds it itself). A request past the end of the script gets a
500 that names the request (with `x-should-retry: false`, so the SDKs do not retry it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from k2_host.llm.names import wire_name
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ToolCallSpec = tuple[str, "dict[str, Any] | str"]


@dataclass
class Turn:
    """One scripted model reply.

    `tool_calls` holds `(name, arguments)` with the name as the model sends it (mapped form, see `tool_call`)
    and the arguments as an object or as raw text (which may be invalid JSON). `usage` takes
    `prompt_tokens`, `completion_tokens`, `cached_tokens` and is rendered in each API's own shape;
    `raw_usage` replaces the rendered usage object verbatim (e.g. Moonshot's top-level `cached_tokens`).
    A `status` other than 200 answers with `error_body` (or a body in the API's error shape).
    """

    text: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    reasoning: str | None = None
    usage: dict[str, int] | None = None
    status: int = 200
    error_body: dict[str, Any] | None = None
    finish_reason: str | None = None
    raw_usage: dict[str, Any] | None = None
    reasoning_field: str = "reasoning_content"  # OpenAI flavor: the extra field that carries reasoning
    signature: str = "sig-scripted"  # Anthropic flavor: the thinking block's signature
    chunk_chars: int = 4  # streaming: text, reasoning and arguments are cut into pieces this long
    headers: dict[str, str] = field(default_factory=dict)
    fail_after: int | None = None  # streaming: after this many events, an error event in the API's shape
    drop_after: int | None = None  # streaming: after this many events, the connection is cut


def tool_call(name: str, arguments: dict[str, Any] | str) -> ToolCallSpec:
    """A tool call written with the K2 name (`filesystem.read_file`), sent in the provider's mapped form."""
    return (wire_name(name), arguments)


Script = Sequence[Turn] | Callable[[dict[str, Any]], Turn]


def forever(*turns: Turn) -> Callable[[dict[str, Any]], Turn]:
    """A script that repeats `turns` without end: a zero-latency model for benchmarks."""
    loop = itertools.cycle(turns)
    return lambda body: next(loop)


@dataclass
class ScriptedLLM:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@asynccontextmanager
async def scripted_llm(
    script: Script, *, flavor: Literal["openai", "anthropic"] = "openai"
) -> AsyncIterator[ScriptedLLM]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # (asyncio sets TCP_NODELAY)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted connections
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # listening before startup(): a client may connect at once, no waiting needed
    port = sock.getsockname()[1]
    root = f"http://127.0.0.1:{port}"
    state = ScriptedLLM(base_url=f"{root}/v1" if flavor == "openai" else root)
    async with serving(_app(script, state), sock):
        yield state


@asynccontextmanager
async def serving(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    """Serve the ASGI `app` on the listening `sock` (lifespan off: the caller sets up what the app needs)."""
    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off", ws="none", access_log=False)
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)  # what serve() would set up ("off": no lifespan events)
    # startup() without serve(): serve()'s supervision loop polls every 0.1 s and its shutdown sleeps, which
    # would add a fifth of a second to every test. Closing here is immediate and still waits for every request.
    try:
        await server.startup(sockets=[sock])
        yield
    finally:
        for listener in server.servers:
            listener.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        while server.server_state.tasks:
            await asyncio.wait(list(server.server_state.tasks))
        for listener in server.servers:
            await listener.wait_closed()
        sock.close()


def _app(script: Script, state: ScriptedLLM) -> Starlette:
    def next_turn(body: dict[str, Any]) -> Turn | None:
        if callable(script):
            return script(body)
        index = len(state.requests) - 1
        return script[index] if index < len(script) else None

    async def handle(request: Request, flavor: Literal["openai", "anthropic"]) -> Response:
        body = await request.json()
        state.requests.append(body)
        state.headers.append(dict(request.headers))
        number = len(state.requests)
        try:
            turn = next_turn(body)
        except Exception as exc:  # the test's own script failed: say so instead of a bare 500
            return _fatal(flavor, f"scripted_llm: the script raised {exc!r} on request {number}")
        if turn is None:
            return _fatal(
                flavor, f"scripted_llm: script exhausted; request {number} has no Turn (script has {number - 1})"
            )
        if turn.status != 200:
            error = turn.error_body or _error_body(flavor, turn.status, f"scripted error {turn.status}")
            return JSONResponse(error, status_code=turn.status, headers=turn.headers)
        model = str(body.get("model", "scripted"))
        render = _OpenAI(turn, model, number) if flavor == "openai" else _Anthropic(turn, model, number, body)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = _interrupted(render.events(include_usage), turn, flavor)
            return StreamingResponse(events, media_type="text/event-stream", headers=turn.headers)
        return JSONResponse(render.message(), headers=turn.headers)

    async def openai_chat(request: Request) -> Response:
        return await handle(request, "openai")

    async def anthropic_messages(request: Request) -> Response:
        return await handle(request, "anthropic")

    return Starlette(
        routes=[
            Route("/v1/chat/completions", openai_chat, methods=["POST"]),
            Route("/v1/messages", anthropic_messages, methods=["POST"]),
        ]
    )


def _fatal(flavor: str, message: str) -> Response:
    return JSONResponse(_error_body(flavor, 500, message), status_code=500, headers={"x-should-retry": "false"})


def _error_body(flavor: str, status: int, message: str) -> dict[str, Any]:
    kind = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error", 429: "rate_limit_error"}
    error_type = kind.get(status, "api_error")
    if flavor == "openai":
        return {"error": {"message": message, "type": error_type, "code": None, "param": None}}
    return {"type": "error", "error": {"type": error_type, "message": message}}


class DroppedConnection(Exception):
    """Raised inside a streaming reply to make the server cut the connection (`Turn.drop_after`)."""


async def _interrupted(events: AsyncIterator[str], turn: Turn, flavor: str) -> AsyncIterator[str]:
    count = 0
    async for event in events:
        if count == turn.fail_after:
            if flavor == "openai":  # what vLLM and OpenAI send when generation fails mid-stream
                yield _sse({"error": {"message": "scripted mid-stream failure", "type": "server_error"}})
            else:
                error = {"type": "error", "error": {"type": "overloaded_error", "message": "scripted overload"}}
                yield _sse(error, "error")
            return
        if count == turn.drop_after:
            raise DroppedConnection(f"scripted_llm: connection cut after {count} events")
        yield event
        count += 1


def _pieces(text: str, size: int) -> Iterator[str]:
    size = max(size, 1)
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _arguments_text(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _sse(data: dict[str, Any], event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


class _OpenAI:
    def __init__(self, turn: Turn, model: str, number: int) -> None:
        self.turn, self.model, self.number = turn, model, number
        self.id = f"chatcmpl-scripted-{number}"

    def call_id(self, index: int) -> str:
        return f"call_{self.number}_{index}"

    def finish_reason(self) -> str:
        return self.turn.finish_reason or ("tool_calls" if self.turn.tool_calls else "stop")

    def usage(self) -> dict[str, Any]:
        if self.turn.raw_usage is not None:
            return self.turn.raw_usage
        spec = self.turn.usage or {}
        prompt = spec.get("prompt_tokens", 10)
        completion = spec.get("completion_tokens", max(1, len(self.turn.text) // 4))
        usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion}
        usage["total_tokens"] = prompt + completion
        if "cached_tokens" in spec:
            usage["prompt_tokens_details"] = {"cached_tokens": spec["cached_tokens"]}
        return usage

    def message(self) -> dict[str, Any]:
        turn = self.turn
        message: dict[str, Any] = {"role": "assistant", "content": turn.text or None, "refusal": None}
        if turn.reasoning is not None:
            message[turn.reasoning_field] = turn.reasoning
        if turn.tool_calls:
            message["tool_calls"] = [
                {"id": self.call_id(i), "type": "function", "function": {"name": n, "arguments": _arguments_text(a)}}
                for i, (n, a) in enumerate(turn.tool_calls)
            ]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason(), "logprobs": None}],
            "usage": self.usage(),
        }

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return _sse(self._envelope([choice]))

    def _envelope(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": self.model,
            "choices": choices,
        }

    async def events(self, include_usage: bool) -> AsyncIterator[str]:
        turn, size = self.turn, self.turn.chunk_chars
        yield self.chunk({"role": "assistant", "content": ""})
        for piece in _pieces(turn.reasoning or "", size):
            yield self.chunk({turn.reasoning_field: piece})
        for piece in _pieces(turn.text, size):
            yield self.chunk({"content": piece})
        for index, (name, arguments) in enumerate(turn.tool_calls):
            head = {"index": index, "id": self.call_id(index), "type": "function"}
            yield self.chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]})
            for piece in _pieces(_arguments_text(arguments), size):
                yield self.chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield self.chunk({}, self.finish_reason())
        if include_usage:
            yield _sse({**self._envelope([]), "usage": self.usage()})
        yield "data: [DONE]\n\n"


class _Anthropic:
    def __init__(self, turn: Turn, model: str, number: int, body: dict[str, Any]) -> None:
        self.turn, self.model, self.number, self.body = turn, model, number, body

    def stop_reason(self) -> str:
        return self.turn.finish_reason or ("tool_use" if self.turn.tool_calls else "end_turn")

    def usage(self) -> dict[str, Any]:
        if self.turn.raw_usage is not None:
            return self.turn.raw_usage
        spec = self.turn.usage or {}
        prompt = spec.get("prompt_tokens", 10)
        cached = spec.get("cached_tokens", 0)
        return {
            "input_tokens": prompt - cached,  # Anthropic counts cache reads apart from input_tokens
            "output_tokens": spec.get("completion_tokens", max(1, len(self.turn.text) // 4)),
            "cache_read_input_tokens": cached,
            "cache_creation_input_tokens": 0,
        }

    def blocks(self) -> list[dict[str, Any]]:
        turn = self.turn
        blocks: list[dict[str, Any]] = []
        if turn.reasoning is not None:
            blocks.append({"type": "thinking", "thinking": turn.reasoning, "signature": turn.signature})
        if turn.text:
            blocks.append({"type": "text", "text": turn.text})
        for index, (name, arguments) in enumerate(turn.tool_calls):
            call_id = f"toolu_{self.number}_{index}"
            # Raw text stands in for a compatible server that sends a malformed input.
            blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
        return blocks

    def message(self, content: list[dict[str, Any]] | None = None, stop_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": f"msg_scripted_{self.number}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.blocks() if content is None else content,
            "stop_reason": self.stop_reason() if content is None else stop_reason,
            "stop_sequence": None,
            "usage": self.usage(),
        }

    async def events(self, include_usage: bool) -> AsyncIterator[str]:
        size = self.turn.chunk_chars
        usage = self.usage()
        start = self.message(content=[], stop_reason=None)
        start["usage"] = {**usage, "output_tokens": 1}
        yield _sse({"type": "message_start", "message": start}, "message_start")
        yield _sse({"type": "ping"}, "ping")
        for index, block in enumerate(self.blocks()):
            kind = block["type"]
            if kind == "thinking":
                opening: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
                deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"], size)]
                deltas.append({"type": "signature_delta", "signature": block["signature"]})
            elif kind == "text":
                opening = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"], size)]
            else:
                opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                text = _arguments_text(block["input"])
                deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(text, size)]
            yield _sse({"type": "content_block_start", "index": index, "content_block": opening}, "content_block_start")
            for delta in deltas:
                yield _sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
            yield _sse({"type": "content_block_stop", "index": index}, "content_block_stop")
        final = {"type": "message_delta", "delta": {"stop_reason": self.stop_reason(), "stop_sequence": None}}
        final["usage"] = {"output_tokens": usage.get("output_tokens", 1)}
        yield _sse(final, "message_delta")
        yield _sse({"type": "message_stop"}, "message_stop")


class PrefixCache:
    """What a provider's automatic prompt cache would serve, for a script to put in its usage.

    A prompt is what the server was sent, in order: the tools, then each message (the JSON of each, as sent),
    tokenized with o200k_base. The cached part is the longest token prefix it shares with an earlier prompt,
    in blocks of `block` tokens and only from `minimum` tokens up (OpenAI: 128 and 1024).

        cache = PrefixCache()
        script = lambda body: Turn(text="ok", usage=cache.usage(body))
    """

    def __init__(self, *, block: int = 128, minimum: int = 1024) -> None:
        from k2_host.context.tokens import counter_for

        counter = counter_for("openai", "gpt-4o")
        self._encode = counter.encode  # type: ignore[attr-defined]
        self.block = block
        self.minimum = minimum
        self.seen: list[list[int]] = []
        self.calls: list[tuple[int, int, int]] = []  # per request: prompt tokens, shared prefix, cached
        self.prompt_tokens = 0
        self.cached_tokens = 0

    def tokens(self, body: dict[str, Any]) -> list[int]:
        parts = [json.dumps(body.get("tools", []), sort_keys=True)]
        parts += [json.dumps(m, sort_keys=True) for m in body.get("system", [])] if "system" in body else []
        parts += [json.dumps(m, sort_keys=True) for m in body.get("messages", [])]
        out: list[int] = []
        for p in parts:
            out += self._encode(p)
        return out

    def usage(self, body: dict[str, Any], completion_tokens: int = 8) -> dict[str, int]:
        toks = self.tokens(body)
        best = 0
        for earlier in self.seen:
            n = 0
            for a, b in zip(earlier, toks, strict=False):
                if a != b:
                    break
                n += 1
            best = max(best, n)
        cached = (best // self.block) * self.block if best >= self.minimum else 0
        self.seen.append(toks)
        self.calls.append((len(toks), best, cached))
        self.prompt_tokens += len(toks)
        self.cached_tokens += cached
        return {"prompt_tokens": len(toks), "completion_tokens": completion_tokens, "cached_tokens": cached}
