"""k2-codeexec: `print(1)` through execute_python over stdio, against the floor of spawning Python directly and the
cost of a bare bubblewrap start, in one run.

    .venv/bin/python bench/bench_codeexec_stdio.py [--calls 200] [--throughput-s 5]

Rows (each: --calls timed runs, p50 / p99 in milliseconds):

    spawn python       subprocess.run([sys.executable, "-c", "print(1)"]): the floor the target is measured against
    bare bwrap true    bwrap with the server's namespaces and mounts, running /bin/true
    bwrap python       the same running `python -I -c print(1)`: what a sandboxed spawn costs at the least
    cold call          execute_python {"code": "print(1)"} on a server with --warm-pool 0: each call starts a
                       sandbox (bwrap + interpreter) and tears it down
    pooled call        the same with --warm-pool 2, calls paced 0.15 s apart so the pool has refilled
    warm call          execute_python in a session (a persistent sandboxed interpreter)
    throughput         8 sessions, 8 calls in flight over one stdio connection for --throughput-s seconds

The server is spoken to in raw newline-delimited JSON-RPC (one request at a time for latencies), each call timed
from the write of the request to its parsed answer. Figures only: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SERVER = ROOT / ".venv" / "bin" / "k2-codeexec"


class Rpc:
    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.w, self.r = self.proc.stdin, self.proc.stdout
        self.next_id = 0
        self.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, msg: dict) -> None:
        self.w.write(json.dumps(msg).encode() + b"\n")
        self.w.flush()

    def request(self, method: str, params: dict) -> int:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def answer(self) -> dict:
        while True:
            msg = json.loads(self.r.readline())
            if "id" in msg and "method" not in msg:
                return msg

    def call(self, method: str, params: dict) -> dict:
        self.request(method, params)
        return self.answer()

    def tool(self, name: str, args: dict) -> dict:
        out = self.call("tools/call", {"name": name, "arguments": args})["result"]
        assert not out.get("isError"), out
        return out["structuredContent"]

    def close(self) -> None:
        self.w.close()
        self.proc.wait(30)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bwrap_argv(tail: list[str]) -> list[str]:
    from k2_codeexec.config import CodeExecSettings
    from k2_codeexec.sandbox import _bind_args

    s = CodeExecSettings()
    argv = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"]
    argv += ["--uid", "65534", "--gid", "65534", *_bind_args(s), "--proc", "/proc", "--dev", "/dev"]
    return [*argv, "--tmpfs", "/tmp", "--clearenv", *tail]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--throughput-s", type=float, default=5.0)
    a = ap.parse_args()
    rows: list[tuple[str, list[float]]] = []
    py = [sys.executable, "-c", "print(1)"]
    rows.append(("spawn python", timed(lambda: subprocess.run(py, capture_output=True, check=True), a.calls)))
    true_ = bwrap_argv(["/bin/true"])
    rows.append(("bare bwrap true", timed(lambda: subprocess.run(true_, check=True), a.calls)))
    bpy = bwrap_argv([sys.executable, "-I", "-c", "print(1)"])
    rows.append(("bwrap python", timed(lambda: subprocess.run(bpy, capture_output=True, check=True), a.calls)))
    code = {"code": "print(1)"}
    with tempfile.TemporaryDirectory() as ws:
        cold = Rpc([str(SERVER), "--workspace", ws, "--warm-pool", "0", "--log-level", "WARNING"])
        rows.append(("cold call", timed(lambda: cold.tool("execute_python", code), a.calls)))
        cold.close()
        pooled = Rpc([str(SERVER), "--workspace", ws, "--warm-pool", "2", "--log-level", "WARNING"])
        paced: list[float] = []
        for _ in range(a.calls):
            time.sleep(0.15)
            paced += timed(lambda: pooled.tool("execute_python", code), 1)
        rows.append(("pooled call", paced))
        sid = pooled.tool("create_session", {})["session_id"]
        warm = {"code": "print(1)", "session_id": sid}
        rows.append(("warm call (session)", timed(lambda: pooled.tool("execute_python", warm), a.calls)))
        pooled.close()
        many = Rpc([str(SERVER), "--workspace", ws, "--max-concurrent", "8", "--max-sessions", "8", "--log-level",
                    "WARNING"])  # fmt: skip
        sids = [many.tool("create_session", {})["session_id"] for _ in range(8)]
        done, deadline = 0, time.perf_counter() + a.throughput_s

        def issue(session_id: str) -> None:
            args = {"code": "print(1)", "session_id": session_id}
            many.request("tools/call", {"name": "execute_python", "arguments": args})

        start = time.perf_counter()
        for s in sids:
            issue(s)
        outstanding = len(sids)
        while outstanding:
            sc = many.answer()["result"]["structuredContent"]
            outstanding -= 1
            done += 1
            if time.perf_counter() < deadline:
                issue(sc["session_id"])
                outstanding += 1
        elapsed = time.perf_counter() - start
        many.close()
    floor = statistics.median(rows[0][1])
    print(f"{'row':24} {'p50 ms':>9} {'p99 ms':>9} {'p50 / spawn':>12}")
    for name, values in rows:
        print(f"{name:24} {pct(values, 0.5):9.2f} {pct(values, 0.99):9.2f} {statistics.median(values) / floor:12.2f}")
    print(f"throughput, 8 sessions x 8 in flight: {done / elapsed:.0f} calls/s ({done} calls in {elapsed:.1f} s)")
    warm_ratio = statistics.median(rows[5][1]) / floor
    verdict = "met" if warm_ratio <= 2 else "missed"
    print(f"target: warm call within 2x of a bare python spawn -> {warm_ratio:.2f}x ({verdict})")
    print(f"machine: {os.cpu_count()} CPUs, {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
