"""The transcript of a conversation: typed turns, kept whole, and the sessions that persist them.

A turn is a `UserTurn`, an `AssistantTurn` (text, the tool calls it asked for, the model's reasoning and the
provider's opaque data that must travel back, usage) or a `ToolTurn` (the full `ToolResult`, never cut, with
its size). What a model is sent each step is not the transcript itself: the context policy
(`k2_host.context.policy`) turns the transcript into messages, cutting or leaving out what it decides.

A `Transcript` belongs to a session. The runtime's `SessionStore` persists sessions (SQLite under the state
dir, `sessions.sqlite`; in memory without a state dir): the turns of one request are written together at its
end, so a crash loses at most the request in flight, never half of one.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from k2_host.errors import ConfigError
from k2_host.llm.base import Message, ToolCall, Usage
from k2_host.mcp.types import ToolResult
from k2_host.sealing import PLAIN, Sealer
from k2_host.storage import SQLiteFile


class UserTurn(BaseModel):
    kind: Literal["user"] = "user"
    text: str
    resolved: str | None = None  # the whole question a follow-up stood for (offline engine), when it differed
    at: float = Field(default_factory=time.time)
    request_id: str = ""


class AssistantTurn(BaseModel):
    kind: Literal["assistant"] = "assistant"
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    reasoning: str | None = None
    provider_data: dict = Field(default_factory=dict)
    model: str = ""
    usage: Usage | None = None
    # True when the engine wrote it rather than a model (the offline engine's answer, a budget stop's summary).
    synthetic: bool = False
    at: float = Field(default_factory=time.time)
    request_id: str = ""

    def message(self) -> Message:
        return Message(
            role="assistant",
            content=self.text,
            tool_calls=list(self.tool_calls),
            reasoning=self.reasoning,
            provider_data=dict(self.provider_data),
        )


class ToolTurn(BaseModel):
    kind: Literal["tool"] = "tool"
    call_id: str
    name: str
    arguments: dict = Field(default_factory=dict)
    result: ToolResult
    chars: int = 0  # size of the whole result (text + structured JSON), what a policy may cut
    at: float = Field(default_factory=time.time)
    request_id: str = ""

    @classmethod
    def of(cls, call: ToolCall, result: ToolResult, request_id: str = "") -> ToolTurn:
        size = len(result.body())
        return cls(
            call_id=call.id, name=call.name, arguments=call.arguments, result=result, chars=size, request_id=request_id
        )


Turn = Annotated[UserTurn | AssistantTurn | ToolTurn, Field(discriminator="kind")]
logger = logging.getLogger(__name__)
_TURN: TypeAdapter[UserTurn | AssistantTurn | ToolTurn] = TypeAdapter(Turn)


class Transcript:
    """The turns of one session: the history from earlier requests, then the request in flight."""

    def __init__(self, session_id: str | None = None, turns: Sequence[Turn] = (), *, persistent: bool = False) -> None:
        self.session_id = session_id or new_session_id()
        self.turns: list[Turn] = list(turns)
        self.persistent = persistent  # opened from a SessionStore: each request's turns are saved there
        self._saved = len(self.turns)

    @classmethod
    def from_messages(cls, messages: Sequence[Message], session_id: str | None = None) -> Transcript:
        """A transcript from plain user/assistant messages (what `Agent.ask(history=...)` takes)."""
        turns: list[Turn] = []
        for m in messages:
            if m.role == "user":
                turns.append(UserTurn(text=m.content))
            elif m.role == "assistant":
                turns.append(
                    AssistantTurn(
                        text=m.content, tool_calls=m.tool_calls, reasoning=m.reasoning, provider_data=m.provider_data
                    )
                )
            elif m.role == "tool" and m.tool_call_id:
                result = ToolResult(name=m.name or "", text=m.content, is_error=m.is_error)
                turns.append(ToolTurn(call_id=m.tool_call_id, name=m.name or "", result=result, chars=len(m.content)))
        return cls(session_id, turns)

    def add(self, turn: Turn) -> None:
        self.turns.append(turn)

    def unsaved(self) -> list[Turn]:
        return self.turns[self._saved :]

    def mark_saved(self) -> None:
        self._saved = len(self.turns)

    def discard_unsaved(self) -> None:
        """Forget the turns of a request that did not finish (cancelled, or failed), so none is saved later."""
        del self.turns[self._saved :]

    def __len__(self) -> int:
        return len(self.turns)


def new_session_id() -> str:
    return uuid.uuid4().hex[:16]


_SESSION_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def check_session_id(session_id: str) -> str:
    if not _SESSION_ID.match(session_id):
        raise ConfigError(
            f"session id {session_id!r}: use 1-128 letters, digits, '.', '_' or '-' (e.g. --session work)"
        )
    return session_id


class SessionInfo(BaseModel):
    id: str
    turns: int
    created_at: float
    updated_at: float
    title: str = ""  # the first user turn, shortened
    owner: str = ""  # who created it over the API ("key:<id>", "jwt:<sub>"); "" for the CLI's sessions


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL, title TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
"""


class SessionStore:
    """Sessions in a SQLite file (or in memory when `path` is None)."""

    def __init__(self, path: Path | None, sealer: Sealer = PLAIN) -> None:
        self.db = SQLiteFile(path, _SCHEMA)
        self.db.run(_add_owner_column)
        self.sealer = sealer if path is not None else PLAIN  # (in memory: nothing at rest)

    def close(self) -> None:
        self.db.close()

    async def open(self, session_id: str | None = None) -> Transcript:
        """The session's transcript (empty, and new, when it does not exist yet)."""
        sid = check_session_id(session_id) if session_id else new_session_id()
        turns = await self.db.arun(lambda con: _load(con, sid, self.sealer))
        return Transcript(sid, turns, persistent=True)

    async def create(self, owner: str) -> SessionInfo:
        """A new, empty session that belongs to `owner` (its id chosen here, never by the caller)."""
        sid = new_session_id()
        now = time.time()
        await self.db.atransaction(
            lambda con: con.execute(
                "INSERT INTO sessions(id, created_at, updated_at, title, owner) VALUES (?, ?, ?, '', ?)",
                (sid, now, now, owner),
            )
        )
        return SessionInfo(id=sid, turns=0, created_at=now, updated_at=now, owner=owner)

    async def info(self, session_id: str) -> SessionInfo | None:
        sid = check_session_id(session_id)
        found = await self.db.arun(lambda con: con.execute(_LIST + " WHERE s.id = ? GROUP BY s.id", (sid,)).fetchall())
        return self._info(found[0]) if found else None

    async def save(self, transcript: Transcript) -> int:
        """Write the turns added since the last save, all together; returns how many."""
        new = transcript.unsaved()
        if not new:
            return 0
        sid = transcript.session_id
        base = len(transcript.turns) - len(new)
        seal = self.sealer.seal_text
        rows = [(t.kind, seal(t.model_dump_json(), _where(sid, base + i))) for i, t in enumerate(new)]
        first = next((t.text for t in transcript.turns if isinstance(t, UserTurn)), "")[:80]
        title = seal(first, _where(sid)) if first else ""

        def write(con: sqlite3.Connection) -> None:
            now = time.time()
            con.execute(
                "INSERT INTO sessions(id, created_at, updated_at, title) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, "
                "title = CASE WHEN sessions.title = '' THEN excluded.title ELSE sessions.title END",
                (sid, now, now, title),
            )
            con.executemany(
                "INSERT OR REPLACE INTO turns(session_id, seq, kind, data) VALUES (?, ?, ?, ?)",
                [(sid, base + i, kind, data) for i, (kind, data) in enumerate(rows)],
            )

        await self.db.atransaction(write)
        transcript.mark_saved()
        return len(new)

    async def list(self, limit: int = 50, *, owner: str | None = None) -> list[SessionInfo]:
        """The most recently used sessions first; only `owner`'s when given."""
        where, args = ("WHERE s.owner = ? ", (owner, limit)) if owner is not None else ("", (limit,))
        sql = f"{_LIST} {where}GROUP BY s.id ORDER BY s.updated_at DESC LIMIT ?"
        rows = await self.db.arun(lambda con: con.execute(sql, args).fetchall())
        return [self._info(r) for r in rows]

    def _info(self, r: tuple[Any, ...]) -> SessionInfo:
        title = self.sealer.open_text(r[4], _where(r[0]))
        return SessionInfo(id=r[0], turns=r[1], created_at=r[2], updated_at=r[3], title=title, owner=r[5])

    async def reseal(self) -> int:
        """Seal every title and turn not sealed with the current key (after a key rotation, or when encryption
        was turned on); returns how many values were rewritten. Plain storage: nothing to do."""
        sealer = self.sealer
        if not sealer.encrypting:
            return 0

        def work(con: sqlite3.Connection) -> int:
            done = 0
            for sid, title in con.execute("SELECT id, title FROM sessions WHERE title != ''").fetchall():
                if not sealer.is_current(title):
                    value = sealer.seal_text(sealer.open_text(title, _where(sid)), _where(sid))
                    con.execute("UPDATE sessions SET title = ? WHERE id = ?", (value, sid))
                    done += 1
            for sid, seq, data in con.execute("SELECT session_id, seq, data FROM turns").fetchall():
                if not sealer.is_current(data):
                    where = _where(sid, seq)
                    value = sealer.seal_text(sealer.open_text(data, where), where)
                    con.execute("UPDATE turns SET data = ? WHERE session_id = ? AND seq = ?", (value, sid, seq))
                    done += 1
            return done

        return await self.db.atransaction(work)

    async def delete(self, session_id: str) -> bool:
        sid = check_session_id(session_id)

        def work(con: sqlite3.Connection) -> bool:
            con.execute("DELETE FROM turns WHERE session_id = ?", (sid,))
            return con.execute("DELETE FROM sessions WHERE id = ?", (sid,)).rowcount > 0

        return await self.db.atransaction(work)


_LIST = (
    "SELECT s.id, count(t.seq), s.created_at, s.updated_at, s.title, s.owner FROM sessions s "
    "LEFT JOIN turns t ON t.session_id = s.id"
)


def _add_owner_column(con: sqlite3.Connection) -> None:
    """Files written before sessions had owners get the column (their sessions: owner "")."""
    if "owner" not in {row[1] for row in con.execute("PRAGMA table_info(sessions)")}:
        con.execute("ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT ''")


def _where(sid: str, seq: int | None = None) -> str:
    return f"sessions/{sid}/title" if seq is None else f"sessions/{sid}/turn/{seq}"


def _load(con: sqlite3.Connection, sid: str, sealer: Sealer) -> list[Turn]:
    out: list[Turn] = []
    for seq, data in con.execute("SELECT seq, data FROM turns WHERE session_id = ? ORDER BY seq", (sid,)):
        try:
            out.append(_TURN.validate_json(sealer.open_text(data, _where(sid, seq))))
        except ValidationError:  # written by another version: skipped, and said in the log
            logger.warning("session %s: turn %d is not readable; skipped", sid, seq)
    return out
