"""The API's HTTP pieces: errors in the OpenAI shape, JSON bodies, the body cap, rate buckets, event streams."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "code": self.code, "param": self.param}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def validation_error(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    param = ".".join(str(p) for p in first["loc"]) or None
    return ApiError(422, f"{param or 'body'}: {first['msg']}", code="invalid_value", param=param)


async def read_json(request: Request, model: type[M]) -> M:
    """The body as `model`: 400 when it is not JSON, 422 naming the first field that is wrong."""
    raw = await request.body()
    try:
        return model.model_validate(json.loads(raw or b"{}"))
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise validation_error(exc) from None
        raise ApiError(400, f"the body is not JSON: {exc}", code="invalid_json") from None


class BodyLimit:
    """413 for a body over the cap, by Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await ApiError(413, f"the body is over {self.limit} bytes", code="body_too_large").response()(
                    scope, receive, send
                )
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise ApiError(413, f"the body is over {self.limit} bytes", code="body_too_large")
            return message

        await self.app(scope, limited, send)


class Bucket:
    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate, self.burst = rate_per_s, float(burst)
        self.tokens, self.at = float(burst), time.monotonic()

    def take(self) -> float:
        """0 when a request may go now, else the seconds until it may."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


Writer = Callable[[str], Awaitable[None]]
Producer = Callable[[Writer], Awaitable[None]]


class EventStream(Response):
    """A server-sent event stream written by `produce(write)`. When the client goes away the producer is
    cancelled (the request it runs with it) and nothing more is written. `on_unstarted` runs when the stream
    fails before the producer starts (what the producer would have cleaned up)."""

    media_type = "text/event-stream"

    def __init__(self, produce: Producer, on_unstarted: Callable[[], None] | None = None) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = [  # no Content-Length: the body is as long as the run
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        self.produce = produce
        self.on_unstarted = on_unstarted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        except BaseException:
            if self.on_unstarted is not None:
                self.on_unstarted()
            raise
        gone = False

        async def write(text: str) -> None:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                nonlocal gone
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone = True
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            try:
                await self.produce(write)
            except OSError:  # the connection broke while writing
                gone = True
            tg.cancel_scope.cancel()
        if not gone:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def public_message(exc: BaseException) -> str:
    if isinstance(exc, ValueError):
        return str(exc)
    return f"the request failed ({type(exc).__name__}); the server log has the details"
