"""query_database: typed rows, bound parameters, paging, caps, errors, timeouts and cancellation."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from k2_database.errors import InvalidCursor
from k2_database.paging import CursorCodec, PageRequest
from mcp import Client

from tests.servers.database.conftest import World, kind, ok, serve, serve_with_server, text

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(world: World) -> AsyncIterator[Client]:
    async with serve(world.settings()) as c:
        yield c


async def query(client: Client, sql: str, **args: Any) -> dict[str, Any]:
    return ok(await client.call_tool("query_database", {"sql": sql, **args}))


async def test_query_returns_typed_columns_and_rows(client: Client) -> None:
    sql = "SELECT c.id, name, amount, placed FROM customers c JOIN orders o ON c.id = o.customer_id WHERE o.id = 10"
    out = await query(client, sql)
    assert out["columns"] == [
        {"name": "id", "type": "INTEGER"},
        {"name": "name", "type": "VARCHAR"},
        {"name": "amount", "type": "DECIMAL(10,2)"},
        {"name": "placed", "type": "DATE"},
    ]
    assert out["rows"] == [[1, "Ada", "12.50", "2024-01-05"]]
    assert (out["row_count"], out["truncated"], out["next_cursor"], out["statement_type"]) == (1, False, None, "SELECT")


async def test_query_binds_positional_parameters(client: Client) -> None:
    out = await query(client, "SELECT name FROM customers WHERE city = ? OR id = ? ORDER BY id", params=["London", 3])
    assert out["rows"] == [["Ada"], ["Linus"]]


async def test_query_binds_named_parameters(client: Client) -> None:
    out = await query(client, "SELECT count(*) AS n FROM orders WHERE amount > $min", params={"min": 50})
    assert out["rows"] == [[2]]


async def test_a_parameter_is_data_never_sql(client: Client) -> None:
    out = await query(client, "SELECT count(*) FROM customers WHERE name = ?", params=["x' OR '1'='1"])
    assert out["rows"] == [[0]]


async def test_missing_parameters_are_reported_as_invalid_parameters(client: Client) -> None:
    result = await client.call_tool("query_database", {"sql": "SELECT * FROM customers WHERE id = ? AND name = ?"})
    assert result.is_error
    assert kind(result) == "invalid_parameters"


async def test_duckdb_types_map_to_json(client: Client) -> None:
    out = await query(
        client,
        "SELECT {'a': 1, 'b': [1, 2]} AS s, map([1, 2], ['x', 'y']) AS m, 'hi'::BLOB AS b, 'nan'::DOUBLE AS n, "
        "TIMESTAMP '2024-01-02 03:04:05' AS ts, TIME '12:30:00' AS t, 170141183460469231731687303715884105727::HUGEINT"
        " AS h, '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID AS u, [1, 2]::INTEGER[2] AS arr, NULL AS z",
    )
    s, m, b, n, ts, t, h, u, arr, z = out["rows"][0]
    assert s == {"a": 1, "b": [1, 2]}
    assert m == {"1": "x", "2": "y"}
    assert base64.b64decode(b) == b"hi"
    assert (n, ts, t) == ("NaN", "2024-01-02T03:04:05", "12:30:00")
    assert h == 2**127 - 1
    assert (u, arr, z) == ("6ba7b810-9dad-11d1-80b4-00c04fd430c8", [1, 2], None)
    assert [c["type"] for c in out["columns"]][:2] == ["STRUCT(a INTEGER, b INTEGER[])", "MAP(INTEGER, VARCHAR)"]


@pytest.mark.parametrize(
    "sql",
    [
        "SHOW TABLES",
        "DESCRIBE customers",
        "SUMMARIZE orders",
        "FROM customers",
        "VALUES (1), (2)",
        "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
        "PIVOT orders ON customer_id IN (1, 2) USING sum(amount)",
    ],
)
async def test_select_like_statements_are_queries(client: Client, sql: str) -> None:
    out = await query(client, sql)
    assert out["statement_type"] == "SELECT"
    assert out["row_count"] >= 1


async def test_a_large_result_comes_in_pages_joined_by_the_cursor(client: Client) -> None:
    sql = "SELECT range AS i FROM range(25) ORDER BY i"
    first = await query(client, sql, max_rows=10)
    assert (first["row_count"], first["truncated"], first["truncation_reason"]) == (10, True, "max_rows")
    second = await query(client, sql, cursor=first["next_cursor"])
    third = ok(await client.call_tool("query_database", {"cursor": second["next_cursor"]}))
    assert second["offset"] == 10 and third["offset"] == 20
    assert [r[0] for r in first["rows"] + second["rows"] + third["rows"]] == list(range(25))
    assert (third["truncated"], third["next_cursor"]) == (False, None)


async def test_the_server_row_cap_bounds_a_page(world: World) -> None:
    async with serve(world.settings(max_rows=3)) as client:
        out = await query(client, "SELECT * FROM range(100)", max_rows=50)
    assert (out["row_count"], out["truncation_reason"]) == (3, "max_rows")


async def test_the_byte_cap_bounds_a_page_and_the_cursor_goes_on(world: World) -> None:
    async with serve(world.settings(max_result_bytes=2048)) as client:
        sql = "SELECT range AS i, repeat('x', 100) AS pad FROM range(100) ORDER BY i"
        first = await query(client, sql)
        assert first["truncation_reason"] == "max_bytes"
        assert 5 < first["row_count"] < 30
        assert len(json.dumps(first["rows"], separators=(",", ":"))) <= 2048
        second = ok(await client.call_tool("query_database", {"cursor": first["next_cursor"]}))
    assert second["rows"][0][0] == first["row_count"]


async def test_long_values_are_cut_and_counted(world: World) -> None:
    async with serve(world.settings(max_value_chars=100)) as client:
        out = await query(client, "SELECT repeat('a', 5000) AS long, 'short' AS s")
    assert out["rows"][0][0] == "a" * 100 + "…"
    assert (out["rows"][0][1], out["values_cut"]) == ("short", 1)


async def test_a_forged_cursor_is_refused(client: Client) -> None:
    first = await query(client, "SELECT * FROM range(10)", max_rows=2)
    forged = CursorCodec(3600).encode(PageRequest("SELECT * FROM customers", None, 0, 2))
    tampered = first["next_cursor"][:-2] + ("AA" if not first["next_cursor"].endswith("AA") else "BB")
    for cursor in (forged, tampered, "not-a-cursor"):
        result = await client.call_tool("query_database", {"cursor": cursor})
        assert kind(result) == "invalid_cursor", cursor


async def test_a_cursor_with_different_sql_is_refused(client: Client) -> None:
    first = await query(client, "SELECT * FROM range(10)", max_rows=2)
    result = await client.call_tool(
        "query_database", {"sql": "SELECT * FROM customers", "cursor": first["next_cursor"]}
    )
    assert kind(result) == "invalid_cursor"


def test_an_expired_cursor_is_refused() -> None:
    codec = CursorCodec(ttl_s=-1)
    with pytest.raises(InvalidCursor):
        codec.decode(codec.encode(PageRequest("SELECT 1", None, 1, 1)))


async def test_no_sql_and_no_cursor_is_invalid(client: Client) -> None:
    result = await client.call_tool("query_database", {})
    assert kind(result) == "invalid_parameters"


async def test_a_syntax_error_gives_duckdbs_message_and_the_position(client: Client) -> None:
    result = await client.call_tool("query_database", {"sql": "SELECT id,\n  name FROM customers WHER id = 1"})
    assert result.is_error
    assert kind(result) == "syntax_error"
    assert 'syntax error at or near "id"' in text(result)
    assert "(line 2, column 28)" in text(result)


async def test_the_position_is_exact_even_where_duckdb_shortens_the_line(client: Client) -> None:
    sql = "SELECT " + ", ".join(f"c{i}" for i in range(60)) + " FROM t WHERE x = = 1"
    result = await client.call_tool("query_database", {"sql": sql})
    assert kind(result) == "syntax_error"
    assert f"(line 1, column {sql.index('= = 1') + 3})" in text(result)


async def test_an_unknown_table_suggests_the_closest_names(client: Client) -> None:
    result = await client.call_tool("query_database", {"sql": "SELECT * FROM custmers"})
    assert kind(result) == "not_found"
    assert '"shop"."main"."customers"' in text(result)


async def test_an_unknown_column_is_not_found(client: Client) -> None:
    result = await client.call_tool("query_database", {"sql": "SELECT nmae FROM customers"})
    assert kind(result) == "not_found"


async def test_a_runaway_query_is_interrupted_at_the_time_limit(world: World) -> None:
    async with serve(world.settings(timeout_s=0.3)) as client:
        with anyio.fail_after(10):
            result = await client.call_tool("query_database", {"sql": "SELECT count(*) FROM range(1e13::BIGINT)"})
        assert kind(result) == "timeout"
        assert "0.3 s time limit" in text(result)
        assert ok(await client.call_tool("query_database", {"sql": "SELECT 42"}))["rows"] == [[42]]


async def test_a_call_may_lower_the_time_limit_but_not_raise_it(world: World) -> None:
    async with serve(world.settings(timeout_s=0.3)) as client:
        with anyio.fail_after(10):
            result = await client.call_tool(
                "query_database", {"sql": "SELECT count(*) FROM range(1e13::BIGINT)", "timeout_s": 600}
            )
    assert kind(result) == "timeout"


async def test_cancelling_the_call_interrupts_the_query(world: World) -> None:
    events: list[tuple[str, str]] = []
    started, finished = anyio.Event(), anyio.Event()

    def observe(label: str, outcome: str) -> None:
        events.append((label, outcome))
        (started if outcome == "started" else finished).set()

    async with serve_with_server(world.settings(timeout_s=120)) as (client, server):
        server.service.observers.append(observe)
        with anyio.fail_after(15):
            async with anyio.create_task_group() as tg:

                async def call() -> None:
                    await client.call_tool("query_database", {"sql": "SELECT count(*) FROM range(1e13::BIGINT)"})

                tg.start_soon(call)
                await started.wait()
                tg.cancel_scope.cancel()
            await finished.wait()
        assert events == [("query_database", "started"), ("query_database", "cancelled")]
        assert ok(await client.call_tool("query_database", {"sql": "SELECT 1"}))["rows"] == [[1]]


async def test_concurrent_calls_use_their_own_cursors(world: World) -> None:
    started = anyio.Event()
    outcomes: list[str] = []

    def observe(label: str, outcome: str) -> None:
        outcomes.append(outcome)
        if outcome == "started":
            started.set()

    async with serve_with_server(world.settings(timeout_s=120)) as (client, server):
        server.service.observers.append(observe)
        with anyio.fail_after(15):
            async with anyio.create_task_group() as tg:

                async def slow() -> None:
                    await client.call_tool("query_database", {"sql": "SELECT count(*) FROM range(1e13::BIGINT)"})

                tg.start_soon(slow)
                await started.wait()
                quick = await query(client, "SELECT name FROM customers WHERE id = ?", params=[2])
                assert quick["rows"] == [["Grace"]]
                assert outcomes.count("ok") == 1 and "cancelled" not in outcomes  # the slow one still runs
                tg.cancel_scope.cancel()


async def test_the_text_content_is_the_same_result_as_compact_json(client: Client) -> None:
    result = await client.call_tool("query_database", {"sql": "SELECT 1 AS one, 'x' AS s"})
    body = text(result)
    assert json.loads(body) == result.structured_content
    assert ", " not in body and "\n" not in body


async def test_values_cut_counts_only_the_rows_sent_when_the_byte_cap_ends_the_page() -> None:
    from k2_database.config import DatabaseSettings
    from k2_database.server import build_server
    from mcp import Client

    settings = DatabaseSettings(max_result_bytes=5000, max_value_chars=40)
    async with Client(build_server(settings)) as c:
        result = await c.call_tool("query_database", {"sql": "SELECT repeat('x', 100) AS v FROM range(2000)"})
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert data["truncated"] is True
    assert 0 < data["row_count"] < 2000
    assert data["values_cut"] == data["row_count"]
