"""A cache for the results of read-only tool calls: L1 in process (LRU + TTL), L2 optional (disk or Redis).

Keys. `cache_key(server, tool, arguments)` is `"<server>:<sha256>"`: the server name percent-encoded (so it
holds no `:`), then the sha256 of the canonical JSON (sorted keys, no whitespace) of `[server, tool,
arguments]`. The readable prefix is what lets `invalidate(server)` find one server's entries in L1 and in any
L2 (`L2Store.delete_prefix`), across processes, without an index to keep in step.

Values are JSON-able dicts (`ToolResult.model_dump()`), stored as JSON bytes in both levels, so a caller that
changes what `get` returned cannot change the cache. Error results are refused (`ValueError`).

Failure handling. A corrupt or unreadable L2 entry is a miss (logged, and deleted where possible). An L2 that
is down (`L2Error`) never fails a call: the cache logs one warning, keeps answering from L1, and tries L2
again after `l2_retry_s` (a circuit breaker); it logs once more when L2 is back. Invalidations that L2 missed
meanwhile are replayed on it first, so it does not serve what was invalidated while it was away.

An entry promoted from L2 into L1 gets the cache's default TTL in L1 (L2 does not say how long it has left).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import anyio.to_thread
import diskcache
from cachetools import TLRUCache

from .resilience import CircuitBreaker

logger = logging.getLogger(__name__)


class L2Error(Exception):
    """The second-level store could not be reached or failed; the cache carries on with L1 only."""


class L2Store(Protocol):
    """A shared or persistent byte store behind the in-process cache. Failures raise `L2Error`."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def delete_prefix(self, prefix: str) -> None: ...

    async def aclose(self) -> None: ...


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def server_prefix(server: str) -> str:
    """The prefix every key of `server` starts with (and no other server's key does)."""
    return quote(server, safe="") + ":"


def cache_key(server: str, tool: str, arguments: dict[str, Any] | None) -> str:
    """The cache key of one call; no arguments and `{}` are the same call. Raises for non-JSON arguments."""
    return server_prefix(server) + hashlib.sha256(_canonical([server, tool, arguments or {}])).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    hits_l1: int = 0
    hits_l2: int = 0
    misses: int = 0
    l2_errors: int = 0


@dataclass(frozen=True)
class _Entry:
    data: bytes
    ttl_s: float


class ResultCache:
    """Cache of read-only tool results. `get`/`set`/`invalidate` never raise for L2 trouble."""

    def __init__(
        self,
        max_entries: int = 1024,
        ttl_s: float = 300.0,
        l2: L2Store | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_value_bytes: int = 1 << 20,
        l2_retry_s: float = 30.0,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries!r}")
        if not ttl_s > 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s!r}")
        self.ttl_s = ttl_s
        self.max_value_bytes = max_value_bytes
        self.l2 = l2
        self._l1: TLRUCache[str, _Entry] = TLRUCache(
            maxsize=max_entries, ttu=lambda _key, entry, now: now + entry.ttl_s, timer=clock
        )
        self._l2_breaker = CircuitBreaker(1, l2_retry_s, clock=clock, on_change=self._l2_state_changed)
        self._hits_l1 = self._hits_l2 = self._misses = self._l2_errors = 0
        self._owed_deletes: set[str] = set()  # prefixes to delete from L2 once it answers again

    @property
    def stats(self) -> CacheStats:
        return CacheStats(self._hits_l1, self._hits_l2, self._misses, self._l2_errors)

    def __len__(self) -> int:
        """Live entries in L1."""
        self._l1.expire()
        return len(self._l1)

    async def get(self, key: str) -> dict[str, Any] | None:
        """The cached value, from L1 or else L2 (which promotes it into L1); None on a miss."""
        entry = self._l1.get(key)
        if entry is not None:
            self._hits_l1 += 1
            return json.loads(entry.data)
        data = await self._l2_call("get", key)
        if isinstance(data, bytes):
            value = _decode(key, data)
            if value is not None:
                self._l1[key] = _Entry(data, self.ttl_s)
                self._hits_l2 += 1
                return value
            await self._l2_call("delete_prefix", key)
        self._misses += 1
        return None

    async def set(self, key: str, value: dict[str, Any], ttl_s: float | None = None) -> bool:
        """Store `value` in L1 and L2; False when it is over `max_value_bytes` (then nothing is stored)."""
        if value.get("is_error"):
            raise ValueError("error results are never cached")
        ttl = self.ttl_s if ttl_s is None else ttl_s
        if not ttl > 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s!r}")
        data = _canonical(value)
        if len(data) > self.max_value_bytes:
            logger.debug("not caching %s: %d bytes is over the %d byte cap", key, len(data), self.max_value_bytes)
            self._l1.pop(key, None)
            return False
        self._l1[key] = _Entry(data, ttl)
        await self._l2_call("set", key, data, ttl)
        return True

    async def invalidate(self, prefix_server: str | None = None) -> None:
        """Forget every entry, or those of one server, in L1 and in L2."""
        prefix = "" if prefix_server is None else server_prefix(prefix_server)
        if prefix:
            for key in [k for k in self._l1 if k.startswith(prefix)]:
                self._l1.pop(key, None)
        else:
            self._l1.clear()
        await self._l2_call("delete_prefix", prefix)

    async def aclose(self) -> None:
        if self.l2 is not None:
            try:
                await self.l2.aclose()
            except L2Error as exc:
                logger.debug("closing the L2 cache failed: %s", exc)

    async def _l2_call(self, op: str, *args: Any) -> Any:
        if self.l2 is None:
            return None
        if not self._l2_breaker.allow():
            if op == "delete_prefix":
                self._owe_delete(args[0])
            return None
        try:
            for prefix in sorted(self._owed_deletes):  # invalidations L2 missed while it was down, first
                await self.l2.delete_prefix(prefix)
                self._owed_deletes.discard(prefix)
            result = await getattr(self.l2, op)(*args)
        except L2Error as exc:
            self._l2_errors += 1
            if op == "delete_prefix":
                self._owe_delete(args[0])
            if self._l2_breaker.state == "closed":
                logger.warning("L2 cache unavailable, using the in-process cache only: %s", exc)
            self._l2_breaker.record_failure()
            return None
        self._l2_breaker.record_success()
        return result

    def _owe_delete(self, prefix: str) -> None:
        if "" in self._owed_deletes or not prefix:
            self._owed_deletes = {""}  # "everything" covers every other prefix
        else:
            self._owed_deletes.add(prefix)

    def _l2_state_changed(self, old: str, new: str) -> None:
        if old == "half_open" and new == "closed":
            logger.info("L2 cache is reachable again")


def _decode(key: str, data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        logger.warning("corrupt L2 cache entry %s: not JSON; treated as a miss", key)
        return None
    if not isinstance(value, dict):
        logger.warning("corrupt L2 cache entry %s: not an object; treated as a miss", key)
        return None
    return value


_REFUSED_PICKLE = object()


class _BytesOnlyDisk(diskcache.Disk):
    """diskcache's storage, minus unpickling: this cache only ever writes bytes, so a pickle is not ours."""

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == diskcache.core.MODE_PICKLE:
            return _REFUSED_PICKLE
        return super().fetch(mode, filename, value, read)


class DiskL2:
    """L2 in a local directory (diskcache: SQLite plus files), shared by the processes of one machine.

    The directory is created 0700 (results may hold private data). Calls run in a worker thread. Oldest
    stored entries are evicted beyond `size_limit_bytes`.
    """

    def __init__(self, path: Path, size_limit_bytes: int = 1 << 30) -> None:
        self.path = Path(path)
        self.size_limit_bytes = size_limit_bytes
        self._cache: diskcache.Cache | None = None
        self._lock = threading.Lock()

    def _open(self) -> diskcache.Cache:
        with self._lock:
            if self._cache is None:
                self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._cache = diskcache.Cache(
                    str(self.path), timeout=5, disk=_BytesOnlyDisk, size_limit=self.size_limit_bytes
                )
            return self._cache

    async def _run(self, fn: Callable[[diskcache.Cache], Any]) -> Any:
        def work() -> Any:
            return fn(self._open())

        try:
            return await anyio.to_thread.run_sync(work)
        except (OSError, sqlite3.Error, diskcache.Timeout) as exc:
            raise L2Error(f"disk cache: {type(exc).__name__}: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        value = await self._run(lambda c: c.get(key, retry=True))
        if value is None or isinstance(value, bytes):
            return value
        kind = "a pickle" if value is _REFUSED_PICKLE else type(value).__name__
        logger.warning("corrupt disk cache entry %s: %s, not bytes; treated as a miss", key, kind)
        await self._run(lambda c: c.delete(key, retry=True))
        return None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._run(lambda c: c.set(key, value, expire=ttl_s, retry=True))

    async def delete_prefix(self, prefix: str) -> None:
        def delete(c: diskcache.Cache) -> None:
            if not prefix:
                c.clear(retry=True)
                return
            for key in [k for k in c.iterkeys() if isinstance(k, str) and k.startswith(prefix)]:
                c.delete(key, retry=True)

        await self._run(delete)

    async def aclose(self) -> None:
        if self._cache is not None:
            await self._run(lambda c: c.close())


_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


class RedisL2:
    """L2 in Redis, shared by host replicas. Keys are `namespace + key`, with a TTL (`SET ... PX`).

    Every operation has a `timeout_s` and none is retried here: the `ResultCache` stops asking a Redis that
    failed and asks again later. Connection errors name host and port only, never the URL's credentials.
    """

    def __init__(self, url: str, *, namespace: str = "k2:cache:", timeout_s: float = 1.0) -> None:
        # redis is imported here, by the one backend that needs it (~8 MB a host without Redis never loads)
        import redis.asyncio
        import redis.exceptions
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.namespace = namespace
        self._failed: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        self._redis = redis.asyncio.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            decode_responses=False,
        )

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self.namespace + key)
        except self._failed as exc:
            raise L2Error(f"redis: {type(exc).__name__}: {exc}") from exc
        return value if isinstance(value, bytes) or value is None else None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        try:
            await self._redis.set(self.namespace + key, value, px=max(1, math.ceil(ttl_s * 1000)))
        except self._failed as exc:
            raise L2Error(f"redis: {type(exc).__name__}: {exc}") from exc

    async def delete_prefix(self, prefix: str) -> None:
        pattern = (self.namespace + prefix).translate(_GLOB_SPECIAL) + "*"
        try:
            batch: list[bytes] = []
            async for key in self._redis.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    await self._redis.unlink(*batch)
                    batch = []
            if batch:
                await self._redis.unlink(*batch)
        except self._failed as exc:
            raise L2Error(f"redis: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        await self._redis.aclose()
