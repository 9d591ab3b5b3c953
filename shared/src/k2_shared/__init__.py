"""Runtime shared by every K2 MCP server: settings, logging, telemetry, HTTP security, auth and transports."""

__version__ = "0.1.0"
