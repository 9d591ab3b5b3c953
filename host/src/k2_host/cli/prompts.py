"""Asking the person at the terminal: tool approval and a server's elicitation (inputs: `config.files`)."""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio

from k2_host.mcp.types import ToolInfo


async def approve_all(info: ToolInfo, arguments: dict[str, Any]) -> bool:
    return True


async def ask_approval(info: ToolInfo, arguments: dict[str, Any]) -> bool:
    shown = json.dumps(arguments, ensure_ascii=False)[:500]
    kind = "destructive " if info.destructive else ""
    answer = await anyio.to_thread.run_sync(input, f"Allow {kind}tool {info.name} {shown}? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


async def elicit(server: str, message: str, schema: dict[str, Any]) -> dict[str, Any] | None:
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
