"""K2 websearch MCP server."""
