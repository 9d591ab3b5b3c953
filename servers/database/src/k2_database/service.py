"""What the tools share: the settings, the cursor codec, and the engine, opened by the server's lifespan.

The lifespan opens the engine on first entry and closes it when the last one leaves, so every connection of
a server process (the SSE transport enters the lifespan once per connection) shares one DuckDB instance, and
an in-memory database is the same for all of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import anyio
import duckdb

from k2_database import catalog
from k2_database.config import DatabaseSettings
from k2_database.engine import Engine, Observer, open_engine
from k2_database.errors import NotFound
from k2_database.paging import CursorCodec
from k2_database.queries import Limits
from k2_database.sqlerrors import missing_table, translate

T = TypeVar("T")


class DatabaseService:
    def __init__(self, settings: DatabaseSettings) -> None:
        self.settings = settings
        self.cursors = CursorCodec(settings.cursor_ttl_s)
        self.observers: list[Observer] = []
        self._engine: Engine | None = None
        self._users = 0
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def lifespan(self, _server: Any) -> AsyncIterator[Engine]:
        async with self._lock:
            if self._engine is None:
                engine = await anyio.to_thread.run_sync(open_engine, self.settings)
                engine.observers = self.observers
                self._engine = engine
            self._users += 1
            engine = self._engine
        try:
            yield engine
        finally:
            with anyio.CancelScope(shield=True):
                async with self._lock:
                    self._users -= 1
                    if self._users == 0 and self._engine is not None:
                        self._engine.close()
                        self._engine = None

    def limits(self, max_rows: int | None = None) -> Limits:
        s = self.settings
        return Limits(min(max_rows or s.max_rows, s.max_rows), s.max_result_bytes, s.max_value_chars)

    def timeout(self, requested: float | None) -> float:
        return min(requested, self.settings.timeout_s) if requested else self.settings.timeout_s

    async def run(
        self,
        engine: Engine,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        sql: str,
        label: str,
        timeout_s: float | None = None,
    ) -> T:
        return await engine.run(
            partial(_suggesting, work, sql), sql=sql, timeout_s=self.timeout(timeout_s), label=label
        )


def _suggesting(work: Callable[[duckdb.DuckDBPyConnection], T], sql: str, cur: duckdb.DuckDBPyConnection) -> T:
    """Run `work`; when DuckDB names a missing table, add the closest existing names to the error."""
    try:
        return work(cur)
    except duckdb.CatalogException as exc:
        name = missing_table(str(exc))
        if name is None:
            raise
        base = translate(exc, sql)
        try:
            close = catalog.suggestions(cur, name)
        except duckdb.Error:
            close = []
        hint = f"\nClosest tables and views: {', '.join(close)}" if close else ""
        raise NotFound(f"{base}{hint}") from exc
