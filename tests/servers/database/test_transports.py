"""One smoke test per transport: the installed console script as a real subprocess, driven by the SDK client."""

from __future__ import annotations

import sys

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client

from tests.servers.database.conftest import World, kind
from tests.support import http_server, script

pytestmark = pytest.mark.anyio


async def _exercise(client: Client) -> None:
    names = {t.name for t in (await client.list_tools()).tools}
    assert {"query_database", "get_schema", "describe_table", "sample_rows", "explain_query"} <= names
    rows = await client.call_tool("query_database", {"sql": "SELECT name FROM customers WHERE id = ?", "params": [1]})
    assert rows.structured_content is not None
    assert rows.structured_content["rows"] == [["Ada"]]
    files = await client.call_tool("query_database", {"sql": "SELECT count(*) FROM files.customers"})
    assert files.structured_content is not None and files.structured_content["rows"] == [[2]]
    refused = await client.call_tool("query_database", {"sql": "DROP TABLE customers"})
    assert refused.is_error and kind(refused) == "refused"


def _args(world: World) -> list[str]:
    return ["--db", str(world.db), "--data-dir", str(world.data), "--log-level", "WARNING"]


@pytest.mark.parametrize(
    "command",
    [[script("k2-database")], [sys.executable, "-m", "k2_database"]],
    ids=["console-script", "python-m"],
)
async def test_stdio_subprocess_serves_tools(world: World, command: list[str]) -> None:
    params = StdioServerParameters(command=command[0], args=[*command[1:], *_args(world)])
    async with Client(params) as client:
        assert client.server_info.name == "database"
        await _exercise(client)


async def test_streamable_http_subprocess_serves_both_eras(world: World) -> None:
    with http_server([script("k2-database"), "--db", str(world.db), "--data-dir", str(world.data)]) as srv:
        async with Client(srv.url) as modern:
            assert modern.protocol_version == "2026-07-28"
            await _exercise(modern)
        async with Client(srv.url, mode="legacy") as legacy:
            assert legacy.protocol_version == "2025-11-25"
            schema = await legacy.call_tool("get_schema", {"include_columns": False})
            assert schema.structured_content is not None
            assert [d["name"] for d in schema.structured_content["databases"]] == ["shop", "files"]


async def test_sse_subprocess_serves_tools(world: World) -> None:
    with http_server(
        [script("k2-database"), "--db", str(world.db), "--data-dir", str(world.data)], transport="sse"
    ) as srv:
        async with Client(sse_client(srv.url), mode="legacy") as client:
            await _exercise(client)


async def test_sse_connections_share_one_in_memory_database(world: World) -> None:
    command = [script("k2-database"), "--db", ":memory:", "--allow-write"]
    with http_server(command, transport="sse") as srv:
        async with (
            Client(sse_client(srv.url), mode="legacy") as first,
            Client(sse_client(srv.url), mode="legacy") as second,
        ):
            made = await first.call_tool("execute_statement", {"sql": "CREATE TABLE shared AS SELECT 42 AS x"})
            assert not made.is_error
            seen = await second.call_tool("query_database", {"sql": "SELECT x FROM shared"})
            assert seen.structured_content is not None and seen.structured_content["rows"] == [[42]]
