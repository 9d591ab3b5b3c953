"""--allow-write: execute_statement runs one statement per call in its own transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pytest
from mcp import Client

from tests.servers.database.conftest import World, kind, ok, serve, serve_with_server

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(world: World) -> AsyncIterator[Client]:
    async with serve(world.settings(allow_write=True)) as c:
        yield c


async def execute(client: Client, sql: str, **args: Any) -> dict[str, Any]:
    return ok(await client.call_tool("execute_statement", {"sql": sql, **args}))


async def count(client: Client, table: str = "customers") -> int:
    out = ok(await client.call_tool("query_database", {"sql": f"SELECT count(*) FROM {table}"}))
    return out["rows"][0][0]


async def test_the_write_tool_is_annotated_destructive(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    write = tools["execute_statement"].annotations
    assert write is not None
    assert (write.read_only_hint, write.destructive_hint, write.idempotent_hint) == (False, True, False)
    query = tools["query_database"].annotations
    assert query is not None and query.read_only_hint is True


async def test_an_insert_is_committed_and_reports_the_rows_affected(client: Client, world: World) -> None:
    out = await execute(
        client,
        "INSERT INTO customers VALUES (?, ?, ?, ?), (5, 'Hedy', NULL, 'Vienna')",
        params=[4, "Alan", "alan@example.com", "Wilmslow"],
    )
    assert (out["statement_type"], out["committed"], out["rows_affected"], out["rows"]) == ("INSERT", True, 2, [])
    assert await count(client) == 5


async def test_returning_rows_come_back_like_query_rows(client: Client) -> None:
    out = await execute(
        client, "UPDATE orders SET amount = amount * 2 WHERE customer_id = $c RETURNING id, amount", params={"c": 1}
    )
    assert out["columns"] == [{"name": "id", "type": "INTEGER"}, {"name": "amount", "type": "DECIMAL(10,2)"}]
    assert sorted(out["rows"]) == [[10, "25.00"], [11, "199.98"]]
    assert out["row_count"] == 2


async def test_ddl_creates_and_drops_objects(client: Client) -> None:
    created = await execute(client, "CREATE TABLE notes AS SELECT range AS id FROM range(3)")
    assert (created["statement_type"], created["rows_affected"]) == ("CREATE", 3)
    assert await count(client, "notes") == 3
    dropped = await execute(client, "DROP TABLE notes")
    assert (dropped["statement_type"], dropped["rows"]) == ("DROP", [])


async def test_the_changes_reach_the_database_file(world: World) -> None:
    async with serve(world.settings(allow_write=True)) as client:
        await execute(client, "DELETE FROM orders WHERE id = 13")
    con = duckdb.connect(str(world.db), read_only=True)
    assert con.execute("SELECT count(*) FROM orders").fetchall() == [(3,)]
    con.close()


async def test_a_failing_statement_rolls_back_entirely(client: Client) -> None:
    result = await client.call_tool(
        "execute_statement", {"sql": "INSERT INTO customers VALUES (9, 'New', NULL, NULL), (1, 'Dup', NULL, NULL)"}
    )
    assert kind(result) == "query_error"
    assert await count(client) == 3


async def test_a_timed_out_write_rolls_back(world: World) -> None:
    async with serve(world.settings(allow_write=True, timeout_s=0.3)) as client:
        with anyio.fail_after(10):
            result = await client.call_tool(
                "execute_statement",
                {"sql": "INSERT INTO orders SELECT range + 100, 1, 1, NULL FROM range(1e13::BIGINT)"},
            )
        assert kind(result) == "timeout"
        assert await count(client, "orders") == 4


async def test_a_cancelled_write_rolls_back(world: World) -> None:
    started, finished = anyio.Event(), anyio.Event()
    outcomes: list[str] = []

    def observe(label: str, outcome: str) -> None:
        if label == "execute_statement":
            outcomes.append(outcome)
            (started if outcome == "started" else finished).set()

    async with serve_with_server(world.settings(allow_write=True, timeout_s=120)) as (client, server):
        server.service.observers.append(observe)
        with anyio.fail_after(15):
            async with anyio.create_task_group() as tg:

                async def call() -> None:
                    await client.call_tool(
                        "execute_statement",
                        {"sql": "INSERT INTO orders SELECT range + 100, 1, 1, NULL FROM range(1e13::BIGINT)"},
                    )

                tg.start_soon(call)
                await started.wait()
                tg.cancel_scope.cancel()
            await finished.wait()
        assert outcomes == ["started", "cancelled"]
        assert await count(client, "orders") == 4


async def test_query_database_still_refuses_writes_in_write_mode(client: Client) -> None:
    result = await client.call_tool("query_database", {"sql": "DELETE FROM customers"})
    assert kind(result) == "refused"
    assert await count(client) == 3


async def test_execute_statement_refuses_a_query(client: Client) -> None:
    result = await client.call_tool("execute_statement", {"sql": "SELECT * FROM customers"})
    assert kind(result) == "refused"


async def test_explain_query_plans_a_write_without_running_it(client: Client) -> None:
    plan = ok(await client.call_tool("explain_query", {"sql": "DELETE FROM customers WHERE id = ?", "params": [1]}))
    assert plan["statement_type"] == "DELETE"
    assert await count(client) == 3


async def test_the_schema_reports_a_writable_server(client: Client) -> None:
    schema = ok(await client.call_tool("get_schema", {"include_columns": False}))
    assert schema["writable"] is True
    assert {d["name"]: d["read_only"] for d in schema["databases"]} == {"shop": False, "files": True}


async def test_write_mode_creates_a_missing_database_file(tmp_path: Path, world: World) -> None:
    fresh = tmp_path / "fresh.duckdb"
    async with serve(world.settings(allow_write=True, path=[str(fresh)])) as client:
        await execute(client, "CREATE TABLE t (x INTEGER)")
    assert fresh.is_file()


async def test_attached_databases_are_writable_under_their_names(tmp_path: Path, world: World) -> None:
    other = tmp_path / "other.duckdb"
    async with serve(world.settings(allow_write=True, path=[str(world.db), f"extra={other}"])) as client:
        await execute(client, "CREATE TABLE extra.main.t AS SELECT 42 AS x")
        assert ok(await client.call_tool("query_database", {"sql": "SELECT x FROM extra.t"}))["rows"] == [[42]]
