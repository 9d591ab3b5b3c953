"""The transcript of a conversation: typed turns, kept whole, and the sessions that persist them.

A turn is a `UserTurn`, an `AssistantTurn` (text, the tool calls it asked for, the model's reasoning and the
provider's opaque data that must travel back, usage) or a `ToolTurn` (the full `ToolResult`, never cut, with
its size). What a model is sent each step is not the transcript itself: the context policy
(`k2_host.context.policy`) turns the transcript into messages, cutting or leaving out what it decides.

A `Transcript` belongs to a session. The runtime's session store persists sessions (`SessionStore`: SQLite
under the state dir, `sessions.sqlite`, in memory without a state dir; `PostgresSessionStore` with
`sessions.store: postgres`, for replicas to share): the turns of one request are written together at its end,
so a crash loses at most the request in flight, never half of one. A transcript carries the store's `stamp`
of the session (next turn seq, updated_at) from when it was read or saved; a host that keeps transcripts open
compares it with `store.stamp(id)` to learn whether another host has saved turns since.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from k2_host.errors import ConfigError
from k2_host.llm.base import Message, ToolCall, Usage
from k2_host.mcp.types import ToolResult
from k2_host.sealing import PLAIN, Sealer
from k2_host.storage import SQLiteFile

if TYPE_CHECKING:
    from k2_host.learning.store import Connection, Database


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


Stamp = tuple[int, float]  # a session's next turn seq and its updated_at: what changes with every save


class Transcript:
    """The turns of one session: the history from earlier requests, then the request in flight."""

    def __init__(self, session_id: str | None = None, turns: Sequence[Turn] = (), *, persistent: bool = False) -> None:
        self.session_id = session_id or new_session_id()
        self.turns: list[Turn] = list(turns)
        self.persistent = persistent  # opened from a SessionStore: each request's turns are saved there
        self._saved = len(self.turns)
        self.stamp: Stamp | None = None  # the store's stamp of the session when these turns were read or saved

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


class SQLSessionStore:
    """Sessions over a `Database`, in statements spelled for SQLite that `PostgresDatabase` maps for PostgreSQL:
    `SessionStore` in a SQLite file, `PostgresSessionStore` (`k2_host.context.sessions_pg`) in a database
    several hosts share.

    Saves from several writers (two replicas answering in one session at once) never overwrite each other:
    each save appends after the session's last stored turn, in a transaction that holds the session's row
    locked, and a transcript that finds turns it did not know about is read again in that transaction, so it
    then holds every stored turn in their stored order."""

    def __init__(self, db: Database, sealer: Sealer = PLAIN) -> None:
        self.db = db
        self.sealer = sealer

    def close(self) -> None:
        self.db.close()

    async def open(self, session_id: str | None = None) -> Transcript:
        """The session's transcript (empty, and new, when it does not exist yet)."""
        sid = check_session_id(session_id) if session_id else new_session_id()

        def read(con: Connection) -> tuple[list[Turn], Stamp | None]:
            stamp = _stamp(con, sid)  # first: a save between the two reads shows as a stamp that moved
            return _load(con, sid, self.sealer), stamp

        turns, stamp = await self.db.arun(read)
        transcript = Transcript(sid, turns, persistent=True)
        transcript.stamp = stamp
        return transcript

    async def stamp(self, session_id: str) -> Stamp | None:
        """What a transcript read now would have as its `stamp` (None: no such session); cheap, by index."""
        sid = check_session_id(session_id)
        return await self.db.arun(lambda con: _stamp(con, sid))

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
        """Write the turns added since the last save, all together, after the last stored one; returns how many."""
        new = transcript.unsaved()
        if not new:
            return 0
        sid = transcript.session_id
        sealer = self.sealer
        first = next((t.text for t in transcript.turns if isinstance(t, UserTurn)), "")[:80]
        title = sealer.seal_text(first, _where(sid)) if first else ""
        known = transcript.stamp[0] if transcript.stamp is not None else 0
        texts = [t.model_dump_json() for t in new]

        def write(con: Connection) -> tuple[Stamp, list[Turn] | None]:
            now = time.time()
            con.execute(  # in PostgreSQL this locks the session's row: other writers wait for this transaction
                "INSERT INTO sessions AS s (id, created_at, updated_at, title) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, "
                "title = CASE WHEN s.title = '' THEN excluded.title ELSE s.title END",
                (sid, now, now, title),
            )
            start = _next_seq(con, sid)
            con.executemany(
                "INSERT INTO turns(session_id, seq, kind, data) VALUES (?, ?, ?, ?)",
                [
                    (sid, start + i, t.kind, sealer.seal_text(text, _where(sid, start + i)))
                    for i, (t, text) in enumerate(zip(new, texts, strict=True))
                ],
            )
            # Another writer saved turns this transcript lacks (or deleted the session): read it all again.
            fresh = None if start == known else _load(con, sid, sealer)
            return (start + len(new), now), fresh

        stamp, fresh = await self.db.atransaction(write)
        if fresh is not None:
            logger.info("session %s: another writer saved turns meanwhile; read again", sid)
            transcript.turns = fresh
        transcript.mark_saved()
        transcript.stamp = stamp
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

        def work(con: Connection) -> int:
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

        def work(con: Connection) -> bool:
            con.execute("DELETE FROM turns WHERE session_id = ?", (sid,))
            return con.execute("DELETE FROM sessions WHERE id = ?", (sid,)).rowcount > 0

        return await self.db.atransaction(work)


class SessionStore(SQLSessionStore):
    """Sessions in a SQLite file (or in memory when `path` is None)."""

    def __init__(self, path: Path | None, sealer: Sealer = PLAIN) -> None:
        db = SQLiteFile(path, _SCHEMA)
        db.run(_add_owner_column)
        super().__init__(db, sealer if path is not None else PLAIN)  # (in memory: nothing at rest)


_LIST = (
    "SELECT s.id, count(t.seq), s.created_at, s.updated_at, s.title, s.owner FROM sessions s "
    "LEFT JOIN turns t ON t.session_id = s.id"
)


def _add_owner_column(con: sqlite3.Connection) -> None:
    """Files written before sessions had owners get the column (their sessions: owner "")."""
    if "owner" not in {row[1] for row in con.execute("PRAGMA table_info(sessions)")}:
        con.execute("ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT ''")


def _next_seq(con: Connection, sid: str) -> int:
    return int(con.execute("SELECT COALESCE(max(seq) + 1, 0) FROM turns WHERE session_id = ?", (sid,)).fetchone()[0])


def _stamp(con: Connection, sid: str) -> Stamp | None:
    row = con.execute("SELECT updated_at FROM sessions WHERE id = ?", (sid,)).fetchone()
    return None if row is None else (_next_seq(con, sid), float(row[0]))


def _where(sid: str, seq: int | None = None) -> str:
    return f"sessions/{sid}/title" if seq is None else f"sessions/{sid}/turn/{seq}"


def _load(con: Connection, sid: str, sealer: Sealer) -> list[Turn]:
    out: list[Turn] = []
    for seq, data in con.execute("SELECT seq, data FROM turns WHERE session_id = ? ORDER BY seq", (sid,)).fetchall():
        try:
            out.append(_TURN.validate_json(sealer.open_text(data, _where(sid, seq))))
        except ValidationError:  # written by another version: skipped, and said in the log
            logger.warning("session %s: turn %d is not readable; skipped", sid, seq)
    return out
