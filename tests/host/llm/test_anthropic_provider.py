"""AnthropicProvider against a scripted Anthropic-compatible server, through the real `anthropic` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from k2_host.llm.anthropic_provider import AnthropicProvider
from k2_host.llm.base import LLMError, LLMProvider, Message, ToolCall, ToolSpec

from tests.host.llm.conftest import Deltas
from tests.host.scripted_llm import ScriptedLLM, Turn, scripted_llm, tool_call

pytestmark = pytest.mark.anyio

READ = ToolSpec(
    name="filesystem.read_file",
    description="Read a file.",
    input_schema={"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
)
SEARCH = ToolSpec(name="websearch.search_web", description="Search the web.")
ASK = [Message(role="system", content="You are K2."), Message(role="user", content="What is in a.txt?")]
CACHE = {"type": "ephemeral"}


@asynccontextmanager
async def provider_at(llm: ScriptedLLM, **options: Any) -> AsyncIterator[AnthropicProvider]:
    options.setdefault("api_key", "sk-ant-test")
    options.setdefault("max_retries", 0)
    provider = AnthropicProvider(model="claude-test", base_url=llm.base_url, **options)
    try:
        yield provider
    finally:
        await provider.aclose()


def anthropic_llm(script: list[Turn]):
    return scripted_llm(script, flavor="anthropic")


async def test_a_plain_answer_comes_back_with_usage_counting_cache_reads(deltas: Deltas) -> None:
    turn = Turn(text="It says hello.", usage={"prompt_tokens": 1500, "completion_tokens": 6, "cached_tokens": 1200})
    async with anthropic_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, on_delta=deltas.callback)

    assert response.message == Message(role="assistant", content="It says hello.")
    assert response.finish_reason == "stop"
    assert response.usage.model_dump() == {
        "input_tokens": 1500,
        "output_tokens": 6,
        "cached_input_tokens": 1200,
        "requests": 1,
    }
    assert response.model == "claude-test"
    headers = llm.headers[0]  # the key travels as x-api-key or, in newer SDKs, as a bearer token
    assert "sk-ant-test" in (headers.get("x-api-key"), headers.get("authorization", "").removeprefix("Bearer "))
    assert llm.requests[0]["max_tokens"] == 4096
    assert bool(llm.requests[0].get("stream")) is deltas.streaming
    if deltas.streaming:
        assert deltas.joined("text") == "It says hello."
        assert deltas.count("text") > 1


async def test_the_provider_satisfies_the_protocol() -> None:
    async with anthropic_llm([]) as llm, provider_at(llm) as provider:
        assert isinstance(provider, LLMProvider)
        assert (provider.name, provider.model) == ("anthropic", "claude-test")


async def test_system_messages_go_to_system_and_the_prefix_is_marked_for_caching() -> None:
    messages = [Message(role="system", content="You are K2."), *ASK[1:], Message(role="system", content="Be brief.")]
    async with anthropic_llm([Turn(text="ok")]) as llm, provider_at(llm) as provider:
        await provider.complete(messages, [READ, SEARCH])

    body = llm.requests[0]
    assert body["system"] == [{"type": "text", "text": "You are K2.\n\nBe brief.", "cache_control": CACHE}]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "What is in a.txt?"}]}]
    assert body["tools"] == [
        {"name": "filesystem__read_file", "input_schema": READ.input_schema, "description": "Read a file."},
        {
            "name": "websearch__search_web",
            "input_schema": {"type": "object", "properties": {}},
            "description": "Search the web.",
            "cache_control": CACHE,
        },
    ]


async def test_without_prompt_caching_nothing_is_marked() -> None:
    async with anthropic_llm([Turn(text="ok")]) as llm, provider_at(llm, prompt_caching=False) as provider:
        await provider.complete(ASK, [READ])

    assert llm.requests[0]["system"] == [{"type": "text", "text": "You are K2."}]
    assert "cache_control" not in llm.requests[0]["tools"][0]


async def test_parallel_tool_calls_come_back_under_their_dotted_names(deltas: Deltas) -> None:
    turn = Turn(
        text="Looking.",
        tool_calls=[
            tool_call("filesystem.read_file", {"path": "a.txt"}),
            tool_call("websearch.search_web", {"query": "k2", "limit": 3}),
        ],
        chunk_chars=2,
    )
    async with anthropic_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, [READ, SEARCH], on_delta=deltas.callback)

    assert response.finish_reason == "tool_calls"
    assert response.message.content == "Looking."
    assert response.message.tool_calls == [
        ToolCall(id="toolu_1_0", name="filesystem.read_file", arguments={"path": "a.txt"}),
        ToolCall(id="toolu_1_1", name="websearch.search_web", arguments={"query": "k2", "limit": 3}),
    ]


async def test_tool_results_are_merged_into_one_user_turn_with_is_error(deltas: Deltas) -> None:
    calls = [
        ToolCall(id="toolu_a", name="filesystem.read_file", arguments={"path": "a.txt"}),
        ToolCall(id="toolu_b", name="filesystem.read_file", arguments={"path": "missing.txt"}),
    ]
    history = [
        *ASK,
        Message(role="assistant", content="Reading both.", tool_calls=calls),
        Message(role="tool", tool_call_id="toolu_a", name="filesystem.read_file", content="hello"),
        Message(
            role="tool", tool_call_id="toolu_b", name="filesystem.read_file", content="no such file", is_error=True
        ),
        Message(role="user", content="And summarise."),
    ]
    async with anthropic_llm([Turn(text="a.txt says hello.")]) as llm, provider_at(llm) as provider:
        await provider.complete(history, [READ], on_delta=deltas.callback)

    assert llm.requests[0]["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading both."},
                {"type": "tool_use", "id": "toolu_a", "name": "filesystem__read_file", "input": {"path": "a.txt"}},
                {
                    "type": "tool_use",
                    "id": "toolu_b",
                    "name": "filesystem__read_file",
                    "input": {"path": "missing.txt"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_a", "content": "hello"},
                {"type": "tool_result", "tool_use_id": "toolu_b", "content": "no such file", "is_error": True},
                {"type": "text", "text": "And summarise."},
            ],
        },
    ]


async def test_thinking_blocks_are_streamed_kept_and_sent_back_with_their_signature(deltas: Deltas) -> None:
    script = [
        Turn(
            reasoning="Read a.txt first.",
            signature="sig-123",
            tool_calls=[tool_call("filesystem.read_file", {"path": "a.txt"})],
        ),
        Turn(text="It says hello."),
    ]
    thinking = {"type": "enabled", "budget_tokens": 1024}
    async with anthropic_llm(script) as llm, provider_at(llm, thinking=thinking) as provider:
        first = await provider.complete(ASK, [READ], on_delta=deltas.callback)
        result = Message(role="tool", tool_call_id=first.message.tool_calls[0].id, content="hello")
        await provider.complete([*ASK, first.message, result], [READ])

    block = {"type": "thinking", "thinking": "Read a.txt first.", "signature": "sig-123"}
    assert first.message.reasoning == "Read a.txt first."
    assert first.message.provider_data == {"thinking_blocks": [block]}
    sent = llm.requests[1]
    assert sent["thinking"] == thinking
    assert sent["messages"][1]["content"] == [
        block,
        {"type": "tool_use", "id": "toolu_1_0", "name": "filesystem__read_file", "input": {"path": "a.txt"}},
    ]
    if deltas.streaming:
        assert deltas.joined("reasoning") == "Read a.txt first."
        assert deltas.count("reasoning") > 1


async def test_redacted_thinking_is_sent_back_untouched() -> None:
    redacted = {"type": "redacted_thinking", "data": "opaque=="}
    history = [*ASK, Message(role="assistant", content="Hi.", provider_data={"thinking_blocks": [redacted]})]
    async with anthropic_llm([Turn(text="ok")]) as llm, provider_at(llm) as provider:
        await provider.complete([*history, Message(role="user", content="again")])

    assert llm.requests[0]["messages"][1]["content"] == [redacted, {"type": "text", "text": "Hi."}]


async def test_max_tokens_is_forwarded_the_call_argument_wins_and_no_temperature_is_sent() -> None:
    script = [Turn(text="a"), Turn(text="b")]
    async with anthropic_llm(script) as llm, provider_at(llm, max_tokens=100) as provider:
        await provider.complete(ASK)
        await provider.complete(ASK, temperature=0.7, max_tokens=50)

    assert [r["max_tokens"] for r in llm.requests] == [100, 50]
    assert not any("temperature" in r for r in llm.requests)  # the 2026-10-21 Messages API has none


async def test_an_input_that_is_not_an_object_is_kept_raw() -> None:
    async with (
        anthropic_llm([Turn(tool_calls=[tool_call("filesystem.read_file", "{bad")])]) as llm,
        provider_at(llm) as p,
    ):
        response = await p.complete(ASK, [READ])

    assert response.message.tool_calls == [
        ToolCall(id="toolu_1_0", name="filesystem.read_file", arguments={}, raw_arguments="{bad")
    ]


async def test_a_stream_with_unparsable_tool_input_is_a_retryable_error() -> None:
    turn = Turn(tool_calls=[tool_call("filesystem.read_file", "{bad")])
    async with anthropic_llm([turn]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, [READ], on_delta=Deltas(streaming=True).callback)

    assert (caught.value.status, caught.value.retryable) == (None, True)


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [("max_tokens", "length"), ("refusal", "content_filter"), ("stop_sequence", "stop")],
)
async def test_stop_reasons_map_to_finish_reasons(deltas: Deltas, stop_reason: str, finish: str) -> None:
    async with anthropic_llm([Turn(text="partial", finish_reason=stop_reason)]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, on_delta=deltas.callback)

    assert response.finish_reason == finish


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (401, False), (404, False), (429, True), (500, True), (529, True)]
)
async def test_error_statuses_become_llm_errors(deltas: Deltas, status: int, retryable: bool) -> None:
    async with anthropic_llm([Turn(status=status)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=deltas.callback)

    assert (caught.value.status, caught.value.retryable) == (status, retryable)


async def test_a_refused_key_names_the_variable_that_holds_it() -> None:
    async with anthropic_llm([Turn(status=401)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK)

    assert "ANTHROPIC_API_KEY" in str(caught.value)


async def test_an_unreachable_server_is_a_retryable_error_that_names_the_base_url(
    deltas: Deltas, refused_url: str
) -> None:
    base_url = refused_url.removesuffix("/v1")
    provider = AnthropicProvider(model="m", base_url=base_url, api_key="k", max_retries=0)
    try:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=deltas.callback)
    finally:
        await provider.aclose()

    assert (caught.value.status, caught.value.retryable) == (None, True)
    assert base_url in str(caught.value)


async def test_an_overloaded_event_inside_the_stream_is_a_retryable_529() -> None:
    async with anthropic_llm([Turn(text="It says hello.", fail_after=3)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=Deltas(streaming=True).callback)

    assert (caught.value.status, caught.value.retryable) == (529, True)


async def test_a_connection_cut_mid_stream_is_a_retryable_error() -> None:
    async with anthropic_llm([Turn(text="It says hello.", drop_after=3)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=Deltas(streaming=True).callback)

    assert (caught.value.status, caught.value.retryable) == (None, True)
    assert llm.base_url in str(caught.value)
