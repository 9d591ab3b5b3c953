"""The host reads the MCP config formats users already have."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from k2_host.config import (
    ConfigError,
    data_dir,
    default_servers,
    load_config,
    load_host_config,
    overrides_from_assignments,
    parse_config,
    state_dir,
)
from k2_host.config.builtin import builtin_document


def test_claude_desktop_format_with_env_expansion_and_defaults() -> None:
    data = {
        "mcpServers": {
            "fs": {"command": "npx", "args": ["-y", "server-fs", "${HOME_DIR}"], "env": {"TOKEN": "${TOK:-none}"}},
            "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${KEY}"}},
            "legacy": {"url": "http://127.0.0.1:9000/sse"},
        }
    }
    cfg = parse_config(data, env={"HOME_DIR": "/home/ann", "KEY": "s3cret"})
    fs, remote, legacy = cfg.servers
    assert (fs.transport, fs.args, fs.env) == ("stdio", ["-y", "server-fs", "/home/ann"], {"TOKEN": "none"})
    assert (remote.transport, remote.headers) == ("http", {"Authorization": "Bearer s3cret"})
    assert legacy.transport == "sse"


def test_vscode_format_with_type_and_inputs_from_the_environment() -> None:
    data = {
        "inputs": [{"type": "promptString", "id": "api-key", "description": "API key", "password": True}],
        "servers": {
            "gh": {"type": "http", "url": "http://127.0.0.1:8080/api", "headers": {"X-Key": "${input:api-key}"}},
            "events": {"type": "sse", "url": "http://127.0.0.1:8081/events"},
            "local": {"type": "stdio", "command": "k2-filesystem", "args": ["--root", "${workspaceFolder}"]},
        },
    }
    cfg = parse_config(data, env={"K2_INPUT_API_KEY": "abc"})
    gh, events, local = cfg.servers
    assert (gh.transport, gh.headers["X-Key"]) == ("http", "abc")
    assert events.transport == "sse"
    assert local.args[1] == str(Path.cwd())


def test_an_input_asked_interactively_is_asked_once() -> None:
    asked: list[str] = []

    def ask(spec: dict) -> str:
        asked.append(spec["id"])
        return "typed"

    data = {
        "inputs": [{"id": "tok"}],
        "servers": {
            "a": {"command": "x", "env": {"T": "${input:tok}"}},
            "b": {"command": "y", "args": ["${input:tok}"]},
        },
    }
    cfg = parse_config(data, env={}, ask=ask)
    assert asked == ["tok"]
    assert cfg.servers[1].args == ["typed"]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"mcpServers": {"a": {"command": "x", "args": ["${MISSING}"]}}}, "MISSING is not set"),
        ({"mcpServers": {"a": {"args": ["x"]}}}, "needs `command`"),
        ({"mcpServers": {"a": {"url": "ftp://host/x"}}}, "not an http(s) URL"),
        ({"mcpServers": {"a.b": {"command": "x"}}}, "no dots"),
        ({"mcpServers": {}, "servers": {}}, "both `mcpServers` and `servers`"),
        ({"mcpServer": {}}, "unknown top-level key"),
        ({"servers": {"a": {"command": "x", "env": {"K": "${input:nope}"}}}}, "K2_INPUT_NOPE"),
        ({"mcpServers": {"a": {"command": "x", "timeout_s": -1}}}, "timeout_s"),
        ({"mcpServers": {"a": {"command": "x", "args": ["${bad name}"]}}}, "cannot expand"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_configs_name_the_problem(data: object, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, env={})
    assert fragment in str(err.value)


def test_a_file_that_is_not_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {\n  "a": {"command": "x",}\n}}')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "line 2" in str(err.value)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.json")


def test_host_sections_and_instances(tmp_path: Path) -> None:
    path = tmp_path / "k2.json"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "fs": {
                        "command": "k2-filesystem",
                        "replicas": 2,
                        "instances": [{"url": "http://127.0.0.1:9001/mcp"}],
                        "allow_tools": ["read_*"],
                    }
                },
                "llm": {"provider": "openai", "base_url": "http://127.0.0.1:11434/v1"},
                "approval": {"fs.*": "deny"},
                "agent": {"max_steps": 3},
            }
        )
    )
    cfg = load_config(path)
    instances = cfg.servers[0].expanded_instances()
    assert [i.transport for i in instances] == ["stdio", "stdio", "http"]
    assert all(i.allow_tools == ["read_*"] for i in instances)
    assert cfg.approval == {"fs.*": "deny"} and cfg.agent.max_steps == 3 and cfg.llm.provider == "openai"


def test_built_in_defaults_are_safe(tmp_path: Path) -> None:
    cfg = default_servers(root=tmp_path)
    by_name = {s.name: s for s in cfg.servers}
    assert set(by_name) == {"filesystem", "database", "websearch", "codeexec"}
    assert "--read-only" in by_name["filesystem"].args and ".env" in by_name["filesystem"].args
    assert "--allow-write" not in by_name["database"].args
    assert by_name["websearch"].args[by_name["websearch"].args.index("--backend") + 1] == "local"
    assert all(s.transport == "stdio" for s in cfg.servers) and cfg.roots == [str(tmp_path.resolve())]
    writable = default_servers(root=tmp_path, allow_write=True)
    assert "--read-only" not in writable.servers[0].args


MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"


@pytest.mark.parametrize(
    "relpath",
    [
        "claude-desktop/claude_desktop_config.json",
        "claude-code/.mcp.json",
        "cursor/.cursor/mcp.json",
        "vscode/.vscode/mcp.json",
        "host/kimi.json",
        "host/ollama.json",
        "host/vllm.json",
        "host/anthropic.json",
    ],
)
def test_the_host_reads_every_shipped_client_config(relpath: str) -> None:
    env = {"PWD": "/work", "K2_FS_TOKEN": "t" * 20, "MOONSHOT_API_KEY": "k", "ANTHROPIC_API_KEY": "k", "HOME": "/h"}
    env |= {f"K2_INPUT_{n}": "x" * 20 for n in ("FS_TOKEN", "K2_FS_TOKEN", "TOKEN", "ROOT", "PROJECT_ROOT")}
    cfg = load_config(MANIFESTS / relpath, env=env)
    assert cfg.servers and all(s.transport in ("stdio", "http", "sse") for s in cfg.servers)
    if relpath.startswith("host/"):
        settings = cfg.llm
        assert settings.provider in ("kimi", "openai", "anthropic") and settings.model


def test_the_built_in_servers_are_packaged_data_run_with_a_safe_path(tmp_path: Path) -> None:
    document = builtin_document()
    assert sorted(document["mcpServers"]) == ["codeexec", "database", "filesystem", "websearch"]
    cfg = default_servers(root=tmp_path, extra_roots=[tmp_path / "more"])
    for server in cfg.servers:
        assert server.command == sys.executable and server.args[:3] == ["-P", "-m", f"k2_{server.name}"]
        assert not any("${" in a for a in server.args), server.args
    fs = cfg.servers[0]
    assert fs.args[-5:] == [
        "--root",
        str(tmp_path.resolve()),
        "--root",
        str((tmp_path / "more").resolve()),
        "--read-only",
    ]
    db = cfg.servers[1]
    assert "--create" in db.args and db.args[db.args.index("--db") + 1] == str(data_dir() / "k2.duckdb")


def test_k2_variables_expand_in_any_config_and_an_unknown_one_is_named() -> None:
    cfg = parse_config({"mcpServers": {"x": {"command": "${k2:python}", "args": ["${k2:state_dir}/x"]}}}, env={})
    assert cfg.servers[0].command == sys.executable and cfg.servers[0].args == [str(state_dir() / "x")]
    with pytest.raises(ConfigError) as err:
        parse_config({"mcpServers": {"x": {"command": "${k2:pythn}"}}}, env={})
    assert "${k2:pythn}" in str(err.value) and "${k2:python}" in str(err.value)


def test_settings_are_laid_in_one_order_defaults_file_environment_command_line(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"agent": {"max_steps": 3, "fan_out_workers": 2}, "rag": {"store": "memory"}}))
    env = {"K2_AGENT_MAX_STEPS": "4", "K2_RAG_COLLECTION": "notes", "K2_STATE_DIR": str(tmp_path / "st")}
    cfg = load_host_config(path, root=tmp_path, env=env, overrides={"agent": {"max_steps": 5}})
    assert (cfg.agent.max_steps, cfg.agent.fan_out_workers, cfg.agent.parallel_tool_calls) == (5, 2, 8)
    assert (cfg.rag.store, cfg.rag.collection) == ("memory", "notes")
    assert cfg.state_dir == tmp_path / "st" and cfg.defaults and len(cfg.servers) == 4  # no servers: built-in
    only_env = load_host_config(path, root=tmp_path, env=env)
    assert only_env.agent.max_steps == 4
    from_file = load_host_config(path, root=tmp_path, env={}, state=tmp_path / "flag")
    assert from_file.agent.max_steps == 3 and from_file.state_dir == tmp_path / "flag"


def test_list_settings_from_the_environment_and_the_command_line(tmp_path: Path) -> None:
    env = {"K2_SKILLS_PATHS": '["/a", "/b"]', "K2_LEARNING_REDACT_PATTERNS": r"acct-\d+,pin-\d{4}"}
    cfg = load_host_config(None, root=tmp_path, env=env, overrides=overrides_from_assignments(["api.port=9000"]))
    assert [str(p) for p in cfg.skills.paths] == ["/a", "/b"]
    assert cfg.learning.redact_patterns == [r"acct-\d+", r"pin-\d{4}"] and cfg.api.port == 9000
    with pytest.raises(ConfigError, match="K2_LEARNING_REDACT_PATTERNS"):
        load_host_config(None, root=tmp_path, env={"K2_LEARNING_REDACT_PATTERNS": "(unclosed"})
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_host_config(None, root=tmp_path, env={"K2_SKILLS_PATHS": "[oops"})
    for bad in ("nodot=1", "agent.max_steps", "nosuch.key=1"):
        with pytest.raises(ConfigError, match="--set"):
            overrides_from_assignments([bad])


def test_the_hosts_own_settings_never_reach_a_stdio_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from k2_host.mcp.connection import server_environment

    for var in ("K2_RAG_QDRANT_API_KEY", "K2_AGENT_SYSTEM_PROMPT", "K2_CONFIG", "K2_STATE_DIR", "K2_API_PORT"):
        monkeypatch.setenv(var, "host-only")
    monkeypatch.setenv("K2_DB_MAX_ROWS", "5")
    env = server_environment({})
    assert not [k for k, v in env.items() if v == "host-only"] and env["K2_DB_MAX_ROWS"] == "5"


def test_telemetry_settings_are_checked_and_tracing_is_off_without_an_endpoint(tmp_path: Path) -> None:
    env = {"K2_TELEMETRY_OTLP_ENDPOINT": "http://127.0.0.1:4318", "K2_TELEMETRY_SAMPLE_RATIO": "0.25"}
    cfg = load_host_config(None, root=tmp_path, env=env)
    assert (cfg.telemetry.otlp_endpoint, cfg.telemetry.sample_ratio) == ("http://127.0.0.1:4318", 0.25)
    for var, bad in (
        ("K2_TELEMETRY_OTLP_ENDPOINT", "collector:4318"),
        ("K2_TELEMETRY_OTLP_ENDPOINT", "file:///etc/passwd"),
        ("K2_TELEMETRY_SAMPLE_RATIO", "2"),
        ("K2_TELEMETRY_SERVICE_NAME", "k" * 201),
    ):
        with pytest.raises(ConfigError, match=var):
            load_host_config(None, root=tmp_path, env={var: bad})
    assert load_host_config(None, root=tmp_path, env={}).telemetry.otlp_endpoint is None


def test_fan_out_runs_eight_sub_agents_at_once_and_return_directly_is_set_from_the_environment(tmp_path: Path) -> None:
    cfg = load_host_config(None, root=tmp_path, env={"K2_AGENT_DELEGATE_RETURN_DIRECTLY": "always"})
    assert (cfg.agent.fan_out_workers, cfg.agent.delegate_return_directly) == (8, "always")
    with pytest.raises(ConfigError, match="K2_AGENT_DELEGATE_RETURN_DIRECTLY"):
        load_host_config(None, root=tmp_path, env={"K2_AGENT_DELEGATE_RETURN_DIRECTLY": "sometimes"})
