"""The agent loop with real providers against a scripted model on 127.0.0.1, and the real k2-filesystem."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.agent.fanout import direct_answer
from k2_host.config import HostConfig, ServerConfig
from k2_host.context.transcript import AssistantTurn
from k2_host.learning.store import MemoryTrajectoryStore
from k2_host.llm.anthropic_provider import AnthropicProvider
from k2_host.llm.base import LLMProvider
from k2_host.llm.openai_compat import OpenAICompatProvider
from k2_host.results import AgentEvent, AgentResult, FanOutResult

from tests.host.scripted_llm import ScriptedLLM, Turn, scripted_llm, tool_call
from tests.support import script

pytestmark = pytest.mark.anyio


def fs_config(root: Path, **agent: Any) -> HostConfig:
    server = ServerConfig(name="filesystem", command=script("k2-filesystem"), args=["--root", str(root)])
    cfg = HostConfig(servers=[server], roots=[str(root)])
    for key, value in agent.items():
        setattr(cfg.agent, key, value)
    return cfg


@asynccontextmanager
async def agent_with(
    llm: ScriptedLLM, root: Path, *, flavor: str = "openai", name: str = "openai", **agent: Any
) -> AsyncIterator[Agent]:
    provider: LLMProvider
    if flavor == "anthropic":
        provider = AnthropicProvider(model="claude-test", base_url=llm.base_url, api_key="k", max_retries=0)
    else:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url, api_key="k", max_retries=0, name=name)
    try:
        async with Agent(fs_config(root, **agent), provider=provider, state_dir=root.parent / "state") as a:
            yield a
    finally:
        await provider.aclose()  # the caller's provider: the agent leaves it open


def tool_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body["messages"] if m["role"] == "tool"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text("alpha says the port is 8443\n")
    (root / "b.txt").write_text("beta says the host is staging.internal\n")
    return root


async def test_parallel_tool_calls_run_and_their_results_go_back_to_the_model(project: Path) -> None:
    script_ = [
        Turn(
            tool_calls=[
                tool_call("filesystem.read_file", {"path": str(project / "a.txt")}),
                tool_call("filesystem.read_file", {"path": str(project / "b.txt")}),
            ],
            usage={"prompt_tokens": 100, "completion_tokens": 20, "cached_tokens": 64},
        ),
        Turn(text="Port 8443 on staging.internal.", usage={"prompt_tokens": 180, "completion_tokens": 9}),
    ]
    async with scripted_llm(script_) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Where does it run?")
    assert result.answer == "Port 8443 on staging.internal." and result.stopped == "done"
    assert [c.name for c in result.tool_calls] == ["filesystem.read_file"] * 2
    assert not any(c.is_error for c in result.tool_calls)
    results = tool_messages(llm.requests[1])
    assert "alpha says the port is 8443" in results[0]["content"]
    assert "beta says the host" in results[1]["content"]
    assert results[0]["content"].startswith("<tool-result name='filesystem.read_file'>")
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.cached_input_tokens) == (280, 29, 64)
    assert result.usage.requests == 2 and len(result.steps) == 2
    offered = {t["function"]["name"] for t in llm.requests[0]["tools"]}
    assert "filesystem__read_file" in offered


async def test_a_tool_error_goes_back_as_a_turn_the_model_retries_from(project: Path) -> None:
    script_ = [
        Turn(tool_calls=[tool_call("filesystem.read_file", {"path": str(project / "nope.txt")})]),
        Turn(tool_calls=[tool_call("filesystem.read_file", {"path": str(project / "a.txt")})]),
        Turn(text="8443"),
    ]
    async with scripted_llm(script_) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Which port?")
    assert result.answer == "8443"
    assert [c.is_error for c in result.tool_calls] == [True, False]
    first = tool_messages(llm.requests[1])[0]["content"]
    assert first.startswith("ERROR (") and "nope.txt" in first


async def test_arguments_that_are_not_json_and_unknown_tools_are_errors_for_the_model(project: Path) -> None:
    script_ = [
        Turn(tool_calls=[tool_call("filesystem.read_file", '{"path": '), tool_call("filesystem.eat_file", {})]),
        Turn(text="Sorry."),
    ]
    async with scripted_llm(script_) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Read it")
    assert [c.error_code for c in result.tool_calls] == ["invalid_arguments", "unknown_tool"]
    bad_json, unknown = (m["content"] for m in tool_messages(llm.requests[1]))
    assert "not a JSON object" in bad_json
    assert "filesystem.read_file" in unknown  # the suggestion


async def test_streaming_text_reaches_the_event_handler(project: Path) -> None:
    events: list[AgentEvent] = []

    async def on_event(event: AgentEvent) -> None:
        events.append(event)

    script_ = [
        Turn(tool_calls=[tool_call("filesystem.read_file", {"path": str(project / "a.txt")})]),
        Turn(text="The port is 8443, per a.txt."),
    ]
    async with scripted_llm(script_) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Which port?", on_event=on_event)
    assert "".join(e.text for e in events if e.kind == "text") == result.answer
    kinds = [e.kind for e in events]
    assert kinds.index("tool_start") < kinds.index("tool_end") < kinds.index("step")
    assert llm.requests[0]["stream"] is True


async def test_the_step_budget_stops_a_model_that_never_answers(project: Path) -> None:
    loop = Turn(text="checking", tool_calls=[tool_call("filesystem.read_file", {"path": str(project / "a.txt")})])
    async with scripted_llm(lambda body: loop) as llm, agent_with(llm, project, max_steps=3) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Loop")
    assert result.stopped == "max_steps" and len(result.steps) == 3 and len(llm.requests) == 3
    assert result.answer == "checking"
    assert result.tool_calls[1].cached  # a read-only tool with the same arguments comes from the cache


async def test_the_token_budget_stops_the_loop(project: Path) -> None:
    loop = Turn(
        tool_calls=[tool_call("filesystem.read_file", {"path": str(project / "a.txt")})],
        usage={"prompt_tokens": 600, "completion_tokens": 10},
    )
    async with scripted_llm(lambda body: loop) as llm, agent_with(llm, project, max_tokens=1000) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Loop")
    assert result.stopped == "token_budget" and len(llm.requests) == 2


async def test_kimi_reasoning_content_is_passed_back_across_tool_turns(project: Path) -> None:
    script_ = [
        Turn(
            reasoning="I should read a.txt",
            tool_calls=[tool_call("filesystem.read_file", {"path": str(project / "a.txt")})],
        ),
        Turn(text="8443"),
    ]
    async with scripted_llm(script_) as llm, agent_with(llm, project, name="kimi") as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Which port?")
    assert result.engine == "kimi" and result.answer == "8443"
    assistant = next(m for m in llm.requests[1]["messages"] if m["role"] == "assistant")
    assert assistant["reasoning_content"] == "I should read a.txt"


async def test_the_anthropic_provider_drives_the_same_loop(project: Path) -> None:
    script_ = [
        Turn(tool_calls=[tool_call("filesystem.read_file", {"path": str(project / "b.txt")})]),
        Turn(text="staging.internal"),
    ]
    async with scripted_llm(script_, flavor="anthropic") as llm, agent_with(llm, project, flavor="anthropic") as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Which host?")
    assert result.answer == "staging.internal" and result.engine == "anthropic"
    blocks = llm.requests[1]["messages"][-1]["content"]
    assert blocks[0]["type"] == "tool_result" and "staging.internal" in json.dumps(blocks[0]["content"])


async def test_a_model_that_fails_ends_the_run_with_a_clear_answer(project: Path) -> None:
    async with scripted_llm([Turn(status=401)]) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Hello")
    assert result.stopped == "error" and "could not be reached" in result.answer and result.errors


async def test_fan_out_runs_sub_agents_concurrently_and_merges_in_task_order(project: Path) -> None:
    def model(body: dict[str, Any]) -> Turn:
        question = body["messages"][-1]["content"] if body["messages"][-1]["role"] == "user" else None
        if question is not None:
            name = "a.txt" if "alpha" in question else "b.txt"
            return Turn(tool_calls=[tool_call("filesystem.read_file", {"path": str(project / name)})])
        return Turn(text="done: " + " ".join(body["messages"][-1]["content"].split("\n")[1].split()[:3]))

    async with scripted_llm(model) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            merged = await agent.fan_out(["ask alpha", "ask beta", "ask alpha again"], workers=2)
    assert [r.query for r in merged.results] == ["ask alpha", "ask beta", "ask alpha again"]
    assert [r.answer for r in merged.results] == ["done: alpha says the", "done: beta says the", "done: alpha says the"]
    assert merged.answer.startswith("1. ask alpha\ndone: alpha") and merged.workers == 2
    assert len(llm.requests) == 6


async def test_the_model_can_delegate_independent_parts_to_sub_agents(project: Path) -> None:
    def model(body: dict[str, Any]) -> Turn:
        messages = body["messages"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        offered = {t["function"]["name"] for t in body["tools"]}
        last = messages[-1]
        if question == "Do both":
            assert "agent__delegate" in offered
            if last["role"] == "user":
                return Turn(tool_calls=[tool_call("agent.delegate", {"tasks": ["read a.txt", "read b.txt"]})])
            return Turn(text="merged: " + last["content"].replace("\n", " | "))
        assert "agent__delegate" not in offered  # sub-agents do not fan out again
        if last["role"] == "user":
            return Turn(tool_calls=[tool_call("filesystem.read_file", {"path": str(project / question[5:])})])
        return Turn(text=last["content"].split("\n")[1].split()[0])

    async with scripted_llm(model) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Do both")
    assert result.answer == (
        "merged: <tool-result name='agent.delegate'> | 1. read a.txt | alpha |  | 2. read b.txt | beta | </tool-result>"
    )
    assert [c.name for c in result.tool_calls] == ["agent.delegate"] and not result.tool_calls[0].is_error
    assert len(llm.requests) == 6


async def test_a_bad_delegation_is_an_error_for_the_model(project: Path) -> None:
    script_ = [Turn(tool_calls=[tool_call("agent.delegate", {"tasks": []})]), Turn(text="ok")]
    async with scripted_llm(script_) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Delegate nothing")
    assert result.tool_calls[0].error_code == "invalid_arguments"
    assert "non-empty list" in tool_messages(llm.requests[1])[0]["content"]


def delegating(project: Path, top: Any) -> Any:
    """A model whose top-level turn is `top(messages)`; its sub-agents read the file their task names (`read
    a.txt`) and answer with its first word, or (`loop b.txt`) read it again at every step and never answer."""

    def model(body: dict[str, Any]) -> Turn:
        messages = body["messages"]
        question = [m["content"] for m in messages if m["role"] == "user"][-1]
        verb, _, name = question.partition(" ")
        if verb not in ("read", "loop"):
            return top(body)
        if verb == "loop" or messages[-1]["role"] == "user":
            return Turn(tool_calls=[tool_call("filesystem.read_file", {"path": str(project / name)})])
        return Turn(text=messages[-1]["content"].split("\n")[1].split()[0])

    return model


def delegate_schema(body: dict[str, Any]) -> dict[str, Any]:
    return next(t["function"]["parameters"] for t in body["tools"] if t["function"]["name"] == "agent__delegate")


async def test_a_delegation_that_returns_directly_is_the_final_answer_without_another_model_step(
    project: Path,
) -> None:
    def top(body: dict[str, Any]) -> Turn:
        if body["messages"][-1]["content"] == "Do both":
            assert delegate_schema(body)["properties"]["return_directly"]["type"] == "boolean"
            return Turn(
                tool_calls=[
                    tool_call("agent.delegate", {"tasks": ["read a.txt", "read b.txt"], "return_directly": True})
                ]
            )
        return Turn(text="seen: " + body["messages"][-2]["content"].replace("\n", " | "))  # the next request

    events: list[AgentEvent] = []

    async def on_event(event: AgentEvent) -> None:
        events.append(event)

    store = MemoryTrajectoryStore()
    async with scripted_llm(delegating(project, top)) as llm:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url, api_key="k", max_retries=0)
        config = fs_config(project)
        async with Agent(config, provider=provider, state_dir=project.parent / "state", trajectories=store) as agent:
            with anyio.fail_after(60):
                result = await agent.ask("Do both", session="work", on_event=on_event)
                assert len(llm.requests) == 5  # the delegation, and two steps of each sub-agent: no second top step
                transcript = await agent.runtime.open_session("work")
                again = await agent.ask("And now?", session="work")
        await provider.aclose()
    assert result.answer == "1. read a.txt\nalpha\n\n2. read b.txt\nbeta" and result.stopped == "done"
    assert [c.name for c in result.tool_calls] == ["agent.delegate"] and not result.tool_calls[0].is_error
    assert len(result.steps) == 1 and result.usage.requests == 1
    assert [e.text for e in events if e.kind == "text"] == [result.answer]  # streamed like a model's answer
    started = sorted(e.text for e in events if e.kind == "tool_start")  # the sub-agents' tools too, not their text
    assert started == ["agent.delegate", "filesystem.read_file", "filesystem.read_file"]
    turns = [t for t in transcript.turns if t.request_id == result.request_id]
    assert [t.kind for t in turns] == ["user", "assistant", "tool", "assistant"]
    last = turns[-1]
    assert isinstance(last, AssistantTurn) and last.text == result.answer and last.synthetic and not last.tool_calls
    assert again.answer == "seen: " + result.answer.replace("\n", " | ")  # the next request sees it as an answer
    traced = await store.get(result.request_id)
    assert traced is not None and traced.answer == result.answer and traced.stopped == "done"
    assert len(traced.model_steps) == 1


async def test_a_returned_answer_marks_the_sub_questions_a_sub_agent_did_not_finish(project: Path) -> None:
    def top(body: dict[str, Any]) -> Turn:
        tasks = ["read a.txt", "loop b.txt"]
        return Turn(tool_calls=[tool_call("agent.delegate", {"tasks": tasks, "return_directly": True})])

    async with scripted_llm(delegating(project, top)) as llm, agent_with(llm, project, max_steps=2) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Do both")
    assert result.stopped == "done" and len(llm.requests) == 1 + 2 + 2
    head, first, second = result.answer.split("\n\n")
    assert head == "1 of 2 sub-questions was not fully answered (marked)."
    assert first == "1. read a.txt\nalpha"
    assert second.startswith("2. loop b.txt\n[not finished: the sub-agent ran out of its step budget]\n")


async def test_return_directly_beside_another_call_in_the_turn_goes_back_to_the_model(project: Path) -> None:
    def top(body: dict[str, Any]) -> Turn:
        if body["messages"][-1]["role"] == "user":
            delegate = tool_call("agent.delegate", {"tasks": ["read a.txt"], "return_directly": True})
            return Turn(tool_calls=[delegate, tool_call("filesystem.read_file", {"path": str(project / "b.txt")})])
        return Turn(text="both read")

    async with scripted_llm(delegating(project, top)) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Do both")
    assert result.answer == "both read" and len(llm.requests) == 1 + 2 + 1
    assert "1. read a.txt\nalpha" in tool_messages(llm.requests[-1])[0]["content"]


@pytest.mark.parametrize(("mode", "asked", "direct"), [("always", None, True), ("never", True, False)])
async def test_the_config_can_make_every_delegation_return_directly_or_none(
    project: Path, mode: str, asked: bool | None, direct: bool
) -> None:
    def top(body: dict[str, Any]) -> Turn:
        assert "return_directly" not in delegate_schema(body)["properties"]  # not the model's choice
        if body["messages"][-1]["role"] == "user":
            arguments: dict[str, Any] = {"tasks": ["read a.txt", "read b.txt"]}
            if asked is not None:
                arguments["return_directly"] = asked
            return Turn(tool_calls=[tool_call("agent.delegate", arguments)])
        return Turn(text="rewritten by the model")

    async with (
        scripted_llm(delegating(project, top)) as llm,
        agent_with(llm, project, delegate_return_directly=mode) as agent,
    ):
        with anyio.fail_after(60):
            result = await agent.ask("Do both")
    if direct:
        assert result.answer == "1. read a.txt\nalpha\n\n2. read b.txt\nbeta" and len(llm.requests) == 5
    else:
        assert result.answer == "rewritten by the model" and len(llm.requests) == 6


async def test_a_return_directly_that_is_not_a_boolean_is_an_error_for_the_model(project: Path) -> None:
    bad = tool_call("agent.delegate", {"tasks": ["read a.txt"], "return_directly": "yes"})
    async with scripted_llm([Turn(tool_calls=[bad]), Turn(text="ok")]) as llm, agent_with(llm, project) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Delegate")
    assert result.tool_calls[0].error_code == "invalid_arguments" and result.answer == "ok"


def test_a_returned_answer_says_which_sub_agents_failed_gave_nothing_or_met_failing_tools() -> None:
    def sub(query: str, answer: str, **facts: Any) -> AgentResult:
        return AgentResult(query=query, answer=answer, engine="openai", **facts)

    results = [
        sub("q1", "fine"),
        sub("q2", "The model could not be reached: 401", stopped="error"),
        sub("q3", ""),
        sub("q4", "partly", errors=["filesystem.grep: server unavailable"]),
    ]
    text = direct_answer(FanOutResult(answer="", results=results, wall_ms=1.0, sum_ms=4.0, workers=4))
    assert text.split("\n\n") == [
        "3 of 4 sub-questions were not fully answered (marked).",
        "1. q1\nfine",
        "2. q2\n[not answered: the sub-agent failed]\nThe model could not be reached: 401",
        "3. q3\n[not answered: the sub-agent gave no answer]",
        "4. q4\n[may be incomplete: filesystem.grep: server unavailable]\npartly",
    ]
