"""One live connection to one instance of an MCP server, kept alive by a supervisor task.

The supervisor opens the SDK `Client` (stdio subprocess, Streamable HTTP or legacy SSE), lists the tools,
and holds the session open until the connection is found dead (`Connection closed`, a transport error) or the
manager closes. A dead connection is reopened — for stdio that starts a fresh server process — with
exponential backoff and jitter. Calls wait for the connection to be ready, within their own deadline.

The client side of the protocol is complete so third-party servers that need it work: roots (the
workspace), elicitation and sampling (through the manager's handlers), list-changed notifications (handshake
era) and `subscriptions/listen` (2026-07-28) trigger a refresh of the tool list.
"""

from __future__ import annotations

import logging
import math
import os
import random
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx2
import mcp_types as types
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.client.sse import sse_client
from mcp.client.stdio import get_default_environment, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import SubscriptionLost
from mcp_types import CONNECTION_CLOSED, INVALID_REQUEST
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from k2_host import tracing
from k2_host.config import HOST_ENV_PREFIXES, ServerConfig

logger = logging.getLogger(__name__)

RootsFn = Callable[[], list[str]]
ElicitFn = Callable[[str, types.ElicitRequestParams], Awaitable[types.ElicitResult | types.ErrorData]]
SampleFn = Callable[
    [str, types.CreateMessageRequestParams],
    Awaitable[types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData],
]


_PASSED_ON = ("LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "HF_HUB_OFFLINE")
_PASSED_ON_PREFIXES = ("K2_", "XDG_", "OTEL_")
_NEVER_PASSED = HOST_ENV_PREFIXES  # the host's own settings (model keys, Qdrant key, inputs ...)
STDERR_TAIL_CHARS = 1500


def server_environment(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a stdio server: the SDK's safe defaults (PATH, HOME, ...), locale and temp dir, the
    K2 servers' own settings (`K2_*`, `XDG_*`, `OTEL_*`) — never the host's own (`K2_LLM_*`, `K2_RAG_*`, ...
    model and store keys, VS Code inputs) and no other secrets — the host's OTLP endpoint when it traces, then
    what the config gives the server."""
    env = get_default_environment()
    for key, value in os.environ.items():
        if key in _PASSED_ON or (key.startswith(_PASSED_ON_PREFIXES) and not key.startswith(_NEVER_PASSED)):
            env[key] = value
    if "OTEL_EXPORTER_OTLP_ENDPOINT" not in env:  # the host traces: the server's spans join its traces
        env.update(tracing.server_environment())
    env.update(extra)
    return env


def describe(exc: BaseException) -> str:
    """A one-line account of an error, looking inside exception groups (the SDK's task groups raise them)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc.error.message) if isinstance(exc, MCPError) else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Unavailable(Exception):
    """The instance is not connected (starting, restarting, or failed to start)."""


def is_connection_error(exc: BaseException) -> bool:
    """True when the exception means the transport or the session is gone (not a tool or protocol refusal).

    A handshake-era Streamable HTTP server that restarted answers the old session id with 404, which the SDK
    reports as INVALID_REQUEST "Session not found" / "Session terminated": the client must start a new session.
    """
    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED or (exc.code == INVALID_REQUEST and "session" in exc.error.message.lower())
    return isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | httpx2.TransportError | OSError)


class Instance:
    """One instance (`filesystem#0`) of a configured server."""

    def __init__(
        self,
        config: ServerConfig,
        index: int,
        *,
        roots: RootsFn,
        elicit: ElicitFn,
        sample: SampleFn,
        on_tools: Callable[[Instance, list[types.Tool]], Awaitable[None]],
        log_dir: Path | None = None,
        client_info: types.Implementation | None = None,
    ) -> None:
        self.config = config
        self.id = f"{config.name}#{index}"
        self.in_flight = 0
        self.client: Client | None = None
        self.ready = anyio.Event()
        self.last_error: str | None = None
        self.connects = 0
        self.protocol_version: str | None = None
        self.server_info: types.Implementation | None = None
        self._roots = roots
        self._elicit = elicit
        self._sample = sample
        self._on_tools = on_tools
        self._log_dir = log_dir
        self._client_info = client_info
        self._dead = anyio.Event()
        self._closing = False
        self._scope: anyio.CancelScope | None = None
        self._failed_starts = 0
        self._calls: set[anyio.CancelScope] = set()

    # ------------------------------------------------------------------------------------------ lifecycle

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Supervise the connection until `close()`; reports started after the first attempt either way."""
        self._task_status: anyio.abc.TaskStatus[None] | None = task_status
        with anyio.CancelScope() as scope:
            self._scope = scope
            while not self._closing:
                log_offset = self._log_size()
                try:
                    await self._connect_once()
                except Exception as exc:
                    self.last_error = describe(exc)
                    self._failed_starts += 1
                    if not self.ready.is_set():  # it never got as far as listing its tools
                        self.last_error = self._start_failure(self.last_error, log_offset)
                    logger.warning("server %s: connection failed: %s", self.id, self.last_error)
                finally:
                    self.client = None
                    if self.ready.is_set():
                        self.ready = anyio.Event()
                self._report_started()
                if self._closing:
                    break
                # Exponential backoff with full jitter, capped; reset by a successful connection.
                delay = random.uniform(0, min(30.0, 0.2 * 2 ** min(self._failed_starts, 8)))  # noqa: S311
                await anyio.sleep(delay)

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def log_path(self) -> Path | None:
        """Where a stdio server's stderr goes (None: the host's own stderr, or not stdio)."""
        if self._log_dir is None or self.config.transport != "stdio":
            return None
        return self._log_dir / f"{self.config.name}.log"

    def _stderr_since(self, offset: int) -> str:
        """What the server wrote to its log since `offset` (its stderr during this attempt), last lines first cut."""
        path = self.log_path
        if path is None:
            return ""
        try:
            with path.open("rb") as f:
                f.seek(offset)
                data = f.read()
        except OSError:
            return ""
        text = data.decode("utf-8", "replace").strip()
        if len(text) > STDERR_TAIL_CHARS:
            text = "…" + text[-STDERR_TAIL_CHARS:]
        return text

    def _start_failure(self, error: str, log_offset: int) -> str:
        """A failed start described with what the server printed (its stderr tail) and where its log is."""
        if self.config.transport != "stdio":
            return error
        tail = self._stderr_since(log_offset)
        where = f"; log: {self.log_path}" if self.log_path is not None else ""
        said = f"; it printed: {tail}" if tail else ""
        return f"the server process did not start ({error}){said}{where}"

    def _log_size(self) -> int:
        path = self.log_path
        try:
            return path.stat().st_size if path is not None else 0
        except OSError:
            return 0

    def _report_started(self) -> None:
        if self._task_status is not None:
            status, self._task_status = self._task_status, None
            status.started()

    async def _connect_once(self) -> None:
        self._dead = anyio.Event()
        connected = False
        # One scope for the client's whole life: its deadline covers connecting and listing, then is lifted
        # (a scope must not close while the client's task groups, entered inside it, are still open).
        with anyio.CancelScope(deadline=anyio.current_time() + self.config.connect_timeout_s) as scope:
            async with AsyncExitStack() as stack:
                client = Client(
                    self._transport(stack),
                    mode=self.config.protocol,  # type: ignore[arg-type]
                    list_roots_callback=self._list_roots,
                    elicitation_callback=self._elicitation,
                    sampling_callback=self._sampling,
                    message_handler=self._message,
                    client_info=self._client_info,
                    cache=None,
                )
                await stack.enter_async_context(client)
                self.protocol_version = client.protocol_version
                self.server_info = client.server_info
                tools = await self._list_all(client)
                scope.deadline = math.inf
                connected = True
                await self._on_tools(self, tools)
                self.client = client
                self.connects += 1
                self._failed_starts = 0
                self.last_error = None
                self.ready.set()
                logger.info("server %s connected (%s, %d tools)", self.id, self.protocol_version, len(tools))
                self._report_started()
                async with anyio.create_task_group() as tg:
                    if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                        tg.start_soon(self._listen, client)
                    await self._dead.wait()
                    tg.cancel_scope.cancel()
        if scope.cancelled_caught and not connected:
            raise TimeoutError(f"no answer within {self.config.connect_timeout_s:g} s while connecting")
        logger.warning("server %s disconnected: %s", self.id, self.last_error or "closed")

    def _transport(self, stack: AsyncExitStack) -> Any:
        cfg = self.config
        if cfg.transport == "stdio":
            assert cfg.command is not None
            params = StdioServerParameters(
                command=cfg.command, args=cfg.args, env=server_environment(cfg.env), cwd=cfg.cwd
            )
            return stdio_client(params, errlog=self._errlog(stack))
        assert cfg.url is not None
        if cfg.transport == "sse":
            return sse_client(cfg.url, headers=cfg.headers or None, timeout=cfg.connect_timeout_s)
        http = httpx2.AsyncClient(headers=cfg.headers or None, timeout=httpx2.Timeout(cfg.timeout_s, read=None))
        stack.push_async_callback(http.aclose)  # the SDK leaves a client it was given open (and its sockets)
        return streamable_http_client(cfg.url, http_client=http)

    def _errlog(self, stack: AsyncExitStack) -> TextIO:
        """Where a stdio server's stderr goes: a log file per server (the terminal stays readable)."""
        if self._log_dir is None:
            return sys.stderr
        self._log_dir.mkdir(parents=True, exist_ok=True)
        return stack.enter_context((self._log_dir / f"{self.config.name}.log").open("a", encoding="utf-8"))

    async def _list_all(self, client: Client) -> list[types.Tool]:
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(1000):  # a server that pages forever is cut off
            page = await client.list_tools(cursor=cursor, cache_mode="bypass")
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        return tools

    async def refresh_tools(self) -> None:
        client = self.client
        if client is None:
            return
        try:
            with anyio.fail_after(self.config.connect_timeout_s):
                tools = await self._list_all(client)
        except Exception as exc:
            logger.warning("server %s: refreshing tools failed: %s", self.id, exc)
            return
        await self._on_tools(self, tools)

    async def _listen(self, client: Client) -> None:
        caps = client.server_capabilities
        if caps is None or caps.tools is None or not caps.tools.list_changed:
            return
        try:
            async with client.listen(tools_list_changed=True) as sub:
                async for _event in sub:
                    await self.refresh_tools()
        except SubscriptionLost as exc:
            # The stream dropped without the server closing it: the process died or the HTTP server went away
            # (a sessionless client would not notice until the next call). Reconnect: that re-lists the tools,
            # which may have changed meanwhile, and listens again.
            self.mark_dead(f"change subscription lost: {exc}")
        except Exception as exc:  # the server does not support listen
            logger.info("server %s: no change subscription (%s)", self.id, exc)

    def call_scope(self, deadline: float) -> anyio.CancelScope:
        """A cancel scope for one call on this instance's client: it ends at `deadline`, and earlier when the
        connection is dropped or closed. Hand it back to `end_call` once the call is over.

        Tearing a client down does not always fail the requests still waiting on it (an SSE stream cut while a
        call waits, a Streamable HTTP client closed by the host), so they are cancelled here rather than left to
        wait for their deadline; `cancelled_caught` tells the caller, and `client` (changed or not) which.
        """
        scope = anyio.CancelScope(deadline=deadline)
        self._calls.add(scope)
        return scope

    def end_call(self, scope: anyio.CancelScope) -> None:
        self._calls.discard(scope)

    def _cancel_calls(self) -> None:
        for scope in list(self._calls):
            scope.cancel()

    def mark_dead(self, reason: str) -> None:
        if not self._dead.is_set():
            self.last_error = reason
            self.client = None
            self.ready = anyio.Event()
            self._dead.set()
            self._cancel_calls()

    def restart(self) -> None:
        """Drop the connection; the supervisor opens a new one (a new process for stdio)."""
        self.mark_dead("restart requested")

    async def close(self) -> None:
        self._closing = True
        self._dead.set()
        self.ready.set()  # wakes calls waiting for a (re)connection; they find the instance closing
        self._cancel_calls()
        if self._scope is not None:
            self._scope.cancel()

    async def wait_ready(self, timeout: float) -> Client:
        if self._closing:
            raise Unavailable("the host is shutting down")
        client = self.client
        if client is not None:
            return client
        with anyio.move_on_after(timeout):
            await self.ready.wait()
        if self._closing:
            raise Unavailable("the host is shutting down")
        if self.client is None:
            raise Unavailable(self.last_error or "not connected")
        return self.client

    # ------------------------------------------------------------------------------------------ client side

    async def _list_roots(self, context: ClientRequestContext) -> types.ListRootsResult:
        roots = [types.Root(uri=Path(r).as_uri(), name=Path(r).name or r) for r in self._roots()]  # type: ignore[arg-type]
        return types.ListRootsResult(roots=roots)

    async def _elicitation(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        return await self._elicit(self.config.name, params)

    async def _sampling(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools | types.ErrorData:
        return await self._sample(self.config.name, params)

    async def _message(self, message: IncomingMessage) -> None:
        if isinstance(message, Exception):
            if is_connection_error(message):  # e.g. the SSE stream was cut: reconnect now, not at the next call
                logger.warning("server %s: transport failed: %s", self.id, describe(message))
                self.mark_dead(f"transport failed: {describe(message)}")
                return
            logger.warning("server %s sent something unreadable: %s", self.id, message)
            return
        root = getattr(message, "root", message)
        if isinstance(root, types.ToolListChangedNotification):
            await self.refresh_tools()
