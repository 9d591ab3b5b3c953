"""Circuit breaker, token bucket and retry policy, driven by a hand-moved clock."""

from __future__ import annotations

import pytest
from k2_host.mcp.resilience import CircuitBreaker, RateLimited, TokenBucket, retryable_tool, retrying
from k2_host.mcp.types import ToolInfo

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def tripped(clock: FakeClock, threshold: int = 3, reset: float = 10.0) -> CircuitBreaker:
    breaker = CircuitBreaker(threshold, reset, clock=clock)
    for _ in range(threshold):
        breaker.record_failure()
    assert breaker.state == "open"
    return breaker


# --- circuit breaker ---------------------------------------------------------------------------------------


def test_breaker_starts_closed_and_lets_calls_through() -> None:
    breaker = CircuitBreaker(clock=FakeClock())
    assert breaker.state == "closed"
    assert breaker.allow() and breaker.allow()
    assert breaker.retry_after_s == 0.0
    assert breaker.consecutive_failures == 0


def test_breaker_opens_after_exactly_threshold_consecutive_failures() -> None:
    breaker = CircuitBreaker(3, 10.0, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 2
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()


def test_a_success_resets_the_consecutive_failure_count() -> None:
    breaker = CircuitBreaker(3, 10.0, clock=FakeClock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    assert breaker.consecutive_failures == 0
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_open_breaker_reports_time_left_until_half_open() -> None:
    clock = FakeClock()
    breaker = tripped(clock, reset=10.0)
    clock.advance(4.0)
    assert breaker.retry_after_s == pytest.approx(6.0)
    assert not breaker.allow()
    clock.advance(5.999)
    assert breaker.state == "open"
    clock.advance(0.001)
    assert breaker.state == "half_open"
    assert breaker.retry_after_s == 0.0


def test_half_open_lets_exactly_one_probe_through_and_refuses_concurrent_callers() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.advance(10.0)
    assert breaker.allow() is True  # the probe
    assert [breaker.allow() for _ in range(5)] == [False] * 5
    assert breaker.state == "half_open"
    assert breaker.retry_after_s > 0


def test_probe_success_closes_the_breaker() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    clock.advance(10.0)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 0
    assert breaker.allow() and breaker.allow()


def test_probe_failure_opens_again_with_a_fresh_timer() -> None:
    clock = FakeClock()
    breaker = tripped(clock, reset=10.0)
    clock.advance(15.0)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert breaker.retry_after_s == pytest.approx(10.0)
    clock.advance(9.0)
    assert not breaker.allow()
    clock.advance(1.0)
    assert breaker.allow()


def test_a_probe_whose_outcome_never_comes_is_given_up_after_the_reset_timeout() -> None:
    clock = FakeClock()
    breaker = tripped(clock, reset=10.0)
    clock.advance(10.0)
    assert breaker.allow()  # this probe's caller is cancelled and never records anything
    clock.advance(9.0)
    assert not breaker.allow()
    clock.advance(1.0)
    assert breaker.allow()
    assert not breaker.allow()


def test_a_late_success_while_open_does_not_close_the_breaker() -> None:
    clock = FakeClock()
    breaker = tripped(clock)
    breaker.record_success()
    assert breaker.state == "open"
    assert not breaker.allow()


def test_on_change_sees_every_transition_once() -> None:
    clock = FakeClock()
    changes: list[tuple[str, str]] = []
    breaker = CircuitBreaker(1, 5.0, clock=clock, on_change=lambda old, new: changes.append((old, new)))
    breaker.record_failure()
    breaker.record_failure()  # already open: no new transition
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record_failure()
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record_success()
    assert changes == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


@pytest.mark.parametrize(("threshold", "reset"), [(0, 1.0), (1, -1.0), (1, float("nan"))])
def test_breaker_refuses_nonsense_settings(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(threshold, reset)


# --- token bucket ------------------------------------------------------------------------------------------


def test_bucket_starts_full_and_grants_a_burst() -> None:
    bucket = TokenBucket(2.0, 3, clock=FakeClock())
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.5)  # 1 token at 2/s


def test_bucket_refills_at_the_rate_and_never_beyond_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, 2, clock=clock)
    assert bucket.try_acquire(2) == 0.0
    clock.advance(0.125)  # half a token
    assert bucket.tokens == pytest.approx(0.5)
    assert bucket.try_acquire() == pytest.approx(0.125)
    clock.advance(0.125)
    assert bucket.try_acquire() == 0.0
    clock.advance(3600.0)
    assert bucket.tokens == pytest.approx(2.0)


def test_refused_request_takes_no_tokens() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, 3, clock=clock)
    assert bucket.try_acquire(3) == 0.0
    clock.advance(1.0)
    assert bucket.try_acquire(2) == pytest.approx(1.0)
    assert bucket.tokens == pytest.approx(1.0)
    assert bucket.try_acquire(1) == 0.0


def test_a_clock_that_steps_back_refills_nothing() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1.0, 1, clock=clock)
    bucket.try_acquire()
    clock.advance(-50.0)
    assert bucket.try_acquire() == pytest.approx(1.0)


@pytest.mark.parametrize("n", [0, 4])
def test_bucket_refuses_a_request_it_could_never_grant(n: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(1.0, 3, clock=FakeClock()).try_acquire(n)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (float("inf"), 1), (1.0, 0)])
def test_bucket_refuses_nonsense_settings(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


async def test_acquire_takes_an_available_token_without_waiting() -> None:
    bucket = TokenBucket(1.0, 1, clock=FakeClock())
    await bucket.acquire(timeout_s=0)
    assert bucket.tokens == 0.0


async def test_acquire_with_no_time_to_wait_raises_rate_limited_with_the_wait() -> None:
    clock = FakeClock()
    bucket = TokenBucket(0.5, 1, clock=clock)
    await bucket.acquire(timeout_s=0)
    clock.advance(1.0)
    with pytest.raises(RateLimited) as caught:
        await bucket.acquire(timeout_s=0)
    assert caught.value.retry_after_s == pytest.approx(1.0)
    assert bucket.tokens == pytest.approx(0.5)


async def test_acquire_raises_when_the_wait_is_longer_than_the_timeout() -> None:
    bucket = TokenBucket(0.1, 1, clock=FakeClock())
    await bucket.acquire(timeout_s=0)
    with pytest.raises(RateLimited) as caught:
        await bucket.acquire(timeout_s=9.0)
    assert caught.value.retry_after_s == pytest.approx(10.0)


# --- retry policy ------------------------------------------------------------------------------------------


class Flaky:
    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = errors
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_retrying_retries_the_given_exceptions_until_success() -> None:
    flaky = Flaky([ConnectionError("a"), TimeoutError("b")])
    result = await retrying(attempts=3, base_s=0, retry_on=(ConnectionError, TimeoutError))(flaky)
    assert result == "ok"
    assert flaky.calls == 3


async def test_retrying_stops_after_attempts_and_reraises_the_last_error() -> None:
    flaky = Flaky([ConnectionError("first"), ConnectionError("second"), ConnectionError("third"), ConnectionError()])
    with pytest.raises(ConnectionError) as caught:
        await retrying(attempts=3, base_s=0, retry_on=(ConnectionError,))(flaky)
    assert caught.value.args == ("third",)
    assert flaky.calls == 3


async def test_retrying_does_not_retry_other_exceptions() -> None:
    flaky = Flaky([ValueError("bad input")])
    with pytest.raises(ValueError):
        await retrying(attempts=5, base_s=0, retry_on=(ConnectionError,))(flaky)
    assert flaky.calls == 1


async def test_retrying_works_as_an_async_for_loop() -> None:
    flaky = Flaky([OSError("down")])
    result = ""
    async for attempt in retrying(attempts=2, base_s=0, retry_on=(OSError,)):
        with attempt:
            result = await flaky()
    assert result == "ok"
    assert flaky.calls == 2


def test_retrying_backs_off_exponentially_with_full_jitter_capped_at_max() -> None:
    policy = retrying(attempts=10, base_s=0.1, max_s=2.0, retry_on=(OSError,))

    class State:
        def __init__(self, attempt_number: int) -> None:
            self.attempt_number = attempt_number

    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (5, 1.6), (6, 2.0), (9, 2.0)]:
        waits = [policy.wait(State(attempt)) for _ in range(200)]  # type: ignore[arg-type]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert min(waits) < ceiling / 2 < max(waits)  # full jitter: spread over [0, ceiling], not a fixed step


def test_retrying_refuses_zero_attempts() -> None:
    with pytest.raises(ValueError):
        retrying(attempts=0, retry_on=(OSError,))


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [
        ({"read_only": True}, True),
        ({"idempotent": True, "read_only": False}, True),
        ({"read_only": False, "destructive": False}, False),
        ({}, False),
    ],
)
def test_only_read_only_or_idempotent_tools_are_retryable(annotations: dict[str, bool], expected: bool) -> None:
    info = ToolInfo.model_validate({"name": "fs.op", "server": "fs", "tool": "op", **annotations})
    assert retryable_tool(info) is expected


def test_a_stdio_server_gets_no_host_secrets_unless_its_config_names_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from k2_host.mcp.connection import server_environment

    monkeypatch.setenv("MOONSHOT_API_KEY", "sk-moon")
    monkeypatch.setenv("K2_LLM_API_KEY", "sk-k2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws")
    monkeypatch.setenv("K2_FS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("XDG_DATA_HOME", "/data")
    env = server_environment({"GITHUB_TOKEN": "given-on-purpose"})
    assert "MOONSHOT_API_KEY" not in env and "K2_LLM_API_KEY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["K2_FS_LOG_LEVEL"] == "DEBUG" and env["XDG_DATA_HOME"] == "/data"
    assert env["GITHUB_TOKEN"] == "given-on-purpose" and "PATH" in env
