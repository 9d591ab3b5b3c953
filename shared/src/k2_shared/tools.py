"""Tool registration helpers shared by the servers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server import MCPServer

F = TypeVar("F", bound=Callable[..., Any])


def tool(server: MCPServer[Any], *, trusted_output: bool = False, **kwargs: Any) -> Callable[[F], F]:
    """`server.tool(...)` with the docstring as a clean description (the SDK keeps its indentation).

    A tool without a docstring is a programming error: clients and the conformance suite need descriptions.

    `trusted_output=True` is for a tool that returns `Annotated[CallToolResult, Model]` whose structured content
    it builds field by field (a listing of thousands of entries): the schema of `Model` is still published as
    the tool's outputSchema (and clients check results against it, as the SDK client does), but the server
    does not validate every result again, which for large results costs more than building them. The SDK
    documents these metadata fields as read live, so clearing the model takes effect on the next call.
    """

    def decorator(fn: F) -> F:
        if not fn.__doc__:
            raise ValueError(f"tool {fn.__name__} needs a docstring: it becomes the description clients show")
        kwargs.setdefault("description", inspect.cleandoc(fn.__doc__))
        registered = server.tool(**kwargs)(fn)
        if trusted_output:
            entry = server._tool_manager.get_tool(kwargs.get("name") or fn.__name__)  # no public accessor
            if entry is None or entry.fn_metadata.output_schema is None:
                raise ValueError(f"tool {fn.__name__}: trusted_output needs a structured return type")
            entry.fn_metadata.output_model = None
        return registered

    return decorator
