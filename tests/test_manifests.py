"""The client configs in manifests/ parse, name commands that exist, and start a working server."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from k2_codeexec.config import parse_args as codeexec_args
from k2_database.config import parse_args as database_args
from k2_filesystem.config import parse_args
from k2_websearch.config import parse_args as websearch_args
from mcp import Client, StdioServerParameters

from tests.support import BIN

pytestmark = pytest.mark.anyio

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests"
CLIENT_CONFIGS = {
    "claude-desktop/claude_desktop_config.json": "mcpServers",
    "claude-code/.mcp.json": "mcpServers",
    "cursor/.cursor/mcp.json": "mcpServers",
    "vscode/.vscode/mcp.json": "servers",
}
PARSERS = {
    "k2-filesystem": parse_args,
    "k2-database": database_args,
    "k2-websearch": websearch_args,
    "k2-codeexec": codeexec_args,
}
PLACEHOLDER = re.compile(r"\$\{[^}]+\}|/path/to/your/\w+")


def _servers(relpath: str) -> dict[str, dict]:
    data = json.loads((MANIFESTS / relpath).read_text())
    return data[CLIENT_CONFIGS[relpath]]


def _concrete(args: list[str], root: Path) -> list[str]:
    return [PLACEHOLDER.sub(str(root), a) for a in args]


@pytest.mark.parametrize("relpath", sorted(CLIENT_CONFIGS))
def test_client_config_entries_are_well_formed_and_their_commands_exist(relpath: str, tmp_path: Path) -> None:
    servers = _servers(relpath)
    assert servers
    for name, entry in servers.items():
        if "command" in entry:
            command = entry["command"]
            assert shutil.which(command, path=str(BIN)) is not None, f"{name}: {command} is not installed"
            settings = PARSERS[command](_concrete(entry.get("args", []), tmp_path))
            what_it_serves = {
                "k2-filesystem": "roots",
                "k2-database": "data_dirs",
                "k2-websearch": "backends",
                "k2-codeexec": "workspace",
            }
            assert getattr(settings, what_it_serves[command])
        else:
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/(mcp|sse)", entry["url"]), name


def test_vscode_inputs_cover_every_input_reference() -> None:
    data = json.loads((MANIFESTS / "vscode/.vscode/mcp.json").read_text())
    declared = {i["id"] for i in data["inputs"]}
    used = set(re.findall(r"\$\{input:([^}]+)\}", json.dumps(data["servers"])))
    assert used <= declared


@pytest.mark.parametrize("registry_file", sorted((MANIFESTS / "registry").glob("*.server.json")), ids=lambda p: p.name)
def test_registry_entry_names_a_real_package_and_console_script(registry_file: Path) -> None:
    entry = json.loads(registry_file.read_text())
    assert re.fullmatch(r"[\w.-]+/[\w.-]+", entry["name"])
    package = entry["packages"][0]
    assert package["registryType"] == "pypi"
    assert package["transport"]["type"] == "stdio"
    assert (BIN / package["identifier"]).exists()
    from importlib.metadata import version

    assert package["version"] == entry["version"] == version(package["identifier"])


async def test_the_claude_desktop_entry_starts_a_working_server(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("# hi\n")
    entry = _servers("claude-desktop/claude_desktop_config.json")["filesystem"]
    params = StdioServerParameters(
        command=str(BIN / entry["command"]),
        args=_concrete(entry["args"], tmp_path),
        env={"PATH": os.environ.get("PATH", "")},
    )
    async with Client(params) as client:
        result = await client.call_tool("read_file", {"path": "readme.md"})
        assert result.structured_content is not None
        assert result.structured_content["content"] == "# hi\n"
