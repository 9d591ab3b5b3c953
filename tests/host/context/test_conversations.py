"""The window policy inside the real runtime: spilled results read back, a long session, offline follow-ups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.config import HostConfig, ServerConfig
from k2_host.context.tokens import counter_for, message_tokens, tools_tokens
from k2_host.llm.base import Message, ToolCall, ToolSpec
from k2_host.llm.testing import Reply, ScriptedProvider

from tests.host.test_offline import make_project
from tests.support import script

pytestmark = pytest.mark.anyio


def fs_config(root: Path, state: Path) -> HostConfig:
    server = ServerConfig(name="filesystem", command=script("k2-filesystem"), args=["--root", str(root)])
    return HostConfig(servers=[server], roots=[str(root)], state_dir=state)


async def test_a_bounded_result_is_spilled_and_read_back_through_context_read_result(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    lines = [f"{i:05d} INFO worker heartbeat ok" for i in range(2000)]
    lines[1500] = "01500 ERROR disk quota exceeded on /var/lib/k2"
    (root / "app.log").write_text("\n".join(lines) + "\n")
    read = ToolCall(id="c1", name="filesystem.read_file", arguments={"path": str(root / "app.log")})
    grep = ToolCall(id="c2", name="context.read_result", arguments={"id": "c1", "grep": "error"})
    provider = ScriptedProvider([Reply(tool_calls=[read]), Reply(tool_calls=[grep]), Reply(text="disk quota")])
    async with Agent(fs_config(root, tmp_path / "state"), provider=provider) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Why did the worker fail? Look at app.log", session="ops")
    assert result.answer == "disk quota" and result.stopped == "done"
    bounded = provider.requests[1].messages[-1]
    assert bounded.role == "tool" and "context.read_result" in bounded.content and "bounded" in bounded.content
    assert "1500 ERROR" not in bounded.content or len(bounded.content) < 12_000
    found = provider.requests[2].messages[-1]
    assert "1 of 2000 lines match 'error'" in found.content and "1501: 01500 ERROR disk quota" in found.content
    spilled = tmp_path / "state" / "context" / "ops" / "c1.txt"
    assert spilled.is_file() and b"disk quota" not in spilled.read_bytes()  # sealed at rest (AES-256-GCM)
    assert "01500 ERROR disk quota" in (agent.runtime.spill.read("ops", "c1") or "")
    assert result.context is not None and result.context.bounded == ["c1"]


async def test_a_three_hundred_turn_session_stays_inside_8k_and_keeps_the_pinned_fact(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    for i in range(10):
        (root / f"notes{i}.md").write_text("\n".join(f"note {i}.{k}: the cache warms in {k} s" for k in range(120)))

    ids = iter(range(10**6))

    def model(messages: list[Message], tools: list[ToolSpec]) -> Reply:
        last = messages[-1]
        if last.role == "user" and "read notes" in last.content:
            n = last.content.rsplit(" ", 1)[-1]
            path = str(root / f"notes{n}.md")
            return Reply(
                tool_calls=[ToolCall(id=f"r{next(ids)}", name="filesystem.read_file", arguments={"path": path})]
            )
        return Reply(text=f"Answered with {len(messages)} messages in view.")

    provider = ScriptedProvider(model)
    config = fs_config(root, tmp_path / "state")
    limit = 8000 - 1024
    async with Agent(config, provider=provider) as agent:
        with anyio.fail_after(600):
            await agent.ask("Remember that our on-call engineer is Grace Hopper, phone 555-0199.", session="long")
            for i in range(110):
                question = f"please read notes {i % 10}" if i % 2 else f"what does step {i} of the rollout involve?"
                result = await agent.ask(question, session="long")
                assert result.context is not None and result.context.total <= limit, result.context.model_dump(
                    exclude={"recalled", "bounded"}
                )
            final = await agent.ask("Who is on call, and what is their phone number?", session="long")
        transcript = await agent.runtime.open_session("long")
    assert len(transcript.turns) >= 300
    sent = provider.requests[-1]
    counter = counter_for("scripted", "scripted-model")  # what the runtime counts with for this provider
    assert sum(message_tokens(counter, m) for m in sent.messages) + tools_tokens(counter, sent.tools) <= limit
    window = "\n".join(m.content for m in sent.messages)
    assert "Grace Hopper, phone 555-0199" in window
    assert final.context is not None and final.context.compactions >= 3 and final.context.pinned_facts >= 1
    # every tool result sent sits right after the call that asked for it
    for i, m in enumerate(sent.messages):
        if m.role == "tool":
            assert sent.messages[i - 1].role == "assistant" and sent.messages[i - 1].tool_calls[0].id == m.tool_call_id


@pytest.mark.slow
async def test_the_offline_engine_answers_a_follow_up_from_the_conversation(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with anyio.fail_after(180):
        async with Agent.from_config(None, root=root) as agent:
            first = await agent.ask("Which port does the staging server use?", session="env")
            second = await agent.ask("and for production?", session="env")
            transcript = await agent.runtime.open_session("env")
    assert "8443" in first.answer.splitlines()[1]
    assert "443 — from deploy/production.yaml" in second.answer, second.answer
    assert second.citations[0].source.endswith("deploy/production.yaml")
    user_turns: list[Any] = [t for t in transcript.turns if t.kind == "user"]
    assert user_turns[1].text == "and for production?"
    assert user_turns[1].resolved == "Which port does the production server use?"
    assert second.context is not None and second.context.turns_verbatim >= 2
    assert json.loads(second.model_dump_json())["context"]["used"]["history"] > 0
