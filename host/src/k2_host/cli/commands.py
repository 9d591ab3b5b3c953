"""The host's own commands: ask, chat, servers, tools, call, sessions, trajectories, config.

Each is `async (args, ctx: CliContext) -> exit code`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import anyio

from k2_host.cli.context import CliContext
from k2_host.cli.render import Progress, print_result, render_context
from k2_host.context.transcript import AssistantTurn, ToolTurn, UserTurn, check_session_id
from k2_host.learning.redact import REDACTED, secret_key
from k2_host.learning.store import open_trajectory_store
from k2_host.runtime import open_sealer, open_session_store


async def cmd_ask(args: argparse.Namespace, ctx: CliContext) -> int:
    question = " ".join(args.question)
    session = check_session_id(args.session) if args.session else None
    async with ctx.runtime() as rt:
        result = await rt.ask(question, session=session, on_event=Progress(not args.json), max_steps=args.max_steps)
    print_result(result, args.json)
    return 0 if result.stopped == "done" else 1


async def cmd_chat(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.runtime() as rt:
        chosen = args.session
        if chosen is None and args.resume:
            recent = await rt.sessions.list(limit=1)
            chosen = recent[0].id if recent else None
        if chosen is not None:
            check_session_id(chosen)
            if args.new:
                await rt.delete_session(chosen)
        transcript = await rt.open_session(chosen)
        earlier = sum(1 for t in transcript.turns if isinstance(t, UserTurn))
        state = f"resumed, {earlier} earlier question{'s' if earlier != 1 else ''}" if earlier else "new"
        print(
            f"k2 chat ({rt.engine.name}), session {transcript.session_id} ({state}); /context shows the context "
            "window; an empty line or Ctrl-D ends it.",
            file=sys.stderr,
        )
        last = None
        while True:
            try:
                line = await anyio.to_thread.run_sync(input, "you> ")
            except EOFError:
                break
            if not line.strip():
                break
            if line.strip() == "/context":
                report = last.context if last is not None else None
                if args.json:
                    print(report.model_dump_json(indent=2) if report is not None else "null")
                else:
                    print(render_context(report))
                continue
            progress = Progress(True, stream_text=rt.provider is not None)
            result = last = await rt.ask(line, session=transcript, on_event=progress)
            if progress.streamed:
                print()
            else:
                print(result.answer)
        print(
            f"session {transcript.session_id}: resume with `k2 chat --session {transcript.session_id}`", file=sys.stderr
        )
    return 0


async def cmd_servers(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.runtime(use_knowledge=False) as rt:
        await rt.manager.start_all()
        rows = rt.manager.status()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            state = "up" if r["connected"] else "DOWN"
            extra = f"  last error: {r['last_error']}" if r["last_error"] else ""
            print(
                f"{r['instance']:<18} {state:<5} {r['transport']:<6} {r['protocol'] or '-':<11} "
                f"tools={r['tools']:<3} breaker={r['breaker']}{extra}"
            )
    return 0 if all(r["connected"] for r in rows) else 1


async def cmd_tools(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.runtime(use_knowledge=False) as rt:
        manager = rt.manager
        await manager.start_all()
        for name in args.accept or []:
            manager.accept_pin(name)
            await manager.refresh(name.partition(".")[0])
            print(f"accepted the new definition of {name}", file=sys.stderr)
        tools = [t for t in manager.tools() if args.server in (None, t.server)]
        blocked = {g.name: sorted(g.blocked) for g in manager.groups.values() if g.blocked}
    if args.json:
        print(json.dumps({"tools": [t.model_dump() for t in tools], "blocked": blocked}, indent=2))
    else:
        for t in tools:
            flags = "read-only" if t.read_only else ("destructive" if t.destructive else "writes")
            print(f"{t.name:<36} {flags:<11} {t.description.splitlines()[0][:80] if t.description else ''}")
        for server, names in blocked.items():
            for n in names:
                print(f"{server}.{n:<28} CHANGED    not used until accepted: k2 tools --accept {server}.{n}")
    return 0


async def cmd_call(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        print(f"k2 call: the arguments are not JSON ({exc.msg} at column {exc.colno})", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print('k2 call: the arguments must be a JSON object, e.g. \'{"path": "README.md"}\'', file=sys.stderr)
        return 2
    async with ctx.runtime(use_knowledge=False) as rt:
        result = await rt.manager.call(args.tool, arguments, timeout=args.timeout)
    if args.json or result.structured is None:
        print(result.model_dump_json(indent=2) if args.json else result.text)
    else:
        print(json.dumps(result.structured, indent=2, ensure_ascii=False))
    if result.is_error and not args.json:
        print(f"k2 call: {args.tool} failed ({result.error_code})", file=sys.stderr)
    return 1 if result.is_error else 0


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


async def cmd_sessions(args: argparse.Namespace, ctx: CliContext) -> int:
    sessions = open_session_store(ctx.config())
    try:
        if args.delete:
            gone = await sessions.delete(args.delete)
            if not gone:
                print(f"k2 sessions: no session {args.delete!r}", file=sys.stderr)
                return 1
            print(f"deleted session {args.delete}", file=sys.stderr)
            return 0
        if args.show:
            transcript = await sessions.open(args.show)
            if not transcript.turns:
                print(f"k2 sessions: no session {args.show!r} (or it is empty)", file=sys.stderr)
                return 1
            if args.json:
                print(json.dumps([t.model_dump(mode="json") for t in transcript.turns], indent=2, ensure_ascii=False))
                return 0
            for t in transcript.turns:
                if isinstance(t, UserTurn):
                    print(f"you> {t.text}")
                elif isinstance(t, AssistantTurn):
                    calls = ", ".join(c.name for c in t.tool_calls)
                    print(f"k2> {t.text}" + (f"  [calls {calls}]" if calls else ""))
                elif isinstance(t, ToolTurn):
                    state = f"error {t.result.error_code}" if t.result.is_error else f"{t.chars} chars"
                    print(f"     {t.name}: {state}")
            return 0
        rows = await sessions.list(limit=args.limit)
        if args.json:
            print(json.dumps([r.model_dump() for r in rows], indent=2))
        else:
            for r in rows:
                print(f"{r.id:<20} {_when(r.updated_at)}  {r.turns:>4} turns  {r.title[:60]}")
        return 0
    finally:
        sessions.close()


async def cmd_trajectories(args: argparse.Namespace, ctx: CliContext) -> int:
    config = ctx.config()
    store = open_trajectory_store(config.learning, config.state_dir, open_sealer(config))
    try:
        if args.id:
            found = await store.get(args.id)
            if found is None:
                print(f"k2 trajectories: no trajectory {args.id!r}", file=sys.stderr)
                return 1
            print(found.model_dump_json(indent=2))
            return 0
        rows = await store.list(limit=args.limit, session_id=args.session)
        if args.json:
            print(json.dumps([r.model_dump() for r in rows], indent=2))
        else:
            for r in rows:
                print(
                    f"{r.id}  {_when(r.started_at)}  {r.engine:<9} {r.stopped or '-':<12} "
                    f"{r.tool_calls:>3} tools {r.duration_ms:>8.0f} ms  {r.query[:60]}"
                )
        return 0
    finally:
        store.close()


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if secret_key(str(k)) and v else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


async def cmd_config(args: argparse.Namespace, ctx: CliContext) -> int:
    """The configuration in effect (after the file, the environment and the flags), secrets masked."""
    config = ctx.config()
    data = _masked(config.model_dump(mode="json"))
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0
