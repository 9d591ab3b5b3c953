"""The server's hard memory bound: a query that builds one huge value is refused inside it, and the next runs.

DuckDB's `memory_limit` does not cover a value built in one piece: without the bound, `repeat('x', 10^9)` grew
a server with `--memory-limit 256MB` to about 4 GiB of resident memory (and the call succeeded)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from k2_database.config import DatabaseSettings, parse_args
from k2_database.engine import open_engine
from k2_database.errors import ResourceLimit
from k2_database.memory import BASE_BYTES, THREAD_BYTES, parse_size
from mcp import Client

from tests.servers.database.conftest import World, kind, ok
from tests.support import http_server, script

pytestmark = pytest.mark.anyio

GiB = 2**30
HUGE = "SELECT repeat('x', 1000000000) AS s"


def _proc(pid: int, name: str) -> str:
    return Path(f"/proc/{pid}/{name}").read_text()


def _peak_rss(pid: int) -> int:
    m = re.search(r"^VmHWM:\s+(\d+) kB$", _proc(pid, "status"), re.MULTILINE)
    assert m is not None
    return int(m.group(1)) * 1024


def _data_limit(pid: int) -> tuple[int, int]:
    m = re.search(r"^Max data size\s+(\d+)\s+(\d+)\s+bytes", _proc(pid, "limits"), re.MULTILINE)
    assert m is not None, "the server's data size is unlimited"
    return int(m.group(1)), int(m.group(2))


def test_sizes_are_read_as_duckdb_reads_them() -> None:
    assert parse_size("1GB") == 10**9
    assert parse_size("1.5 GiB") == 3 * 2**29
    assert parse_size("512mb") == 512 * 10**6
    with pytest.raises(ValueError, match="lots"):
        parse_size("lots")


def test_the_bound_is_sized_from_the_memory_limit_and_the_threads(world: World) -> None:
    bound = world.settings(memory_limit="1GB", threads=4).memory_bound
    assert bound == 15 * 10**8 + BASE_BYTES + 4 * THREAD_BYTES
    assert world.settings(memory_limit="1GB", threads=4, max_memory="3GiB").memory_bound == 3 * GiB


def test_a_bound_without_room_beside_the_memory_limit_stops_the_program(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parse_args(["--db", str(world.db), "--memory-limit", "1GB", "--max-memory", "1GB"])
    assert info.value.code == 2
    assert "K2_DB_MAX_MEMORY / --max-memory" in capsys.readouterr().err


async def test_a_memory_error_in_a_call_is_a_resource_limit_and_the_engine_goes_on(world: World) -> None:
    engine = open_engine(world.settings())
    try:

        def exhaust(_cur: object) -> None:
            raise MemoryError

        with pytest.raises(ResourceLimit):
            await engine.run(exhaust, sql="", timeout_s=5, label="test")
        rows = await engine.run(lambda cur: cur.execute("SELECT 42").fetchall(), sql="", timeout_s=5, label="test")
        assert rows == [(42,)]
    finally:
        engine.close()


async def test_a_huge_value_is_refused_inside_the_bound_and_the_same_session_queries_again(world: World) -> None:
    settings: DatabaseSettings = world.settings(memory_limit="256MB", threads=2)
    bound = settings.memory_bound
    command = [script("k2-database"), "--db", str(world.db), "--memory-limit", "256MB", "--threads", "2"]
    with http_server(command) as srv:
        pid = srv.process.pid
        assert _data_limit(pid) == (bound, bound)
        async with Client(srv.url) as client:
            huge = await client.call_tool("query_database", {"sql": HUGE})
            assert huge.is_error and kind(huge) == "resource_limit"
            assert _peak_rss(pid) < bound < 1 * GiB
            again = ok(await client.call_tool("query_database", {"sql": "SELECT name FROM customers WHERE id = 1"}))
            assert again["rows"] == [["Ada"]]
            twice = await client.call_tool("query_database", {"sql": HUGE})
            assert twice.is_error and kind(twice) == "resource_limit"
            count = ok(await client.call_tool("query_database", {"sql": "SELECT count(*) FROM range(1000000)"}))
            assert count["rows"] == [[1_000_000]]
        assert srv.process.poll() is None
        assert _peak_rss(pid) < bound
