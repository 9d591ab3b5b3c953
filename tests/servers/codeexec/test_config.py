"""Flags and environment of k2-codeexec, and what happens when the sandbox cannot start."""

from __future__ import annotations

from pathlib import Path

import pytest
from k2_codeexec.config import parse_args

from tests.servers.codeexec.conftest import World, kind, ok, serve, text

pytestmark = pytest.mark.anyio


def test_flags_of_the_issue_are_parsed(tmp_path: Path) -> None:
    s = parse_args(["--workspace", str(tmp_path), "--timeout", "5", "--memory", "256", "--allow-network"])
    assert (s.workspace, s.timeout_s, s.memory_mb, s.allow_network, s.unsafe_no_sandbox) == (
        tmp_path.resolve(),
        5.0,
        256,
        True,
        False,
    )
    assert parse_args(["--unsafe-no-sandbox"]).unsafe_no_sandbox is True


def test_environment_sets_defaults_and_flags_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2_CODEEXEC_TIMEOUT_S", "7")
    monkeypatch.setenv("K2_CODEEXEC_MAX_SESSIONS", "3")
    s = parse_args(["--timeout", "9"])
    assert (s.timeout_s, s.max_sessions, s.allow_network) == (9.0, 3, False)


def test_bad_values_exit_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--memory", "1"])
    assert exit_info.value.code == 2
    assert "K2_CODEEXEC_MEMORY_MB" in capsys.readouterr().err


def test_a_workspace_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(SystemExit):
        parse_args(["--workspace", str(f)])


async def test_without_bubblewrap_code_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("k2_codeexec.sandbox.shutil.which", lambda name: None)
    async with serve(world.settings()) as c:
        r = await c.call_tool("execute_python", {"code": "print(1)"})
        s = await c.call_tool("create_session", {})
    assert r.is_error and kind(r) == "sandbox_unavailable" and "--unsafe-no-sandbox" in text(r)
    assert kind(s) == "sandbox_unavailable"


async def test_unsafe_mode_runs_code_and_every_result_says_only_limits_apply(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("k2_codeexec.sandbox.shutil.which", lambda name: None)
    async with serve(world.settings(unsafe_no_sandbox=True)) as c:
        r = ok(
            await c.call_tool("execute_python", {"code": "import os\nprint('hi')\n'K2_TEST_HOST_SECRET' in os.environ"})
        )
        sid = ok(await c.call_tool("create_session", {}))["session_id"]
        ok(await c.call_tool("execute_python", {"code": "x = 2", "session_id": sid}))
        t = ok(await c.call_tool("execute_shell", {"command": "sleep 20", "session_id": sid, "timeout": 0.5}))
    assert r["stdout"] == "hi\n" and r["value"] == "False"  # the environment is still scrubbed
    assert r["isolation"] == "none" and "only resource limits apply" in r["warning"]
    assert t["timed_out"] and t["isolation"] == "none" and t["warning"]
