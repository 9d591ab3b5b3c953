"""K2's host (`k2_host.agent.Agent` with `OpenAICompatProvider`), run from the project's venv."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio
from common import drive, server_env, settings, status_kb
from k2_host.agent import Agent
from k2_host.config import CacheConfig, HostConfig, ServerConfig
from k2_host.llm.openai_compat import OpenAICompatProvider


async def main() -> None:
    cfg = settings()
    imported = status_kb("VmRSS")
    server = ServerConfig(name="filesystem", command=cfg["fs"], args=["--root", cfg["root"]], env=server_env())
    config = HostConfig(servers=[server], cache=CacheConfig(enabled=False))
    provider = OpenAICompatProvider(model="scripted", base_url=cfg["base_url"], max_retries=0, key_env=None)
    state = Path(tempfile.mkdtemp(prefix="k2-peers-state-"))
    async with Agent(config, provider=provider, state_dir=state) as agent:

        async def ask(prompt: str) -> object:
            result = await agent.ask(prompt, max_steps=30)
            assert result.stopped == "done", (result.stopped, result.answer)
            return result

        await drive(ask, imported)


if __name__ == "__main__":
    sys.exit(anyio.run(main))
