"""`k2 serve` under load: chat completions per second and their latency, and memory per live session.

    .venv/bin/python bench/bench_api_service.py [--requests 600] [--sessions 100]

The API server runs in a child process (uvicorn, h11, one runtime, the real k2-filesystem over stdio, trajectory
recording and sealed storage on, as `k2 serve` runs by default), answering from a zero-latency scripted model
(the in-process `ScriptedProvider`), so the figures are the host's own cost per request. This process is the
client (httpx, one connection pool).

(a) `POST /v1/chat/completions`, non-streamed, N requests with 1 and with 16 in flight: requests/s, p50, p99.
(b) Memory: the child's RSS (from /proc) after warm-up; after S sessions were created over the native API and
    each answered 4 runs (history kept); and while S runs are live at once, each paused inside a tool call
    (`host.hold`, streamed over its own connection). Marginal MB per live session = (live - warm) / S. The
    design's figure is 100 agents at ~50 MB each; the issue's target is < 10 MB marginal per session.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.host.scripted_llm
FS = str(Path(sys.executable).parent / "k2-filesystem")


# ------------------------------------------------------------------------------------------ the server side


def reply(messages: list[Any], tools: list[Any]) -> Any:
    from k2_host.llm.base import ToolCall
    from k2_host.llm.testing import Reply

    last = messages[-1]
    if last.role == "tool":
        return Reply(text="released")
    if "hold" in last.content:
        return Reply(tool_calls=[ToolCall(id="h", name="host.hold", arguments={})])
    return Reply(text=f"ok: {last.content[:80]}")


async def child(state: Path) -> None:
    from k2_host.agent.local_tools import LocalTool
    from k2_host.api.app import ApiService, ApiSettings
    from k2_host.api.serve import api_files
    from k2_host.config import HostConfig, ServerConfig
    from k2_host.llm.base import ToolSpec
    from k2_host.llm.testing import ScriptedProvider
    from k2_host.mcp.types import ToolResult
    from k2_host.runtime import build_runtime
    from k2_shared.http import bind_socket

    from tests.host.scripted_llm import serving

    root = state / "proj"
    root.mkdir()
    (root / "notes.txt").write_text("the staging port is 8443\n")
    server = ServerConfig(name="filesystem", command=FS, args=["--root", str(root)])
    config = HostConfig(servers=[server], roots=[str(root)], state_dir=state / "state")
    runtime = build_runtime(config, provider=ScriptedProvider(reply))

    async def hold(arguments: dict[str, Any], run: Any) -> ToolResult:
        await anyio.Event().wait()  # until the run is cancelled
        raise AssertionError("not reached")

    runtime.local_tools.add(LocalTool(ToolSpec(name="host.hold", description="waits", input_schema={}), hold))
    keys, audit = api_files(state / "state")
    _, key = keys.create("bench", "admin")
    settings = ApiSettings(rate_per_minute=1e9, burst=1_000_000, approval_timeout_s=3600)
    service = ApiService(runtime, keys, audit, settings)
    sock = bind_socket("127.0.0.1", 0)  # as `k2 serve` binds
    async with service.lifespan(None), serving(service.app(), sock):  # type: ignore[arg-type]
        print(json.dumps({"port": sock.getsockname()[1], "key": key}), flush=True)  # ready
        await anyio.Event().wait()  # until terminated


# ------------------------------------------------------------------------------------------ the client side


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def chat_load(c: httpx.AsyncClient, n: int, inflight: int) -> tuple[float, list[float]]:
    body = {"model": "k2", "messages": [{"role": "user", "content": "hello there"}]}
    took: list[float] = []
    todo = iter(range(n))

    async def worker() -> None:
        for _ in todo:
            t0 = time.perf_counter()
            r = await c.post("/v1/chat/completions", json=body)
            took.append(time.perf_counter() - t0)
            if r.status_code != 200 or not r.json()["choices"][0]["message"]["content"].startswith("ok:"):
                raise RuntimeError(f"bad answer: {r.status_code} {r.text[:200]}")

    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(inflight):
            tg.start_soon(worker)
    return n / (time.perf_counter() - started), took


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"XDG_CONFIG_HOME": str(Path(tmp) / "config"), "HF_HUB_OFFLINE": "1"}  # its own key ring
        proc = subprocess.Popen([sys.executable, __file__, "--child", tmp], stdout=subprocess.PIPE, env=env, text=True)
        try:
            assert proc.stdout is not None
            hello = json.loads(proc.stdout.readline())  # written once the server is ready
            anyio.run(drive, args, proc.pid, hello)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


async def drive(args: argparse.Namespace, pid: int, hello: dict[str, Any]) -> None:
    url = f"http://127.0.0.1:{hello['port']}"
    limits = httpx.Limits(max_connections=args.sessions + 32, max_keepalive_connections=args.sessions + 32)
    headers = {"Authorization": f"Bearer {hello['key']}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as c:
        await chat_load(c, 100, 4)  # warm-up
        print(f"k2 serve, zero-latency scripted model, {args.requests} requests per row (pid {pid})")
        print(f"{'in flight':>9} | {'req/s':>7} | {'p50 ms':>7} | {'p99 ms':>7}")
        for inflight in (1, 16):
            rps, took = await chat_load(c, args.requests, inflight)
            print(f"{inflight:>9} | {rps:7.0f} | {pct(took, 0.5):7.2f} | {pct(took, 0.99):7.2f}")

        warm = rss_mb(pid)
        sessions = [(await c.post("/v1/sessions", json={})).json()["id"] for _ in range(args.sessions)]

        async def history(sid: str) -> None:
            for i in range(4):
                r = await c.post(f"/v1/sessions/{sid}/runs", json={"input": f"turn {i}", "stream": False})
                if r.json()["status"] != "completed":
                    raise RuntimeError(r.text[:200])

        async with anyio.create_task_group() as tg:
            for sid in sessions:
                tg.start_soon(history, sid)
        kept = rss_mb(pid)

        held = anyio.Event()
        live: list[str] = []

        async def hold(sid: str) -> None:
            body = {"input": "hold here", "stream": True}
            async with c.stream("POST", f"/v1/sessions/{sid}/runs", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and '"tool":"host.hold"' in line.replace(" ", ""):
                        live.append(json.loads(line[6:])["run_id"])
                        if len(live) == len(sessions):
                            held.set()
                    if line.startswith("event: run.cancelled"):
                        return

        async with anyio.create_task_group() as tg:
            for sid in sessions:
                tg.start_soon(hold, sid)
            with anyio.fail_after(120):
                await held.wait()
            running = rss_mb(pid)
            for run_id in live:
                await c.post(f"/v1/runs/{run_id}/cancel")
        n = len(sessions)
        per_live = (running - warm) / n
        print()
        print(f"memory of the server process (RSS), {n} sessions")
        print(f"  warm, before any session    {warm:8.1f} MB")
        print(f"  each with 4 runs kept       {kept:8.1f} MB  (+{(kept - warm) / n:.2f} MB per session)")
        print(f"  {n} runs live at once       {running:8.1f} MB  (+{per_live:.2f} MB per live session)")
        print(f"  target < 10 MB marginal per session: {'met' if per_live < 10 else 'NOT met'}")
        print(f"  (cpus {os.cpu_count()}, load {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        anyio.run(child, Path(ns.child))
    else:
        main(ns)
