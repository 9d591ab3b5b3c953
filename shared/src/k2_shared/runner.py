"""Run any K2 server over the configured transport: the one `main()` every console script shares."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server._otel import OpenTelemetryMiddleware  # the SDK's span middleware; its docs say how to drop it

from k2_shared.auth import AuthConfigError
from k2_shared.heap import settle_heap
from k2_shared.http import build_http_app, serve_http
from k2_shared.logs import configure_logging
from k2_shared.otlp import OtlpConfigError
from k2_shared.settings import ServerSettings
from k2_shared.stdio import serve_stdio
from k2_shared.telemetry import Telemetry, ToolMetricsMiddleware, setup_telemetry

logger = logging.getLogger(__name__)


def instrument(server: MCPServer[Any], telemetry: Telemetry) -> None:
    """Add tool-call metrics to a server. Spans come from the SDK's own OpenTelemetry middleware, which is
    dropped when nothing exports them (about a tenth of a small call's cost, for spans nobody would see)."""
    if not telemetry.exporting:
        server.middleware[:] = [m for m in server.middleware if not isinstance(m, OpenTelemetryMiddleware)]
    server.middleware.append(ToolMetricsMiddleware(telemetry))


def run_server(prog: str, settings: ServerSettings, build: Callable[[], MCPServer[Any]]) -> None:
    """Configure logging and telemetry, build the server and serve it until EOF (stdio) or a signal (HTTP)."""
    configure_logging(settings.log_level)
    try:
        telemetry = setup_telemetry(prog, settings.otlp_endpoint)
    except OtlpConfigError as exc:
        raise SystemExit(f"{prog}: {exc}") from None
    server = build()
    instrument(server, telemetry)
    settle_heap()
    try:
        if settings.transport == "stdio":
            anyio.run(serve_stdio, server)
        else:
            app = build_http_app(server, settings, telemetry)
            anyio.run(serve_http, app, settings, prog)
    except AuthConfigError as exc:
        raise SystemExit(f"{prog}: {exc}") from None
    except KeyboardInterrupt:
        logger.info("interrupted")
