"""The host reads the MCP config formats users already have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from k2_host.config import ConfigError, default_servers, load_config, parse_config


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
    assert cfg.approval == {"fs.*": "deny"} and cfg.agent.max_steps == 3 and cfg.llm["provider"] == "openai"


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
        from k2_host.llm.factory import LLMSettings

        settings = LLMSettings.from_mapping(cfg.llm)
        assert settings.provider in ("kimi", "openai", "anthropic") and settings.model
