"""The published input schemas: valid JSON Schema that model APIs accept, and query_database asks for `sql`.

A client that builds calls from the schema (the MCP Inspector) sent `{}` while `sql` and `cursor` were both
optional. A root `anyOf` would state "one of them" exactly, but the Anthropic API refuses `anyOf`/`oneOf`/`allOf`
at the root of a tool's schema, and OpenAI's refuses those and `not`/`enum`/`const`: so `sql` is required there,
null allowed with `cursor`, and the server still serves a `cursor` alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import Client

from tests.servers.database.conftest import World, kind, ok, serve

pytestmark = pytest.mark.anyio

ROOT_KEYWORDS_MODEL_APIS_REFUSE = {"anyOf", "oneOf", "allOf", "not", "enum", "const"}


@pytest.fixture
async def client(world: World) -> AsyncIterator[Client]:
    async with serve(world.settings()) as c:
        yield c


async def _schemas(client: Client) -> dict[str, dict[str, Any]]:
    return {t.name: t.input_schema for t in (await client.list_tools()).tools}


async def test_every_published_input_schema_is_valid_json_schema_with_an_object_root(client: Client) -> None:
    for name, schema in (await _schemas(client)).items():
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object", name
        assert not ROOT_KEYWORDS_MODEL_APIS_REFUSE & schema.keys(), name


async def test_query_database_publishes_sql_as_required_and_null_with_a_cursor_as_valid(client: Client) -> None:
    schema = (await _schemas(client))["query_database"]
    assert schema["required"] == ["sql"]
    assert "default" not in schema["properties"]["sql"]
    validator = Draft202012Validator(schema)
    assert not validator.is_valid({})
    assert not validator.is_valid({"params": [1]})
    assert validator.is_valid({"sql": "SELECT 1"})
    assert validator.is_valid({"sql": None, "cursor": "next"})
    assert validator.is_valid({"sql": "SELECT 1", "cursor": "next", "max_rows": 5})


async def test_an_empty_call_is_still_answered_with_invalid_parameters(client: Client) -> None:
    for arguments in ({}, {"sql": None}, {"sql": ""}, {"params": [1]}):
        result = await client.call_tool("query_database", arguments)
        assert result.is_error and kind(result) == "invalid_parameters", arguments


async def test_a_cursor_goes_on_with_sql_null_and_alone(client: Client) -> None:
    first = ok(await client.call_tool("query_database", {"sql": "SELECT * FROM range(6) ORDER BY 1", "max_rows": 2}))
    second = ok(await client.call_tool("query_database", {"sql": None, "cursor": first["next_cursor"]}))
    third = ok(await client.call_tool("query_database", {"cursor": second["next_cursor"]}))
    assert [r[0] for r in first["rows"] + second["rows"] + third["rows"]] == list(range(6))
