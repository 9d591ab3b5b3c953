"""Where the training layer keeps its state: experiences, the replay buffer, router versions and the playbook.

    store = ExperienceStore(path, capacity=10_000, sealer=sealer)   # <state dir>/k2.sqlite, beside trajectories
    store.add(experiences)                    # new ones enter the replay buffer at the highest priority
    batch = store.replay.sample(32, rng); store.update_priorities(batch.slots, errors)
    store.add_version("candidate", pairs, report, reason)      # a router trained on replayed pairs
    store.current_version(); store.set_status(id, "current")   # promote / rollback move the "current" mark

The buffer (`PrioritizedReplay`) lives in memory and is written through: each slot's experience id and priority
is a row, so it comes back as it was after a restart. Queries, notes and a version's training pairs are sealed
like trajectories (AES-256-GCM when `security.encryption` is on).

The statements are written once, in SQLite's spelling, over a `Database` (k2_host.learning.store);
`PostgresExperienceStore` (k2_host.learning.postgres) is this store in a PostgreSQL database, with its own
spelling of the few statements that differ.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from k2_host.learning.experience import Experience
from k2_host.learning.store import Connection, Database
from k2_host.sealing import PLAIN, Sealer
from k2_host.storage import SQLiteFile

if TYPE_CHECKING:
    import numpy as np

    from k2_host.learning.replay import PrioritizedReplay

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiences (
    id TEXT PRIMARY KEY,
    trajectory_id TEXT,
    at REAL NOT NULL,
    query TEXT NOT NULL,
    used TEXT,
    target TEXT,
    reward REAL NOT NULL,
    source TEXT NOT NULL,
    difficulty TEXT NOT NULL,
    note TEXT NOT NULL,
    split TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS experiences_at ON experiences(at);
CREATE TABLE IF NOT EXISTS replay (slot INTEGER PRIMARY KEY, experience_id TEXT NOT NULL, priority REAL NOT NULL);
CREATE TABLE IF NOT EXISTS learn_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS router_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    pairs TEXT NOT NULL,
    report TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lessons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    skill TEXT NOT NULL,
    helpful INTEGER NOT NULL DEFAULT 0,
    harmful INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    origin TEXT NOT NULL
);
"""

KEEP_EXPERIENCES = 100_000  # rows kept (the buffer holds the newest `capacity` of them)
Status = Literal["current", "candidate", "rejected", "retired"]


@dataclass
class RouterVersion:
    id: int
    created: float
    status: Status
    pairs: list[tuple[str, str, float]]  # (query, target skill or NO_SKILL, weight)
    report: dict[str, Any]
    reason: str


@dataclass
class Lesson:
    id: int
    text: str
    skill: str  # the skill it is about ("" for any request)
    helpful: int
    harmful: int
    origin: str  # the experience it came from
    created: float = 0.0

    @property
    def score(self) -> int:
        return self.helpful - self.harmful


class ExperienceStore:
    """The training layer's state in a SQLite file (in memory without a path: then nothing is sealed)."""

    # What SQLite and PostgreSQL spell differently (the PostgreSQL store sets its own).
    _ADD = "INSERT OR IGNORE INTO experiences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    _PUT_SLOT = "INSERT OR REPLACE INTO replay VALUES (?, ?, ?)"
    _PUT_META = "INSERT OR REPLACE INTO learn_meta VALUES (?, ?)"
    _TRIM = (
        "DELETE FROM experiences WHERE id IN (SELECT id FROM experiences ORDER BY at DESC LIMIT -1 OFFSET ?)"
        " AND id NOT IN (SELECT experience_id FROM replay)"
    )

    def __init__(
        self, path: Path | None, capacity: int = 10_000, sealer: Sealer = PLAIN, *, alpha: float = 0.6
    ) -> None:
        self._setup(SQLiteFile(path, _SCHEMA), capacity, sealer if path is not None else PLAIN, alpha)

    def _setup(self, db: Database, capacity: int, sealer: Sealer, alpha: float) -> None:
        self.db = db
        self.sealer = sealer
        self.capacity = capacity
        self.alpha = alpha
        self._replay: PrioritizedReplay | None = None

    def _inserted_id(self, con: Connection, sql: str, args: tuple[Any, ...]) -> int:
        """Run an INSERT of one row; the id the database gave it."""
        con.execute(sql, args)
        return int(con.execute("SELECT last_insert_rowid()").fetchone()[0])

    @property
    def replay(self) -> PrioritizedReplay:
        """The buffer, loaded from its rows on first use."""
        if self._replay is None:
            self._replay = self.db.run(self._load_replay)
        return self._replay

    def _load_replay(self, con: Connection) -> PrioritizedReplay:
        from k2_host.learning.replay import PrioritizedReplay  # numpy: only once the buffer is used

        buffer = PrioritizedReplay(self.capacity, alpha=self.alpha)
        rows = con.execute("SELECT slot, experience_id, priority FROM replay").fetchall()
        nxt = con.execute("SELECT value FROM learn_meta WHERE key = 'replay_next'").fetchone()
        buffer.load([(int(s), str(k), float(p)) for s, k, p in rows], int(nxt[0]) if nxt else None)
        return buffer

    def _replay_for_write(self, con: Connection) -> PrioritizedReplay:
        """The buffer a write changes, read inside the write's transaction when not loaded yet."""
        if self._replay is None:
            self._replay = self._load_replay(con)
        return self._replay

    def _write_replay(self, fn: Callable[[Connection, PrioritizedReplay], T]) -> T:
        """`fn` in a transaction, with the buffer it changes; rolled back, the buffer is read again."""
        try:
            return self.db.transaction(lambda con: fn(con, self._replay_for_write(con)))
        except BaseException:
            self._replay = None  # rolled back: the buffer is read again from what the database holds
            raise

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------------------------------ meta

    def meta(self, key: str) -> str | None:
        row = self.db.run(lambda con: con.execute("SELECT value FROM learn_meta WHERE key = ?", (key,)).fetchone())
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.run(lambda con: con.execute(self._PUT_META, (key, value)))

    # ------------------------------------------------------------------------------------------ experiences

    def add(self, experiences: list[Experience]) -> list[Experience]:
        """Store the ones not stored yet; those of the train split enter the replay buffer. Returns the new ones."""
        seal = self.sealer.seal_text
        new: list[Experience] = []

        def write(con: Connection, replay: PrioritizedReplay) -> None:
            for e in experiences:
                row = (
                    e.id,
                    e.trajectory_id,
                    e.at,
                    seal(e.query, f"experiences/{e.id}/query"),
                    e.used,
                    e.target,
                    e.reward,
                    e.source,
                    e.difficulty,
                    seal(e.note, f"experiences/{e.id}/note") if e.note else "",
                    e.split,
                )
                if con.execute(self._ADD, row).rowcount:
                    new.append(e)
            for e in new:
                if e.split == "train":
                    slot = replay.add(e.id)
                    con.execute(self._PUT_SLOT, (slot, e.id, replay.priority(slot)))
            con.execute(self._PUT_META, ("replay_next", str(replay.next_slot)))
            con.execute(self._TRIM, (KEEP_EXPERIENCES,))

        self._write_replay(write)
        return new

    def _experience(self, row: tuple[Any, ...]) -> Experience:
        eid, tid, at, query, used, target, reward, source, difficulty, note, split = row
        return Experience(
            id=eid,
            trajectory_id=tid,
            at=at,
            query=self.sealer.open_text(query, f"experiences/{eid}/query"),
            used=used,
            target=target,
            reward=reward,
            source=source,
            difficulty=difficulty,
            note=self.sealer.open_text(note, f"experiences/{eid}/note") if note else "",
            split=split,
        )

    def get_many(self, ids: list[str]) -> dict[str, Experience]:
        wanted = sorted(set(ids))

        def read(con: Connection) -> list[tuple[Any, ...]]:
            out: list[tuple[Any, ...]] = []
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ",".join("?" * len(chunk))
                out += con.execute(f"SELECT * FROM experiences WHERE id IN ({marks})", chunk).fetchall()  # noqa: S608
            return out

        return {e.id: e for e in map(self._experience, self.db.run(read))}

    def experiences(self, *, split: str | None = None, labelled: bool = False) -> list[Experience]:
        where = []
        args: list[Any] = []
        if split is not None:
            where.append("split = ?")
            args.append(split)
        if labelled:
            where.append("target IS NOT NULL")
        clause = " WHERE " + " AND ".join(where) if where else ""  # constant fragments; values are bound
        sql = f"SELECT * FROM experiences{clause} ORDER BY at"  # noqa: S608
        return [self._experience(r) for r in self.db.run(lambda con: con.execute(sql, args).fetchall())]

    # an answer to learn from by example: rated good (a correction too) or passed by a verifier
    _GOOD = "reward > 0 AND trajectory_id IS NOT NULL AND trajectory_id != '' AND source IN (?, ?, ?)"
    GOOD_SOURCES = ("feedback", "correction", "verifier")

    def good_mark(self) -> tuple[int, float | None]:
        """How many experiences say an answer was good, and the latest one's time: one query, no rows read."""
        sql = f"SELECT COUNT(*), MAX(at) FROM experiences WHERE {self._GOOD}"  # noqa: S608 (a constant)
        n, at = self.db.run(lambda con: con.execute(sql, self.GOOD_SOURCES).fetchone())
        return int(n), float(at) if at is not None else None

    def good(self, since: float | None = None) -> list[Experience]:
        """The experiences that say an answer was good, oldest first (those at `since` or later, when given)."""
        sql = f"SELECT * FROM experiences WHERE {self._GOOD}"  # noqa: S608 (constant fragments; values are bound)
        args: list[Any] = list(self.GOOD_SOURCES)
        if since is not None:
            sql += " AND at >= ?"
            args.append(since)
        sql += " ORDER BY at"
        return [self._experience(r) for r in self.db.run(lambda con: con.execute(sql, args).fetchall())]

    def counts(self) -> dict[str, int]:
        rows = self.db.run(
            lambda con: con.execute("SELECT source, COUNT(*) FROM experiences GROUP BY source").fetchall()
        )
        return {str(s): int(n) for s, n in rows}

    def summary(self) -> dict[str, Any]:
        """What /metrics shows of learning, counted by the database (no rows are loaded)."""

        def read(con: Connection) -> dict[str, Any]:
            versions = con.execute("SELECT status, COUNT(*) FROM router_versions GROUP BY status").fetchall()
            gated = con.execute(
                "SELECT status, created FROM router_versions WHERE status != 'candidate' ORDER BY id DESC LIMIT 1"
            ).fetchone()
            return {
                "experiences": dict(con.execute("SELECT source, COUNT(*) FROM experiences GROUP BY source").fetchall()),
                "replay": int(con.execute("SELECT COUNT(*) FROM replay").fetchone()[0]),
                "versions": {str(k): int(n) for k, n in versions},
                "lessons": int(con.execute("SELECT COUNT(*) FROM lessons").fetchone()[0]),
                "last_gate": (gated[0] != "rejected", float(gated[1])) if gated else None,
            }

        out = self.db.run(read)
        out["capacity"] = self.capacity
        return out

    def update_priorities(self, slots: np.ndarray, errors: np.ndarray) -> None:
        def write(con: Connection, replay: PrioritizedReplay) -> None:
            replay.update(slots, errors)
            rows = [(replay.priority(int(s)), int(s)) for s in set(slots.tolist())]
            con.executemany("UPDATE replay SET priority = ? WHERE slot = ?", rows)

        self._write_replay(write)

    # ------------------------------------------------------------------------------------------ router versions

    def add_version(
        self, status: Status, pairs: list[tuple[str, str, float]], report: dict[str, Any], reason: str = ""
    ) -> int:
        def write(con: Connection) -> int:
            vid = self._inserted_id(
                con,
                "INSERT INTO router_versions (created, status, pairs, report, reason) VALUES (?, ?, '', ?, ?)",
                (time.time(), status, json.dumps(report), reason),
            )
            sealed = self.sealer.seal_text(json.dumps(pairs), f"router_versions/{vid}")
            con.execute("UPDATE router_versions SET pairs = ? WHERE id = ?", (sealed, vid))
            return vid

        return self.db.transaction(write)

    def _version(self, row: tuple[Any, ...]) -> RouterVersion:
        vid, created, status, pairs, report, reason = row
        data = json.loads(self.sealer.open_text(pairs, f"router_versions/{vid}") or "[]")
        return RouterVersion(vid, created, status, [(q, t, float(w)) for q, t, w in data], json.loads(report), reason)

    def versions(self) -> list[RouterVersion]:
        rows = self.db.run(lambda con: con.execute("SELECT * FROM router_versions ORDER BY id").fetchall())
        return [self._version(r) for r in rows]

    def version(self, vid: int) -> RouterVersion | None:
        row = self.db.run(lambda con: con.execute("SELECT * FROM router_versions WHERE id = ?", (vid,)).fetchone())
        return self._version(row) if row else None

    def current_version(self) -> RouterVersion | None:
        row = self.db.run(
            lambda con: con.execute(
                "SELECT * FROM router_versions WHERE status = 'current' ORDER BY id DESC LIMIT 1"
            ).fetchone()
        )
        return self._version(row) if row else None

    def set_status(self, vid: int, status: Status, reason: str | None = None) -> None:
        """Mark a version; making one current retires the one that was."""

        def write(con: Connection) -> None:
            if status == "current":
                con.execute("UPDATE router_versions SET status = 'retired' WHERE status = 'current'")
            con.execute("UPDATE router_versions SET status = ? WHERE id = ?", (status, vid))
            if reason is not None:
                con.execute("UPDATE router_versions SET reason = ? WHERE id = ?", (reason, vid))

        self.db.transaction(write)

    def update_report(self, vid: int, report: dict[str, Any]) -> None:
        self.db.run(
            lambda con: con.execute("UPDATE router_versions SET report = ? WHERE id = ?", (json.dumps(report), vid))
        )

    # ------------------------------------------------------------------------------------------ playbook

    def lessons(self) -> list[Lesson]:
        rows = self.db.run(
            lambda con: con.execute(
                "SELECT id, text, skill, helpful, harmful, origin, created FROM lessons ORDER BY id"
            ).fetchall()
        )
        return [Lesson(i, self.sealer.open_text(t, f"lessons/{i}"), s, h, x, o, c) for i, t, s, h, x, o, c in rows]

    def add_lesson(self, text: str, skill: str, origin: str) -> int | None:
        """A new lesson (None when the same text is there already: that one counts as helpful once more)."""

        def write(con: Connection) -> int | None:
            for lid, sealed in con.execute("SELECT id, text FROM lessons WHERE skill = ?", (skill,)).fetchall():
                if self.sealer.open_text(sealed, f"lessons/{lid}").strip().lower() == text.strip().lower():
                    con.execute(
                        "UPDATE lessons SET helpful = helpful + 1, updated = ? WHERE id = ?", (time.time(), lid)
                    )
                    return None
            now = time.time()
            lid = self._inserted_id(
                con,
                "INSERT INTO lessons (text, skill, created, updated, origin) VALUES ('', ?, ?, ?, ?)",
                (skill, now, now, origin),
            )
            con.execute(
                "UPDATE lessons SET text = ? WHERE id = ?", (self.sealer.seal_text(text, f"lessons/{lid}"), lid)
            )
            return lid

        return self.db.transaction(write)

    def count_lesson(self, lid: int, *, helpful: bool) -> None:
        column = "helpful" if helpful else "harmful"
        self.db.run(
            lambda con: con.execute(
                f"UPDATE lessons SET {column} = {column} + 1, updated = ? WHERE id = ?",  # noqa: S608 (one of two names)
                (time.time(), lid),
            )
        )

    def drop_lesson(self, lid: int) -> None:
        self.db.run(lambda con: con.execute("DELETE FROM lessons WHERE id = ?", (lid,)))
