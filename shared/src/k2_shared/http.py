"""The HTTP side of every server: Streamable HTTP at /mcp, legacy SSE at /sse, /healthz and /metrics.

Layers, outermost first:
1. `HostOriginGuard`: DNS-rebinding protection on every route, answering 403 for a Host or Origin that is not
   allowed (the SDK's own check, which stays on with the same lists, answers 421 for a bad Host).
2. `BearerAuthMiddleware` when auth is configured.
3. The SDK's Starlette app, given explicit `TransportSecuritySettings` and the body cap (413).
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import uvicorn
from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from k2_shared.auth import PROTECTED_RESOURCE_PATH, BearerAuthMiddleware, build_verifier, send_plain
from k2_shared.auth import protected_resource_metadata as _prm
from k2_shared.settings import ServerSettings, is_loopback
from k2_shared.telemetry import Telemetry

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def security_settings(settings: ServerSettings) -> TransportSecuritySettings:
    """Explicit allow-lists: loopback names when bound to loopback, plus whatever the user listed."""
    hosts: list[str] = []
    origins: list[str] = []
    if is_loopback(settings.host):
        for name in LOOPBACK_HOSTS:
            hosts += [name, f"{name}:*"]
            origins += [f"http://{name}", f"http://{name}:*", f"https://{name}", f"https://{name}:*"]
    hosts += settings.allowed_hosts
    origins += settings.allowed_origins
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def _matches(value: str, allowed: list[str]) -> bool:
    for pattern in allowed:
        if value == pattern:
            return True
        if pattern.endswith(":*"):
            base = pattern[:-2]
            rest = value[len(base) + 1 :] if value.startswith(base + ":") else ""
            if rest.isdigit():
                return True
    return False


class HostOriginGuard:
    """Refuse (403) any HTTP request whose Host or Origin header is not on the allow-lists."""

    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self.app = app
        self.hosts = security.allowed_hosts
        self.origins = security.allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = origin = None
            for name, value in scope["headers"]:
                if name == b"host":
                    host = value.decode("latin-1")
                elif name == b"origin":
                    origin = value.decode("latin-1")
            if host is None or not _matches(host, self.hosts):
                logger.warning("refused Host header", extra={"host": host})
                await send_plain(send, 403, b"Host header not allowed\n")
                return
            if origin is not None and not _matches(origin, self.origins):
                logger.warning("refused Origin header", extra={"origin": origin})
                await send_plain(send, 403, b"Origin not allowed\n")
                return
        await self.app(scope, receive, send)


def build_http_app(server: MCPServer[Any], settings: ServerSettings, telemetry: Telemetry) -> ASGIApp:
    """The whole ASGI app for `settings.transport` (streamable-http or sse), security layers included."""
    security = security_settings(settings)

    @server.custom_route("/healthz", methods=["GET"], include_in_schema=False)
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "server": server.name})

    @server.custom_route("/metrics", methods=["GET"], include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return Response(telemetry.prometheus_text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    if settings.resource_url:

        @server.custom_route(PROTECTED_RESOURCE_PATH, methods=["GET"], include_in_schema=False)
        async def resource_metadata(request: Request) -> Response:
            return Response(_prm(settings), media_type="application/json")

    app: ASGIApp
    if settings.transport == "sse":
        app = server.sse_app(
            sse_path="/sse",
            message_path="/messages/",
            max_request_body_size=settings.max_body_bytes,
            transport_security=security,
            host=settings.host,
        )
    else:
        app = server.streamable_http_app(
            streamable_http_path="/mcp",
            max_request_body_size=settings.max_body_bytes,
            transport_security=security,
            host=settings.host,
        )
    verifier = build_verifier(settings)
    if verifier is not None:
        app = BearerAuthMiddleware(app, verifier, settings.resource_url)
    return HostOriginGuard(app, security)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before serving so that port 0 resolves to a real port we can log.

    The protocol is named (IPPROTO_TCP, not 0): asyncio turns Nagle off (TCP_NODELAY) only on connections whose
    socket says it is TCP, and with Nagle on, a response written in two parts (head, then body) waits for the
    client's delayed ACK, about 40 ms on every keep-alive request after the first."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def serve_http(app: ASGIApp, settings: ServerSettings, server_name: str) -> None:
    sock = bind_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    path = "/sse" if settings.transport == "sse" else "/mcp"
    host = f"[{settings.host.strip('[]')}]" if ":" in settings.host else settings.host
    url = f"http://{host}:{port}{path}"
    # http="h11" always: with httptools installed (uvicorn[standard], which other packages pull in) uvicorn
    # would switch parsers, and httptools keeps the whitespace around header values that RFC 9110 says to
    # drop — the 2026-07-28 Mcp-Name/Mcp-Method checks then refuse valid requests.
    config = uvicorn.Config(
        app,
        http="h11",
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    logger.info("listening", extra={"server": server_name, "transport": settings.transport, "url": url})
    await uvicorn.Server(config).serve(sockets=[sock])
