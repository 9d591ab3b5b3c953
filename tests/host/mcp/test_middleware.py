"""The client manager's call pipeline: where outer and inner middleware run, and what they can do."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from k2_host.config import CacheConfig, HostConfig
from k2_host.mcp.middleware import CallContext, CallNext, compose
from k2_host.mcp.types import ToolResult

from tests.host.mcp.chaos import chaos, managed, ok

pytestmark = pytest.mark.anyio


class Log:
    def __init__(self, name: str, seen: list[str]) -> None:
        self.name, self.seen = name, seen

    async def __call__(self, ctx: CallContext, call_next: CallNext) -> ToolResult:
        self.seen.append(f"{self.name}>{ctx.name}:{'resolved' if ctx.info else 'unresolved'}")
        result = await call_next(ctx)
        self.seen.append(f"{self.name}<{result.error_code or ('cached' if result.cached else 'ok')}")
        return result


async def test_outer_middleware_sees_every_call_and_inner_only_those_that_reach_a_server(tmp_path: Path) -> None:
    seen: list[str] = []
    config = HostConfig(servers=[chaos()], cache=CacheConfig(disk=False), approval={"chaos.write_thing": "deny"})
    async with managed(config, tmp_path) as manager:
        manager.use(Log("outer", seen))
        manager.use(Log("inner", seen), where="inner")
        with anyio.fail_after(60):
            ok(await manager.call("chaos.echo", {"text": "a"}))
            ok(await manager.call("chaos.echo", {"text": "a"}))  # a cache hit
            denied = await manager.call("chaos.write_thing", {})
            unknown = await manager.call("chaos.nope", {})
    assert (denied.error_code, unknown.error_code) == ("denied", "unknown_tool")
    assert seen == [
        "outer>chaos.echo:unresolved",
        "inner>chaos.echo:resolved",
        "inner<ok",
        "outer<ok",
        "outer>chaos.echo:unresolved",
        "outer<cached",
        "outer>chaos.write_thing:unresolved",
        "outer<denied",
        "outer>chaos.nope:unresolved",
        "outer<unknown_tool",
    ]


async def test_inner_middleware_can_put_request_meta_on_the_wire(tmp_path: Path) -> None:
    async def trace(ctx: CallContext, call_next: CallNext) -> ToolResult:
        ctx.meta["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        return await call_next(ctx)

    config = HostConfig(servers=[chaos()], cache=CacheConfig(enabled=False))
    async with managed(config, tmp_path) as manager:
        manager.use(trace, where="inner")
        with anyio.fail_after(60):
            sent = ok(await manager.call("chaos.meta", {}))
            direct = ok(await manager.call("chaos.meta", {}, meta={"k2/request": "r1"}))
    assert sent["traceparent"].startswith("00-0af7651916cd43dd")
    assert direct["k2/request"] == "r1" and "traceparent" in direct


async def test_a_middleware_can_answer_without_calling_the_server_and_be_removed(tmp_path: Path) -> None:
    async def short_circuit(ctx: CallContext, call_next: CallNext) -> ToolResult:
        return ToolResult(name=ctx.name, text="from the middleware")

    config = HostConfig(servers=[chaos()], cache=CacheConfig(enabled=False))
    async with managed(config, tmp_path) as manager:
        manager.use(short_circuit, where="inner")
        with anyio.fail_after(60):
            result = await manager.call("chaos.echo", {"text": "x"})
            manager.pipeline.remove(short_circuit)
            real = ok(await manager.call("chaos.echo", {"text": "x"}))
    assert result.text == "from the middleware" and result.duration_ms > 0  # timed like any call
    assert real["text"] == "x"


async def test_compose_runs_steps_in_order_around_the_terminal() -> None:
    order: list[str] = []

    def step(name: str):
        async def run(ctx: CallContext, call_next: CallNext) -> ToolResult:
            order.append(name)
            return await call_next(ctx)

        return run

    async def terminal(ctx: CallContext) -> ToolResult:
        order.append("terminal")
        return ToolResult(name=ctx.name)

    await compose([step("a"), step("b")], terminal)(CallContext(name="x.y", arguments={}))
    assert order == ["a", "b", "terminal"]
