"""The scripted LLM server itself: what tests rely on when they drive a provider against it."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
from k2_host.llm.base import LLMError, Message
from k2_host.llm.openai_compat import OpenAICompatProvider

from tests.host.scripted_llm import Turn, forever, scripted_llm, tool_call

pytestmark = pytest.mark.anyio

ASK = [Message(role="user", content="hi")]


async def test_running_out_of_script_is_a_loud_500_that_the_sdk_does_not_retry() -> None:
    async with scripted_llm([Turn(text="only one")]) as llm:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url)  # default retries: 2
        try:
            await provider.complete(ASK)
            with pytest.raises(LLMError) as caught:
                await provider.complete(ASK)
        finally:
            await provider.aclose()

    assert caught.value.status == 500
    assert "script exhausted" in str(caught.value)
    assert len(llm.requests) == 2


async def test_a_callable_script_answers_every_request() -> None:
    def echo(body: dict[str, Any]) -> Turn:
        return Turn(text=f"you said {body['messages'][-1]['content']}")

    async with scripted_llm(echo) as llm:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url, max_retries=0)
        try:
            answers = [
                (await provider.complete([Message(role="user", content=str(i))])).message.content for i in range(5)
            ]
        finally:
            await provider.aclose()

    assert answers == [f"you said {i}" for i in range(5)]
    assert len(llm.requests) == 5


async def test_a_script_that_raises_is_reported_as_such() -> None:
    def broken(body: dict[str, Any]) -> Turn:
        raise KeyError("oops")

    async with scripted_llm(broken, flavor="anthropic") as llm, httpx2.AsyncClient() as client:
        reply = await client.post(f"{llm.base_url}/v1/messages", json={"model": "m"})

    assert reply.status_code == 500
    assert reply.headers["x-should-retry"] == "false"
    assert reply.json()["error"]["type"] == "api_error"
    assert "KeyError" in reply.json()["error"]["message"]


@pytest.mark.parametrize(("flavor", "suffix"), [("openai", "/v1"), ("anthropic", "")])
async def test_the_base_url_is_what_each_sdk_expects(flavor: Any, suffix: str) -> None:
    async with scripted_llm([], flavor=flavor) as llm:
        assert re.fullmatch(rf"http://127\.0\.0\.1:[1-9][0-9]*{suffix}", llm.base_url)


async def test_a_forever_script_repeats_its_turns() -> None:
    script = forever(Turn(tool_calls=[tool_call("filesystem.read_file", {"path": "a"})]), Turn(text="done"))
    async with scripted_llm(script) as llm:
        provider = OpenAICompatProvider(model="m", base_url=llm.base_url, max_retries=0)
        try:
            finishes = [(await provider.complete(ASK)).finish_reason for _ in range(4)]
        finally:
            await provider.aclose()

    assert finishes == ["tool_calls", "stop", "tool_calls", "stop"]
