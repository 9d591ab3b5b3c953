"""A server served in-process over real pipes (`k2_shared.stdio.serve_pipes`), spoken to in raw JSON-RPC lines,
with or without the lean tools/call path, recording which requests the lean path took."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import pytest
from k2_shared import leancall
from k2_shared.stdio import serve_pipes
from mcp.server import MCPServer

Message = dict[str, Any]
Answerer = Callable[[Message], Message | None]

PROTOCOL = "2025-06-18"


def initialize(request_id: int | str = 0, *, roots: bool = False, version: str = PROTOCOL) -> Message:
    capabilities: dict[str, Any] = {"roots": {"listChanged": True}} if roots else {}
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": capabilities,
            "clientInfo": {"name": "t", "version": "0"},
        },
    }


INITIALIZED: Message = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def tool_call(request_id: int | str, name: Any, arguments: Any = None, **params: Any) -> Message:
    body: dict[str, Any] = {"name": name, **params}
    if arguments is not None:
        body["arguments"] = arguments
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": body}


class Wire:
    """The client end of the pipes. Every line the server writes is kept in `lines`, in order."""

    def __init__(self, to_server: int, from_server: int, answer: Answerer | None) -> None:
        self._to_server = to_server
        self._from_server = from_server
        self._answer = answer  # answers the server's own requests (roots/list)
        self._pending = b""
        self.lines: list[bytes] = []

    def send(self, *messages: Message) -> None:
        self.send_raw(b"".join(json.dumps(m).encode() + b"\n" for m in messages))

    def send_raw(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._to_server, view) :]

    async def read(self) -> Message:
        """The next line the server writes, parsed; a server-to-client request is answered on the way."""
        while True:
            while b"\n" not in self._pending:
                await anyio.wait_readable(self._from_server)
                chunk = os.read(self._from_server, 1 << 20)
                if not chunk:
                    raise EOFError("the server closed its end")
                self._pending += chunk
            line, self._pending = self._pending.split(b"\n", 1)
            self.lines.append(line)
            message = json.loads(line)
            if "method" in message and "id" in message and self._answer is not None:
                reply = self._answer(message)
                if reply is not None:
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": reply})
            return message

    async def until_answer(self, request_id: int | str) -> list[Message]:
        """Messages read up to and including the answer to `request_id`."""
        seen: list[Message] = []
        while True:
            message = await self.read()
            seen.append(message)
            if message.get("id") == request_id and "method" not in message:
                return seen

    async def handshake(self, **kwargs: Any) -> Message:
        """Initialize, then a ping: once it is answered nothing the client sent waits in the server's queue, so
        the next call may take the lean path (one sent while a message waits ahead of it never does)."""
        self.send(initialize(**kwargs))
        (answer,) = await self.until_answer(0)
        self.send(INITIALIZED, {"jsonrpc": "2.0", "id": "ping", "method": "ping"})
        await self.until_answer("ping")
        return answer


class Taken:
    """Ids of the requests the lean path answered."""

    def __init__(self) -> None:
        self.ids: list[int | str] = []


@pytest.fixture
def lean_taken(monkeypatch: pytest.MonkeyPatch) -> Taken:
    taken = Taken()
    original = leancall.LeanToolCalls.take

    def take(self: leancall.LeanToolCalls, line: bytes) -> bool:
        took = original(self, line)
        if took:
            taken.ids.append(json.loads(line)["id"])
        return took

    monkeypatch.setattr(leancall.LeanToolCalls, "take", take)
    return taken


@asynccontextmanager
async def served(server: MCPServer[Any], *, lean: bool, answer: Answerer | None = None) -> AsyncIterator[Wire]:
    """`server` served over a fresh pair of pipes until the block ends (stdin closed, then the server done)."""
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(partial(serve_pipes, server, in_r, out_w, lean=lean))
                try:
                    yield Wire(in_w, out_r, answer)
                finally:
                    os.close(in_w)
                    in_w = -1
    finally:
        for fd in (in_r, in_w, out_r, out_w):
            if fd >= 0:
                os.close(fd)
