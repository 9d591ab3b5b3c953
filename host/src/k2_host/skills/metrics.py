"""Per-skill metrics and proficiency, kept beside the trajectories (the learning store's SQLite file).

Every skill run adds one row: skill, when, outcome (ok / the failure reason), latency, tokens, the skill's
difficulty and how it was chosen (router, model, named). Proficiency is the posterior success rate under a
uniform Beta(1, 1) prior, (1 + successes) / (2 + runs), per skill and per difficulty; the training layer reads
the same rows for its curriculum.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from k2_host.storage import SQLiteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS skill_runs (
    id INTEGER PRIMARY KEY,
    skill TEXT NOT NULL,
    at REAL NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    latency_ms REAL NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    difficulty TEXT NOT NULL DEFAULT '',
    chosen_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS skill_runs_skill ON skill_runs (skill, at);
"""

KEEP_RUNS = 100_000  # the oldest rows beyond this go


@dataclass
class SkillStats:
    skill: str
    runs: int = 0
    successes: int = 0
    latency_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    difficulty: str = ""
    last_at: float = 0.0

    @property
    def failures(self) -> int:
        return self.runs - self.successes

    @property
    def proficiency(self) -> float:
        return (1 + self.successes) / (2 + self.runs)

    @property
    def p50_ms(self) -> float:
        xs = sorted(self.latency_ms)
        return xs[len(xs) // 2] if xs else 0.0

    def data(self) -> dict[str, object]:
        return {
            "skill": self.skill,
            "runs": self.runs,
            "successes": self.successes,
            "failures": self.failures,
            "failure_reasons": dict(self.reasons),
            "proficiency": round(self.proficiency, 4),
            "latency_p50_ms": round(self.p50_ms, 1),
            "tokens": self.tokens,
            "last_at": self.last_at or None,
        }


class SkillMetrics:
    """`record` after each run; `stats()` per skill; `by_difficulty()` the posterior per difficulty."""

    def __init__(self, path: Path | None) -> None:
        self._db = SQLiteFile(path, _SCHEMA)
        self._added = 0

    def close(self) -> None:
        self._db.close()

    def record(
        self,
        skill: str,
        *,
        ok: bool,
        reason: str = "",
        latency_ms: float = 0.0,
        tokens: int = 0,
        difficulty: str = "",
        chosen_by: str = "",
    ) -> None:
        def add(con: sqlite3.Connection) -> None:
            con.execute(
                "INSERT INTO skill_runs (skill, at, ok, reason, latency_ms, tokens, difficulty, chosen_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (skill, time.time(), int(ok), "" if ok else reason, latency_ms, tokens, difficulty, chosen_by),
            )
            self._added += 1
            if self._added % 1000 == 0:
                con.execute("DELETE FROM skill_runs WHERE id <= (SELECT MAX(id) FROM skill_runs) - ?", (KEEP_RUNS,))

        self._db.run(add)

    def stats(self, skill: str | None = None) -> dict[str, SkillStats]:
        def fetch(con: sqlite3.Connection) -> list[tuple]:
            q = "SELECT skill, ok, reason, latency_ms, tokens, difficulty, at FROM skill_runs"
            where = (" WHERE skill = ?", (skill,)) if skill else ("", ())
            return list(con.execute(q + where[0] + " ORDER BY id", where[1]))

        out: dict[str, SkillStats] = {}
        for name, ok, reason, latency, tokens, difficulty, at in self._db.run(fetch):
            s = out.setdefault(name, SkillStats(skill=name))
            s.runs += 1
            s.successes += int(ok)
            s.latency_ms.append(latency)
            s.tokens += tokens
            s.difficulty = difficulty or s.difficulty
            s.last_at = max(s.last_at, at)
            if not ok:
                s.reasons[reason or "failed"] = s.reasons.get(reason or "failed", 0) + 1
        return out

    def totals(self) -> dict[str, SkillStats]:
        """Runs and successes per skill, counted by the database (what a /metrics scrape needs, at any size)."""

        def read(con: sqlite3.Connection) -> list[tuple]:
            return list(con.execute("SELECT skill, COUNT(*), SUM(ok), MAX(at) FROM skill_runs GROUP BY skill"))

        return {
            name: SkillStats(skill=name, runs=n, successes=int(ok or 0), last_at=at or 0.0)
            for name, n, ok, at in self._db.run(read)
        }

    def by_difficulty(self) -> dict[str, dict[str, float]]:
        def read(con: sqlite3.Connection) -> list[tuple]:
            return list(con.execute("SELECT difficulty, COUNT(*), SUM(ok) FROM skill_runs GROUP BY difficulty"))

        return {
            d or "unknown": {"runs": n, "successes": ok or 0, "proficiency": round((1 + (ok or 0)) / (2 + n), 4)}
            for d, n, ok in self._db.run(read)
        }
