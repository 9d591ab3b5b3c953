"""The registry entry (manifests/registry/database.server.json) matches the installed package and its flags."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from k2_database.config import DatabaseSettings, parse_args

from tests.servers.database.conftest import World
from tests.support import BIN

ENTRY = Path(__file__).resolve().parents[3] / "manifests" / "registry" / "database.server.json"


def test_registry_entry_names_the_installed_package_and_console_script() -> None:
    entry = json.loads(ENTRY.read_text())
    package = entry["packages"][0]
    assert entry["name"].endswith("/database")
    assert (package["registryType"], package["identifier"], package["transport"]["type"]) == (
        "pypi",
        "k2-database",
        "stdio",
    )
    assert (BIN / package["identifier"]).exists()
    assert package["version"] == entry["version"] == version("k2-database")


def test_registry_arguments_and_variables_are_real_settings(world: World) -> None:
    package = json.loads(ENTRY.read_text())["packages"][0]
    values = {"--db": str(world.db), "--data-dir": str(world.data)}
    argv = [x for arg in package["packageArguments"] for x in (arg["name"], values[arg["name"]])]
    settings = parse_args(argv)
    assert settings.databases[0].name == "shop" and settings.data_dirs == [world.data.resolve()]
    fields = {DatabaseSettings.env_name(f) for f in DatabaseSettings.model_fields}
    assert {v["name"] for v in package["environmentVariables"]} <= fields
