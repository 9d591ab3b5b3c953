"""K2's host against peer hosts (fast-agent, pydantic-ai, openai-agents) on the same model, server and tasks.

    .venv/bin/python bench/bench_host_peers.py [--rounds 5] [--reps a=20,p5=20,s20=5] [--hosts k2,floor,...]
    .venv/bin/python bench/bench_host_peers.py --profile     # K2's driver under cProfile, once

Every host is a small driver (bench/peers/drive_<host>.py) run as its own process in its own venv: K2 from the
project's venv, each peer from bench/.peers/<peer> (made on first use with `python -m venv` and
`pip install -r bench/peers/<peer>.txt`, every package pinned; fast-agent needs Python >= 3.12, found on PATH or
under pyenv, so its overhead is taken against `floor-fa`, the floor run by that same interpreter).
All of them talk to one scripted OpenAI-compatible model (tests/host/scripted_llm.py, real HTTP on
127.0.0.1 with TCP_NODELAY, served from this process) and start the same MCP server over stdio
(`k2-filesystem --root DIR`, `read_file` of a 200-byte file). Tasks, read by the script from the prompt:

    a    one tool call, then the answer (2 model steps, 1 tool call)
    p5   five parallel tool calls in one step, then the answer (2 model steps, 5 tool calls)
    s20  twenty steps of one tool call each, then the answer (21 model steps, 20 tool calls)

The floor (drive_floor.py) makes the same HTTP round trips and MCP calls with the standard library only: no
framework, no SDK. A host's overhead is its wall time per request minus the floor's, taken in the same round
(rounds run every host once, in a rotating order), median over rounds; per step = overhead / model steps; per
tool call = (p5 - a) / 4, what each extra call of a parallel batch costs. CPU is the driver process's own
CPU time per request (the MCP server and the model server are other processes). Memory: the driver's VmRSS
after its imports and its peak (VmHWM) at the end, and a bare interpreter's peak for reference.
The script counts the tool calls it asks for and the tool results that come back (the file's text in a tool
message); a mismatch fails the run, and every driver checks that each request ends with the scripted answer.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.host.scripted_llm

from tests.host.scripted_llm import Turn, scripted_llm  # noqa: E402

PEERS = ROOT / "bench" / "peers"
VENVS = ROOT / "bench" / ".peers"
FS = str(Path(sys.executable).parent / "k2-filesystem")
DRIVERS = {
    "k2": "drive_k2.py",
    "floor": "drive_floor.py",
    "floor-fa": "drive_floor.py",  # the floor under fast-agent's interpreter (it needs Python >= 3.12)
    "pydantic-ai": "drive_pydantic_ai.py",
    "openai-agents": "drive_openai_agents.py",
    "fast-agent": "drive_fast_agent.py",
}
PEER_NAMES = ("pydantic-ai", "openai-agents", "fast-agent")
NEEDS_312 = {"fast-agent"}
STEPS = {"a": 2, "p5": 2, "s20": 21}
ROUNDS_OF_CALLS = {"a": 1, "p5": 1, "s20": 20}
WIDTH = {"a": 1, "p5": 5, "s20": 1}
WHOLE = 1 << 16  # stream a reply in one piece per field (fast-agent streams; the others do not)


class Script:
    """The scripted model: the same tool calls for every host, named as the host lists the tool."""

    def __init__(self) -> None:
        self.issued = 0
        self.returned = 0

    def __call__(self, body: dict[str, Any]) -> Turn:
        messages = body["messages"]
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        tail = messages[last_user + 1 :]
        trailing = []
        for m in reversed(tail):
            if m["role"] != "tool":
                break
            trailing.append(m)
        self.returned += sum("a small file" in json.dumps(m) for m in trailing)
        found = re.search(r"task=(\w+)", json.dumps(messages[last_user]))
        task = found.group(1) if found else "a"
        done = sum(m["role"] == "assistant" for m in tail)
        names = [t["function"]["name"] for t in body.get("tools", [])]
        name = next((n for n in names if n.endswith("read_file")), None)
        if done >= ROUNDS_OF_CALLS[task] or name is None:
            return Turn(text="done", chunk_chars=WHOLE)
        width = WIDTH[task]
        self.issued += width
        calls = [(name, {"path": "small.txt", "offset": i}) for i in range(width)]
        return Turn(tool_calls=calls, chunk_chars=WHOLE)  # type: ignore[arg-type]


def python_312() -> str:
    for name in ("python3.12", "python3.13"):
        found = shutil.which(name)
        if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:
            return found
    pyenv = sorted(Path.home().glob(".pyenv/versions/3.1[2-9]*/bin/python3"))
    if pyenv:
        return str(pyenv[-1])
    raise SystemExit("fast-agent needs Python >= 3.12: none found on PATH or under ~/.pyenv/versions")


def interpreter(host: str) -> str:
    """The host's Python, making the peer's venv on first use."""
    if host in ("k2", "floor"):
        return sys.executable
    peer = "fast-agent" if host == "floor-fa" else host
    venv = VENVS / peer
    python = venv / "bin" / "python"
    if not python.exists():
        base = python_312() if peer in NEEDS_312 else sys.executable
        print(f"making {venv} ({base}) and installing {PEERS / (peer + '.txt')} ...", flush=True)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(PEERS / f"{peer}.txt")], check=True)
    return str(python)


def bare_peak_kb(python: str) -> int:
    code = "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    return int(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)


async def run_driver(
    host: str, env: dict[str, str], script: Script, work: Path, profile: Path | None
) -> dict[str, Any]:
    script.issued = script.returned = 0
    command = [interpreter(host)]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command.append(str(PEERS / DRIVERS[host]))
    with anyio.fail_after(600):
        done = await anyio.run_process(command, env=env, cwd=work, check=False)
    out, err = done.stdout.decode(), done.stderr.decode()
    lines = [line for line in out.splitlines() if line.startswith("K2BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{host}: driver failed (rc {done.returncode})\n{out[-3000:]}\n{err[-3000:]}")
    if script.issued != script.returned:
        raise SystemExit(f"{host}: the model asked for {script.issued} tool calls, {script.returned} results came back")
    result = json.loads(lines[-1].removeprefix("K2BENCH "))
    result["tool_calls"] = script.issued
    return result


def floor_of(host: str, hosts: list[str]) -> str:
    """The floor run under the same interpreter as `host` (fast-agent's venv has another Python)."""
    return "floor-fa" if (host in NEEDS_312 or host == "floor-fa") and "floor-fa" in hosts else "floor"


def summarize(rounds: list[dict[str, dict[str, Any]]], hosts: list[str], tasks: list[str]) -> dict[str, dict[str, Any]]:
    """Per host: overhead (wall minus its floor's, per round, then the median), CPU, memory."""
    table: dict[str, dict[str, Any]] = {}
    for host in hosts:
        base = floor_of(host, hosts)

        def over(r: dict[str, dict[str, Any]], task: str, host: str = host, base: str = base) -> float:
            return statistics.median(r[host][task]["wall_ms"]) - statistics.median(r[base][task]["wall_ms"])

        row: dict[str, Any] = {"floor": base}
        for task in tasks:
            row[task] = {
                "wall": statistics.median(statistics.median(r[host][task]["wall_ms"]) for r in rounds),
                "over": statistics.median(over(r, task) for r in rounds),
                "cpu": statistics.median(r[host][task]["cpu_ms"] - r[base][task]["cpu_ms"] for r in rounds),
                "cpu_abs": statistics.median(r[host][task]["cpu_ms"] for r in rounds),
            }
        if "a" in row and "p5" in row:
            row["per_call"] = statistics.median(over(r, "p5") - over(r, "a") for r in rounds) / 4
        row["import_mb"] = statistics.median(r[host]["import_rss_kb"] for r in rounds) / 1024
        row["peak_mb"] = statistics.median(r[host]["peak_rss_kb"] for r in rounds) / 1024
        row["python"] = rounds[0][host]["python"]
        table[host] = row
    return table


def print_table(table: dict[str, dict[str, Any]], bare: dict[str, int], tasks: list[str]) -> None:
    cols = [f"{t} ovh/step" for t in tasks] + ["ovh/call p5", "cpu/step a", "import MB", "peak MB", "bare MB"]
    print(f"\n{'host':<14} {'py':<7} {'floor':<9} " + " ".join(f"{c:>12}" for c in cols))
    for host, row in table.items():
        cells = [row[t]["over"] / STEPS[t] for t in tasks]
        cells.append(row.get("per_call", float("nan")))
        cells.append(row["a"]["cpu"] / STEPS["a"] if "a" in row else float("nan"))
        cells += [row["import_mb"], row["peak_mb"], bare[host] / 1024]
        print(f"{host:<14} {row['python']:<7} {row['floor']:<9} " + " ".join(f"{c:12.3f}" for c in cells))
    print("\nmedian wall ms per request (floor included), and the driver's CPU ms per request:")
    for host, row in table.items():
        print(f"  {host:<14} " + "  ".join(f"{t} {row[t]['wall']:8.2f} ({row[t]['cpu_abs']:6.2f})" for t in tasks))
    peers = [p for p in PEER_NAMES if p in table]
    if "k2" not in table or not peers:
        return
    print("\nK2 / best peer (below 1.0: K2 is lower):")
    k2 = table["k2"]
    measures: list[tuple[str, Any]] = [
        (f"{t} overhead per step", lambda r, t=t: r[t]["over"] / STEPS[t]) for t in tasks
    ]
    if "per_call" in k2:
        measures.append(("overhead per parallel tool call", lambda r: r["per_call"]))
    measures += [("CPU per step (a)", lambda r: r["a"]["cpu"] / STEPS["a"]), ("peak RSS", lambda r: r["peak_mb"])]
    for label, get in measures:
        best = min(peers, key=lambda p: get(table[p]))
        ours, theirs = get(k2), get(table[best])
        ratio = ours / theirs if theirs > 0 else float("nan")
        print(f"  {label:<34} K2 {ours:8.3f}  best peer {best:<14} {theirs:8.3f}  ratio {ratio:5.2f}")


def print_profile(path: Path) -> None:
    import pstats

    stats = pstats.Stats(str(path))
    print("\nK2 driver profile, by cumulative time (host code and what it calls):")
    stats.sort_stats("cumulative").print_stats(r"k2_host|openai|mcp|httpx", 40)
    print("\nby own time:")
    stats.sort_stats("tottime").print_stats(25)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", default="a=20,p5=20,s20=5", help="timed requests per task")
    parser.add_argument("--warm", type=int, default=3, help="warm-up requests per task")
    parser.add_argument("--hosts", default="k2,floor,floor-fa,pydantic-ai,openai-agents,fast-agent")
    parser.add_argument("--profile", action="store_true", help="run K2's driver once under cProfile and print it")
    parser.add_argument("--json", type=Path, help="write every round's raw figures here")
    args = parser.parse_args()
    hosts = [h for h in args.hosts.split(",") if h]
    if "floor" not in hosts:
        hosts.insert(0, "floor")
    tasks = [p.partition("=")[0] for p in args.reps.split(",")]
    work = Path(tempfile.mkdtemp(prefix="k2-bench-peers-"))
    (work / "files").mkdir()
    (work / "files" / "small.txt").write_text("a small file\n" * 15)
    script = Script()
    async with scripted_llm(script) as llm:
        env = {
            **os.environ,
            "K2B_BASE_URL": llm.base_url,
            "K2B_FS": FS,
            "K2B_ROOT": str(work / "files"),
            "K2B_REPS": args.reps,
            "K2B_WARM": str(args.warm),
            "PYTHONPATH": str(PEERS),
            "OPENAI_API_KEY": "dummy",
        }
        env.pop("VIRTUAL_ENV", None)
        if args.profile:
            await run_driver("k2", env, script, work, work / "k2.prof")
            print_profile(work / "k2.prof")
            return
        bare = {h: bare_peak_kb(interpreter(h)) for h in hosts}
        rounds: list[dict[str, dict[str, Any]]] = []
        for n in range(args.rounds):
            order = hosts[n % len(hosts) :] + hosts[: n % len(hosts)]
            results = {}
            for host in order:
                results[host] = await run_driver(host, env, script, work, None)
                walls = " ".join(f"{t} {statistics.median(results[host][t]['wall_ms']):7.2f}" for t in tasks)
                calls = results[host]["tool_calls"]
                print(f"round {n + 1}/{args.rounds} {host:<14} {walls} ms ({calls} tool calls)", flush=True)
            rounds.append(results)
    if args.json:
        args.json.write_text(json.dumps(rounds))
    print_table(summarize(rounds, hosts, tasks), bare, tasks)


if __name__ == "__main__":
    anyio.run(main)
