"""What execute_python and execute_shell return, in a fresh sandbox and in sessions, through the SDK client."""

from __future__ import annotations

import base64

import anyio
import pytest
from mcp.types import ImageContent

from tests.servers.codeexec.conftest import World, kind, need_sandbox, ok, sandbox_children, serve, text

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
FAKE_PYPLOT = f"""
import sys, types
fake = types.ModuleType("matplotlib.pyplot")
class Fig:
    def savefig(self, buf, format):
        buf.write({PNG!r})
fake.get_fignums = lambda: [1, 2]
fake.figure = lambda n: Fig()
fake.close = lambda which: None
sys.modules["matplotlib.pyplot"] = fake
"""


async def test_python_returns_output_exit_code_and_the_final_expression(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = ok(
            await c.call_tool(
                "execute_python", {"code": "import sys\nprint('out')\nprint('err', file=sys.stderr)\n6*7"}
            )
        )
    assert (r["stdout"], r["stderr"], r["exit_code"], r["value"]) == ("out\n", "err\n", 0, "42")
    assert r["isolation"] == "bubblewrap" and r["warning"] is None and not r["timed_out"]


async def test_python_exception_gives_traceback_and_exit_code_one(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = ok(await c.call_tool("execute_python", {"code": "1/0"}))
    assert r["exit_code"] == 1 and "ZeroDivisionError" in r["stderr"]


async def test_python_sys_exit_code_is_reported(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = ok(await c.call_tool("execute_python", {"code": "import sys\nsys.exit(3)"}))
    assert r["exit_code"] == 3


async def test_shell_runs_in_the_workspace_and_reports_files_created(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = ok(await c.call_tool("execute_shell", {"command": "pwd; echo hi > made.txt; exit 4"}))
    assert r["stdout"] == "/workspace\n" and r["exit_code"] == 4
    assert r["files"] == [{"path": "made.txt", "change": "created", "size": 3}]


async def test_files_argument_is_written_before_the_code_runs(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = ok(
            await c.call_tool(
                "execute_python", {"code": "open('data/in.txt').read().upper()", "files": {"data/in.txt": "abc"}}
            )
        )
    assert r["value"] == "'ABC'"


async def test_calls_without_a_session_do_not_share_state(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        ok(await c.call_tool("execute_python", {"code": "x = 1\nopen('keep.txt', 'w').write('x')"}))
        r = ok(await c.call_tool("execute_python", {"code": "import os\n('x' in globals(), os.listdir('.'))"}))
    assert r["value"] == "(False, [])"


async def test_session_keeps_variables_and_files_between_calls(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        ok(await c.call_tool("execute_python", {"code": "import math\nx = 41", "session_id": sid}))
        ok(await c.call_tool("execute_shell", {"command": "echo shell > s.txt", "session_id": sid}))
        r = ok(await c.call_tool("execute_python", {"code": "x + 1, open('s.txt').read()", "session_id": sid}))
        assert r["value"] == "(42, 'shell\\n')" and r["session_id"] == sid
        listed = ok(await c.call_tool("list_sessions", {}))
        assert [s["session_id"] for s in listed["sessions"]] == [sid]
        assert listed["sessions"][0]["executions"] == 3
        assert ok(await c.call_tool("close_session", {"session_id": sid}))["closed"] is True
        gone = await c.call_tool("execute_python", {"code": "x", "session_id": sid})
        assert gone.is_error and kind(gone) == "session_not_found"
        assert ok(await c.call_tool("close_session", {"session_id": sid}))["closed"] is False


async def test_live_sessions_are_capped(world: World) -> None:
    need_sandbox()
    async with serve(world.settings(max_sessions=2, warm_pool=0)) as c:
        for _ in range(2):
            ok(await c.call_tool("create_session", {}))
        third = await c.call_tool("create_session", {})
    assert third.is_error and kind(third) == "too_many_sessions"


async def test_idle_sessions_expire(world: World) -> None:
    need_sandbox()
    async with serve(world.settings(session_idle_s=1, warm_pool=0)) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        with anyio.fail_after(10):
            while ok(await c.call_tool("list_sessions", {}))["sessions"]:
                await c.call_tool("execute_shell", {"command": "true"})  # other work while the clock runs
        r = await c.call_tool("execute_python", {"code": "1", "session_id": sid})
    assert kind(r) == "session_not_found"


async def test_workspace_file_tools_write_read_and_list(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        w = ok(await c.call_tool("write_workspace_file", {"session_id": sid, "path": "d/a.txt", "content": "héllo"}))
        assert w["size"] == len("héllo".encode())
        blob = base64.b64encode(b"\x00\xff").decode()
        args = {"session_id": sid, "path": "b.bin", "content": blob, "encoding": "base64"}
        ok(await c.call_tool("write_workspace_file", args))
        r = ok(await c.call_tool("execute_python", {"code": "open('d/a.txt').read()", "session_id": sid}))
        assert r["value"] == "'héllo'"
        back = ok(await c.call_tool("read_workspace_file", {"session_id": sid, "path": "b.bin"}))
        assert (back["encoding"], back["content"]) == ("base64", blob)
        listing = ok(await c.call_tool("list_workspace", {"session_id": sid}))
    assert [(e["path"], e["type"]) for e in listing["entries"]] == [
        ("d", "directory"),
        ("b.bin", "file"),
        ("d/a.txt", "file"),
    ]


async def test_figures_come_back_as_image_content(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        result = await c.call_tool("execute_python", {"code": FAKE_PYPLOT})
    r = ok(result)
    images = [b for b in result.content if isinstance(b, ImageContent)]
    assert r["images"] == 2 and len(images) == 2
    assert base64.b64decode(images[0].data) == PNG and images[0].mime_type == "image/png"


async def test_long_runs_send_progress_notifications(world: World) -> None:
    need_sandbox()
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with serve(world.settings()) as c:
        code = "import time\ntime.sleep(1.6)\n'done'"
        r = ok(await c.call_tool("execute_python", {"code": code}, progress_callback=on_progress))
    assert r["value"] == "'done'" and seen and seen[0] >= 0.9


async def test_timeout_kills_the_run_and_reports_timed_out(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = ok(await c.call_tool("execute_shell", {"command": "sleep 30", "timeout": 0.5}))
    assert r["timed_out"] is True and r["exit_code"] == -9 and r["duration_s"] < 5


async def test_session_timeout_closes_the_session(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        r = ok(await c.call_tool("execute_python", {"code": "while True: pass", "session_id": sid, "timeout": 0.5}))
        assert r["timed_out"] and r["session_lost"]
        assert ok(await c.call_tool("list_sessions", {}))["sessions"] == []


async def test_client_cancellation_kills_the_process_tree(world: World) -> None:
    need_sandbox()
    async with serve(world.settings(warm_pool=0)) as c:
        with anyio.move_on_after(1.0):
            await c.call_tool("execute_shell", {"command": "sleep 60"})
        with anyio.fail_after(10):
            while sandbox_children():
                await c.list_tools()  # a round trip while the tree dies
        r = ok(await c.call_tool("execute_python", {"code": "'still serving'"}))
    assert r["value"] == "'still serving'"


async def test_several_executions_run_at_once(world: World) -> None:
    need_sandbox()
    results: list[float] = []
    async with serve(world.settings(max_concurrent=4, warm_pool=0)) as c:

        async def one() -> None:
            results.append(ok(await c.call_tool("execute_shell", {"command": "sleep 1"}))["duration_s"])

        started = anyio.current_time()
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(one)
        elapsed = anyio.current_time() - started
    assert len(results) == 4 and elapsed < 3.5


async def test_paths_leaving_the_workspace_are_refused(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        for path in ("../x", "/etc/passwd", "a/../../x"):
            r = await c.call_tool("read_workspace_file", {"session_id": sid, "path": path})
            assert kind(r) == "invalid_path", path
        bad = await c.call_tool("execute_python", {"code": "1", "files": {"../evil": "x"}})
    assert kind(bad) == "invalid_path"
    assert text(bad)


async def test_bad_arguments_are_refused_with_their_kind(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        r = await c.call_tool("execute_python", {"code": "1", "timeout": -1})
    assert r.is_error and kind(r) == "invalid_arguments"
