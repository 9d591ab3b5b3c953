"""Experience: what the training layer learns from, derived from trajectories and what was said about them.

An `Experience` is one request with an outcome: the query, the skill that answered (or none), the skill that
should have answered when that is known (`target`; NO_SKILL when no skill should have), a reward in [-1, 1] and
where it came from:

    feedback     `k2 feedback good|bad` / POST /v1/feedback on an answer   good +1, bad -1
    correction   feedback that names the right skill (`--skill NAME|none`)  target = that skill
    verifier     a task's check (expected answer, file state, row values)   pass +1, fail -1 (target = the task's)
    tool_error   a recorded tool call that failed                           -0.5
    budget       the request stopped at its step / token / time budget      -0.5
    skill_error  the chosen skill could not run (bad input, prerequisites)   -0.5

A good answer names its own target: the skill that answered, or NO_SKILL when the offline plans answered. A bad
answer without a correction says only that something was wrong (no target): it lowers the skill's proficiency
and its note becomes a lesson, but the router learns nothing from it. Each experience falls in the `train` or
the `test` split by a hash of its query (`TEST_SHARE`), so the user's own labelled requests give a frozen test
set the router is never trained on.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from k2_host.learning.store import Feedback
from k2_host.learning.trajectory import Trajectory

NO_SKILL = "none"
TEST_SHARE = 0.2
BUDGET_STOPS = ("max_steps", "token_budget", "time_budget")

Source = Literal["feedback", "correction", "verifier", "tool_error", "budget", "skill_error"]


class Experience(BaseModel):
    id: str
    trajectory_id: str | None = None
    query: str
    used: str | None = None  # the skill that answered (None: the plans or a model alone)
    target: str | None = None  # the skill that should have (NO_SKILL: none should); None when not known
    reward: float = Field(ge=-1.0, le=1.0)
    source: Source
    difficulty: str = ""  # of the target skill, else of the one used
    note: str = ""
    at: float = Field(default_factory=time.time)
    split: Literal["train", "test"] = "train"


def normalized(query: str) -> str:
    """A query as the training layer compares queries: lower case, whitespace collapsed."""
    return " ".join(query.lower().split())


def split_of(query: str, share: float = TEST_SHARE) -> Literal["train", "test"]:
    digest = hashlib.sha256(normalized(query).encode()).digest()
    return "test" if int.from_bytes(digest[:4], "big") / 2**32 < share else "train"


def from_trajectory(
    t: Trajectory, feedback: list[Feedback], difficulty: Callable[[str], str], *, automatic: bool = True
) -> list[Experience]:
    """The experiences one trajectory gives: one per feedback, and (automatic) one per failed check."""
    used = t.skill.name if t.skill is not None and t.skill.ok else None
    out: list[Experience] = []

    def add(source: Source, reward: float, target: str | None, note: str = "", at: float | None = None) -> None:
        level = difficulty(target if target not in (None, NO_SKILL) else (used or "")) if (target or used) else ""
        key = f"{at:.6f}" if at is not None else "auto"  # a feedback is one experience however often it is read
        out.append(
            Experience(
                id=f"{t.id}:{source}:{key}",
                trajectory_id=t.id,
                query=t.query,
                used=used,
                target=target,
                reward=reward,
                source=source,
                difficulty=level,
                note=note,
                at=at or t.finished_at or t.started_at,
                split=split_of(t.query),
            )
        )

    for f in feedback:
        good = f.rating == "good"
        if f.skill:
            add("correction", 1.0 if good else -1.0, f.skill, f.note, f.at)
        elif good:
            # a good offline answer with no skill says the plans were right; a model's says nothing of routing
            target = used if used else (NO_SKILL if t.engine == "offline" else None)
            add("feedback", 1.0, target, f.note, f.at)
        else:
            add("feedback", -1.0, None, f.note, f.at)
    if automatic:
        failed = [c.name for c in t.tool_calls if c.is_error]
        if failed:
            add("tool_error", -0.5, None, f"failed tool calls: {', '.join(sorted(set(failed)))}")
        if t.stopped in BUDGET_STOPS:
            add("budget", -0.5, None, f"stopped at {t.stopped}")
        if t.skill is not None and not t.skill.ok and t.skill.reason not in ("", "needs_model"):
            add("skill_error", -0.5, None, f"skill {t.skill.name}: {t.skill.reason}")
    return out
