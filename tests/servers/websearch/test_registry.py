"""The registry entry (manifests/registry/websearch.server.json) matches the installed package and its flags."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from k2_websearch.config import WebsearchSettings, parse_args

from tests.support import BIN

ENTRY = Path(__file__).resolve().parents[3] / "manifests" / "registry" / "websearch.server.json"


def test_registry_entry_names_the_installed_package_and_console_script() -> None:
    entry = json.loads(ENTRY.read_text())
    package = entry["packages"][0]
    assert entry["name"].endswith("/websearch")
    assert (package["registryType"], package["identifier"], package["transport"]["type"]) == (
        "pypi",
        "k2-websearch",
        "stdio",
    )
    assert (BIN / package["identifier"]).exists()
    assert package["version"] == entry["version"] == version("k2-websearch")


def test_registry_arguments_and_variables_are_real_settings(tmp_path: Path) -> None:
    package = json.loads(ENTRY.read_text())["packages"][0]
    values = {"--backend": "local", "--index": str(tmp_path)}
    argv = [x for arg in package["packageArguments"] for x in (arg["name"], values[arg["name"]])]
    settings = parse_args(argv)
    assert settings.backends == ["local"] and settings.index == tmp_path
    fields = {WebsearchSettings.env_name(f) for f in WebsearchSettings.model_fields}
    assert {v["name"] for v in package["environmentVariables"]} <= fields
