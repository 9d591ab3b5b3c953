"""The filesystem server driven by MCP clients nobody here wrote.

* the official conformance suite over Streamable HTTP: 0.1.16 on the handshake wire (2025-11-25) and
  0.2.0-alpha.11 on the handshake wire and on the 2026-07-28 wire, fixture-free scenarios only, judged from
  the checks.json files it writes (tests/realclients/conformance-baseline.yml lists the expected failures);
* MCP Inspector CLI 1.0.3 over stdio, SSE and Streamable HTTP, judged from its JSON output (it exits 0 even
  when the tool failed);
* MCP Inspector 2.12 `--cli` over stdio in the modern and the legacy protocol era.

These need the pinned Node clients that `python3 dev.py test` installs (env K2_REAL_CLIENTS); without them
they skip, unless K2_REQUIRE_REAL_CLIENTS=1 (CI) makes that a failure. The last test needs no Node: the
clients above skip non-JSON lines on a stdio server's stdout silently, so it checks stdout itself. The
machinery shared with the other servers' client tests lives in tests/realclient_support.py.
"""

from __future__ import annotations

import hashlib
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
    read_baseline,
    run_conformance,
)
from tests.support import http_server, script

HELLO = "hello from k2\nsecond line\n"
DATA = '{"answer": 42}\n'


@pytest.fixture(scope="module")
def clients() -> Clients:
    return locate_clients()


@pytest.fixture(scope="module")
def fs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fsroot")
    (root / "hello.txt").write_text(HELLO, encoding="utf-8")
    (root / "sub").mkdir()
    (root / "sub" / "data.json").write_text(DATA, encoding="utf-8")
    return root


def _server_command(root: Path) -> list[str]:
    return [script("k2-filesystem"), "--root", str(root)]


@pytest.fixture(scope="module")
def http_url(clients: Clients, fs_root: Path) -> Iterator[str]:
    with http_server(_server_command(fs_root), "streamable-http") as server:
        yield server.url


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- conformance ---------------------------------------------------------------------------------------------


def test_every_conformance_baseline_entry_carries_a_written_reason() -> None:
    entries = read_baseline()
    assert entries, "the baseline lists no entries: delete the file rather than keep an empty one"
    assert {entry: reason for entry, reason in entries.items() if len(reason) < 20} == {}


@pytest.mark.conformance
@pytest.mark.parametrize(("wire", "scenario"), CONFORMANCE_RUNS, ids=CONFORMANCE_IDS)
def test_conformance_scenario_has_no_failing_check_outside_the_baseline(
    clients: Clients, http_url: str, tmp_path: Path, wire: str, scenario: str
) -> None:
    assert_conformance_clean(run_conformance(clients, http_url, tmp_path, wire, scenario))


# --- MCP Inspector CLI 1.0.3 ----------------------------------------------------------------------------------


@pytest.mark.conformance
def test_inspector_cli_v1_lists_the_filesystem_tools_over_stdio(clients: Clients, fs_root: Path) -> None:
    listed = inspector_v1(clients, _server_command(fs_root), "--method", "tools/list")

    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert {"read_file", "list_directory", "grep", "write_file", "edit_file"} <= tools.keys()
    assert all(tool["description"] and tool["inputSchema"]["type"] == "object" for tool in tools.values())
    assert tools["read_file"]["annotations"]["readOnlyHint"] is True


@pytest.mark.conformance
def test_inspector_cli_v1_reads_a_file_over_stdio(clients: Clients, fs_root: Path) -> None:
    result = inspector_v1(
        clients, _server_command(fs_root), "--method", "tools/call", "--tool-name", "read_file", "--tool-arg",
        "path=hello.txt",
    )  # fmt: skip

    assert result["isError"] is False
    assert result["content"] == [{"type": "text", "text": HELLO}]
    assert result["structuredContent"]["sha256"] == _sha256(HELLO)
    assert result["structuredContent"]["total_lines"] == 2


@pytest.mark.conformance
def test_inspector_cli_v1_gets_a_missing_file_as_a_tool_error_over_stdio(clients: Clients, fs_root: Path) -> None:
    result = inspector_v1(
        clients, _server_command(fs_root), "--method", "tools/call", "--tool-name", "read_file", "--tool-arg",
        "path=missing.txt",
    )  # fmt: skip

    assert result["isError"] is True
    assert "'missing.txt'" in result["content"][0]["text"]


def _read_file_v1(clients: Clients, url: str, transport: str, path: str) -> dict[str, Any]:
    return inspector_v1(
        clients, [url], "--transport", transport, "--method", "tools/call", "--tool-name", "read_file",
        "--tool-arg", f"path={path}",
    )  # fmt: skip


@pytest.mark.conformance
def test_inspector_cli_v1_reads_a_file_over_sse(clients: Clients, fs_root: Path) -> None:
    with http_server(_server_command(fs_root), "sse") as server:
        result = _read_file_v1(clients, server.url, "sse", "sub/data.json")

    assert result["isError"] is False
    assert result["content"] == [{"type": "text", "text": DATA}]


@pytest.mark.conformance
def test_inspector_cli_v1_reads_a_file_by_absolute_path_over_streamable_http(
    clients: Clients, http_url: str, fs_root: Path
) -> None:
    result = _read_file_v1(clients, http_url, "http", str(fs_root / "hello.txt"))

    assert result["isError"] is False
    assert result["content"] == [{"type": "text", "text": HELLO}]


# --- MCP Inspector 2.12 --cli ---------------------------------------------------------------------------------


@pytest.mark.conformance
def test_inspector_v2_reads_a_file_over_stdio_in_the_modern_era(
    clients: Clients, fs_root: Path, tmp_path: Path
) -> None:
    code, out = inspector_v2(
        clients, tmp_path, "--protocol-era", "modern", "--method", "tools/call", "--tool-name", "read_file",
        "--tool-args-json", json.dumps({"path": "hello.txt"}), "--", *_server_command(fs_root),
    )  # fmt: skip

    assert code == 0
    assert out["result"]["isError"] is False
    assert out["result"]["content"] == [{"type": "text", "text": HELLO}]
    assert out["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "filesystem"


def _legacy_config(tmp_path: Path, fs_root: Path) -> Path:
    """A session config whose client roots narrow the server to sub/ (roots exist only in the legacy era)."""
    command = _server_command(fs_root)
    entry = {
        "type": "stdio",
        "command": command[0],
        "args": command[1:],
        "roots": [{"uri": (fs_root / "sub").as_uri(), "name": "sub"}],
    }
    path = tmp_path / "inspector.json"
    path.write_text(json.dumps({"mcpServers": {"fs": entry}}), encoding="utf-8")
    return path


@pytest.mark.conformance
def test_inspector_v2_reads_a_file_inside_its_roots_over_stdio_in_the_legacy_era(
    clients: Clients, fs_root: Path, tmp_path: Path
) -> None:
    config = _legacy_config(tmp_path, fs_root)
    code, out = inspector_v2(
        clients, tmp_path, "--protocol-era", "legacy", "--config", str(config), "--server", "fs",
        "--method", "tools/call", "--tool-name", "read_file", "--tool-args-json", json.dumps({"path": "data.json"}),
    )  # fmt: skip

    assert code == 0
    assert out["result"]["isError"] is False
    assert out["result"]["content"] == [{"type": "text", "text": DATA}]
    assert out["result"]["structuredContent"]["sha256"] == _sha256(DATA)


@pytest.mark.conformance
def test_inspector_v2_is_refused_a_file_outside_its_roots_in_the_legacy_era(
    clients: Clients, fs_root: Path, tmp_path: Path
) -> None:
    config = _legacy_config(tmp_path, fs_root)
    code, out = inspector_v2(
        clients, tmp_path, "--protocol-era", "legacy", "--config", str(config), "--server", "fs",
        "--method", "tools/call", "--tool-name", "read_file",
        "--tool-args-json", json.dumps({"path": str(fs_root / "hello.txt")}),
    )  # fmt: skip

    assert code == 5  # inspector 2.x: the tool returned isError
    assert out["result"]["isError"] is True
    assert out["result"]["_meta"]["k2/error"] == "access_denied"


# --- stdio hygiene (no Node needed) ---------------------------------------------------------------------------

HANDSHAKE_CONVERSATION = handshake_conversation("read_file", {"path": "hello.txt"}, {"path": "nope"})
MODERN_CONVERSATION = modern_conversation("read_file", {"path": "hello.txt"}, {"path": "nope"})


@pytest.mark.parametrize(
    "conversation", [HANDSHAKE_CONVERSATION, MODERN_CONVERSATION], ids=["handshake-era", "modern-era"]
)
def test_stdio_server_writes_only_json_rpc_lines_to_stdout(fs_root: Path, conversation: list[dict[str, Any]]) -> None:
    transcript = converse_over_stdio(_server_command(fs_root), conversation)
    responses = transcript.responses

    assert transcript.non_jsonrpc_lines() == []
    assert responses[3]["result"]["content"] == [{"type": "text", "text": HELLO}]
    assert responses[4]["result"]["isError"] is True
    assert responses[5]["error"]["code"] == -32601
