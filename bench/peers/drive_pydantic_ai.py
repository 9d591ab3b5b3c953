"""pydantic-ai: `Agent` with `OpenAIChatModel` and the server as an `MCPToolset` over stdio."""

# pyright: reportMissingImports=false
# (its imports live in the peer's venv, bench/.peers/<peer>, not the project's)

from __future__ import annotations

import asyncio

from common import drive, server_env, settings, status_kb
from fastmcp.client.transports import StdioTransport
from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


async def main() -> None:
    cfg = settings()
    imported = status_kb("VmRSS")
    toolset = MCPToolset(StdioTransport(command=cfg["fs"], args=["--root", cfg["root"]], env=server_env()))
    model = OpenAIChatModel("scripted", provider=OpenAIProvider(base_url=cfg["base_url"], api_key="dummy"))
    agent = Agent(model, toolsets=[toolset])
    async with agent:

        async def ask(prompt: str) -> object:
            result = await agent.run(prompt)
            assert result.output == "done", result.output
            return result

        await drive(ask, imported)


if __name__ == "__main__":
    asyncio.run(main())
