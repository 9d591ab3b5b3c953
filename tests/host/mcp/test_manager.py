"""ClientManager against the chaos server as a real stdio subprocess: naming, policy, pins, cache, client side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from k2_host.config import HostConfig
from k2_host.mcp.types import ToolInfo

from tests.host.mcp.chaos import MODES, chaos, managed, ok

pytestmark = pytest.mark.anyio

NO_CACHE = {"enabled": False}


async def test_tools_are_namespaced_and_filtered_by_allow_and_deny_globs(tmp_path: Path) -> None:
    config = HostConfig(servers=[chaos(allow_tools=["echo", "sl*", "write_*"], deny_tools=["write_*"])])
    async with managed(config, tmp_path) as manager:
        assert [t.name for t in manager.tools()] == ["chaos.echo", "chaos.slow"]
        echo = manager.find("chaos.echo")
        assert echo is not None and echo.server == "chaos" and echo.tool == "echo" and echo.read_only
        assert ok(await manager.call("chaos.echo", {"text": "hi"}))["text"] == "hi"
        hidden = await manager.call("chaos.write_thing")
        assert (hidden.is_error, hidden.error_code) == (True, "unknown_tool")


async def test_an_unknown_tool_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    async with managed(HostConfig(servers=[chaos()]), tmp_path) as manager:
        typo = await manager.call("chaos.ecoh", {"text": "x"})
        assert (typo.is_error, typo.error_code) == (True, "unknown_tool")
        assert "chaos.echo" in typo.text
        bare = await manager.call("echo", {"text": "x"})
        assert (bare.is_error, bare.error_code) == (True, "unknown_tool")
        assert "server.tool" in bare.text
        nowhere = await manager.call("nosuch.echo")
        assert nowhere.error_code == "unknown_tool"


async def test_a_tool_whose_pinned_definition_changed_is_blocked_until_accepted(tmp_path: Path) -> None:
    pins = tmp_path / "pins.json"
    pins.write_text(json.dumps({"chaos": {"echo": "0" * 64}}))
    async with managed(HostConfig(servers=[chaos()], cache=NO_CACHE), tmp_path) as manager:
        assert "chaos.echo" not in [t.name for t in manager.tools()]
        assert "chaos.slow" in [t.name for t in manager.tools()]
        blocked = await manager.call("chaos.echo", {"text": "x"})
        assert (blocked.is_error, blocked.error_code) == (True, "pin_changed")
        assert manager.status()[0]["blocked_tools"] == ["echo"]

        manager.accept_pin("chaos.echo")
        await manager.refresh("chaos")
        assert ok(await manager.call("chaos.echo", {"text": "x"}))["text"] == "x"
        assert manager.status()[0]["blocked_tools"] == []
    stored = json.loads(pins.read_text())["chaos"]["echo"]
    assert stored != "0" * 64 and len(stored) == 64


async def test_a_destructive_tool_is_denied_when_the_host_cannot_ask(tmp_path: Path) -> None:
    async with managed(HostConfig(servers=[chaos()]), tmp_path) as manager:
        info = manager.find("chaos.write_thing")
        assert info is not None and info.destructive and not info.read_only
        result = await manager.call("chaos.write_thing")
        assert (result.is_error, result.error_code) == (True, "denied")


async def test_an_approval_rule_allows_a_destructive_tool(tmp_path: Path) -> None:
    config = HostConfig(servers=[chaos()], approval={"chaos.write_thing": "allow"})
    async with managed(config, tmp_path) as manager:
        result = await manager.call("chaos.write_thing")
        assert (result.is_error, result.text) == (False, "written")


async def test_an_interactive_host_asks_before_a_destructive_call_and_not_before_a_read(tmp_path: Path) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []
    answers = [True, False]

    async def ask(info: ToolInfo, arguments: dict[str, Any]) -> bool:
        asked.append((info.name, arguments))
        return answers.pop(0)

    async with managed(HostConfig(servers=[chaos()]), tmp_path, interactive=True, ask_approval=ask) as manager:
        assert (await manager.call("chaos.write_thing")).text == "written"
        refused = await manager.call("chaos.write_thing")
        assert (refused.is_error, refused.error_code) == (True, "denied")
        ok(await manager.call("chaos.echo", {"text": "no question"}))
    assert asked == [("chaos.write_thing", {}), ("chaos.write_thing", {})]


async def test_read_only_results_are_cached_but_errors_and_writes_are_not(tmp_path: Path) -> None:
    config = HostConfig(servers=[chaos()], approval={"chaos.write_thing": "allow"})
    async with managed(config, tmp_path / "state") as manager:
        first = await manager.call("chaos.echo", {"text": "c"})
        second = await manager.call("chaos.echo", {"text": "c"})
        assert (first.cached, second.cached) == (False, True)
        assert second.structured == first.structured and second.text == first.text
        assert not (await manager.call("chaos.echo", {"text": "other"})).cached

        marker = tmp_path / "flaky"
        marker.mkdir()
        failed = await manager.call("chaos.flaky", {"marker_dir": str(marker)})
        assert failed.is_error and not failed.cached
        fresh = await manager.call("chaos.flaky", {"marker_dir": str(marker)})
        assert not fresh.is_error and not fresh.cached  # the error was not cached
        assert (await manager.call("chaos.flaky", {"marker_dir": str(marker)})).cached

        writes = [await manager.call("chaos.write_thing") for _ in range(2)]
        assert [(w.text, w.cached) for w in writes] == [("written", False), ("written", False)]


@pytest.mark.parametrize("mode", MODES)
async def test_the_server_gets_the_configured_roots(tmp_path: Path, mode: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    config = HostConfig(servers=[chaos(mode=mode)], roots=[str(work)], cache=NO_CACHE)
    async with managed(config, tmp_path / "state") as manager:
        assert ok(await manager.call("chaos.roots")) == {"result": [work.resolve().as_uri()]}


@pytest.mark.parametrize("mode", MODES)
async def test_elicitation_is_declined_when_the_host_is_not_interactive(tmp_path: Path, mode: str) -> None:
    called: list[str] = []

    async def elicit(server: str, message: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        called.append(server)
        return {"name": "never"}

    config = HostConfig(servers=[chaos(mode=mode)], cache=NO_CACHE)
    async with managed(config, tmp_path, elicit=elicit) as manager:
        assert ok(await manager.call("chaos.ask_user")) == {"result": "user decline"}
    assert called == []


@pytest.mark.parametrize("mode", MODES)
async def test_elicitation_is_answered_by_the_handler_when_interactive(tmp_path: Path, mode: str) -> None:
    questions: list[tuple[str, str, dict[str, Any]]] = []

    async def elicit(server: str, message: str, schema: dict[str, Any]) -> dict[str, Any] | None:
        questions.append((server, message, schema))
        return {"name": "Ann"}

    config = HostConfig(servers=[chaos(mode=mode)], cache=NO_CACHE)
    async with managed(config, tmp_path, interactive=True, elicit=elicit) as manager:
        assert ok(await manager.call("chaos.ask_user")) == {"result": "hello Ann"}
    [(server, message, schema)] = questions
    assert (server, message) == ("chaos", "What is your name?")
    assert "name" in schema["properties"]


def _sampler(seen: list[types.CreateMessageRequestParams]) -> Any:
    async def sample(server: str, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        seen.append(params)
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=f"hello from {server}"), model="scripted"
        )

    return sample


@pytest.mark.parametrize("mode", MODES)
async def test_sampling_is_declined_under_the_default_policy(tmp_path: Path, mode: str) -> None:
    seen: list[types.CreateMessageRequestParams] = []
    config = HostConfig(servers=[chaos(mode=mode)], cache=NO_CACHE)
    async with managed(config, tmp_path, sampling=_sampler(seen)) as manager:
        result = await manager.call("chaos.ask_llm")
        assert result.is_error
        assert "sampling declined" in result.text
    assert seen == []


@pytest.mark.parametrize("mode", MODES)
async def test_sampling_is_answered_by_the_handler_when_the_server_is_allowed(tmp_path: Path, mode: str) -> None:
    seen: list[types.CreateMessageRequestParams] = []
    config = HostConfig(servers=[chaos(mode=mode, sampling="allow", sampling_max_tokens=100)], cache=NO_CACHE)
    async with managed(config, tmp_path, sampling=_sampler(seen)) as manager:
        assert ok(await manager.call("chaos.ask_llm")) == {"result": "hello from chaos"}
    assert [p.max_tokens for p in seen] == [100]  # the server asked for 2048: capped by the config


@pytest.mark.parametrize("mode", MODES)
async def test_a_list_changed_notification_refreshes_the_tools(tmp_path: Path, mode: str) -> None:
    config = HostConfig(servers=[chaos(mode=mode)], cache=NO_CACHE)
    async with managed(config, tmp_path) as manager:
        assert manager.find("chaos.added") is None
        changed = anyio.Event()
        manager.on_tools_changed = changed.set
        assert (await manager.call("chaos.change_tools")).text == "changed"
        with anyio.fail_after(30):
            await changed.wait()
        assert manager.find("chaos.added") is not None
        assert (await manager.call("chaos.added")).text == "added"


async def test_concurrent_calls_go_to_the_least_busy_replica(tmp_path: Path) -> None:
    config = HostConfig(servers=[chaos(replicas=2)], cache=NO_CACHE)
    async with managed(config, tmp_path) as manager:
        assert [row["instance"] for row in manager.status()] == ["chaos#0", "chaos#1"]
        results: dict[float, Any] = {}

        async def slow(seconds: float) -> None:
            results[seconds] = await manager.call("chaos.slow", {"seconds": seconds})

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(slow, 2.0)
                tg.start_soon(slow, 2.1)
        assert {r.instance for r in results.values()} == {"chaos#0", "chaos#1"}
        assert len({ok(r)["pid"] for r in results.values()}) == 2


async def test_every_tool_is_pinned_on_first_sight(tmp_path: Path) -> None:
    async with managed(HostConfig(servers=[chaos()], cache=NO_CACHE), tmp_path) as manager:
        assert len(manager.tools()) == 12  # the chaos server's tools
    pinned = json.loads((tmp_path / "pins.json").read_text())["chaos"]
    assert sorted(pinned) == sorted(t.name.removeprefix("chaos.") for t in manager.tools())
    assert all(len(fp) == 64 for fp in pinned.values())
