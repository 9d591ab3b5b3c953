"""The REST API's Starlette application (see `k2_host.api`).

OpenAI-compatible: `GET /v1/models` and `POST /v1/chat/completions` (JSON, or `stream: true` for
`chat.completion.chunk` server-sent events ending in `data: [DONE]`), so the `openai` SDKs, Open WebUI and
LibreChat work unchanged. The host's own work (tool calls, citations, the engine) rides in a `k2` field the
SDKs ignore; tool calls are the host's own steps, never client-side tool calls. Also `GET /v1/servers`,
`/healthz` and `/readyz` (open), and every response carries errors as `{"error": {"message", "type", "code",
"param"}}`.

Every request but the probes needs `Authorization: Bearer <API key or JWT>` (unless the server runs with
`auth=False`, on loopback only); a token in the query string is refused. Each caller has a token bucket
(`rate_per_minute`, `burst`); bodies over `max_body_bytes` get 413. Every request, tool call and permission
denial is a record in the audit log.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Any, Literal

import anyio
from k2_shared.auth import BearerVerifier
from k2_shared.http import HostOriginGuard
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from k2_host import tracing
from k2_host.api.audit import AuditLog
from k2_host.api.http import ApiError, BodyLimit, Bucket, EventStream, Producer, Writer, public_message, read_json
from k2_host.api.keys import KeyStore
from k2_host.api.metrics import ApiMetrics
from k2_host.api.native import Endpoint, NativeApi, result_facts
from k2_host.api.openapi import Operation, document
from k2_host.api.roles import ROLES, Principal, RolePolicy, allowed, current_principal
from k2_host.api.runs import RunTracker, current_run
from k2_host.llm.base import Message as ChatMessage
from k2_host.mcp.middleware import CallContext, CallNext
from k2_host.mcp.types import ToolInfo, ToolResult
from k2_host.results import AgentEvent, AgentResult
from k2_host.runtime import Runtime

logger = logging.getLogger(__name__)

MODEL_ID = "k2"
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # not audited (probes, polled)
WEB_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
QUERY_TOKEN_NAMES = frozenset({"api_key", "apikey", "key", "token", "access_token", "authorization"})


@dataclass
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    auth: bool = True  # False: every caller is "local" with the admin role (loopback only; serve.py checks)
    rate_per_minute: float = 600.0
    burst: int = 60
    max_body_bytes: int = 1024 * 1024
    jwt_key: str | bytes | None = None  # an HS* secret or an RS*/ES* public key (PEM)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    approval_timeout_s: float = 300.0  # a paused tool call nobody decides on is denied after this


# ------------------------------------------------------------------------------------------ request bodies


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatTurn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type in ("text", "input_text"))
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, tools ...: accepted, the host decides
    model: str = Field(min_length=1, max_length=200)
    messages: list[ChatTurn] = Field(min_length=1, max_length=1000)
    stream: bool = False
    stream_options: StreamOptions | None = None


# ------------------------------------------------------------------------------------------ ASGI layers


class AuditRequests:
    """One audit record per HTTP request but the probes: method, path, status, and the caller once known."""

    def __init__(self, app: ASGIApp, audit: AuditLog) -> None:
        self.app, self.audit = app, audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                principal: Principal | None = state.get("principal")
                self.audit.append(
                    "http_request",
                    principal.subject if principal else "anonymous",
                    principal.role if principal else None,
                    method=scope["method"],
                    path=scope["path"][:200],
                    status=message["status"],
                    ms=round((time.perf_counter() - started) * 1000, 3),
                )
            await send(message)

        await self.app(scope, receive, sending)


# ------------------------------------------------------------------------------------------ the service


class ApiService:
    def __init__(self, runtime: Runtime, keys: KeyStore, audit: AuditLog, settings: ApiSettings) -> None:
        self.runtime, self.keys, self.audit, self.settings = runtime, keys, audit, settings
        self.ready = False
        self.started = int(time.time())
        self.native = NativeApi(self, approval_timeout_s=settings.approval_timeout_s)
        self.metrics = ApiMetrics.for_runtime(runtime)
        self.metrics.runs_active.set_function(lambda: len(self.native.runs.running()))
        self._buckets: dict[str, Bucket] = {}
        self._jwt = (
            BearerVerifier(
                [], settings.jwt_key, _algorithms(settings.jwt_key), settings.jwt_issuer, settings.jwt_audience
            )
            if settings.jwt_key is not None
            else None
        )

    # -- authentication and permission

    def authenticate(self, request: Request, permission: str) -> Principal:
        if any(name.lower() in QUERY_TOKEN_NAMES for name in request.query_params):
            raise ApiError(400, "credentials go in the Authorization header, never in the URL", code="token_in_url")
        principal = self._principal(request)
        request.scope.setdefault("state", {})["principal"] = principal
        if len(self._buckets) > 10_000 and principal.subject not in self._buckets:
            self._buckets.pop(next(iter(self._buckets)))  # the oldest caller's bucket
        wait = self._buckets.setdefault(
            principal.subject, Bucket(self.settings.rate_per_minute / 60, self.settings.burst)
        ).take()
        if wait > 0:
            raise ApiError(
                429,
                "too many requests for this key; slow down",
                kind="rate_limit_error",
                code="rate_limited",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        if not allowed(principal.role, permission):
            self.audit.append(
                "permission_denied", principal.subject, principal.role, permission=permission, path=request.url.path
            )
            raise ApiError(
                403,
                f"role {principal.role} may not {permission.replace('_', ' ')}",
                kind="permission_error",
                code="forbidden",
            )
        return principal

    def _principal(self, request: Request) -> Principal:
        if not self.settings.auth:
            return Principal("local", "admin", "none")
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("send an API key or a JWT as `Authorization: Bearer <token>`")
        token = token.strip()
        if token.startswith("k2_"):
            key = self.keys.verify(token)
            if key is None:
                raise _unauthorized("the API key is unknown or revoked")
            return Principal(f"key:{key.id}", key.role, "api-key")
        if self._jwt is None:
            raise _unauthorized("the token is not an API key of this server (JWTs are not configured)")
        found = self._jwt.verify(token)
        if found is None:
            raise _unauthorized("the JWT is invalid, expired, or for another audience or issuer")
        role = found.claims.get("role")
        if role not in ROLES:
            raise ApiError(
                403, f"the JWT's role claim must be one of {', '.join(ROLES)}", kind="permission_error", code="no_role"
            )
        return Principal(f"jwt:{found.subject}", str(role), "jwt")

    # -- the runtime's hooks

    def on_denied(self, principal: Principal, info: ToolInfo, why: str) -> None:
        self.audit.append("permission_denied", principal.subject, principal.role, tool=info.name, reason=why)

    async def audit_call(self, ctx: CallContext, call_next: CallNext) -> ToolResult:
        result = await call_next(ctx)
        principal = current_principal.get()
        if principal is not None:
            self.audit.append(
                "tool_call",
                principal.subject,
                principal.role,
                tool=ctx.name,
                outcome="error" if result.is_error else "ok",
                error_code=result.error_code,
            )
        return result

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        async with self.runtime:
            manager = self.runtime.manager
            # "ask" decisions go to the run's caller (approval events); where nobody can be asked (a chat
            # completion), the role policy refuses them.
            manager.policy.interactive = True
            manager.policy.ask = self.native.ask_approval
            manager.policy = RolePolicy(  # type: ignore[assignment]
                manager.policy, self.on_denied, can_ask=lambda: current_run.get() is not None
            )
            manager.use(self.audit_call)
            self.runtime.use(RunTracker())
            self.runtime.use(self.metrics)
            async with anyio.create_task_group() as jobs:
                self.native.jobs.group = jobs
                self.ready = True
                self.audit.append("server_started", "k2", None, engine=self.runtime.engine.name)
                try:
                    yield
                finally:
                    self.ready = False
                    self.native.jobs.group = None
                    jobs.cancel_scope.cancel()  # a running ingest job stops with the server
                    self.audit.append("server_stopped", "k2", None)

    # -- endpoints

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if not self.ready:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ready", "engine": self.runtime.engine.name, "auth": self.settings.auth})

    def _model(self) -> dict[str, Any]:
        engine = self.runtime.engine
        return {
            "id": MODEL_ID,
            "object": "model",
            "created": self.started,
            "owned_by": "k2",
            "k2": {"engine": engine.name, "model": engine.model},
        }

    async def models(self, request: Request) -> Response:
        self.authenticate(request, "models")
        return JSONResponse({"object": "list", "data": [self._model()]})

    async def servers(self, request: Request) -> Response:
        self.authenticate(request, "status")
        return JSONResponse({"object": "list", "data": self.runtime.manager.status()})

    async def chat_completions(self, request: Request) -> Response:
        principal = self.authenticate(request, "ask")
        body = await read_json(request, ChatRequest)
        if body.model != MODEL_ID:
            raise ApiError(
                404,
                f"model {body.model!r} does not exist; GET /v1/models lists {MODEL_ID!r}",
                code="model_not_found",
                param="model",
            )
        if body.messages[-1].role != "user" or not body.messages[-1].text().strip():
            raise ApiError(
                422,
                "the last message must be a user message with text",
                code="invalid_value",
                param=f"messages.{len(body.messages) - 1}",
            )
        query = body.messages[-1].text()
        history = [
            ChatMessage(role="user" if m.role == "user" else "assistant", content=m.text())
            for m in body.messages[:-1]
            if m.role in ("user", "assistant") and m.text().strip()
        ]
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        self.audit.append(
            "request",
            principal.subject,
            principal.role,
            endpoint="chat.completions",
            stream=body.stream,
            messages=len(body.messages),
            id=completion_id,
        )
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return EventStream(self._producer(principal, completion_id, query, history, include_usage))
        token = current_principal.set(principal)
        try:
            result = await self.runtime.ask(query, history=history)
        finally:
            current_principal.reset(token)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": MODEL_ID,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": result.answer},
                        "finish_reason": _finish(result),
                        "logprobs": None,
                    }
                ],
                "usage": _usage(result),
                "k2": result_facts(result),
            }
        )

    def _producer(
        self, principal: Principal, completion_id: str, query: str, history: list[ChatMessage], include_usage: bool
    ) -> Producer:
        created = int(time.time())

        def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
            choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
            body = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL_ID,
                "choices": choices,
                **extra,
            }
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        async def produce(write: Writer) -> None:
            streamed_text = False

            async def on_event(event: AgentEvent) -> None:
                nonlocal streamed_text
                if event.kind == "text" and event.text:
                    streamed_text = True
                    await write(chunk({"content": event.text}))
                elif event.kind in ("tool_start", "tool_end"):
                    step: dict[str, Any] = {"event": event.kind, "tool": event.text}
                    if event.kind == "tool_end":
                        step |= {
                            "is_error": bool(event.data.get("is_error")),
                            "duration_ms": event.data.get("duration_ms"),
                        }
                    await write(chunk({}, k2=step))

            await write(chunk({"role": "assistant", "content": ""}))
            token = current_principal.set(principal)
            try:
                result = await self.runtime.ask(query, history=history, on_event=on_event)
            except Exception as exc:  # the client gets an error event, the log the traceback
                logger.exception("a streamed request failed")
                error = {"message": public_message(exc), "type": "server_error", "code": None, "param": None}
                await write(f"data: {json.dumps({'error': error})}\n\n")
                await write("data: [DONE]\n\n")
                return
            except BaseException:
                self.audit.append("request_cancelled", principal.subject, principal.role, id=completion_id)
                raise
            finally:
                current_principal.reset(token)
            if not streamed_text and result.answer:
                await write(chunk({"content": result.answer}))
            await write(chunk({}, _finish(result), k2=result_facts(result)))
            if include_usage:
                await write(chunk(None, usage=_usage(result)))
            await write("data: [DONE]\n\n")

        return produce

    # -- the application

    def operations(self) -> list[tuple[Operation, Endpoint]]:
        return [
            (Operation("GET", "/healthz", "healthz", "Alive", None), self.healthz),
            (Operation("GET", "/readyz", "readyz", "Ready to answer (503 while starting)", None), self.readyz),
            (Operation("GET", "/v1/models", "listModels", "The host's model", "models"), self.models),
            (Operation("GET", "/v1/servers", "listServers", "The MCP servers and their state", "status"), self.servers),
            (Operation("GET", "/metrics", "metrics", "Prometheus metrics (text format)", "status"), self.prometheus),
            (
                Operation(
                    "POST",
                    "/v1/chat/completions",
                    "createChatCompletion",
                    "OpenAI-compatible chat completion",
                    "ask",
                    ChatRequest,
                    streams=True,
                ),
                self.chat_completions,
            ),
            *self.native.operations(),
        ]

    async def prometheus(self, request: Request) -> Response:
        self.authenticate(request, "status")
        return Response(self.metrics.text(), media_type=CONTENT_TYPE_LATEST)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(document([op for op, _ in self.operations()], _version()))

    async def page(self, request: Request) -> Response:
        """The web page and its two files (open: the page asks for a key and sends it with each call)."""
        name = request.path_params.get("name", "index.html")
        if name not in WEB_FILES:
            raise ApiError(404, "no such file", code="not_found")
        body = (resources.files("k2_host.api") / "web" / name).read_bytes()
        return Response(body, media_type=WEB_FILES[name], headers=PAGE_HEADERS)

    def app_routes(self) -> list[Route]:
        routes = [Route(op.path, handler, methods=[op.method]) for op, handler in self.operations()]
        return [
            *routes,
            Route("/openapi.json", self.openapi, methods=["GET"]),
            Route("/", self.page, methods=["GET"]),
            Route("/static/{name}", self.page, methods=["GET"]),
        ]

    def app(self) -> ASGIApp:
        routes = self.app_routes()

        async def api_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, ApiError)
            return exc.response()

        async def not_found(request: Request, exc: Exception) -> Response:
            status = getattr(exc, "status_code", 404)
            message = "no such endpoint" if status == 404 else "method not allowed on this endpoint"
            return ApiError(status, message, code="not_found" if status == 404 else "method_not_allowed").response()

        async def server_error(request: Request, exc: Exception) -> Response:
            logger.exception("request failed", exc_info=exc)
            return ApiError(500, public_message(exc), kind="server_error").response()

        app = Starlette(
            routes=routes,
            lifespan=self.lifespan,
            exception_handlers={ApiError: api_error, 404: not_found, 405: not_found, Exception: server_error},
        )
        guarded: ASGIApp = HostOriginGuard(BodyLimit(app, self.settings.max_body_bytes), _security(self.settings))
        served: ASGIApp = AuditRequests(self.metrics.asgi(guarded), self.audit)
        tracer = self.runtime.tracing
        return tracing.asgi(served, tracer.tracer) if tracer is not None else served


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401,
        message,
        kind="authentication_error",
        code="invalid_api_key",
        headers={"WWW-Authenticate": 'Bearer realm="k2"'},
    )


def _algorithms(key: str | bytes | None) -> list[str]:
    if key is None:
        return []
    pem = key if isinstance(key, bytes) else key.encode()
    if pem.lstrip().startswith(b"-----BEGIN"):
        return ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
    return ["HS256", "HS384", "HS512"]


def _security(settings: ApiSettings) -> TransportSecuritySettings:
    hosts, origins = [], []
    for name in ("127.0.0.1", "localhost", "[::1]"):
        hosts += [name, f"{name}:*"]
        origins += [f"http://{name}:*", f"https://{name}:*", f"http://{name}", f"https://{name}"]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts + settings.allowed_hosts,
        allowed_origins=origins + settings.allowed_origins,
    )


def _finish(result: AgentResult) -> str:
    return "length" if result.stopped == "max_steps" else "stop"


def _usage(result: AgentResult) -> dict[str, int]:
    u = result.usage
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.input_tokens + u.output_tokens,
    }


def _version() -> str:
    try:
        return metadata.version("k2-host")
    except metadata.PackageNotFoundError:
        return "0.0.0"
