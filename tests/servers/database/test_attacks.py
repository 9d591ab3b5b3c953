"""Attack suite for the database server: every case tries to change data, escape the data directories, loosen
the engine's settings or run away with time or memory.

The read-only cases share one server (module scope) over one world (see conftest: shop.duckdb, data/ with a
symbolic link leaving it, outside/ holding SECRET); the write-mode and configuration cases each get a fresh
copy of the world and their own server. Every case checks, besides the refusal (by kind) or the clean timeout:
- the data is unchanged: the same tables and views with the same rows, asked through the same server after;
- the file system is unchanged: every path, byte and link under the world, DuckDB's home directory
  (~/.duckdb: extensions, secrets) and the working directory's `.tmp`; for the shared server once more
  after it closed;
- SECRET never appears in anything the server sent back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_database.paging import PageRequest
from mcp import Client, MCPError
from mcp.types import CallToolResult

from tests.servers.database.conftest import SECRET, World, kind, make_world, ok, serve_with_server, text

pytestmark = pytest.mark.anyio

# Runaway queries stop here; the checks around each attack must finish well inside it, even on a busy CI machine.
TIMEOUT_S = 1.5


@dataclass(frozen=True)
class Attack:
    sql: str
    kinds: frozenset[str]
    tool: str = "query_database"
    params: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def A(sql: str, *kinds: str, tool: str = "query_database", params: Any = None) -> Attack:
    return Attack(sql, frozenset(kinds), tool, params)


REFUSED, DENIED, TIMEOUT, LIMIT = "refused", "access_denied", "timeout", "resource_limit"

READ_ONLY_ATTACKS: dict[str, Attack] = {
    # stacked statements: the whole call is refused before anything runs
    "stacked-drop": A("SELECT 1; DROP TABLE customers", REFUSED),
    "commit-then-drop": A("SELECT 1; COMMIT; DROP TABLE customers", REFUSED),
    "leading-commit": A("COMMIT; DROP TABLE customers", REFUSED),
    "semicolon-in-comment": A("SELECT 1 /* ; */ ; DELETE FROM customers", REFUSED),
    "semicolon-in-string": A("SELECT ';'; DELETE FROM customers", REFUSED),
    "line-comment-then-statement": A("SELECT 1 --\n; UPDATE customers SET name = 'x'", REFUSED),
    "rollback-then-insert": A("ROLLBACK; INSERT INTO customers VALUES (9, 'x', NULL, NULL)", REFUSED),
    # DML and DDL in read-only mode
    "drop-table": A("DROP TABLE customers", REFUSED),
    "delete": A("DELETE FROM customers", REFUSED),
    "update": A("UPDATE customers SET name = 'pwned'", REFUSED),
    "insert": A("INSERT INTO customers VALUES (9, 'x', NULL, NULL)", REFUSED),
    "truncate": A("TRUNCATE customers", REFUSED),
    "create-table-as": A("CREATE TABLE evil AS SELECT 1", REFUSED),
    "create-temp-table": A("CREATE TEMP TABLE evil AS SELECT 1", REFUSED),
    "alter-rename": A("ALTER TABLE customers RENAME TO gone", REFUSED),
    "create-macro": A("CREATE MACRO evil(a) AS a", REFUSED),
    "merge": A("MERGE INTO customers USING customers c2 ON customers.id = c2.id WHEN MATCHED THEN DELETE", REFUSED),
    "dynamic-pivot-creates-types": A("PIVOT customers ON city", REFUSED),
    "explain-analyze-delete": A("EXPLAIN ANALYZE DELETE FROM customers", REFUSED),
    "transaction-begin": A("BEGIN TRANSACTION", REFUSED),
    "prepare-delete": A("PREPARE p AS DELETE FROM customers", REFUSED),
    "execute-prepared": A("EXECUTE p", REFUSED),
    "checkpoint": A("CHECKPOINT", REFUSED),
    "vacuum-analyze": A("ANALYZE", REFUSED),
    "call-function": A("CALL enable_logging()", REFUSED),
    "use-other-catalog": A("USE files", REFUSED),
    # databases and files the engine must not reach
    "attach-outside-file": A("ATTACH '{outside}/x.duckdb' AS x", REFUSED),
    "attach-memory": A("ATTACH ':memory:' AS scratch", REFUSED),
    "detach-files": A("DETACH files", REFUSED),
    "copy-to-data-dir": A("COPY customers TO '{data}/out.csv'", REFUSED),
    "copy-to-outside": A("COPY (SELECT * FROM customers) TO '{outside}/out.parquet' (FORMAT parquet)", REFUSED),
    "copy-from-file": A("COPY customers FROM '{data}/customers.csv'", REFUSED),
    "export-database": A("EXPORT DATABASE '{data}/exported'", REFUSED),
    "import-database": A("IMPORT DATABASE '{data}'", REFUSED),
    "copy-from-database": A("COPY FROM DATABASE shop TO files", REFUSED),
    "read-csv-etc-passwd": A("SELECT * FROM read_csv('/etc/passwd')", DENIED),
    "read-text-outside": A("SELECT * FROM read_text('{outside}/secret.txt')", DENIED),
    "read-blob-traversal": A("SELECT * FROM read_blob('{data}/../outside/secret.txt')", DENIED),
    "symlink-out-of-data-dir": A("SELECT * FROM read_csv('{data}/link.csv')", DENIED),
    "glob-outside": A("SELECT * FROM glob('{outside}/*')", DENIED),
    "glob-root": A("SELECT * FROM glob('/*')", DENIED),
    "data-dir-prefix-sibling": A("SELECT * FROM read_csv('{data}-evil/x.csv')", DENIED),
    "replacement-scan-outside": A("SELECT * FROM '{outside}/secret.csv'", DENIED),
    "file-url-outside": A("SELECT * FROM read_text('file://{outside}/secret.txt')", DENIED),
    "list-mixing-inside-and-outside": A("SELECT * FROM read_csv(['{data}/customers.csv', '/etc/passwd'])", DENIED),
    "http-url": A("SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')", DENIED),
    "proc-environ": A("SELECT * FROM read_text('/proc/self/environ')", DENIED),
    "parameterised-path-outside": A("SELECT * FROM read_text(?)", DENIED, params=["{outside}/secret.txt"]),
    "describe-outside-file": A("DESCRIBE SELECT * FROM read_csv('{outside}/secret.csv')", DENIED),
    # extensions and settings
    "install-extension": A("INSTALL httpfs", REFUSED),
    "force-install-from-url": A("FORCE INSTALL httpfs FROM 'http://127.0.0.1:9'", REFUSED),
    "load-extension": A("LOAD httpfs", REFUSED),
    "load-extension-file": A("LOAD '{outside}/evil.duckdb_extension'", REFUSED),
    "update-extensions": A("UPDATE EXTENSIONS", REFUSED),
    "autoload-through-function": A("SELECT * FROM sql_auto_complete('SEL')", "query_error", "not_found"),
    "set-external-access": A("SET enable_external_access = true", REFUSED),
    "set-memory-limit": A("SET memory_limit = '100GB'", REFUSED),
    "reset-lock": A("RESET lock_configuration", REFUSED),
    "set-variable": A("SET VARIABLE x = 1", REFUSED),
    "pragma-profiling": A("PRAGMA enable_profiling", REFUSED),
    "pragma-in-select-form": A("SELECT * FROM enable_profiling()", DENIED),
    "logging-to-a-file": A("SELECT * FROM enable_logging(storage = 'file', storage_path = '{data}/log')", DENIED),
    "grammar-extension": A("SELECT * FROM add_grammar_extension('x')", DENIED),
    # SQL smuggled into function arguments
    "query-function-with-ddl": A("SELECT * FROM query('DROP TABLE customers')", "syntax_error"),
    "serialized-plan-with-ddl": A(
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('DROP TABLE customers'))",
        "query_error",
        "syntax_error",
    ),
    # runaway queries
    "huge-range": A("SELECT count(*) FROM range(1e13::BIGINT)", TIMEOUT),
    "cross-join": A("SELECT count(*) FROM range(1e7::BIGINT) a, range(1e7::BIGINT) b", TIMEOUT),
    "recursive-cte-forever": A(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r", TIMEOUT, LIMIT
    ),
    "string-over-4gib": A("SELECT repeat('x', 5000000000)", LIMIT),
    "string-aggregate-over-memory": A("SELECT string_agg(repeat('x', 1000000), '') FROM range(100000)", LIMIT, TIMEOUT),
    "sort-over-memory": A(
        "SELECT * FROM (SELECT range, repeat('y', 1000) AS pad FROM range(1e8::BIGINT)) ORDER BY pad DESC, range",
        LIMIT,
        TIMEOUT,
    ),
}

WRITE_MODE_ATTACKS: dict[str, Attack] = {
    "write-stacked-drop": A("INSERT INTO customers VALUES (9, 'x', NULL, NULL); DROP TABLE orders", REFUSED),
    "write-copy-to-file": A("COPY customers TO '{data}/out.csv'", REFUSED),
    "write-attach": A("ATTACH '{outside}/x.duckdb' AS x", REFUSED),
    "write-detach": A("DETACH files", REFUSED),
    "write-export": A("EXPORT DATABASE '{data}/exported'", REFUSED),
    "write-install": A("INSTALL httpfs", REFUSED),
    "write-set": A("SET enable_external_access = true", REFUSED),
    "write-transaction-control": A("COMMIT", REFUSED),
    "write-persistent-secret": A("CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')", "query_error", DENIED),
    "write-into-files-catalog": A("CREATE TABLE files.evil AS SELECT 1", DENIED),
    "write-steal-outside-file": A("CREATE TABLE stolen AS SELECT * FROM read_csv('{outside}/secret.csv')", DENIED),
    "write-view-over-outside-file": A("CREATE VIEW peek AS SELECT * FROM read_text('/etc/passwd')", DENIED),
    "write-runaway-insert": A("INSERT INTO orders SELECT range + 100, 1, 1, NULL FROM range(1e13::BIGINT)", TIMEOUT),
    "write-half-failing-insert": A(
        "INSERT INTO customers VALUES (9, 'new', NULL, NULL), (1, 'duplicate', NULL, NULL)", "query_error"
    ),
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module scope, so that the read-only cases can share one server."""
    return "asyncio"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("template"))


@dataclass
class Shared:
    world: World
    client: Client


@pytest.fixture(scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shared]:
    world = make_world(tmp_path_factory.mktemp("shared"))
    before = world.snapshot()
    async with serve_with_server(world.settings(timeout_s=TIMEOUT_S, memory_limit="256MB")) as (client, _server):
        yield Shared(world, client)
    assert world.snapshot() == before


@pytest.fixture
def fresh(template: World, tmp_path: Path) -> World:
    root = tmp_path / "world"
    shutil.copytree(template.root, root, symlinks=True)
    link = root / "data" / "link.csv"
    link.unlink()
    link.symlink_to(root / "outside" / "secret.csv")
    return World(root, root / "shop.duckdb", root / "data", root / "outside")


def _home_state() -> dict[str, str]:
    out: dict[str, str] = {}
    for base in (Path.home() / ".duckdb", Path.cwd() / ".tmp"):
        if not base.exists():
            out[str(base)] = "absent"
            continue
        for dirpath, _, files in os.walk(base):
            for name in files:
                p = Path(dirpath, name)
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        return value.format(data=world.data, outside=world.outside, db=world.db)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


STATE_SQL = """
SELECT (SELECT list(c ORDER BY id) FROM customers c), (SELECT list(o ORDER BY id) FROM orders o),
    (SELECT list(table_name ORDER BY table_name) FROM duckdb_tables() WHERE database_name = 'shop'),
    (SELECT list(view_name ORDER BY view_name) FROM duckdb_views() WHERE database_name = 'shop' AND NOT internal)
"""


async def _data_state(client: Client) -> list[Any]:
    """Every row of the shop and the names of its tables and views, in one call."""
    return ok(await client.call_tool("query_database", {"sql": STATE_SQL}))["rows"]


@pytest.fixture
def unchanged(fresh: World) -> Iterator[World]:
    """The world's files (minus the database file in write mode) and DuckDB's home are the same afterwards."""
    before, home = fresh.snapshot(), _home_state()
    yield fresh
    after = fresh.snapshot()
    if fresh.root.joinpath(".write-mode").exists():
        for snap in (before, after):
            for key in [k for k in snap if k.startswith("shop.duckdb") or k == ".write-mode"]:
                snap.pop(key)
    assert after == before
    assert _home_state() == home


def _args(attack: Attack, world: World) -> dict[str, Any]:
    args: dict[str, Any] = {"sql": _fill(attack.sql, world)}
    if attack.params is not None:
        args["params"] = _fill(attack.params, world)
    return args


async def _attack_on(client: Client, world: World, attack: Attack) -> None:
    baseline = await _data_state(client)
    with anyio.fail_after(20):
        result = await client.call_tool(attack.tool, _args(attack, world))
    _assert_refused(result, attack.kinds)
    assert await _data_state(client) == baseline


async def _attack(world: World, attack: Attack, **settings: Any) -> None:
    config = world.settings(timeout_s=TIMEOUT_S, memory_limit="256MB", **settings)
    async with serve_with_server(config) as (client, _server):
        await _attack_on(client, world, attack)


def _assert_refused(result: CallToolResult, kinds: frozenset[str]) -> None:
    assert result.is_error, text(result)[:500]
    assert kind(result) in kinds, text(result)[:500]
    assert SECRET not in text(result)


@pytest.mark.parametrize("name", list(READ_ONLY_ATTACKS))
async def test_read_only_server_refuses(name: str, shared: Shared) -> None:
    files, home = shared.world.snapshot(), _home_state()
    await _attack_on(shared.client, shared.world, READ_ONLY_ATTACKS[name])
    assert shared.world.snapshot() == files
    assert _home_state() == home


@pytest.mark.parametrize("name", [*list(READ_ONLY_ATTACKS)[:8], "install-extension", "copy-to-data-dir"])
async def test_read_only_in_memory_server_refuses(name: str, unchanged: World) -> None:
    config = unchanged.settings(path=[":memory:"], timeout_s=TIMEOUT_S)
    async with serve_with_server(config) as (client, _server):
        result = await client.call_tool("query_database", {"sql": _fill(READ_ONLY_ATTACKS[name].sql, unchanged)})
        assert result.is_error and kind(result) in READ_ONLY_ATTACKS[name].kinds | {"not_found"}
        schema = ok(await client.call_tool("get_schema", {"database": "memory"}))
        assert schema["databases"][0]["schemas"][0]["tables"] == []


@pytest.mark.parametrize("name", list(WRITE_MODE_ATTACKS))
async def test_write_mode_server_refuses(name: str, unchanged: World) -> None:
    unchanged.root.joinpath(".write-mode").touch()
    attack = WRITE_MODE_ATTACKS[name]
    await _attack(unchanged, Attack(attack.sql, attack.kinds, "execute_statement", attack.params), allow_write=True)


@pytest.mark.parametrize(
    ("tool", "args"),
    [
        ("describe_table", {"table": 'customers"; DROP TABLE customers; --'}),
        ("sample_rows", {"table": 'customers" LIMIT 1; DROP TABLE customers; --'}),
        ("sample_rows", {"table": "customers", "schema": 'main"; DROP TABLE customers; --'}),
        ("describe_table", {"table": "customers", "database": "shop'; ATTACH '/tmp/x"}),
    ],
    ids=["describe-table-name", "sample-table-name", "sample-schema-name", "describe-database-name"],
)
async def test_identifiers_from_arguments_never_become_sql(tool: str, args: dict[str, Any], unchanged: World) -> None:
    async with serve_with_server(unchanged.settings()) as (client, _server):
        baseline = await _data_state(client)
        result = await client.call_tool(tool, args)
        assert kind(result) == "not_found"
        assert await _data_state(client) == baseline


async def test_a_resource_uri_cannot_smuggle_sql(unchanged: World) -> None:
    async with serve_with_server(unchanged.settings()) as (client, _server):
        baseline = await _data_state(client)
        with pytest.raises(MCPError):
            await client.read_resource("duckdb://shop/main/customers%22%3B%20DROP%20TABLE%20customers%3B%20--")
        assert await _data_state(client) == baseline


async def test_a_parameter_value_cannot_become_sql(unchanged: World) -> None:
    async with serve_with_server(unchanged.settings()) as (client, _server):
        baseline = await _data_state(client)
        out = ok(
            await client.call_tool(
                "query_database",
                {"sql": "SELECT count(*) FROM customers WHERE name = ?", "params": ["'; DROP TABLE customers; --"]},
            )
        )
        assert out["rows"] == [[0]]
        assert await _data_state(client) == baseline


async def test_a_cursor_signed_by_another_key_is_refused(unchanged: World) -> None:
    from k2_database.paging import CursorCodec

    forged = CursorCodec(3600, key=b"k" * 32).encode(PageRequest("DROP TABLE customers", None, 0, 10))
    async with serve_with_server(unchanged.settings()) as (client, _server):
        baseline = await _data_state(client)
        result = await client.call_tool("query_database", {"cursor": forged})
        assert kind(result) == "invalid_cursor"
        assert await _data_state(client) == baseline


async def test_even_a_validly_signed_cursor_is_checked_again(unchanged: World) -> None:
    async with serve_with_server(unchanged.settings()) as (client, server):
        baseline = await _data_state(client)
        token = server.service.cursors.encode(PageRequest("SELECT 1; DROP TABLE customers", None, 0, 10))
        result = await client.call_tool("query_database", {"cursor": token})
        assert kind(result) == "refused"
        assert await _data_state(client) == baseline


async def test_a_huge_value_is_cut_before_it_is_sent(unchanged: World) -> None:
    async with serve_with_server(unchanged.settings(max_value_chars=1000)) as (client, _server):
        out = ok(await client.call_tool("query_database", {"sql": "SELECT repeat('x', 50000000) AS big"}))
    assert len(out["rows"][0][0]) == 1001
    assert out["values_cut"] == 1


async def test_the_private_temp_directory_is_removed_on_close(unchanged: World) -> None:
    async with serve_with_server(unchanged.settings()) as (client, server):
        await client.call_tool("query_database", {"sql": "SELECT 1"})
        engine = server.service._engine
        assert engine is not None
        temp_dir = engine.temp_dir
        assert temp_dir.is_dir()
    assert not temp_dir.exists()
