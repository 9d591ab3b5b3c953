"""What the client manager hands back: tool results and tool descriptions, free of SDK types.

Everything above the manager (agent loop, offline engine, RAG ingestion, CLI) works with these, and reaches
the servers only through a `ToolCaller`.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class ToolInfo(BaseModel):
    """One tool of one server, as listed (name is namespaced: `server.tool`)."""

    name: str
    server: str
    tool: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict)
    output_schema: dict[str, Any] | None = None
    read_only: bool = False
    destructive: bool = True  # MCP's default when a server says nothing
    idempotent: bool = False
    open_world: bool = True
    title: str | None = None


class ToolResult(BaseModel):
    """The outcome of one tool call."""

    name: str  # namespaced
    is_error: bool = False
    text: str = ""  # the text blocks joined; for errors, the message
    structured: dict[str, Any] | None = None
    error_code: str | None = None  # the server's refusal kind (_meta["k2/error"]) or the host's own
    images: list[dict[str, str]] = Field(default_factory=list)  # {"mime_type", "data"(base64)}
    # Embedded resources: {"uri", "mime_type", and "text" or "blob" (base64)}; a PDF read_file returns one.
    resources: list[dict[str, str]] = Field(default_factory=list)
    cached: bool = False
    duration_ms: float = 0.0
    instance: str | None = None  # which instance of the server answered

    def body(self) -> str:
        """The text, or the structured content as JSON when there is no text."""
        if self.structured is not None and not self.text:
            return json.dumps(self.structured, ensure_ascii=False)
        return self.text


class ToolCaller(Protocol):
    """The one thing the layers above the manager need: call a namespaced tool."""

    async def call(
        self, name: str, arguments: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> ToolResult: ...


HostErrorCode = Literal[
    "unknown_tool",
    "server_unavailable",
    "timeout",
    "denied",
    "pin_changed",
    "rate_limited",
    "bad_result",
    "protocol_error",
    "cancelled",
    "invalid_arguments",
    "search_failed",
    "tool_error",
]
"""Every error code the host itself produces (servers built on k2_shared name their own refusal kinds, which are
passed through in `error_code`: `not_found`, `denied`, `timeout` ...)."""

HOST_ERRORS: dict[HostErrorCode, str] = {
    "unknown_tool": "no such tool on any connected server",
    "server_unavailable": "the server did not start, is down, or its circuit breaker is open",
    "timeout": "the call passed its deadline",
    "denied": "the approval policy refused the call",
    "pin_changed": "the tool's definition changed since it was pinned",
    "rate_limited": "the server's rate limit was reached",
    "bad_result": "the server's result was malformed",
    "protocol_error": "the server answered with a JSON-RPC error",
    "cancelled": "the call was cancelled",
    "invalid_arguments": "the model's arguments were not what the tool takes (not a JSON object, bad values)",
    "search_failed": "the knowledge index could not be searched",
    "tool_error": "the server reported a failed call without naming its kind (K2 servers name it)",
}
