"""Resilience for MCP calls: a circuit breaker per server, a token bucket per server, a retry policy.

All three are plain objects for one event loop (no locks: nothing here awaits between reading and changing
state). Time comes from an injected `clock` (monotonic seconds) so tests drive it by hand.

* `CircuitBreaker` — closed → open after `failure_threshold` consecutive failures → half-open once
  `reset_timeout_s` has passed, where exactly one probe call is let through; its success closes the breaker,
  its failure opens it again with a fresh timer. A probe whose outcome is never recorded (the caller was
  cancelled) is given up after another `reset_timeout_s`, so the breaker cannot stick in half-open.
* `TokenBucket` — `burst` tokens, refilled continuously at `rate_per_s`; `try_acquire` never waits,
  `acquire` waits up to a timeout and raises `RateLimited` with the time still needed.
* `retrying()` — a tenacity policy: exponential backoff with full jitter, only on the given exception types,
  the last error re-raised. `retryable_tool()` says whether a tool may be retried at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Literal

import anyio
import tenacity

from .types import ToolInfo

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Stops calling a failing server for a while, then lets one probe call find out whether it is back."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState, BreakerState], None] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold!r}")
        if not reset_timeout_s >= 0:
            raise ValueError(f"reset_timeout_s must be 0 or more, got {reset_timeout_s!r}")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self.on_change = on_change  # called with (old, new) after every change of state
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probe_since: float | None = None  # when the half-open probe was handed out

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker whose timeout has passed reads (and becomes) half-open."""
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_timeout_s:
            self._set("half_open")
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @property
    def retry_after_s(self) -> float:
        """Seconds until a call could be let through: 0 when closed or when a probe is free."""
        state = self.state
        now = self._clock()
        if state == "open":
            return max(0.0, self._opened_at + self.reset_timeout_s - now)
        if state == "half_open" and self._probe_since is not None:
            return max(0.0, self._probe_since + self.reset_timeout_s - now)
        return 0.0

    def allow(self) -> bool:
        """May a call go out now? In half-open, True for the one probe only (and for nobody while it is out)."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        now = self._clock()
        if self._probe_since is not None and now - self._probe_since < self.reset_timeout_s:
            return False
        self._probe_since = now
        return True

    def record_success(self) -> None:
        """A call succeeded. Closes a half-open breaker; a late success while open changes nothing."""
        state = self.state
        if state == "open":
            return
        self._failures = 0
        if state == "half_open":
            self._probe_since = None
            self._set("closed")

    def record_failure(self) -> None:
        """A call failed. Opens the breaker at the threshold, or at once when it was the half-open probe."""
        state = self.state
        self._failures += 1
        if state == "half_open" or (state == "closed" and self._failures >= self.failure_threshold):
            self._probe_since = None
            self._opened_at = self._clock()
            self._set("open")

    def _set(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        if old != new and self.on_change is not None:
            self.on_change(old, new)


class RateLimited(Exception):
    """A rate limit was reached; `retry_after_s` says when the request could be granted."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after_s:.3f} s")
        self.retry_after_s = retry_after_s


class TokenBucket:
    """`burst` tokens, refilled at `rate_per_s`; it starts full."""

    def __init__(self, rate_per_s: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not (rate_per_s > 0 and math.isfinite(rate_per_s)):
            raise ValueError(f"rate_per_s must be a positive number, got {rate_per_s!r}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    @property
    def tokens(self) -> float:
        """Tokens available now (fractional)."""
        self._refill()
        return self._tokens

    def try_acquire(self, n: int = 1) -> float:
        """Take `n` tokens if they are there: 0.0 when granted, else the seconds until they would be."""
        if not 1 <= n <= self.burst:
            raise ValueError(f"n must be between 1 and burst ({self.burst}), got {n!r}")
        self._refill()
        if self._tokens >= n:
            self._tokens -= n
            return 0.0
        return (n - self._tokens) / self.rate_per_s

    async def acquire(self, timeout_s: float | None = None, n: int = 1) -> None:
        """Take `n` tokens, waiting up to `timeout_s` (None: as long as it takes); else raise `RateLimited`."""
        deadline = None if timeout_s is None else self._clock() + max(0.0, timeout_s)
        while True:
            wait = self.try_acquire(n)
            if wait == 0.0:
                return
            if deadline is not None and self._clock() + wait > deadline:
                raise RateLimited(wait)
            await anyio.sleep(wait)

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._last)  # a clock that steps back refills nothing
        self._last = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate_per_s)


def retrying(
    *,
    attempts: int = 3,
    base_s: float = 0.1,
    max_s: float = 2.0,
    retry_on: tuple[type[BaseException], ...],
) -> tenacity.AsyncRetrying:
    """A retry policy: up to `attempts` tries in all, waiting uniform(0, min(max_s, base_s * 2**k)) between.

    Only exceptions of the `retry_on` types are retried; anything else, and the last failure, propagate as
    themselves. Use it as `async for attempt in retrying(...): with attempt: ...`, or call `await policy(fn)`.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts!r}")
    return tenacity.AsyncRetrying(
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_random_exponential(multiplier=base_s, max=max_s),
        retry=tenacity.retry_if_exception_type(retry_on),
        reraise=True,
        sleep=anyio.sleep,
    )


def retryable_tool(info: ToolInfo) -> bool:
    """A call may be repeated only when the server says doing so is harmless: read-only or idempotent."""
    return info.read_only or info.idempotent
