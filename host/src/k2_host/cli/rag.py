"""The RAG subcommands of `k2`: ingest, search, eval-retrieval, migrate.

`add_commands(subparsers)` registers them on the main CLI's argparse subparsers; each sets `func` to an async
handler `(args, ctx) -> exit code` (0 done, 1 partly failed, 2 refused: bad input or settings). `ctx` (a
`RagContext`: the CLI's `CliContext`) gives the `rag` settings of the host's configuration and
`open_tools(fs_roots=...)`, a ToolCaller over the configured servers; only `ingest` needs it. Progress goes to
stderr (rich); `--json` prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import AbstractAsyncContextManager, ExitStack
from pathlib import Path
from typing import Any, Protocol

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from k2_host.errors import K2Error
from k2_host.mcp.types import ToolCaller
from k2_host.rag.errors import RAGError
from k2_host.rag.filters import parse_cli_filters
from k2_host.rag.models import IngestProgress
from k2_host.rag.settings import STORE_KINDS, RAGConfig


class RagContext(Protocol):
    def open_tools(self, fs_roots: list[Path] | None = None) -> AbstractAsyncContextManager[ToolCaller]: ...

    def rag_settings(self, **flags: Any) -> RAGConfig: ...


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[current]}"),
        console=console,
        transient=True,
    )


def _json_flag(p: argparse.ArgumentParser, help: str = "machine-readable output on stdout") -> None:
    # SUPPRESS: the subcommand's flag sets `json` when given and otherwise leaves the global `k2 --json` alone.
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=help)


def _store_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("store (defaults: the config's rag section, K2_RAG_*)")
    g.add_argument("--store", choices=STORE_KINDS, help="vector store backend")
    g.add_argument("--collection", help="collection name")
    g.add_argument("--store-path", dest="store_path", help="folder of an edge or chroma store")


def _settings(args: argparse.Namespace, ctx: RagContext, **extra: Any) -> RAGConfig:
    flags: dict[str, Any] = {"store": args.store, "collection": args.collection, "path": args.store_path}
    flags.update({k: v for k, v in extra.items() if v is not None})
    return ctx.rag_settings(**flags)


def _fail(args: argparse.Namespace, exc: K2Error) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": exc.code, "message": str(exc)}))
    else:
        Console(stderr=True).print(f"[red]error[/red] ({exc.code}): {exc}", markup=True, highlight=False)
    return 2


def add_commands(subparsers: Any) -> None:
    """Register ingest, search, eval-retrieval and migrate."""
    p = subparsers.add_parser("ingest", help="ingest a file, folder or URL (or --sql) into the RAG store")
    p.add_argument("target", nargs="?", help="file or folder path, or http(s) URL")
    p.add_argument("--sql", help="ingest the rows of this query (through the database server)")
    p.add_argument("--tag", action="append", default=[], help="tag every chunk (repeatable)")
    _json_flag(p, "print the report as JSON on stdout")
    _store_args(p)
    p.set_defaults(func=_ingest)

    p = subparsers.add_parser("search", help="search the RAG store")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=10, help="results to return")
    p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
    p.add_argument("--filter", action="append", default=[], help="key=value, key>=value, key<value (repeatable)")
    p.add_argument("--mmr", action="store_true", help="diversify results with MMR")
    _json_flag(p)
    _store_args(p)
    p.set_defaults(func=_search)

    p = subparsers.add_parser("eval-retrieval", help="nDCG@10, recall@100, MRR on a BEIR-layout dataset")
    p.add_argument("dir", type=Path)
    p.add_argument("--split", default="test")
    p.add_argument("--limit-queries", type=int, dest="limit_queries")
    p.add_argument("--modes", default="dense,bm25,hybrid")
    _json_flag(p)
    _store_args(p)
    p.set_defaults(func=_eval)

    p = subparsers.add_parser("migrate", help="copy a collection between store backends")
    p.add_argument("--from", dest="src", required=True, help="edge[:PATH] | chroma[:PATH] | qdrant | URL")
    p.add_argument("--to", dest="dst", required=True, help="edge[:PATH] | chroma[:PATH] | qdrant | URL")
    p.add_argument("--from-collection", dest="src_collection")
    p.add_argument("--to-collection", dest="dst_collection")
    _json_flag(p)
    p.set_defaults(func=_migrate)


async def _ingest(args: argparse.Namespace, ctx: RagContext) -> int:
    from k2_host.rag.service import RAG

    if not args.target and not args.sql:
        return _fail(args, RAGError("give a PATH or URL to ingest, or --sql QUERY", code="no_target"))
    console = Console(stderr=True)
    try:
        rag = RAG.open(_settings(args, ctx))
    except K2Error as exc:
        return _fail(args, exc)
    target = args.target or ""
    is_url = target.startswith(("http://", "https://"))
    try:
        with rag, _progress(console) as bar:
            task = bar.add_task("ingest", total=None, current="")

            def on_progress(p: IngestProgress) -> None:
                bar.update(task, completed=p.done, total=p.total, current=Path(p.current).name[:40])

            if args.sql:
                async with ctx.open_tools() as caller:
                    report = await rag.ingest_query(caller, args.sql, tags=args.tag, progress=on_progress)
            elif is_url:
                async with ctx.open_tools() as caller:
                    report = await rag.ingest_url(caller, target, tags=args.tag, progress=on_progress)
            else:
                apath = await (await anyio.Path(target).expanduser()).resolve()
                if not await apath.exists():
                    return _fail(args, RAGError(f"no such file or folder: {target!r}", code="not_found"))
                path = Path(apath)
                root = path if await apath.is_dir() else path.parent
                async with ctx.open_tools(fs_roots=[root]) as caller:
                    report = await rag.ingest_path(caller, path, tags=args.tag, progress=on_progress)
    except K2Error as exc:
        return _fail(args, exc)
    if getattr(args, "json", False):
        print(json.dumps(report.model_dump(mode="json") | {"ingested": report.ingested, "failed": report.failed}))
    else:
        counts: dict[str, int] = {}
        for d in report.documents:
            counts[d.status] = counts.get(d.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to ingest"
        console.print(
            f"{report.source}: {summary}; {report.chunks} chunks ({report.embedded} embedded) "
            f"in {report.elapsed_s:.1f}s",
            highlight=False,
        )
        for d in report.documents:
            if d.status == "failed":
                console.print(f"  failed {d.source}: {d.reason}", highlight=False, markup=False)
        for w in report.warnings:
            console.print(f"  warning: {w}", highlight=False, markup=False)
    return 1 if report.failed else 0


async def _search(args: argparse.Namespace, ctx: RagContext) -> int:
    from k2_host.rag.service import RAG

    try:
        filters = parse_cli_filters(args.filter)
        with RAG.open(_settings(args, ctx)) as rag:
            hits = await rag.search(args.query, k=args.k, mode=args.mode, filters=filters or None, mmr=args.mmr)
    except K2Error as exc:
        return _fail(args, exc)
    if getattr(args, "json", False):
        print(json.dumps({"query": args.query, "mode": args.mode, "hits": [h.model_dump(mode="json") for h in hits]}))
        return 0
    out = Console(highlight=False)
    if not hits:
        out.print("no results", markup=False)
    for i, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())[:240]
        out.print(f"{i:>2}. [{h.score:.4f}] {h.citation}\n    {snippet}", markup=False)
    return 0


async def _eval(args: argparse.Namespace, ctx: RagContext) -> int:
    from k2_host.rag.evaluation import evaluate
    from k2_host.rag.service import RAG

    console = Console(stderr=True)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    try:
        with ExitStack() as stack:
            extra: dict[str, Any] = {}
            if not args.store_path and (args.store or "edge") in ("edge", "chroma"):
                extra["path"] = stack.enter_context(tempfile.TemporaryDirectory(prefix="k2-eval-"))
            settings = _settings(args, ctx, **extra)
            if not args.collection:
                settings = settings.model_copy(update={"collection": "eval"})
            rag = stack.enter_context(RAG.open(settings))
            with _progress(console) as bar:
                tasks: dict[str, Any] = {}

                def on_progress(stage: str, n: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=total, current="")
                    bar.update(tasks[stage], completed=n)

                report = await evaluate(
                    rag, args.dir, split=args.split, modes=modes, limit_queries=args.limit_queries, progress=on_progress
                )
    except K2Error as exc:
        return _fail(args, exc)
    if getattr(args, "json", False):
        print(json.dumps(report.as_dict()))
        return 0
    out = Console(highlight=False)
    out.print(
        f"{report.dataset}: {report.documents} documents, {report.chunks} chunks, {report.queries} queries "
        f"(ingest {report.ingest_s:.1f}s)"
    )
    out.print(f"{'mode':<8} {'nDCG@10':>8} {'R@100':>8} {'MRR@10':>8}")
    for mode, r in report.results.items():
        out.print(f"{mode:<8} {r['ndcg@10']:>8.4f} {r['recall@100']:>8.4f} {r['mrr@10']:>8.4f}")
    for w in report.warnings:
        console.print(f"warning: {w}", markup=False)
    return 0


async def _migrate(args: argparse.Namespace, ctx: RagContext) -> int:
    import anyio.to_thread

    from k2_host.rag.migrate import copy_collection, store_from_spec

    try:
        settings = ctx.rag_settings()
        src = store_from_spec(args.src, settings, collection=args.src_collection)
        dst = store_from_spec(args.dst, settings, collection=args.dst_collection)
        try:
            n = await anyio.to_thread.run_sync(lambda: copy_collection(src, dst))
        finally:
            src.close()
            dst.close()
    except K2Error as exc:
        return _fail(args, exc)
    if getattr(args, "json", False):
        print(json.dumps({"from": args.src, "to": args.dst, "points": n}))
    else:
        print(f"copied {n} points from {args.src} to {args.dst}", file=sys.stdout)
    return 0
