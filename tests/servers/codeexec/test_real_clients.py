"""The code execution server driven by MCP clients nobody here wrote.

* the official conformance suite over Streamable HTTP (tests/realclient_support.py: the same wires, scenarios
  and baseline as the other servers);
* MCP Inspector CLI 1.0.3 over stdio and Streamable HTTP, judged from its JSON output (it exits 0 even when the
  tool failed);
* MCP Inspector 2.12 `--cli` over stdio in the modern and the legacy protocol era.

The last tests need no Node: they hold a stdio conversation by hand and check that stdout carries only
JSON-RPC, also when the sandboxed code prints to its own stdout.
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
from tests.servers.codeexec.conftest import need_sandbox
from tests.servers.codeexec.test_transports import TOOLS
from tests.support import http_server, script

GOOD = {"code": "import os\nprint('printed by the sandbox')\nos.getuid()"}
BAD = {"code": "1", "files": {"../escape.txt": "x"}}


@pytest.fixture(scope="module")
def clients() -> Clients:
    return locate_clients()


@pytest.fixture(scope="module")
def command(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    need_sandbox()
    return [script("k2-codeexec"), "--workspace", str(tmp_path_factory.mktemp("ws")), "--warm-pool", "1"]


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
def test_inspector_cli_v1_lists_the_tools_over_stdio(clients: Clients, command: list[str]) -> None:
    listed = inspector_v1(clients, command, "--method", "tools/list")
    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert tools.keys() == TOOLS
    assert all(tool["description"] and tool["inputSchema"]["type"] == "object" for tool in tools.values())
    assert tools["list_sessions"]["annotations"]["readOnlyHint"] is True
    assert {"code", "session_id", "timeout", "files"} <= tools["execute_python"]["inputSchema"]["properties"].keys()


@pytest.mark.conformance
def test_inspector_cli_v1_runs_python_in_the_sandbox_over_stdio(clients: Clients, command: list[str]) -> None:
    result = inspector_v1(
        clients, command, "--method", "tools/call", "--tool-name", "execute_python", "--tool-arg", "code=6*7",
    )  # fmt: skip
    assert result["isError"] is False
    assert result["structuredContent"]["value"] == "42"
    assert result["structuredContent"]["isolation"] == "bubblewrap"


@pytest.mark.conformance
def test_inspector_cli_v1_runs_a_shell_command_over_streamable_http(clients: Clients, http_url: str) -> None:
    result = inspector_v1(
        clients, [http_url], "--transport", "http", "--method", "tools/call", "--tool-name", "execute_shell",
        "--tool-arg", "command=id -u; echo $K2_TEST_HOST_SECRET",
    )  # fmt: skip
    assert result["isError"] is False
    assert result["structuredContent"]["stdout"] == "65534\n\n"


def _v2(clients: Clients, home: Path, era: str, tool: str, args: dict[str, Any], command: list[str]) -> Any:
    return inspector_v2(
        clients, home, "--protocol-era", era, "--method", "tools/call", "--tool-name", tool,
        "--tool-args-json", json.dumps(args), "--", *command,
    )  # fmt: skip


@pytest.mark.conformance
@pytest.mark.parametrize("era", ["modern", "legacy"])
def test_inspector_v2_runs_python_over_stdio(clients: Clients, command: list[str], tmp_path: Path, era: str) -> None:
    code, out = _v2(clients, tmp_path, era, "execute_python", {"code": "sum(range(10))"}, command)
    assert code == 0
    assert out["result"]["isError"] is False
    assert out["result"]["structuredContent"]["value"] == "45"


@pytest.mark.conformance
def test_inspector_v2_sees_a_refusal_with_its_kind(clients: Clients, command: list[str], tmp_path: Path) -> None:
    code, out = _v2(clients, tmp_path, "modern", "execute_python", BAD, command)
    assert out["result"]["isError"] is True
    assert out["result"]["_meta"]["k2/error"] == "invalid_path"
    assert code != 0  # the inspector exits non-zero when the tool reports an error


@pytest.mark.parametrize(
    "conversation",
    [handshake_conversation("execute_python", GOOD, BAD), modern_conversation("execute_python", GOOD, BAD)],
    ids=["handshake-era", "modern-era"],
)
def test_stdio_server_writes_only_json_rpc_lines_to_stdout(
    command: list[str], conversation: list[dict[str, Any]]
) -> None:
    transcript = converse_over_stdio(command, conversation)
    responses = transcript.responses
    assert transcript.non_jsonrpc_lines() == []
    assert {tool["name"] for tool in responses[2]["result"]["tools"]} == TOOLS
    good = responses[3]["result"]["structuredContent"]
    assert (good["stdout"], good["value"]) == ("printed by the sandbox\n", "65534")
    assert responses[4]["result"]["isError"] is True
    assert responses[4]["result"]["_meta"]["k2/error"] == "invalid_path"
    assert responses[5]["error"]["code"] == -32601
