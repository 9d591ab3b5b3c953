"""Settings: flags over K2_DB_* environment variables, and bad values stopping the program at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from k2_database.config import DatabaseSpec, parse_args

from tests.servers.database.conftest import World


def test_without_flags_the_database_is_in_memory_and_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("K2_DB_PATH", "K2_DB_ALLOW_WRITE", "K2_DB_DATA_DIRS"):
        monkeypatch.delenv(name, raising=False)
    settings = parse_args([])
    assert settings.databases == [DatabaseSpec("memory", ":memory:")]
    assert (settings.read_only, settings.data_dirs, settings.max_rows, settings.timeout_s) == (True, [], 1000, 30.0)


def test_flags_name_every_database_and_limit(world: World, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    settings = parse_args(
        [
            "--db", str(world.db), "--db", f"archive={other}", "--data-dir", str(world.data), "--allow-write",
            "--max-rows", "50", "--timeout", "2.5", "--memory-limit", "512MB", "--threads", "1",
        ]
    )  # fmt: skip
    assert settings.databases == [DatabaseSpec("shop", str(world.db)), DatabaseSpec("archive", str(other))]
    assert settings.data_dirs == [world.data.resolve()]
    assert (settings.allow_write, settings.max_rows, settings.timeout_s) == (True, 50, 2.5)
    assert (settings.memory_limit, settings.threads) == ("512MB", 1)


def test_environment_is_read_and_flags_override_it(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K2_DB_PATH", str(world.db))
    monkeypatch.setenv("K2_DB_MAX_ROWS", "7")
    monkeypatch.setenv("K2_DB_DATA_DIRS", str(world.data))
    settings = parse_args(["--max-rows", "9"])
    assert settings.databases[0].path == str(world.db)
    assert (settings.max_rows, settings.data_dirs) == (9, [world.data.resolve()])


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--db", "{root}/missing.duckdb"], "K2_DB_PATH / --path"),
        (["--db", "{db}", "--db", "x={root}/nope/x.duckdb", "--allow-write"], "K2_DB_PATH / --path"),
        (["--db", "{db}", "--db", "shop={db}"], "K2_DB_PATH / --path"),
        (["--db", "other={db}"], "K2_DB_PATH / --path"),
        (["--db", "{db}", "--db", "files={db}"], "K2_DB_PATH / --path"),
        (["--db", "{db}", "--db", ":memory:"], "K2_DB_PATH / --path"),
        (["--data-dir", "{root}/absent"], "K2_DB_DATA_DIRS / --data-dirs"),
        (["--memory-limit", "lots"], "K2_DB_MEMORY_LIMIT / --memory-limit"),
        (["--max-rows", "0"], "K2_DB_MAX_ROWS / --max-rows"),
        (["--timeout", "-1"], "K2_DB_TIMEOUT_S / --timeout-s"),
    ],
    ids=[
        "missing-file-read-only",
        "missing-directory-write",
        "duplicate-name",
        "renamed-default",
        "reserved-name",
        "second-in-memory",
        "missing-data-dir",
        "bad-memory-limit",
        "zero-rows",
        "negative-timeout",
    ],
)
def test_a_bad_setting_stops_the_program_naming_it(
    args: list[str], named: str, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    filled = [a.format(root=world.root, db=world.db) for a in args]
    with pytest.raises(SystemExit) as info:
        parse_args(filled)
    assert info.value.code == 2
    assert named in capsys.readouterr().err


def test_create_makes_a_missing_database_file_that_read_only_mode_then_opens(tmp_path: Path) -> None:
    from k2_database.engine import open_engine

    target = tmp_path / "new" / "dir" / "k2.duckdb"
    with pytest.raises(SystemExit):
        parse_args(["--db", str(target)])  # read-only opens existing files only
    settings = parse_args(["--db", str(target), "--create"])
    engine = open_engine(settings)
    try:
        assert target.is_file() and settings.read_only
        assert sorted(p.name for p in target.parent.iterdir()) == ["k2.duckdb"]  # no leftovers
    finally:
        engine.close()
    before = target.read_bytes()
    again = open_engine(parse_args(["--db", str(target), "--create"]))  # an existing file is left as it is
    again.close()
    assert target.read_bytes() == before


def test_create_refuses_a_path_that_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir()
    with pytest.raises(SystemExit):
        parse_args(["--db", str(tmp_path / "adir"), "--create"])
