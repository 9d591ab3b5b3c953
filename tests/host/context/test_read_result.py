"""`context.read_result`: wrong, hostile and oversized arguments get a clear error; nothing is read outside."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from k2_host.context.spill import MAX_LINES, SpillStore, read_result_tool
from k2_host.context.transcript import ToolTurn, Transcript
from k2_host.llm.base import ToolCall
from k2_host.mcp.types import ToolResult

pytestmark = pytest.mark.anyio

BODY = "\n".join(f"line {i}: {'ERROR disk full' if i == 700 else 'ok'}" for i in range(1000))


def run_with(tmp_path: Path) -> tuple[Any, SpillStore]:
    call = ToolCall(id="c1", name="filesystem.read_file", arguments={"path": "app.log"})
    transcript = Transcript("s1", [ToolTurn.of(call, ToolResult(name=call.name, text=BODY))])
    store = SpillStore(tmp_path / "context")
    store.write("s1", "c1", BODY)
    return SimpleNamespace(transcript=transcript), store


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({}, 'send {"id"'),
        ({"id": 7}, 'send {"id"'),
        ({"id": "c1", "limit": MAX_LINES + 1}, f"1..{MAX_LINES}"),
        ({"id": "c1", "limit": 0}, f"1..{MAX_LINES}"),
        ({"id": "c1", "offset": -1}, 'send {"id"'),
        ({"id": "c1", "grep": 5}, 'send {"id"'),
        ({"id": "c1", "grep": "(unclosed"}, "is not a valid regex"),
        ({"id": "nope"}, "no tool result with id 'nope'"),
        ({"id": "../../../etc/passwd"}, "no tool result with id"),  # never a path
        ({"id": "x" * 5000}, "no tool result with id"),
    ],
)
async def test_bad_arguments_get_a_clear_error(tmp_path: Path, arguments: dict, says: str) -> None:
    run, store = run_with(tmp_path)
    result = await read_result_tool(store)(arguments, run)
    assert result.is_error and result.error_code == "invalid_arguments" and says in result.text


async def test_a_pattern_that_backtracks_without_end_is_stopped(tmp_path: Path) -> None:
    run, store = run_with(tmp_path)
    store.write("s1", "c2", "x" * 3000)
    result = await read_result_tool(store)({"id": "c2", "grep": "(x+x+)+y"}, run)
    assert result.is_error and "use a simpler pattern" in result.text


async def test_lines_and_grep_read_the_whole_result_in_pages(tmp_path: Path) -> None:
    run, store = run_with(tmp_path)
    tool = read_result_tool(store)
    page = await tool({"id": "c1", "offset": 690, "limit": 20}, run)
    assert not page.is_error and page.text.startswith("lines 691-710 of 1000 (more with offset=710)")
    assert "701: line 700: ERROR disk full" in page.text
    hits = await tool({"id": "c1", "grep": "error"}, run)
    assert hits.text.startswith("1 of 1000 lines match 'error'") and "701: line 700: ERROR disk full" in hits.text
    # without a spill file the transcript holds the whole result
    fresh = await read_result_tool(SpillStore(None))({"id": "c1", "grep": "disk"}, run)
    assert "701: line 700: ERROR disk full" in fresh.text


async def test_an_oversized_page_is_cut_and_says_so(tmp_path: Path) -> None:
    run, store = run_with(tmp_path)
    store.write("s1", "wide", "\n".join("y" * 1000 for _ in range(100)))
    result = await read_result_tool(store)({"id": "wide", "limit": 100}, run)
    assert "cut at 24000 characters (ask for fewer lines)" in result.text and len(result.text) < 26_000
