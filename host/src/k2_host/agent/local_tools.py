"""Host-side tools: offered to a model beside the MCP tools, with schemas, registered in one place.

The runtime registers `knowledge.search` (when a knowledge index exists) and `agent.delegate` (top-level
requests only); other layers add theirs (`skills.*`). A local tool's name is namespaced like an MCP tool's
(`area.name`), must not clash with a configured server's name, and its handler gets the arguments (already a
JSON object) and the request's `Run`, and returns a `ToolResult` (a failure is an `is_error` result, never an
exception).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from k2_host.llm.base import ToolSpec
from k2_host.mcp.types import ToolResult

if TYPE_CHECKING:
    from k2_host.agent.engine import Run

LocalHandler = Callable[[dict[str, Any], "Run"], Awaitable[ToolResult]]


@dataclass(frozen=True)
class LocalTool:
    spec: ToolSpec
    handler: LocalHandler
    top_level_only: bool = False  # offered to top-level requests only (sub-agents do not fan out again)
    read_only: bool = True

    @property
    def name(self) -> str:
        return self.spec.name


class LocalToolset:
    """The local tools, in the order registered (a stable prompt prefix for provider caches)."""

    def __init__(self) -> None:
        self._tools: dict[str, LocalTool] = {}

    def add(self, tool: LocalTool) -> None:
        area, dot, rest = tool.name.partition(".")
        if not dot or not area or not rest:
            raise ValueError(f"local tool name {tool.name!r}: use area.name, e.g. skills.run")
        if tool.name in self._tools:
            raise ValueError(f"a local tool named {tool.name!r} is registered already")
        self._tools[tool.name] = tool

    def remove(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str, *, depth: int = 0) -> LocalTool | None:
        tool = self._tools.get(name)
        if tool is None or (tool.top_level_only and depth > 0):
            return None
        return tool

    def specs(self, *, depth: int = 0) -> list[ToolSpec]:
        return [t.spec for t in self._tools.values() if depth == 0 or not t.top_level_only]

    def areas(self) -> set[str]:
        return {name.partition(".")[0] for name in self._tools}

    def __contains__(self, name: str) -> bool:
        return name in self._tools
