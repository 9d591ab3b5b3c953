"""A lean `tools/call` path for the stdio transport: the same bytes on the wire as the SDK's path, fewer steps.

The SDK carries each request through a relay stream, a pydantic check of the whole JSON-RPC message, a task
and context built by its dispatcher, the per-version request check and then the params model check again
(the same object validated twice), before the tool runs. Over a pipe with a small tool the SDK's part is
about seven tenths of a call (cProfile, read_file, 16 in flight); a no-op tool costs about a third less CPU this way
(bench/README.md).

`LeanToolCalls` answers a `tools/call` line straight from the transport's reader, for a session that has
completed the handshake-era `initialize`, and runs exactly what the SDK runs from there on, the SDK's own
pieces where they decide anything clients can see:

- the request is registered with the SDK's dispatcher as the dispatcher does it (its in-flight table, its
  dispatch context with the progress token), so `notifications/cancelled`, progress, server-to-client
  requests (roots/list), log notifications and shutdown behave as before; the dispatcher's own
  `_handle_request` writes the answer or the error, and leaves a cancelled request unanswered;
- the context (a `ServerSession` of the same connection, the request's `_meta`, the lifespan state) is the
  one the SDK's runner builds; the server's middleware chain runs around the call in the same order;
- the params are validated once by the registered handler's params model, the tool's arguments by the
  SDK's handler as always (unknown tool, validation errors and tool errors come out as they did), and the
  result is shaped by the same per-version sieve.

Anything else takes the SDK's path unchanged: another method, a line with anything but `jsonrpc`, `id`,
`method` and `params`, params with more than `name`, `arguments` and a `_meta` holding only a progress token,
a call before `initialize` completed (the SDK refuses it), a 2026-07-28 session, cache hints on tools/call,
messages still queued ahead of the line, or an SDK whose internals are not the ones this was written for
(checked once, at start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, cast

import anyio
import orjson
from mcp.server import MCPServer
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.shared import jsonrpc_dispatcher as _jd
from mcp.shared.dispatcher import DispatchContext, coerce_request_id
from mcp.shared.exceptions import MCPError
from mcp.shared.transport_context import TransportContext
from mcp_types import INTERNAL_ERROR, ErrorData, RequestParams, RequestParamsMeta
from mcp_types import methods as _methods
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError

logger = logging.getLogger(__name__)

METHOD = "tools/call"
_ENVELOPE_KEYS = frozenset({"jsonrpc", "id", "method", "params"})
_PARAMS_KEYS = frozenset({"name", "arguments", "_meta"})
_SDK_PARTS = ("_tg", "_in_flight", "_handle_request", "_transport_builder", "_running", "_write_stream")


def _dump_result(result: Any) -> dict[str, Any]:
    """The SDK runner's result dump (`mcp.server.runner._dump_result`)."""
    if result is None:
        return {}
    if isinstance(result, ErrorData):
        raise MCPError.from_error_data(result)
    if isinstance(result, BaseModel):
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)
    if isinstance(result, dict):
        return dict(result)  # pyright: ignore[reportUnknownArgumentType]
    raise TypeError(f"handler returned {type(result).__name__}; expected BaseModel, dict, or None")


def _apply(middleware: Any, call_next: CallNext, ctx: ServerRequestContext[Any, Any]) -> Any:
    """One middleware bound to the rest of the chain, as the SDK's runner composes them."""
    return middleware(ctx, call_next)


def _request_meta(params: Mapping[str, Any]) -> RequestParamsMeta | None:
    """The SDK runner's `_meta` lift: None when absent."""
    if "_meta" not in params:
        return None
    try:
        return RequestParams.model_validate(params, by_name=False).meta
    except ValidationError:
        return None


def _plain_call(message: Any) -> tuple[int | str, dict[str, Any]] | None:
    """The id and params of a tools/call request this path takes, or None for anything else."""
    if type(message) is not dict:
        return None
    envelope = cast("dict[str, Any]", message)
    request_id, params = envelope.get("id"), envelope.get("params")
    if (
        envelope.keys() - _ENVELOPE_KEYS
        or envelope.get("jsonrpc") != "2.0"
        or envelope.get("method") != METHOD
        or not (type(request_id) is int or type(request_id) is str)
        or type(params) is not dict
    ):
        return None
    body = cast("dict[str, Any]", params)
    if body.keys() - _PARAMS_KEYS or type(body.get("name")) is not str:
        return None
    if "arguments" in body and type(body["arguments"]) is not dict:
        return None
    if "_meta" in body:
        meta = body["_meta"]
        if type(meta) is not dict or meta.keys() != {"progressToken"}:
            return None
        token = cast("dict[str, Any]", meta)["progressToken"]
        if not (type(token) is int or type(token) is str):
            return None
    return request_id, body


class _Call:
    """What the dispatcher's `_handle_request` reads of a `JSONRPCRequest` (its id, method and params), without
    building the model."""

    __slots__ = ("id", "params")
    method = METHOD

    def __init__(self, request_id: int | str, params: dict[str, Any]) -> None:
        self.id = request_id
        self.params = params


class LeanToolCalls:
    """Server middleware that learns the connection at `initialize`, and the reader's hook that then answers
    plain `tools/call` lines itself. One per served connection; `install` adds it, `remove` takes it out."""

    def __init__(self, server: MCPServer[Any]) -> None:
        self._server = server
        self._lowlevel = server._lowlevel_server  # the SDK's own run_stdio_async does the same
        self._connection: Connection | None = None
        self._dispatcher: Any = None
        self._lifespan: Any = None
        self.outbox: object = None
        """The transport's write stream: the connection learnt is the one whose dispatcher writes to it (one
        server object may serve several connections at once, each with its own `LeanToolCalls`)."""
        self.queued: Callable[[], bool] = lambda: False
        """Whether messages read earlier still wait for the SDK (a line never overtakes them)."""
        self.on_taken: Callable[[int | str], None] = lambda request_id: None
        """Called with each request id this path takes (the transport then awaits its answer)."""

    @classmethod
    def install(cls, server: MCPServer[Any]) -> LeanToolCalls:
        lean = cls(server)
        server.middleware.insert(0, lean)
        return lean

    def remove(self) -> None:
        self._server.middleware[:] = [m for m in self._server.middleware if m is not self]

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "initialize" and self._connection is None:
            self._learn(ctx)
        return await call_next(ctx)

    def _learn(self, ctx: ServerRequestContext[Any, Any]) -> None:
        connection = getattr(ctx.session, "_connection", None)
        dispatcher = getattr(connection, "outbound", None)
        if not isinstance(connection, Connection) or not isinstance(dispatcher, _jd.JSONRPCDispatcher):
            return
        if not all(hasattr(dispatcher, part) for part in _SDK_PARTS) or not hasattr(_jd, "_JSONRPCDispatchContext"):
            logger.warning("lean tools/call path off: the SDK's dispatcher is not the one it was written for")
            return
        if dispatcher._write_stream is not self.outbox:  # another connection of the same server
            return
        self._connection, self._dispatcher, self._lifespan = connection, dispatcher, ctx.lifespan_context

    def _ready(self) -> bool:
        connection, dispatcher = self._connection, self._dispatcher
        return (
            connection is not None
            and connection.client_params is not None  # initialize completed: the SDK's gate is open
            and connection.protocol_version not in MODERN_PROTOCOL_VERSIONS
            and dispatcher._running
            and dispatcher._tg is not None
            and self._lowlevel.cache_hints.get(METHOD) is None
            and not self.queued()
        )

    def take(self, line: bytes) -> bool:
        """Start answering `line` if it is a plain tools/call this path serves; False leaves it to the SDK."""
        if b'"tools/call"' not in line or not self._ready():
            return False
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            return False
        plain = _plain_call(message)
        if plain is None:
            return False
        request_id, params = plain
        dispatcher = self._dispatcher
        request = _Call(request_id, params)
        transport: TransportContext = dispatcher._transport_builder(None)
        dctx = _jd._JSONRPCDispatchContext(
            transport=transport,
            _dispatcher=dispatcher,
            _request_id=request_id,
            message_metadata=None,
            _progress_token=_jd.progress_token_from_params(params),
        )
        scope = anyio.CancelScope()
        dispatcher._in_flight[coerce_request_id(request_id)] = _jd._InFlight(scope=scope, dctx=dctx)
        self.on_taken(request_id)
        dispatcher._tg.start_soon(dispatcher._handle_request, request, dctx, scope, self._on_request)
        return True

    async def _on_request(
        self, dctx: DispatchContext[TransportContext], method: str, params: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """What the SDK's runner does for a request, for tools/call on an initialized handshake-era session."""
        assert self._connection is not None and params is not None
        connection = self._connection
        meta = _request_meta(params)
        version = connection.protocol_version
        ctx: ServerRequestContext[Any, Any] = ServerRequestContext(
            session=ServerSession(dctx, connection, request_meta=meta),
            lifespan_context=self._lifespan,
            method=method,
            params=params,
            request_id=dctx.request_id,
            meta=meta,
            protocol_version=version,
        )
        checked = params

        async def inner(ctx: ServerRequestContext[Any, Any]) -> HandlerResult:
            method, params = ctx.method, ctx.params
            rewritten = method != METHOD or params is not checked  # by a middleware: check it as the SDK does
            if rewritten and method in _methods.SPEC_CLIENT_METHODS:
                try:
                    _methods.validate_client_request(method, version, params)
                except KeyError:
                    raise MCPError(code=-32601, message="Method not found", data=method) from None
            entry = self._lowlevel.get_request_handler(method)
            if entry is None:
                raise MCPError(code=-32601, message="Method not found", data=method)
            typed = entry.params_type.model_validate({} if params is None else params, by_name=False)
            result = await entry.handler(ctx, typed)
            if isinstance(result, ErrorData):
                raise MCPError.from_error_data(result)
            return self._serialize(method, version, result)

        call: CallNext = inner
        for middleware in reversed(self._server.middleware):
            if middleware is not self:
                call = partial(_apply, middleware, call)
        return _dump_result(await call(ctx))

    def _serialize(self, method: str, version: str, result: HandlerResult) -> dict[str, Any]:
        """The SDK runner's `_serialize` for a handshake-era version (no cache hint: `_ready` checked)."""
        dumped = _dump_result(result)
        if method in _methods.SPEC_CLIENT_METHODS:
            try:
                dumped = _methods.serialize_server_result(method, version, dumped)
            except ValidationError:
                logger.exception("handler for %r returned an invalid result", method)
                raise MCPError(code=INTERNAL_ERROR, message="Handler returned an invalid result") from None
        return dumped
