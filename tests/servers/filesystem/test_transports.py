"""One smoke test per transport: the installed console script as a real subprocess, driven by the SDK client."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client

from tests.support import http_server, script

pytestmark = pytest.mark.anyio


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("line one\nline two\n")
    return tmp_path


async def _exercise(client: Client, root: Path) -> None:
    names = {t.name for t in (await client.list_tools()).tools}
    assert {"read_file", "write_file", "list_directory", "edit_file", "grep"} <= names
    written = await client.call_tool("write_file", {"path": "new.txt", "content": "fresh\n"})
    assert not written.is_error
    assert (root / "new.txt").read_text() == "fresh\n"
    read = await client.call_tool("read_file", {"path": "notes.txt", "offset": 1})
    assert read.structured_content is not None
    assert read.structured_content["content"] == "line two\n"
    refused = await client.call_tool("read_file", {"path": "/etc/passwd"})
    assert refused.is_error


@pytest.mark.parametrize(
    "command",
    [[script("k2-filesystem")], [sys.executable, "-m", "k2_filesystem"]],
    ids=["console-script", "python-m"],
)
async def test_stdio_subprocess_serves_tools(root: Path, command: list[str]) -> None:
    params = StdioServerParameters(command=command[0], args=[*command[1:], "--root", str(root)])
    async with Client(params) as client:
        assert client.server_info.name == "filesystem"
        await _exercise(client, root)


async def test_streamable_http_subprocess_serves_both_eras(root: Path) -> None:
    with http_server([script("k2-filesystem"), "--root", str(root)]) as srv:
        async with Client(srv.url) as modern:
            assert modern.protocol_version == "2026-07-28"
            await _exercise(modern, root)
        async with Client(srv.url, mode="legacy") as legacy:
            assert legacy.protocol_version == "2025-11-25"
            listing = await legacy.call_tool("list_directory", {})
            assert listing.structured_content is not None
            assert {e["name"] for e in listing.structured_content["entries"]} == {"notes.txt", "new.txt"}


async def test_sse_subprocess_serves_tools(root: Path) -> None:
    with http_server([script("k2-filesystem"), "--root", str(root)], transport="sse") as srv:
        async with Client(sse_client(srv.url), mode="legacy") as client:
            await _exercise(client, root)
