"""`k2` as a user runs it: a real subprocess, the built-in servers over stdio, no keys, no network."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.host.test_offline import make_project
from tests.support import script

pytestmark = pytest.mark.slow


def k2(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script("k2"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )


def test_k2_ask_answers_offline_in_a_folder_whose_files_say_so(tmp_path: Path) -> None:
    proj = make_project(tmp_path / "proj")
    done = k2("ask", "Which port does the staging server use?", cwd=proj)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[K2 offline engine")
    assert lines[1].startswith("8443 — from ") and "deploy/staging.yaml, line 4" in lines[1]
    assert "Traceback" not in done.stderr


def test_k2_ask_json_is_the_typed_result(tmp_path: Path) -> None:
    proj = make_project(tmp_path / "proj")
    done = k2("--json", "ask", "Which port does the production server use?", cwd=proj)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engine"] == "offline" and result["stopped"] == "done"
    assert "443" in result["answer"] and result["citations"][0]["source"].endswith("production.yaml")
    assert {"answer", "steps", "tool_calls", "usage", "timings"} <= set(result)


def test_k2_call_runs_one_tool_and_refuses_bad_arguments(tmp_path: Path) -> None:
    proj = make_project(tmp_path / "proj")
    done = k2("call", "filesystem.read_file", json.dumps({"path": str(proj / "README.md")}), cwd=proj)
    assert done.returncode == 0, done.stderr
    assert "make dev" in json.loads(done.stdout)["content"]
    bad = k2("call", "filesystem.read_file", "{not json", cwd=proj)
    assert bad.returncode == 2 and "not JSON" in bad.stderr
    unknown = k2("call", "filesystem.read_flie", "{}", cwd=proj)
    assert unknown.returncode == 1 and "filesystem.read_file" in unknown.stderr + unknown.stdout
    denied = k2("call", "filesystem.read_file", json.dumps({"path": str(proj / ".env")}), cwd=proj)
    assert denied.returncode == 1 and "do-not-leak-me" not in denied.stdout + denied.stderr


def test_a_bad_config_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    cfg = tmp_path / "mcp.json"
    cfg.write_text('{"mcpServers": {"x": {"command": "y", "args": ["${NOT_SET_ANYWHERE}"]}}}')
    done = k2("--config", str(cfg), "servers", cwd=tmp_path)
    assert done.returncode == 2
    assert "NOT_SET_ANYWHERE is not set" in done.stderr and "Traceback" not in done.stderr


def test_k2_servers_and_tools_list_the_four_servers(tmp_path: Path) -> None:
    done = k2("--json", "tools", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names = {t["name"] for t in json.loads(done.stdout)["tools"]}
    assert {"filesystem.read_file", "database.query_database", "websearch.search_web"} <= names
    assert "filesystem.write_file" not in names  # read-only unless --allow-write
