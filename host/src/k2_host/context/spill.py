"""Whole tool results, kept when the context window shows only part of them, and the tool that reads them.

A result over `context.tool_result_tokens` is written whole to `<state dir>/context/<session>/<call id>.txt`
(0600; without a state dir it stays in memory). `context.read_result` (a local tool) reads it back by lines
(`offset`, `limit`) or greps it (`grep`, a regular expression, case-insensitive), from the spill file or, when
there is none, from the session's transcript, which holds every result whole.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import regex

from k2_host.context.transcript import ToolTurn, check_session_id
from k2_host.llm.base import ToolSpec
from k2_host.mcp.convert import host_error
from k2_host.mcp.types import ToolResult
from k2_host.sealing import PLAIN, Sealer

if TYPE_CHECKING:
    from k2_host.agent.engine import Run

_CALL_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
MAX_LINES = 400
MAX_CHARS = 24_000
GREP_SECONDS = 2.0

READ_RESULT = ToolSpec(
    name="context.read_result",
    description=(
        "Read a tool result of this conversation that the context window shows only in part (or cleared): by "
        "lines (offset, limit) or the lines matching a regular expression (grep). Use the id the note gives."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1, "maxLength": 200, "description": "the tool call id"},
            "offset": {"type": "integer", "minimum": 0, "default": 0, "description": "first line (0-based)"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LINES, "default": 200},
            "grep": {"type": "string", "maxLength": 500, "description": "regular expression (case-insensitive)"},
        },
        "required": ["id"],
        "additionalProperties": False,
    },
)


class SpillStore:
    def __init__(self, root: Path | None, sealer: Sealer = PLAIN) -> None:
        self.root = root
        self.sealer = sealer
        self._memory: dict[tuple[str, str], str] = {}

    def _path(self, session_id: str, call_id: str) -> Path | None:
        if self.root is None or not _CALL_ID.match(call_id):
            return None
        try:
            check_session_id(session_id)
        except Exception:
            return None
        return self.root / session_id / f"{call_id}.txt"

    def write(self, session_id: str, call_id: str, text: str) -> None:
        """Keep `text`: in its file, or in memory without a state dir (or when the file cannot be written)."""
        path = self._path(session_id, call_id)
        if path is None:
            self._memory[(session_id, call_id)] = text
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(self.sealer.seal(text.encode(), f"spill/{session_id}/{call_id}"))
            os.replace(tmp, path)
        except OSError:
            self._memory[(session_id, call_id)] = text

    def reseal(self) -> int:
        """Seal again every kept result not sealed with the current key; returns how many."""
        if self.root is None or not self.sealer.encrypting or not self.root.is_dir():
            return 0
        done = 0
        for path in sorted(self.root.glob("*/*.txt")):
            data = path.read_bytes()
            if self.sealer.is_current(data):
                continue
            text = self.sealer.open(data, f"spill/{path.parent.name}/{path.stem}").decode("utf-8", "replace")
            self.write(path.parent.name, path.stem, text)
            done += 1
        return done

    def read(self, session_id: str, call_id: str) -> str | None:
        if (session_id, call_id) in self._memory:
            return self._memory[(session_id, call_id)]
        path = self._path(session_id, call_id)
        if path is None or not path.is_file():
            return None
        return self.sealer.open(path.read_bytes(), f"spill/{session_id}/{call_id}").decode("utf-8", "replace")


def read_result_tool(store: SpillStore) -> Any:
    """The `context.read_result` handler over `store` (and the transcript when nothing was spilled)."""

    async def handler(arguments: dict[str, Any], run: Run) -> ToolResult:
        call_id = arguments.get("id")
        offset = arguments.get("offset", 0)
        limit = arguments.get("limit", 200)
        grep = arguments.get("grep")
        if (
            not isinstance(call_id, str)
            or not isinstance(offset, int)
            or not isinstance(limit, int)
            or offset < 0
            or not 1 <= limit <= MAX_LINES
            or (grep is not None and not isinstance(grep, str))
        ):
            return host_error(
                READ_RESULT.name,
                "invalid_arguments",
                f'send {{"id": "<call id>", "offset": 0, "limit": 1..{MAX_LINES}}}',
            )
        text = store.read(run.transcript.session_id, call_id)
        if text is None:
            turn = next(
                (t for t in reversed(run.transcript.turns) if isinstance(t, ToolTurn) and t.call_id == call_id), None
            )
            if turn is None:
                return host_error(READ_RESULT.name, "invalid_arguments", f"no tool result with id {call_id!r} here")
            text = turn.result.body()
        lines = text.splitlines()
        if grep:
            try:
                pattern = regex.compile(grep, regex.IGNORECASE)
            except regex.error as exc:
                return host_error(READ_RESULT.name, "invalid_arguments", f"grep {grep!r} is not a valid regex: {exc}")
            try:  # a pattern that backtracks without end is stopped, not waited for
                deadline = time.monotonic() + GREP_SECONDS
                hits = []
                for i, line in enumerate(lines):
                    if pattern.search(line, timeout=max(0.001, deadline - time.monotonic())):
                        hits.append(i)
            except TimeoutError:
                return host_error(
                    READ_RESULT.name,
                    "invalid_arguments",
                    f"grep {grep!r} took over {GREP_SECONDS:g} s on this result; use a simpler pattern",
                )
            chosen = hits[offset : offset + limit]
            head = f"{len(hits)} of {len(lines)} lines match {grep!r}"
            if len(hits) > offset + limit:
                head += f"; showing {offset}-{offset + len(chosen) - 1} (more with offset={offset + limit})"
        else:
            chosen = list(range(offset, min(len(lines), offset + limit)))
            head = f"lines {offset + 1}-{offset + len(chosen)} of {len(lines)}"
            if offset + limit < len(lines):
                head += f" (more with offset={offset + limit})"
        body, size = [], 0
        for i in chosen:
            line = f"{i + 1}: {lines[i]}"
            if size + len(line) > MAX_CHARS:
                head += f"; cut at {MAX_CHARS} characters (ask for fewer lines)"
                break
            body.append(line)
            size += len(line) + 1
        return ToolResult(name=READ_RESULT.name, text=head + "\n" + "\n".join(body))

    return handler
