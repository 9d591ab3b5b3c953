"""Refusals that tell a client what kind of problem it hit, not only a message.

Every server's own errors subclass `CodedToolError` and set `code` (`not_found`, `access_denied`, `refused`,
...). `K2MCPServer` returns such a refusal, and arguments that fail the input schema (`invalid_arguments`), as an
`is_error` result whose `_meta[ERROR_META_KEY]` holds the code; the message text is unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server import MCPServer
from mcp.server.lowlevel.server import LifespanResultT
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.types import CallToolResult, TextContent
from pydantic import ValidationError

logger = logging.getLogger(__name__)

ERROR_META_KEY = "k2/error"
INVALID_ARGUMENTS = "invalid_arguments"


class CodedToolError(ToolError):
    """A refusal the model can act on; `code` names its kind for clients."""

    code = "error"


class K2MCPServer(MCPServer[LifespanResultT]):
    """An MCPServer whose refusals carry their kind in the result's `_meta`."""

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, CodedToolError | ValidationError):
                raise
            code = cause.code if isinstance(cause, CodedToolError) else INVALID_ARGUMENTS
            logger.info("Tool %r refused: %s", name, code)
            return CallToolResult(
                content=[TextContent(type="text", text=str(exc))], is_error=True, _meta={ERROR_META_KEY: code}
            )
