"""Serve an MCP server over stdin/stdout, reading and writing the pipes from the event loop itself.

The SDK's `stdio_server` hands every line read, every message written and every flush to a worker thread:
three thread hand-offs per call, each a wake-up of a worker and then of the loop. Here the pipes are
non-blocking and served by asyncio, so the streams handed to the SDK's `Server.run` cost no thread at all:

- reading: the pipe is read in chunks as they arrive; each complete line is parsed by the SDK's own JSON-RPC
  message validator and queued for the server, in order.
- writing: an answer goes out at once when no other request is waiting for one; while others are in flight,
  answers wait for the loop to go quiet (a few turns, bounded) and share one write, and the client one read.
  A slow reader pauses the senders instead of filling memory.
- safety, as the SDK does it: while serving, fd 0 reads the null device and fd 1 points at stderr, so a
  handler or child that prints cannot corrupt the JSON-RPC stream; both are restored on exit.
- bad input (checked where the SDK only logs and drops it): a line that is not JSON is answered with a
  JSON-RPC parse error (-32700, id null), a request that is JSON but no valid message with -32600 and its
  id; a line longer than `max_line_bytes` is dropped and answered -32700. Other junk is logged and skipped.
  Invalid UTF-8 is decoded with replacement characters, as the SDK does.

Where stdin or stdout is not a pipe or socket (a file, a terminal), or the event loop is not asyncio, the
SDK's `stdio_server` serves instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any, Self

import anyio
import orjson
from mcp.server import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import (
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)
from pydantic import ValidationError

from k2_shared.leancall import LeanToolCalls

if sys.platform != "win32":
    import fcntl

logger = logging.getLogger(__name__)


def encode(message: JSONRPCMessage) -> bytes:
    """One message as a line of JSON. A response (most of the bytes: tool results) is written by orjson from
    its fields, about six times faster than pydantic for a listing of a thousand entries and the same bytes;
    anything orjson will not take (an int past 64 bits, a non-string key) goes the pydantic way."""
    if type(message) is JSONRPCResponse:
        try:
            return orjson.dumps({"jsonrpc": message.jsonrpc, "id": message.id, "result": message.result}) + b"\n"
        except TypeError:
            pass
    return message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"


MAX_LINE_BYTES = 128 * 1024 * 1024
"""Longest line accepted: room for the largest write the servers allow, JSON-escaped."""

_INBOX_HIGH = 512
"""Parsed messages waiting for the server before reading pauses (it resumes at half)."""

_BATCH_BYTES = 256 * 1024
"""Answers waiting to be written beyond this size are written at once."""

_QUIET_TURNS = 3
"""Turns of the event loop with nothing new to send after which waiting answers are written."""

_BATCH_TURNS = 64
"""Most turns of the event loop an answer waits for others to join its write."""

_DRAIN_TIMEOUT_S = 60.0
"""After stdin closes, how long requests already read may still run to be answered (a client that sends and
closes, like a shell pipe, still gets every answer)."""

_CLOSE_TIMEOUT_S = 5.0
"""How long closing waits for the last answers to drain into a client that stopped reading."""


async def serve_stdio(server: MCPServer[Any]) -> None:
    """Serve `server` over this process's stdin and stdout until stdin reaches EOF."""
    if not _can_serve_pipes(0, 1):
        lowlevel = server._lowlevel_server  # the SDK's own run_stdio_async does the same
        async with stdio_server() as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
        return
    async with claim_std_streams() as (in_fd, out_fd):
        await serve_pipes(server, in_fd, out_fd)


async def serve_pipes(server: MCPServer[Any], in_fd: int, out_fd: int, *, lean: bool = True) -> None:
    """Serve `server` over two pipe descriptors (left open) until EOF; with `lean`, plain tools/call requests
    take the lean path (`k2_shared.leancall`), the rest the SDK's."""
    lowlevel = server._lowlevel_server
    options = lowlevel.create_initialization_options()
    calls = LeanToolCalls.install(server) if lean else None
    try:
        async with pipe_streams(in_fd, out_fd, lean=calls) as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, options)
    finally:
        if calls is not None:
            calls.remove()


def _can_serve_pipes(in_fd: int, out_fd: int) -> bool:
    if sys.platform == "win32":
        return False
    try:
        asyncio.get_running_loop()
        modes = os.fstat(in_fd), os.fstat(out_fd)
    except (RuntimeError, OSError):
        return False
    if not all(stat.S_ISFIFO(m.st_mode) or stat.S_ISSOCK(m.st_mode) for m in modes):
        return False
    # One socket as both stdin and stdout: asyncio's write side would take incoming data for a hang-up.
    return (modes[0].st_dev, modes[0].st_ino) != (modes[1].st_dev, modes[1].st_ino)


@asynccontextmanager
async def claim_std_streams() -> AsyncIterator[tuple[int, int]]:
    """Move the wire to private descriptors; point fd 0 at the null device and fd 1 at stderr meanwhile."""
    in_fd = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    try:
        out_fd = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    except OSError:
        os.close(in_fd)
        raise
    blocking = os.get_blocking(in_fd), os.get_blocking(out_fd)
    try:
        null = os.open(os.devnull, os.O_RDWR)
        try:
            os.dup2(null, 0)
            try:
                os.dup2(2, 1)
            except OSError:  # no stderr: stray output goes nowhere
                os.dup2(null, 1)
        finally:
            os.close(null)
        yield in_fd, out_fd
    finally:
        with suppress(Exception):
            sys.stdout.flush()  # what a handler printed goes to stderr, not after our last answer
        os.dup2(in_fd, 0)
        os.dup2(out_fd, 1)
        os.set_blocking(0, blocking[0])
        os.set_blocking(1, blocking[1])
        os.close(in_fd)
        os.close(out_fd)


@asynccontextmanager
async def pipe_streams(
    in_fd: int, out_fd: int, *, max_line_bytes: int = MAX_LINE_BYTES, lean: LeanToolCalls | None = None
) -> AsyncIterator[tuple[Inbox, Outbox]]:
    """JSON-RPC message streams over two pipe descriptors, for `Server.run`. The descriptors stay open."""
    loop = asyncio.get_running_loop()
    inbox = Inbox(loop)
    writer = _WriteProtocol(on_lost=lambda: inbox.end(drain=False))  # nobody reads answers any more
    w_transport, _ = await loop.connect_write_pipe(lambda: writer, os.fdopen(out_fd, "wb", 0, closefd=False))
    outbox = Outbox(loop, w_transport, writer)
    inbox.pending = lambda: bool(outbox.awaiting)
    outbox.on_all_answered = inbox.wake
    if lean is not None:
        lean.outbox = outbox
        lean.queued = inbox.queued
        lean.on_taken = outbox.awaiting.add
    reader = _LineReader(inbox, outbox, max_line_bytes, lean)
    try:
        r_transport, _ = await loop.connect_read_pipe(lambda: reader, os.fdopen(in_fd, "rb", 0, closefd=False))
    except BaseException:
        w_transport.abort()
        raise
    inbox.bind(r_transport)
    try:
        yield inbox, outbox
    finally:
        r_transport.close()
        with anyio.CancelScope(shield=True):
            await outbox.aclose()
            await reader.closed


class Inbox:
    """The read side (the SDK's `ReadStream` protocol): parsed messages in arrival order, then EOF."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: deque[SessionMessage] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.ReadTransport | None = None
        self._paused = False
        self._eof = False
        self._draining = False
        self._closed = False
        self.pending: Callable[[], bool] = lambda: False
        """Whether requests already read are still unanswered (EOF is held back until they are)."""

    def bind(self, transport: asyncio.ReadTransport) -> None:
        self._transport = transport

    def put(self, message: JSONRPCMessage) -> None:
        if self._closed:
            return
        self._items.append(SessionMessage(message))
        if len(self._items) >= _INBOX_HIGH and self._transport is not None and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        self._wake()

    def end(self, drain: bool = True) -> None:
        """The input is over. With `drain`, EOF is held back until the requests read so far are answered, at
        most `_DRAIN_TIMEOUT_S`; without it (the client stopped reading too), EOF is immediate."""
        if not self._eof and drain:
            self._draining = True
            self._loop.call_later(_DRAIN_TIMEOUT_S, self._stop_draining)
        elif not drain:
            self._draining = False
        self._eof = True
        self._wake()

    def _stop_draining(self) -> None:
        self._draining = False
        self._wake()

    def wake(self) -> None:
        self._wake()

    def queued(self) -> bool:
        """Whether messages read are still waiting for the server."""
        return bool(self._items)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def receive(self) -> SessionMessage:
        while not self._items:
            if self._closed:
                raise anyio.ClosedResourceError
            if self._eof and not (self._draining and self.pending()):
                raise anyio.EndOfStream
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._paused and len(self._items) <= _INBOX_HIGH // 2 and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        return self._items.popleft()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self._closed = True
        self._items.clear()
        self._wake()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_val: BaseException | None, exc_tb: TracebackType | None
    ) -> bool | None:
        await self.aclose()
        return None


class Outbox:
    """The write side (the SDK's `WriteStream` protocol), writing answers in batches.

    Answers are written at once when no request is left waiting for one (a client with one request in flight
    is never kept waiting). While others are still being handled, the write waits for the event loop to
    go quiet - a few turns with nothing new to send - so answers to requests in flight together share a write
    and the client a read; the batch is bounded in turns and bytes.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.WriteTransport, protocol: _WriteProtocol):
        self._loop = loop
        self._transport = transport
        self._protocol = protocol
        self._chunks: list[bytes] = []
        self._bytes = 0
        self._flush_handle: asyncio.Handle | None = None
        self._turns = 0
        self._quiet_turns = 0
        self._seen = 0
        self._closed = False
        self.awaiting: set[RequestId] = set()
        """Ids of the requests read and not yet answered."""
        self.on_all_answered: Callable[[], None] = lambda: None
        """Called when the last request waiting for an answer gets it."""

    async def send(self, item: SessionMessage) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        if self._protocol.lost:
            raise anyio.BrokenResourceError
        self.send_nowait(item.message)
        if self._protocol.paused:
            await self._protocol.drained()

    def send_nowait(self, message: JSONRPCMessage) -> None:
        if self._closed:
            return
        data = encode(message)
        self._chunks.append(data)
        self._bytes += len(data)
        if isinstance(message, JSONRPCResponse | JSONRPCError) and message.id is not None and self.awaiting:
            self.awaiting.discard(message.id)
            if not self.awaiting:
                self.on_all_answered()
        if not self.awaiting or self._bytes >= _BATCH_BYTES:
            self._flush()
        elif self._flush_handle is None:
            self._turns = self._quiet_turns = 0
            self._seen = len(self._chunks)
            self._flush_handle = self._loop.call_soon(self._flush_when_quiet)

    def _flush_when_quiet(self) -> None:
        self._flush_handle = None
        if len(self._chunks) == self._seen:
            self._quiet_turns += 1
        else:
            self._seen = len(self._chunks)
            self._quiet_turns = 0
        self._turns += 1
        if self._chunks and self._quiet_turns < _QUIET_TURNS and self._turns < _BATCH_TURNS:
            self._flush_handle = self._loop.call_soon(self._flush_when_quiet)
        else:
            self._flush()

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._chunks and not self._protocol.lost:
            self._transport.write(b"".join(self._chunks))
        self._chunks.clear()
        self._bytes = 0

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._flush()
        with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
            while self._protocol.paused and not self._protocol.lost:
                await self._protocol.drained()
            self._transport.close()  # writes what the transport still buffers, then closes
            await self._protocol.closed
        if not self._protocol.lost:
            self._transport.abort()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc_val: BaseException | None, exc_tb: TracebackType | None
    ) -> bool | None:
        await self.aclose()
        return None


class _WriteProtocol(asyncio.BaseProtocol):
    def __init__(self, on_lost: Callable[[], None]) -> None:
        self._on_lost = on_lost
        self.paused = False
        self.lost = False
        self._drain: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._release()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            logger.warning("stdout closed under the server", extra={"error": repr(exc)})
        self.lost = True
        self.paused = False
        self._release()
        if not self.closed.done():
            self.closed.set_result(None)
        self._on_lost()  # nobody can hear us any more: end the session as at EOF

    def _release(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    async def drained(self) -> None:
        if not self.paused:
            return
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._drain)


class _LineReader(asyncio.Protocol):
    """Cuts the byte stream into lines and each line into a JSON-RPC message (or an error answer)."""

    def __init__(self, inbox: Inbox, outbox: Outbox, max_line_bytes: int, lean: LeanToolCalls | None) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._lean = lean
        self._max = max_line_bytes
        self._parts: list[bytes] = []  # the unfinished line, in pieces, so a long line is copied once
        self._size = 0
        self._skipping = False  # inside a line that was too long, until its newline
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        start = 0
        end = data.find(b"\n")
        if end >= 0 and (self._parts or self._skipping):
            if not self._skipping:
                self._line(b"".join([*self._parts, data[:end]]))
            self._parts.clear()
            self._size = 0
            self._skipping = False
            start = end + 1
            end = data.find(b"\n", start)
        while end >= 0:
            self._line(data[start:end])
            start = end + 1
            end = data.find(b"\n", start)
        if start < len(data) and not self._skipping:
            self._size += len(data) - start
            if self._size > self._max:
                self._too_long()
            else:
                self._parts.append(data[start:])

    def eof_received(self) -> bool:
        if self._parts and not self._skipping:
            self._line(b"".join(self._parts))  # a last message without its newline still counts
        self._parts.clear()
        self._inbox.end()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._inbox.end()
        if not self.closed.done():
            self.closed.set_result(None)

    def _too_long(self) -> None:
        self._parts.clear()
        self._size = 0
        self._skipping = True
        self._answer_error(None, PARSE_ERROR, f"Parse error: line longer than {self._max} bytes")

    def _line(self, line: bytes) -> None:
        if len(line) > self._max:
            self._answer_error(None, PARSE_ERROR, f"Parse error: line longer than {self._max} bytes")
            return
        if not line or line.isspace():
            return
        if self._lean is not None and self._lean.take(line):
            return
        try:
            message = jsonrpc_message_adapter.validate_json(line, by_name=False)
        except ValidationError as exc:
            message = self._retry_or_reject(line, exc)
            if message is None:
                return
        if isinstance(message, JSONRPCRequest):
            self._outbox.awaiting.add(message.id)
        elif isinstance(message, JSONRPCNotification) and message.method == "notifications/cancelled":
            cancelled = (message.params or {}).get("requestId")
            if isinstance(cancelled, int | str):
                self._outbox.awaiting.discard(cancelled)  # a cancelled request is never answered
        self._inbox.put(message)

    def _retry_or_reject(self, line: bytes, exc: ValidationError) -> JSONRPCMessage | None:
        try:
            text = line.decode()
        except UnicodeDecodeError:
            try:  # as the SDK reads stdin: undecodable bytes become U+FFFD
                return jsonrpc_message_adapter.validate_json(line.decode(errors="replace"), by_name=False)
            except ValidationError as again:
                exc = again
                text = line.decode(errors="replace")
        if exc.errors()[0]["type"] == "json_invalid":
            self._answer_error(None, PARSE_ERROR, "Parse error: " + exc.errors()[0]["msg"])
            return None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # not expected: the validator has parsed it already
            self._answer_error(None, PARSE_ERROR, "Parse error")
            return None
        if not isinstance(data, dict):
            self._answer_error(None, INVALID_REQUEST, "Invalid request: expected one JSON-RPC message object")
            return None
        request_id = data.get("id")
        if "method" in data and isinstance(request_id, int | str) and not isinstance(request_id, bool):
            self._answer_error(request_id, INVALID_REQUEST, "Invalid request: not a valid JSON-RPC message")
            return None
        # A malformed notification or response: JSON-RPC answers neither.
        logger.warning("skipped a line that is no valid JSON-RPC message", extra={"bytes": len(line)})
        return None

    def _answer_error(self, request_id: int | str | None, code: int, message: str) -> None:
        logger.warning("answered a bad line with a JSON-RPC error", extra={"code": code, "error": message})
        self._outbox.send_nowait(
            JSONRPCError(jsonrpc="2.0", id=request_id, error=ErrorData(code=code, message=message))
        )
