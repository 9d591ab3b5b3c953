"""What execute_python and execute_shell return, in a fresh sandbox and in sessions, through the SDK client."""

from __future__ import annotations

import base64

import anyio
import pytest
from mcp.types import ImageContent

from tests.servers.codeexec.conftest import World, kind, need_sandbox, ok, sandbox_children, serve, text, until

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
# Sandboxed code that says it has started (the file `started` in its workspace), then waits until the test lets
# it go on (the test writes `go` into the workspace from the host side).
START_AND_WAIT_FOR_GO = """
import os, time
open('started', 'w').close()
while not os.path.exists('go'):
    time.sleep(0.01)
'done'
"""


def started_workspaces(world: World) -> list[str]:
    return sorted(p.parent.name for p in world.workspaces.glob("ws-*/started"))


def let_them_go(world: World) -> None:
    for ws in world.workspaces.glob("ws-*"):
        (ws / "go").touch()


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
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))
        let_them_go(world)  # the run ends only once a notification has arrived

    async with serve(world.settings(timeout_s=60, warm_pool=0)) as c:
        r = ok(
            await c.call_tool(
                "execute_python", {"code": START_AND_WAIT_FOR_GO, "timeout": 50}, progress_callback=on_progress
            )
        )
    assert r["value"] == "'done'" and not r["timed_out"]
    assert seen and all(total == 50 and message and message.startswith("running for") for _, total, message in seen)
    progress = [p for p, _, _ in seen]
    assert progress == sorted(progress) and progress[0] > 0


async def test_timeout_kills_the_run_and_reports_timed_out(world: World) -> None:
    need_sandbox()
    async with serve(world.settings(warm_pool=0)) as c:
        # a command that never ends by itself: only the kill at the time limit ends it
        r = ok(
            await c.call_tool("execute_shell", {"command": "touch started; sleep infinity; touch ended", "timeout": 1})
        )
        assert sandbox_children() == []  # answered once the whole sandbox was gone
    assert r["timed_out"] is True and r["exit_code"] == -9 and r["stdout"] == ""
    assert r["files"] == [{"path": "started", "change": "created", "size": 0}]  # it ran, and never went on


async def test_session_timeout_closes_the_session(world: World) -> None:
    need_sandbox()
    async with serve(world.settings()) as c:
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        r = ok(await c.call_tool("execute_python", {"code": "while True: pass", "session_id": sid, "timeout": 0.5}))
        assert r["timed_out"] and r["session_lost"]
        assert ok(await c.call_tool("list_sessions", {}))["sessions"] == []


async def test_client_cancellation_kills_the_process_tree(world: World) -> None:
    need_sandbox()
    finished: list[object] = []
    async with serve(world.settings(warm_pool=0, timeout_s=60)) as c:
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                finished.append(await c.call_tool("execute_shell", {"command": "touch started; sleep infinity"}))

            tg.start_soon(call)
            await until(lambda: len(started_workspaces(world)) == 1, c)  # the command is running
            assert sandbox_children()
            tg.cancel_scope.cancel()  # the client gives up on the call
        await until(lambda: not sandbox_children(), c)  # the tree dies
        r = ok(await c.call_tool("execute_python", {"code": "'still serving'"}))
    assert finished == [] and r["value"] == "'still serving'"


async def test_several_executions_run_at_once(world: World) -> None:
    need_sandbox()
    results: list[dict[str, object]] = []
    async with serve(world.settings(max_concurrent=4, warm_pool=0, timeout_s=60)) as c:

        async def one() -> None:
            results.append(ok(await c.call_tool("execute_python", {"code": START_AND_WAIT_FOR_GO})))

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(one)
            # all four have started while none can finish (each waits for `go`): they run at the same time
            await until(lambda: len(started_workspaces(world)) == 4, c)
            assert results == []
            let_them_go(world)
    assert [(r["value"], r["timed_out"]) for r in results] == [("'done'", False)] * 4


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
