"""`k2`: the host's command line.

    k2 ask "Which port does the staging server use?"     one answer (offline engine unless an LLM is set)
    k2 chat [--session ID | --resume]                    streaming REPL; the session (tool turns too) is kept
    k2 servers                                           status and health of every configured server
    k2 tools [--accept server.tool]                      the tools offered (and changed definitions)
    k2 call server.tool '{"json": "arguments"}'          one tool call, printed as JSON
    k2 sessions / k2 trajectories / k2 config            kept conversations, recorded requests, settings
    k2 ingest PATH|URL / k2 search QUERY / k2 eval-retrieval DIR / k2 migrate    the RAG layer
    k2 serve / k2 keys create --role R / k2 audit verify   the REST API (OpenAI-compatible), its keys and audit
    k2 skills list|show|validate|run|eval|path|stats|trust   the skills (see `k2 skills --help`)

`--json` prints machine-readable output on stdout; everything else a person reads goes to stderr except the
answer itself. Exit codes: 0 ok, 1 the request failed (tool error, no answer), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from k2_host.cli import commands
from k2_host.cli.context import CliContext
from k2_host.cli.learn import add_commands as add_learn_commands
from k2_host.cli.rag import add_commands as add_rag_commands
from k2_host.cli.service import add_commands as add_service_commands
from k2_host.cli.skills import add_commands as add_skills_commands
from k2_host.errors import ConfigError, K2Error
from k2_host.llm.base import LLMError

logger = logging.getLogger("k2")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="k2", description="K2 agent host: answers with MCP tools.")
    p.add_argument(
        "--config", type=Path, help="MCP config (mcpServers or VS Code servers); default: built-in K2 servers"
    )
    p.add_argument("--root", type=Path, help="filesystem root of the built-in servers (default: the current directory)")
    p.add_argument("--allow-write", action="store_true", help="let the built-in servers write (files, database)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--yes", action="store_true", help="approve tools that would ask (destructive ones)")
    p.add_argument("--non-interactive", action="store_true", help="never ask: deny what needs approval")
    p.add_argument(
        "--state-dir", type=Path, help="pins, caches, logs, sessions, trajectories (default ~/.local/state/k2)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="a setting over the file and the environment, e.g. --set llm.model=qwen3 (repeatable)",
    )
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus metrics at http://127.0.0.1:PORT/metrics while the command runs (0: any free port)",
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logs on stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="+")
    ask.add_argument("--max-steps", type=int)
    ask.add_argument("--session", help="ask within this session (kept under the state dir)")
    ask.set_defaults(func=commands.cmd_ask)

    chat = sub.add_parser("chat", help="conversation with streaming output, kept as a session")
    chat.add_argument("--session", help="the session to open or create (default: a new one)")
    chat.add_argument("--resume", action="store_true", help="continue the most recent session")
    chat.add_argument("--new", action="store_true", help="start --session afresh (its earlier turns are deleted)")
    chat.set_defaults(func=commands.cmd_chat)

    servers = sub.add_parser("servers", help="status and health of the configured servers")
    servers.set_defaults(func=commands.cmd_servers)

    tools = sub.add_parser("tools", help="list the tools (namespaced server.tool)")
    tools.add_argument("--accept", action="append", metavar="SERVER.TOOL", help="accept a changed definition")
    tools.add_argument("--server", help="only this server's tools")
    tools.set_defaults(func=commands.cmd_tools)

    call = sub.add_parser("call", help="call one tool with JSON arguments")
    call.add_argument("tool", help="server.tool")
    call.add_argument("arguments", nargs="?", default="{}", help="JSON object (default {})")
    call.add_argument("--timeout", type=float, help="deadline in seconds")
    call.set_defaults(func=commands.cmd_call)

    sessions = sub.add_parser("sessions", help="the kept conversations")
    sessions.add_argument("--show", metavar="ID", help="print one session's turns")
    sessions.add_argument("--delete", metavar="ID", help="delete one session")
    sessions.add_argument("--limit", type=int, default=50)
    sessions.set_defaults(func=commands.cmd_sessions)

    trajectories = sub.add_parser("trajectories", help="recorded requests (steps, tool calls, answers)")
    trajectories.add_argument("id", nargs="?", help="print this trajectory in full (JSON)")
    trajectories.add_argument("--session", help="only this session's")
    trajectories.add_argument("--limit", type=int, default=20)
    trajectories.set_defaults(func=commands.cmd_trajectories)

    config = sub.add_parser("config", help="the configuration in effect (file, environment, flags), secrets masked")
    config.set_defaults(func=commands.cmd_config)

    add_rag_commands(sub)
    add_service_commands(sub)
    add_skills_commands(sub)
    add_learn_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # The model loads from the installed package; never from a hub, and without progress bars on the terminal.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parser().parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        ctx = CliContext(args)
        return anyio.run(args.func, args, ctx)
    except ConfigError as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 2
    except LLMError as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 1
    except K2Error as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"k2: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
