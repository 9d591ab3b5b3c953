"""Serve an MCP server over stdin/stdout."""

from __future__ import annotations

from typing import Any

from mcp.server import MCPServer
from mcp.server.stdio import stdio_server


async def serve_stdio(server: MCPServer[Any]) -> None:
    lowlevel = server._lowlevel_server  # the SDK's own run_stdio_async does the same
    async with stdio_server() as (read_stream, write_stream):
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
