"""Traces end to end: a request to `k2 serve` is one trace holding the host's GenAI spans and the MCP servers'
spans, with correct parent links (a real `k2 serve`, the real k2-filesystem over stdio, a scripted model on
127.0.0.1 and a loopback OTLP/HTTP receiver); and the spans' GenAI attributes."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from tests.host.otlp_support import OtlpReceiver, ReceivedSpan
from tests.host.scripted_llm import Turn, scripted_llm, tool_call
from tests.host.serve_support import model_env, served

pytestmark = pytest.mark.anyio

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def by_id(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {s.span_id: s for s in spans}


def complete(spans: list[ReceivedSpan]) -> bool:
    names = {(s.service, s.name) for s in spans}
    return ("k2", "POST /v1/chat/completions") in names and ("k2-filesystem", "tools/call read_file") in names


@pytest.mark.slow  # a real `k2 serve` with its servers
async def test_one_request_is_one_trace_from_the_caller_through_the_host_to_the_mcp_server(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "staging.yaml").write_text("port: 8443\n")
    script = [
        Turn(
            tool_calls=[tool_call("filesystem.read_file", {"path": "staging.yaml"})],
            usage={"prompt_tokens": 120, "completion_tokens": 9},
        ),
        Turn(
            text="The staging server uses port 8443.",
            usage={"prompt_tokens": 160, "completion_tokens": 8, "cached_tokens": 100},
        ),
    ]
    with OtlpReceiver() as otlp:
        async with scripted_llm(script) as llm:
            env = model_env(
                llm.base_url,
                K2_TELEMETRY_OTLP_ENDPOINT=otlp.url,
                OTEL_BSP_SCHEDULE_DELAY="50",  # the batch processors (host's and servers') send within 50 ms
            )
            state = tmp_path / "state"

            def run() -> httpx.Response:
                with served(state, global_args=("--root", str(root)), env=env) as (url, _):
                    body = {"model": "k2", "messages": [{"role": "user", "content": "Which port does staging use?"}]}
                    headers = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
                    answer = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=120)
                    otlp.wait_for(complete, timeout=60)
                    return answer

            answer = await anyio.to_thread.run_sync(run)
    assert answer.status_code == 200, answer.text
    assert "8443" in answer.json()["choices"][0]["message"]["content"]

    spans = [s for s in otlp.spans if s.trace_id == CALLER_TRACE]
    request_spans = ("POST ", "invoke_agent", "chat ", "execute_tool", "MCP send tools/call", "tools/call")
    # one request, one trace: everything it caused is in the caller's trace (start-up discovery has its own)
    assert {s.trace_id for s in otlp.spans if s.name.startswith(request_spans)} == {CALLER_TRACE}
    ids = by_id(spans)
    for s in spans:  # every span's parent is in the trace, except the root's: the caller's span
        assert s.parent_span_id in ids or (s.parent_span_id == CALLER_SPAN and s.name == "POST /v1/chat/completions"), s

    def one(service: str, name: str) -> ReceivedSpan:
        found = [s for s in spans if s.service == service and s.name == name]
        assert len(found) == 1, (service, name, [(s.service, s.name) for s in spans])
        return found[0]

    http = one("k2", "POST /v1/chat/completions")
    agent = one("k2", "invoke_agent k2")
    execute = one("k2", "execute_tool filesystem.read_file")
    send = one("k2", "MCP send tools/call read_file")
    server = one("k2-filesystem", "tools/call read_file")
    chats = [s for s in spans if s.name == "chat scripted-model"]
    assert (http.kind, agent.kind, execute.kind, send.kind, server.kind) == (
        "SERVER",
        "INTERNAL",
        "INTERNAL",
        "CLIENT",
        "SERVER",
    )
    assert agent.parent_span_id == http.span_id
    assert [c.parent_span_id for c in chats] == [agent.span_id, agent.span_id]
    assert execute.parent_span_id == agent.span_id
    assert send.parent_span_id == execute.span_id
    assert server.parent_span_id == send.span_id  # the server read `traceparent` from the request's _meta

    assert (
        http.attributes["http.route"] == "/v1/chat/completions" and http.attributes["http.response.status_code"] == 200
    )
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.usage.input_tokens"] == 280 and agent.attributes["gen_ai.usage.output_tokens"] == 17
    assert agent.attributes["gen_ai.usage.cache_read.input_tokens"] == 100
    assert agent.attributes["k2.request_id"]  # the trajectory's id: feedback and the trace meet there
    first, second = sorted(chats, key=lambda c: c.attributes["k2.step"])
    assert first.attributes["gen_ai.operation.name"] == "chat" and first.attributes["gen_ai.provider.name"] == "openai"
    assert first.attributes["gen_ai.request.model"] == "scripted-model"
    assert first.attributes["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert (first.attributes["gen_ai.usage.input_tokens"], second.attributes["gen_ai.usage.output_tokens"]) == (120, 8)
    assert execute.attributes["gen_ai.tool.name"] == "filesystem.read_file"
    assert execute.attributes["gen_ai.tool.call.id"] and execute.attributes["k2.mcp.server"] == "filesystem"
    assert server.attributes["gen_ai.tool.name"] == "read_file"
    # what was asked and answered stays out of the spans
    assert not any("8443" in str(v) or "staging" in str(v) for s in spans for v in s.attributes.values())
    assert not any(s.name in ("GET /readyz", "GET /healthz") for s in otlp.spans)
