"""The websearch server driven by MCP clients nobody here wrote.

* the official conformance suite over Streamable HTTP (fixture-free scenarios, judged against
  tests/realclients/conformance-baseline.yml);
* MCP Inspector CLI 1.0.3 over stdio and Streamable HTTP, MCP Inspector 2.12 `--cli` over stdio in both eras;
* a stdio conversation held by hand that checks every stdout line (no Node needed).

The server fetches from the local test site on 127.0.0.1 (allowed with --allow-host HOST:PORT) and keeps its
index in a temporary directory. See tests/realclients/README.md for what runs and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from tests.servers.websearch import sites
from tests.support import http_server, script

TOOLS = {"search_web", "fetch_webpage", "extract_links", "fetch_many"}


@pytest.fixture(scope="module")
def clients() -> Clients:
    return locate_clients()


@pytest.fixture(scope="module")
def command(site: sites.Server, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    index = tmp_path_factory.mktemp("index")
    return [script("k2-websearch"), "--allow-host", f"127.0.0.1:{site.port}", "--index", str(index)]


@pytest.fixture(scope="module")
def http_url(clients: Clients, command: list[str]) -> Iterator[str]:
    with http_server(command, "streamable-http") as server:
        yield server.url


@pytest.mark.conformance
@pytest.mark.parametrize(("wire", "scenario"), CONFORMANCE_RUNS, ids=CONFORMANCE_IDS)
def test_conformance_scenario_has_no_failing_check_outside_the_baseline(
    clients: Clients, http_url: str, tmp_path: Path, wire: str, scenario: str
) -> None:
    assert_conformance_clean(run_conformance(clients, http_url, tmp_path, wire, scenario))


@pytest.mark.conformance
def test_inspector_cli_v1_lists_the_websearch_tools_over_stdio(clients: Clients, command: list[str]) -> None:
    listed = inspector_v1(clients, command, "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert tools.keys() == TOOLS
    assert all(tool["description"] and tool["annotations"]["readOnlyHint"] is True for tool in tools.values())
    assert {"url", "start_index", "max_length", "format"} <= tools["fetch_webpage"]["inputSchema"]["properties"].keys()


@pytest.mark.conformance
def test_inspector_cli_v1_fetches_a_page_over_stdio(clients: Clients, command: list[str], site: sites.Server) -> None:
    result = inspector_v1(
        clients, command, "--method", "tools/call", "--tool-name", "fetch_webpage",
        "--tool-arg", f"url={site.url('/article.html')}",
    )  # fmt: skip
    assert result["isError"] is False
    assert result["structuredContent"]["title"] == "Kestrels" and result["structuredContent"]["untrusted"] is True


@pytest.mark.conformance
def test_inspector_cli_v1_gets_a_loopback_url_refused_over_streamable_http(
    clients: Clients, http_url: str, sentinel: sites.Server
) -> None:
    result = inspector_v1(
        clients, [http_url], "--transport", "http", "--method", "tools/call", "--tool-name", "fetch_webpage",
        "--tool-arg", f"url={sentinel.url('/')}",
    )  # fmt: skip
    assert result["isError"] is True and result["_meta"]["k2/error"] == "blocked"
    assert sentinel.connections == 0


@pytest.mark.conformance
@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_inspector_v2_fetches_json_over_stdio(
    clients: Clients, command: list[str], site: sites.Server, tmp_path: Path, era: str
) -> None:
    code, out = inspector_v2(
        clients, tmp_path, "--protocol-era", era, "--method", "tools/call", "--tool-name", "fetch_webpage",
        "--tool-args-json", json.dumps({"url": site.url("/data.json")}), "--", *command,
    )  # fmt: skip
    assert code == 0
    assert out["result"]["isError"] is False and out["result"]["structuredContent"]["kind"] == "json"


# --- stdio hygiene (no Node needed) ---------------------------------------------------------------------------

BAD_FETCH = {"url": "http://127.0.0.1:1/"}


@pytest.mark.parametrize("era", ["handshake", "modern"])
def test_stdio_server_writes_only_json_rpc_lines_to_stdout(command: list[str], site: sites.Server, era: str) -> None:
    good = {"url": site.url("/article.html")}
    make = handshake_conversation if era == "handshake" else modern_conversation
    conversation: list[dict[str, Any]] = make("fetch_webpage", good, BAD_FETCH)
    transcript = converse_over_stdio(command, conversation)
    responses = transcript.responses

    assert transcript.non_jsonrpc_lines() == []
    assert {tool["name"] for tool in responses[2]["result"]["tools"]} == TOOLS
    assert responses[3]["result"]["structuredContent"]["title"] == "Kestrels"
    assert responses[4]["result"]["isError"] is True
    assert responses[4]["result"]["_meta"]["k2/error"] == "blocked"
    assert responses[5]["error"]["code"] == -32601
