"""OpenAICompatProvider against a scripted OpenAI-compatible server, through the real `openai` SDK."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from k2_host.llm.base import LLMError, LLMProvider, Message, ToolCall, ToolSpec
from k2_host.llm.openai_compat import OpenAICompatProvider

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


@asynccontextmanager
async def provider_at(llm: ScriptedLLM, **options: Any) -> AsyncIterator[OpenAICompatProvider]:
    options.setdefault("api_key", "sk-test")
    options.setdefault("max_retries", 0)
    provider = OpenAICompatProvider(model="test-model", base_url=llm.base_url, **options)
    try:
        yield provider
    finally:
        await provider.aclose()


async def test_a_plain_answer_comes_back_with_usage_and_the_request_is_plain_chat(deltas: Deltas) -> None:
    turn = Turn(text="It says hello.", usage={"prompt_tokens": 21, "completion_tokens": 4})
    async with scripted_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, on_delta=deltas.callback)

    assert response.message == Message(role="assistant", content="It says hello.")
    assert response.finish_reason == "stop"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.requests) == (21, 4, 1)
    assert response.model == "test-model"
    body = llm.requests[0]
    assert body["model"] == "test-model"
    assert body["messages"] == [
        {"role": "system", "content": "You are K2."},
        {"role": "user", "content": "What is in a.txt?"},
    ]
    assert "tools" not in body
    assert llm.headers[0]["authorization"] == "Bearer sk-test"
    if deltas.streaming:
        assert body["stream"] is True
        assert body["stream_options"] == {"include_usage": True}
        assert deltas.joined("text") == "It says hello."
        assert deltas.count("text") > 1
    else:
        assert "stream" not in body


async def test_the_provider_satisfies_the_protocol() -> None:
    async with scripted_llm([]) as llm, provider_at(llm) as provider:
        assert isinstance(provider, LLMProvider)
        assert (provider.name, provider.model) == ("openai", "test-model")


async def test_a_tool_call_comes_back_under_its_dotted_name(deltas: Deltas) -> None:
    turn = Turn(tool_calls=[tool_call("filesystem.read_file", {"path": "a.txt"})])
    async with scripted_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, [READ, SEARCH], on_delta=deltas.callback)

    assert response.finish_reason == "tool_calls"
    assert response.message.tool_calls == [
        ToolCall(id="call_1_0", name="filesystem.read_file", arguments={"path": "a.txt"})
    ]
    assert llm.requests[0]["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "filesystem__read_file",
                "description": "Read a file.",
                "parameters": READ.input_schema,
            },
        },
        {
            "type": "function",
            "function": {
                "name": "websearch__search_web",
                "description": "Search the web.",
                "parameters": {"type": "object", "properties": {}},
            },
        },
    ]


async def test_parallel_tool_calls_keep_their_order_and_ids(deltas: Deltas) -> None:
    turn = Turn(
        text="Looking.",
        tool_calls=[
            tool_call("filesystem.read_file", {"path": "a.txt"}),
            tool_call("websearch.search_web", {"query": "k2"}),
            tool_call("filesystem.read_file", {"path": "b.txt"}),
        ],
    )
    async with scripted_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, [READ, SEARCH], on_delta=deltas.callback)

    assert response.message.content == "Looking."
    assert response.message.tool_calls == [
        ToolCall(id="call_1_0", name="filesystem.read_file", arguments={"path": "a.txt"}),
        ToolCall(id="call_1_1", name="websearch.search_web", arguments={"query": "k2"}),
        ToolCall(id="call_1_2", name="filesystem.read_file", arguments={"path": "b.txt"}),
    ]


async def test_arguments_streamed_one_character_at_a_time_are_reassembled() -> None:
    arguments = {"path": "docs/naïve résumé.md", "range": {"start": 1, "end": [2, 3]}, "note": 'say "hi"'}
    turn = Turn(tool_calls=[tool_call("filesystem.read_file", arguments)], chunk_chars=1)
    deltas = Deltas(streaming=True)
    async with scripted_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, [READ], on_delta=deltas.callback)

    assert response.message.tool_calls[0].arguments == arguments
    assert response.message.tool_calls[0].raw_arguments is None


async def test_kimi_reasoning_is_streamed_and_sent_back_with_its_tool_turn(deltas: Deltas) -> None:
    script = [
        Turn(
            reasoning="The user wants a.txt; read it.",
            tool_calls=[tool_call("filesystem.read_file", {"path": "a.txt"})],
        ),
        Turn(reasoning="It worked.", text="It says hello."),
    ]
    async with scripted_llm(script) as llm, provider_at(llm, name="kimi", key_env="MOONSHOT_API_KEY") as provider:
        first = await provider.complete(ASK, [READ], on_delta=deltas.callback)
        assert first.message.reasoning == "The user wants a.txt; read it."
        result = Message(role="tool", tool_call_id="call_1_0", name="filesystem.read_file", content="hello")
        second = await provider.complete([*ASK, first.message, result], [READ], on_delta=deltas.callback)

    assert second.message.content == "It says hello."
    assert second.message.reasoning == "It worked."
    assert llm.requests[1]["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "The user wants a.txt; read it.",
            "tool_calls": [
                {
                    "id": "call_1_0",
                    "type": "function",
                    "function": {"name": "filesystem__read_file", "arguments": '{"path": "a.txt"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1_0", "content": "hello"},
    ]
    if deltas.streaming:
        assert deltas.joined("reasoning") == "The user wants a.txt; read it.It worked."
        assert deltas.joined("text") == "It says hello."


async def test_reasoning_under_the_reasoning_field_goes_back_under_that_field(deltas: Deltas) -> None:
    script = [Turn(reasoning="thinking", text="first", reasoning_field="reasoning"), Turn(text="second")]
    async with scripted_llm(script) as llm, provider_at(llm) as provider:
        first = await provider.complete(ASK, on_delta=deltas.callback)
        await provider.complete([*ASK, first.message, Message(role="user", content="more")])

    assert first.message.reasoning == "thinking"
    assert llm.requests[1]["messages"][2] == {"role": "assistant", "content": "first", "reasoning": "thinking"}


async def test_reasoning_is_not_sent_back_when_switched_off() -> None:
    script = [Turn(reasoning="thinking", text="first"), Turn(text="second")]
    async with scripted_llm(script) as llm, provider_at(llm, send_reasoning=False) as provider:
        first = await provider.complete(ASK)
        await provider.complete([*ASK, first.message, Message(role="user", content="more")])

    assert llm.requests[1]["messages"][2] == {"role": "assistant", "content": "first"}


async def test_cached_prompt_tokens_are_read_from_prompt_tokens_details(deltas: Deltas) -> None:
    turn = Turn(text="ok", usage={"prompt_tokens": 1200, "completion_tokens": 7, "cached_tokens": 1024})
    async with scripted_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, on_delta=deltas.callback)

    assert response.usage.model_dump() == {
        "input_tokens": 1200,
        "output_tokens": 7,
        "cached_input_tokens": 1024,
        "requests": 1,
    }


async def test_cached_prompt_tokens_are_read_from_moonshots_top_level_field(deltas: Deltas) -> None:
    usage = {"prompt_tokens": 900, "completion_tokens": 5, "total_tokens": 905, "cached_tokens": 768}
    async with scripted_llm([Turn(text="ok", raw_usage=usage)]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, on_delta=deltas.callback)

    assert (response.usage.input_tokens, response.usage.cached_input_tokens) == (900, 768)


@pytest.mark.parametrize("raw", ['{"path": "a.txt"', "not json", "[1, 2]"])
async def test_arguments_that_are_not_a_json_object_are_kept_raw_and_sent_back_raw(deltas: Deltas, raw: str) -> None:
    script = [Turn(tool_calls=[tool_call("filesystem.read_file", raw)]), Turn(text="sorry")]
    async with scripted_llm(script) as llm, provider_at(llm) as provider:
        first = await provider.complete(ASK, [READ], on_delta=deltas.callback)
        call = first.message.tool_calls[0]
        error = Message(role="tool", tool_call_id=call.id, content="arguments are not JSON", is_error=True)
        await provider.complete([*ASK, first.message, error], [READ])

    assert call == ToolCall(id="call_1_0", name="filesystem.read_file", arguments={}, raw_arguments=raw)
    sent = llm.requests[1]["messages"]
    assert sent[2]["tool_calls"][0]["function"]["arguments"] == raw
    assert sent[3] == {"role": "tool", "tool_call_id": "call_1_0", "content": "Error: arguments are not JSON"}


async def test_empty_arguments_are_an_empty_object() -> None:
    async with scripted_llm([Turn(tool_calls=[tool_call("filesystem.read_file", "")])]) as llm, provider_at(llm) as p:
        response = await p.complete(ASK, [READ])

    assert response.message.tool_calls[0].arguments == {}
    assert response.message.tool_calls[0].raw_arguments is None


async def test_names_in_the_history_are_mapped_and_unknown_wire_names_are_decoded(deltas: Deltas) -> None:
    history = Message(
        role="assistant",
        tool_calls=[ToolCall(id="c1", name="codeexec.execute_python", arguments={"code": "1"})],
    )
    result = Message(role="tool", tool_call_id="c1", content="1")
    turn = Turn(tool_calls=[("codeexec__execute_shell", {"command": "ls"})])
    async with scripted_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete([*ASK, history, result], [READ], on_delta=deltas.callback)

    assert llm.requests[0]["messages"][2]["tool_calls"][0]["function"]["name"] == "codeexec__execute_python"
    assert response.message.tool_calls[0].name == "codeexec.execute_shell"


async def test_temperature_and_max_tokens_are_forwarded_and_call_arguments_win() -> None:
    async with (
        scripted_llm([Turn(text="a"), Turn(text="b")]) as llm,
        provider_at(llm, temperature=0.2, max_tokens=100) as provider,
    ):
        await provider.complete(ASK)
        await provider.complete(ASK, temperature=0.7, max_tokens=50)

    assert (llm.requests[0]["temperature"], llm.requests[0]["max_tokens"]) == (0.2, 100)
    assert (llm.requests[1]["temperature"], llm.requests[1]["max_tokens"]) == (0.7, 50)


async def test_a_fixed_temperature_model_gets_none_and_extra_body_is_merged() -> None:
    options: dict[str, Any] = {
        "send_temperature": False,
        "temperature": 0.3,
        "max_tokens_param": "max_completion_tokens",
        "max_tokens": 64,
        "extra_body": {"thinking": {"type": "disabled"}},
    }
    async with scripted_llm([Turn(text="a")]) as llm, provider_at(llm, **options) as provider:
        await provider.complete(ASK, temperature=0.9)

    body = llm.requests[0]
    assert "temperature" not in body
    assert "max_tokens" not in body
    assert body["max_completion_tokens"] == 64
    assert body["thinking"] == {"type": "disabled"}


async def test_a_server_without_a_key_gets_a_placeholder_token() -> None:
    async with scripted_llm([Turn(text="a")]) as llm, provider_at(llm, api_key=None) as provider:
        await provider.complete(ASK)

    assert llm.headers[0]["authorization"] == "Bearer no-key-needed"


async def test_tool_calls_after_finish_reason_stop_still_finish_as_tool_calls(deltas: Deltas) -> None:
    turn = Turn(tool_calls=[tool_call("filesystem.read_file", {"path": "a"})], finish_reason="stop")
    async with scripted_llm([turn]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, [READ], on_delta=deltas.callback)

    assert response.finish_reason == "tool_calls"


async def test_a_truncated_answer_finishes_with_length(deltas: Deltas) -> None:
    async with scripted_llm([Turn(text="It says", finish_reason="length")]) as llm, provider_at(llm) as provider:
        response = await provider.complete(ASK, on_delta=deltas.callback)

    assert (response.finish_reason, response.message.content) == ("length", "It says")


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (403, False), (404, False), (422, False), (429, True), (500, True), (503, True)],
)
async def test_error_statuses_become_llm_errors(deltas: Deltas, status: int, retryable: bool) -> None:
    async with scripted_llm([Turn(status=status)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=deltas.callback)

    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert llm.base_url in str(caught.value)


async def test_a_refused_key_names_the_variable_that_holds_it() -> None:
    async with scripted_llm([Turn(status=401)]) as llm, provider_at(llm, key_env="MOONSHOT_API_KEY") as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK)

    assert "MOONSHOT_API_KEY" in str(caught.value)


async def test_a_missing_model_names_the_model() -> None:
    async with scripted_llm([Turn(status=404)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK)

    assert "'test-model'" in str(caught.value)


async def test_the_sdk_retries_a_rate_limit_when_retries_are_allowed() -> None:
    script = [Turn(status=429, headers={"retry-after-ms": "1"}), Turn(text="ok")]
    async with scripted_llm(script) as llm, provider_at(llm, max_retries=1) as provider:
        response = await provider.complete(ASK)

    assert response.message.content == "ok"
    assert len(llm.requests) == 2


async def test_an_unreachable_server_is_a_retryable_error_that_names_the_base_url(
    deltas: Deltas, refused_url: str
) -> None:
    provider = OpenAICompatProvider(model="m", base_url=refused_url, max_retries=0)
    try:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=deltas.callback)
    finally:
        await provider.aclose()

    assert (caught.value.status, caught.value.retryable) == (None, True)
    assert refused_url in str(caught.value)


async def test_the_request_body_is_json_the_real_api_accepts() -> None:
    """Tool results carry strings and assistant arguments are JSON text, as the API requires."""
    history = Message(role="assistant", tool_calls=[ToolCall(id="c1", name="filesystem.read_file", arguments={"p": 1})])
    async with scripted_llm([Turn(text="ok")]) as llm, provider_at(llm) as provider:
        await provider.complete([*ASK, history, Message(role="tool", tool_call_id="c1", content="x")], [READ])

    sent = llm.requests[0]["messages"]
    assert json.loads(sent[2]["tool_calls"][0]["function"]["arguments"]) == {"p": 1}
    assert all(isinstance(m["content"], str) for m in sent if m["role"] == "tool")


async def test_an_error_event_inside_the_stream_is_a_retryable_error() -> None:
    async with scripted_llm([Turn(text="It says hello.", fail_after=2)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=Deltas(streaming=True).callback)

    assert (caught.value.status, caught.value.retryable) == (None, True)


async def test_a_connection_cut_mid_stream_is_a_retryable_error() -> None:
    async with scripted_llm([Turn(text="It says hello.", drop_after=2)]) as llm, provider_at(llm) as provider:
        with pytest.raises(LLMError) as caught:
            await provider.complete(ASK, on_delta=Deltas(streaming=True).callback)

    assert (caught.value.status, caught.value.retryable) == (None, True)


async def test_an_exception_from_on_delta_reaches_the_caller_unchanged() -> None:
    class Stop(Exception):
        pass

    async def on_delta(text: str, kind: str) -> None:
        raise Stop

    async with scripted_llm([Turn(text="It says hello."), Turn(text="again")]) as llm, provider_at(llm) as provider:
        with pytest.raises(Stop):
            await provider.complete(ASK, on_delta=on_delta)
        again = await provider.complete(ASK)  # the client is still usable

    assert again.message.content == "again"
