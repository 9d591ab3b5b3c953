"""`k2` as a user runs it: a real subprocess, the built-in servers over stdio, no keys, no network."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from tests.host.test_offline import make_project
from tests.support import script

pytestmark = pytest.mark.slow


def k2(
    *args: str, cwd: Path, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script("k2"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
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


def write_config(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_built_in_servers_start_in_a_folder_whose_files_shadow_standard_modules(tmp_path: Path) -> None:
    proj = make_project(tmp_path / "proj")
    for name in ("types.py", "json.py", "logging.py", "typing.py", "enum.py"):
        (proj / name).write_text("raise SystemExit('shadowed module imported: ' + __name__)\n")
    done = k2("--json", "servers", cwd=proj)
    rows = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr
    assert {r["server"] for r in rows if r["connected"] and r["tools"] > 0} == {
        "filesystem",
        "database",
        "websearch",
        "codeexec",
    }
    answer = k2("ask", "Which port does the staging server use?", cwd=proj)
    assert answer.returncode == 0 and "8443" in answer.stdout, answer.stderr


def test_a_server_that_fails_to_start_is_reported_with_what_it_printed_and_its_log(tmp_path: Path) -> None:
    code = "import sys; sys.stderr.write('fatal: the widget database is missing\\n'); sys.exit(3)"
    cfg = write_config(
        tmp_path / "mcp.json",
        {"mcpServers": {"broken": {"command": sys.executable, "args": ["-c", code], "connect_timeout_s": 20}}},
    )
    state = tmp_path / "state"
    done = k2("--config", str(cfg), "--state-dir", str(state), "--json", "servers", cwd=tmp_path)
    assert done.returncode == 1
    [row] = json.loads(done.stdout)
    assert not row["connected"] and "the server process did not start" in row["last_error"]
    assert "fatal: the widget database is missing" in row["last_error"]
    assert str(state / "logs" / "broken.log") in row["last_error"]
    called = k2("--config", str(cfg), "--state-dir", str(state), "call", "broken.anything", cwd=tmp_path)
    assert called.returncode == 1 and "widget database is missing" in called.stdout + called.stderr


def test_the_global_json_flag_holds_for_the_rag_commands(tmp_path: Path) -> None:
    done = k2("--json", "search", "anything at all", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"query": "anything at all", "mode": "hybrid", "hits": []}


def test_settings_come_in_one_order_and_a_bad_one_names_where_it_came_from(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path / "mcp.json",
        {
            "llm": {"provider": "openai", "model": "from-file", "api_key": "sk-file-secret-0123456789abcdef"},
            "agent": {"max_steps": 3},
            "mcpServers": {
                "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer tok-0123456789abc"}}
            },
        },
    )
    env = {"K2_LLM_MODEL": "from-env", "K2_AGENT_MAX_STEPS": "4"}
    shown = k2("--config", str(cfg), "--set", "agent.max_steps=5", "config", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    effective = json.loads(shown.stdout)
    assert effective["llm"]["model"] == "from-env" and effective["agent"]["max_steps"] == 5
    assert "sk-file-secret" not in shown.stdout and "tok-0123456789abc" not in shown.stdout
    assert effective["servers"][0]["headers"]["Authorization"] == "[REDACTED]"

    bad_env = k2("--config", str(cfg), "config", cwd=tmp_path, env={"K2_AGENT_MAX_STEPS": "many"})
    assert bad_env.returncode == 2 and "environment variable K2_AGENT_MAX_STEPS='many'" in bad_env.stderr
    bad_flag = k2("--set", "agent.max_steps=0", "config", cwd=tmp_path)
    assert bad_flag.returncode == 2 and "--set agent.max_steps=" in bad_flag.stderr
    unknown = k2("--set", "agent.max_stepz=3", "config", cwd=tmp_path)
    assert unknown.returncode == 2 and "agent has no key 'max_stepz'" in unknown.stderr
    assert "Traceback" not in bad_env.stderr + bad_flag.stderr + unknown.stderr


def test_a_config_with_only_an_llm_section_runs_the_built_in_servers(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "llm.json", {"llm": {"provider": "offline"}})
    done = k2("--config", str(cfg), "config", cwd=tmp_path)
    names = [s["name"] for s in json.loads(done.stdout)["servers"]]
    assert done.returncode == 0 and names == ["filesystem", "database", "websearch", "codeexec"]


def test_asks_are_recorded_as_trajectories_and_sessions_listed(tmp_path: Path) -> None:
    proj = make_project(tmp_path / "proj")
    done = k2("ask", "--session", "deploys", "Which port does the staging server use?", cwd=proj)
    assert done.returncode == 0, done.stderr
    listed = k2("--json", "trajectories", cwd=proj)
    [row] = json.loads(listed.stdout)
    assert row["engine"] == "offline" and row["session_id"] == "deploys" and row["tool_calls"] > 0
    shown = json.loads(k2("trajectories", row["id"], cwd=proj).stdout)
    assert shown["answer"].splitlines()[1].startswith("8443")
    listing = next(c for c in shown["tool_calls"] if c["name"] == "filesystem.directory_tree")
    assert listing["result"]["structured"]["tree"]  # the whole result, not a summary
    sessions = json.loads(k2("--json", "sessions", cwd=proj).stdout)
    assert [(s["id"], s["turns"]) for s in sessions] == [("deploys", 2)]
    missing = k2("trajectories", "no-such-id", cwd=proj)
    assert missing.returncode == 1 and "no trajectory" in missing.stderr


@pytest.mark.anyio
async def test_k2_chat_keeps_the_session_tool_turns_included_across_restarts(tmp_path: Path) -> None:
    from tests.host.scripted_llm import Turn, scripted_llm, tool_call

    proj = make_project(tmp_path / "proj")
    staging = str(proj / "deploy" / "staging.yaml")

    def model(body: dict) -> Turn:
        last = body["messages"][-1]
        if last["role"] == "user" and "staging" in last["content"]:
            return Turn(tool_calls=[tool_call("filesystem.read_file", {"path": staging})])
        if last["role"] == "tool":
            return Turn(text="Staging listens on 8443.")
        return Turn(text=f"I have {len(body['messages'])} messages of history.")

    fs = {"command": script("k2-filesystem"), "args": ["--root", str(proj), "--read-only"]}
    cfg = write_config(tmp_path / "mcp.json", {"mcpServers": {"filesystem": fs}})
    async with scripted_llm(model) as llm:
        env = {**os.environ, "K2_LLM_BASE_URL": llm.base_url, "K2_LLM_MODEL": "m", "K2_LLM_API_KEY": "k"}
        argv = [script("k2"), "--config", str(cfg), "chat", "--session", "ops"]
        with anyio.fail_after(120):
            first = await anyio.run_process(
                argv, input=b"Which port does staging use?\n", cwd=proj, env=env, check=False
            )
            second = await anyio.run_process(
                argv, input=b"What did I ask before?\n/context\n", cwd=proj, env=env, check=False
            )
    assert first.returncode == 0 and second.returncode == 0, second.stderr.decode()
    out = second.stdout.decode()
    assert "context window 8000 tokens (o200k_base (estimate), estimate)" in out  # /context: tokens per source
    assert "turns: 4 verbatim, 0 compacted" in out  # user, assistant with its call, the tool result, the answer
    assert re.search(r"tool_schemas +\d{3,}", out) and re.search(r"history +\d+", out)
    assert b"Staging listens on 8443." in first.stdout and b"(new)" in first.stderr
    assert b"resumed, 1 earlier question" in second.stderr
    resumed = llm.requests[-1]["messages"]
    assert [m["role"] for m in resumed] == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert "port: 8443" in resumed[3]["content"]  # the tool turn itself came back from the store
    assert resumed[-1]["content"] == "What did I ask before?"
