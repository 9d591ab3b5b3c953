"""ClientManager under failure: servers killed mid-call (stdio and Streamable HTTP), hung, malformed, missing,
rate limited. Every call comes back as a result (never an exception), within its deadline, and no server
process outlives the manager."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_host.config import HostConfig, ServerConfig
from k2_host.mcp.manager import ClientManager
from k2_host.mcp.resilience import CircuitBreaker
from k2_host.mcp.types import ToolResult

from tests.host.mcp.chaos import MODES, alive, chaos, http_chaos, managed, ok

pytestmark = pytest.mark.anyio

NO_CACHE = {"enabled": False}


class Clock:
    """A hand-driven monotonic clock for the breakers."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def hand_clocked_breaker(manager: ClientManager, instance: str, clock: Clock) -> CircuitBreaker:
    group = manager.groups[instance.partition("#")[0]]
    old = group.breakers[instance]
    breaker = CircuitBreaker(old.failure_threshold, old.reset_timeout_s, clock=clock)
    group.breakers[instance] = breaker
    return breaker


async def call_and_kill(manager: ClientManager, pid: int, seconds: float = 120) -> ToolResult:
    """Call `slow`, and SIGKILL the server process as soon as it reports that the call is running."""
    running = anyio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        running.set()

    async def killer() -> None:
        await running.wait()
        os.kill(pid, signal.SIGKILL)

    async with anyio.create_task_group() as tg:
        tg.start_soon(killer)
        result = await manager.call("chaos.slow", {"seconds": seconds}, on_progress=on_progress)
        tg.cancel_scope.cancel()
    assert running.is_set()
    return result


async def wait_connected(manager: ClientManager, instance: str, timeout: float = 60) -> None:
    group = manager.groups[instance.partition("#")[0]]
    inst = next(i for i in group.instances if i.id == instance)
    await inst.wait_ready(timeout)


@pytest.mark.parametrize("mode", MODES)
async def test_a_stdio_server_killed_mid_call_fails_the_call_opens_the_breaker_and_is_restarted(
    tmp_path: Path, mode: str
) -> None:
    config = HostConfig(servers=[chaos(mode=mode, breaker_threshold=1, breaker_reset_s=30, retries=0)], cache=NO_CACHE)
    async with managed(config, tmp_path) as manager:
        clock = Clock()
        breaker = hand_clocked_breaker(manager, "chaos#0", clock)
        first_pid = ok(await manager.call("chaos.echo", {"text": "x"}))["pid"]

        with anyio.fail_after(30):  # the call's own deadline is 30 s; it must not wait out the 120 s sleep
            killed = await call_and_kill(manager, first_pid)
        assert (killed.is_error, killed.error_code) == (True, "server_unavailable")
        assert breaker.state == "open"
        refused = await manager.call("chaos.echo", {"text": "refused"})
        assert (refused.error_code, refused.instance) == ("server_unavailable", None)
        assert "circuit breaker open" in refused.text

        clock.now += 31  # the breaker half-opens: the next call is its probe
        with anyio.fail_after(60):
            await wait_connected(manager, "chaos#0")
            back = ok(await manager.call("chaos.echo", {"text": "back"}))
        assert back["pid"] != first_pid and not alive(first_pid)
        assert breaker.state == "closed"
        assert manager.status()[0]["connects"] == 2


@pytest.mark.parametrize("mode", MODES)
async def test_a_call_that_crashes_the_server_fails_and_a_later_call_succeeds_on_the_restarted_one(
    tmp_path: Path, mode: str
) -> None:
    marker = tmp_path / "crashed"
    config = HostConfig(servers=[chaos(mode=mode, retries=0)], cache=NO_CACHE)
    async with managed(config, tmp_path / "state") as manager:
        with anyio.fail_after(30):
            crashed = await manager.call("chaos.crash_once", {"marker_path": str(marker)})
        assert (crashed.is_error, crashed.error_code) == (True, "server_unavailable")
        crashed_pid = int(marker.read_text())
        with anyio.fail_after(60):  # this call waits for the restart, within its deadline
            survived = ok(await manager.call("chaos.crash_once", {"marker_path": str(marker)}))
        assert survived["text"] == "survived" and survived["pid"] != crashed_pid


@pytest.mark.parametrize("mode", MODES)
async def test_a_streamable_http_server_killed_mid_call_is_reconnected_once_it_is_back(
    tmp_path: Path, mode: str
) -> None:
    with http_chaos() as server:
        cfg = ServerConfig(name="chaos", transport="http", url=server.url, protocol=mode, breaker_threshold=1)
        async with managed(HostConfig(servers=[cfg], cache=NO_CACHE), tmp_path) as manager:
            clock = Clock()
            breaker = hand_clocked_breaker(manager, "chaos#0", clock)
            assert server.process is not None
            first_pid = server.process.pid
            assert ok(await manager.call("chaos.echo", {"text": "x"}))["pid"] == first_pid

            with anyio.fail_after(30):
                killed = await call_and_kill(manager, first_pid)
            assert (killed.is_error, killed.error_code) == (True, "server_unavailable")
            assert breaker.state == "open"
            refused = await manager.call("chaos.echo", {"text": "refused"})
            assert "circuit breaker open" in refused.text

            server.start()  # the same port
            clock.now += 31
            with anyio.fail_after(60):
                back = ok(await manager.call("chaos.echo", {"text": "back"}))
            assert back["pid"] == server.process.pid != first_pid
            assert breaker.state == "closed"


@pytest.mark.parametrize("mode", MODES)
async def test_an_http_server_restarted_between_calls_is_reconnected(tmp_path: Path, mode: str) -> None:
    with http_chaos() as server:
        cfg = ServerConfig(name="chaos", transport="http", url=server.url, protocol=mode)
        async with managed(HostConfig(servers=[cfg], cache=NO_CACHE), tmp_path) as manager:
            ok(await manager.call("chaos.echo", {"text": "x"}))
            server.kill()
            server.start()
            assert server.process is not None
            with anyio.fail_after(60):  # handshake era: the old session is gone (404); a new one is opened
                assert ok(await manager.call("chaos.echo", {"text": "y"}))["pid"] == server.process.pid


async def test_a_legacy_sse_server_killed_mid_call_fails_the_call_and_is_reconnected(tmp_path: Path) -> None:
    with http_chaos("sse") as server:
        cfg = ServerConfig(name="chaos", transport="sse", url=server.url, protocol="legacy", retries=0)
        async with managed(HostConfig(servers=[cfg], cache=NO_CACHE), tmp_path) as manager:
            assert server.process is not None
            with anyio.fail_after(30):
                killed = await call_and_kill(manager, server.process.pid)
            assert killed.error_code == "server_unavailable"
            server.start()
            with anyio.fail_after(60):
                assert ok(await manager.call("chaos.echo", {"text": "y"}))["pid"] == server.process.pid


@pytest.mark.parametrize("mode", MODES)
async def test_a_slow_call_times_out_at_its_deadline_and_the_server_stays_usable(tmp_path: Path, mode: str) -> None:
    async with managed(HostConfig(servers=[chaos(mode=mode)], cache=NO_CACHE), tmp_path) as manager:
        pid = ok(await manager.call("chaos.echo", {"text": "before"}))["pid"]
        with anyio.fail_after(20):
            late = await manager.call("chaos.slow", {"seconds": 120}, timeout=0.5)
        assert (late.is_error, late.error_code) == (True, "timeout")
        after = ok(await manager.call("chaos.echo", {"text": "after"}))
        assert after["pid"] == pid  # the same process: a timeout does not restart the server
        assert manager.status()[0]["breaker"] == "closed"


@pytest.mark.parametrize("mode", MODES)
async def test_a_result_that_breaks_its_output_schema_is_a_bad_result(tmp_path: Path, mode: str) -> None:
    async with managed(HostConfig(servers=[chaos(mode=mode)], cache=NO_CACHE), tmp_path) as manager:
        result = await manager.call("chaos.malformed")
        assert (result.is_error, result.error_code, result.instance) == (True, "bad_result", "chaos#0")
        assert result.text.startswith("chaos.malformed returned a malformed result: ")
        assert "\n" not in result.text  # one line, not the SDK's whole schema dump
        assert manager.status()[0]["breaker"] == "closed"  # the server answered: not a transport failure
        ok(await manager.call("chaos.echo", {"text": "still fine"}))


async def test_a_server_that_cannot_start_is_reported_and_the_others_work(tmp_path: Path) -> None:
    ghost = ServerConfig(name="ghost", command=str(tmp_path / "no-such-server"), connect_timeout_s=5)
    config = HostConfig(servers=[ghost, chaos()], cache=NO_CACHE)
    with anyio.fail_after(60):
        async with managed(config, tmp_path / "state") as manager:
            assert {t.server for t in manager.tools()} == {"chaos"}
            rows = {row["server"]: row for row in manager.status()}
            assert rows["ghost"]["connected"] is False and rows["ghost"]["last_error"]
            assert rows["chaos"]["connected"] is True and rows["chaos"]["last_error"] is None
            missing = await manager.call("ghost.anything")
            assert (missing.is_error, missing.error_code) == (True, "server_unavailable")
            ok(await manager.call("chaos.echo", {"text": "works"}))


async def test_calls_past_the_rate_limit_are_refused(tmp_path: Path) -> None:
    config = HostConfig(servers=[chaos(rate_per_s=0.01, burst=2)], cache=NO_CACHE)
    async with managed(config, tmp_path) as manager:
        results = [await manager.call("chaos.echo", {"text": str(i)}) for i in range(3)]
        assert [r.error_code for r in results] == [None, None, "rate_limited"]


async def test_a_replica_that_dies_fails_over_to_the_other_and_comes_back(tmp_path: Path) -> None:
    config = HostConfig(servers=[chaos(replicas=2)], cache=NO_CACHE)
    async with managed(config, tmp_path) as manager:
        pids: dict[str, int] = {}

        async def slow(seconds: float) -> None:
            result = await manager.call("chaos.slow", {"seconds": seconds})
            pids[result.instance or "?"] = ok(result)["pid"]

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(slow, 2.0)
                tg.start_soon(slow, 2.1)
        assert sorted(pids) == ["chaos#0", "chaos#1"]

        os.kill(pids["chaos#0"], signal.SIGKILL)
        with anyio.fail_after(30):
            moved = await manager.call("chaos.echo", {"text": "failover"})
        assert (moved.instance, ok(moved)["pid"]) == ("chaos#1", pids["chaos#1"])

        with anyio.fail_after(60):
            await wait_connected(manager, "chaos#0")
            again = ok(await manager.call("chaos.echo", {"text": "back"}))
        assert again["pid"] != pids["chaos#0"] and not alive(pids["chaos#0"])


@pytest.mark.parametrize(
    ("transport", "mode"), [("stdio", "auto"), ("streamable-http", "auto"), ("streamable-http", "legacy")]
)
async def test_a_call_in_flight_when_the_manager_closes_returns_an_error(
    tmp_path: Path, transport: str, mode: str
) -> None:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(http_chaos()).url if transport != "stdio" else None
        await _close_with_a_call_in_flight(tmp_path, mode, url)


async def _close_with_a_call_in_flight(tmp_path: Path, mode: str, url: str | None) -> None:
    results: list[ToolResult] = []
    server = ServerConfig(name="chaos", transport="http", url=url, protocol=mode) if url else chaos(mode=mode)
    config = HostConfig(servers=[server], cache=NO_CACHE)
    running = anyio.Event()

    async def on_progress(*_: Any) -> None:
        running.set()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg, managed(config, tmp_path) as manager:

            async def call() -> None:
                results.append(await manager.call("chaos.slow", {"seconds": 120}, on_progress=on_progress))

            tg.start_soon(call)
            await running.wait()
    [result] = results
    assert (result.is_error, result.error_code) == (True, "cancelled")  # the host closed: not a server failure
