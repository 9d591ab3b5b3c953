"""The offline engine's plans: one module each, registered in a `PlanRegistry`, not dispatched by name.

A `Plan` is a named, described recipe of MCP tool calls that answers a kind of question extractively:

    PLAN = Plan(name="files", server="filesystem", description="find facts in the project's local files ...",
                run=run, order=0)

    async def run(p: PlanRun, query: str) -> str | None:   # the answer text, or None to fall through
        res = await p.call("filesystem.grep", {...})
        ...

The router (`k2_host.engine.offline`) tries plans in order: one whose `sign` matches the query first (then its
`after` plans), else the `routed` plans ranked by embedding similarity to their descriptions; a plan with
`precedes` goes before those plans when it is available. A plan runs only when its `server` is configured (and
`available`, when given, says yes). The skills layer registers more plans the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from k2_host.engine.plan_run import PlanRun

PlanFn = Callable[["PlanRun", str], Awaitable[str | None]]


@dataclass(frozen=True)
class Plan:
    name: str
    description: str  # what it answers: the router embeds it
    run: PlanFn
    server: str | None = None  # the server it needs (None: none)
    sign: Callable[[str], bool] | None = None  # an explicit sign in the query that routes here first
    after: tuple[str, ...] = ()  # plans to try next when `sign` matched
    routed: bool = True  # ranked by similarity when no sign matched
    order: int = 100  # position among the routed plans when there are no embeddings
    precedes: tuple[str, ...] = ()  # go before these plans when it is available
    available: Callable[[PlanRun], bool] | None = field(default=None, compare=False)


class PlanRegistry:
    """The plans an offline engine knows, in the order their signs are checked."""

    def __init__(self, plans: list[Plan] | None = None) -> None:
        self._plans: dict[str, Plan] = {}
        for p in plans or []:
            self.register(p)

    def register(self, plan: Plan) -> None:
        if plan.name in self._plans:
            raise ValueError(f"a plan named {plan.name!r} is registered already")
        self._plans[plan.name] = plan

    def get(self, name: str) -> Plan | None:
        return self._plans.get(name)

    def __iter__(self) -> Iterator[Plan]:
        return iter(self._plans.values())

    def __contains__(self, name: str) -> bool:
        return name in self._plans

    def names(self) -> list[str]:
        return list(self._plans)


def builtin_plans() -> PlanRegistry:
    """The plans the offline engine ships with (sign order: a URL, a code block, database words)."""
    from k2_host.engine.plans import code, database, files, knowledge, web

    return PlanRegistry([web.PLAN, code.PLAN, database.PLAN, files.PLAN, knowledge.PLAN])
