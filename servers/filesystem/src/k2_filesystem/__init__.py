"""K2 filesystem MCP server: safe, fast file access under allowed root directories."""

__version__ = "0.1.0"
