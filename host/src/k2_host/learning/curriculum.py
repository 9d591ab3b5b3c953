"""The curriculum: training goes from easy to expert, at the level where there is something to learn.

Tasks carry a level (their skill's difficulty: easy, medium, hard, expert). The curriculum keeps each level's
recent pass rate (the last `window` outcomes) and works at the lowest level not yet mastered (pass rate below
`band[1]`); a level with no outcomes yet counts as not mastered. A level below `band[0]` is too hard for now:
when the working level is there, draws fall back a level so the learner has something it can get right. A share
of each draw (`review`) comes from the mastered levels below, so what was learned is not forgotten.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

LEVELS = ("easy", "medium", "hard", "expert")
T = TypeVar("T")


class Curriculum:
    def __init__(
        self, *, band: tuple[float, float] = (0.2, 0.85), window: int = 64, review: float = 0.25, min_seen: int = 8
    ) -> None:
        self.band = band
        self.review = review
        self.min_seen = min_seen
        self._seen: dict[str, deque[bool]] = {level: deque(maxlen=window) for level in LEVELS}

    def record(self, level: str, passed: bool) -> None:
        if level in self._seen:
            self._seen[level].append(passed)

    def pass_rate(self, level: str) -> float | None:
        seen = self._seen.get(level)
        return sum(seen) / len(seen) if seen else None

    def mastered(self, level: str) -> bool:
        seen = self._seen[level]
        rate = self.pass_rate(level)
        return len(seen) >= self.min_seen and rate is not None and rate >= self.band[1]

    def level(self, present: Sequence[str] = LEVELS) -> str:
        """The level to train at now: the lowest one (of those with tasks) not mastered; the top when all are."""
        levels = [lv for lv in LEVELS if lv in present]
        for lv in levels:
            if not self.mastered(lv):
                return lv
        return levels[-1] if levels else LEVELS[0]

    def draw(self, tasks: Sequence[T], levels: Sequence[str], n: int, rng: np.random.Generator) -> list[T]:
        """`n` tasks (without replacement where there are enough): mostly the working level, some review."""
        present = sorted(set(levels), key=LEVELS.index)
        if not present:
            return []
        work = self.level(present)
        rate = self.pass_rate(work)
        below = [lv for lv in present if LEVELS.index(lv) < LEVELS.index(work)]
        if rate is not None and len(self._seen[work]) >= self.min_seen and rate < self.band[0] and below:
            work = below[-1]  # too hard for now: consolidate the level below first
            below = below[:-1]
        at = [i for i, lv in enumerate(levels) if lv == work]
        review = [i for i, lv in enumerate(levels) if lv in below]
        k_work = min(len(at), n - (round(n * self.review) if review else 0))
        k_review = min(len(review), n - k_work)  # review fills what the working level cannot
        picked = list(rng.choice(at, size=k_work, replace=False)) if k_work else []
        if k_review:
            picked += list(rng.choice(review, size=k_review, replace=False))
        return [tasks[int(i)] for i in picked]

    def data(self) -> dict[str, object]:
        return {
            "level": self.level(),
            "levels": {
                lv: {"seen": len(s), "pass_rate": None if not s else round(sum(s) / len(s), 3)}
                for lv, s in self._seen.items()
            },
        }
