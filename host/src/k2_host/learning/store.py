"""Where trajectories are kept: one interface, a SQLite file by default, memory for tests and `learning.store`.

    store = open_trajectory_store(config, state_dir)     # SQLite <state dir>/k2.sqlite unless configured
    await store.add(trajectory)
    await store.get(id); await store.list(limit=20, session_id=None)
    await store.add_feedback(Feedback(trajectory_id=id, rating="good", by="key:ab12"))

Feedback (a rating of an answer, with a note and who gave it) is kept beside the trajectory it rates, for the
training layer to turn into rewards; a trajectory's feedback goes when the trajectory does.

The SQL stores keep the newest `learning.max_trajectories` (older ones are deleted as new ones come), each
as zlib-compressed JSON beside indexed columns (session, start time, parent): `SQLiteTrajectoryStore` in a file,
`PostgresTrajectoryStore` (`learning.store: postgres`, k2_host.learning.postgres) in a database several hosts
share. Both are `SQLTrajectoryStore`: one set of statements, in SQLite's spelling, over a `Database`; the few
statements the two spell differently are class attributes each backend sets.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field

from k2_host.config.model import LearningConfig
from k2_host.learning.trajectory import Trajectory, TrajectorySummary, summarize
from k2_host.sealing import PLAIN, Sealer
from k2_host.storage import SQLiteFile

T = TypeVar("T")


MAX_NOTE_CHARS = 4000  # a feedback's note (it becomes a lesson: the playbook keeps its first 400)


class Feedback(BaseModel):
    trajectory_id: str
    rating: Literal["good", "bad"]
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)
    by: str = ""  # who gave it ("key:<id>", "jwt:<sub>", "local")
    at: float = Field(default_factory=time.time)
    # a correction: the skill that should have answered ("none": no skill, the plans or the model alone)
    skill: str = Field(default="", max_length=64)


class TrajectoryStore(Protocol):
    async def add(self, trajectory: Trajectory) -> None: ...

    async def get(self, trajectory_id: str) -> Trajectory | None: ...

    async def list(
        self, *, limit: int = 20, session_id: str | None = None, parent_id: str | None = None
    ) -> list[TrajectorySummary]: ...

    async def count(self) -> int: ...

    async def add_feedback(self, feedback: Feedback) -> bool:
        """Keep it beside its trajectory; False when that trajectory is not (or no longer) stored."""
        ...

    async def feedback(self, trajectory_id: str) -> list[Feedback]: ...

    async def feedback_since(self, at: float, limit: int = 100_000) -> list[Feedback]:
        """Feedback given after `at` (any trajectory), oldest first."""
        ...

    async def since(self, at: float, limit: int = 100_000) -> list[TrajectorySummary]:
        """Summaries of the trajectories started after `at`, oldest first."""
        ...

    def close(self) -> None: ...


class MemoryTrajectoryStore:
    """The newest `capacity` trajectories in this process."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Trajectory] = OrderedDict()
        self._feedback: dict[str, list[Feedback]] = {}

    async def add(self, trajectory: Trajectory) -> None:
        self._items[trajectory.id] = trajectory
        self._items.move_to_end(trajectory.id)
        while len(self._items) > self.capacity:
            gone, _ = self._items.popitem(last=False)
            self._feedback.pop(gone, None)

    async def add_feedback(self, feedback: Feedback) -> bool:
        if feedback.trajectory_id not in self._items:
            return False
        self._feedback.setdefault(feedback.trajectory_id, []).append(feedback)
        return True

    async def feedback(self, trajectory_id: str) -> list[Feedback]:
        return list(self._feedback.get(trajectory_id, ()))

    async def feedback_since(self, at: float, limit: int = 100_000) -> list[Feedback]:
        found = sorted((f for fs in self._feedback.values() for f in fs if f.at > at), key=lambda f: f.at)
        return found[:limit]

    async def since(self, at: float, limit: int = 100_000) -> list[TrajectorySummary]:
        found = sorted((t for t in self._items.values() if t.started_at > at), key=lambda t: t.started_at)
        return [summarize(t) for t in found[:limit]]

    async def get(self, trajectory_id: str) -> Trajectory | None:
        return self._items.get(trajectory_id)

    async def list(
        self, *, limit: int = 20, session_id: str | None = None, parent_id: str | None = None
    ) -> list[TrajectorySummary]:
        found = [
            t
            for t in reversed(self._items.values())
            if (session_id is None or t.session_id == session_id) and (parent_id is None or t.parent_id == parent_id)
        ]
        return [summarize(t) for t in found[:limit]]

    async def count(self) -> int:
        return len(self._items)

    def close(self) -> None:
        return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS trajectories (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    session_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    query TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    stopped TEXT,
    tool_calls INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS trajectories_started ON trajectories(started_at);
CREATE INDEX IF NOT EXISTS trajectories_session ON trajectories(session_id, started_at);
CREATE INDEX IF NOT EXISTS trajectories_parent ON trajectories(parent_id);
CREATE TABLE IF NOT EXISTS feedback (
    trajectory_id TEXT NOT NULL REFERENCES trajectories(id) ON DELETE CASCADE,
    at REAL NOT NULL,
    rating TEXT NOT NULL,
    note TEXT NOT NULL,
    by TEXT NOT NULL,
    skill TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_trajectory ON feedback(trajectory_id);
CREATE INDEX IF NOT EXISTS feedback_at ON feedback(at);
"""


def _migrate(con: sqlite3.Connection) -> None:
    """Files written before corrections were kept get the feedback.skill column."""
    columns = {row[1] for row in con.execute("PRAGMA table_info(feedback)")}
    if "skill" not in columns:
        con.execute("ALTER TABLE feedback ADD COLUMN skill TEXT NOT NULL DEFAULT ''")


class Cursor(Protocol):
    """What the learning stores read of a statement's result."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What the learning stores use of a connection: sqlite3's own, or postgres.py's over psycopg."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


class Database(Protocol):
    """Where a learning store's tables are: `SQLiteFile`, or `PostgresDatabase`. `run` and `transaction` hand
    `fn` the connection (a transaction: all of `fn` or none of it); `arun`/`atransaction` in a worker thread."""

    def run(self, fn: Callable[[Connection], T]) -> T: ...

    async def arun(self, fn: Callable[[Connection], T]) -> T: ...

    def transaction(self, fn: Callable[[Connection], T]) -> T: ...

    async def atransaction(self, fn: Callable[[Connection], T]) -> T: ...

    def close(self) -> None: ...


class SQLTrajectoryStore:
    """The trajectory store over a SQL `Database` (the subclasses open it)."""

    # What SQLite and PostgreSQL spell differently (the PostgreSQL store sets its own).
    _TRIM = (
        "DELETE FROM trajectories WHERE id IN (SELECT id FROM trajectories ORDER BY started_at DESC LIMIT -1 OFFSET ?)"
    )
    _NOTES = "SELECT rowid, trajectory_id, note FROM feedback WHERE note != ''"
    _SET_NOTE = "UPDATE feedback SET note = ? WHERE rowid = ?"

    def __init__(self, db: Database, capacity: int, sealer: Sealer) -> None:
        self.db = db
        self.capacity = capacity
        self.sealer = sealer

    async def add(self, trajectory: Trajectory) -> None:
        s = summarize(trajectory)
        data = self.sealer.seal(zlib.compress(trajectory.model_dump_json().encode(), 3), f"trajectories/{s.id}")
        row = (
            s.id,
            s.parent_id,
            s.session_id,
            s.started_at,
            self.sealer.seal_text(s.query, f"trajectories/{s.id}/query"),
            s.engine,
            s.model,
            s.stopped,
            s.tool_calls,
            s.duration_ms,
            data,
        )

        def write(con: Connection) -> None:
            con.execute("DELETE FROM trajectories WHERE id = ?", (s.id,))  # a trajectory again: its feedback goes
            con.execute("INSERT INTO trajectories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            con.execute(self._TRIM, (self.capacity,))

        await self.db.atransaction(write)

    async def get(self, trajectory_id: str) -> Trajectory | None:
        def read(con: Connection) -> bytes | None:
            row = con.execute("SELECT data FROM trajectories WHERE id = ?", (trajectory_id,)).fetchone()
            return row[0] if row else None

        data = await self.db.arun(read)
        if data is None:
            return None
        where = f"trajectories/{trajectory_id}"
        return Trajectory.model_validate_json(zlib.decompress(self.sealer.open(bytes(data), where)))

    async def list(
        self, *, limit: int = 20, session_id: str | None = None, parent_id: str | None = None
    ) -> list[TrajectorySummary]:
        where, args = [], []
        if session_id is not None:
            where.append("session_id = ?")
            args.append(session_id)
        if parent_id is not None:
            where.append("parent_id = ?")
            args.append(parent_id)
        clause = (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY started_at DESC LIMIT ?"
        return await self._summaries(clause, [*args, limit])

    async def _summaries(self, clause: str, args: list[object]) -> list[TrajectorySummary]:
        columns = "id, parent_id, session_id, started_at, query, engine, model, stopped, tool_calls, duration_ms"
        sql = f"SELECT {columns} FROM trajectories {clause}"  # noqa: S608 (constant fragments; values are bound)

        def read(con: Connection) -> list[TrajectorySummary]:
            rows = con.execute(sql, args).fetchall()
            keys = ("id", "parent_id", "session_id", "started_at", "query", "engine", "model", "stopped")
            out = []
            for r in rows:
                summary = TrajectorySummary(**dict(zip(keys, r[:8], strict=True)), tool_calls=r[8], duration_ms=r[9])
                summary.query = self.sealer.open_text(summary.query, f"trajectories/{summary.id}/query")
                out.append(summary)
            return out

        return await self.db.arun(read)

    async def reseal(self) -> int:
        """Seal every trajectory not sealed with the current key; returns how many were rewritten."""
        sealer = self.sealer
        if not sealer.encrypting:
            return 0

        def work(con: Connection) -> int:
            done = 0
            for tid, query, data in con.execute("SELECT id, query, data FROM trajectories").fetchall():
                if sealer.is_current(data) and sealer.is_current(query):
                    continue
                where = f"trajectories/{tid}"
                con.execute(
                    "UPDATE trajectories SET query = ?, data = ? WHERE id = ?",
                    (
                        sealer.seal_text(sealer.open_text(query, f"{where}/query"), f"{where}/query"),
                        sealer.seal(sealer.open(bytes(data), where), where),
                        tid,
                    ),
                )
                done += 1
            for rowid, tid, note in con.execute(self._NOTES).fetchall():
                if not sealer.is_current(note):
                    where = f"trajectories/{tid}/feedback"
                    value = sealer.seal_text(sealer.open_text(note, where), where)
                    con.execute(self._SET_NOTE, (value, rowid))
                    done += 1
            return done

        return await self.db.atransaction(work)

    async def count(self) -> int:
        return await self.db.arun(lambda con: int(con.execute("SELECT count(*) FROM trajectories").fetchone()[0]))

    async def add_feedback(self, feedback: Feedback) -> bool:
        f = feedback
        note = self.sealer.seal_text(f.note, f"trajectories/{f.trajectory_id}/feedback") if f.note else ""

        def write(con: Connection) -> bool:
            if con.execute("SELECT 1 FROM trajectories WHERE id = ?", (f.trajectory_id,)).fetchone() is None:
                return False
            con.execute(
                'INSERT INTO feedback (trajectory_id, at, rating, note, "by", skill) VALUES (?, ?, ?, ?, ?, ?)',
                (f.trajectory_id, f.at, f.rating, note, f.by, f.skill),
            )
            return True

        return await self.db.atransaction(write)

    async def feedback(self, trajectory_id: str) -> list[Feedback]:
        return await self._feedback("WHERE trajectory_id = ? ORDER BY at", (trajectory_id,))

    async def feedback_since(self, at: float, limit: int = 100_000) -> list[Feedback]:
        return await self._feedback("WHERE at > ? ORDER BY at LIMIT ?", (at, limit))

    async def _feedback(self, where: str, args: tuple[object, ...]) -> list[Feedback]:
        sql = f'SELECT trajectory_id, at, rating, note, "by", skill FROM feedback {where}'  # noqa: S608 (constant)
        rows = await self.db.arun(lambda con: con.execute(sql, args).fetchall())
        out = []
        for tid, at, rating, note, by, skill in rows:
            note = self.sealer.open_text(note, f"trajectories/{tid}/feedback") if note else ""
            out.append(Feedback(trajectory_id=tid, at=at, rating=rating, note=note, by=by, skill=skill))
        return out

    async def since(self, at: float, limit: int = 100_000) -> list[TrajectorySummary]:
        return await self._summaries("WHERE started_at > ? ORDER BY started_at LIMIT ?", [at, limit])

    def close(self) -> None:
        self.db.close()


class SQLiteTrajectoryStore(SQLTrajectoryStore):
    """Trajectories in a SQLite file (in memory without a path: then nothing is sealed)."""

    def __init__(self, path: Path | None, capacity: int = 10_000, sealer: Sealer = PLAIN) -> None:
        db = SQLiteFile(path, _SCHEMA)
        db.run(_migrate)
        super().__init__(db, capacity, sealer if path is not None else PLAIN)


def open_trajectory_store(config: LearningConfig, state_dir: Path | None, sealer: Sealer = PLAIN) -> TrajectoryStore:
    """The configured store: SQLite under the state dir (memory when there is none, or `store: memory`), or
    the PostgreSQL database of `learning.dsn` (`store: postgres`)."""
    if config.store == "postgres":
        from k2_host.learning.postgres import PostgresTrajectoryStore

        return PostgresTrajectoryStore.open(config, sealer)
    if config.store == "memory" or (state_dir is None and config.path is None):
        return MemoryTrajectoryStore(config.max_trajectories)
    path = config.path or (state_dir / "k2.sqlite" if state_dir is not None else None)
    return SQLiteTrajectoryStore(path, config.max_trajectories, sealer)
