"""The lean tool-call path (structured content serialized once) sends clients what the SDK's own path sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.lean import LeanResults, lean_result
from k2_filesystem.server import build_server
from mcp import Client
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import TextContent

pytestmark = pytest.mark.anyio

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


class Recorder:
    """Outermost middleware: keeps each tools/call result exactly as it leaves the server for the wire."""

    def __init__(self) -> None:
        self.results: list[Any] = []

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method == "tools/call":
            self.results.append(result)
        return result


def servers(root: Path) -> tuple[tuple[MCPServer[Any], Recorder], tuple[MCPServer[Any], Recorder]]:
    """The server as built (lean path), and the same server with the lean middleware taken out (SDK path)."""
    lean, plain = build_server(FilesystemSettings(roots=[root])), build_server(FilesystemSettings(roots=[root]))
    plain.middleware[:] = [m for m in plain.middleware if not isinstance(m, LeanResults)]
    assert any(isinstance(m, LeanResults) for m in lean.middleware)
    out = []
    for server in (lean, plain):
        recorder = Recorder()
        server.middleware.insert(0, recorder)
        out.append((server, recorder))
    return out[0], out[1]


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("read_file", {"path": "notes.txt"}),
    ("read_file", {"path": "notes.txt", "offset": 1, "limit": 1}),  # truncated, with next_offset
    ("read_file", {"path": "pixel.png"}),  # binary: image content
    ("read_file", {"path": "missing.txt"}),  # a refusal with its code in _meta
    ("read_file", {"path": "notes.txt", "limit": 0}),  # arguments outside the input schema
    ("read_file", {"path": "../outside.txt"}),  # outside the root
    ("list_directory", {"path": "."}),
    ("list_directory", {"path": ".", "details": False}),
    ("list_directory", {"path": "many", "details": False, "offset": 2, "limit": 3}),
    ("list_directory", {"path": "many", "sort": "size", "descending": True, "include_hidden": False}),
    ("list_directory", {"path": "notes.txt"}),  # not a directory
    ("no_such_tool", {}),
]


def make_tree(root: Path) -> None:
    """The files CALLS expect."""
    (root / "notes.txt").write_text("first\nsecond\nthird\n")
    (root / "pixel.png").write_bytes(PNG)
    (root / "sub").mkdir()
    (root / "many").mkdir()
    for i in range(8):
        (root / "many" / f"{'.' if i == 0 else ''}f{i}.txt").write_text("x" * i)
    (root / "many" / "link").symlink_to("f1.txt")


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_lean_results_reach_the_wire_exactly_as_the_sdk_path_sends_them(tmp_path: Path, mode: str) -> None:
    make_tree(tmp_path)
    (lean, lean_seen), (plain, plain_seen) = servers(tmp_path)
    async with Client(lean, mode=mode) as a, Client(plain, mode=mode) as b:  # type: ignore[arg-type]
        for tool, args in CALLS:
            got, expected = await a.call_tool(tool, args), await b.call_tool(tool, args)
            assert got == expected, tool
    assert len(lean_seen.results) == len(plain_seen.results) == len(CALLS)
    for (tool, args), wire, sdk in zip(CALLS, lean_seen.results, plain_seen.results, strict=True):
        assert wire == sdk, (tool, args)
    listed = lean_seen.results[CALLS.index(("list_directory", {"path": ".", "details": False}))]
    assert [e["name"] for e in listed["structuredContent"]["entries"]] == ["many", "notes.txt", "pixel.png", "sub"]
    assert listed["content"][0]["text"].splitlines() == [
        "[DIR] many",
        "[FILE] notes.txt",
        "[FILE] pixel.png",
        "[DIR] sub",
    ]


async def test_lean_result_outside_a_tool_call_is_a_plain_result() -> None:
    result = lean_result([TextContent(type="text", text="t")], {"a": [1, {"b": None}]})
    assert result.structured_content == {"a": [1, {"b": None}]}


class _Ctx:
    method = "tools/call"


async def test_a_result_without_structured_content_stays_without_it() -> None:
    """A protocol version whose results have no structuredContent (the SDK's sieve drops it) gets none."""

    async def call_next(ctx: Any) -> HandlerResult:
        lean_result([TextContent(type="text", text="t")], {"big": list(range(3))})
        return {"content": [{"type": "text", "text": "t"}], "isError": False}

    assert await LeanResults()(_Ctx(), call_next) == {"content": [{"type": "text", "text": "t"}], "isError": False}  # type: ignore[arg-type]

    async def sieved_in(ctx: Any) -> HandlerResult:
        lean_result([TextContent(type="text", text="t")], {"big": list(range(3))})
        return {"content": [], "structuredContent": {}, "isError": False}

    assert await LeanResults()(_Ctx(), sieved_in) == {
        "content": [],
        "structuredContent": {"big": [0, 1, 2]},
        "isError": False,
    }  # type: ignore[arg-type]
