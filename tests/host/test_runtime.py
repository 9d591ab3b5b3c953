"""The host's object graph: one runtime, the engine interface, transcripts, loop middleware, trajectories.

The model is the in-process `ScriptedProvider`; the servers are real (k2-filesystem over stdio).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from k2_host.agent import Agent
from k2_host.agent.engine import Engine
from k2_host.agent.local_tools import LocalTool, LocalToolset
from k2_host.agent.loop import ModelEngine
from k2_host.agent.middleware import Middleware, ModelNext, ModelStepContext, RequestContext, ToolNext, ToolStepContext
from k2_host.config import HostConfig, ServerConfig
from k2_host.context.transcript import AssistantTurn, SessionStore, ToolTurn, UserTurn
from k2_host.errors import ConfigError
from k2_host.learning.store import MemoryTrajectoryStore, SQLiteTrajectoryStore
from k2_host.learning.trajectory import Trajectory
from k2_host.llm.base import LLMResponse, ToolCall, ToolSpec
from k2_host.llm.testing import Reply, ScriptedProvider
from k2_host.mcp.types import ToolResult
from k2_host.results import AgentResult
from k2_host.runtime import Runtime, build_runtime

from tests.support import script

pytestmark = pytest.mark.anyio


def fs_config(root: Path, state: Path | None = None, **sections: Any) -> HostConfig:
    server = ServerConfig(name="filesystem", command=script("k2-filesystem"), args=["--root", str(root)])
    cfg = HostConfig(servers=[server], roots=[str(root)], state_dir=state)
    return cfg.model_copy(update={k: type(getattr(cfg, k)).model_validate(v) for k, v in sections.items()})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.txt").write_text("alpha says the port is 8443\n")
    (root / "big.txt").write_text("".join(f"line {i} of a long file, padding padding padding\n" for i in range(2000)))
    return root


def read(path: Path, call_id: str = "c1") -> ToolCall:
    return ToolCall(id=call_id, name="filesystem.read_file", arguments={"path": str(path)})


async def test_one_runtime_builds_every_part_once_and_picks_the_engine_by_provider(project: Path) -> None:
    provider = ScriptedProvider([Reply(text="hi"), Reply(text="again")])
    rt = build_runtime(fs_config(project), provider=provider)
    assert isinstance(rt, Runtime) and rt.manager.config is rt.config
    async with rt:
        assert isinstance(rt.engine, Engine) and isinstance(rt.engine, ModelEngine)
        assert rt.engine.name == "scripted" and rt.engine.model == "scripted-model"
        result = await rt.ask("hello")
    assert result.answer == "hi" and result.engine == "scripted"
    assert not provider.closed  # what the caller handed in stays the caller's: reusable by the next runtime
    async with build_runtime(fs_config(project), provider=provider) as again:
        assert (await again.ask("hello")).answer == "again"

    offline = build_runtime(fs_config(project), use_llm_config=True)
    async with offline:
        assert offline.engine.name == "offline" and offline.provider is None
        assert offline.manager.lazy  # the offline engine starts only the servers its plan calls
    with pytest.raises(RuntimeError, match="enter the runtime"):
        _ = build_runtime(fs_config(project)).engine


async def test_two_runtimes_in_one_process_share_nothing_but_the_model(project: Path) -> None:
    a, b = build_runtime(fs_config(project)), build_runtime(fs_config(project))
    assert a.manager is not b.manager and a.sessions is not b.sessions and a.local_tools is not b.local_tools
    assert a._load_embedder() is b._load_embedder()  # one embedding model per process


async def test_the_model_engine_runs_tools_and_keeps_full_results_in_the_transcript(project: Path) -> None:
    provider = ScriptedProvider([Reply(tool_calls=[read(project / "big.txt")]), Reply(text="it is long")])
    config = fs_config(project, agent={"max_tool_result_chars": 500}, context={"policy": "full"})
    async with Agent(config, provider=provider) as agent:
        transcript = await agent.runtime.open_session(None)
        with anyio.fail_after(60):
            result = await agent.ask("How long is big.txt?", session=transcript)
    assert result.answer == "it is long" and result.stopped == "done"
    sent = provider.requests[1].messages
    assert [m.role for m in sent] == ["system", "user", "assistant", "tool"]
    assert "[truncated: " in sent[3].content and len(sent[3].content) < 700  # the policy cuts what it sends
    kinds = [t.kind for t in transcript.turns]
    assert kinds == ["user", "assistant", "tool", "assistant"]
    tool_turn = transcript.turns[2]
    assert isinstance(tool_turn, ToolTurn) and "line 1999 of a long file" in json.dumps(tool_turn.result.structured)
    assert tool_turn.chars > 50_000  # the whole result, with its size


async def test_a_session_keeps_tool_turns_across_runtimes(project: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = ScriptedProvider([Reply(tool_calls=[read(project / "a.txt")]), Reply(text="8443")])
    async with Agent(fs_config(project, state), provider=first) as agent:
        with anyio.fail_after(60):
            await agent.ask("Which port?", session="work")
    second = ScriptedProvider([Reply(text="you asked about the port")])
    async with Agent(fs_config(project, state), provider=second) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("What did I ask?", session="work")
        sessions = await agent.runtime.sessions.list()
    assert result.answer == "you asked about the port"
    roles = [m.role for m in second.requests[0].messages]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert "alpha says the port is 8443" in second.requests[0].messages[3].content
    assert [(s.id, s.turns) for s in sessions] == [("work", 6)] and sessions[0].title == "Which port?"


async def test_a_request_that_stops_early_still_ends_its_turns_with_an_answer(project: Path) -> None:
    looping = ScriptedProvider(lambda messages, tools: Reply(text="checking", tool_calls=[read(project / "a.txt")]))
    async with Agent(fs_config(project, agent={"max_steps": 2}), provider=looping) as agent:
        transcript = await agent.runtime.open_session(None)
        with anyio.fail_after(60):
            result = await agent.ask("Loop", session=transcript)
    assert result.stopped == "max_steps"
    last = transcript.turns[-1]
    assert isinstance(last, AssistantTurn) and last.synthetic and last.text == result.answer and not last.tool_calls


class Recorder(Middleware):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def request(self, ctx: RequestContext, call_next: Any) -> AgentResult:
        self.log.append(f"{self.name}:request>")
        result = await call_next(ctx)
        self.log.append(f"{self.name}:request<")
        return result

    async def model_step(self, ctx: ModelStepContext, call_next: ModelNext) -> LLMResponse:
        self.log.append(f"{self.name}:model{ctx.index}")
        return await call_next(ctx)

    async def tool_call(self, ctx: ToolStepContext, call_next: ToolNext) -> ToolResult:
        self.log.append(f"{self.name}:tool:{ctx.call.name}:{ctx.source}")
        return await call_next(ctx)


class ToolsOnly(Middleware):
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def tool_call(self, ctx: ToolStepContext, call_next: ToolNext) -> ToolResult:
        self.log.append("tools-only")
        result = await call_next(ctx)
        return result.model_copy(update={"text": result.text + " [seen]"})


async def test_loop_middleware_runs_in_order_around_requests_steps_and_tool_calls(project: Path) -> None:
    log: list[str] = []
    provider = ScriptedProvider([Reply(tool_calls=[read(project / "a.txt")]), Reply(text="done")])
    async with Agent(
        fs_config(project), provider=provider, middleware=[Recorder("outer", log), Recorder("inner", log)]
    ) as agent:
        agent.runtime.use(ToolsOnly(log))
        with anyio.fail_after(60):
            await agent.ask("go")
    assert log == [
        "outer:request>",
        "inner:request>",
        "outer:model0",
        "inner:model0",
        "outer:tool:filesystem.read_file:mcp",
        "inner:tool:filesystem.read_file:mcp",
        "tools-only",
        "outer:model1",
        "inner:model1",
        "inner:request<",
        "outer:request<",
    ]
    assert "[seen]" in provider.requests[1].messages[-1].content  # a middleware may replace what it passes on


async def test_local_tools_are_offered_after_the_mcp_tools_in_the_order_registered_and_run_in_the_host(
    project: Path,
) -> None:
    calls: list[dict[str, Any]] = []

    async def clock(arguments: dict[str, Any], run: Any) -> ToolResult:
        calls.append(arguments)
        return ToolResult(name="host.clock", text=f"depth {run.depth}")

    spec = ToolSpec(name="host.clock", description="the time", input_schema={"type": "object"})
    provider = ScriptedProvider(
        [Reply(tool_calls=[ToolCall(id="t", name="host.clock", arguments={"tz": "UTC"})]), Reply(text="noon")]
    )
    log: list[str] = []
    async with Agent(fs_config(project), provider=provider, middleware=[Recorder("m", log)]) as agent:
        agent.runtime.local_tools.add(LocalTool(spec, clock))
        with anyio.fail_after(60):
            result = await agent.ask("time?")
        offered = [t.name for t in provider.requests[0].tools]
    assert offered[0].startswith("filesystem.")
    assert offered[-3:] == ["agent.delegate", "context.read_result", "host.clock"]  # (no skills in an 8K window)
    assert calls == [{"tz": "UTC"}] and result.tool_calls[0].summary == "depth 0"
    assert "m:tool:host.clock:local" in log


def test_a_local_tool_needs_a_namespaced_unique_name() -> None:
    tools = LocalToolset()

    async def nothing(arguments: dict[str, Any], run: Any) -> ToolResult:
        return ToolResult(name="x.y")

    tools.add(LocalTool(ToolSpec(name="x.y"), nothing, top_level_only=True))
    with pytest.raises(ValueError, match="registered already"):
        tools.add(LocalTool(ToolSpec(name="x.y"), nothing))
    with pytest.raises(ValueError, match=r"area\.name"):
        tools.add(LocalTool(ToolSpec(name="plain"), nothing))
    assert tools.get("x.y", depth=1) is None and tools.get("x.y") is not None
    assert tools.specs(depth=1) == []


async def test_trajectories_hold_full_tool_results_and_no_secrets(project: Path) -> None:
    secret = "sk-live-" + "a1B2c3D4e5F6g7H8i9J0"
    (project / "creds.txt").write_text(f"token for the API: {secret}\n")
    calls = [
        read(project / "big.txt", "c1"),
        ToolCall(id="c2", name="filesystem.read_file", arguments={"path": str(project / "creds.txt")}),
        ToolCall(id="c3", name="filesystem.read_file", arguments={"path": "nope.txt", "api_key": "hunter22hunter"}),
    ]
    provider = ScriptedProvider([Reply(tool_calls=calls), Reply(text=f"found {secret}")])
    store = MemoryTrajectoryStore()
    config = fs_config(project, agent={"max_tool_result_chars": 300})
    async with Agent(config, provider=provider, trajectories=store) as agent:
        with anyio.fail_after(60):
            result = await agent.ask("Read them")
    [summary] = await store.list()
    t = await store.get(summary.id)
    assert isinstance(t, Trajectory) and t.query == "Read them" and t.engine == "scripted"
    assert t.stopped == "done" and t.usage == result.usage and len(t.model_steps) == 2
    big = json.dumps(t.tool_calls[0].result)
    assert "line 1999 of a long file" in big  # whole, though the model saw 300 characters
    assert t.tool_calls[0].source == "mcp" and t.tool_calls[2].is_error
    dumped = t.model_dump_json()
    assert secret not in dumped and "hunter22hunter" not in dumped and "[REDACTED]" in dumped
    assert t.tool_calls[2].arguments["api_key"] == "[REDACTED]"
    step2 = t.model_steps[1]
    assert [t.messages[i].role for i in step2.input] == ["system", "user", "assistant", "tool", "tool", "tool"]
    assert t.messages[step2.input[0]] is t.messages[t.model_steps[0].input[0]]  # stored once, referenced twice
    assert t.answer == "found [REDACTED]"


async def test_sub_agents_are_trajectories_of_their_own_with_their_parent(project: Path) -> None:
    def model(messages: list[Any], tools: list[ToolSpec]) -> Reply:
        question = next(m.content for m in messages if m.role == "user")
        last = messages[-1]
        if question == "both" and last.role == "user":
            return Reply(tool_calls=[ToolCall(id="d", name="agent.delegate", arguments={"tasks": ["one", "two"]})])
        return Reply(text=f"answer to {question}")

    store = MemoryTrajectoryStore()
    async with Agent(fs_config(project), provider=ScriptedProvider(model), trajectories=store) as agent:
        with anyio.fail_after(60):
            await agent.ask("both")
    rows = await store.list()
    parent = next(r for r in rows if r.query == "both")
    children = await store.list(parent_id=parent.id)
    assert sorted(c.query for c in children) == ["one", "two"] and len(rows) == 3
    traced = await store.get(parent.id)
    assert traced is not None and traced.tool_calls[0].source == "local"
    assert traced.tool_calls[0].result["structured"] == {"answers": ["answer to one", "answer to two"]}


async def test_the_sqlite_store_keeps_the_newest_and_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "k2.sqlite"
    store = SQLiteTrajectoryStore(path, capacity=3)
    for i in range(5):
        await store.add(Trajectory(id=f"t{i}", query=f"q{i}", engine="offline", started_at=1000.0 + i))
    store.close()
    reopened = SQLiteTrajectoryStore(path, capacity=3)
    try:
        assert [r.id for r in await reopened.list()] == ["t4", "t3", "t2"] and await reopened.count() == 3
        got = await reopened.get("t3")
        assert got is not None and got.query == "q3" and await reopened.get("t0") is None
    finally:
        reopened.close()
    assert oct(path.stat().st_mode & 0o777) == "0o600"


async def test_a_store_that_is_not_sqlite_is_a_clear_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "k2.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="not a usable SQLite file"):
        SQLiteTrajectoryStore(bad)


async def test_session_ids_are_checked_and_sessions_can_be_deleted(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.sqlite")
    try:
        for bad in ("../x", "a b", "", "x" * 129):
            with pytest.raises(ConfigError, match="session id"):
                await store.open(bad or "/")
        t = await store.open("ok-1")
        t.add(UserTurn(text="hi"))
        assert await store.save(t) == 1 and await store.save(t) == 0
        assert (await store.open("ok-1")).turns[0] == t.turns[0]
        assert await store.delete("ok-1") and not await store.delete("ok-1")
        assert (await store.open("ok-1")).turns == []
    finally:
        store.close()


async def test_a_failing_store_never_fails_the_request(project: Path) -> None:
    class Broken(MemoryTrajectoryStore):
        async def add(self, trajectory: Trajectory) -> None:
            raise OSError("disk full")

    provider = ScriptedProvider([Reply(text="fine")])
    async with Agent(fs_config(project), provider=provider, trajectories=Broken()) as agent:
        result = await agent.ask("hello")
    assert result.answer == "fine"


async def test_recording_can_be_switched_off(project: Path) -> None:
    provider = ScriptedProvider([Reply(text="fine")])
    async with Agent(fs_config(project, learning={"record": False}), provider=provider) as agent:
        await agent.ask("hello")
        assert agent.trajectories is None and list(agent.runtime.middleware) == []


@pytest.mark.parametrize("settle", [True, False])
def test_a_runtime_asked_to_settles_the_process_heap_once_and_others_leave_it(tmp_path: Path, settle: bool) -> None:
    """In a fresh interpreter: the first runtime entered with `settle_heap=True` (as `k2 serve` builds it)
    freezes what start-up built and raises the young generation's threshold (as the servers do); a second one
    changes nothing; without it (the default, for an application embedding the host) the collector is left
    alone."""
    import subprocess
    import sys

    code = f"""
import gc, json, anyio
from k2_host.config import HostConfig
from k2_host.llm.testing import ScriptedProvider
from k2_host.runtime import build_runtime

async def main():
    before = (gc.get_freeze_count(), gc.get_threshold()[0])
    async with build_runtime(HostConfig(servers=[]), provider=ScriptedProvider([]), settle_heap={settle}):
        first = (gc.get_freeze_count(), gc.get_threshold()[0])
    gc.unfreeze()
    async with build_runtime(HostConfig(servers=[]), provider=ScriptedProvider([]), settle_heap={settle}):
        second = (gc.get_freeze_count(), gc.get_threshold()[0])
    print(json.dumps([before, first, second]))

anyio.run(main)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    before, first, second = json.loads(out.stdout.strip().splitlines()[-1])
    assert before[0] == 0 and before[1] == 700
    if settle:
        assert first[0] > 50_000 and first[1] == 10_000
        assert second[0] == 0  # once per process: the unfrozen heap stays unfrozen
    else:
        assert first == before and second == before
