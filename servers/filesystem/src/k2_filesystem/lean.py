"""Structured content that is serialized once, not three times, on its way to the client.

The SDK turns a tool's `CallToolResult` into its wire form in two passes, `model_dump` and then the per-version
result sieve (validate and dump again), and the transport then encodes that to JSON: three walks over the
structured content. For a listing of a thousand entries the first two cost more than building the listing.

`LeanResults` is a server middleware around every `tools/call`. A tool builds its result with `lean_result`:
inside such a call the SDK is handed an empty object as the structured content, and the middleware puts the
real one into the wire result the SDK produced, in the same place. Everything else still goes the SDK's way
(argument validation, errors, the per-version sieve, `resultType` and `serverInfo` stamps), so clients get
the same results: a version whose results have no `structuredContent` still gets none. The content must be
JSON-ready data (str keys; str, int, float, bool, None, lists and dicts of them), as the SDK would emit it.
Outside the middleware (a direct `MCPServer.call_tool`, another server) `lean_result` is a plain
`CallToolResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, ContentBlock

STRUCTURED_KEY = "structuredContent"


class _Slot:
    __slots__ = ("content",)

    def __init__(self) -> None:
        self.content: dict[str, Any] | None = None


_slot: ContextVar[_Slot | None] = ContextVar("k2_filesystem_lean_slot", default=None)


def lean_result(content: Sequence[ContentBlock], structured: dict[str, Any]) -> CallToolResult:
    """`CallToolResult(content=content, structured_content=structured)`, the structured part serialized once
    when the call came through `LeanResults`."""
    slot = _slot.get()
    if slot is None or slot.content is not None:
        return CallToolResult(content=list(content), structured_content=structured)
    slot.content = structured
    return CallToolResult(content=list(content), structured_content={})


class LeanResults:
    """Server middleware: puts the structured content a tool left with `lean_result` into the wire result."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        slot = _Slot()
        token = _slot.set(slot)
        try:
            result = await call_next(ctx)
        finally:
            _slot.reset(token)
        if slot.content is not None and isinstance(result, dict) and STRUCTURED_KEY in result:
            result = {**result, STRUCTURED_KEY: slot.content}  # the key keeps its place
        return result
