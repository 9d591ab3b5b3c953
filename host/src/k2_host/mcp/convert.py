"""SDK wire objects to the manager's own types (`ToolInfo`, `ToolResult`), and a check of what servers send."""

from __future__ import annotations

from typing import Any

from mcp.types import CallToolResult, EmbeddedResource, ImageContent, TextContent, Tool

from k2_host.mcp.types import HostErrorCode, ToolInfo, ToolResult

ERROR_META_KEY = "k2/error"  # servers built on k2_shared put their refusal kind here


def tool_info(server: str, tool: Tool) -> ToolInfo:
    ann = tool.annotations
    read_only = bool(ann and ann.read_only_hint)
    destructive = False if read_only else (ann.destructive_hint if ann and ann.destructive_hint is not None else True)
    return ToolInfo(
        name=f"{server}.{tool.name}",
        server=server,
        tool=tool.name,
        description=tool.description or "",
        input_schema=dict(tool.input_schema or {}),
        output_schema=dict(tool.output_schema) if tool.output_schema else None,
        read_only=read_only,
        destructive=destructive,
        idempotent=bool(ann and ann.idempotent_hint) or read_only,
        open_world=True if ann is None or ann.open_world_hint is None else bool(ann.open_world_hint),
        title=tool.title or (ann.title if ann else None),
    )


def tool_wire_dict(tool: Tool) -> dict[str, Any]:
    """The tool as JSON on the wire (camelCase), what a pin fingerprints."""
    return tool.model_dump(by_alias=True, exclude_none=True, mode="json")


class BadResult(Exception):
    """A server's result does not have the shape MCP requires."""


def tool_result(name: str, result: Any, *, instance: str | None = None) -> ToolResult:
    """Translate a CallToolResult; anything else (or a malformed one) raises BadResult."""
    if not isinstance(result, CallToolResult):
        raise BadResult(f"expected a CallToolResult, got {type(result).__name__}")
    texts: list[str] = []
    images: list[dict[str, str]] = []
    resources: list[dict[str, str]] = []
    for block in result.content:
        if isinstance(block, TextContent):
            texts.append(block.text)
        elif isinstance(block, ImageContent):
            images.append({"mime_type": block.mime_type, "data": block.data})
        elif isinstance(block, EmbeddedResource):
            res = block.resource
            entry = {"uri": str(res.uri), "mime_type": res.mime_type or ""}
            text = getattr(res, "text", None)
            if text is not None:
                entry["text"] = text
            else:
                entry["blob"] = getattr(res, "blob", "")
            resources.append(entry)
        else:
            texts.append(f"[{getattr(block, 'type', 'unknown')} content omitted]")
    structured = result.structured_content
    if structured is not None and not isinstance(structured, dict):
        raise BadResult(f"structuredContent must be an object, got {type(structured).__name__}")
    meta = result.meta or {}
    code = meta.get(ERROR_META_KEY) if isinstance(meta, dict) else None
    return ToolResult(
        name=name,
        is_error=bool(result.is_error),
        text="\n".join(texts),
        structured=structured,
        error_code=str(code) if result.is_error and code else ("tool_error" if result.is_error else None),
        images=images,
        resources=resources,
        instance=instance,
    )


def host_error(name: str, code: HostErrorCode, message: str, **extra: Any) -> ToolResult:
    """A failure the host itself reports (unknown tool, timeout, breaker open, ...), shaped like a tool error."""
    return ToolResult(name=name, is_error=True, text=message, error_code=code, **extra)
