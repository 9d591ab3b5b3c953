"""get_schema, describe_table, sample_rows, explain_query, the data-file views, resources and the prompt."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import duckdb
import pytest
from mcp import Client, MCPError
from mcp.types import TextResourceContents

from tests.servers.database.conftest import World, kind, ok, serve, text

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(world: World) -> AsyncIterator[Client]:
    async with serve(world.settings()) as c:
        yield c


def tables_of(schema: dict[str, Any], database: str) -> dict[str, dict[str, Any]]:
    db = next(d for d in schema["databases"] if d["name"] == database)
    return {t["name"]: t for s in db["schemas"] for t in s["tables"]}


async def test_get_schema_lists_tables_views_columns_keys_comments_and_row_estimates(
    client: Client, world: World
) -> None:
    schema = ok(await client.call_tool("get_schema", {}))
    assert [(d["name"], d["kind"], d["read_only"], d["default"]) for d in schema["databases"]] == [
        ("shop", "file", True, True),
        ("files", "data files", True, False),
    ]
    shop = tables_of(schema, "shop")
    assert set(shop) == {"customers", "orders", "big_orders"}
    customers = shop["customers"]
    assert (customers["kind"], customers["comment"], customers["estimated_rows"]) == (
        "table",
        "people who bought something",
        3,
    )
    assert customers["primary_key"] == ["id"] and customers["unique"] == [["email"]]
    email = next(c for c in customers["columns"] if c["name"] == "email")
    assert email == {
        "name": "email",
        "type": "VARCHAR",
        "nullable": True,
        "default": None,
        "comment": "contact address",
        "primary_key": False,
    }
    assert shop["orders"]["foreign_keys"] == [
        {"columns": ["customer_id"], "references_table": "customers", "references_columns": ["id"]}
    ]
    assert (shop["big_orders"]["kind"], shop["big_orders"]["estimated_rows"]) == ("view", None)
    assert schema["data_dirs"] == [str(world.data.resolve())]
    assert (schema["writable"], schema["truncated"]) == (False, False)


async def test_get_schema_narrows_to_a_database_and_schema(client: Client) -> None:
    schema = ok(await client.call_tool("get_schema", {"database": "files", "include_columns": False}))
    assert [d["name"] for d in schema["databases"]] == ["files"]
    files = tables_of(schema, "files")
    assert set(files) == {"customers", "events", "nested_regions", "orders"}
    assert all(t["columns"] == [] for t in files.values())


async def test_get_schema_of_an_unknown_database_lists_the_real_ones(client: Client) -> None:
    result = await client.call_tool("get_schema", {"database": "shoop"})
    assert kind(result) == "not_found"
    assert "shop" in text(result)


async def test_get_schema_caps_the_number_of_tables(client: Client) -> None:
    schema = ok(await client.call_tool("get_schema", {"max_tables": 2}))
    assert schema["truncated"] is True and schema["table_count"] == 7
    assert sum(len(s["tables"]) for d in schema["databases"] for s in d["schemas"]) == 2


async def test_data_files_are_queryable_as_views(client: Client, world: World) -> None:
    rows = ok(await client.call_tool("query_database", {"sql": "SELECT name FROM files.customers ORDER BY id"}))
    assert rows["rows"] == [["Ada"], ["Grace"]]
    parquet = ok(await client.call_tool("query_database", {"sql": "SELECT sum(doubled) FROM files.orders"}))
    assert parquet["rows"] == [[20]]
    jsonl = ok(await client.call_tool("query_database", {"sql": "SELECT kind FROM files.events WHERE n > 4"}))
    assert jsonl["rows"] == [["view"]]
    by_path = ok(
        await client.call_tool(
            "query_database", {"sql": "SELECT count(*) FROM read_csv(?)", "params": [str(world.data / "nested/*.csv")]}
        )
    )
    assert by_path["rows"] == [[2]]


async def test_a_data_file_view_reads_the_current_content(client: Client, world: World) -> None:
    (world.data / "customers.csv").write_text("id,name,city\n7,Hedy,Vienna\n")
    rows = ok(await client.call_tool("query_database", {"sql": "SELECT name FROM files.customers"}))
    assert rows["rows"] == [["Hedy"]]


async def test_describe_table_gives_columns_keys_and_the_create_statement(client: Client) -> None:
    info = ok(await client.call_tool("describe_table", {"table": "ORDERS"}))
    assert (info["database"], info["schema_name"], info["name"], info["kind"]) == ("shop", "main", "orders", "table")
    assert [c["name"] for c in info["columns"]] == ["id", "customer_id", "amount", "placed"]
    assert info["columns"][0]["primary_key"] is True
    assert info["sql"].startswith("CREATE TABLE orders")
    assert info["qualified_name"] == '"shop"."main"."orders"'
    assert info["resource_uri"] == "duckdb://shop/main/orders"


async def test_describe_table_accepts_a_qualified_name(client: Client) -> None:
    info = ok(await client.call_tool("describe_table", {"table": "files.main.nested_regions"}))
    assert [c["name"] for c in info["columns"]] == ["region", "population"]
    assert info["comment"].startswith("data file ")


async def test_describe_table_of_an_unknown_name_suggests_the_closest(client: Client) -> None:
    result = await client.call_tool("describe_table", {"table": "custmer"})
    assert kind(result) == "not_found"
    assert "customers" in text(result)


async def test_sample_rows_returns_the_first_rows(client: Client) -> None:
    out = ok(await client.call_tool("sample_rows", {"table": "customers", "n": 2}))
    assert out["row_count"] == 2
    assert [c["name"] for c in out["columns"]] == ["id", "name", "email", "city"]


async def test_sample_rows_can_sample_at_random(client: Client) -> None:
    out = ok(await client.call_tool("sample_rows", {"table": "orders", "n": 3, "random": True}))
    assert out["row_count"] == 3
    assert {r[0] for r in out["rows"]} <= {10, 11, 12, 13}


async def test_sample_rows_quotes_the_table_name(world: World) -> None:
    con = duckdb.connect(str(world.db))
    con.execute('CREATE TABLE "odd ""name""" AS SELECT 1 AS x')
    con.close()
    async with serve(world.settings()) as client:
        out = ok(await client.call_tool("sample_rows", {"table": 'odd "name"'}))
    assert out["rows"] == [[1]]


async def test_explain_query_plans_without_running(client: Client) -> None:
    plan = ok(
        await client.call_tool(
            "explain_query", {"sql": "SELECT count(*) FROM range(1e13::BIGINT) WHERE range > ?", "params": [5]}
        )
    )
    assert plan["statement_type"] == "SELECT"
    assert "RANGE" in plan["plan"].upper()


async def test_explain_query_refuses_a_write_on_a_read_only_server(client: Client) -> None:
    result = await client.call_tool("explain_query", {"sql": "DELETE FROM customers"})
    assert kind(result) == "refused"


async def test_every_table_is_a_resource(client: Client) -> None:
    uris = {str(r.uri) for r in (await client.list_resources()).resources}
    assert {"duckdb://shop/main/customers", "duckdb://shop/main/big_orders", "duckdb://files/main/events"} <= uris
    templates = (await client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["duckdb://{database}/{schema}/{table}"]


async def test_a_table_resource_is_its_schema_as_json(client: Client) -> None:
    result = await client.read_resource("duckdb://shop/main/orders")
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    assert content.mime_type == "application/json"
    info = json.loads(content.text)
    assert info["foreign_keys"][0]["references_table"] == "customers"


async def test_an_unknown_table_resource_is_an_error(client: Client) -> None:
    with pytest.raises(MCPError):
        await client.read_resource("duckdb://shop/main/nope")


async def test_the_explore_prompt_guides_through_the_tools(client: Client) -> None:
    prompts = (await client.list_prompts()).prompts
    assert [p.name for p in prompts] == ["explore_dataset"]
    result = await client.get_prompt("explore_dataset", {"table": "orders", "question": "who spends most?"})
    body = result.messages[0].content
    assert body.type == "text"
    for step in ("get_schema", "describe_table", "sample_rows", "SUMMARIZE", "who spends most?", "'orders'"):
        assert step in body.text


async def test_tools_are_annotated_read_only_without_allow_write(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"query_database", "get_schema", "describe_table", "sample_rows", "explain_query"}
    for tool in tools.values():
        assert tool.annotations is not None
        assert (tool.annotations.read_only_hint, tool.annotations.destructive_hint) == (True, False), tool.name
        assert tool.description and tool.output_schema


async def test_an_explained_plan_reads_as_text(client: Client) -> None:
    result = await client.call_tool("explain_query", {"sql": "SELECT * FROM orders"})
    assert text(result) == ok(result)["plan"]
