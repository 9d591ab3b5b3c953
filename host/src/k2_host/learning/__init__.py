"""The learning layer: what the host records of every request, and (coming) what it learns from it.

trajectory.py  Trajectory (query, steps, messages, full tool calls, answer, citations, usage, timings) and
               TrajectoryRecorder, the loop middleware that records one per request
store.py       TrajectoryStore: SQLite under the state dir (default), memory
redact.py      secrets out of everything recorded
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
