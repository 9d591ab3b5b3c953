"""The database server driven by MCP clients nobody here wrote.

* the official conformance suite over Streamable HTTP: 0.1.16 on the handshake wire (2025-11-25) and
  0.2.0-alpha.11 on the handshake wire and on the 2026-07-28 wire, fixture-free scenarios only, judged from
  the checks.json files it writes (tests/realclients/conformance-baseline.yml lists the expected failures);
* MCP Inspector CLI 1.0.3 over stdio, Streamable HTTP and SSE, judged from its JSON output (it exits 0 even
  when the tool failed);
* MCP Inspector 2.12 `--cli` over stdio in the modern and the legacy protocol era.

The server runs read-only on a small DuckDB file with a data directory beside it holding one CSV file (the view
`files.regions`). The machinery (locating the clients, skip or fail, running and judging the suite, the
inspector invocations, the stdio conversation) lives in tests/realclient_support.py; see
tests/realclients/README.md. The last test needs no Node: the clients above skip non-JSON lines on a stdio
server's stdout silently, so it checks stdout itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.realclient_support import (
    CONFORMANCE_IDS,
    CONFORMANCE_RUNS,
    Clients,
    assert_conformance_clean,
    converse_over_stdio,
    handshake_conversation,
    inspector_v1,
    inspector_v2,
    locate_clients,
    modern_conversation,
    run_conformance,
)
from tests.support import http_server, script

SHOP_SQL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, city VARCHAR);
COMMENT ON TABLE customers IS 'people who bought something';
INSERT INTO customers VALUES (1, 'Ada', 'London'), (2, 'Grace', 'Arlington'), (3, 'Linus', 'Helsinki');
"""
REGIONS_CSV = "region,population\nnorth,10\nsouth,20\neast,5\n"
# A query with a bound parameter, and the rows it must return.
BY_ID_SQL = "SELECT name, city FROM customers WHERE id >= ? ORDER BY id"
BY_ID_ROWS = [["Grace", "Arlington"], ["Linus", "Helsinki"]]
READ_TOOLS = {"query_database", "get_schema", "describe_table", "sample_rows", "explain_query"}


@dataclass(frozen=True)
class Shop:
    db: Path
    data: Path

    def command(self) -> list[str]:
        return [script("k2-database"), "--db", str(self.db), "--data-dir", str(self.data)]


@pytest.fixture(scope="module")
def clients() -> Clients:
    return locate_clients()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    root = tmp_path_factory.mktemp("shop")
    db = root / "shop.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute(SHOP_SQL)
    finally:
        con.close()
    data = root / "data"
    data.mkdir()
    (data / "regions.csv").write_text(REGIONS_CSV, encoding="utf-8")
    return Shop(db, data)


@pytest.fixture(scope="module")
def http_url(clients: Clients, shop: Shop) -> Iterator[str]:
    with http_server(shop.command(), "streamable-http") as server:
        yield server.url


# --- conformance ---------------------------------------------------------------------------------------------


@pytest.mark.conformance
@pytest.mark.parametrize(("wire", "scenario"), CONFORMANCE_RUNS, ids=CONFORMANCE_IDS)
def test_conformance_scenario_has_no_failing_check_outside_the_baseline(
    clients: Clients, http_url: str, tmp_path: Path, wire: str, scenario: str
) -> None:
    assert_conformance_clean(run_conformance(clients, http_url, tmp_path, wire, scenario))


# --- MCP Inspector CLI 1.0.3 ----------------------------------------------------------------------------------


@pytest.mark.conformance
def test_inspector_cli_v1_lists_the_read_only_database_tools_over_stdio(clients: Clients, shop: Shop) -> None:
    listed = inspector_v1(clients, shop.command(), "--method", "tools/list")

    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert tools.keys() == READ_TOOLS  # execute_statement exists only with --allow-write
    assert all(tool["description"] and tool["inputSchema"]["type"] == "object" for tool in tools.values())
    assert all(tool["annotations"]["readOnlyHint"] is True for tool in tools.values())
    assert tools["query_database"]["annotations"]["destructiveHint"] is False
    assert {"sql", "params", "cursor"} <= tools["query_database"]["inputSchema"]["properties"].keys()


@pytest.mark.conformance
def test_inspector_cli_v1_queries_the_database_with_a_bound_parameter_over_stdio(clients: Clients, shop: Shop) -> None:
    result = inspector_v1(
        clients, shop.command(), "--method", "tools/call", "--tool-name", "query_database",
        "--tool-arg", f"sql={BY_ID_SQL}", "--tool-arg", "params=[2]",
    )  # fmt: skip

    assert result["isError"] is False
    rows = result["structuredContent"]
    assert rows["columns"] == [{"name": "name", "type": "VARCHAR"}, {"name": "city", "type": "VARCHAR"}]
    assert rows["rows"] == BY_ID_ROWS
    assert (rows["row_count"], rows["truncated"], rows["next_cursor"]) == (2, False, None)
    assert json.loads(result["content"][0]["text"])["rows"] == BY_ID_ROWS


@pytest.mark.conformance
def test_inspector_cli_v1_gets_a_write_statement_refused_as_a_tool_error_over_stdio(
    clients: Clients, shop: Shop
) -> None:
    result = inspector_v1(
        clients, shop.command(), "--method", "tools/call", "--tool-name", "query_database",
        "--tool-arg", "sql=DROP TABLE customers",
    )  # fmt: skip

    assert result["isError"] is True
    assert result["_meta"]["k2/error"] == "refused"
    assert "execute_statement" in result["content"][0]["text"]


def _query_v1(clients: Clients, url: str, transport: str, sql: str) -> dict[str, Any]:
    return inspector_v1(
        clients, [url], "--transport", transport, "--method", "tools/call", "--tool-name", "query_database",
        "--tool-arg", f"sql={sql}",
    )  # fmt: skip


@pytest.mark.conformance
def test_inspector_cli_v1_queries_a_csv_data_file_over_streamable_http(clients: Clients, http_url: str) -> None:
    result = _query_v1(
        clients, http_url, "http", "SELECT region, population FROM files.regions ORDER BY population DESC"
    )

    assert result["isError"] is False
    assert result["structuredContent"]["rows"] == [["south", 20], ["north", 10], ["east", 5]]


@pytest.mark.conformance
def test_inspector_cli_v1_queries_the_database_over_sse(clients: Clients, shop: Shop) -> None:
    with http_server(shop.command(), "sse") as server:
        result = _query_v1(clients, server.url, "sse", "SELECT count(*) AS n, max(name) AS last FROM customers")

    assert result["isError"] is False
    assert result["structuredContent"]["rows"] == [[3, "Linus"]]


# --- MCP Inspector 2.12 --cli ---------------------------------------------------------------------------------


@pytest.mark.conformance
def test_inspector_v2_queries_the_database_over_stdio_in_the_modern_era(
    clients: Clients, shop: Shop, tmp_path: Path
) -> None:
    code, out = inspector_v2(
        clients, tmp_path, "--protocol-era", "modern", "--method", "tools/call", "--tool-name", "query_database",
        "--tool-args-json", json.dumps({"sql": BY_ID_SQL, "params": [2]}), "--", *shop.command(),
    )  # fmt: skip

    assert code == 0
    assert out["result"]["isError"] is False
    assert out["result"]["structuredContent"]["rows"] == BY_ID_ROWS
    assert out["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "database"


@pytest.mark.conformance
def test_inspector_v2_queries_a_join_of_table_and_data_file_over_stdio_in_the_legacy_era(
    clients: Clients, shop: Shop, tmp_path: Path
) -> None:
    sql = "SELECT c.name, r.population FROM customers c JOIN files.regions r ON r.population = c.id * 10"
    code, out = inspector_v2(
        clients, tmp_path, "--protocol-era", "legacy", "--method", "tools/call", "--tool-name", "query_database",
        "--tool-args-json", json.dumps({"sql": f"{sql} ORDER BY c.id"}), "--", *shop.command(),
    )  # fmt: skip

    assert code == 0
    assert out["result"]["isError"] is False
    assert out["result"]["structuredContent"]["rows"] == [["Ada", 10], ["Grace", 20]]


# --- stdio hygiene (no Node needed) ---------------------------------------------------------------------------

GOOD_QUERY = {"sql": "SELECT name FROM customers ORDER BY id"}
WRITE_QUERY = {"sql": "DELETE FROM customers"}
HANDSHAKE_CONVERSATION = handshake_conversation("query_database", GOOD_QUERY, WRITE_QUERY)
MODERN_CONVERSATION = modern_conversation("query_database", GOOD_QUERY, WRITE_QUERY)


@pytest.mark.parametrize(
    "conversation", [HANDSHAKE_CONVERSATION, MODERN_CONVERSATION], ids=["handshake-era", "modern-era"]
)
def test_stdio_server_writes_only_json_rpc_lines_to_stdout(shop: Shop, conversation: list[dict[str, Any]]) -> None:
    transcript = converse_over_stdio(shop.command(), conversation)
    responses = transcript.responses

    assert transcript.non_jsonrpc_lines() == []
    assert {tool["name"] for tool in responses[2]["result"]["tools"]} == READ_TOOLS
    assert responses[3]["result"]["structuredContent"]["rows"] == [["Ada"], ["Grace"], ["Linus"]]
    assert responses[4]["result"]["isError"] is True
    assert responses[4]["result"]["_meta"]["k2/error"] == "refused"
    assert responses[5]["error"]["code"] == -32601
