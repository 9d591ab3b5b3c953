"""Settings: flags over environment, and a clear refusal of bad values at start."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from k2_filesystem.config import FilesystemSettings, parse_args
from k2_shared.logs import JsonFormatter


def test_environment_supplies_values_and_flags_override_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("K2_FS_ROOTS", str(tmp_path))
    monkeypatch.setenv("K2_FS_PORT", "9100")
    monkeypatch.setenv("K2_FS_READ_ONLY", "true")
    from_env = parse_args([])
    assert from_env.roots == [tmp_path]
    assert from_env.port == 9100
    assert from_env.read_only is True
    overridden = parse_args(["--root", str(other), "--port", "9200", "--transport", "sse"])
    assert overridden.roots == [other]
    assert overridden.port == 9200
    assert overridden.transport == "sse"


def test_positional_directories_are_roots_like_the_reference_server(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert parse_args([str(a), str(b)]).roots == [a, b]


def test_a_list_in_the_environment_is_split_on_the_path_separator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setenv("K2_FS_ROOTS", f"{a}:{b}")
    monkeypatch.setenv("K2_FS_DENY", ".env, .git")
    settings = parse_args([])
    assert settings.roots == [a, b]
    assert settings.deny == [".env", ".git"]


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["--port", "http"], {}, ["K2_FS_PORT", "--port", "'http'"]),
        (["--port", "70000"], {}, ["K2_FS_PORT", "'70000'"]),
        ([], {"K2_FS_LOG_LEVEL": "LOUD"}, ["K2_FS_LOG_LEVEL", "'LOUD'"]),
        (["--max-read-bytes", "-1"], {}, ["K2_FS_MAX_READ_BYTES", "'-1'"]),
        ([], {"K2_FS_READ_ONLY": "perhaps"}, ["K2_FS_READ_ONLY", "'perhaps'"]),
    ],
)
def test_a_bad_value_stops_the_start_with_the_key_and_the_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    env: dict[str, str],
    named: list[str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--root", str(tmp_path), *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for part in named:
        assert part in err


def test_a_missing_root_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--root", str(tmp_path / "nope")])
    assert "K2_FS_ROOTS" in capsys.readouterr().err


def test_no_root_at_all_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("K2_FS_ROOTS", raising=False)
    with pytest.raises(SystemExit):
        parse_args([])
    assert "K2_FS_ROOTS" in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra",
    [
        {"transport": "streamable-http", "host": "0.0.0.0"},  # exposed without auth
        {"transport": "sse", "host": "10.1.2.3", "auth_tokens": ["t" * 32]},  # exposed without allowed hosts
        {"jwt_secret": "s" * 32},  # JWT without an audience
    ],
)
def test_unsafe_exposure_is_refused_at_start(tmp_path: Path, extra: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        FilesystemSettings(roots=[tmp_path], **extra)


def test_exposure_with_auth_and_allowed_hosts_is_accepted(tmp_path: Path) -> None:
    settings = FilesystemSettings(
        roots=[tmp_path],
        transport="streamable-http",
        host="0.0.0.0",
        auth_tokens=["t" * 32],
        allowed_hosts=["fs.example:8000"],
    )
    assert settings.auth_enabled


def test_log_records_are_single_json_objects_with_extra_fields() -> None:
    record = logging.LogRecord("k2.test", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    record.tool = "read_file"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "hello world"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "k2.test"
    assert entry["tool"] == "read_file"
    assert entry["ts"].endswith("Z")
