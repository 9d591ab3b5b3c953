"""Tool registration helpers shared by the servers."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pydantic_core
from mcp.server import MCPServer
from mcp.types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from pydantic import BaseModel

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


def read_only(title: str, *, open_world: bool = False) -> ToolAnnotations:
    """Annotations of a tool that only reads (safe to retry); `open_world` when it reaches outside systems."""
    return ToolAnnotations(
        title=title, read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=open_world
    )


def typed_result(result: BaseModel, text: str | None = None, extra: Sequence[ContentBlock] = ()) -> CallToolResult:
    """A model as structured content, and as compact JSON text (or `text`) for clients that read only text,
    followed by any `extra` content (images a run produced, ...).

    (The SDK's own text fallback is indented JSON: a third bigger for row-like results.)"""
    data = result.model_dump(mode="json")
    shown = text if text is not None else pydantic_core.to_json(data).decode()
    return CallToolResult(content=[TextContent(type="text", text=shown), *extra], structured_content=data)


def writes(title: str, *, destructive: bool, idempotent: bool, open_world: bool = False) -> ToolAnnotations:
    """Annotations of a tool that changes state; `destructive` when it may overwrite or remove."""
    return ToolAnnotations(
        title=title,
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=open_world,
    )
