"""The sliding-window context policy: budget, pairing, pinned memory, stable prefix, bounded results, recall."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from k2_host.config.model import ContextConfig
from k2_host.context.policy import ContextView
from k2_host.context.spill import SpillStore
from k2_host.context.tokens import counter_for, message_tokens, tools_tokens
from k2_host.context.transcript import AssistantTurn, ToolTurn, Turn, UserTurn
from k2_host.context.window import WindowPolicy
from k2_host.llm.base import Message, ToolCall, ToolSpec
from k2_host.mcp.types import ToolResult

pytestmark = pytest.mark.anyio

COUNTER = counter_for("openai", "gpt-4o")  # exact o200k_base
TOOLS = [
    ToolSpec(
        name="filesystem.read_file",
        description="Read a file",
        input_schema={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    )
]
SYSTEM = "You are K2, an agent that answers by using tools."
WORDS = [
    *("alpha", "beta", "gamma", "delta", "port", "server", "staging"),
    *("production", "config", "timeout", "retry", "cache", "index"),
]


def policy(tmp: Path | None = None, **cfg: object) -> WindowPolicy:
    config = ContextConfig.model_validate({"window_tokens": 8000, **cfg})
    return WindowPolicy(config, COUNTER, reserve_output=1024, spill=SpillStore(tmp))


def text_of(n_words: int, seed: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] + str(i % 10) for i in range(n_words))


def request(i: int, user: str, results: list[str], answer: str = "ok") -> list[Turn]:
    rid = f"r{i}"
    turns: list[Turn] = [UserTurn(text=user, request_id=rid)]
    if results:
        calls = [
            ToolCall(id=f"c{i}_{k}", name="filesystem.read_file", arguments={"path": f"f{k}"})
            for k in range(len(results))
        ]
        turns.append(AssistantTurn(tool_calls=calls, request_id=rid))
        for call, body in zip(calls, results, strict=True):
            turns.append(ToolTurn.of(call, ToolResult(name=call.name, text=body), request_id=rid))
    turns.append(AssistantTurn(text=answer, request_id=rid))
    return turns


def view(history: list[Turn], turns: list[Turn], step: int = 0, rid: str = "r", session: str = "s") -> ContextView:
    query = turns[0].text if turns and isinstance(turns[0], UserTurn) else ""
    return ContextView(SYSTEM, TOOLS, history, turns, query, step, session_id=session, request_id=rid)


def total_tokens(messages: list[Message]) -> int:
    return sum(message_tokens(COUNTER, m) for m in messages) + tools_tokens(COUNTER, TOOLS)


def assert_paired(messages: list[Message]) -> None:
    """Every tool result follows the assistant turn that called it, and every call has its result."""
    open_calls: set[str] = set()
    for m in messages:
        if m.role == "assistant":
            assert not open_calls, f"calls {open_calls} have no result before the next assistant turn"
            open_calls = {c.id for c in m.tool_calls}
        elif m.role == "tool":
            assert m.tool_call_id in open_calls, f"tool result {m.tool_call_id} without its call"
            open_calls.discard(m.tool_call_id)
        elif m.role == "user":
            assert not open_calls, f"calls {open_calls} split from their results"


requests_strategy = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=900),  # words in the user turn
        st.lists(st.integers(min_value=0, max_value=9000), max_size=3),  # words of each tool result
        st.integers(min_value=1, max_value=300),  # words of the answer
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests_strategy)
def test_the_window_is_never_exceeded_and_calls_stay_with_their_results(reqs: list) -> None:
    anyio.run(_window_holds, reqs)


async def _window_holds(reqs: list) -> None:
    p = policy()
    history: list[Turn] = []
    limit = 8000 - 1024
    for i, (user_words, results, answer_words) in enumerate(reqs):
        turns = request(
            i, text_of(user_words, i), [text_of(n, i + k) for k, n in enumerate(results)], text_of(answer_words, i)
        )
        # every step of the request: after the user turn, after the tool results, after the answer
        for upto in sorted({1, len(turns) - 1, len(turns)}):
            msgs = await p.messages(view(history, turns[:upto], rid=f"r{i}"))
            assert total_tokens(msgs) <= limit
            assert msgs[0].role == "system" and msgs[0].content == SYSTEM
            assert_paired(msgs)
        history += turns


async def test_facts_the_user_states_survive_two_hundred_turns() -> None:
    p = policy()
    history: list[Turn] = []
    facts = {
        0: "My name is Ada Lovelace and I work on the Bluebird project.",
        3: "Our staging database runs on port 5433.",
        7: "Remember that the release deadline is 14 March 2027.",
    }
    for i in range(200):
        user = facts.get(i, f"Tell me about {text_of(40, i)}")
        history += request(i, user, [text_of(300, i)] if i % 3 == 0 else [], text_of(60, i))
    msgs = await p.messages(
        view(history, [UserTurn(text="What was the release deadline again?", request_id="q")], rid="q")
    )
    window = "\n".join(m.content for m in msgs)
    for fact in facts.values():
        assert fact in window
    report = p.report("q")
    assert report is not None and report.compactions > 0 and report.turns_compacted > 500
    assert report.pinned_facts >= 3 and total_tokens(msgs) <= 8000 - 1024


async def test_the_prefix_stays_byte_identical_between_compactions() -> None:
    p = policy()
    history: list[Turn] = []
    prefixes = []
    compactions = []
    for i in range(30):
        turns = request(i, f"question {i}: {text_of(30, i)}", [text_of(120, i)], text_of(40, i))
        msgs = await p.messages(view(history, turns, rid=f"r{i}"))
        report = p.report(f"r{i}")
        assert report is not None
        n_prefix = len(msgs) - len(turns)  # system, memory, history; then this request
        prefixes.append(json.dumps([m.model_dump() for m in msgs[:n_prefix]]))
        compactions.append(report.compactions)
        history += turns
    stable = 0
    for a in range(1, 30):
        if compactions[a] == compactions[a - 1]:
            # the earlier request's whole prefix is the start of this one's
            assert prefixes[a].startswith(prefixes[a - 1][:-1])
            stable += 1
    assert stable >= 20 and compactions[-1] >= 1


async def test_a_large_tool_result_is_bounded_on_arrival_and_spilled_whole(tmp_path: Path) -> None:
    p = policy(tmp_path)
    body = "\n".join(f"line {i}: filler text of a long log" for i in range(3000))
    body += "\nline 3000: the backup retention is 35 days\n" + "\n".join(f"tail {i}" for i in range(20))
    turns = request(0, "What is the backup retention?", [body])[:-1]
    msgs = await p.messages(view([], turns, step=1, rid="r0"))
    tool = next(m for m in msgs if m.role == "tool")
    assert message_tokens(COUNTER, tool) <= 1500 + 40
    assert "the backup retention is 35 days" in tool.content  # the relevant line is kept
    assert "line 0:" in tool.content and "tail 19" in tool.content  # head and tail
    assert "context.read_result" in tool.content and "bounded" in tool.content
    spilled = tmp_path / "s" / "c0_0.txt"
    assert spilled.read_text() == body and (spilled.stat().st_mode & 0o777) == 0o600
    report = p.report("r0")
    assert report is not None and report.bounded == ["c0_0"]


async def test_old_turns_come_back_by_relevance_with_their_source() -> None:
    p = policy()
    history: list[Turn] = []
    history += request(0, "Please look at the vault settings.", ["vault_unseal_threshold = 3 of 5 key shares"], "noted")
    for i in range(1, 120):
        history += request(i, f"Next: {text_of(50, i)}", [text_of(200, i)], text_of(30, i))
    msgs = await p.messages(
        view(history, [UserTurn(text="What is the vault unseal threshold?", request_id="q")], rid="q")
    )
    report = p.report("q")
    assert report is not None
    assert any("vault_unseal_threshold = 3 of 5" in r.text and "call c0_0" in r.ref for r in report.recalled)
    opening = msgs[-1]  # the recall block opens the request's own message: the tail, after the stable prefix
    assert opening.content.startswith('<context source="k2-recall">')
    assert "vault_unseal_threshold = 3 of 5" in opening.content
    assert opening.content.endswith("What is the vault unseal threshold?")
    assert report.used["knowledge"] > 0


async def test_a_window_too_small_for_the_tools_says_what_to_change() -> None:
    p = policy(window_tokens=1024)
    many = [ToolSpec(name=f"s.t{i}", description="x " * 60, input_schema={"type": "object"}) for i in range(20)]
    v = ContextView(SYSTEM, many, [], [UserTurn(text="hi")], "hi", 0, session_id="s", request_id="r")
    try:
        await p.messages(v)
    except ValueError as exc:
        assert "context.window_tokens" in str(exc) and "tool schemas" in str(exc)
    else:
        raise AssertionError("expected a clear error")


async def test_knowledge_index_chunks_are_fused_in_with_their_citation() -> None:
    class Hit:
        def __init__(self, citation: str, text: str, score: float) -> None:
            self.citation, self.text, self.score, self.source = citation, text, score, citation

    asked: list[tuple[str, int]] = []

    async def search(query: str, k: int) -> list[Hit]:
        asked.append((query, k))
        return [Hit("docs/backup.md#2", "Backups are kept for 35 days in the cold tier.", 0.71)]

    p = policy()
    turns = [UserTurn(text="How long are backups kept?", request_id="q")]
    v = ContextView(SYSTEM, TOOLS, [], turns, turns[0].text, 0, session_id="s", request_id="q", knowledge=search)
    msgs = await p.messages(v)
    assert asked == [("How long are backups kept?", 4)]
    assert "[docs/backup.md#2] Backups are kept for 35 days" in msgs[-1].content
    report = p.report("q")
    assert report is not None and report.recalled[0].source == "knowledge" and report.used["knowledge"] > 0
    await p.messages(v)  # the next step of the same request: chosen once, not searched again
    assert len(asked) == 1


def test_the_counter_follows_the_model() -> None:
    assert counter_for("openai", "gpt-4o-mini").name == "o200k_base" and counter_for("openai", "gpt-4o").exact
    assert counter_for("openai", "gpt-4-turbo").name == "cl100k_base"
    kimi = counter_for("kimi", "kimi-k2.5")
    assert not kimi.exact and kimi.name.startswith("o200k_base")
    offline = counter_for("offline")
    assert offline.name.startswith("wordpiece") and offline.count("max_age keepAliveExpiry") > 4
    assert COUNTER.count("hello world") == 2  # o200k_base: "hello", " world"


def test_shares_that_do_not_add_up_are_refused_with_the_sum() -> None:
    with pytest.raises(ValueError, match=r"context.shares must add up to 1 \(history\+knowledge\+tools\+task = 1.3\)"):
        ContextConfig.model_validate({"shares": {"history": 0.8}})
