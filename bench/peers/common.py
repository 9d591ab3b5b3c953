"""Shared by every driver of bench_host_peers.py: the scenarios, the timing and the memory figures.

Standard library only, so the same file runs in each peer's venv. A driver builds its host, hands `drive` an
`ask(prompt)` coroutine that runs one request to its end, and `drive` prints one line `K2BENCH {json}`.
The scripted model reads the scenario from the prompt (`task=a`, `task=p5`, `task=s20`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Awaitable, Callable

Ask = Callable[[str], Awaitable[object]]


def settings() -> dict[str, str]:
    """What the orchestrator passes in the environment: model URL, MCP server command, file root."""
    return {
        "base_url": os.environ["K2B_BASE_URL"],
        "fs": os.environ["K2B_FS"],
        "root": os.environ["K2B_ROOT"],
    }


def server_env() -> dict[str, str]:
    """The MCP server's environment, the same for every host (some clients pass only what they are given)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "K2_FS_LOG_LEVEL": "WARNING",
    }


def status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def plan() -> tuple[int, list[tuple[str, int]]]:
    """Warm-up requests per scenario, and (scenario, timed requests) in order, from K2B_WARM and K2B_REPS."""
    reps = [(name, int(n)) for name, _, n in (p.partition("=") for p in os.environ["K2B_REPS"].split(","))]
    return int(os.environ.get("K2B_WARM", "3")), reps


async def drive(ask: Ask, import_rss_kb: int) -> None:
    warm, reps = plan()
    out: dict[str, object] = {"import_rss_kb": import_rss_kb, "python": sys.version.split()[0]}
    for name, n in reps:
        for i in range(warm):
            await ask(f"task={name} warm-up {i}")
        walls: list[float] = []
        cpu0 = time.process_time()
        for i in range(n):
            t0 = time.perf_counter()
            await ask(f"task={name} request {i}")
            walls.append((time.perf_counter() - t0) * 1000)
        out[name] = {"wall_ms": walls, "cpu_ms": (time.process_time() - cpu0) * 1000 / n}
    out["peak_rss_kb"] = status_kb("VmHWM")
    print("K2BENCH " + json.dumps(out), flush=True)
