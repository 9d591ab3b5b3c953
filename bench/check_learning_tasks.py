"""Run every task of bench/learning_tasks.py with its skill named, through the real host runtime, and check it.

    .venv/bin/python bench/check_learning_tasks.py [--skill NAME ...] [--split train|heldout] [--show N] [--json]

Each task runs in a scratch project root that holds only the task's files (copied from the third-party
sources), through a runtime of the built-in servers on that root (as `k2 skills eval` does), with the skill
named, so routing is not involved. XDG_STATE_HOME / XDG_DATA_HOME / XDG_CONFIG_HOME and the host's state dir
point into a temporary folder: nothing of the user's is read or written. A task passes when the skill answered
(not refused) and every expected substring is in the answer. Prints the counts per split, skill and difficulty,
the pass rate per skill, split and difficulty, and each failing task with the substrings it missed.
Exit 0 when at least 97% of the tasks pass.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = 0.97


@dataclass
class Outcome:
    task: Any  # learning_tasks.Task
    ok: bool
    ms: float
    missing: list[str] = field(default_factory=list)
    answer: str = ""
    reason: str = ""


async def run_all(tasks: Sequence[Any], tmp: Path) -> list[Outcome]:
    import anyio
    from k2_host.config import load_host_config
    from k2_host.skills.evaluate import eval_runtime

    root = tmp / "root"
    root.mkdir()
    config = load_host_config(None, root=root, state=tmp / "state", env=os.environ)
    out: list[Outcome] = []
    from learning_tasks import stage

    async with eval_runtime(config, root, "127.0.0.1") as rt:
        for task in tasks:
            await anyio.to_thread.run_sync(stage, task, root)
            t0 = time.perf_counter()
            try:
                result = await rt.ask(task.query, skill=task.skill)
            except Exception as exc:  # a crash of one task is a failure of that task, not of the run
                out.append(Outcome(task, False, (time.perf_counter() - t0) * 1000, list(task.expect), "", repr(exc)))
                continue
            ms = (time.perf_counter() - t0) * 1000
            use = result.skill
            refused = use is None or not use.ok
            missing = [e for e in task.expect if e not in result.answer]
            reason = "" if use is None or use.ok else use.reason
            out.append(Outcome(task, not missing and not refused, ms, missing, result.answer, reason))
    return out


def table(title: str, groups: dict[str, list[Outcome]]) -> list[str]:
    lines = [f"\n{title:<26} {'tasks':>6} {'passed':>7} {'rate':>7}"]
    for name in sorted(groups):
        rs = groups[name]
        passed = sum(r.ok for r in rs)
        lines.append(f"{name:<26} {len(rs):>6} {passed:>7} {passed / len(rs):>7.1%}")
    return lines


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skill", action="append", default=[], help="only this skill (repeatable)")
    ap.add_argument("--split", choices=["train", "heldout"], help="only this split")
    ap.add_argument("--show", type=int, default=600, help="characters of a failing answer to print (0: none)")
    ap.add_argument("--json", action="store_true", help="one JSON line per task instead of the report")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(HERE))
    from learning_tasks import build_tasks, summary

    t_build = time.perf_counter()
    tasks = build_tasks()
    build_s = time.perf_counter() - t_build
    counts = summary(tasks)
    if args.skill:
        tasks = [t for t in tasks if t.skill in args.skill]
    if args.split:
        tasks = [t for t in tasks if t.split == args.split]
    if not tasks:
        print("no tasks selected", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="k2-learning-tasks-") as tmp_name:
        tmp = Path(tmp_name)
        for var in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            (tmp / var.lower()).mkdir()
            os.environ[var] = str(tmp / var.lower())
        os.environ["K2_STATE_DIR"] = str(tmp / "state")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import anyio

        t0 = time.perf_counter()
        results = anyio.run(run_all, tasks, tmp)
        run_s = time.perf_counter() - t0

    if args.json:
        for r in results:
            row = {"id": r.task.id, "ok": r.ok, "ms": round(r.ms, 1), "missing": r.missing, "reason": r.reason}
            print(json.dumps(row, ensure_ascii=False))
        return 0

    passed = sum(r.ok for r in results)
    lines = [f"built {sum(counts['split'].values())} tasks in {build_s:.1f} s; ran {len(results)} of them"]
    for kind in ("split", "difficulty", "heldout", "skill"):
        lines.append(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts[kind].items())))
    by_skill: dict[str, list[Outcome]] = defaultdict(list)
    by_split: dict[str, list[Outcome]] = defaultdict(list)
    by_level: dict[str, list[Outcome]] = defaultdict(list)
    for r in results:
        by_skill[r.task.skill].append(r)
        by_split[r.task.split + (" (unseen phrasing)" if r.task.unseen_phrasing else "")].append(r)
        by_level[r.task.difficulty].append(r)
    lines += table("skill", by_skill) + table("split", by_split) + table("difficulty", by_level)
    failures = [r for r in results if not r.ok]
    if failures:
        lines.append(f"\n{len(failures)} failing task(s):")
    for r in failures:
        lines.append(f"\nFAIL {r.task.id}  ({r.reason or 'answered'}, {r.ms:.0f} ms)\n  query: {r.task.query}")
        lines.append(f"  missing: {r.missing}")
        if args.show:
            lines.append("  answer: " + r.answer[: args.show].replace("\n", "\n          "))
    ms = sorted(r.ms for r in results)
    lines.append(
        f"\n{passed}/{len(results)} tasks passed ({passed / len(results):.1%}) with the skill named; "
        f"{run_s:.1f} s in all, p50 {ms[len(ms) // 2]:.0f} ms per task"
    )
    print("\n".join(lines))
    return 0 if passed / len(results) >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
