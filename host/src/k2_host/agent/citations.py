"""Sources of a model's answer: what its successful tool calls read.

A call that succeeded and names what it read (a `path`, several `paths`, a `url` or `uri`; the SQL of a
database query; the code a sandbox ran) is a source of the answer, cited once, in the order read. Writes are
not sources: a call whose tool name says it writes, edits, moves or deletes is left out.
"""

from __future__ import annotations

from typing import Any

from k2_host.llm.base import ToolCall
from k2_host.mcp.types import ToolResult
from k2_host.results import Citation

_WRITES = ("write", "edit", "move", "delete", "remove", "create", "copy", "insert", "update")


def tool_citations(call: ToolCall, result: ToolResult) -> list[Citation]:
    if result.is_error:
        return []
    server, _, tool = call.name.partition(".")
    if any(word in tool for word in _WRITES):
        return []
    args: dict[str, Any] = call.arguments or {}
    found: list[Citation] = []
    for key in ("path", "url", "uri"):
        if isinstance(args.get(key), str) and args[key]:
            found.append(Citation(source=args[key], location=_lines(args)))
    for path in args.get("paths") or []:
        if isinstance(path, str) and path:
            found.append(Citation(source=path))
    if not found and isinstance(args.get("sql"), str):
        found.append(Citation(source=server, location="query", text=args["sql"][:500]))
    if not found and isinstance(args.get("code"), str):
        found.append(Citation(source=server, location=tool, text=args["code"][:500]))
    return found


def _lines(args: dict[str, Any]) -> str | None:
    """A line range when the call asked for one (`offset`/`limit`, 0-based; or `head`/`tail`)."""
    head, tail, offset, limit = (args.get(k) for k in ("head", "tail", "offset", "limit"))
    if isinstance(head, int):
        return f"first {head} lines"
    if isinstance(tail, int):
        return f"last {tail} lines"
    if isinstance(offset, int) and offset > 0:
        return f"lines {offset + 1}-{offset + limit}" if isinstance(limit, int) else f"from line {offset + 1}"
    return None
