"""One smoke test per transport: the installed console script as a real subprocess, driven by the SDK client."""

from __future__ import annotations

import sys

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client

from tests.servers.codeexec.conftest import World, kind, need_sandbox, ok
from tests.support import http_server, script

pytestmark = pytest.mark.anyio
TOOLS = {
    "execute_python", "execute_shell", "create_session", "close_session", "list_sessions",
    "write_workspace_file", "read_workspace_file", "list_workspace",
}  # fmt: skip


async def _exercise(client: Client) -> None:
    assert {t.name for t in (await client.list_tools()).tools} == TOOLS
    r = ok(await client.call_tool("execute_python", {"code": "import os\nprint('hi')\nos.getuid()"}))
    assert (r["stdout"], r["value"], r["isolation"]) == ("hi\n", "65534", "bubblewrap")
    sid = ok(await client.call_tool("create_session", {}))["session_id"]
    ok(await client.call_tool("execute_python", {"code": "x = 5", "session_id": sid}))
    assert ok(await client.call_tool("execute_python", {"code": "x * 2", "session_id": sid}))["value"] == "10"
    refused = await client.call_tool("read_workspace_file", {"session_id": sid, "path": "../x"})
    assert refused.is_error and kind(refused) == "invalid_path"


def _args(world: World) -> list[str]:
    return ["--workspace", str(world.workspaces), "--warm-pool", "1"]


@pytest.mark.parametrize(
    "command",
    [[script("k2-codeexec")], [sys.executable, "-m", "k2_codeexec"]],
    ids=["console-script", "python-m"],
)
async def test_stdio_subprocess_serves_tools(world: World, command: list[str]) -> None:
    need_sandbox()
    params = StdioServerParameters(command=command[0], args=[*command[1:], *_args(world), "--log-level", "WARNING"])
    async with Client(params) as client:
        assert client.server_info is not None and client.server_info.name == "codeexec"
        await _exercise(client)


async def test_streamable_http_subprocess_serves_both_eras(world: World) -> None:
    need_sandbox()
    with http_server([script("k2-codeexec"), *_args(world)]) as srv:
        async with Client(srv.url) as modern:
            await _exercise(modern)
        async with Client(srv.url, mode="legacy") as legacy:
            assert ok(await legacy.call_tool("execute_shell", {"command": "echo legacy"}))["stdout"] == "legacy\n"


async def test_sse_subprocess_serves_tools(world: World) -> None:
    need_sandbox()
    with http_server([script("k2-codeexec"), *_args(world)], transport="sse") as srv:
        async with Client(sse_client(srv.url), mode="legacy") as client:
            await _exercise(client)
