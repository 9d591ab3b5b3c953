"""The training layer, measured: does feedback make the offline engine answer held-out tasks better?

    .venv/bin/python bench/bench_learning.py [--rounds 6] [--seed 0] [--json]

Tasks come from `bench/learning_tasks.py`: requests over the skills built from third-party files installed on
the machine (the standard library's sources, scikit-learn's datasets, packages' docs and configs), each with a
verifier (what a right answer must contain) and its right skill. Three disjoint parts:

    train    what a user asks and rates: each round the curriculum draws 32 of them (easy -> expert, at the level
             where the pass rate is in the learning band); each is asked through `Runtime.ask` (the real offline
             engine and servers, a trajectory recorded), checked by its verifier, and rated like a user would:
             `good` when it passed, `bad` with the right skill (a correction) when it did not. Then
             `Learner.train` collects those trajectories and feedback, replays 8 prioritized batches of 32 into a
             candidate router and the gate compares it with the current one on the gate tasks
    gate     a fifth of the train templates' tasks, never rated: the regression gate's frozen set
    heldout  never rated, never gated on: the figures. Part of it uses phrasings (templates) that appear in no
             train task ("unseen phrasing")

A held-out task passes when the engine gives the request to the right skill and the answer holds every expected
substring. Reported: held-out pass rate and routing accuracy before learning and after the rounds, with the paired
McNemar p-value (target: a gain with p < 0.05); a candidate trained on shuffled labels, which the gate must block;
and the time to sample a batch of 32 from a full 10,000-experience buffer (target < 1 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from learning_tasks import Task, build_tasks, stage  # noqa: E402


async def ask(rt: Any, task: Task, root: Path) -> tuple[bool, str | None, Any]:
    """(passed, the skill that answered, the result) for one task asked as a user would."""
    await asyncio.to_thread(stage, task, root)
    result = await rt.ask(task.query)
    used = result.skill.name if result.skill is not None and result.skill.ok else None
    passed = used == task.skill and all(e in result.answer for e in task.expect)
    return passed, used, result


def replay_timing(n: int = 5000) -> dict[str, float]:
    from k2_host.learning.replay import PrioritizedReplay

    rng = np.random.default_rng(0)
    buf = PrioritizedReplay(10_000)
    for i in range(10_000):
        buf.add(f"e{i}")
    buf.update(np.arange(10_000), rng.random(10_000))
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        buf.sample(32, rng)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": times[n // 2], "p99_ms": times[int(n * 0.99)], "mean_ms": float(np.mean(times))}


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--per-round", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from k2_host.config import load_host_config
    from k2_host.learning.curriculum import Curriculum
    from k2_host.learning.gate import compare
    from k2_host.learning.store import Feedback
    from k2_host.learning.trainer import GateTask
    from k2_host.skills.evaluate import eval_runtime

    tasks = build_tasks()
    train_all = [t for t in tasks if t.split == "train"]
    gate_templates = sorted({t.template for t in train_all})[::5]
    gate = [t for t in train_all if t.template in gate_templates]
    train = [t for t in train_all if t.template not in gate_templates]
    held = [t for t in tasks if t.split == "heldout"]
    rng = np.random.default_rng(args.seed)
    report: dict[str, Any] = {
        "tasks": len(tasks),
        "skills": len({t.skill for t in tasks}),
        "train": len(train),
        "gate": len(gate),
        "heldout": len(held),
        "heldout_unseen_phrasing": sum(t.unseen_phrasing for t in held),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="k2-bench-learning-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "xdg-state")
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "xdg-data")
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "xdg-config")
        config = load_host_config(None, root=root, state=Path(tmp) / "state")
        async with eval_runtime(config, root, "127.0.0.1") as rt:
            learner = rt.learner()
            # what each skill's own answer does on each gate task (the gate's "pass" needs it; routing is free)
            verified: dict[str, bool] = {}
            for t in gate:
                await asyncio.to_thread(stage, t, root)
                r = await rt.ask(t.query, skill=t.skill)
                verified[t.id] = all(e in r.answer for e in t.expect)
            gate_tasks = [GateTask(t.query, t.skill, verified[t.id], "gate tasks") for t in gate]

            async def heldout() -> tuple[list[bool], list[bool]]:
                passed, routed = [], []
                for t in held:
                    ok, used, _ = await ask(rt, t, root)
                    passed.append(ok)
                    routed.append(used == t.skill)
                return passed, routed

            before_pass, before_route = await heldout()
            curriculum = Curriculum()
            rounds = []
            for n in range(args.rounds):
                drawn = curriculum.draw(train, [t.difficulty for t in train], args.per_round, rng)
                ok_count = 0
                for t in drawn:
                    ok, _, result = await ask(rt, t, root)
                    curriculum.record(t.difficulty, ok)
                    ok_count += ok
                    rating = "good" if ok else "bad"
                    fb = Feedback(
                        trajectory_id=result.request_id, rating=rating, by="bench", skill="" if ok else t.skill
                    )
                    assert rt.trajectories is not None and await rt.trajectories.add_feedback(fb)
                tr = await learner.train(batches=8, batch_size=32, seed=args.seed + n)
                decision = await learner.gate(tr.candidate, gate_tasks) if tr.candidate is not None else None
                rounds.append(
                    {
                        "round": n + 1,
                        "level": curriculum.level(),
                        "asked": len(drawn),
                        "passed": ok_count,
                        "experiences": tr.collected,
                        "replay": tr.replay_size,
                        "mean_error": round(tr.mean_error, 3),
                        "candidate": tr.candidate,
                        "promoted": bool(decision and decision.promote),
                        "gate": decision.reason if decision else tr.reason,
                    }
                )
            after_pass, after_route = await heldout()
            # a candidate trained on shuffled labels must not pass the gate
            names = sorted({t.skill for t in tasks})
            shuffled = dict(zip(names, rng.permutation(names), strict=True))
            current = learner.store.current_version()
            bad = await learner.train(
                batches=8, batch_size=32, seed=args.seed, collect=False, label_noise=lambda x: shuffled.get(x or "", x)
            )
            blocked = await learner.gate(bad.candidate, gate_tasks) if bad.candidate is not None else None
            still = learner.store.current_version()
            stats = rt.skills.metrics.by_difficulty() if rt.skills.metrics else {}
    unseen = [i for i, t in enumerate(held) if t.unseen_phrasing]
    seen = [i for i, t in enumerate(held) if not t.unseen_phrasing]
    report.update(
        {
            "rounds": rounds,
            "heldout_pass": compare("pass", before_pass, after_pass).data(),
            "heldout_route": compare("route", before_route, after_route).data(),
            "heldout_pass_unseen_phrasing": compare(
                "pass", [before_pass[i] for i in unseen], [after_pass[i] for i in unseen]
            ).data(),
            "heldout_pass_seen_phrasing": compare(
                "pass", [before_pass[i] for i in seen], [after_pass[i] for i in seen]
            ).data(),
            "shuffled_candidate": {
                "blocked": blocked is not None and not blocked.promote,
                "reason": blocked.reason if blocked else bad.reason,
                "current_unchanged": (current.id if current else None) == (still.id if still else None),
            },
            "proficiency_by_difficulty": stats,
            "replay_sample_32_of_10000": replay_timing(),
            "seconds": round(time.perf_counter() - started, 1),
        }
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['tasks']} tasks over {report['skills']} skills: train {len(train)}, gate {len(gate)}, "
            f"heldout {len(held)} ({report['heldout_unseen_phrasing']} with unseen phrasing)"
        )
        for r in rounds:
            print(
                f"  round {r['round']}: level {r['level']:<6} passed {r['passed']}/{r['asked']}, replay {r['replay']}, "
                f"mean error {r['mean_error']}, candidate v{r['candidate']}: "
                f"{'promoted' if r['promoted'] else 'rejected'} ({r['gate']})"
            )
        for key in ("heldout_pass", "heldout_route", "heldout_pass_seen_phrasing", "heldout_pass_unseen_phrasing"):
            m = report[key]
            print(
                f"{key:<30} {m['current']:.3f} -> {m['candidate']:.3f}  (+{m['gained']}/-{m['lost']} of {m['tasks']}, "
                f"McNemar p = {m['p_value']:.2g}, 95% CI of the gain [{m['ci95'][0]:+.3f}, {m['ci95'][1]:+.3f}])"
            )
        s = report["shuffled_candidate"]
        print(f"shuffled-label candidate: {'BLOCKED' if s['blocked'] else 'NOT BLOCKED'} ({s['reason']})")
        rt_ = report["replay_sample_32_of_10000"]
        print(
            f"replay: a batch of 32 from 10,000 in p50 {rt_['p50_ms']:.3f} ms, "
            f"p99 {rt_['p99_ms']:.3f} ms (target < 1 ms)"
        )
        print(f"{report['seconds']} s")
    ok = (
        report["heldout_pass"]["candidate"] > report["heldout_pass"]["current"]
        and report["heldout_pass"]["p_value"] < 0.05
        and report["shuffled_candidate"]["blocked"]
        and report["replay_sample_32_of_10000"]["p50_ms"] < 1.0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
