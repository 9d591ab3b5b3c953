"""Tool registration helpers shared by the servers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server import MCPServer

F = TypeVar("F", bound=Callable[..., Any])


def tool(server: MCPServer[Any], **kwargs: Any) -> Callable[[F], F]:
    """`server.tool(...)` with the docstring as a clean description (the SDK keeps its indentation).

    A tool without a docstring is a programming error: clients and the conformance suite need descriptions.
    """

    def decorator(fn: F) -> F:
        if not fn.__doc__:
            raise ValueError(f"tool {fn.__name__} needs a docstring: it becomes the description clients show")
        kwargs.setdefault("description", inspect.cleandoc(fn.__doc__))
        return server.tool(**kwargs)(fn)

    return decorator
