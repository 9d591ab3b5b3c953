"""`k2 feedback` and `k2 learn …`: rate answers, and let the host learn from them (see `k2_host.learning`).

k2 feedback good|bad [--note TEXT] [--skill NAME|none] [--id ID]
                                 rate the last answer (or answer ID); --skill says which skill should have
                                 answered it (a correction), --note what was wrong or right (a lesson)
k2 learn status                  experiences, replay buffer, router versions, playbook, curriculum levels
k2 learn train [--batches N]     collect new experience, replay N prioritized batches into a candidate router,
                                 gate it against the current one and promote it when it passes (--no-promote)
k2 learn eval [ID]               gate a candidate (default: the newest) without changing anything
k2 learn promote ID [--force]    make a version current (after the gate passes it, or --force)
k2 learn rollback                back to the version before the current one (or the shipped router)
k2 learn export --sft F --dpo F  OpenAI-style JSONL for fine-tuning elsewhere
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from k2_host.cli.context import CliContext
from k2_host.learning.curriculum import LEVELS
from k2_host.learning.experience import NO_SKILL, normalized
from k2_host.learning.gate import GateDecision
from k2_host.learning.store import MAX_NOTE_CHARS, Feedback


def add_commands(sub: Any) -> None:
    fb = sub.add_parser("feedback", help="rate the last answer: good or bad (with a note, or the right skill)")
    fb.add_argument("rating", choices=["good", "bad"])
    fb.add_argument("--note", default="", help="what was right or wrong (kept as a lesson)")
    fb.add_argument("--skill", help="the skill that should have answered ('none': no skill)")
    fb.add_argument("--id", help="the answer's request id (default: the last answer; see `k2 trajectories`)")
    fb.set_defaults(func=cmd_feedback)

    p = sub.add_parser("learn", help="the training layer: status, train, eval, promote, rollback, export")
    s = p.add_subparsers(dest="learn_command", required=True, metavar="ACTION")
    s.add_parser("status", help="what has been learned so far").set_defaults(func=cmd_status)
    tr = s.add_parser("train", help="learn from new experience; gate and promote the result")
    tr.add_argument("--batches", type=int, default=8, help="replayed batches (default 8)")
    tr.add_argument("--seed", type=int, help="random seed of the replay sampling")
    tr.add_argument("--no-promote", action="store_true", help="keep the result as a candidate")
    tr.add_argument("--route-only", action="store_true", help="gate on routing alone (no skill runs)")
    tr.set_defaults(func=cmd_train)
    ev = s.add_parser("eval", help="gate a candidate without changing anything")
    ev.add_argument("id", nargs="?", type=int)
    ev.add_argument("--route-only", action="store_true", help="gate on routing alone (no skill runs)")
    ev.set_defaults(func=cmd_eval)
    pr = s.add_parser("promote", help="make a router version current")
    pr.add_argument("id", type=int)
    pr.add_argument("--force", action="store_true", help="without the gate")
    pr.add_argument("--route-only", action="store_true", help="gate on routing alone (no skill runs)")
    pr.set_defaults(func=cmd_promote)
    s.add_parser("rollback", help="back to the previous router version").set_defaults(func=cmd_rollback)
    ex = s.add_parser("export", help="rated answers as JSONL for fine-tuning elsewhere")
    ex.add_argument("--sft", type=Path, help="answers rated good: messages with tool calls, and tools")
    ex.add_argument("--dpo", type=Path, help="preferred / non-preferred answers to the same request")
    ex.set_defaults(func=cmd_export)


def _err(message: str) -> int:
    print(f"k2: {message}", file=sys.stderr)
    return 2


async def cmd_feedback(args: argparse.Namespace, ctx: CliContext) -> int:
    if len(args.note) > MAX_NOTE_CHARS:
        return _err(f"--note is {len(args.note)} characters long; at most {MAX_NOTE_CHARS} are kept: shorten it")
    async with ctx.runtime(use_knowledge=False) as rt:
        store = rt.trajectories
        if store is None:
            return _err("learning.record is off: no answers are kept to rate")
        if args.skill and args.skill != NO_SKILL and rt.skills.registry.get(args.skill) is None:
            return _err(f"no skill named {args.skill!r}; see `k2 skills list` (or 'none' for no skill)")
        tid = args.id
        if tid is None:
            last = [t for t in await store.list(limit=50) if t.parent_id is None]
            if not last:
                return _err("no answer to rate yet: ask something first (`k2 ask ...`)")
            tid = last[0].id
        trajectory = await store.get(tid)
        if trajectory is None:
            return _err(f"no recorded answer {tid!r}; see `k2 trajectories`")
        feedback = Feedback(trajectory_id=tid, rating=args.rating, note=args.note, by="local", skill=args.skill or "")
        await store.add_feedback(feedback)
    data = {"request_id": tid, "rating": args.rating, "skill": args.skill, "query": trajectory.query}
    what = f" (should have been: {args.skill})" if args.skill else ""
    text = f"rated {args.rating}{what}: {trajectory.query[:80]}\nrun `k2 learn train` to learn from it"
    print(json.dumps(data) if ctx.args.json else text)
    return 0


def _gate_table(console: Console, gate: GateDecision) -> None:
    table = Table(title="regression gate: current vs candidate (same tasks, McNemar)")
    for col in ("metric", "tasks", "current", "candidate", "+won", "-lost", "p", "95% CI of the gain"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for m in gate.metrics:
        table.add_row(
            m.name,
            str(m.tasks),
            f"{m.current:.3f}",
            f"{m.candidate:.3f}",
            str(m.gained),
            str(m.lost),
            f"{m.p_value:.4f}",
            f"[{m.ci[0]:+.3f}, {m.ci[1]:+.3f}]",
        )
    console.print(table)
    console.print(("PROMOTED: " if gate.promote else "REJECTED: ") + gate.reason)


async def cmd_status(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.runtime(use_knowledge=False) as rt:
        learner = rt.learner()
        store = learner.store
        counts = store.counts()
        versions = store.versions()
        lessons = store.lessons()
        levels = rt.skills.metrics.by_difficulty() if rt.skills.metrics else {}
        passes: dict[str, list[bool]] = {lv: [] for lv in LEVELS}
        for e in store.experiences():
            if e.difficulty in passes and e.source in ("verifier", "feedback", "correction"):
                passes[e.difficulty].append(e.reward > 0 and e.target in (None, e.used))
        replay = {"size": len(store.replay), "capacity": store.replay.capacity}
    data = {
        "experiences": counts,
        "replay": replay,
        "versions": [
            {"id": v.id, "status": v.status, "pairs": len(v.pairs), "reason": v.reason, "created": v.created}
            for v in versions
        ],
        "lessons": [
            {"id": x.id, "skill": x.skill, "text": x.text, "helpful": x.helpful, "harmful": x.harmful} for x in lessons
        ],
        "levels": {
            lv: {"rated": len(p), "pass_rate": round(sum(p) / len(p), 3) if p else None, **levels.get(lv, {})}
            for lv, p in passes.items()
        },
    }
    if ctx.args.json:
        print(json.dumps(data, indent=2))
        return 0
    console = Console()
    total = sum(counts.values())
    console.print(
        f"experiences: {total} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none yet'}); "
        f"replay buffer {replay['size']}/{replay['capacity']}"
    )
    table = Table(title="router versions")
    for col in ("id", "status", "pairs", "reason"):
        table.add_column(col)
    for v in versions:
        table.add_row(str(v.id), v.status, str(len(v.pairs)), v.reason[:100])
    if not versions:
        table.add_row("-", "current", "0", "the shipped router (nothing learned yet)")
    console.print(table)
    lv = Table(title="levels (easy -> expert)")
    for col in ("level", "rated answers", "pass rate", "skill runs", "proficiency"):
        lv.add_column(col)
    for name, row in data["levels"].items():
        rate = "-" if row["pass_rate"] is None else f"{row['pass_rate']:.2f}"
        lv.add_row(name, str(row["rated"]), rate, str(row.get("runs", 0)), str(row.get("proficiency", "-")))
    console.print(lv)
    console.print(f"playbook: {len(lessons)} lesson(s)")
    for x in sorted(lessons, key=lambda x: -x.score)[:10]:
        console.print(f"  +{x.helpful}/-{x.harmful} {('[' + x.skill + '] ') if x.skill else ''}{x.text[:100]}")
    return 0


async def _gate(args: argparse.Namespace, ctx: CliContext, rt: Any, vid: int, *, apply: bool) -> GateDecision:
    from k2_host.learning.tasks import gate_tasks

    learner = rt.learner()
    tasks = await gate_tasks(learner, ctx.config().state_dir, run=not args.route_only)
    if apply:
        return await learner.gate(vid, tasks)
    version = learner.store.version(vid)
    if version is None:
        raise ValueError(f"no router version {vid}; see `k2 learn status`")
    ev = await learner.evaluate(version.pairs, tasks)
    assert ev.gate is not None
    return ev.gate


async def cmd_train(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.batches < 1:
        return _err(f"--batches must be at least 1 (got {args.batches})")
    console = Console(stderr=True)
    async with ctx.runtime(use_knowledge=False) as rt:
        learner = rt.learner()
        columns = (TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, disable=ctx.args.json or not console.is_terminal) as bar:
            job = bar.add_task("replay", total=args.batches)
            report = await learner.train(
                batches=args.batches,
                batch_size=rt.config.learning.batch_size,
                seed=args.seed,
                on_batch=lambda done, _: bar.update(job, completed=done),
            )
        gate = None
        if report.candidate is not None and not args.no_promote:
            gate = await _gate(args, ctx, rt, report.candidate, apply=True)
    data = {"train": report.data(), "gate": gate.data() if gate else None}
    if ctx.args.json:
        print(json.dumps(data, indent=2))
    else:
        out = Console()
        out.print(
            f"collected {report.collected} new experience(s); replay buffer {report.replay_size}; "
            f"{report.batches} batch(es), {report.drawn} draws ({report.labelled_drawn} with a target), "
            f"current router's mean error on them {report.mean_error:.3f}"
        )
        if report.candidate is None:
            out.print(f"no candidate: {report.reason}")
        else:
            out.print(f"candidate router v{report.candidate}: {report.pairs} learned pairs ({report.new_pairs} new)")
        if gate is not None:
            _gate_table(out, gate)
    return 0 if report.candidate is None or gate is None or gate.promote else 1


def _newest_candidate(learner: Any) -> int | None:
    found = [v.id for v in learner.store.versions() if v.status == "candidate"]
    return found[-1] if found else None


async def cmd_eval(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.runtime(use_knowledge=False) as rt:
        vid = args.id if args.id is not None else _newest_candidate(rt.learner())
        if vid is None:
            return _err("no candidate to evaluate: `k2 learn train --no-promote` makes one")
        try:
            gate = await _gate(args, ctx, rt, vid, apply=False)
        except ValueError as exc:
            return _err(str(exc))
    if ctx.args.json:
        print(json.dumps({"id": vid, **gate.data()}, indent=2))
    else:
        _gate_table(Console(), gate)
    return 0 if gate.promote else 1


async def cmd_promote(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.runtime(use_knowledge=False) as rt:
        learner = rt.learner()
        if learner.store.version(args.id) is None:
            return _err(f"no router version {args.id}; see `k2 learn status`")
        if args.force:
            learner.promote(args.id, reason="promoted by hand (--force, without the gate)")
            print(f"router v{args.id} is current (forced)")
            return 0
        gate = await _gate(args, ctx, rt, args.id, apply=True)
    _gate_table(Console(), gate)
    return 0 if gate.promote else 1


async def cmd_rollback(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.runtime(use_knowledge=False) as rt:
        try:
            back = rt.learner().rollback()
        except ValueError as exc:
            return _err(str(exc))
    print(f"router v{back} is current again" if back is not None else "the shipped router is current again")
    return 0


async def cmd_export(args: argparse.Namespace, ctx: CliContext) -> int:
    from k2_host.learning.export import dpo_record, sft_record

    if args.sft is None and args.dpo is None:
        return _err("say where: --sft FILE and/or --dpo FILE")
    if args.sft is not None and args.dpo is not None and args.sft.resolve() == args.dpo.resolve():
        return _err("--sft and --dpo name the same file: give each its own")
    async with ctx.runtime(use_knowledge=False) as rt:
        store = rt.trajectories
        if store is None:
            return _err("learning.record is off: nothing to export")
        rated: dict[str, list[Any]] = {}
        for f in await store.feedback_since(0.0):
            rated.setdefault(f.trajectory_id, []).append(f)
        good, bad = [], []
        for tid, fbs in rated.items():
            t = await store.get(tid)
            if t is None or t.depth > 0:
                continue
            last = fbs[-1]  # the latest word on an answer counts
            (good if last.rating == "good" and not last.skill else bad).append(t)
        await rt.manager.start_all()
        specs = {s.name: s for s in rt.tool_specs()}
    files: dict[str, tuple[Path, list[str]]] = {}
    if args.sft is not None:
        files["sft"] = (args.sft, [json.dumps(sft_record(t, specs), ensure_ascii=False) for t in good])
    if args.dpo is not None:
        by_query: dict[str, list[Any]] = {}
        for t in bad:
            by_query.setdefault(normalized(t.query), []).append(t)
        lines = [
            json.dumps(dpo_record(g, b), ensure_ascii=False)
            for g in good
            for b in by_query.get(normalized(g.query), [])
        ]
        files["dpo"] = (args.dpo, lines)
    failed = _write(list(files.values()))
    if failed:
        return _err(failed)
    written = {k: {"path": str(path), "records": len(lines)} for k, (path, lines) in files.items()}
    print(
        json.dumps(written)
        if ctx.args.json
        else "; ".join(f"{k}: {v['records']} to {v['path']}" for k, v in written.items())
    )
    return 0


def _write(files: list[tuple[Path, list[str]]]) -> str | None:
    """All or nothing: each file to a temporary one beside it, renamed over it once every one is written. On a
    failure the temporary files are removed and the file and the reason are returned."""
    temps: list[Path] = []
    target = Path()
    try:
        for target, lines in files:
            if target.is_dir():  # found now, before any file is renamed (all or nothing)
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
            tmp = target.with_name(target.name + ".tmp")
            temps.append(tmp)
            tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        for tmp, (target, _) in zip(temps, files, strict=True):
            tmp.replace(target)
    except OSError as exc:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
        return f"cannot write {target}: {exc.strerror or exc}"
    return None
