"""The offline engine on factual questions over real third-party code and docs: accuracy, latency, indexing.

    .venv/bin/python bench/bench_offline_qa.py [--split dev|heldout|all] [--ids starlette-01,absent-01]
                                               [--json out.json] [--verbose] [--keep DIR]

The question set is bench/offline_qa/questions.jsonl (128 questions, 12 of them unanswerable; README.md there
says how it was written). The workspace is one folder built from installed trees: six Python packages from the
venv and nine npm packages from tests/realclients/node_modules (harness.build_workspace). Every question is first
checked against those files (its evidence line exists and holds an answer); a failure exits with status 2.

The agent runs on embedded defaults with no language model (no K2_CONFIG, no API keys, fresh XDG state/data/
config dirs, HF_HUB_OFFLINE=1), rooted at the workspace, and is asked the questions one by one. Grading
(harness.grade): one of the answers in the headline (first line after the banner) and the first citation at the
evidence line give or take 2; for an unanswerable question, an abstention ("I found nothing ...").

Measured: pass rate overall, per split, per group (Python tree, npm, absent) and per kind; cold time (from
before starting the agent to the end of the first answer: server start, model load, indexing the folder); warm
latency per question after that (p50/p95); indexing throughput from the engine's `index` notice; and an
incremental refresh (one file's mtime moved on, one question asked again: the notice should say read 1).
The exit status is 0 whatever the pass rate. Targets are in bench/OFFLINE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench" / "offline_qa"))

from harness import (  # noqa: E402
    Grade,
    Question,
    Workspace,
    build_workspace,
    check_evidence,
    grade,
    load_questions,
    summarize,
)

UNSET = ("K2_CONFIG", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MOONSHOT_API_KEY", "K2_LLM_BASE_URL")


def isolate_env(tmp: Path) -> None:
    """Fresh state/data/config dirs and no configured model, so the offline engine runs on embedded defaults."""
    for var in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        d = tmp / var.lower()
        d.mkdir()
        os.environ[var] = str(d)
    os.environ["HF_HUB_OFFLINE"] = "1"
    for var in UNSET:
        os.environ.pop(var, None)


def pct(xs: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no data)."""
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def index_line(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "not reported"
    files, units, secs = stats.get("files", 0), stats.get("units", 0), float(stats.get("seconds", 0.0))
    rate = f", {files / secs:.1f} files/s, {units / secs:.1f} chunks/s" if secs > 0 else ""
    changed = f"read {stats.get('read')}, removed {stats.get('removed')}"
    return f"{files} files, {units} chunks in {secs:.2f} s{rate} ({changed})"


def rate_line(r: dict[str, Any]) -> str:
    return f"{r['rate']:6.1%} ({r['passed']}/{r['total']})"


async def run(questions: list[Question], ws: Workspace, verbose: bool) -> dict[str, Any]:
    from k2_host.agent import Agent
    from k2_host.results import AgentEvent, AgentResult

    notices: list[dict[str, Any]] = []

    async def on_event(ev: AgentEvent) -> None:
        if ev.kind == "notice" and isinstance(ev.data.get("index"), dict):
            notices.append(ev.data["index"])

    async def ask(agent: Agent, q: Question) -> tuple[Grade, AgentResult | None, float]:
        t = time.perf_counter()
        try:
            result = await agent.ask(q.question, on_event=on_event)
        except Exception as e:  # a benchmark row, not a crash
            return Grade(False, f"raised {type(e).__name__}: {e}", ""), None, time.perf_counter() - t
        return grade(q, result, ws.root), result, time.perf_counter() - t

    rows: list[dict[str, Any]] = []
    graded: list[tuple[Question, Grade]] = []
    cold = 0.0
    refresh: dict[str, Any] = {}
    t0 = time.perf_counter()
    async with Agent.from_config(None, root=ws.root) as agent:
        for i, q in enumerate(questions):
            g, result, secs = await ask(agent, q)
            if i == 0:
                cold = time.perf_counter() - t0
            graded.append((q, g))
            first = result.citations[0] if result and result.citations else None
            rows.append(
                {
                    "id": q.id,
                    "tree": q.tree,
                    "split": q.split,
                    "kind": q.kind,
                    "ok": g.ok,
                    "why": g.why,
                    "headline": g.headline,
                    "seconds": round(secs, 4),
                    "warm": i > 0,
                    "cited": f"{first.source} {first.location or ''}".strip() if first else None,
                    "errors": result.errors if result else [],
                }
            )
            if verbose:
                mark = "PASS" if g.ok else "FAIL"
                print(f"  {mark} {q.id:16} {secs:7.2f}s  {g.why}\n       {g.headline[:150]}")
        index_stats = notices[0] if notices else None

        # Freshness: move one file's mtime on and ask again; the engine should re-read just that file.
        q = next((q for q in questions if q.file), questions[0])
        touched = ws.root / q.file if q.file else next(ws.root.rglob("*.py"))
        future = time.time() + 10
        os.utime(touched, (future, future))
        seen = len(notices)
        g, _, secs = await ask(agent, q)
        refresh = {
            "touched": str(touched.relative_to(ws.root)),
            "question": q.id,
            "ok": g.ok,
            "seconds": round(secs, 4),
            "index": notices[seen] if len(notices) > seen else None,
        }

    warm = [r["seconds"] for r in rows if r["warm"]]
    return {
        "rows": rows,
        "graded": graded,
        "cold_s": cold,
        "warm_p50_s": statistics.median(warm) if warm else 0.0,
        "warm_p95_s": pct(warm, 95),
        "index": index_stats,
        "refresh": refresh,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--ids", help="comma-separated question ids")
    ap.add_argument("--json", type=Path, help="write per-question rows and the summary here")
    ap.add_argument("--verbose", action="store_true", help="print each question's grade and headline")
    ap.add_argument("--keep", type=Path, help="build the workspace in this folder (kept) instead of a temp dir")
    args = ap.parse_args(argv)

    ids = {s.strip() for s in args.ids.split(",") if s.strip()} if args.ids else None
    questions = load_questions(args.split, ids)
    if ids and (unknown := ids - {q.id for q in questions}):
        print(f"unknown ids (or not in split {args.split}): {', '.join(sorted(unknown))}")
        return 2
    if not questions:
        print("no questions selected")
        return 2

    with tempfile.TemporaryDirectory(prefix="k2-offline-qa-") as tmp_s:
        tmp = Path(tmp_s)
        isolate_env(tmp)
        ws = build_workspace(args.keep.resolve() if args.keep else tmp / "workspace")
        print(f"workspace: {ws.root} ({len(ws.trees)} trees)")
        if ws.missing:
            print(f"missing trees (their questions are skipped): {', '.join(ws.missing)}")
        for tree in ws.mismatched:
            print(f"warning: {tree} is {ws.versions[tree]}, the set was written against a different version")
        askable = [q for q in questions if ws.askable(q)]
        if errors := [e for q in askable if (e := check_evidence(q, ws.root))]:
            print("evidence check failed (the set does not match the installed files):")
            print("\n".join(f"  {e}" for e in errors))
            return 2
        print(f"evidence check: {len(askable)} questions ok; skipped {len(questions) - len(askable)}")
        if not askable:
            return 0

        out = anyio.run(run, askable, ws, args.verbose)

    s = summarize(out["graded"])
    print(f"\noverall  {rate_line(s['overall'])}")
    for key in ("split", "group", "kind"):
        for name, r in s[key].items():
            print(f"{key:6} {name:12} {rate_line(r)}")
    print(f"\ncold (start + load + index + first answer): {out['cold_s']:.2f} s")
    print(
        f"warm latency: p50 {out['warm_p50_s']:.3f} s, p95 {out['warm_p95_s']:.3f} s over {len(askable) - 1} questions"
    )
    print(f"index stats: {index_line(out['index'])}")
    ref = out["refresh"]
    print(
        f"incremental refresh: touched {ref['touched']}, asked {ref['question']} again in {ref['seconds']:.2f} s "
        f"({'pass' if ref['ok'] else 'fail'}); index: {index_line(ref['index'])}"
    )
    if failing := [r for r in out["rows"] if not r["ok"]]:
        print(f"\nfailing ({len(failing)}):")
        for r in failing:
            print(f"  {r['id']:16} {r['why']}")
    if args.json:
        keep = {k: v for k, v in out.items() if k != "graded"}
        trees = {"versions": ws.versions, "missing": ws.missing, "mismatched": ws.mismatched}
        args.json.write_text(json.dumps({**keep, **trees, "summary": s}, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
