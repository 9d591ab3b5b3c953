"""K2 database MCP server: DuckDB, read-only by default, one statement per call."""

__version__ = "0.1.0"
