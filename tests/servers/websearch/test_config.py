"""Settings: flags over K2_WEB_* variables, and bad settings stop the program with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from k2_websearch.config import default_index_dir, parse_args
from k2_websearch.server import build_server
from mcp import Client

from tests.servers.websearch.conftest import make_settings

pytestmark = pytest.mark.anyio


def test_defaults_search_the_local_index_in_the_user_cache_and_allow_no_private_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = parse_args([])
    assert settings.backends == ["local"] and settings.index == tmp_path / "k2-websearch" / "index"
    assert settings.index == default_index_dir()
    assert not settings.allow_private_networks and settings.allow_hosts == [] and not settings.ignore_robots_txt


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("K2_WEB_BACKENDS", "local")
    monkeypatch.setenv("K2_WEB_SEARXNG_URL", "http://127.0.0.1:8888")
    settings = parse_args(["--backend", "searxng", "--backend", "local", "--allow-host", "127.0.0.1:9", "--index", "x"])
    assert settings.backends == ["searxng", "local"] and settings.allow_hosts == ["127.0.0.1:9"]
    assert settings.index == Path("x")


@pytest.mark.parametrize(
    "argv",
    [["--backend", "google"], ["--backend", "searxng"], ["--backend", "brave"], ["--max-bytes", "1"]],
    ids=["unknown-backend", "searxng-without-url", "brave-without-key", "tiny-byte-cap"],
)
def test_bad_settings_stop_the_program_with_status_2(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("K2_WEB_SEARXNG_URL", "K2_WEB_BRAVE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2 and "K2_WEB_" in capsys.readouterr().err


async def test_every_tool_has_a_description_annotations_and_an_output_schema(tmp_path: Path) -> None:
    async with Client(build_server(make_settings(tmp_path))) as client:
        tools = (await client.list_tools()).tools
    assert {t.name for t in tools} == {"search_web", "fetch_webpage", "extract_links", "fetch_many"}
    for t in tools:
        assert t.description and not t.description.startswith(" ")
        assert t.annotations is not None and t.annotations.read_only_hint is True
        assert t.output_schema is not None
