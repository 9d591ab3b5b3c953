"""`k2`: the host's command line.

    k2 ask "Which port does the staging server use?"     one answer (offline engine unless an LLM is set)
    k2 chat                                              streaming REPL
    k2 servers                                           status and health of every configured server
    k2 tools [--accept server.tool]                      the tools offered (and changed definitions)
    k2 call server.tool '{"json": "arguments"}'          one tool call, printed as JSON
    k2 ingest PATH|URL / k2 search QUERY / k2 eval-retrieval DIR    the RAG layer

`--json` prints machine-readable output on stdout; everything else a person reads goes to stderr except the
answer itself. Exit codes: 0 ok, 1 the request failed (tool error, no answer), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio

from k2_host.agent import Agent
from k2_host.config import ConfigError
from k2_host.llm.base import LLMError, Message
from k2_host.mcp.types import ToolInfo
from k2_host.results import AgentEvent, AgentResult

logger = logging.getLogger("k2")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="k2", description="K2 agent host: answers with MCP tools.")
    p.add_argument(
        "--config", type=Path, help="MCP config (mcpServers or VS Code servers); default: built-in K2 servers"
    )
    p.add_argument("--root", type=Path, help="filesystem root of the built-in servers (default: the current directory)")
    p.add_argument("--allow-write", action="store_true", help="let the built-in servers write (files, database)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--yes", action="store_true", help="approve tools that would ask (destructive ones)")
    p.add_argument("--non-interactive", action="store_true", help="never ask: deny what needs approval")
    p.add_argument("--state-dir", type=Path, help="pins, caches and server logs (default ~/.local/state/k2)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logs on stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--max-steps", type=int)
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="conversation with streaming output")
    chat.set_defaults(func=cmd_chat)

    servers = sub.add_parser("servers", help="status and health of the configured servers")
    servers.set_defaults(func=cmd_servers)

    tools = sub.add_parser("tools", help="list the tools (namespaced server.tool)")
    tools.add_argument("--accept", action="append", metavar="SERVER.TOOL", help="accept a changed definition")
    tools.add_argument("--server", help="only this server's tools")
    tools.set_defaults(func=cmd_tools)

    call = sub.add_parser("call", help="call one tool with JSON arguments")
    call.add_argument("tool", help="server.tool")
    call.add_argument("arguments", nargs="?", default="{}", help="JSON object (default {})")
    call.add_argument("--timeout", type=float, help="deadline in seconds")
    call.set_defaults(func=cmd_call)

    try:
        from k2_host.rag.cli import add_commands
    except ImportError as exc:  # the RAG layer is optional at import time
        logger.debug("RAG commands unavailable: %s", exc)
    else:
        add_commands(sub, _rag_tools_opener(p))
    return p


_ARGS: argparse.Namespace | None = None


def _rag_tools_opener(parser: argparse.ArgumentParser) -> Any:
    """What the RAG commands call to reach the MCP servers: the same manager the agent uses."""

    @asynccontextmanager
    async def open_tools(fs_roots: list[Path] | None = None) -> AsyncIterator[Any]:
        args = _ARGS
        assert args is not None
        agent = _agent(args, extra_roots=fs_roots or [])
        async with agent:
            yield agent.manager

    return open_tools


def _agent(args: argparse.Namespace, *, extra_roots: Sequence[Path] = ()) -> Agent:
    interactive = sys.stdin.isatty() and not args.non_interactive and not getattr(args, "json", False)
    ask = _ask_approval if interactive else None
    if args.yes:
        ask = _approve_all
        interactive = True
    return Agent.from_config(
        args.config,
        root=args.root,
        allow_write=args.allow_write,
        interactive=interactive,
        state_dir=args.state_dir,
        extra_roots=list(extra_roots),
        ask_approval=ask,
        elicit=_elicit if interactive else None,
    )


# ---------------------------------------------------------------------------------------------- prompts


async def _approve_all(info: ToolInfo, arguments: dict[str, Any]) -> bool:
    return True


async def _ask_approval(info: ToolInfo, arguments: dict[str, Any]) -> bool:
    shown = json.dumps(arguments, ensure_ascii=False)[:500]
    kind = "destructive " if info.destructive else ""
    answer = await anyio.to_thread.run_sync(input, f"Allow {kind}tool {info.name} {shown}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def _elicit(server: str, message: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    print(f"\n{server} asks: {message}", file=sys.stderr)
    answers: dict[str, Any] = {}
    for key, spec in (schema.get("properties") or {}).items():
        prompt = f"  {spec.get('title') or key}{' (' + spec['description'] + ')' if spec.get('description') else ''}: "
        raw = await anyio.to_thread.run_sync(input, prompt)
        if raw == "" and key in (schema.get("required") or []):
            return None
        kind = spec.get("type")
        try:
            answers[key] = (
                int(raw)
                if kind == "integer"
                else float(raw)
                if kind == "number"
                else raw.lower() in ("y", "yes", "true", "1")
                if kind == "boolean"
                else raw
            )
        except ValueError:
            print(f"  {raw!r} is not a {kind}; declined", file=sys.stderr)
            return None
    return answers


# ---------------------------------------------------------------------------------------------- output


class Progress:
    """Shows what the agent is doing on stderr (a person's terminal only)."""

    def __init__(self, enabled: bool, stream_text: bool = False) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.stream_text = stream_text
        self.streamed = False

    async def __call__(self, event: AgentEvent) -> None:
        if event.kind == "text" and self.stream_text:
            sys.stdout.write(event.text)
            sys.stdout.flush()
            self.streamed = True
            return
        if not self.enabled:
            return
        if event.kind == "tool_start":
            print(
                f"  → {event.text} {json.dumps(event.data.get('arguments', {}), ensure_ascii=False)[:120]}",
                file=sys.stderr,
            )
        elif event.kind == "tool_end" and event.data.get("is_error"):
            print(f"  ✗ {event.text}: {event.data.get('summary', '')[:160]}", file=sys.stderr)
        elif event.kind == "progress":
            total = event.data.get("total")
            frac = f"{event.data['progress']:.0f}/{total:.0f}" if total else f"{event.data['progress']:.0f}"
            print(f"    … {event.data.get('tool')} {frac} {event.text}", file=sys.stderr)


def _print_result(result: AgentResult, as_json: bool) -> None:
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    print(result.answer)
    if result.citations:
        where: dict[str, list[str]] = {}
        for c in result.citations:
            where.setdefault(c.source, [])
            if c.location:
                where[c.source].append(c.location)
        print("\nSources:", file=sys.stderr)
        for source, locations in list(where.items())[:5]:
            print(f"  {source}{' (' + ', '.join(locations) + ')' if locations else ''}", file=sys.stderr)
    if result.errors:
        print("\nDegraded: " + "; ".join(result.errors[:5]), file=sys.stderr)


# ---------------------------------------------------------------------------------------------- commands


async def cmd_ask(args: argparse.Namespace) -> int:
    question = " ".join(args.question)
    async with _agent(args) as agent:
        result = await agent.ask(question, on_event=Progress(not args.json), max_steps=args.max_steps)
    _print_result(result, args.json)
    return 0 if result.stopped == "done" else 1


async def cmd_chat(args: argparse.Namespace) -> int:
    async with _agent(args) as agent:
        print(f"k2 chat ({agent.engine}); an empty line or Ctrl-D ends it.", file=sys.stderr)
        history: list[Message] = []
        while True:
            try:
                line = await anyio.to_thread.run_sync(input, "you> ")
            except EOFError:
                break
            if not line.strip():
                break
            progress = Progress(True, stream_text=agent.provider is not None)
            result = await agent.ask(line, on_event=progress, history=history)
            if progress.streamed:
                print()
            else:
                print(result.answer)
            history += [Message(role="user", content=line), Message(role="assistant", content=result.answer)]
    return 0


async def cmd_servers(args: argparse.Namespace) -> int:
    async with _agent(args) as agent:
        await agent.manager.start_all()
        rows = agent.manager.status()
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


async def cmd_tools(args: argparse.Namespace) -> int:
    async with _agent(args) as agent:
        await agent.manager.start_all()
        for name in args.accept or []:
            agent.manager.accept_pin(name)
            await agent.manager.refresh(name.partition(".")[0])
            print(f"accepted the new definition of {name}", file=sys.stderr)
        tools = [t for t in agent.manager.tools() if args.server in (None, t.server)]
        blocked = {g.name: sorted(g.blocked) for g in agent.manager.groups.values() if g.blocked}
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


async def cmd_call(args: argparse.Namespace) -> int:
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        print(f"k2 call: the arguments are not JSON ({exc.msg} at column {exc.colno})", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print('k2 call: the arguments must be a JSON object, e.g. \'{"path": "README.md"}\'', file=sys.stderr)
        return 2
    async with _agent(args) as agent:
        result = await agent.manager.call(args.tool, arguments, timeout=args.timeout)
    if args.json or result.structured is None:
        print(result.model_dump_json(indent=2) if args.json else result.text)
    else:
        print(json.dumps(result.structured, indent=2, ensure_ascii=False))
    if result.is_error and not args.json:
        print(f"k2 call: {args.tool} failed ({result.error_code})", file=sys.stderr)
    return 1 if result.is_error else 0


def main(argv: Sequence[str] | None = None) -> int:
    global _ARGS
    # The model loads from the installed package; never from a hub, and without progress bars on the terminal.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    parser = _parser()
    args = parser.parse_args(argv)
    _ARGS = args
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return anyio.run(args.func, args)
    except ConfigError as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 2
    except LLMError as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
