"""Helpers shared by the filesystem tool tests."""

from __future__ import annotations

from typing import Any

from k2_shared.errors import ERROR_META_KEY
from mcp import Client
from mcp.types import CallToolResult


async def ok(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    """Call a tool that must succeed; its structured content."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def refusal(result: CallToolResult) -> str:
    """The kind of refusal of a failed call (the error code the server puts in the result's _meta)."""
    assert result.is_error, result.structured_content
    assert result.meta is not None
    return result.meta[ERROR_META_KEY]
