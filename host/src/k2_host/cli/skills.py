"""`k2 skills …`: the skills layer from the command line (see `k2_host.skills`).

k2 skills list [--category C]        the skills in effect (name, category, difficulty, offline, source)
k2 skills show NAME                  a skill's details, instructions, bundled files and metrics
k2 skills validate PATH...           check skill folders (a folder of skill folders too); exit 1 on errors
k2 skills run NAME REQUEST...        answer REQUEST with that skill
k2 skills eval [NAME...]             run the skills' shipped examples end to end through the servers
k2 skills path [CATEGORY | --skill NAME]   a learning path (prerequisites first, easy to expert)
k2 skills stats                      invocations, successes, failure reasons, latency, proficiency
k2 skills trust                      trust this project's skills (.agents/skills, .k2/skills)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

from k2_host.cli.context import CliContext
from k2_host.cli.render import Progress, print_result
from k2_host.skills import CATEGORIES, Skills, check
from k2_host.skills.model import SkillError


def add_commands(sub: Any) -> None:
    p = sub.add_parser("skills", help="the skills: list, show, validate, run, eval, path, stats, trust")
    s = p.add_subparsers(dest="skills_command", required=True, metavar="ACTION")
    ls = s.add_parser("list", help="the skills in effect")
    ls.add_argument("--category", choices=CATEGORIES)
    ls.set_defaults(func=cmd_list)
    show = s.add_parser("show", help="one skill in full")
    show.add_argument("name")
    show.set_defaults(func=cmd_show)
    val = s.add_parser("validate", help="check skill folders against the Agent Skills format and ours")
    val.add_argument("paths", nargs="+", type=Path)
    val.set_defaults(func=cmd_validate)
    run = s.add_parser("run", help="answer a request with one skill")
    run.add_argument("name")
    run.add_argument("request", nargs="+")
    run.set_defaults(func=cmd_run)
    ev = s.add_parser("eval", help="run the shipped examples of the skills (all, or those named)")
    ev.add_argument("names", nargs="*")
    ev.set_defaults(func=cmd_eval)
    path = s.add_parser("path", help="a learning path through a category, or up to one skill")
    path.add_argument("category", nargs="?", choices=CATEGORIES)
    path.add_argument("--skill", help="the path up to this skill (its prerequisites, in order)")
    path.set_defaults(func=cmd_path)
    stats = s.add_parser("stats", help="per-skill metrics and proficiency")
    stats.set_defaults(func=cmd_stats)
    trust = s.add_parser("trust", help="trust the project's skills (as they are now)")
    trust.set_defaults(func=cmd_trust)


def _skills(ctx: CliContext) -> Skills:
    return Skills.open(ctx.config())


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if args.json else text)


async def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    skills = _skills(ctx)
    try:
        reg = skills.registry
        rows = reg.by_category(args.category)
        lines = [f"{'name':<26} {'category':<14} {'difficulty':<10} {'offline':<8} source"]
        lines += [f"{s.name:<26} {s.category:<14} {s.difficulty:<10} {s.offline:<8} {s.source}" for s in rows]
        counts = ", ".join(f"{c} {n}" for c, n in reg.categories().items() if n)
        lines.append(f"\n{len(rows)} skill(s) ({counts})")
        if reg.untrusted:
            lines.append(
                "untrusted project skills (not used until `k2 skills trust`): "
                + ", ".join(s.name for s in reg.untrusted)
            )
        for problem in reg.problems:
            lines.append(f"skipped {problem.folder}: {problem.error}")
        data = {
            "skills": [s.summary() for s in rows],
            "untrusted": [s.name for s in reg.untrusted],
            "problems": [{"folder": str(p.folder), "error": p.error} for p in reg.problems],
        }
        _out(args, data, "\n".join(lines))
    finally:
        skills.close()
    return 0


async def cmd_show(args: argparse.Namespace, ctx: CliContext) -> int:
    skills = _skills(ctx)
    try:
        skill = skills.registry.require(args.name)
        stats = skills.metrics.stats(skill.name).get(skill.name) if skills.metrics else None
        data = {
            **skill.summary(),
            "path": str(skill.path),
            "files": skill.files(),
            "order": [s.name for s in skills.registry.order(skill.name)],
            "metrics": stats.data() if stats else None,
            "instructions": skill.body(),
        }
        head = [
            f"{skill.name} — {skill.category}, {skill.difficulty}, offline: {skill.offline}"
            + (f" ({skill.input})" if skill.offline == "script" else ""),
            skill.description,
            f"folder: {skill.path}",
        ]
        if skill.prerequisites:
            head.append("prerequisites: " + ", ".join(skill.prerequisites))
        if skill.servers:
            head.append("servers: " + ", ".join(skill.servers))
        if skill.needs_model not in ("", "no"):
            head.append(f"needs a model for: {skill.needs_model}")
        if stats:
            head.append(f"runs {stats.runs}, ok {stats.successes}, proficiency {stats.proficiency:.2f}")
        if skill.files():
            head.append("files: " + ", ".join(skill.files()))
        _out(args, data, "\n".join(head) + "\n\n" + skill.body())
    finally:
        skills.close()
    return 0


async def cmd_validate(args: argparse.Namespace, ctx: CliContext) -> int:
    folders: list[Path] = []
    for path in args.paths:
        if (path / "SKILL.md").is_file():
            folders.append(path)
        elif path.is_dir():
            folders += sorted(p for p in path.iterdir() if (p / "SKILL.md").is_file())
        else:
            print(f"k2: {path} is neither a skill folder nor a folder of skills", file=sys.stderr)
            return 2
    if not folders:
        print("k2: no skill folder (a folder holding SKILL.md) was given", file=sys.stderr)
        return 2
    report = {str(f): check(f) for f in folders}
    bad = {f: e for f, e in report.items() if e}
    lines = [f"{f}: {'; '.join(e)}" for f, e in bad.items()]
    lines.append(f"{len(folders) - len(bad)} of {len(folders)} valid")
    _out(args, report, "\n".join(lines))
    return 1 if bad else 0


async def cmd_run(args: argparse.Namespace, ctx: CliContext) -> int:
    request = " ".join(args.request)
    async with ctx.runtime() as rt:
        rt.skills.registry.require(args.name)
        result = await rt.ask(request, skill=args.name, on_event=Progress(not args.json))
    print_result(result, args.json)
    return 0 if result.stopped == "done" else 1


async def cmd_eval(args: argparse.Namespace, ctx: CliContext) -> int:
    from k2_host.config import load_host_config
    from k2_host.skills.evaluate import eval_runtime, page_server, run_examples

    skills = _skills(ctx)
    try:
        chosen = [skills.registry.require(n) for n in args.names] if args.names else list(skills.registry)
    finally:
        skills.close()
    chosen = [s for s in chosen if s.offline == "script" or (s.path / "assets" / "examples.json").is_file()]
    with tempfile.TemporaryDirectory(prefix="k2-skills-eval-") as tmp, page_server() as (server, page):
        root = Path(tmp)
        host, port = server.server_address[:2]
        config = load_host_config(None, root=root, state=ctx.args.state_dir)
        async with eval_runtime(config, root, f"{host}:{port}") as rt:
            results = await run_examples(rt, chosen, root, page, f"http://{host}:{port}/page")
    passed = sum(r.ok for r in results)
    ms = sorted(r.ms for r in results)
    p50 = ms[len(ms) // 2] if ms else 0.0
    lines = [f"{'FAIL' if not r.ok else 'ok':<4} {r.skill:<26} {r.ms:7.0f} ms  {r.query[:70]}" for r in results]
    for r in results:
        if not r.ok:
            lines.append(f"\n{r.skill}: missing {r.missing}\n{r.answer[:800]}")
    lines.append(f"\n{passed}/{len(results)} examples of {len(chosen)} skills passed; p50 {p50:.0f} ms per run")
    _out(
        args,
        {"passed": passed, "total": len(results), "p50_ms": p50, "results": [r.data() for r in results]},
        "\n".join(lines),
    )
    return 0 if passed == len(results) else 1


async def cmd_path(args: argparse.Namespace, ctx: CliContext) -> int:
    skills = _skills(ctx)
    try:
        steps = skills.registry.path(args.category, target=args.skill)
        stats = skills.metrics.stats() if skills.metrics else {}
    finally:
        skills.close()
    lines = []
    for i, s in enumerate(steps, 1):
        st = stats.get(s.name)
        prof = f"  proficiency {st.proficiency:.2f} ({st.runs} runs)" if st else ""
        after = f"  after {', '.join(s.prerequisites)}" if s.prerequisites else ""
        lines.append(f"{i:>2}. {s.name:<26} {s.difficulty:<7}{after}{prof}")
    _out(args, [s.name for s in steps], "\n".join(lines))
    return 0


async def cmd_stats(args: argparse.Namespace, ctx: CliContext) -> int:
    skills = _skills(ctx)
    try:
        stats = skills.metrics.stats() if skills.metrics else {}
        levels = skills.metrics.by_difficulty() if skills.metrics else {}
    finally:
        skills.close()
    lines = [f"{'skill':<26} {'runs':>5} {'ok':>5} {'p50 ms':>8} {'proficiency':>11}  failures"]
    for name, s in sorted(stats.items()):
        reasons = ", ".join(f"{k} {v}" for k, v in s.reasons.items())
        lines.append(f"{name:<26} {s.runs:>5} {s.successes:>5} {s.p50_ms:>8.0f} {s.proficiency:>11.2f}  {reasons}")
    lines.append(
        "by difficulty: " + ", ".join(f"{d} {v['proficiency']:.2f} ({v['runs']} runs)" for d, v in levels.items())
    )
    _out(args, {"skills": [s.data() for s in stats.values()], "by_difficulty": levels}, "\n".join(lines))
    return 0


async def cmd_trust(args: argparse.Namespace, ctx: CliContext) -> int:
    skills = _skills(ctx)
    try:
        waiting = skills.registry.untrusted
        if not waiting:
            print("no untrusted project skills here", file=sys.stderr)
            return 0
        if skills.trust is None:
            raise SkillError("no state dir to keep the decision in")
        names = ", ".join(f"{s.name} ({s.path})" for s in waiting)
        if not args.yes:
            if not sys.stdin.isatty():
                print(f"k2: trusting {names} needs --yes when not at a terminal", file=sys.stderr)
                return 2
            question = f"Trust {names}? Their scripts will run in the sandbox. [y/N] "
            if (await anyio.to_thread.run_sync(input, question)).strip().lower() != "y":
                return 1
        skills.trust.trust(s.path for s in waiting)
        print(f"trusted {names}", file=sys.stderr)
    finally:
        skills.close()
    return 0
