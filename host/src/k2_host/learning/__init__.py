"""The learning layer: what the host records of every request, and what it learns from it.

trajectory.py   Trajectory (query, steps, messages, full tool calls, answer, citations, skill, usage, timings) and
                TrajectoryRecorder, the loop middleware that records one per request
store.py        TrajectoryStore: SQLite under the state dir (default), memory; feedback (ratings, corrections)
redact.py       secrets out of everything recorded
experience.py   Experience: a request with an outcome, a reward and (when known) the skill that should answer it
experiences.py  ExperienceStore: experiences, the replay buffer's rows, router versions, the playbook
replay.py       PrioritizedReplay: proportional priorities in a sum-tree, importance-sampling weights
curriculum.py   Curriculum: easy -> expert, at the level whose pass rate is in the learning band
gate.py         McNemar's exact paired test, a paired bootstrap, the promote / reject decision
trainer.py      Learner: collect -> replay -> candidate router -> gate -> promote / rollback
tasks.py        the gate's frozen tasks on a user's machine (shipped examples, the user's held-out requests)
export.py       OpenAI-style SFT and DPO JSONL from rated trajectories
examples.py     FewShot: earlier answers rated good, recalled by similarity for a model
postgres.py     PostgreSQL stores for several replicas (learning.store: postgres)
"""

from k2_host.learning.redact import Redactor
from k2_host.learning.store import MemoryTrajectoryStore, SQLiteTrajectoryStore, TrajectoryStore, open_trajectory_store
from k2_host.learning.trajectory import Trajectory, TrajectoryRecorder, TrajectorySummary

__all__ = [
    "MemoryTrajectoryStore",
    "Redactor",
    "SQLiteTrajectoryStore",
    "Trajectory",
    "TrajectoryRecorder",
    "TrajectoryStore",
    "TrajectorySummary",
    "open_trajectory_store",
]
