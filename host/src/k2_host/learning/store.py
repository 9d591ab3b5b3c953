"""Where trajectories are kept: one interface, a SQLite file by default, memory for tests and `learning.store`.

    store = open_trajectory_store(config, state_dir)     # SQLite <state dir>/k2.sqlite unless configured
    await store.add(trajectory)
    await store.get(id); await store.list(limit=20, session_id=None)
    await store.add_feedback(Feedback(trajectory_id=id, rating="good", by="key:ab12"))

Feedback (a rating of an answer, with a note and who gave it) is kept beside the trajectory it rates, for the
training layer to turn into rewards; a trajectory's feedback goes when the trajectory does.

The SQLite store keeps the newest `learning.max_trajectories` (older ones are deleted as new ones come), each
as zlib-compressed JSON beside indexed columns (session, start time, parent). The training layer adds a
PostgreSQL store behind the same interface.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from k2_host.config.model import LearningConfig
from k2_host.learning.trajectory import Trajectory, TrajectorySummary, summarize
from k2_host.sealing import PLAIN, Sealer
from k2_host.storage import SQLiteFile


class Feedback(BaseModel):
    trajectory_id: str
    rating: Literal["good", "bad"]
    note: str = Field(default="", max_length=4000)
    by: str = ""  # who gave it ("key:<id>", "jwt:<sub>", "local")
    at: float = Field(default_factory=time.time)


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
    by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_trajectory ON feedback(trajectory_id);
"""


class SQLiteTrajectoryStore:
    def __init__(self, path: Path | None, capacity: int = 10_000, sealer: Sealer = PLAIN) -> None:
        self.capacity = capacity
        self.db = SQLiteFile(path, _SCHEMA)
        self.sealer = sealer if path is not None else PLAIN

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

        def write(con: sqlite3.Connection) -> None:
            con.execute("INSERT OR REPLACE INTO trajectories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            con.execute(
                "DELETE FROM trajectories WHERE id IN "
                "(SELECT id FROM trajectories ORDER BY started_at DESC LIMIT -1 OFFSET ?)",
                (self.capacity,),
            )

        await self.db.atransaction(write)

    async def get(self, trajectory_id: str) -> Trajectory | None:
        def read(con: sqlite3.Connection) -> bytes | None:
            row = con.execute("SELECT data FROM trajectories WHERE id = ?", (trajectory_id,)).fetchone()
            return row[0] if row else None

        data = await self.db.arun(read)
        if data is None:
            return None
        return Trajectory.model_validate_json(zlib.decompress(self.sealer.open(data, f"trajectories/{trajectory_id}")))

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
        sql = (
            "SELECT id, parent_id, session_id, started_at, query, engine, model, stopped, tool_calls, duration_ms "
            "FROM trajectories"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY started_at DESC LIMIT ?"
        )

        def read(con: sqlite3.Connection) -> list[TrajectorySummary]:
            rows = con.execute(sql, (*args, limit)).fetchall()
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

        def work(con: sqlite3.Connection) -> int:
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
            rows = con.execute("SELECT rowid, trajectory_id, note FROM feedback WHERE note != ''").fetchall()
            for rowid, tid, note in rows:
                if not sealer.is_current(note):
                    where = f"trajectories/{tid}/feedback"
                    value = sealer.seal_text(sealer.open_text(note, where), where)
                    con.execute("UPDATE feedback SET note = ? WHERE rowid = ?", (value, rowid))
                    done += 1
            return done

        return await self.db.atransaction(work)

    async def count(self) -> int:
        return await self.db.arun(lambda con: int(con.execute("SELECT count(*) FROM trajectories").fetchone()[0]))

    async def add_feedback(self, feedback: Feedback) -> bool:
        f = feedback
        note = self.sealer.seal_text(f.note, f"trajectories/{f.trajectory_id}/feedback") if f.note else ""

        def write(con: sqlite3.Connection) -> bool:
            if con.execute("SELECT 1 FROM trajectories WHERE id = ?", (f.trajectory_id,)).fetchone() is None:
                return False
            con.execute("INSERT INTO feedback VALUES (?, ?, ?, ?, ?)", (f.trajectory_id, f.at, f.rating, note, f.by))
            return True

        return await self.db.atransaction(write)

    async def feedback(self, trajectory_id: str) -> list[Feedback]:
        where = f"trajectories/{trajectory_id}/feedback"
        rows = await self.db.arun(
            lambda con: con.execute(
                "SELECT at, rating, note, by FROM feedback WHERE trajectory_id = ? ORDER BY at", (trajectory_id,)
            ).fetchall()
        )
        open_note = self.sealer.open_text
        return [
            Feedback(trajectory_id=trajectory_id, at=r[0], rating=r[1], note=open_note(r[2], where), by=r[3])
            for r in rows
        ]

    def close(self) -> None:
        self.db.close()


def open_trajectory_store(config: LearningConfig, state_dir: Path | None, sealer: Sealer = PLAIN) -> TrajectoryStore:
    """The configured store: SQLite under the state dir (memory when there is none, or `store: memory`)."""
    if config.store == "memory" or (state_dir is None and config.path is None):
        return MemoryTrajectoryStore(config.max_trajectories)
    path = config.path or (state_dir / "k2.sqlite" if state_dir is not None else None)
    return SQLiteTrajectoryStore(path, config.max_trajectories, sealer)
