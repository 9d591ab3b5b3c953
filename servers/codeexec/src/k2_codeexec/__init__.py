"""K2 code execution MCP server: Python and shell in a bubblewrap sandbox."""
