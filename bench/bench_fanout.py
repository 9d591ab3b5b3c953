"""Fan-out speedup: one request whose model delegates 8 or 16 independent sub-questions, sequential against pooled.

    .venv/bin/python bench/bench_fanout.py [--tasks 8 16] [--workers 1 2 4 8 16] [--reps 3] [--replicas 1]
        [--final model direct]
    .venv/bin/python bench/bench_fanout.py --tasks 16 --workers 16 --reps 1 --profile   # cProfile of the host

A top-level request goes to `Agent.ask`; its scripted model (step 1) calls `agent.delegate` with N sub-questions
and (step 2) answers with the merged result. Each sub-agent runs three model steps and three real MCP tool calls
against this repo's servers over stdio:

- package questions (k2-filesystem, rooted at the venv's site-packages): step 1 asks for `grep` (exception
  classes in the package's `*.py`) and `search_files` (`*.py`) at once, step 2 `read_file` of the first match,
  step 3 answers with the counts and that line;
- sales questions (k2-database, a DuckDB file of 1,000,000 generated rows): step 1 `describe_table` and a
  revenue `query_database` at once, step 2 the best product of a year, step 3 answers.

The model is a bench-local scripted OpenAI-compatible server in a subprocess (uvicorn, real HTTP on 127.0.0.1,
requests served concurrently on its event loop; `tests/host/scripted_llm.py` builds the responses). Every
reply waits like a hosted model before it is sent: time to first token uniform in 300-800 ms plus 5 ms per
output token, drawn from a fixed seed and the (question, step) it answers, so every mode sees the same delays.
The result cache is off, so every tool call reaches its server.

With `--final model` (the default) the top-level model writes the merged answers out as its final answer, so its
two steps (the `agent.delegate` call with the N questions, then N answers) cost time in proportion to N and stay
serial in every mode. With `--final direct` its top-level request asks for the answers as they are, and the model
calls `agent.delegate` with `return_directly: true`: the host returns the merged answers as the final answer, and
there is no second top-level step. `--final model direct` rotates both in the same repetitions; each has its own
sequential baseline (workers=1, the same final mode), and the direct runs are also set against the model mode's.

Modes: `agent.fan_out_workers` = 1 (sequential: the same sub-agents one after another) and 2, 4, 8, 16; the
modes take turns in each repetition (rotated), and the figures are medians over the repetitions. Every mode's
final answer must equal the first run's and match the ground truth computed here directly (Python over the
same files, DuckDB on the same file), and the model delays summed over a request must be the same in every
mode: the bench asserts all three. Nothing asserts on time. Beside the wall times it prints the CPU seconds
each process used per request (host, each server, the model server; from /proc) and the bound that perfect
overlap would give: the sequential run's top-level steps plus its longest sub-agent.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.host.scripted_llm

SEED = 20261206
TTFT_S = (0.3, 0.8)
PER_TOKEN_S = 0.005
ROWS = 1_000_000
PACKAGES = [
    "mcp",
    "rich",
    "anyio",
    "httpx",
    "starlette",
    "uvicorn",
    "jsonschema",
    "urllib3",
    "httpcore",
    "websockets",
    "fsspec",
    "jinja2",
]
REGIONS = ["north", "south", "east", "west", "central", "islands"]
PRODUCTS = 40
YEARS = (2024, 2025)
ERROR_CLASS = r"^class \w*(?:Error|Exception)\b"
TOP = "Answer each of these questions:"
TOP_DIRECT = "Answer each of these questions, as they are:"  # the model delegates with `return_directly`
PACKAGE_Q = re.compile(r"^In the installed package (\w+): how many modules, how many exception classes")
SALES_Q = re.compile(r"^Sales in region (\w+): total revenue, and the best product in (\d{4})\?")


# --------------------------------------------------------------------------------------------- the questions


def questions(n: int) -> list[str]:
    """n independent sub-questions: about 5 package questions to 3 sales questions."""
    out: list[str] = []
    pkgs = iter(PACKAGES)
    sales = iter([(r, y) for y in YEARS for r in REGIONS])
    for i in range(n):
        if i % 8 in (2, 5, 7):
            region, year = next(sales)
            out.append(f"Sales in region {region}: total revenue, and the best product in {year}?")
        else:
            pkg = next(pkgs)
            out.append(
                f"In the installed package {pkg}: how many modules, how many exception classes, and the first one?"
            )
    return out


def top_request(tasks: list[str], direct: bool = False) -> str:
    return (TOP_DIRECT if direct else TOP) + "\n" + "\n".join(f"- {t}" for t in tasks)


# --------------------------------------------------------------------------------------------- the scripted model


def _tool_results(body: dict[str, Any]) -> list[Any]:
    """The JSON of the tool results since the model's last turn, in order."""
    out: list[Any] = []
    for m in reversed(body["messages"]):
        if m["role"] != "tool":
            break
        out.append(_unwrap(m["content"]))
    return out[::-1]


def _inner(content: str) -> str:
    """A tool message as the host sends it, without the `<tool-result name='...'>` around the body."""
    m = re.fullmatch(r"<tool-result name='[^']*'>\n(.*)\n</tool-result>", content, flags=re.S)
    assert m, f"not a tool result: {content[:200]!r}"
    return m.group(1)


def _unwrap(content: str) -> Any:
    """A tool message's JSON, or its text."""
    inner = _inner(content)
    try:
        return json.loads(inner)
    except ValueError:
        return inner


def _step(body: dict[str, Any]) -> int:
    return sum(1 for m in body["messages"] if m["role"] == "assistant")


def _question(body: dict[str, Any]) -> str:
    return next(str(m["content"]) for m in body["messages"] if m["role"] == "user")


def script(body: dict[str, Any]) -> Any:
    """What the model says: a function of the conversation it is sent (so each mode gets the same turns)."""
    from tests.host.scripted_llm import Turn, tool_call

    question, step = _question(body), _step(body)
    if question.startswith((TOP, TOP_DIRECT)):
        if step == 0:
            tasks = [line[2:] for line in question.splitlines()[1:]]
            direct = {"return_directly": True} if question.startswith(TOP_DIRECT) else {}
            return Turn(tool_calls=[tool_call("agent.delegate", {"tasks": tasks} | direct)])
        return Turn(text=_inner(body["messages"][-1]["content"]))  # the merged answers, written out
    if m := PACKAGE_Q.match(question):
        pkg = m.group(1)
        if step == 0:
            grep = {"pattern": ERROR_CLASS, "path": pkg, "include": ["*.py"], "max_matches": 1000}
            find = {"pattern": "*.py", "path": pkg, "max_results": 5000}
            return Turn(tool_calls=[tool_call("filesystem.grep", grep), tool_call("filesystem.search_files", find)])
        if step == 1:
            grep, _ = _tool_results(body)
            first = grep["matches"][0]
            read = {"path": f"{pkg}/{first['path']}", "offset": first["line"] - 1, "limit": 1}
            return Turn(tool_calls=[tool_call("filesystem.read_file", read)])
        grep, find = _tool_results(_history_at(body, 1))
        (line,) = _tool_results(body)
        first, quoted = grep["matches"][0], _text(line).splitlines()[0].strip()  # the line, not the paging note
        return Turn(
            text=f"{pkg}: {len(find['matches'])} modules; {len(grep['matches'])} exception classes in "
            f"{grep['files_matched']} files; first {first['path']}:{first['line']}: {quoted}"
        )
    if m := SALES_Q.match(question):
        region, year = m.group(1), int(m.group(2))
        if step == 0:
            total = {
                "sql": "SELECT round(sum(qty * price), 2) AS revenue, count(*) AS orders FROM sales WHERE region = ?",
                "params": [region],
            }
            return Turn(
                tool_calls=[
                    tool_call("database.describe_table", {"table": "sales"}),
                    tool_call("database.query_database", total),
                ]
            )
        if step == 1:
            best = {
                "sql": "SELECT product, round(sum(qty * price), 2) AS revenue FROM sales WHERE region = ? AND year = ? "
                "GROUP BY product ORDER BY revenue DESC, product LIMIT 1",
                "params": [region, year],
            }
            return Turn(tool_calls=[tool_call("database.query_database", best)])
        _, total = _tool_results(_history_at(body, 1))
        (best,) = _tool_results(body)
        revenue, orders = total["rows"][0]
        product, best_revenue = best["rows"][0]
        return Turn(
            text=f"{region}: revenue {revenue} over {orders} orders; best product in {year}: {product} ({best_revenue})"
        )
    return Turn(text=f"unknown question: {question[:80]}")


def _text(result: Any) -> str:
    return str(result["content"]) if isinstance(result, dict) else str(result)


def _history_at(body: dict[str, Any], step: int) -> dict[str, Any]:
    """The conversation as it was when the model was asked for step `step` (0-based)."""
    seen, cut = 0, len(body["messages"])
    for i, m in enumerate(body["messages"]):
        if m["role"] == "assistant":
            if seen == step:
                cut = i
                break
            seen += 1
    return {"messages": body["messages"][:cut]}


def delay_s(body: dict[str, Any], turn: Any) -> float:
    """How long a hosted model would take on this turn: time to first token, then the output tokens."""
    question = _question(body).replace(TOP_DIRECT, TOP, 1)  # the same draw in both modes
    rng = random.Random(f"{SEED}:{question}:{_step(body)}")
    out = len(turn.text) + sum(len(name) + len(json.dumps(args)) for name, args in turn.tool_calls)
    return rng.uniform(*TTFT_S) + max(1, out // 4) * PER_TOKEN_S


# --------------------------------------------------------------------------------------------- the model server


def serve_model(port_file: Path) -> None:
    """The scripted model as its own process: every reply delayed by `delay_s`, requests served concurrently."""
    import uvicorn

    from tests.host.scripted_llm import ScriptedLLM, _app

    state = ScriptedLLM(base_url="")
    inner = _app(script, state)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await inner(scope, receive, send)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        body = json.loads(raw)
        try:
            delay = delay_s(body, script(body))
        except Exception:  # the script's failure is answered by the inner app (a 500 that names it)
            delay = 0.0
            if os.environ.get("K2_BENCH_DEBUG"):
                print(json.dumps(body["messages"][-3:])[:3000], file=sys.stderr)
        await asyncio.sleep(delay)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await inner(scope, replay, send)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    port_file.write_text(str(sock.getsockname()[1]))
    config = uvicorn.Config(app, log_config=None, log_level="warning", lifespan="off", ws="none", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


# --------------------------------------------------------------------------------------------- data and truth


def make_database(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    regions = "[" + ", ".join(f"'{r}'" for r in REGIONS) + "]"
    con.execute(
        f"""CREATE TABLE sales AS
        WITH h AS (
            SELECT i, CAST(hash(i) % 1000000007 AS BIGINT) AS x, CAST(hash(i, 'salt') % 1000000007 AS BIGINT) AS y
            FROM range({ROWS}) t(i)
        )
        SELECT
            i AS id,
            {regions}[1 + x % {len(REGIONS)}] AS region,
            'p' || lpad(CAST(y % {PRODUCTS} AS VARCHAR), 2, '0') AS product,
            {YEARS[0]} + (x // 7) % {len(YEARS)} AS year,
            1 + (y // 41) % 9 AS qty,
            CAST(1 + ((x // 13) % 10000) / 100.0 AS DECIMAL(10, 2)) AS price
        FROM h"""
    )
    con.close()


def expected(tasks: list[str], site: Path, db: Path) -> list[str]:
    """The answer to each task, found without the host: Python over the files, DuckDB on the file."""
    import duckdb

    out: list[str] = []
    rx = re.compile(ERROR_CLASS)
    con = duckdb.connect(str(db), read_only=True)
    for task in tasks:
        if m := PACKAGE_Q.match(task):
            pkg = m.group(1)
            modules, hits, files = 0, 0, 0
            for dirpath, _, names in os.walk(site / pkg):
                for name in names:
                    if not name.endswith(".py"):
                        continue
                    modules += 1
                    text = (Path(dirpath) / name).read_text(encoding="utf-8", errors="replace")
                    found = sum(1 for line in text.split("\n") if rx.search(line.removesuffix("\r")))
                    hits += found
                    files += found > 0
            out.append(f"{pkg}: {modules} modules; {hits} exception classes in {files} files")
        elif m := SALES_Q.match(task):
            region, year = m.group(1), int(m.group(2))
            ((revenue, orders),) = con.execute(
                "SELECT round(sum(qty * price), 2), count(*) FROM sales WHERE region = ?", [region]
            ).fetchall()
            ((product, best),) = con.execute(
                "SELECT product, round(sum(qty * price), 2) AS r FROM sales WHERE region = ? AND year = ? "
                "GROUP BY product ORDER BY r DESC, product LIMIT 1",
                [region, year],
            ).fetchall()
            out.append(f"{region}: revenue {revenue} over {orders} orders; best product in {year}: {product} ({best})")
    con.close()
    return out


def check(answer: str, tasks: list[str], truth: list[str], site: Path) -> None:
    """The merged answer: one entry per task in task order, each matching the ground truth."""
    for i, (task, want) in enumerate(zip(tasks, truth, strict=True)):
        head = f"{i + 1}. {task}\n"
        start = answer.index(head) + len(head)
        end = answer.find(f"\n\n{i + 2}. ", start)
        got = answer[start : end if end >= 0 else None]
        if PACKAGE_Q.match(task):  # the counts, then the first match: a line of that file that is a match
            m = re.fullmatch(re.escape(want) + r"; first (\S+):(\d+): (.*)", got)
            assert m, f"task {i + 1}: got {got!r}, want {want!r}; first <path>:<line>: <text>"
            rel, line, text = m.groups()
            actual = (site / want.split(":")[0] / rel).read_text(encoding="utf-8").split("\n")[int(line) - 1]
            assert actual.strip() == text and re.search(ERROR_CLASS, actual), (got, actual)
        else:
            assert got == want, f"task {i + 1}: got {got!r}, want {want!r}"


# --------------------------------------------------------------------------------------------- measuring


@dataclass
class Probe:
    """Loop middleware: each sub-agent's request, model steps and tool calls, timed."""

    sub_ms: list[float] = field(default_factory=list)
    model_ms: list[tuple[float, float]] = field(default_factory=list)  # (observed, scripted delay)
    tool_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    top_ms: list[float] = field(default_factory=list)  # the top-level model steps, observed, in order

    def reset(self) -> None:
        self.sub_ms.clear()
        self.model_ms.clear()
        self.tool_ms.clear()
        self.top_ms.clear()

    def as_middleware(self) -> Any:
        from k2_host.agent.middleware import Middleware

        probe = self

        class _Probe(Middleware):
            async def request(self, ctx: Any, call_next: Any) -> Any:
                t0 = time.perf_counter()
                result = await call_next(ctx)
                if ctx.depth > 0:
                    probe.sub_ms.append((time.perf_counter() - t0) * 1000)
                return result

            async def model_step(self, ctx: Any, call_next: Any) -> Any:
                t0 = time.perf_counter()
                response = await call_next(ctx)
                observed = (time.perf_counter() - t0) * 1000
                probe.model_ms.append((observed, scripted_ms(ctx, response)))
                if ctx.request.depth == 0:
                    probe.top_ms.append(observed)
                return response

            async def tool_call(self, ctx: Any, call_next: Any) -> Any:
                t0 = time.perf_counter()
                result = await call_next(ctx)
                if ctx.source == "mcp":
                    probe.tool_ms[ctx.call.name].append((time.perf_counter() - t0) * 1000)
                return result

        return _Probe()


def scripted_ms(ctx: Any, response: Any) -> float:
    """The delay the model server added to this step (the same function, on the same conversation)."""
    from k2_host.llm.names import wire_name

    from tests.host.scripted_llm import Turn

    user = next(m.content for m in ctx.messages if m.role == "user")
    body = {"messages": [{"role": "user", "content": user}] + [{"role": "assistant"}] * ctx.index}
    msg = response.message
    turn = Turn(text=msg.content, tool_calls=[(wire_name(c.name), c.arguments) for c in msg.tool_calls])
    return delay_s(body, turn) * 1000


def cpu_s() -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process and by its children, by role (from /proc)."""
    out = {"host": time.process_time()}
    tick, me = os.sysconf("SC_CLK_TCK"), os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) != me:
            continue
        role = next((r for key, r in CHILDREN if key in cmd), "other")
        out[role] = out.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


CHILDREN = ((b"k2-filesystem", "filesystem"), (b"k2-database", "database"), (b"--serve-model", "model"))


@dataclass
class Sample:
    wall_ms: float
    fan_ms: float
    sub_sum_ms: float
    sub_max_ms: float  # the longest sub-agent: the fan-out's floor
    model_over_ms: float  # mean observed model step minus its scripted delay
    tool_ms: dict[str, float]  # mean per tool
    tool_sum_ms: float
    top_ms: list[float]  # the top-level model steps: the `agent.delegate` call, then the final answer
    scripted_ms: float  # the model delays the server added, summed over every step (the same in every mode)
    cpu_s: dict[str, float]  # CPU seconds this request cost each process


@dataclass(frozen=True, order=True)
class Mode:
    final: str  # "model": the top-level model writes the merged answers out; "direct": `return_directly`
    workers: int

    def __str__(self) -> str:
        return f"{self.final:<6} workers={self.workers:<2}"


async def one_request(agent: Any, probe: Probe, tasks: list[str], mode: Mode) -> tuple[Sample, str]:
    agent.config.agent.fan_out_workers = mode.workers  # what `agent.delegate` uses (read at each fan-out)
    probe.reset()
    cpu0 = cpu_s()
    t0 = time.perf_counter()
    result = await agent.ask(top_request(tasks, direct=mode.final == "direct"))
    wall = (time.perf_counter() - t0) * 1000
    cpu1 = cpu_s()
    assert result.stopped == "done", result
    (delegated,) = [c for c in result.tool_calls if c.name == "agent.delegate"]
    assert not delegated.is_error, delegated
    assert len(probe.sub_ms) == len(tasks), probe.sub_ms
    top_steps = 1 if mode.final == "direct" else 2  # the delegate call, then (model) the final answer
    assert len(probe.top_ms) == top_steps, probe.top_ms
    over = [o - s for o, s in probe.model_ms]
    sample = Sample(
        wall_ms=wall,
        fan_ms=delegated.duration_ms,
        sub_sum_ms=sum(probe.sub_ms),
        sub_max_ms=max(probe.sub_ms),
        model_over_ms=statistics.fmean(over),
        tool_ms={k: statistics.fmean(v) for k, v in probe.tool_ms.items()},
        tool_sum_ms=sum(sum(v) for v in probe.tool_ms.values()),
        top_ms=list(probe.top_ms),
        scripted_ms=math.fsum(s for _, s in probe.model_ms),
        cpu_s={k: v - cpu0.get(k, 0.0) for k, v in cpu1.items()},
    )
    return sample, result.answer


def start_model(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = tmp / "model.port"
    proc = subprocess.Popen([sys.executable, __file__, "--serve-model", str(port_file)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the scripted model server did not start")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text()}/v1"


def host_config(site: Path, db: Path, replicas: int) -> Any:
    from k2_host.config import CacheConfig, ContextConfig, HostConfig, ServerConfig

    bin_dir = Path(sys.executable).parent
    env = {"K2_FS_LOG_LEVEL": "WARNING"}
    servers = {"filesystem": ["--root", str(site)], "database": ["--db", str(db)]}
    return HostConfig(
        servers=[
            ServerConfig(name=name, command=str(bin_dir / f"k2-{name}"), args=args, env=env, replicas=replicas)
            for name, args in servers.items()
        ],
        cache=CacheConfig(enabled=False),  # every tool call reaches its server, in every repetition
        context=ContextConfig(window_tokens=128_000, tool_result_tokens=8000),  # a hosted model's window
    )


async def run(args: argparse.Namespace) -> None:
    import sysconfig

    from k2_host.agent import Agent
    from k2_host.llm.openai_compat import OpenAICompatProvider

    site = Path(sysconfig.get_paths()["purelib"])
    tmp = Path(tempfile.mkdtemp(prefix="k2-bench-fanout-"))
    db = tmp / "sales.duckdb"
    make_database(db)
    model, base_url = start_model(tmp)
    try:
        provider = OpenAICompatProvider(model="scripted", base_url=base_url, max_retries=0, key_env=None)
        probe = Probe()
        config = host_config(site, db, args.replicas)
        async with Agent(config, provider=provider, state_dir=tmp / "state", middleware=[probe.as_middleware()]) as a:
            for n in args.tasks:
                modes = [Mode(f, w) for f in args.final for w in args.workers if w <= n]
                await bench_tasks(a, probe, n, modes, args, site, db)
    finally:
        model.terminate()
        model.wait(10)


async def bench_tasks(
    agent: Any, probe: Probe, n: int, modes: list[Mode], args: argparse.Namespace, site: Path, db: Path
) -> None:
    tasks = questions(n)
    truth = expected(tasks, site, db)
    print(
        f"\n{n} sub-questions ({sum(bool(PACKAGE_Q.match(t)) for t in tasks)} package, "
        f"{sum(bool(SALES_Q.match(t)) for t in tasks)} sales), modes {[str(m) for m in modes]}, {args.reps} repetitions"
    )
    _, reference = await one_request(agent, probe, tasks, max(modes, key=lambda m: m.workers))  # warm-up
    check(reference, tasks, truth, site)
    delays: dict[str, float] = {}  # the model delays of a request, by final mode (the same at every worker count)
    samples: dict[Mode, list[Sample]] = defaultdict(list)
    for rep in range(args.reps):
        order = modes[rep % len(modes) :] + modes[: rep % len(modes)]
        for mode in order:
            profiler = cProfile.Profile() if args.profile and mode == max(modes) and rep == args.reps - 1 else None
            if profiler is not None:
                profiler.enable()
            sample, answer = await one_request(agent, probe, tasks, mode)
            if profiler is not None:
                profiler.disable()
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
                print(text.getvalue())
            # The merged answer is the same text whether the model writes it out or the host returns it.
            assert answer == reference, f"{mode}: the merged answer differs from the first run"
            want = delays.setdefault(mode.final, sample.scripted_ms)
            assert sample.scripted_ms == want, f"{mode}: other model delays ({sample.scripted_ms} != {want})"
            check(answer, tasks, truth, site)
            samples[mode].append(sample)
            print(f"  rep {rep + 1} {mode} wall {sample.wall_ms:8.1f} ms  fan-out {sample.fan_ms:8.1f} ms")
    for final, delay in delays.items():
        steps = 1 + 3 * n if final == "direct" else 2 + 3 * n
        print(f"  model delays per request ({final}): {delay / 1000:.2f} s over {steps} steps")
    for final in dict.fromkeys(m.final for m in modes):
        report(n, final, sorted(m.workers for m in modes if m.final == final), samples)
    if {"model", "direct"} <= set(delays) and Mode("model", 1) in samples:
        old = med([s.wall_ms for s in samples[Mode("model", 1)]])
        print("whole request with return-directly against the sequential run without it (model writes out):")
        for mode in sorted(m for m in modes if m.final == "direct"):
            print(f"  workers={mode.workers:<2} {old / med([s.wall_ms for s in samples[mode]]):.2f}x")


def med(values: list[float]) -> float:
    return statistics.median(values)


def report(n: int, final: str, workers: list[int], all_samples: dict[Mode, list[Sample]]) -> None:
    samples = {w: all_samples[Mode(final, w)] for w in workers}
    base = samples[1]
    wall1 = med([s.wall_ms for s in base])
    fan1 = med([s.fan_ms for s in base])
    tools = sorted({k for ss in samples.values() for s in ss for k in s.tool_ms})
    how = "return-directly: no second top-level step" if final == "direct" else "the model writes the answers out"
    print(f"\n{n} sub-questions, {how}; medians over {len(base)} repetitions (ms)")
    head = f"{'workers':>7} {'wall':>8} {'speedup':>7} {'fan-out':>8} {'speedup':>7} {'top-level':>9}"
    head += f" {'sum subs':>9} {'longest':>8} {'tools sum':>9}"
    head += f" {'model over':>10} " + " ".join(f"{t.split('.')[1][:12]:>12}" for t in tools)
    print(head)
    for w in workers:
        ss = samples[w]
        wall, fan = med([s.wall_ms for s in ss]), med([s.fan_ms for s in ss])
        row = f"{w:>7} {wall:8.0f} {wall1 / wall:6.2f}x {fan:8.0f} {fan1 / fan:6.2f}x"
        row += f" {med([s.wall_ms - s.fan_ms for s in ss]):9.0f}"
        row += f" {med([s.sub_sum_ms for s in ss]):9.0f} {med([s.sub_max_ms for s in ss]):8.0f}"
        row += f" {med([s.tool_sum_ms for s in ss]):9.0f}"
        row += f" {med([s.model_over_ms for s in ss]):10.1f} "
        row += " ".join(f"{med([s.tool_ms.get(t, 0.0) for s in ss]):12.1f}" for t in tools)
        print(row)
    roles = sorted({k for ss in samples.values() for s in ss for k in s.cpu_s})
    print("CPU seconds per request, by process (median), and all of them over the wall time")
    print(f"{'workers':>7} " + " ".join(f"{r:>10}" for r in roles) + f" {'CPU/wall':>8}")
    for w in workers:
        ss = samples[w]
        busy = med([sum(s.cpu_s.values()) / (s.wall_ms / 1000) for s in ss])
        print(f"{w:>7} " + " ".join(f"{med([s.cpu_s.get(r, 0.0) for s in ss]):10.2f}" for r in roles) + f" {busy:8.2f}")
    # With perfect overlap the fan-out lasts as long as its longest sub-agent run alone (Amdahl's bound).
    top1, longest1 = med([s.wall_ms - s.fan_ms for s in base]), med([s.sub_max_ms for s in base])
    steps = [med([s.top_ms[i] for s in base]) for i in range(len(base[0].top_ms))]
    named = zip(("the delegate call", "the final answer"), steps, strict=False)
    print("top-level model steps (sequential run): " + ", ".join(f"{k} {v:.0f} ms" for k, v in named))
    print(
        f"bound with unlimited workers and no contention: fan-out {fan1 / longest1:.2f}x, "
        f"whole request {wall1 / (top1 + longest1):.2f}x (the top-level model steps, {top1:.0f} ms, stay serial)"
    )
    for label, key, one in (("whole request", "wall_ms", wall1), ("fan-out (agent.delegate)", "fan_ms", fan1)):
        met = [w for w in workers if one / med([getattr(s, key) for s in samples[w]]) >= 4.5]
        print(f"{label} >= 4.5x: {'from workers=' + str(met[0]) if met else 'not reached'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=1, help="copies of each stdio server")
    parser.add_argument(
        "--final",
        nargs="+",
        choices=["model", "direct"],
        default=["model"],
        help="how the merged answers become the final answer: the top-level model writes them out (model), or "
        "it delegates with return_directly and the host returns them (direct); both: rotated in the same runs",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the host on the last run at most workers")
    parser.add_argument("--serve-model", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_model:
        serve_model(args.serve_model)
        return
    assert 1 in args.workers, "the sequential mode (workers=1) is the baseline"
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
