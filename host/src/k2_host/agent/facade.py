"""The Python API: `Agent`, a thin facade over one `Runtime` (`k2_host.runtime`).

async with Agent.from_config("mcp.json") as agent:
    result = await agent.ask("Which port does the staging server use?")
    print(result.answer, result.tool_calls, result.usage, result.timings)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from k2_host.agent.engine import Engine, EventHandler
from k2_host.agent.middleware import Middleware
from k2_host.config import HostConfig, load_host_config
from k2_host.config.files import terminal_input
from k2_host.context.transcript import Transcript
from k2_host.knowledge import Knowledge
from k2_host.learning.store import Feedback, TrajectoryStore
from k2_host.llm.base import LLMProvider, Message, ToolSpec
from k2_host.mcp.manager import ClientManager
from k2_host.mcp.types import ToolInfo
from k2_host.results import AgentResult, FanOutResult
from k2_host.runtime import Runtime, build_runtime

if TYPE_CHECKING:
    from k2_host.learning.trainer import Learner


class Agent:
    """The host's agent. Use as an async context manager; it owns its runtime (servers, provider, stores)."""

    def __init__(
        self,
        config: HostConfig,
        *,
        provider: LLMProvider | None = None,
        use_llm_config: bool = True,
        use_knowledge: bool = True,
        interactive: bool = False,
        state_dir: Path | None = None,
        manager: ClientManager | None = None,
        ask_approval: Callable[[ToolInfo, dict[str, Any]], Awaitable[bool]] | None = None,
        elicit: Callable[[str, str, dict[str, Any]], Awaitable[dict[str, Any] | None]] | None = None,
        middleware: Sequence[Middleware] = (),
        trajectories: TrajectoryStore | None = None,
        settle_heap: bool = False,
    ) -> None:
        if state_dir is not None:
            config = config.model_copy(update={"state_dir": Path(state_dir)})
        self.runtime: Runtime = build_runtime(
            config,
            provider=provider,
            use_llm_config=use_llm_config,
            use_knowledge=use_knowledge,
            interactive=interactive,
            ask_approval=ask_approval,
            elicit=elicit,
            manager=manager,
            middleware=middleware,
            trajectories=trajectories,
            settle_heap=settle_heap,
        )

    @classmethod
    def from_config(
        cls,
        path: str | Path | None = None,
        *,
        root: str | Path | None = None,
        allow_write: bool = False,
        provider: LLMProvider | None = None,
        interactive: bool = False,
        state_dir: Path | None = None,
        extra_roots: Sequence[Path] = (),
        overrides: dict[str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Agent:
        """An agent from a config file (`mcpServers` / VS Code `servers`), or on the built-in defaults.

        With no `path`, `K2_CONFIG` or <config dir>/k2/mcp.json is used when present; otherwise the four K2
        servers run over stdio with `root` (default: the current directory) as the filesystem root. The
        environment (`K2_<SECTION>_<KEY>`) and `overrides` ({section: {key: value}}) are laid over the file.
        """
        config = load_host_config(
            path,
            root=root,
            allow_write=allow_write,
            extra_roots=extra_roots,
            state=state_dir,
            overrides=overrides,
            ask=terminal_input if interactive else None,
        )
        return cls(config, provider=provider, interactive=interactive, **kwargs)

    async def __aenter__(self) -> Agent:
        await self.runtime.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.runtime.__aexit__(*exc)

    # The runtime's parts, for callers of the Python API.

    @property
    def config(self) -> HostConfig:
        return self.runtime.config

    @property
    def manager(self) -> ClientManager:
        return self.runtime.manager

    @property
    def provider(self) -> LLMProvider | None:
        return self.runtime.provider

    @property
    def knowledge(self) -> Knowledge | None:
        return self.runtime.knowledge

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    @property
    def trajectories(self) -> TrajectoryStore | None:
        return self.runtime.trajectories

    def tool_specs(self, *, delegate: bool = True) -> list[ToolSpec]:
        """The tools offered to the model (`agent.delegate` last, for top-level requests)."""
        return self.runtime.tool_specs(depth=0 if delegate else 1)

    async def ask(
        self,
        query: str,
        *,
        on_event: EventHandler | None = None,
        history: Sequence[Message] = (),
        session: str | Transcript | None = None,
        max_steps: int | None = None,
        depth: int = 0,
        skill: str | None = None,
    ) -> AgentResult:
        """Answer one request (see `Runtime.ask`); `skill`: with this skill. Never raises for tool or server
        failures."""
        return await self.runtime.ask(
            query, session=session, history=history, on_event=on_event, max_steps=max_steps, depth=depth, skill=skill
        )

    async def fan_out(
        self,
        tasks: Sequence[str],
        *,
        workers: int | None = None,
        on_event: EventHandler | None = None,
        depth: int = 1,
    ) -> FanOutResult:
        """Run one sub-agent per task, at most `workers` at once, and merge their answers in task order."""
        return await self.runtime.fan_out(tasks, workers=workers, on_event=on_event, depth=depth)

    async def feedback(
        self, answer: AgentResult | str, rating: Literal["good", "bad"], *, note: str = "", skill: str = ""
    ) -> None:
        """Rate an answer (a result of `ask`, or its `request_id`): `skill` names the skill that should have
        answered it ("none": no skill), `note` what was right or wrong. `learner().train()` learns from it."""
        store = self.runtime.trajectories
        if store is None:
            raise ValueError("learning.record is off: no answers are kept to rate")
        if skill and skill != "none":
            self.runtime.skills.registry.require(skill)
        request_id = answer.request_id if isinstance(answer, AgentResult) else answer
        if not await store.add_feedback(Feedback(trajectory_id=request_id, rating=rating, note=note, skill=skill)):
            raise ValueError(f"no recorded answer {request_id!r} (it may have been dropped as the oldest)")

    def learner(self) -> Learner:
        """The training layer (`train`, `gate`, `promote`, `rollback`) over this agent's stores and skills."""
        return self.runtime.learner()
