"""The lean tools/call path of the stdio transport (k2_shared.leancall) writes the same bytes as the SDK's own
path: the same server is served twice over real pipes, with and without it, and every line is compared."""

from __future__ import annotations

import warnings
from typing import Any

import anyio
import pytest
from mcp import MCPError
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPDeprecationWarning
from pydantic import BaseModel, Field

from tests.shared.lean_wire import Message, Taken, initialize, lean_taken, served, tool_call

pytestmark = pytest.mark.anyio
__all__ = ["lean_taken"]  # the fixture, imported for pytest


class Sum(BaseModel):
    total: int = Field(description="a + b")
    terms: list[int]


class State:
    def __init__(self) -> None:
        self.started = anyio.Event()
        self.cancelled = anyio.Event()


def build(state: State) -> MCPServer[Any]:
    mcp = MCPServer("lean-test")

    @mcp.tool()
    async def echo(text: str) -> str:
        """Return the text."""
        return text

    @mcp.tool()
    def add(a: int, b: int = 1) -> Sum:
        """Add two numbers (a sync tool: it runs on a worker thread)."""
        return Sum(total=a + b, terms=[a, b])

    @mcp.tool()
    async def refuse(why: str) -> str:
        """Raise a ToolError."""
        raise ToolError(f"refused: {why!r}")

    @mcp.tool()
    async def crash() -> str:
        """Raise an unexpected exception."""
        raise RuntimeError("secret detail")

    @mcp.tool()
    async def protocol() -> str:
        """Raise an MCPError: a JSON-RPC error."""
        raise MCPError(code=-32042, message="protocol refusal", data={"why": "test"})

    @mcp.tool()
    async def progress(ctx: Context) -> str:
        """Report progress twice."""
        await ctx.report_progress(1, 2, "half")
        await ctx.report_progress(2, 2)
        return "done"

    @mcp.tool()
    async def chatty(ctx: Context) -> str:
        """Send log notifications."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await ctx.info("an info line")
            await ctx.warning({"structured": True})
        return "logged"

    @mcp.tool()
    async def roots(ctx: Context) -> list[str]:
        """Ask the client for its roots (a server-to-client request)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            result = await ctx.session.list_roots()
        return [str(r.uri) for r in result.roots]

    @mcp.tool()
    async def wait() -> str:
        """Wait until cancelled."""
        state.started.set()
        try:
            await anyio.sleep_forever()
        finally:
            state.cancelled.set()
        return "never"

    return mcp


def answer_roots(message: Message) -> Message | None:
    if message["method"] == "roots/list":
        return {"roots": [{"uri": "file:///tmp/a", "name": "a"}]}
    return None


PLAIN: list[Message] = [
    tool_call(1, "echo", {"text": "hello"}),
    tool_call("s-2", "echo", {"text": "a string id"}),
    tool_call(3, "add", {"a": 2, "b": 3}),
    tool_call(4, "add", {"a": 2}),
    tool_call(5, "echo", {}),  # a required argument missing
    tool_call(6, "echo", {"text": 5}),  # the wrong type
    tool_call(7, "echo"),  # no arguments at all
    tool_call(8, "add", {"a": "two"}),
    tool_call(9, "refuse", {"why": "because"}),
    tool_call(10, "crash", {}),
    tool_call(11, "protocol", {}),
    tool_call(12, "no_such_tool", {"x": 1}),
    tool_call(13, "progress", {}, _meta={"progressToken": "p-13"}),
    tool_call(14, "progress", {}, _meta={"progressToken": 14}),
    tool_call(15, "progress", {}),  # no token: no progress notifications
    tool_call(16, "chatty", {}),
    tool_call(17, "roots", {}),
    tool_call(18, "echo", {"text": 'ünïcødé \u2028 and \\ "quotes"'}),
]
"""Requests the lean path takes."""

ODD: list[Message] = [
    tool_call(101, "echo", ["not", "an", "object"]),
    tool_call(102, "echo", {"text": "x"}, _meta={"progressToken": "t", "other": 1}),
    tool_call(103, "echo", {"text": "x"}, _meta={"progressToken": True}),
    tool_call(104, "echo", {"text": "x"}, task={"ttl": 1000}),
    tool_call(105, 5, {"text": "x"}),  # a name that is no string
    {"jsonrpc": "2.0", "id": 106, "method": "tools/call"},  # no params
    {"jsonrpc": "2.0", "id": 107, "method": "tools/call", "params": {"name": "echo"}, "extra": 1},
    tool_call(108, "echo", {"text": "x"}, _meta={"io.modelcontextprotocol/protocolVersion": "2026-07-28"}),
]
"""Requests the lean path leaves to the SDK (they must still get the SDK's answers)."""


async def exchange(lean: bool, requests: list[Message], *, before: list[Message] = ()) -> list[bytes]:  # type: ignore[assignment]
    """Every line the server writes for `before` (ahead of the handshake) and then `requests`, sent one at a
    time, each after the answer to the one before."""
    async with served(build(State()), lean=lean, answer=answer_roots) as wire:
        for request in before:
            wire.send(request)
            await wire.until_answer(request["id"])
        await wire.handshake(roots=True)
        for request in requests:
            wire.send(request)
            await wire.until_answer(request["id"])
        return wire.lines


async def test_plain_calls_get_the_same_lines_from_the_lean_path_as_from_the_sdk(lean_taken: Taken) -> None:
    sdk = await exchange(False, PLAIN)
    assert lean_taken.ids == []
    lean = await exchange(True, PLAIN)
    assert lean_taken.ids == [r["id"] for r in PLAIN]
    assert lean == sdk
    assert len(sdk) > len(PLAIN) + 1  # progress, log lines and the roots request came too


async def test_requests_the_lean_path_does_not_take_get_the_sdks_answers(lean_taken: Taken) -> None:
    sdk = await exchange(False, ODD)
    lean = await exchange(True, ODD)
    assert lean_taken.ids == []
    assert lean == sdk


async def test_a_call_before_initialize_is_refused_as_the_sdk_refuses_it(lean_taken: Taken) -> None:
    early = [tool_call("early", "echo", {"text": "too soon"})]
    sdk = await exchange(False, PLAIN[:1], before=early)
    lean = await exchange(True, PLAIN[:1], before=early)
    assert lean == sdk
    assert lean_taken.ids == [1]  # the call after the handshake took the lean path, the early one did not


@pytest.mark.parametrize("version", ["2025-03-26", "2025-11-25"])
async def test_other_handshake_versions_get_the_same_lines(lean_taken: Taken, version: str) -> None:
    lines: dict[bool, list[bytes]] = {}
    for lean in (False, True):
        async with served(build(State()), lean=lean, answer=answer_roots) as wire:
            await wire.handshake(version=version)
            for request in PLAIN[:12]:
                wire.send(request)
                await wire.until_answer(request["id"])
            lines[lean] = wire.lines
    assert lines[True] == lines[False]
    assert len(lean_taken.ids) == 12


async def cancel_one(lean: bool) -> tuple[list[Message], State]:
    state = State()
    async with served(build(state), lean=lean) as wire:
        await wire.handshake()
        wire.send(tool_call(1, "wait", {}))
        await state.started.wait()
        wire.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}})
        await state.cancelled.wait()
        wire.send(tool_call(2, "echo", {"text": "after"}))
        return await wire.until_answer(2), state


async def test_a_cancelled_call_is_cancelled_and_never_answered_on_both_paths(lean_taken: Taken) -> None:
    sdk, _ = await cancel_one(False)
    lean, state = await cancel_one(True)
    assert state.cancelled.is_set()
    assert lean == sdk
    assert [m.get("id") for m in lean] == [2]
    assert lean_taken.ids == [1, 2]


async def test_many_calls_in_one_write_are_all_answered_by_the_lean_path(lean_taken: Taken) -> None:
    ids = list(range(1, 201))
    async with served(build(State()), lean=True) as wire:
        await wire.handshake()
        wire.send(*(tool_call(i, "echo", {"text": f"n{i}"}) for i in ids))
        answers: dict[Any, Message] = {}
        while len(answers) < len(ids):
            message = await wire.read()
            answers[message["id"]] = message
    assert {i: a["result"]["structuredContent"] for i, a in answers.items()} == {i: {"result": f"n{i}"} for i in ids}
    assert sorted(lean_taken.ids) == ids  # type: ignore[type-var]


async def test_a_call_queued_behind_other_messages_waits_its_turn_on_the_sdk_path(lean_taken: Taken) -> None:
    async with served(build(State()), lean=True) as wire:
        wire.send(initialize(), tool_call(1, "echo", {"text": "queued behind initialize"}))
        (init, answer) = [m for m in [await wire.read(), await wire.read()] if "id" in m]
        assert init["id"] == 0 and answer["result"]["structuredContent"] == {"result": "queued behind initialize"}
    assert lean_taken.ids == []


async def test_two_connections_of_one_server_each_get_their_own_answers(lean_taken: Taken) -> None:
    server = build(State())
    async with served(server, lean=True) as first, served(server, lean=True) as second:
        await first.handshake()
        await second.handshake()
        for n in range(3):
            first.send(tool_call(n, "echo", {"text": f"first {n}"}))
            second.send(tool_call(n, "echo", {"text": f"second {n}"}))
            (a,) = await first.until_answer(n)
            (b,) = await second.until_answer(n)
            assert (a["result"]["structuredContent"], b["result"]["structuredContent"]) == (
                {"result": f"first {n}"},
                {"result": f"second {n}"},
            )
    assert lean_taken.ids == [0, 0, 1, 1, 2, 2]
