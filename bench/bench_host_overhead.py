"""What the host adds on top of MCP: per tool call, per agent step, and the speedup of fan-out.

    .venv/bin/python bench/bench_host_overhead.py [--calls 2000] [--profile]

(a) Overhead per tool call. The same server (k2-filesystem over stdio, `read_file` of a 200-byte file; and the
    chaos server's `echo`) is called N times through `ClientManager.call` and N times through a bare SDK
    `mcp.Client.call_tool`, in the same run: both clients are connected at once (one server process each) and
    take turns in blocks of 100 calls, so a change in the machine's load falls on both. Figures: p50 and mean
    per call, and manager minus bare. The manager runs with two pass-through call middleware (one outer, one
    inner), as tracing and metrics will add them. Cache off (every call reaches the server) and cache on (in-process L1
    only; every call after the first is a hit, so this is the cost of a hit, not of a server round trip).
(b) Per agent step, with a zero-latency scripted model (tests/host/scripted_llm.py, OpenAI flavor) driving
    `Agent` through `OpenAICompatProvider`: each request is one model turn asking for one `chaos.echo` call and
    a second turn answering. Reported: ms per model step with the tool time taken out, with trajectory
    recording on (the default: SQLite under the state dir) and off.
(c) Fan-out: `Agent.fan_out` over 8 subtasks, each a `chaos.slow(0.2)` call driven by the scripted model,
    with 4 workers and with 1.

(d) Telemetry on vs off on the host call path: two worker processes, one tracing (OTLP/HTTP export to a
    loopback receiver in this process, batching processor; the k2-filesystem it starts traces too) and one
    not, each answering requests of two model steps (zero-latency scripted model) and one
    `filesystem.read_file`, with trajectory recording on (the default). They take turns in blocks of 50
    requests, so a change in the machine's load falls on both. Figure: per-request time, on vs off, and the
    overhead in percent (target < 5%). `--telemetry-only` runs just this part.

`--profile` runs (a)'s manager loop under cProfile and prints the host's own functions by cumulative time.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.host.scripted_llm

from k2_host.agent import Agent  # noqa: E402
from k2_host.config import CacheConfig, HostConfig, LearningConfig, ServerConfig  # noqa: E402
from k2_host.mcp.manager import ClientManager  # noqa: E402
from k2_host.mcp.middleware import CallContext, CallNext  # noqa: E402
from mcp import Client, StdioServerParameters  # noqa: E402

CHAOS = str(ROOT / "tests" / "host" / "chaos_server.py")
FS = str(Path(sys.executable).parent / "k2-filesystem")
BLOCK = 100

Call = Callable[[], Awaitable[Any]]


def figures(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples) * 1000, statistics.fmean(samples) * 1000


async def timed_blocks(calls: dict[str, Call], n: int) -> dict[str, list[float]]:
    """Run each call n times, taking turns in blocks; the seconds of every call."""
    out: dict[str, list[float]] = {k: [] for k in calls}
    for fn in calls.values():  # warm-up
        for _ in range(50):
            await fn()
    clock = time.perf_counter
    for _ in range(0, n, BLOCK):
        for label, fn in calls.items():
            times = out[label]
            for _ in range(BLOCK):
                t0 = clock()
                await fn()
                times.append(clock() - t0)
    return out


async def passthrough(ctx: CallContext, call_next: CallNext) -> Any:
    """A call middleware that does nothing: what one hop of the pipeline costs."""
    return await call_next(ctx)


def server_cfg(name: str, command: str, args: list[str]) -> ServerConfig:
    return ServerConfig(name=name, command=command, args=args, env={"K2_FS_LOG_LEVEL": "WARNING"})


async def bench_calls(n: int, profile: bool) -> None:
    print(f"(a) host overhead per tool call, N={n} each, stdio, taking turns in blocks of {BLOCK}")
    tmp = Path(tempfile.mkdtemp(prefix="k2-bench-"))
    (tmp / "small.txt").write_text("a small file\n" * 15)
    cases = [
        ("filesystem.read_file", server_cfg("filesystem", FS, ["--root", str(tmp)]), {"path": "small.txt"}),
        ("chaos.echo", server_cfg("chaos", sys.executable, [CHAOS]), {"text": "hello"}),
    ]
    head = ("case", "cache", "bare p50/mean ms", "manager p50/mean ms", "overhead p50/mean ms")
    print(f"{head[0]:<22} {head[1]:<5} {head[2]:>17} {head[3]:>20} {head[4]:>21}")
    for name, cfg, arguments in cases:
        for cache_on in (False, True):
            await bench_case(name, cfg, arguments, cache_on, n, tmp, profile and not cache_on and name == "chaos.echo")


async def bench_case(
    name: str, cfg: ServerConfig, arguments: dict[str, Any], cache_on: bool, n: int, tmp: Path, profile: bool
) -> None:
    bare_tool = name.partition(".")[2]
    params = StdioServerParameters(command=cfg.command or "", args=cfg.args, env=None)
    config = HostConfig(servers=[cfg], cache=CacheConfig(enabled=cache_on, disk=False))
    async with Client(params, cache=None) as bare, ClientManager(config, state_dir=tmp / "state") as manager:
        manager.use(passthrough)
        manager.use(passthrough, where="inner")

        async def via_bare() -> Any:
            result = await bare.call_tool(bare_tool, arguments)
            assert not result.is_error, result
            return result

        # The SDK call inside the manager is timed too: total minus it is the host's own code, a figure that
        # does not move with the server's (noisy) round trip.
        inner: list[float] = []
        client = manager.groups[cfg.name].instances[0].client
        assert client is not None
        sdk_call = client.call_tool

        async def timed_call_tool(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await sdk_call(*args, **kwargs)
            finally:
                inner.append(time.perf_counter() - t0)

        client.call_tool = timed_call_tool  # type: ignore[method-assign]

        async def via_manager() -> Any:
            result = await manager.call(name, arguments)
            assert not result.is_error, result
            return result

        times = await timed_blocks({"bare": via_bare, "manager": via_manager}, n)
        b50, bmean = figures(times["bare"])
        m50, mmean = figures(times["manager"])
        label = "on" if cache_on else "off"
        own = ""
        if not cache_on:
            host = [t - i for t, i in zip(times["manager"], inner[-len(times["manager"]) :], strict=True)]
            own = "   host code p50/mean {:.3f} / {:.3f} ms".format(*figures(host))
        print(
            f"{name:<22} {label:<5} {b50:8.3f} /{bmean:7.3f} {m50:10.3f} /{mmean:7.3f}"
            f" {m50 - b50:+11.3f} /{mmean - bmean:+7.3f}{own}"
        )
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(n):
                await via_manager()
            profiler.disable()
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).sort_stats("tottime")
            stats.print_stats(25)
            print(text.getvalue())


def echo_script(body: dict[str, Any]) -> Any:
    from tests.host.scripted_llm import Turn, tool_call

    last = body["messages"][-1]
    if last["role"] == "tool":
        return Turn(text="done")
    text = str(last.get("content", ""))
    if text.startswith("slow"):
        return Turn(tool_calls=[tool_call("chaos.slow", {"seconds": 0.2})])
    return Turn(tool_calls=[tool_call("chaos.echo", {"text": text})])


async def bench_agent(steps: int) -> None:
    try:
        from k2_host.llm.openai_compat import OpenAICompatProvider

        from tests.host.scripted_llm import scripted_llm
    except ImportError as exc:
        print(f"(b)/(c) skipped: {exc}")
        return
    tmp = Path(tempfile.mkdtemp(prefix="k2-bench-agent-"))
    async with scripted_llm(echo_script) as llm:
        provider = OpenAICompatProvider(model="scripted", base_url=llm.base_url, max_retries=0, key_env=None)
        for record in (True, False):
            config = HostConfig(
                servers=[server_cfg("chaos", sys.executable, [CHAOS])],
                cache=CacheConfig(enabled=False),
                learning=LearningConfig(record=record),
            )
            async with Agent(config, provider=provider, state_dir=tmp / f"record-{record}") as agent:
                await agent_steps(agent, steps, record)
                if record:
                    assert agent.trajectories is not None
                    stored = await agent.trajectories.count()
                    print(f"trajectories recorded: {stored}")
                else:
                    await bench_fan_out(agent)


async def agent_steps(agent: Agent, steps: int, record: bool) -> None:
    for i in range(10):  # warm-up
        await agent.ask(f"warm {i}")
    per_step: list[float] = []
    model: list[float] = []
    tools: list[float] = []
    for i in range(steps):
        result = await agent.ask(f"question {i}")
        assert result.stopped == "done" and len(result.tool_calls) == 1, result
        n = len(result.steps)
        per_step.append((result.timings.total_ms - result.timings.tools_ms) / n)
        model.append(result.timings.model_ms / n)
        tools.append(result.timings.tools_ms)
    state = "on" if record else "off"
    print(f"\n(b) agent step with a zero-latency scripted model, {steps} requests x 2 steps, recording {state}")
    print(
        f"per step minus tool time: p50 {statistics.median(per_step):.2f} ms, "
        f"mean {statistics.fmean(per_step):.2f} ms (of which the model client round trip: "
        f"p50 {statistics.median(model):.2f} ms); tool call: p50 {statistics.median(tools):.2f} ms"
    )


async def bench_fan_out(agent: Agent) -> None:
    print("\n(c) fan-out over 8 subtasks, each one chaos.slow(0.2) call")
    walls = {}
    for workers in (1, 4):
        fan = await agent.fan_out([f"slow {i}" for i in range(8)], workers=workers)
        assert all(r.stopped == "done" for r in fan.results), fan
        walls[workers] = fan.wall_ms
        print(f"workers={workers}: wall {fan.wall_ms:7.1f} ms, sum of subtasks {fan.sum_ms:7.1f} ms")
    print(f"speedup 4 vs 1 worker: {walls[1] / walls[4]:.2f}x")


def read_file_script(body: dict[str, Any]) -> Any:
    from tests.host.scripted_llm import Turn, tool_call

    if body["messages"][-1]["role"] == "tool":
        return Turn(text="done", usage={"prompt_tokens": 300, "completion_tokens": 2})
    return Turn(
        tool_calls=[tool_call("filesystem.read_file", {"path": "small.txt"})],
        usage={"prompt_tokens": 250, "completion_tokens": 12},
    )


def children_cpu_s() -> float:
    """User + system seconds of this process's live children (its MCP servers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        for child in Path(f"/proc/{os.getpid()}/task/{task}/children").read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def telemetry_worker(endpoint: str | None) -> None:
    """One side of (d): answer `N` (a line on stdin) requests, print their seconds as a JSON line."""
    import json

    from k2_host.config import TelemetryConfig
    from k2_host.llm.openai_compat import OpenAICompatProvider

    from tests.host.scripted_llm import scripted_llm

    tmp = Path(tempfile.mkdtemp(prefix="k2-bench-otel-"))
    (tmp / "small.txt").write_text("a small file\n" * 15)
    async with scripted_llm(read_file_script) as llm:
        provider = OpenAICompatProvider(model="scripted", base_url=llm.base_url, max_retries=0, key_env=None)
        config = HostConfig(
            servers=[server_cfg("filesystem", FS, ["--root", str(tmp)])],
            cache=CacheConfig(enabled=False),
            telemetry=TelemetryConfig(otlp_endpoint=endpoint),
        )
        # settle_heap: a long-running host, as `k2 serve` runs it (start-up objects frozen out of the collector)
        async with Agent(config, provider=provider, state_dir=tmp / "state", settle_heap=True) as agent:
            assert (agent.runtime.tracing is not None) == (endpoint is not None)
            for i in range(30):  # warm-up
                await agent.ask(f"warm {i}")
            print("ready", flush=True)
            while line := await anyio.to_thread.run_sync(sys.stdin.readline):
                times = []
                own0, servers0 = time.process_time(), children_cpu_s()
                for i in range(int(line)):
                    t0 = time.perf_counter()
                    result = await agent.ask(f"question {i}")
                    times.append(time.perf_counter() - t0)
                    assert result.stopped == "done" and len(result.tool_calls) == 1, result
                own, servers = time.process_time() - own0, children_cpu_s() - servers0
                print(json.dumps({"times": times, "worker": own, "servers": servers}), flush=True)


def bench_telemetry(requests: int, protobuf: bool) -> None:
    import json
    import subprocess

    from tests.host.otlp_support import OtlpReceiver

    print(f"\n(d) telemetry on vs off: {requests} requests each (2 model steps + 1 filesystem.read_file), blocks of 50")
    with OtlpReceiver() as otlp:
        modes: dict[str, tuple[list[str], dict[str, str]]] = {
            "off": ([], {}),
            "on (http/json)": (["--otlp", otlp.url], {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}),
        }
        if protobuf:
            modes["on (http/protobuf)"] = (["--otlp", otlp.url], {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
        workers = {
            mode: subprocess.Popen(
                [sys.executable, __file__, "--telemetry-worker", *extra],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, **env},  # the worker's servers inherit it: their spans go the same way
            )
            for mode, (extra, env) in modes.items()
        }
        times: dict[str, list[float]] = {mode: [] for mode in modes}
        # CPU seconds over its blocks of each worker (with its scripted model) and of its servers, apart
        cpu = {mode: {"worker": 0.0, "servers": 0.0} for mode in modes}
        try:
            for proc in workers.values():
                assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            for _ in range(0, requests, 50):
                for mode, proc in workers.items():
                    assert proc.stdin is not None and proc.stdout is not None
                    proc.stdin.write("50\n")
                    proc.stdin.flush()
                    block = json.loads(proc.stdout.readline())
                    times[mode].extend(block["times"])
                    cpu[mode]["worker"] += block["worker"]
                    cpu[mode]["servers"] += block["servers"]
        finally:
            for proc in workers.values():
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(60)
        spans = otlp.wait_for(lambda spans: len(spans) > 0, timeout=30)
        content_types = sorted(otlp.content_types)
    services = sorted({s.service for s in spans})
    print(f"{len(spans)} spans from {services} as {content_types}")
    off50, offmean = figures(times["off"])

    def per_request(mode: str, part: str | None = None) -> float:
        seconds = sum(cpu[mode].values()) if part is None else cpu[mode][part]
        return seconds / len(times[mode]) * 1e3

    off_cpu = per_request("off")
    print("mode                 p50 ms   mean ms   CPU ms/request: all (worker + scripted model / its servers)")
    for mode in modes:
        p50, mean = figures(times[mode])
        per = per_request(mode)
        line = (
            f"{mode:<20} {p50:7.3f}  {mean:8.3f}   {per:.3f} "
            f"({per_request(mode, 'worker'):.3f} / {per_request(mode, 'servers'):.3f})"
        )
        if mode != "off":
            line += (
                f"   overhead: p50 {(p50 / off50 - 1) * 100:+.1f}%, mean {(mean / offmean - 1) * 100:+.1f}%, "
                f"CPU {(per / off_cpu - 1) * 100:+.1f}% (target < 5%)"
            )
        print(line)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--requests", type=int, default=1000, help="(d): requests per side")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--telemetry-only", action="store_true")
    parser.add_argument(
        "--compare-protobuf", action="store_true", help="(d): a third worker exports with OpenTelemetry's protobuf"
    )
    parser.add_argument("--telemetry-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--otlp", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.telemetry_worker:
        await telemetry_worker(args.otlp)
        return
    if not args.telemetry_only:
        await bench_calls(args.calls, args.profile)
        await bench_agent(args.steps)
    await anyio.to_thread.run_sync(bench_telemetry, args.requests, args.compare_protobuf)


if __name__ == "__main__":
    anyio.run(main)
