"""Fan-out: sub-agents on independent parts of a request, in a bounded worker pool, merged in task order.

A model fans out with the local tool `agent.delegate` (offered to top-level requests only); the offline engine
splits a request of several separate questions itself (`sub_questions`). Sub-agents (depth > 0) never fan out
again. Each sub-agent's request is a request of its own: its own result, and its own trajectory, whose
`parent_id` is the request that fanned out.

Return directly: with `return_directly` (the model's choice; `agent.delegate_return_directly` can force it on or
off) a successful delegation ends the request with the merged answers as its final answer, each under its
sub-question and failures marked (`direct_answer`), so the model spends no second step re-typing them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import anyio

from k2_host.agent.engine import FinalAnswer, Run
from k2_host.llm.base import ToolSpec
from k2_host.mcp.convert import host_error
from k2_host.mcp.types import ToolResult
from k2_host.results import AgentResult, FanOutResult

MAX_DELEGATED = 16

DESCRIPTION = (
    "Hand independent sub-questions to sub-agents that work on them at the same time, each with the same "
    "tools; returns their answers in order. Use it when a request has several parts that do not depend on "
    "each other."
)
TASKS = {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_DELEGATED}
RETURN_DIRECTLY = {
    "type": "boolean",
    "default": False,
    "description": (
        "true: the sub-agents' answers, each under its sub-question (failures marked), become the final answer "
        "to the user as they are, and you take no further step; use it when they need no combining or rewording. "
        "false: they come back to you as this tool's result."
    ),
}
ReturnDirectly = Literal["model", "always", "never"]


def delegate_spec(mode: ReturnDirectly = "model") -> ToolSpec:
    """The `agent.delegate` tool as offered: with the `return_directly` argument when the model may choose."""
    properties: dict[str, Any] = {"tasks": TASKS}
    if mode == "model":
        properties["return_directly"] = RETURN_DIRECTLY
    description = DESCRIPTION
    if mode == "always":
        description += " Their answers are the final answer to the user, as they are."
    schema = {"type": "object", "properties": properties, "required": ["tasks"]}
    return ToolSpec(name="agent.delegate", description=description, input_schema=schema)


DELEGATE = delegate_spec()


async def fan_out(
    ask: Callable[[int, str], Awaitable[AgentResult]], tasks: Sequence[str], *, workers: int
) -> FanOutResult:
    """`ask(i, task)` for every task, at most `workers` at once; the answers merged in task order."""
    if not tasks:
        raise ValueError("fan_out needs at least one task")
    limit = anyio.Semaphore(workers)
    results: list[AgentResult | None] = [None] * len(tasks)
    t0 = time.perf_counter()

    async def sub(i: int, task: str) -> None:
        async with limit:
            results[i] = await ask(i, task)

    async with anyio.create_task_group() as tg:
        for i, task in enumerate(tasks):
            tg.start_soon(sub, i, task)
    done = [r for r in results if r is not None]
    merged = "\n\n".join(f"{i + 1}. {r.query}\n{r.answer}" for i, r in enumerate(done))
    return FanOutResult(
        answer=merged,
        results=done,
        wall_ms=(time.perf_counter() - t0) * 1000,
        sum_ms=sum(r.timings.total_ms for r in done),
        workers=workers,
    )


async def delegate(arguments: dict[str, Any], run: Run) -> ToolResult:
    """`agent.delegate`: the model's tasks to sub-agents; with return-directly their merged answers end the run."""
    tasks = arguments.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) and t.strip() for t in tasks):
        return host_error(
            DELEGATE.name,
            "invalid_arguments",
            '`tasks` must be a non-empty list of questions, e.g. {"tasks": ["...", "..."]}',
        )
    if len(tasks) > MAX_DELEGATED:
        return host_error(
            DELEGATE.name, "invalid_arguments", f"at most {MAX_DELEGATED} tasks at once (got {len(tasks)}); group them"
        )
    asked = arguments.get("return_directly", False)
    if not isinstance(asked, bool):
        return host_error(DELEGATE.name, "invalid_arguments", f"`return_directly` must be true or false, not {asked!r}")
    mode = run.config.delegate_return_directly
    t0 = time.perf_counter()
    merged = await run.fan_out(tasks)
    if mode == "always" or (mode == "model" and asked):
        run.finish_with(
            FinalAnswer(
                text=direct_answer(merged),
                citations=[c for r in merged.results for c in r.citations],
                errors=[f"sub-question {i + 1}: {e}" for i, r in enumerate(merged.results) for e in r.errors],
            )
        )
    return ToolResult(
        name=DELEGATE.name,
        text=merged.answer,
        structured={"answers": [r.answer for r in merged.results]},
        duration_ms=(time.perf_counter() - t0) * 1000,
    )


def direct_answer(merged: FanOutResult) -> str:
    """The merged answers as a final answer: each sub-question and its answer, in order, the ones a sub-agent did
    not finish or answered with failing tools marked, and how many those are first."""
    entries, flagged = [], 0
    for i, r in enumerate(merged.results):
        flag = _failure(r)
        flagged += flag is not None
        answer = f"[{flag}]\n{r.answer}".rstrip() if flag else r.answer
        entries.append(f"{i + 1}. {r.query}\n{answer}")
    text = "\n\n".join(entries)
    if flagged:
        n = len(merged.results)
        text = (
            f"{flagged} of {n} sub-questions {'was' if flagged == 1 else 'were'} not fully answered (marked).\n\n{text}"
        )
    return text


STOPS = {"max_steps": "step", "token_budget": "token", "time_budget": "time"}


def _failure(r: AgentResult) -> str | None:
    """Why a sub-agent's answer is not a full answer, or None."""
    if r.stopped == "error":
        return "not answered: the sub-agent failed"
    if r.stopped != "done":
        return f"not finished: the sub-agent ran out of its {STOPS[r.stopped]} budget"
    if not r.answer.strip():
        return "not answered: the sub-agent gave no answer"
    if r.errors:
        return "may be incomplete: " + "; ".join(r.errors)
    return None


def sub_questions(query: str) -> list[str]:
    """'Which port does staging use? And production?' -> two questions (only for clear, separate questions)."""
    parts = [p.strip() for p in re.split(r"(?<=\?)\s+", query) if p.strip()]
    questions = [re.sub(r"^(?:and|also|then)\s+", "", p, flags=re.I) for p in parts if p.endswith("?")]
    return questions if len(questions) == len(parts) and len(questions) > 1 else [query]


def combine(query: str, merged: FanOutResult) -> AgentResult:
    """One result for a request answered by sub-agents."""
    out = AgentResult(query=query, answer=merged.answer, engine=merged.results[0].engine)
    for r in merged.results:
        offset = len(out.steps)
        out.steps += [s.model_copy(update={"index": s.index + offset}) for s in r.steps]
        out.tool_calls += r.tool_calls
        out.citations += r.citations
        out.errors += r.errors
        out.usage.add(r.usage)
        out.timings.tools_ms += r.timings.tools_ms
    out.timings.total_ms = merged.wall_ms
    return out
