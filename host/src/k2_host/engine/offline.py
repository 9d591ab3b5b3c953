"""The offline engine: the embedded default when no LLM is configured. It generates no text.

It routes a request to a plan (`k2_host.engine.plans`, one module each) — by an explicit sign a plan declares
(a URL, a code block, database words) and otherwise by embedding similarity between the request and each
plan's description — then runs the plan's deterministic steps as tool calls through the request's `Run`, and
answers extractively: the passages that best match the request (embedding similarity blended with keyword
overlap), quoted with their sources. A plan that finds nothing falls through to the next likely one. A top-level
request of several separate questions is fanned out to one sub-agent per question. Every answer says plainly
that it comes from the offline engine.
"""

from __future__ import annotations

import time

from k2_host.agent.engine import Run
from k2_host.agent.fanout import combine, sub_questions
from k2_host.context.followup import resolve
from k2_host.context.transcript import UserTurn
from k2_host.engine.index import FolderIndexes
from k2_host.engine.plan_run import PlanRun
from k2_host.engine.plans import Plan, PlanRegistry, builtin_plans
from k2_host.rag.embeddings import LazyEmbedder
from k2_host.results import AgentEvent, AgentResult, SkillUse, Step
from k2_host.skills import Route, Skill

# How sure the router must be before a skill's handler, rather than the plans, answers a request: a wrong
# takeover costs more than a miss (the plans still answer), so this is above the router's F1-best threshold.
TAKEOVER = 0.6
BANNER = "[K2 offline engine: no language model; answer extracted from your data]"


def decision(route: Route) -> str | None:
    """The skill the offline engine gives a routed request to (a plan skill names the plans that answer), or None
    when the plans answer it alone: what the training layer scores a router by."""
    if route.skill is None:
        return None
    if route.skill.offline in ("script", "handler") and route.score < TAKEOVER:
        return None
    return route.skill.name


class OfflineEngine:
    """One per runtime; each request gets its own `PlanRun`."""

    name = "offline"
    model = ""

    def __init__(
        self,
        embedder: LazyEmbedder | None = None,
        plans: PlanRegistry | None = None,
        indexes: FolderIndexes | None = None,
    ) -> None:
        self.embedder = embedder
        self.plans = plans if plans is not None else builtin_plans()
        self.indexes = indexes  # the folder index of each root (None: the files plan greps instead)

    async def run(self, run: Run) -> AgentResult:
        started = time.perf_counter()
        p = PlanRun(run, self.embedder, self.indexes)
        query = await resolve(run.query, run.history, p.embed)
        if query != run.query:  # a follow-up, made whole from the conversation
            first = run.turns[0]
            if isinstance(first, UserTurn):
                first.resolved = query
            await run.emit(AgentEvent(kind="notice", text=f"follow-up read as: {query}"))
        await self._context(run)
        if run.depth == 0 and not run.request.skill:  # a skill asked for by name takes the request whole
            parts = sub_questions(query)
            if len(parts) > 1:
                return combine(query, await run.fan_out(parts))
        result = run.result
        answered = await self._skill(run, p, query)
        if answered is not None:
            return answered
        answer: str | None = None
        for plan in await self.route(p, query):
            step = Step(index=len(result.steps), kind="plan", text=plan.name)
            result.steps.append(step)
            p.step = step
            t0 = time.perf_counter()
            await run.emit(AgentEvent(kind="step", text=f"plan: {plan.name}", data={"plan": plan.name}))
            answer = await plan.run(p, query)
            step.duration_ms = (time.perf_counter() - t0) * 1000
            if answer:
                break
        if not answer:
            where = ", ".join(run.roots) or "the configured servers"
            answer = (
                f"I found nothing about this in {where}. Try other words, add files with `k2 ingest`, "
                "or configure a language model (see the README) for open questions."
            )
        result.answer = f"{BANNER}\n{answer}"
        result.timings.total_ms = (time.perf_counter() - started) * 1000
        return result

    async def _skill(self, run: Run, p: PlanRun, query: str) -> AgentResult | None:
        """The request answered by a skill (named, or chosen by the router), or None for the plans to answer."""
        skills = run.runtime.skills
        result = run.result
        score: float | None = None
        if run.request.skill:
            skill: Skill = skills.registry.require(run.request.skill)
            chosen = "named"
        else:
            if not len(skills.registry) or self.embedder is None:
                return None
            route = await skills.route(query, self.embedder)
            if route.skill is None:
                return None
            if decision(route) is None:
                return None  # not sure enough to take the request from the plans (which answer from the files)
            skill, chosen, score = route.skill, "router", round(route.score, 3)
            if skill.offline == "plan":  # the plans route themselves; the skill names what answered
                result.skill = SkillUse(name=skill.name, chosen_by="router", score=score)
                return None
            if skill.offline == "model":
                result.skill = SkillUse(
                    name=skill.name, chosen_by="router", score=score, ok=False, reason="needs_model"
                )
                await run.emit(
                    AgentEvent(
                        kind="notice",
                        text=f"skill {skill.name} fits this request, but it needs a language model; "
                        "answering from your data instead",
                    )
                )
                return None
        step = Step(index=len(result.steps), kind="skill", text=skill.name)
        result.steps.append(step)
        p.step = step
        await run.emit(AgentEvent(kind="step", text=f"skill: {skill.name}", data={"skill": skill.name}))
        cited = len(result.citations)
        outcome = await skills.runner.run(p, skill, query, chosen_by=chosen)
        step.duration_ms = outcome.latency_ms
        result.skill = SkillUse(name=skill.name, chosen_by=chosen, score=score, ok=outcome.ok, reason=outcome.reason)
        if not outcome.ok and chosen == "router" and outcome.reason in ("no_input", "bad_input", "no_result"):
            del result.citations[cited:]  # only what answers is cited (its tool calls stay recorded)
            await run.emit(
                AgentEvent(kind="notice", text=f"skill {skill.name} could not use this request ({outcome.text})")
            )
            return None
        notes = "".join(f"\n(note: {n})" for n in outcome.notices)
        images = f"\n({len(outcome.images)} image(s) attached)" if outcome.images else ""
        result.answer = f"{BANNER}\n[skill: {skill.name}]\n{outcome.text}{notes}{images}"
        if not outcome.ok:
            result.stopped = "error"
            result.errors.append(f"skill {skill.name}: {outcome.reason}")
        result.timings.total_ms = outcome.latency_ms
        return result

    async def _context(self, run: Run) -> None:
        """The context window the offline engine works in (it reads history for follow-ups): for the report."""
        rt = run.runtime
        try:
            await rt.policy.messages(rt.context_view(run, 0, BANNER, []))
        except ValueError:
            return
        run.result.context = rt.policy.report(run.request.request_id)

    def _available(self, p: PlanRun, plan: Plan, servers: set[str]) -> bool:
        if plan.server is not None and plan.server not in servers:
            return False
        return plan.available is None or plan.available(p)

    async def route(self, p: PlanRun, query: str) -> list[Plan]:
        """The plans to try, in order."""
        servers = set(p.run.servers())
        usable = [plan for plan in self.plans if self._available(p, plan, servers)]
        by_name = {plan.name: plan for plan in usable}
        order: list[Plan] | None = None
        for plan in usable:
            if plan.sign is not None and plan.sign(query):
                order = [plan, *(by_name[n] for n in plan.after if n in by_name)]
                break
        if order is None:
            routed = sorted((plan for plan in usable if plan.routed), key=lambda plan: plan.order)
            vecs = await p.embed([query, *(plan.description for plan in routed)]) if routed else None
            if vecs is not None:
                sims = vecs[1:] @ vecs[0]
                routed = [plan for _, plan in sorted(zip(sims, routed, strict=True), key=lambda x: -x[0])]
            order = routed
        if order:
            first = [plan for plan in usable if plan.precedes and order[0].name in plan.precedes]
            order = [*first, *(plan for plan in order if plan not in first)]
        return order
