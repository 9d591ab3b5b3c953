"""Which tool calls are sources of a model's answer (`k2_host.agent.citations`)."""

from __future__ import annotations

from k2_host.agent.citations import tool_citations
from k2_host.llm.base import ToolCall
from k2_host.mcp.types import ToolResult


def cite(name: str, error: bool = False, **arguments: object) -> list[tuple[str, str | None]]:
    found = tool_citations(ToolCall(id="c", name=name, arguments=arguments), ToolResult(name=name, is_error=error))
    return [(c.source, c.location) for c in found]


def test_reads_are_sources_with_their_range_and_writes_or_failures_are_not() -> None:
    assert cite("filesystem.read_file", path="src/app.py") == [("src/app.py", None)]
    assert cite("filesystem.read_file", path="a.txt", offset=10, limit=5) == [("a.txt", "lines 11-15")]
    assert cite("filesystem.read_multiple_files", paths=["a", "b", 3]) == [("a", None), ("b", None)]
    assert cite("websearch.fetch_webpage", url="https://example.org/x") == [("https://example.org/x", None)]
    assert cite("database.query_database", sql="SELECT 1") == [("database", "query")]
    assert cite("codeexec.execute_python", code="print(1)") == [("codeexec", "execute_python")]
    assert cite("filesystem.write_file", path="out.txt", content="x") == []
    assert cite("filesystem.edit_file", path="a.txt", edits=[]) == []
    assert cite("filesystem.read_file", error=True, path="missing.txt") == []
    assert cite("websearch.search", query="what") == []
