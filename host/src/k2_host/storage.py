"""SQLite files under the state dir: one connection per store, opened safely and used from worker threads.

The stores (sessions, trajectories) are small and local; SQLite gives atomic writes (a request's turns land
together or not at all), WAL for a reader beside a writer (`k2 trajectories` while `k2 chat` runs), and no
server to start. Files are created 0600 in a 0700 folder: they hold conversations and tool results.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from k2_host.errors import ConfigError

T = TypeVar("T")


class SQLiteFile:
    """One SQLite database file, with a lock: every use runs through `run` (sync) or `arun` (a worker thread)."""

    def __init__(self, path: Path | None, schema: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        target = ":memory:"
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not path.exists():
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                raise ConfigError(f"cannot create {str(path)!r}: {exc.strerror}; set another --state-dir") from None
            target = str(path)
        try:
            self._con = sqlite3.connect(target, check_same_thread=False, timeout=10.0, isolation_level=None)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.execute("PRAGMA foreign_keys=ON")
            self._con.executescript(schema)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{target!r} is not a usable SQLite file ({exc}); move it away or set another --state-dir"
            ) from None

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return fn(self._con)

    async def arun(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.run, fn)

    def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` inside BEGIN IMMEDIATE ... COMMIT (rolled back if it raises)."""

        def work(con: sqlite3.Connection) -> T:
            con.execute("BEGIN IMMEDIATE")
            try:
                out = fn(con)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
            return out

        return self.run(work)

    async def atransaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.transaction, fn)

    def close(self) -> None:
        with self._lock:
            self._con.close()
