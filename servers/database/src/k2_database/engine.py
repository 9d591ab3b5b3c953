"""The DuckDB engine: one locked-down database instance, and calls run on it with a deadline.

Opening (see `open_engine`) lays the defenses down in this order:
1. `duckdb.connect(first database, read_only=<not --allow-write>, config=...)` with extension auto-install and
   auto-load off, community and unsigned extensions off, persistent secrets off, Python replacement scans off,
   `memory_limit`, `threads`, a private `temp_directory` with `max_temp_directory_size`, and DuckDB's own
   `max_execution_time` as a backstop behind the per-call deadline.
2. The other `--db` files are attached (READ_ONLY unless --allow-write), then the data-file views (`files`).
3. `allowed_directories` = the data directories, then `enable_external_access = false`: no file, URL or
   extension outside the data directories can be read or written any more.
4. `lock_configuration = true`: no statement can change a setting again (SET, RESET, PRAGMA, and table
   functions such as enable_logging() all fail).

Each call gets its own cursor (a separate DuckDB connection to the same instance), runs in a worker thread,
and is watched: at the deadline, or when the call is cancelled, the cursor is interrupted (again every 50 ms
until the thread is done), so a runaway query really stops.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import duckdb

from k2_database.config import FILES_CATALOG, DatabaseSettings
from k2_database.datafiles import DataFile, build_views_database, find_data_files, quote_ident, quote_literal
from k2_database.errors import DbError, QueryTimeout, ResourceLimit
from k2_database.sqlerrors import translate

T = TypeVar("T")
logger = logging.getLogger(__name__)

_STOP_EVERY_S = 0.05
_STOP_GIVE_UP_S = 30.0
Observer = Callable[[str, str], None]
"""Called on the event loop with (label, event): `started` when a call is handed to its thread, then one of
`ok`, `error`, `timeout` or `cancelled` once that thread has finished."""


@dataclass
class _Call:
    stop: bool = False
    timed_out: bool = False


@dataclass
class Engine:
    con: duckdb.DuckDBPyConnection
    settings: DatabaseSettings
    default_database: str
    data_files: list[DataFile]
    temp_dir: Path
    observers: list[Observer] = field(default_factory=list)
    limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(8))

    def close(self) -> None:
        with suppress(duckdb.Error):
            self.con.close()
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    async def run(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, sql: str, timeout_s: float, label: str) -> T:
        """Run `work(cursor)` in a worker thread; interrupt it at `timeout_s` or when this call is cancelled.

        DuckDB errors become `DbError`s (with `sql` for positions); a deadline becomes `QueryTimeout`."""
        cur = self.con.cursor()
        call = _Call()
        finished = anyio.Event()
        started = time.monotonic()

        def target() -> T:
            try:
                if call.stop:  # the deadline passed while the call waited for a thread
                    raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
                return work(cur)
            finally:
                with suppress(duckdb.Error):
                    cur.close()

        async def guard() -> None:
            try:
                await anyio.sleep(timeout_s)
                call.timed_out = True
            finally:
                with anyio.CancelScope(shield=True):
                    await _stop(cur, call, finished)

        outcome = "error"
        error: BaseException | None = None
        result: Any = None
        self._notify(label, "started")
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(guard)
                try:
                    result = await anyio.to_thread.run_sync(target, limiter=self.limiter)
                except Exception as exc:
                    error = exc
                finally:
                    finished.set()
                    tg.cancel_scope.cancel()
            if error is None:
                outcome = "ok"
                return result
            if isinstance(error, duckdb.InterruptException) and call.timed_out:
                outcome = "timeout"
                raise _timeout(time.monotonic() - started, timeout_s) from error
            if isinstance(error, duckdb.Error):
                raise translate(error, sql) from error
            if isinstance(error, MemoryError):
                raise _out_of_memory() from error
            raise error
        except anyio.get_cancelled_exc_class():
            outcome = "cancelled"
            raise
        finally:
            logger.debug("%s finished: %s after %.3f s", label, outcome, time.monotonic() - started)
            self._notify(label, outcome)

    def _notify(self, label: str, event: str) -> None:
        for observer in self.observers:
            observer(label, event)


async def _stop(cur: duckdb.DuckDBPyConnection, call: _Call, finished: anyio.Event) -> None:
    """Interrupt the cursor until its thread is done (an interrupt sent just before a query starts is lost)."""
    if finished.is_set():
        return
    call.stop = True
    give_up = anyio.current_time() + _STOP_GIVE_UP_S
    while not finished.is_set():
        with suppress(duckdb.Error):
            cur.interrupt()
        with anyio.move_on_after(_STOP_EVERY_S):
            await finished.wait()
        if anyio.current_time() > give_up:
            logger.warning("A query did not stop within %.0f s of being interrupted", _STOP_GIVE_UP_S)
            return


def _timeout(elapsed: float, limit: float) -> QueryTimeout:
    return QueryTimeout(
        f"the query ran {elapsed:.2f} s and was stopped at the {limit:g} s time limit. Narrow it: filter with "
        "WHERE, aggregate (COUNT, GROUP BY) instead of listing rows, add LIMIT, avoid cross joins, or query a "
        "sample (USING SAMPLE 10%)"
    )


def _out_of_memory() -> ResourceLimit:
    return ResourceLimit(
        "the result needs more memory than the server's bound allows (a value too large to convert); select a "
        "part of it (left(s, 1000), length(s)), aggregate, or add LIMIT"
    )


def open_engine(settings: DatabaseSettings) -> Engine:
    """Open and lock down the database instance (blocking: call it from a worker thread)."""
    temp_dir = Path(tempfile.mkdtemp(prefix="k2-database-"))
    try:
        return _open(settings, temp_dir)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise


def _open(settings: DatabaseSettings, temp_dir: Path) -> Engine:
    specs = settings.databases
    first = specs[0]
    data_files = find_data_files(settings.data_dirs, settings.max_data_files)
    views_db = temp_dir / "files.duckdb"
    data_files = build_views_database(views_db, data_files)
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "allow_unsigned_extensions": False,
        "allow_persistent_secrets": False,
        "python_enable_replacements": False,
        "memory_limit": settings.memory_limit,
        "threads": settings.threads,
        "temp_directory": str(temp_dir / "spill"),
        "max_temp_directory_size": settings.max_temp_size,
        "max_execution_time": math.ceil(settings.timeout_s * 1000) * 2 + 5000,
    }
    path = first.path if first.in_memory else str(Path(first.path).expanduser())
    read_only = settings.read_only and not first.in_memory
    if settings.create and not first.in_memory:
        create_database_file(Path(path))
    try:
        con = duckdb.connect(path, read_only=read_only, config=config)
    except duckdb.Error as exc:
        raise DbError(f"cannot open database {first.path!r}: {exc}") from exc
    try:
        default = con.execute("SELECT current_database()").fetchall()[0][0]
        mode = "READ_ONLY" if settings.read_only else "READ_WRITE"
        for spec in specs[1:]:
            assert spec.name is not None
            target = quote_literal(str(Path(spec.path).expanduser()))
            con.execute(f"ATTACH {target} AS {quote_ident(spec.name)} ({mode})")
        con.execute(f"ATTACH {quote_literal(str(views_db))} AS {quote_ident(FILES_CATALOG)} (READ_ONLY)")
        allowed = ", ".join(quote_literal(str(d).rstrip("/") + "/") for d in settings.data_dirs)
        con.execute(f"SET allowed_directories = [{allowed}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    logger.info(
        "database open",
        extra={"databases": [s.name for s in specs], "read_only": settings.read_only, "data_files": len(data_files)},
    )
    return Engine(con, settings, default, data_files, temp_dir)


def create_database_file(path: Path) -> None:
    """An empty DuckDB file (and its folder) at `path` unless one is there; atomic, so two servers starting at
    once cannot leave a half-written file."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.creating")
    try:
        duckdb.connect(str(partial)).close()
        with suppress(FileExistsError):  # another process made it first: theirs is kept
            os.link(partial, path)
    except (OSError, duckdb.Error) as exc:
        raise DbError(f"cannot create database {str(path)!r}: {exc}") from exc
    finally:
        for leftover in (partial, partial.with_name(partial.name + ".wal")):
            with suppress(OSError):
                leftover.unlink()
