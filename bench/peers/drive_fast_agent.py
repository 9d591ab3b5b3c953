"""fast-agent: one `@fast.agent` on the `generic` (OpenAI-compatible) provider, the server from its config file.

History is off so that each request starts from an empty conversation, as with the other hosts.
"""

# pyright: reportMissingImports=false
# (its imports live in the peer's venv, bench/.peers/<peer>, not the project's)

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from common import drive, server_env, settings, status_kb
from fast_agent import FastAgent
from fast_agent.llm.request_params import RequestParams


def write_config(cfg: dict[str, str]) -> Path:
    # JSON is YAML: no YAML writer is needed.
    config = {
        "default_model": "generic.scripted",
        "generic": {"api_key": "dummy", "base_url": cfg["base_url"]},
        "logger": {"type": "none", "progress_display": False, "show_chat": False, "show_tools": False},
        "mcp": {
            "servers": {"filesystem": {"command": cfg["fs"], "args": ["--root", cfg["root"]], "env": server_env()}}
        },
    }
    path = Path(tempfile.mkdtemp(prefix="k2-peers-fa-")) / "fastagent.config.yaml"
    path.write_text(json.dumps(config))
    return path


async def main() -> None:
    cfg = settings()
    imported = status_kb("VmRSS")
    fast = FastAgent("bench", config_path=str(write_config(cfg)), parse_cli_args=False, quiet=True, isolated=True)

    @fast.agent(
        name="bench",
        instruction="Use the tools.",
        servers=["filesystem"],
        model="generic.scripted",
        use_history=False,
        request_params=RequestParams(max_iterations=30),
    )
    async def bench() -> None: ...

    async with fast.run() as app:

        async def ask(prompt: str) -> object:
            answer = await app.bench.send(prompt)
            assert answer == "done", answer
            return answer

        await drive(ask, imported)


if __name__ == "__main__":
    asyncio.run(main())
