"""K2 host: the agent process. It reaches the K2 servers (and any other MCP server) only as an MCP client."""
