"""The agent: the Python API and the engine seams.

    facade.py       Agent: the Python API over one Runtime (`k2_host.runtime`)
    engine.py       Engine (the interface both engines implement) and Run (one request, as an engine sees it)
    loop.py         ModelEngine: the tool-calling loop over an LLM provider
    middleware.py   loop middleware: request, model step and tool call hooks
    local_tools.py  host-side tools offered beside the MCP tools
    fanout.py       sub-agents (agent.delegate, the offline engine's split questions)
    sampling.py     a server's sampling request answered by the host's model

The offline engine lives in `k2_host.engine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k2_host.llm.base import Usage
from k2_host.results import AgentResult, FanOutResult

if TYPE_CHECKING:
    from k2_host.agent.facade import Agent

__all__ = ["Agent", "AgentResult", "FanOutResult", "Usage"]


def __getattr__(name: str) -> Any:
    # `Agent` is imported when asked for: the runtime imports this package's modules, and the facade the runtime.
    if name == "Agent":
        from k2_host.agent.facade import Agent

        return Agent
    raise AttributeError(name)
