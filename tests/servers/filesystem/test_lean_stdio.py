"""k2-filesystem over real pipes: the lean tools/call path (k2_shared.leancall) writes the same lines as the SDK's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.server import build_server

from tests.servers.filesystem.test_lean_results import CALLS, make_tree
from tests.shared.lean_wire import Message, Taken, lean_taken, served, tool_call

pytestmark = pytest.mark.anyio
__all__ = ["lean_taken"]  # the fixture, imported for pytest

MORE: list[tuple[str, dict[str, Any]]] = [
    ("read_file", {"path": "notes.txt", "offset": -1}),
    ("read_file", {"path": "notes.txt", "extra": True}),
    ("read_file", {}),
    ("read_multiple_files", {"paths": ["notes.txt", "missing.txt", "pixel.png"]}),
    ("list_allowed_directories", {}),
    ("search_files", {"pattern": "*.txt"}),
    ("directory_tree", {"path": "many", "max_depth": 1}),
    ("grep", {"pattern": "sec"}),
]


async def lines(root: Path, lean: bool, *, client_roots: list[str] | None) -> list[bytes]:
    def answer(message: Message) -> Message | None:
        if message["method"] == "roots/list" and client_roots is not None:
            return {"roots": [{"uri": uri} for uri in client_roots]}
        return None

    requests = [tool_call(i, tool, args) for i, (tool, args) in enumerate([*CALLS, *MORE], start=1)]
    server = build_server(FilesystemSettings(roots=[root]))  # pyright: ignore[reportCallIssue]
    async with served(server, lean=lean, answer=answer) as wire:
        await wire.handshake(roots=client_roots is not None)
        for request in requests:
            wire.send(request)
            await wire.until_answer(request["id"])
        return wire.lines


@pytest.mark.parametrize("with_roots", [False, True])
async def test_every_tool_answers_the_same_lines_on_the_lean_path(
    tmp_path: Path, lean_taken: Taken, with_roots: bool
) -> None:
    make_tree(tmp_path)
    client_roots = [(tmp_path / "many").as_uri()] if with_roots else None  # narrows the root: refusals differ
    sdk = await lines(tmp_path, False, client_roots=client_roots)
    assert lean_taken.ids == []
    lean = await lines(tmp_path, True, client_roots=client_roots)
    assert lean == sdk
    assert any(b'"roots/list"' in line for line in lean) == with_roots
    assert lean_taken.ids == list(range(1, len(CALLS) + len(MORE) + 1))
