"""openai-agents: `Agent` with `OpenAIChatCompletionsModel` and `MCPServerStdio` (tool list cached), tracing off."""

# pyright: reportMissingImports=false
# (its imports live in the peer's venv, bench/.peers/<peer>, not the project's)

from __future__ import annotations

import asyncio

from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
from agents.mcp import MCPServerStdio, MCPServerStdioParams
from common import drive, server_env, settings, status_kb
from openai import AsyncOpenAI


async def main() -> None:
    cfg = settings()
    imported = status_kb("VmRSS")
    set_tracing_disabled(True)  # the default exporter would post every trace to OpenAI
    params = MCPServerStdioParams(command=cfg["fs"], args=["--root", cfg["root"]], env=server_env())
    async with MCPServerStdio(params, cache_tools_list=True, name="filesystem") as server:
        client = AsyncOpenAI(base_url=cfg["base_url"], api_key="dummy", max_retries=0)
        model = OpenAIChatCompletionsModel("scripted", openai_client=client)
        agent = Agent(name="bench", instructions="Use the tools.", mcp_servers=[server], model=model)

        async def ask(prompt: str) -> object:
            result = await Runner.run(agent, prompt, max_turns=30)
            assert result.final_output == "done", result.final_output
            return result

        await drive(ask, imported)


if __name__ == "__main__":
    asyncio.run(main())
