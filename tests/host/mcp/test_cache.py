"""The result cache: keys, L1 LRU + TTL, L2 on disk and in a real Redis, and what happens when L2 fails."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest
import redis.asyncio
from k2_host.mcp.cache import CacheStats, DiskL2, L2Error, RedisL2, ResultCache, cache_key, server_prefix
from k2_host.mcp.types import ToolResult

from tests.host.redis_support import RedisServer, redis_server

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def result(text: str, name: str = "filesystem.read_file") -> dict[str, Any]:
    return ToolResult(name=name, text=text, structured={"text": text}).model_dump()


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "k2_host.mcp.cache" and r.levelno == logging.WARNING]


# --- keys --------------------------------------------------------------------------------------------------


def test_cache_key_is_the_same_for_the_same_call_whatever_the_key_order() -> None:
    a = cache_key("filesystem", "read_file", {"path": "a.txt", "opts": {"x": 1, "y": [1, 2]}})
    b = cache_key("filesystem", "read_file", {"opts": {"y": [1, 2], "x": 1}, "path": "a.txt"})
    assert a == b
    assert a.startswith("filesystem:")
    assert len(a.removeprefix("filesystem:")) == 64


def test_cache_key_differs_by_server_tool_and_arguments() -> None:
    keys = {
        cache_key("filesystem", "read_file", {"path": "a"}),
        cache_key("database", "read_file", {"path": "a"}),
        cache_key("filesystem", "list_directory", {"path": "a"}),
        cache_key("filesystem", "read_file", {"path": "b"}),
        cache_key("filesystem", "read_file", {"path": "a", "limit": 1}),
    }
    assert len(keys) == 5


def test_no_arguments_and_empty_arguments_are_the_same_call() -> None:
    assert cache_key("s", "t", None) == cache_key("s", "t", {})


def test_a_server_name_cannot_reach_into_another_servers_prefix() -> None:
    key = cache_key("a:b", "t", None)
    assert not key.startswith(server_prefix("a"))
    assert key.startswith(server_prefix("a:b"))


def test_cache_key_refuses_arguments_that_are_not_json() -> None:
    with pytest.raises((TypeError, ValueError)):
        cache_key("s", "t", {"x": object()})
    with pytest.raises(ValueError):
        cache_key("s", "t", {"x": float("nan")})


# --- L1 ----------------------------------------------------------------------------------------------------


async def test_a_stored_result_comes_back_equal_and_a_fresh_copy_each_time() -> None:
    cache = ResultCache()
    key = cache_key("filesystem", "read_file", {"path": "a"})
    assert await cache.set(key, result("hello"))
    got = await cache.get(key)
    assert got == result("hello")
    assert got is not None
    got["text"] = "changed by the caller"
    assert await cache.get(key) == result("hello")
    assert cache.stats == CacheStats(hits_l1=2, hits_l2=0, misses=0)


async def test_a_miss_is_counted() -> None:
    cache = ResultCache()
    assert await cache.get("filesystem:nothing") is None
    assert cache.stats.misses == 1


async def test_least_recently_used_entry_is_evicted_first() -> None:
    cache = ResultCache(max_entries=2)
    await cache.set("s:a", result("a"))
    await cache.set("s:b", result("b"))
    assert await cache.get("s:a") is not None  # a is now more recent than b
    await cache.set("s:c", result("c"))
    assert await cache.get("s:b") is None
    assert await cache.get("s:a") == result("a")
    assert await cache.get("s:c") == result("c")
    assert len(cache) == 2


async def test_entries_expire_after_the_default_ttl() -> None:
    clock = FakeClock()
    cache = ResultCache(ttl_s=10.0, clock=clock)
    await cache.set("s:a", result("a"))
    clock.now += 9.9
    assert await cache.get("s:a") is not None
    clock.now += 0.1
    assert await cache.get("s:a") is None
    assert len(cache) == 0


async def test_a_per_entry_ttl_overrides_the_default() -> None:
    clock = FakeClock()
    cache = ResultCache(ttl_s=10.0, clock=clock)
    await cache.set("s:short", result("a"), ttl_s=1.0)
    await cache.set("s:long", result("b"), ttl_s=100.0)
    clock.now += 50.0
    assert await cache.get("s:short") is None
    assert await cache.get("s:long") == result("b")


async def test_error_results_are_refused() -> None:
    cache = ResultCache()
    error = ToolResult(name="fs.read_file", is_error=True, text="no such file").model_dump()
    with pytest.raises(ValueError):
        await cache.set("s:a", error)
    assert await cache.get("s:a") is None


@pytest.mark.parametrize("ttl", [0.0, -1.0])
async def test_a_ttl_that_is_not_positive_is_refused(ttl: float) -> None:
    with pytest.raises(ValueError):
        await ResultCache().set("s:a", result("a"), ttl_s=ttl)


async def test_a_value_over_the_size_cap_is_not_stored() -> None:
    cache = ResultCache(max_value_bytes=500)
    await cache.set("s:a", result("small"))
    assert await cache.set("s:a", result("x" * 1000)) is False
    assert await cache.get("s:a") is None  # the old value is not served in its place


async def test_invalidate_one_server_keeps_the_others() -> None:
    cache = ResultCache()
    fs = cache_key("filesystem", "read_file", {"path": "a"})
    fs_colon = cache_key("filesystem:x", "read_file", {"path": "a"})
    web = cache_key("websearch", "search_web", {"query": "q"})
    for key in (fs, fs_colon, web):
        await cache.set(key, result(key))
    await cache.invalidate("filesystem")
    assert await cache.get(fs) is None
    assert await cache.get(fs_colon) == result(fs_colon)
    assert await cache.get(web) == result(web)
    await cache.invalidate()
    assert await cache.get(web) is None
    assert await cache.get(fs_colon) is None


# --- disk L2 -----------------------------------------------------------------------------------------------


@pytest.fixture
async def disk(tmp_path: Path) -> AsyncIterator[DiskL2]:
    l2 = DiskL2(tmp_path / "cache")
    yield l2
    await l2.aclose()


async def test_an_l2_hit_is_promoted_into_l1(disk: DiskL2) -> None:
    key = cache_key("filesystem", "read_file", {"path": "a"})
    await ResultCache(l2=disk).set(key, result("a"))
    cache = ResultCache(l2=disk)  # an empty L1, as in another process
    assert await cache.get(key) == result("a")
    assert await cache.get(key) == result("a")
    assert cache.stats == CacheStats(hits_l1=1, hits_l2=1, misses=0)


async def test_disk_l2_persists_across_instances(tmp_path: Path) -> None:
    key = cache_key("database", "get_schema", None)
    first = DiskL2(tmp_path / "c")
    await ResultCache(l2=first).set(key, result("schema"))
    await first.aclose()
    second = DiskL2(tmp_path / "c")
    try:
        assert await ResultCache(l2=second).get(key) == result("schema")
    finally:
        await second.aclose()
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o700


async def test_invalidate_reaches_into_disk_l2(disk: DiskL2) -> None:
    fs = cache_key("filesystem", "read_file", {"path": "a"})
    web = cache_key("websearch", "search_web", {"query": "q"})
    writer = ResultCache(l2=disk)
    await writer.set(fs, result("fs"))
    await writer.set(web, result("web"))
    await writer.invalidate("filesystem")
    reader = ResultCache(l2=disk)
    assert await reader.get(fs) is None
    assert await reader.get(web) == result("web")
    await writer.invalidate()
    assert await ResultCache(l2=disk).get(web) is None


@pytest.mark.parametrize("garbage", [b"\x00\xffnot json", b"[1, 2, 3]", {"a": "pickled dict"}, "text, not bytes"])
async def test_a_corrupt_disk_entry_is_a_logged_miss_and_is_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, garbage: object
) -> None:
    key = cache_key("filesystem", "read_file", {"path": "a"})
    raw = diskcache.Cache(str(tmp_path / "c"))
    raw.set(key, garbage)
    raw.close()
    l2 = DiskL2(tmp_path / "c")
    cache = ResultCache(l2=l2)
    with caplog.at_level(logging.WARNING):
        assert await cache.get(key) is None
    assert cache.stats == CacheStats(hits_l1=0, hits_l2=0, misses=1)
    assert any("corrupt" in m or "pickled" in m for m in warnings_from(caplog))
    assert await l2.get(key) is None
    await l2.aclose()
    raw = diskcache.Cache(str(tmp_path / "c"))
    assert key not in raw
    raw.close()


async def test_an_unusable_disk_l2_degrades_to_l1_with_one_warning_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "c"
    blocker.write_text("a file where the cache directory should be")
    clock = FakeClock()
    l2 = DiskL2(blocker)
    cache = ResultCache(l2=l2, clock=clock, l2_retry_s=30.0)
    key = cache_key("filesystem", "read_file", {"path": "a"})
    with caplog.at_level(logging.INFO):
        assert await cache.get(key) is None
        assert await cache.set(key, result("a"))
        assert await cache.get(key) == result("a")
        await cache.invalidate("filesystem")
        clock.now += 30.0
        assert await cache.get(key) is None  # L2 tried again, still down: no second warning
        assert len(warnings_from(caplog)) == 1
        assert cache.stats.l2_errors == 2
        blocker.unlink()
        clock.now += 30.0
        await cache.set(key, result("b"))
        assert any("reachable again" in r.getMessage() for r in caplog.records)
    assert await ResultCache(l2=l2).get(key) == result("b")
    await cache.aclose()


class Switchable:
    """A real L2 that can be made to fail on demand, as a store does when it goes away and comes back."""

    def __init__(self, inner: DiskL2) -> None:
        self.inner = inner
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise L2Error("switched off")

    async def get(self, key: str) -> bytes | None:
        self._check()
        return await self.inner.get(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._check()
        await self.inner.set(key, value, ttl_s)

    async def delete_prefix(self, prefix: str) -> None:
        self._check()
        await self.inner.delete_prefix(prefix)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("server", ["filesystem", None])
async def test_an_invalidation_missed_while_l2_was_down_is_replayed_when_it_is_back(
    disk: DiskL2, server: str | None
) -> None:
    clock = FakeClock()
    l2 = Switchable(disk)
    cache = ResultCache(l2=l2, clock=clock, l2_retry_s=30.0)
    fs = cache_key("filesystem", "read_file", {"path": "a"})
    web = cache_key("websearch", "search_web", {"query": "q"})
    await cache.set(fs, result("old"))
    await cache.set(web, result("web"))
    l2.down = True
    await cache.invalidate(server)  # L2 is down: nothing reaches it now
    await cache.invalidate("websearch" if server else "database")  # and once more while the breaker is open
    l2.down = False
    assert await ResultCache(l2=disk).get(fs) == result("old")  # still in L2, as it was told nothing
    clock.now += 30.0
    assert await cache.get(cache_key("database", "get_schema", None)) is None  # the first L2 call after
    assert await ResultCache(l2=disk).get(fs) is None
    assert await ResultCache(l2=disk).get(web) is None


# --- Redis L2 (a real redis-server) ------------------------------------------------------------------------


@pytest.fixture
def redis_srv(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


@pytest.fixture
async def raw_redis(redis_srv: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_srv.url)
    yield client
    await client.aclose()


async def test_redis_l2_shares_results_between_caches_with_a_ttl(
    redis_srv: RedisServer, raw_redis: redis.asyncio.Redis
) -> None:
    key = cache_key("websearch", "fetch_webpage", {"url": "http://example.test/"})
    writer_l2, reader_l2 = RedisL2(redis_srv.url), RedisL2(redis_srv.url)
    try:
        await ResultCache(l2=writer_l2).set(key, result("page"), ttl_s=60.0)
        reader = ResultCache(l2=reader_l2)
        assert await reader.get(key) == result("page")
        assert await reader.get(key) == result("page")
        assert reader.stats == CacheStats(hits_l1=1, hits_l2=1, misses=0)
        ttl_ms = await raw_redis.pttl("k2:cache:" + key)
        assert 0 < ttl_ms <= 60_000
    finally:
        await writer_l2.aclose()
        await reader_l2.aclose()


async def test_redis_l2_invalidates_one_server_even_with_glob_characters_in_names(
    redis_srv: RedisServer, raw_redis: redis.asyncio.Redis
) -> None:
    l2 = RedisL2(redis_srv.url, namespace="k2:[test]*:")
    try:
        cache = ResultCache(l2=l2)
        keys = {s: cache_key(s, "t", None) for s in ("fs", "fs*", "web")}
        for server, key in keys.items():
            await cache.set(key, result(server))
        await raw_redis.set("k2:other:" + keys["fs"], b"not ours")
        await cache.invalidate("fs")
        assert await raw_redis.exists("k2:[test]*:" + keys["fs"]) == 0
        assert await raw_redis.exists("k2:[test]*:" + keys["fs*"]) == 1
        assert await raw_redis.exists("k2:[test]*:" + keys["web"]) == 1
        await cache.invalidate()
        assert await raw_redis.keys("k2:[[]test]*") == []
        assert await raw_redis.get("k2:other:" + keys["fs"]) == b"not ours"
    finally:
        await l2.aclose()


async def test_a_corrupt_redis_entry_is_a_miss(redis_srv: RedisServer, raw_redis: redis.asyncio.Redis) -> None:
    key = cache_key("database", "query_database", {"sql": "select 1"})
    await raw_redis.set("k2:cache:" + key, b"{truncated")
    l2 = RedisL2(redis_srv.url)
    try:
        cache = ResultCache(l2=l2)
        assert await cache.get(key) is None
        assert cache.stats.misses == 1
        assert await raw_redis.exists("k2:cache:" + key) == 0
    finally:
        await l2.aclose()


async def test_redis_going_down_mid_use_degrades_to_l1_without_raising(
    redis_srv: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    l2 = RedisL2(redis_srv.url)
    cache = ResultCache(l2=l2, clock=FakeClock())
    before = cache_key("filesystem", "read_file", {"path": "before"})
    after = cache_key("filesystem", "read_file", {"path": "after"})
    try:
        await cache.set(before, result("before"))
        assert await ResultCache(l2=l2).get(before) == result("before")  # it really went through Redis
        redis_srv.stop()
        with caplog.at_level(logging.WARNING):
            assert await cache.get(before) == result("before")  # L1
            assert await cache.get(after) is None
            assert await cache.set(after, result("after"))
            assert await cache.get(after) == result("after")
            await cache.invalidate("websearch")
            assert len(warnings_from(caplog)) == 1
            assert cache.stats.l2_errors >= 1
            assert await ResultCache(l2=l2).get(before) is None  # a fresh L1 and no L2: a miss, not an error
    finally:
        await cache.aclose()


async def test_an_unreachable_redis_from_the_start_is_a_miss_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    l2 = RedisL2(f"redis://127.0.0.1:{port}/0", timeout_s=0.5)
    cache = ResultCache(l2=l2)
    with caplog.at_level(logging.WARNING):
        assert await cache.get("s:a") is None
        assert await cache.set("s:a", result("a"))
        assert await cache.get("s:a") == result("a")
    assert len(warnings_from(caplog)) == 1
    await cache.aclose()
